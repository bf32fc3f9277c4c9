/// A request that the server rejects before it reaches the handler. The server sends `status` with `message` in
/// the JSON error shape and closes the connection.
struct RequestRejection: Error, Equatable {
    let status: Int
    let message: String
}

private let lineFeed = UInt8(ascii: "\n")
private let carriageReturn = UInt8(ascii: "\r")

/// The request line and header fields of a request (RFC 9112 sections 3 and 5).
struct RequestHead {
    var method: String
    var target: String
    var version: HTTPVersion
    var headers: HTTPHeaders

    /// Finds the empty line that ends the header section, searching from `start`.
    /// Returns the end of the last header line and the offset where the body starts, or nil when the empty line
    /// has not arrived. A bare LF counts as a line end as well as CRLF (RFC 9112 section 2.2).
    static func findEnd(in buffer: [UInt8], from start: Int) -> (headEnd: Int, bodyStart: Int)? {
        var index = max(start, 0)
        while index < buffer.count {
            if buffer[index] == lineFeed {
                var next = index + 1
                if next < buffer.count && buffer[next] == carriageReturn {
                    next += 1
                }
                if next < buffer.count && buffer[next] == lineFeed {
                    return (index, next + 1)
                }
            }
            index += 1
        }
        return nil
    }

    /// Parses the header section without its final empty line.
    /// - Throws: `RequestRejection` with 400 for a malformed request line or field, and 505 for a major version
    ///   other than 1.
    static func parse(_ bytes: ArraySlice<UInt8>) throws -> RequestHead {
        var lines: [ArraySlice<UInt8>] = []
        for var line in bytes.split(separator: lineFeed, omittingEmptySubsequences: false) {
            if line.last == carriageReturn {
                line = line.dropLast()
            }
            if line.contains(carriageReturn) {
                throw RequestRejection(status: 400, message: "a header line contains a bare carriage return")
            }
            lines.append(line)
        }

        var head = try parseRequestLine(lines[0])
        for line in lines.dropFirst() {
            let (name, value) = try parseField(line)
            head.headers.add(name, value)
        }
        try validateHost(head)
        return head
    }

    private static func parseRequestLine(_ line: ArraySlice<UInt8>) throws -> RequestHead {
        let parts = line.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
        let excerpt = String(decoding: line.prefix(200), as: UTF8.self)
        guard parts.count == 3 else {
            throw RequestRejection(status: 400, message: "malformed request line \"\(excerpt)\": expected METHOD TARGET HTTP/1.1")
        }
        guard !parts[0].isEmpty, parts[0].allSatisfy(isTokenByte) else {
            throw RequestRejection(status: 400, message: "malformed request line \"\(excerpt)\": invalid method")
        }
        guard !parts[1].isEmpty, parts[1].allSatisfy({ $0 > 0x20 && $0 != 0x7F }) else {
            throw RequestRejection(status: 400, message: "malformed request line \"\(excerpt)\": invalid request target")
        }
        let version = try parseVersion(parts[2], excerpt: excerpt)
        return RequestHead(
            method: String(decoding: parts[0], as: UTF8.self),
            target: String(decoding: parts[1], as: UTF8.self),
            version: version,
            headers: [:]
        )
    }

    private static func parseVersion(_ bytes: ArraySlice<UInt8>, excerpt: String) throws -> HTTPVersion {
        let text = Array(bytes)
        guard text.count == 8,
              text.starts(with: Array("HTTP/".utf8)),
              let major = digitValue(text[5]),
              text[6] == UInt8(ascii: "."),
              let minor = digitValue(text[7])
        else {
            throw RequestRejection(status: 400, message: "malformed request line \"\(excerpt)\": invalid HTTP version")
        }
        guard major == 1 else {
            throw RequestRejection(status: 505, message: "HTTP/\(major).\(minor) is not supported. Use HTTP/1.1")
        }
        return HTTPVersion(major: major, minor: minor)
    }

    private static func parseField(_ line: ArraySlice<UInt8>) throws -> (String, String) {
        if line.first == UInt8(ascii: " ") || line.first == UInt8(ascii: "\t") {
            throw RequestRejection(status: 400, message: "obsolete line folding in a header field is not supported")
        }
        let excerpt = String(decoding: line.prefix(100), as: UTF8.self)
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else {
            throw RequestRejection(status: 400, message: "malformed header field \"\(excerpt)\": missing colon")
        }
        let name = line[line.startIndex..<colon]
        guard !name.isEmpty, name.allSatisfy(isTokenByte) else {
            throw RequestRejection(status: 400, message: "malformed header field \"\(excerpt)\": invalid field name")
        }
        let value = line[(colon + 1)...]
        // Field values may contain visible ASCII, spaces, tabs and obs-text bytes, but no other control bytes.
        guard value.allSatisfy({ $0 >= 0x20 && $0 != 0x7F || $0 == UInt8(ascii: "\t") }) else {
            throw RequestRejection(status: 400, message: "malformed header field \"\(excerpt)\": control character in value")
        }
        return (String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self).trimmingSpacesAndTabs())
    }

    /// RFC 9112 section 3.2 requires exactly one Host field in HTTP/1.1 requests, and at most one in HTTP/1.0.
    private static func validateHost(_ head: RequestHead) throws {
        let hosts = head.headers.values(for: "Host")
        if hosts.count > 1 {
            throw RequestRejection(status: 400, message: "the request has \(hosts.count) Host header fields. Send exactly one")
        }
        if hosts.isEmpty && head.version != .http1_0 {
            throw RequestRejection(status: 400, message: "the Host header field is missing, which HTTP/1.1 requires")
        }
    }

    /// Decides how the body is delimited (RFC 9112 section 6.3).
    /// - Throws: `RequestRejection` with 400 for an invalid or conflicting Content-Length or Transfer-Encoding,
    ///   413 for a declared length over `maxBodyBytes` and 501 for a transfer coding other than chunked.
    func bodyFraming(maxBodyBytes: Int) throws -> BodyFraming {
        let codings = headers.tokens(for: "Transfer-Encoding")
        let lengths = headers.values(for: "Content-Length")

        if headers.contains("Transfer-Encoding") {
            if version == .http1_0 {
                throw RequestRejection(status: 400, message: "Transfer-Encoding is not allowed in an HTTP/1.0 request")
            }
            if !lengths.isEmpty {
                throw RequestRejection(status: 400, message: "the request has both Transfer-Encoding and Content-Length. Send only one of them")
            }
            if let unsupported = codings.first(where: { $0 != "chunked" }) {
                throw RequestRejection(status: 501, message: "transfer coding \"\(unsupported)\" is not supported. Send the body with Content-Length or chunked")
            }
            guard codings == ["chunked"] else {
                throw RequestRejection(status: 400, message: "invalid Transfer-Encoding \"\(codings.joined(separator: ", "))\": chunked must appear once")
            }
            return .chunked
        }

        guard !lengths.isEmpty else {
            return .none
        }
        // Repeated fields or a list of identical values are allowed (RFC 9110 section 8.6), different values are not.
        let elements = lengths.flatMap { $0.split(separator: ",", omittingEmptySubsequences: false) }
            .map { $0.trimmingSpacesAndTabs() }
        guard let first = elements.first,
              elements.allSatisfy({ $0 == first }),
              !first.isEmpty,
              first.utf8.allSatisfy({ digitValue($0) != nil })
        else {
            let excerpt = lengths.joined(separator: ", ")
            throw RequestRejection(status: 400, message: "invalid Content-Length \"\(excerpt)\": expected one non-negative integer")
        }
        guard let length = Int(first), length <= maxBodyBytes else {
            throw RequestRejection(status: 413, message: "the request body of \(first) bytes exceeds the limit of \(maxBodyBytes) bytes")
        }
        return length == 0 ? .none : .contentLength(length)
    }
}

enum BodyFraming: Equatable {
    case none
    case contentLength(Int)
    case chunked
}

/// An incremental decoder for a chunked request body (RFC 9112 section 7.1). Chunk extensions and trailer fields
/// are read and dropped.
struct ChunkedBodyDecoder {
    private enum State: Equatable {
        case size
        case data(remaining: Int)
        case dataEnd
        case trailer
        case complete
    }

    let maxBodyBytes: Int
    let maxTrailerBytes: Int
    private(set) var body: [UInt8] = []
    private var state = State.size
    private var trailerBytes = 0

    /// The maximum length of a chunk-size line, extensions included.
    private static let maxSizeLineBytes = 4096

    init(maxBodyBytes: Int, maxTrailerBytes: Int) {
        self.maxBodyBytes = maxBodyBytes
        self.maxTrailerBytes = maxTrailerBytes
    }

    var isComplete: Bool { state == .complete }

    /// Decodes as much of `buffer` from `start` as has arrived and returns the offset of the first byte not consumed.
    /// - Throws: `RequestRejection` with 400 for malformed framing, 413 when the body exceeds `maxBodyBytes` and
    ///   431 when the trailer section exceeds `maxTrailerBytes`.
    mutating func decode(_ buffer: [UInt8], from start: Int) throws -> Int {
        var index = start
        while state != .complete {
            switch state {
            case .size:
                guard let lineEnd = buffer[index...].firstIndex(of: lineFeed) else {
                    if buffer.count - index > Self.maxSizeLineBytes {
                        throw RequestRejection(status: 400, message: "a chunk-size line exceeds \(Self.maxSizeLineBytes) bytes")
                    }
                    return index
                }
                let size = try parseChunkSize(buffer[index..<lineEnd])
                index = lineEnd + 1
                state = size == 0 ? .trailer : .data(remaining: size)

            case let .data(remaining):
                let available = min(remaining, buffer.count - index)
                if available == 0 {
                    return index
                }
                body.append(contentsOf: buffer[index..<(index + available)])
                index += available
                state = available == remaining ? .dataEnd : .data(remaining: remaining - available)

            case .dataEnd:
                guard index < buffer.count else {
                    return index
                }
                if buffer[index] == lineFeed {
                    index += 1
                } else if buffer[index] == carriageReturn {
                    guard index + 1 < buffer.count else {
                        return index
                    }
                    guard buffer[index + 1] == lineFeed else {
                        throw RequestRejection(status: 400, message: "chunk data is not followed by CRLF")
                    }
                    index += 2
                } else {
                    throw RequestRejection(status: 400, message: "chunk data is longer than its chunk size")
                }
                state = .size

            case .trailer:
                let lineEnd = buffer[index...].firstIndex(of: lineFeed)
                let lineBytes = (lineEnd.map { $0 + 1 } ?? buffer.count) - index
                if trailerBytes + lineBytes > maxTrailerBytes {
                    throw RequestRejection(status: 431, message: "the chunked trailer section exceeds \(maxTrailerBytes) bytes")
                }
                guard let lineEnd else {
                    return index
                }
                trailerBytes += lineBytes
                let isEmptyLine = lineEnd == index || (lineEnd == index + 1 && buffer[index] == carriageReturn)
                index = lineEnd + 1
                if isEmptyLine {
                    state = .complete
                }

            case .complete:
                break
            }
        }
        return index
    }

    private func parseChunkSize(_ line: ArraySlice<UInt8>) throws -> Int {
        var digits = line
        if digits.last == carriageReturn {
            digits = digits.dropLast()
        }
        if let semicolon = digits.firstIndex(of: UInt8(ascii: ";")) {
            digits = digits[digits.startIndex..<semicolon]
        }
        while let last = digits.last, last == UInt8(ascii: " ") || last == UInt8(ascii: "\t") {
            digits = digits.dropLast()
        }
        let excerpt = String(decoding: line.prefix(40), as: UTF8.self)
        guard !digits.isEmpty, digits.allSatisfy({ RequestTarget.hexValue($0) != nil }) else {
            throw RequestRejection(status: 400, message: "invalid chunk size \"\(excerpt)\": expected hexadecimal digits")
        }
        guard digits.count <= 15, let size = Int(String(decoding: digits, as: UTF8.self), radix: 16),
              body.count + size <= maxBodyBytes
        else {
            throw RequestRejection(status: 413, message: "the chunked request body exceeds the limit of \(maxBodyBytes) bytes")
        }
        return size
    }
}

private func isTokenByte(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
        return true
    default:
        return Array("!#$%&'*+-.^_`|~".utf8).contains(byte)
    }
}

private func digitValue(_ byte: UInt8) -> Int? {
    byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") ? Int(byte - UInt8(ascii: "0")) : nil
}
