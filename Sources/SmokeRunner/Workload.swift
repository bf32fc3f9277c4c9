import Foundation
import JSONCoding

/// One prompt: its text and, for a JSON Lines prompt file, the whole object as written.
public struct Prompt: Sendable, Equatable {
    public var text: String
    /// Sent as the request body when no template or `--openai` is set.
    public var object: JSONValue?

    public init(text: String, object: JSONValue? = nil) {
        self.text = text
        self.object = object
    }
}

/// The order in which prompts are used.
public enum PromptOrder: String, Sendable, CaseIterable {
    /// Prompt i mod n for request i.
    case sequential
    /// A prompt drawn from a seeded generator for each request; the same seed gives the same sequence.
    case random
}

/// Reads prompt files: plain text with one prompt per line, or JSON Lines with one object per line.
public enum PromptFile {
    /// Loads `path`. A file is JSON Lines when its name ends in `.jsonl` or `.ndjson`, or its first non-blank line
    /// starts with `{`; each object's `message` (or `prompt`, or `content`) string is the prompt text.
    /// - Throws: SmokeOptionsError naming the file and, for JSON Lines, the line.
    public static func load(_ path: String) throws -> [Prompt] {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            let cause = (error as NSError).localizedDescription
            throw SmokeOptionsError(option: "prompts", value: path, reason: "cannot read the file (\(cause)); give a readable text file with one prompt per line")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw SmokeOptionsError(option: "prompts", value: path, reason: "the file is not UTF-8 text; give a text file with one prompt per line")
        }
        // Character-wise splitting treats "\r\n" as one newline, so Windows line ends need no special case.
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).map(String.init)
        let firstLine = lines.first { !$0.trimmingCharacters(in: .whitespaces).isEmpty } ?? ""
        let isJSONLines = path.hasSuffix(".jsonl") || path.hasSuffix(".ndjson") || firstLine.trimmingCharacters(in: .whitespaces).hasPrefix("{")

        var prompts: [Prompt] = []
        for (offset, line) in lines.enumerated() where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            guard isJSONLines else {
                prompts.append(Prompt(text: line))
                continue
            }
            let object: JSONValue
            do {
                object = try JSONValue.parse(line)
            } catch {
                throw SmokeOptionsError(option: "prompts", value: path, reason: "line \(offset + 1) is not valid JSON (\(error)); write one JSON object per line")
            }
            guard object.objectValue != nil else {
                throw SmokeOptionsError(option: "prompts", value: path, reason: "line \(offset + 1) is not a JSON object; write one object such as {\"message\": \"...\"} per line")
            }
            let text = ["message", "prompt", "content"].lazy.compactMap { object[$0]?.stringValue }.first ?? ""
            prompts.append(Prompt(text: text, object: object))
        }
        guard !prompts.isEmpty else {
            throw SmokeOptionsError(option: "prompts", value: path, reason: "the file has no prompts; put one prompt per line")
        }
        return prompts
    }
}

/// A JSON request template with `{{prompt}}` (the prompt, JSON-escaped without quotes) and `{{request_id}}`
/// placeholders, split once into parts so each request is rendered by concatenation.
public struct BodyTemplate: Sendable {
    enum Part: Sendable {
        case literal(String)
        case prompt
        case requestID
    }

    let parts: [Part]
    public var usesRequestID: Bool { parts.contains { if case .requestID = $0 { return true } else { return false } } }

    public init(_ text: String) {
        var parts: [Part] = []
        var rest = Substring(text)
        while let open = rest.range(of: "{{") {
            guard let close = rest.range(of: "}}", range: open.upperBound..<rest.endIndex) else { break }
            let name = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            let part: Part?
            switch name {
            case "prompt": part = .prompt
            case "request_id": part = .requestID
            default: part = nil
            }
            if let part {
                parts.append(.literal(String(rest[..<open.lowerBound])))
                parts.append(part)
            } else {
                parts.append(.literal(String(rest[..<close.upperBound])))
            }
            rest = rest[close.upperBound...]
        }
        parts.append(.literal(String(rest)))
        self.parts = parts.filter { if case let .literal(text) = $0 { return !text.isEmpty } else { return true } }
    }

    public func render(prompt: String, requestID: String) -> String {
        var output = ""
        for part in parts {
            switch part {
            case let .literal(text): output += text
            case .prompt: output += String(JSONValue.quoted(prompt).dropFirst().dropLast())
            case .requestID: output += String(JSONValue.quoted(requestID).dropFirst().dropLast())
            }
        }
        return output
    }
}

/// Builds request i's body from the prompts, the prompt order and the body mode.
struct BodyBuilder: Sendable {
    enum Mode: Sendable {
        case chat
        case promptObjects
        case template(BodyTemplate)
        case openAI(model: String, isStreaming: Bool)
    }

    let prompts: [Prompt]
    let order: PromptOrder
    let seed: UInt64
    let mode: Mode
    let requestIDPrefix: String
    /// Bodies per prompt for modes without a per-request part, rendered once.
    private let cached: [[UInt8]]

    init(prompts: [Prompt], order: PromptOrder, seed: UInt64, mode: Mode, requestIDPrefix: String) {
        self.prompts = prompts
        self.order = order
        self.seed = seed
        self.mode = mode
        self.requestIDPrefix = requestIDPrefix
        var cached: [[UInt8]] = []
        if case let .template(template) = mode, template.usesRequestID {
            cached = []
        } else {
            cached = prompts.map { BodyBuilder.render(mode: mode, prompt: $0, requestID: "") }
        }
        self.cached = cached
    }

    /// Every prompt's body, when no body has a per-request part.
    var cachedBodies: [[UInt8]]? { cached.isEmpty ? nil : cached }

    func promptIndex(for request: Int) -> Int {
        switch order {
        case .sequential:
            return request % prompts.count
        case .random:
            return Int(BodyBuilder.mix(seed &+ UInt64(request) &* 0x9E37_79B9_7F4A_7C15) % UInt64(prompts.count))
        }
    }

    func body(for request: Int) -> [UInt8] {
        let index = promptIndex(for: request)
        if !cached.isEmpty { return cached[index] }
        return BodyBuilder.render(mode: mode, prompt: prompts[index], requestID: "\(requestIDPrefix)-\(request)")
    }

    static func render(mode: Mode, prompt: Prompt, requestID: String) -> [UInt8] {
        switch mode {
        case .chat:
            return Array(JSONValue.object([("message", .string(prompt.text))]).serialized().utf8)
        case .promptObjects:
            return Array((prompt.object ?? .object([("message", .string(prompt.text))])).serialized().utf8)
        case let .template(template):
            return Array(template.render(prompt: prompt.text, requestID: requestID).utf8)
        case let .openAI(model, isStreaming):
            var members: [(String, JSONValue)] = [
                ("model", .string(model)),
                ("messages", .array([.object([("role", .string("user")), ("content", .string(prompt.text))])])),
                ("stream", .bool(isStreaming)),
            ]
            // OpenAI sends a final usage event only when asked, and the token count comes from it.
            if isStreaming { members.append(("stream_options", .object([("include_usage", .bool(true))]))) }
            return Array(JSONValue.object(members).serialized().utf8)
        }
    }

    /// SplitMix64's output function: spreads consecutive inputs over the whole 64-bit range.
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
