import JSONCoding

/// The framing of a response body into events.
enum StreamFraming: Sendable {
    /// `text/event-stream` (https://html.spec.whatwg.org/multipage/server-sent-events.html): `data:` lines up to a
    /// blank line form one event.
    case serverSentEvents
    /// JSON Lines / NDJSON: every non-empty line is one JSON event.
    case jsonLines

    /// Returns the framing for a response Content-Type, or nil when the response is not a stream.
    static func forContentType(_ contentType: String) -> StreamFraming? {
        let mediaType = contentType.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
        switch mediaType {
        case "text/event-stream": return .serverSentEvents
        case "application/x-ndjson", "application/ndjson", "application/jsonl", "application/json-lines", "application/x-jsonlines":
            return .jsonLines
        default: return nil
        }
    }
}

/// The places in streamed events that hold their text and token counts. The defaults cover OpenAI-compatible chat and completion
/// streams, Anthropic message streams, Ollama and Hugging Face TGI.
public struct StreamFormat: Sendable, Equatable {
    /// JSON Pointers tried in order; the first non-empty string found makes the event a content event.
    public var contentPointers: [String]
    /// JSON Pointers to an output token count; the last value seen in the stream wins.
    public var tokenCountPointers: [String]
    /// Seconds without any body byte, once the body has started, after which the stream fails as stalled.
    public var idleTimeoutSeconds: Double

    public static let defaultContentPointers = [
        "/choices/0/delta/content", "/choices/0/text", "/delta/text", "/message/content", "/response", "/token/text",
        "/content",
    ]
    public static let defaultTokenCountPointers = ["/usage/completion_tokens", "/usage/output_tokens", "/eval_count"]

    public init(
        contentPointers: [String] = StreamFormat.defaultContentPointers,
        tokenCountPointers: [String] = StreamFormat.defaultTokenCountPointers,
        idleTimeoutSeconds: Double = 10
    ) {
        self.contentPointers = contentPointers
        self.tokenCountPointers = tokenCountPointers
        self.idleTimeoutSeconds = idleTimeoutSeconds
    }
}

/// Splits a streamed body into events as bytes arrive and records when content arrives. Memory is one line, at most
/// `maxLineBytes`, whatever the stream's length.
struct StreamDecoder {
    let framing: StreamFraming
    let format: StreamFormat
    let fallbackPointer: String
    let maxLineBytes: Int

    private var line: [UInt8] = []
    private var dataLines: [String] = []
    private var eventType = ""
    private var isOverlongLine = false

    private(set) var eventCount = 0
    private(set) var contentTimes: [Double] = []
    private(set) var reportedTokens: Int?
    /// The stream looked like OpenAI's (`choices`), which ends with `data: [DONE]`.
    private(set) var isOpenAIStyle = false
    private(set) var hasTerminator = false
    private(set) var errorMessage: String?
    private(set) var isFallback = false

    init(framing: StreamFraming, format: StreamFormat, fallbackPointer: String, maxLineBytes: Int) {
        self.framing = framing
        self.format = format
        self.fallbackPointer = fallbackPointer
        self.maxLineBytes = maxLineBytes
    }

    /// Feeds body bytes that arrived at `time` (seconds on the monotonic clock).
    mutating func receive(_ bytes: UnsafeRawBufferPointer, at time: Double) {
        for byte in bytes {
            if byte == UInt8(ascii: "\n") {
                endLine(at: time)
            } else if line.count < maxLineBytes {
                line.append(byte)
            } else {
                isOverlongLine = true
            }
        }
    }

    /// Handles a last line without its newline once the body has ended.
    mutating func finish(at time: Double) {
        if !line.isEmpty { endLine(at: time) }
        if framing == .serverSentEvents, !dataLines.isEmpty { dispatchEvent(at: time) }
    }

    private mutating func endLine(at time: Double) {
        if line.last == UInt8(ascii: "\r") { line.removeLast() }
        defer {
            line.removeAll(keepingCapacity: true)
            isOverlongLine = false
        }
        if isOverlongLine {
            errorMessage = errorMessage ?? "a stream line was longer than \(maxLineBytes / 1024) KiB"
            return
        }
        let text = String(decoding: line, as: UTF8.self)
        switch framing {
        case .jsonLines:
            guard !text.trimmingCharacters(in: .whitespaces).isEmpty else { return }
            handleEvent(data: text, type: "", at: time)
        case .serverSentEvents:
            if text.isEmpty {
                dispatchEvent(at: time)
            } else if text.hasPrefix(":") {
                return
            } else {
                let field: Substring
                var value: Substring
                if let colon = text.firstIndex(of: ":") {
                    field = text[..<colon]
                    value = text[text.index(after: colon)...]
                    if value.hasPrefix(" ") { value = value.dropFirst() }
                } else {
                    field = Substring(text)
                    value = ""
                }
                if field == "data" { dataLines.append(String(value)) }
                if field == "event" { eventType = String(value) }
            }
        }
    }

    private mutating func dispatchEvent(at time: Double) {
        defer {
            dataLines.removeAll(keepingCapacity: true)
            eventType = ""
        }
        guard !dataLines.isEmpty else { return }
        handleEvent(data: dataLines.joined(separator: "\n"), type: eventType, at: time)
    }

    private mutating func handleEvent(data: String, type: String, at time: Double) {
        eventCount += 1
        if data == "[DONE]" {
            hasTerminator = true
            return
        }
        if type == "message_stop" { hasTerminator = true }
        guard let event = try? JSONValue.parse(data) else {
            if type == "error" {
                errorMessage = errorMessage ?? "error event: \(data.prefix(200))"
            } else if framing == .jsonLines {
                errorMessage = errorMessage ?? "malformed JSON line: \(data.prefix(120))"
            } else if !data.isEmpty {
                contentTimes.append(time)
            }
            return
        }
        if type == "error" || (event["error"] != nil && event["error"] != .null) {
            let message = event["error"]?["message"]?.stringValue ?? event["error"]?.stringValue ?? data
            errorMessage = errorMessage ?? "error event: \(message.prefix(200))"
            return
        }
        if event["choices"] != nil { isOpenAIStyle = true }
        if event["done"] == .bool(true) { hasTerminator = true }
        if event.value(atPointer: fallbackPointer) == .bool(true) { isFallback = true }
        for pointer in format.tokenCountPointers {
            if let count = event.value(atPointer: pointer)?.integerValue {
                reportedTokens = Int(count)
                break
            }
        }
        for pointer in format.contentPointers {
            if let content = event.value(atPointer: pointer)?.stringValue, !content.isEmpty {
                contentTimes.append(time)
                break
            }
        }
    }
}
