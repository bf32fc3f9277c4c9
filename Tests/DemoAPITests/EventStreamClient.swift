import Foundation
import Glibc
import JSONCoding
@testable import DemoAPI

/// One server-sent event's data, with its arrival time in milliseconds after the request was sent.
struct ReceivedEvent {
    var data: String
    var arrivalMilliseconds: Double

    func json() throws -> JSONValue {
        try JSONValue.parse(data)
    }
}

/// A streamed response read by `sendStreamingRequest`.
struct EventStreamResponse {
    var status: Int
    var headers: [(name: String, value: String)]
    var events: [ReceivedEvent]
    /// Whether the chunked body ended with its zero-size last chunk, which a cut stream never sends.
    var hasLastChunk: Bool

    func header(_ name: String) -> String? {
        headers.first(where: { $0.name.lowercased() == name.lowercased() })?.value
    }
}

/// Sends a POST with a JSON body to 127.0.0.1:`port` and reads a chunked `text/event-stream` response until the
/// server closes the connection, timing each event as its last byte arrives. Each read waits at most 5 s, and
/// the whole response at most 20 s.
func sendStreamingRequest(
    port: Int,
    path: String = "/v1/chat/completions",
    headers: [(String, String)] = [],
    body: String
) throws -> EventStreamResponse {
    let descriptor = try connectToLoopback(port: port)
    defer { close(descriptor) }
    let sentAt = MonotonicClock.now()
    let giveUpAt = MonotonicClock.instant(sentAt, plusMilliseconds: 20_000)
    try sendRequestHead(descriptor, method: "POST", path: path, headers: headers, body: body)

    var decoder = ChunkedEventDecoder()
    var head: (status: Int, headers: [(name: String, value: String)])?
    var pending: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)

    while MonotonicClock.now() < giveUpAt {
        let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
        if count == 0 {
            break
        }
        guard count > 0 else {
            throw DemoClientError(description: "recv failed or timed out after \(decoder.events.count) events: errno \(errno)")
        }
        let arrival = Double(MonotonicClock.now() - sentAt) / 1_000_000
        pending.append(contentsOf: buffer[0..<count])

        if head == nil {
            guard let headEnd = indexOf(Array("\r\n\r\n".utf8), in: pending) else {
                continue
            }
            head = try parseHead(pending[0..<headEnd])
            pending.removeFirst(headEnd + 4)
        }
        decoder.append(pending, arrivalMilliseconds: arrival)
        pending.removeAll()
    }

    guard let head else {
        throw DemoClientError(description: "no complete response head")
    }
    return EventStreamResponse(status: head.status, headers: head.headers, events: decoder.events, hasLastChunk: decoder.hasLastChunk)
}

/// Decodes a chunked body (RFC 9112 section 7.1) as it arrives and splits it into `data:` events.
private struct ChunkedEventDecoder {
    private(set) var events: [ReceivedEvent] = []
    private(set) var hasLastChunk = false
    private var framed: [UInt8] = []
    private var eventText: [UInt8] = []

    mutating func append(_ bytes: [UInt8], arrivalMilliseconds: Double) {
        framed.append(contentsOf: bytes)
        while !hasLastChunk, let sizeLineEnd = indexOf([13, 10], in: framed) {
            let sizeText = String(decoding: framed[0..<sizeLineEnd], as: UTF8.self)
            guard let size = Int(sizeText, radix: 16) else {
                break
            }
            if size == 0 {
                hasLastChunk = true
                break
            }
            let dataStart = sizeLineEnd + 2
            guard framed.count >= dataStart + size + 2 else {
                break
            }
            eventText.append(contentsOf: framed[dataStart..<(dataStart + size)])
            framed.removeFirst(dataStart + size + 2)
        }
        splitEvents(arrivalMilliseconds: arrivalMilliseconds)
    }

    private mutating func splitEvents(arrivalMilliseconds: Double) {
        while let end = indexOf([10, 10], in: eventText) {
            let text = String(decoding: eventText[0..<end], as: UTF8.self)
            eventText.removeFirst(end + 2)
            for line in text.split(separator: "\n") where line.hasPrefix("data: ") {
                events.append(ReceivedEvent(data: String(line.dropFirst(6)), arrivalMilliseconds: arrivalMilliseconds))
            }
        }
    }
}

private func parseHead(_ bytes: ArraySlice<UInt8>) throws -> (status: Int, headers: [(name: String, value: String)]) {
    var lines = String(decoding: bytes, as: UTF8.self).components(separatedBy: "\r\n")
    let statusParts = lines.removeFirst().split(separator: " ")
    guard statusParts.count >= 2, let status = Int(statusParts[1]) else {
        throw DemoClientError(description: "malformed status line")
    }
    let headers = lines.map { line -> (name: String, value: String) in
        let parts = line.split(separator: ":", maxSplits: 1)
        return (String(parts[0]), parts.count > 1 ? parts[1].trimmingCharacters(in: .whitespaces) : "")
    }
    return (status, headers)
}

private func indexOf(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
    guard haystack.count >= needle.count else {
        return nil
    }
    return (0...(haystack.count - needle.count)).first { haystack[$0..<($0 + needle.count)].elementsEqual(needle) }
}
