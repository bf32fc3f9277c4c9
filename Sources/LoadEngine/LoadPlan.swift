import Foundation

/// The requests the engine sends: one endpoint, fixed headers, and bodies by request index.
public struct LoadPlan: Sendable {
    /// Full request URL, e.g. `http://127.0.0.1:8000/chat`.
    public var url: String
    public var method: String
    /// Sent on every request in this order, after `Content-Type` and `Accept`.
    public var headers: [(name: String, value: String)]
    /// Request i carries `bodies[i % bodies.count]`; must not be empty.
    public var bodies: [[UInt8]]
    /// Measured requests; the same as `length.requests`.
    public var requestCount: Int {
        get { length.requests }
        set { length.requests = newValue }
    }
    /// Requests in flight at once; each worker sends its next request when its last one ends (closed loop).
    public var concurrency: Int
    /// Per-request timeout in seconds, covering connect, send and the whole response.
    public var timeoutSeconds: Double
    /// The response header and body field that mark a successful response served by the degraded path.
    public var fallbackSignal: FallbackSignal
    /// Body bytes kept in memory per response for the fallback check; the rest is counted and dropped.
    public var maxBodyBytes: Int
    /// Maps request i to its body in `bodies`; nil rotates through them in order.
    public var bodyIndex: (@Sendable (Int) -> Int)?
    /// Builds request i's body, for bodies with a per-request part; when set, `bodies` is ignored.
    public var bodyProvider: (@Sendable (Int) -> [UInt8])?
    /// Header carrying a per-request id `requestIDPrefix-i`, so server logs can be joined with results; nil sends none.
    public var requestIDHeader: String?
    public var requestIDPrefix: String = ""
    /// Set when responses must be streams: they are decoded as events and timed per token.
    public var stream: StreamFormat?
    public var checks = ResponseChecks()
    public var pacing = Pacing.closed
    /// Send `Accept-Encoding` for every encoding libcurl decodes, and decode compressed answers.
    public var acceptsCompression = false
    /// Requests or time to measure, and the warm-up before; `requestCount` sets `length.requests`.
    public var length: RunLength

    /// Request i's body, as the engine sends it.
    public func body(for index: Int) -> [UInt8] {
        if let bodyProvider { return bodyProvider(index) }
        return bodies[(bodyIndex?(index) ?? index) % bodies.count]
    }

    public init(
        url: String, method: String = "POST", headers: [(name: String, value: String)] = [], bodies: [[UInt8]],
        requestCount: Int, concurrency: Int, timeoutSeconds: Double,
        fallbackSignal: FallbackSignal = FallbackSignal(), maxBodyBytes: Int = 256 * 1024
    ) {
        self.url = url
        self.method = method
        self.headers = headers
        self.bodies = bodies
        length = RunLength(requests: requestCount)
        self.concurrency = concurrency
        self.timeoutSeconds = timeoutSeconds
        self.fallbackSignal = fallbackSignal
        self.maxBodyBytes = maxBodyBytes
    }
}

/// The response header and JSON body field that mark a fallback answer.
public struct FallbackSignal: Sendable, Equatable {
    /// Matched case-insensitively.
    public var headerName: String
    /// The header value that means fallback (case-insensitive); nil accepts `true`, `1` and `yes`.
    public var headerValue: String?
    /// A top-level field name such as `fallback`, or a JSON Pointer such as `/retrieval/fallback`; the boolean
    /// `true` there means fallback.
    public var bodyField: String

    public init(headerName: String = "X-Fallback", headerValue: String? = nil, bodyField: String = "fallback") {
        self.headerName = headerName
        self.headerValue = headerValue
        self.bodyField = bodyField
    }

    /// The body field as a JSON Pointer.
    public var bodyPointer: String {
        if bodyField.hasPrefix("/") { return bodyField }
        return "/" + bodyField.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
    }

    /// Returns whether a value of the fallback header reports fallback.
    public func headerMeansFallback(_ value: String) -> Bool {
        let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
        if let headerValue { return trimmed.caseInsensitiveCompare(headerValue) == .orderedSame }
        return FallbackSignal.isTruthy(trimmed)
    }

    /// Returns whether a header value is `true`, `1` or `yes`, in any case.
    public static func isTruthy(_ value: String) -> Bool {
        switch value.trimmingCharacters(in: .whitespaces).lowercased() {
        case "true", "1", "yes": return true
        default: return false
        }
    }
}

