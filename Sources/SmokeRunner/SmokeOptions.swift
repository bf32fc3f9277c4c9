import Foundation
import JSONCoding
import LoadEngine
import Reporting

/// Everything that defines one smoke run, from the command line or a daemon target. `validate()` checks it before
/// anything is sent.
public struct SmokeOptions: Sendable {
    /// Base URL; requests go to `url` + `effectivePath`.
    public var url = "http://localhost:8000"
    /// nil uses `/chat`, or `/v1/chat/completions` with `openAIModel`.
    public var path: String?
    public var method = "POST"
    public var requests = 50
    public var concurrency = 10
    /// Per-request timeout in seconds.
    public var timeoutSeconds = 30.0
    /// Sent as `Authorization: Bearer KEY`; never printed or stored.
    public var apiKey: String?
    /// Names sent in `X-Simulate-Failure`, comma-separated.
    public var simulate: [String] = []
    public var budgets: [Budget] = Budget.defaults
    /// Extra request headers, in order.
    public var headers: [(name: String, value: String)] = []
    /// A file with one prompt per line; nil uses the built-in prompts.
    public var promptsFile: String?
    public var fallbackHeader = "X-Fallback"
    public var fallbackField = "fallback"
    /// The daemon target's name or `--target-name`.
    public var targetName: String?
    public var promptOrder = PromptOrder.sequential
    /// Seed of the random prompt order; nil picks one per run (shown in the report so it can be repeated).
    public var seed: UInt64?
    /// A JSON body template with `{{prompt}}` and `{{request_id}}`; nil sends `{"message": PROMPT}`.
    public var bodyTemplate: String?
    /// The template's origin for reports: `--body` or the `--body-file` path.
    public var bodyTemplateSource: String?
    /// Sends an OpenAI-compatible chat completion body for this model.
    public var openAIModel: String?
    /// Expect streamed answers and measure time to first token and inter-token latency.
    public var isStreaming = false
    /// Seconds a stream may go without data once its body has started.
    public var streamIdleTimeoutSeconds = 10.0
    /// Header carrying a per-request id; nil sends none.
    public var requestIDHeader: String? = "X-Request-Id"
    /// Statuses that count as success, such as `200` or `2xx,404`; nil accepts any 2xx.
    public var expectedStatus: String?
    /// JSON Pointers that must hold a non-empty string in every answer.
    public var expectedJSONFields: [String] = []
    /// Headers every answer must carry, as `NAME` or `NAME=VALUE`.
    public var expectedHeaders: [String] = []
    /// Ask for compressed answers and decompress them.
    public var acceptsCompression = false
    /// Requests per second of the open loop; nil runs the closed loop with `concurrency` workers.
    public var ratePerSecond: Double?
    /// Open loop: the most requests open at once.
    public var maxInFlight = 1000
    /// Run for this many seconds instead of `requests` requests.
    public var durationSeconds: Double?
    /// Requests, then seconds, sent before measuring and not counted.
    public var warmupRequests = 0
    public var warmupSeconds = 0.0

    public init() {}

    /// The request path in effect.
    public var effectivePath: String {
        path ?? (openAIModel != nil ? "/v1/chat/completions" : "/chat")
    }

    /// Returns the request URL: the base URL's path (without a trailing slash) followed by `effectivePath`.
    public func endpointURL() throws -> URL {
        guard var components = URLComponents(string: url),
              let scheme = components.scheme?.lowercased(), scheme == "http" || scheme == "https",
              let host = components.host, !host.isEmpty, (components.port ?? 80) >= 1, (components.port ?? 80) <= 65535
        else {
            throw SmokeOptionsError(option: "url", value: url, reason: "expected an http:// or https:// URL with a host (and a port from 1 to 65535), such as http://localhost:8000")
        }
        var basePath = components.percentEncodedPath
        while basePath.hasSuffix("/") { basePath.removeLast() }
        components.percentEncodedPath = basePath + effectivePath
        guard let endpoint = components.url else {
            throw SmokeOptionsError(option: "path", value: effectivePath, reason: "does not form a valid URL with \(url)")
        }
        return endpoint
    }

    /// Checks every field; the error names the option, the value and what is accepted.
    public func validate() throws {
        _ = try endpointURL()
        guard effectivePath.hasPrefix("/"), !effectivePath.contains(where: { $0.isWhitespace }) else {
            throw SmokeOptionsError(option: "path", value: effectivePath, reason: "expected a path starting with /, such as /chat")
        }
        guard HeaderLine.isToken(method), method == method.uppercased() else {
            throw SmokeOptionsError(option: "method", value: method, reason: "expected an HTTP method in capitals, such as POST or GET")
        }
        guard requests >= 1 else {
            throw SmokeOptionsError(option: "requests", value: String(requests), reason: "expected a whole number of 1 or more")
        }
        guard concurrency >= 1 else {
            throw SmokeOptionsError(option: "concurrency", value: String(concurrency), reason: "expected a whole number of 1 or more")
        }
        guard timeoutSeconds > 0, timeoutSeconds.isFinite else {
            throw SmokeOptionsError(option: "timeout", value: String(timeoutSeconds), reason: "expected seconds greater than 0, such as 30 or 2.5")
        }
        for budget in budgets {
            guard budget.limit >= 0, budget.limit.isFinite else {
                throw SmokeOptionsError(option: budget.metric.optionName.dropDashes, value: String(budget.limit), reason: "expected a number of 0 or more")
            }
            if budget.metric.unit == "ratio", budget.limit > 1 {
                throw SmokeOptionsError(option: budget.metric.optionName.dropDashes, value: String(budget.limit), reason: "expected a fraction from 0 to 1, such as 0.05 for 5 %")
            }
        }
        for name in simulate where name.isEmpty || name.contains(",") || !name.allSatisfy(\.isHeaderValueSafe) {
            throw SmokeOptionsError(option: "simulate", value: name, reason: "expected a failure name without commas or control characters, such as pinecone")
        }
        for header in headers {
            try HeaderLine.validate(name: header.name, value: header.value)
        }
        guard HeaderLine.isToken(String(fallbackHeader.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")) else {
            throw SmokeOptionsError(option: "fallback-header", value: fallbackHeader, reason: "expected a header name, such as X-Fallback")
        }
        guard !fallbackField.isEmpty else {
            throw SmokeOptionsError(option: "fallback-field", value: fallbackField, reason: "expected a JSON field name, such as fallback")
        }
        try validateWorkload()
        try validatePacing()
        if let apiKey, apiKey.isEmpty || !apiKey.allSatisfy(\.isHeaderValueSafe) {
            // The key is a secret: name the problem, never the value.
            throw SmokeOptionsError(option: "api-key", value: "<redacted>", reason: "the API key is empty or contains control characters")
        }
    }
}

extension SmokeOptions {
    /// Checks the body, streaming and response-check options and the combinations they allow.
    func validateWorkload() throws {
        if bodyTemplate != nil, let model = openAIModel {
            throw SmokeOptionsError(option: "openai", value: model, reason: "cannot be combined with --body or --body-file; use one of them")
        }
        if let model = openAIModel, model.isEmpty {
            throw SmokeOptionsError(option: "openai", value: model, reason: "expected a model name, such as gpt-4o-mini")
        }
        // An empty template sends no body, as a GET usually wants.
        if let template = bodyTemplate, !template.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            let sample = BodyTemplate(template).render(prompt: "sample \"prompt\"", requestID: "id-0")
            do {
                _ = try JSONValue.parse(sample)
            } catch {
                throw SmokeOptionsError(option: bodyTemplateSource == nil || bodyTemplateSource == "--body" ? "body" : "body-file", value: bodyTemplateSource ?? template,
                                        reason: "the template is not valid JSON once {{prompt}} and {{request_id}} are filled in (\(error)); put {{prompt}} inside quotes, such as {\"message\": \"{{prompt}}\"}")
            }
        }
        guard streamIdleTimeoutSeconds > 0, streamIdleTimeoutSeconds.isFinite else {
            throw SmokeOptionsError(option: "stream-idle-timeout", value: String(streamIdleTimeoutSeconds), reason: "expected seconds greater than 0, such as 10")
        }
        if let requestIDHeader, !HeaderLine.isToken(requestIDHeader) {
            throw SmokeOptionsError(option: "request-id-header", value: requestIDHeader, reason: "expected a header name such as X-Request-Id, or none")
        }
        if let expectedStatus {
            do { _ = try StatusMatcher(parsing: expectedStatus) } catch {
                throw SmokeOptionsError(option: "expect-status", value: expectedStatus, reason: "\(error)")
            }
        }
        for pointer in expectedJSONFields where !pointer.hasPrefix("/") {
            throw SmokeOptionsError(option: "expect-json-field", value: pointer, reason: "expected a JSON Pointer starting with /, such as /answer")
        }
        if isStreaming, let pointer = expectedJSONFields.first {
            throw SmokeOptionsError(option: "expect-json-field", value: pointer, reason: "applies to whole JSON answers, not to streams; drop it or --stream")
        }
        for header in expectedHeaders {
            let name = header.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
            guard HeaderLine.isToken(name) else {
                throw SmokeOptionsError(option: "expect-header", value: header, reason: "expected NAME or NAME=VALUE, such as X-Fallback=false")
            }
        }
        if !isStreaming, let budget = budgets.first(where: { $0.metric.needsStreaming }) {
            throw SmokeOptionsError(option: budget.metric.optionName.dropDashes, value: SmokeOptions.format(budget.limit),
                                    reason: "time-to-first-token and inter-token budgets need streamed answers; add --stream")
        }
    }

    /// Checks the open-loop and run-length options.
    func validatePacing() throws {
        if let rate = ratePerSecond, !(rate > 0 && rate.isFinite) {
            throw SmokeOptionsError(option: "rate", value: SmokeOptions.format(rate), reason: "expected requests per second greater than 0, such as 20 or 0.5")
        }
        guard maxInFlight >= 1 else {
            throw SmokeOptionsError(option: "max-in-flight", value: String(maxInFlight), reason: "expected a whole number of 1 or more")
        }
        if let duration = durationSeconds, !(duration > 0 && duration.isFinite) {
            throw SmokeOptionsError(option: "duration", value: SmokeOptions.format(duration), reason: "expected a duration greater than 0, such as 30s or 2m")
        }
        guard warmupRequests >= 0, warmupSeconds >= 0, warmupSeconds.isFinite else {
            throw SmokeOptionsError(option: "warmup", value: "\(warmupRequests) requests, \(warmupSeconds) s", reason: "expected a request count or a duration of 0 or more")
        }
    }

    /// Measured requests the options plan: `requests`, or rate × duration in the open loop; 0 for a closed-loop
    /// duration run, whose count is not known in advance.
    public var plannedRequests: Int {
        guard let duration = durationSeconds else { return requests }
        guard let rate = ratePerSecond else { return 0 }
        return Int((duration * rate).rounded(.down))
    }

    /// The engine's pacing for these options.
    var pacing: Pacing {
        ratePerSecond.map { .open(ratePerSecond: $0, maxInFlight: maxInFlight) } ?? .closed
    }

    var runLength: RunLength {
        RunLength(requests: requests, durationSeconds: durationSeconds, warmupRequests: warmupRequests, warmupSeconds: warmupSeconds)
    }

    static func format(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }

    /// The response checks the engine applies.
    var responseChecks: ResponseChecks {
        ResponseChecks(
            expectedStatuses: expectedStatus.flatMap { try? StatusMatcher(parsing: $0) },
            jsonFieldPointers: expectedJSONFields,
            headers: expectedHeaders.map { text in
                let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
                return (name: parts[0], value: parts.count > 1 ? parts[1] : nil)
            }
        )
    }

    /// The fallback signal; `--fallback-header NAME=VALUE` matches that value only.
    var fallbackSignal: FallbackSignal {
        let parts = fallbackHeader.split(separator: "=", maxSplits: 1).map(String.init)
        return FallbackSignal(headerName: parts.first ?? fallbackHeader, headerValue: parts.count > 1 ? parts[1] : nil, bodyField: fallbackField)
    }
}

/// An invalid option value, with the fix.
public struct SmokeOptionsError: Error, CustomStringConvertible, Sendable {
    /// The option's long name without dashes, e.g. `requests`; the command line adds `--`, the config file uses it as a key.
    public var option: String
    public var value: String
    public var reason: String

    public init(option: String, value: String, reason: String) {
        self.option = option
        self.value = value
        self.reason = reason
    }

    public var description: String { "invalid value \"\(value)\" for --\(option): \(reason)" }
}

/// Parsing and checks for `Name: value` request headers (RFC 9110 §5.1 field names).
public enum HeaderLine {
    /// Splits `Name: value`, trimming the value.
    public static func parse(_ line: String) throws -> (name: String, value: String) {
        guard let colon = line.firstIndex(of: ":") else {
            throw SmokeOptionsError(option: "header", value: line, reason: "expected 'Name: value', such as 'X-Team: search'")
        }
        let name = String(line[..<colon])
        let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        try validate(name: name, value: value)
        return (name, value)
    }

    static func validate(name: String, value: String) throws {
        guard isToken(name) else {
            throw SmokeOptionsError(option: "header", value: name, reason: "expected a header name of letters, digits and -, such as X-Team")
        }
        guard value.allSatisfy(\.isHeaderValueSafe) else {
            throw SmokeOptionsError(option: "header", value: name, reason: "the header value contains a line break or control character")
        }
    }

    static func isToken(_ name: String) -> Bool {
        let allowed = CharacterSet(charactersIn: "!#$%&'*+-.^_`|~").union(.alphanumerics)
        return !name.isEmpty && name.unicodeScalars.allSatisfy { $0.isASCII && allowed.contains($0) }
    }

    /// Returns whether a header's value may carry a credential, so reports show `<redacted>` in its place.
    public static func isSensitive(_ name: String) -> Bool {
        let lower = name.lowercased()
        if ["authorization", "proxy-authorization", "cookie"].contains(lower) { return true }
        return ["token", "secret", "key", "password", "auth", "session"].contains { lower.contains($0) }
    }
}

extension Character {
    /// Printable or tab: the characters allowed in a header value.
    var isHeaderValueSafe: Bool {
        self == "\t" || unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value != 0x7F }
    }
}

extension String {
    var dropDashes: String { String(drop(while: { $0 == "-" })) }
}
