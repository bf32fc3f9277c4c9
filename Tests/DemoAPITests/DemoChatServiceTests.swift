import Foundation
import Glibc
import HTTPServer
import JSONCoding
import XCTest
@testable import DemoAPI

final class DemoChatServiceTests: XCTestCase {
    private func startService(
        fallbackRate: Double = 0.1,
        errorRate: Double = 0,
        seed: UInt64? = 7
    ) throws -> DemoChatService {
        let options = DemoOptions(port: 0, latencyMilliseconds: 1, fallbackRate: fallbackRate, errorRate: errorRate, seed: seed)
        let service = try DemoChatService(options: options)
        try service.start()
        addTeardownBlock { service.stop() }
        return service
    }

    private func chat(_ service: DemoChatService, message: String = "How long does shipping take?",
                      extraHeaders: [(String, String)] = []) throws -> DemoResponse {
        let body = JSONValue.object([("message", .string(message))]).serialized()
        return try sendRequest(port: service.port, method: "POST", path: "/chat", headers: extraHeaders, body: body)
    }

    // MARK: Chat

    func testChatAnswersWithAllFields() throws {
        let service = try startService(fallbackRate: 0)

        let response = try chat(service)
        let json = try response.json()

        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.header("Content-Type"), "application/json")
        XCTAssertEqual(json.objectValue?.map(\.0), ["answer", "sources", "retrieval", "fallback", "latency_ms"])
        XCTAssertTrue(json["answer"]?.stringValue?.contains("How long does shipping take?") ?? false)
        XCTAssertEqual(json["retrieval"]?.stringValue, "pinecone")
        XCTAssertEqual(json["fallback"]?.boolValue, false)
        XCTAssertNotNil(json["latency_ms"]?.doubleValue)
        let sources = try XCTUnwrap(json["sources"]?.arrayValue)
        XCTAssertTrue((2...4).contains(sources.count), "\(sources.count) sources")
        XCTAssertEqual(sources.first?["title"]?.stringValue, "Shipping times")
        for source in sources {
            XCTAssertNotNil(source["id"]?.stringValue)
            XCTAssertNotNil(source["title"]?.stringValue)
            let score = try XCTUnwrap(source["score"]?.doubleValue)
            XCTAssertTrue((0...1).contains(score), "score \(score)")
        }
    }

    func testFallbackHeaderAgreesWithBody() throws {
        let service = try startService(fallbackRate: 0.5)
        var seen: Set<Bool> = []

        for _ in 0..<20 {
            let response = try chat(service)
            let fallback = try XCTUnwrap(response.json()["fallback"]?.boolValue)
            seen.insert(fallback)
            XCTAssertEqual(response.header("X-Fallback"), fallback ? "true" : "false")
            XCTAssertEqual(try response.json()["retrieval"]?.stringValue, fallback ? "pgvector" : "pinecone")
        }

        XCTAssertEqual(seen, [true, false], "seed 7 at rate 0.5 should give both outcomes in 20 requests")
    }

    func testSimulatedPineconeFailureForcesFallback() throws {
        let service = try startService(fallbackRate: 0)

        for index in 0..<20 {
            let header = index.isMultiple(of: 2) ? "pinecone" : "unknown-name, PineCone"
            let response = try chat(service, extraHeaders: [("X-Simulate-Failure", header)])
            XCTAssertEqual(response.header("X-Fallback"), "true", "request \(index)")
            XCTAssertEqual(try response.json()["fallback"]?.boolValue, true, "request \(index)")
        }
    }

    func testUnknownSimulatedFailureIgnored() throws {
        let service = try startService(fallbackRate: 0)

        let response = try chat(service, extraHeaders: [("X-Simulate-Failure", "redis")])

        XCTAssertEqual(response.header("X-Fallback"), "false")
    }

    func testErrorRateOneAlwaysFails() throws {
        let service = try startService(errorRate: 1)

        for index in 0..<10 {
            let response = try chat(service)
            XCTAssertEqual(response.status, 503, "request \(index)")
            XCTAssertEqual(try response.json()["error"]?["status"]?.integerValue, 503)
        }
    }

    func testZeroRatesGiveNoFallbackOrError() throws {
        let service = try startService(fallbackRate: 0, errorRate: 0)

        for index in 0..<20 {
            let response = try chat(service)
            XCTAssertEqual(response.status, 200, "request \(index)")
            XCTAssertEqual(response.header("X-Fallback"), "false", "request \(index)")
        }
    }

    func testSeedRepeatsOutcomeSequence() throws {
        func outcomes(seed: UInt64) throws -> [String] {
            let service = try startService(fallbackRate: 0.4, errorRate: 0.2, seed: seed)
            return try (0..<15).map { _ in
                let response = try chat(service)
                let json = try response.json()
                let fallback = json["fallback"]?.boolValue.map(String.init) ?? "-"
                let latency = json["latency_ms"]?.doubleValue.map { String($0) } ?? "-"
                return "\(response.status) \(fallback) \(latency)"
            }
        }

        let first = try outcomes(seed: 42)
        let second = try outcomes(seed: 42)
        let other = try outcomes(seed: 43)

        XCTAssertEqual(first, second)
        XCTAssertNotEqual(first, other)
    }

    func testLatencyStaysUnderCap() throws {
        let service = try startService(fallbackRate: 0.5)

        for _ in 0..<30 {
            let latency = try XCTUnwrap(chat(service).json()["latency_ms"]?.doubleValue)
            // The cap is 10 times the 1 ms median, and the fallback path adds at most 50 %.
            XCTAssertLessThanOrEqual(latency, 15.05)
            XCTAssertGreaterThan(latency, 0)
        }
    }

    func testLatencyMedianMatchesOption() {
        let random = SeededRandomSource(seed: 1)
        var latencies = (0..<2001).map { _ in
            ChatSimulator.primaryLatency(medianMilliseconds: 40, deviate: random.drawChat(documentCount: 0).latencyDeviate)
        }
        latencies.sort()

        // A log-normal with spread 0.5 has its 99th percentile at exp(0.5 * 2.326) = 3.2 times the median.
        XCTAssertEqual(latencies[1000], 40, accuracy: 3)
        XCTAssertEqual(latencies[1980], 128, accuracy: 20)
        XCTAssertLessThanOrEqual(latencies[2000], 400)
    }

    // MARK: Invalid requests

    func testInvalidJSONGets400() throws {
        let service = try startService()

        let response = try sendRequest(port: service.port, method: "POST", path: "/chat", body: "{\"message\": ")

        XCTAssertEqual(response.status, 400)
        XCTAssertEqual(try response.json()["error"]?["status"]?.integerValue, 400)
        XCTAssertTrue(try response.json()["error"]?["message"]?.stringValue?.hasPrefix("invalid JSON in the request body") ?? false)
    }

    func testInvalidMessagesGet400() throws {
        let service = try startService()
        let bodies = ["{}", "[\"message\"]", "{\"message\": 5}", "{\"message\": null}", "{\"message\": \"\"}", "{\"message\": \"  \\n\"}", ""]

        for body in bodies {
            let response = try sendRequest(port: service.port, method: "POST", path: "/chat", body: body)
            XCTAssertEqual(response.status, 400, "body \(body)")
            XCTAssertNotNil(try response.json()["error"]?["message"]?.stringValue, "body \(body)")
        }
    }

    func testGetChatGets405() throws {
        let service = try startService()

        let response = try sendRequest(port: service.port, method: "GET", path: "/chat")

        XCTAssertEqual(response.status, 405)
        XCTAssertEqual(response.header("Allow"), "POST")
        XCTAssertEqual(try response.json()["error"]?["status"]?.integerValue, 405)
    }

    func testUnknownPathGets404() throws {
        let service = try startService()

        let response = try sendRequest(port: service.port, method: "GET", path: "/nothing-here")

        XCTAssertEqual(response.status, 404)
        XCTAssertEqual(try response.json()["error"]?["message"]?.stringValue, "no resource at /nothing-here")
    }

    func testHealthzGets200() throws {
        let service = try startService()

        let response = try sendRequest(port: service.port, method: "GET", path: "/healthz")

        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(try response.json(), JSONValue.object([("status", .string("ok"))]))
    }

    // MARK: Options

    func testInvalidOptionsThrow() {
        let cases: [(DemoOptions, String)] = [
            (DemoOptions(latencyMilliseconds: -1), "invalid demo option latencyMilliseconds=-1.0: expected a number of milliseconds from 0 to 60000"),
            (DemoOptions(latencyMilliseconds: .nan), "invalid demo option latencyMilliseconds=nan: expected a number of milliseconds from 0 to 60000"),
            (DemoOptions(fallbackRate: 1.5), "invalid demo option fallbackRate=1.5: expected a probability from 0 to 1"),
            (DemoOptions(fallbackRate: -0.1), "invalid demo option fallbackRate=-0.1: expected a probability from 0 to 1"),
            (DemoOptions(errorRate: 2), "invalid demo option errorRate=2.0: expected a probability from 0 to 1"),
            (DemoOptions(port: 70000), "invalid demo option port=70000: expected an integer from 0 to 65535"),
            (DemoOptions(firstTokenMilliseconds: -1), "invalid demo option firstTokenMilliseconds=-1.0: expected a number of milliseconds from 0 to 60000"),
            (DemoOptions(firstTokenMilliseconds: 60_001), "invalid demo option firstTokenMilliseconds=60001.0: expected a number of milliseconds from 0 to 60000"),
            (DemoOptions(tokenIntervalMilliseconds: .infinity), "invalid demo option tokenIntervalMilliseconds=inf: expected a number of milliseconds from 0 to 60000"),
            (DemoOptions(tokenIntervalMilliseconds: -0.5), "invalid demo option tokenIntervalMilliseconds=-0.5: expected a number of milliseconds from 0 to 60000"),
        ]
        for (options, expected) in cases {
            XCTAssertThrowsError(try DemoChatService(options: options)) { error in
                XCTAssertEqual("\(error)", expected)
            }
        }
    }

    func testDelayOptionsAcceptBounds() {
        XCTAssertNoThrow(try DemoOptions(firstTokenMilliseconds: 0, tokenIntervalMilliseconds: 60_000).validate())
        XCTAssertNoThrow(try DemoOptions(firstTokenMilliseconds: 60_000, tokenIntervalMilliseconds: 0).validate())
    }

    func testDefaultOptions() throws {
        let options = DemoOptions()

        XCTAssertEqual(options.host, "127.0.0.1")
        XCTAssertEqual(options.port, 8000)
        XCTAssertEqual(options.latencyMilliseconds, 40)
        XCTAssertEqual(options.firstTokenMilliseconds, 150)
        XCTAssertEqual(options.tokenIntervalMilliseconds, 20)
        XCTAssertEqual(options.fallbackRate, 0.1)
        XCTAssertEqual(options.errorRate, 0.01)
        XCTAssertNil(options.seed)
        XCTAssertNoThrow(try options.validate())
    }
}

/// A response read by `sendRequest`.
struct DemoResponse {
    var status: Int
    var headers: [(name: String, value: String)]
    var body: [UInt8]

    func header(_ name: String) -> String? {
        headers.first(where: { $0.name.lowercased() == name.lowercased() })?.value
    }

    func json() throws -> JSONValue {
        try JSONValue.parse(body)
    }
}

struct DemoClientError: Error, CustomStringConvertible {
    let description: String
}

/// Sends one request with `Connection: close` to 127.0.0.1:`port` over a raw socket and reads the response until
/// the server closes the connection. Every read waits at most 5 s.
func sendRequest(
    port: Int,
    method: String,
    path: String,
    headers: [(String, String)] = [],
    body: String? = nil
) throws -> DemoResponse {
    let descriptor = try connectToLoopback(port: port)
    defer { close(descriptor) }
    try sendRequestHead(descriptor, method: method, path: path, headers: headers, body: body)

    var received: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
        if count == 0 {
            break
        }
        guard count > 0 else {
            throw DemoClientError(description: "recv failed or timed out after \(received.count) bytes: errno \(errno)")
        }
        received.append(contentsOf: chunk[0..<count])
    }

    let separator = Array("\r\n\r\n".utf8)
    guard let headEnd = (0...(max(received.count - 4, 0))).first(where: { received[$0..<min($0 + 4, received.count)].elementsEqual(separator) }) else {
        throw DemoClientError(description: "no complete response head in \(received.count) bytes")
    }
    var lines = String(decoding: received[0..<headEnd], as: UTF8.self).components(separatedBy: "\r\n")
    let statusParts = lines.removeFirst().split(separator: " ")
    guard statusParts.count >= 2, let status = Int(statusParts[1]) else {
        throw DemoClientError(description: "malformed status line")
    }
    let responseHeaders = lines.map { line -> (name: String, value: String) in
        let parts = line.split(separator: ":", maxSplits: 1)
        return (String(parts[0]), parts.count > 1 ? parts[1].trimmingCharacters(in: .whitespaces) : "")
    }
    return DemoResponse(status: status, headers: responseHeaders, body: Array(received[(headEnd + 4)...]))
}

/// Opens a TCP connection to 127.0.0.1:`port` whose reads time out after 5 s.
func connectToLoopback(port: Int) throws -> Int32 {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard descriptor >= 0 else {
        throw DemoClientError(description: "socket failed: errno \(errno)")
    }
    var timeout = timeval(tv_sec: 5, tv_usec: 0)
    setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))

    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port)).bigEndian
    inet_pton(AF_INET, "127.0.0.1", &address.sin_addr)
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else {
        let connectErrno = errno
        close(descriptor)
        throw DemoClientError(description: "connect to 127.0.0.1:\(port) failed: errno \(connectErrno)")
    }
    return descriptor
}

/// Sends a request with `Connection: close` and, when `body` is given, a JSON content type.
func sendRequestHead(_ descriptor: Int32, method: String, path: String, headers: [(String, String)], body: String?) throws {
    var request = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
    for (name, value) in headers {
        request += "\(name): \(value)\r\n"
    }
    if let body {
        request += "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n"
    }
    request += "\r\n" + (body ?? "")
    let bytes = Array(request.utf8)
    let sent = bytes.withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    guard sent == bytes.count else {
        throw DemoClientError(description: "send failed: sent \(sent) of \(bytes.count) bytes")
    }
}
