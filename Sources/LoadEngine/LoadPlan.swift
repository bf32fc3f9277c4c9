import Foundation

/// What the engine sends: one endpoint, fixed headers, bodies rotated by request index.
public struct LoadPlan: Sendable {
    /// Full request URL, e.g. `http://127.0.0.1:8000/chat`.
    public var url: String
    public var method: String
    /// Sent on every request in this order, after `Content-Type` and `Accept`.
    public var headers: [(name: String, value: String)]
    /// Request i carries `bodies[i % bodies.count]`; must not be empty.
    public var bodies: [[UInt8]]
    public var requestCount: Int
    /// Requests in flight at once; each worker sends its next request when its last one ends (closed loop).
    public var concurrency: Int
    /// Per-request timeout in seconds, covering connect, send and the whole response.
    public var timeoutSeconds: Double
    /// How a successful response says it used the degraded path.
    public var fallbackSignal: FallbackSignal
    /// Body bytes kept in memory per response for the fallback check; the rest is counted and dropped.
    public var maxBodyBytes: Int

    public init(
        url: String, method: String = "POST", headers: [(name: String, value: String)] = [], bodies: [[UInt8]],
        requestCount: Int, concurrency: Int, timeoutSeconds: Double,
        fallbackSignal: FallbackSignal = FallbackSignal(), maxBodyBytes: Int = 256 * 1024
    ) {
        self.url = url
        self.method = method
        self.headers = headers
        self.bodies = bodies
        self.requestCount = requestCount
        self.concurrency = concurrency
        self.timeoutSeconds = timeoutSeconds
        self.fallbackSignal = fallbackSignal
        self.maxBodyBytes = maxBodyBytes
    }
}

/// The response header and top-level JSON body field that mark a fallback answer.
public struct FallbackSignal: Sendable, Equatable {
    /// Matched case-insensitively; values `true`, `1` and `yes` (any case) mean fallback.
    public var headerName: String
    /// A top-level JSON boolean in the response body; `true` means fallback.
    public var bodyField: String

    public init(headerName: String = "X-Fallback", bodyField: String = "fallback") {
        self.headerName = headerName
        self.bodyField = bodyField
    }

    /// Whether a header value reports fallback.
    public static func isTruthy(_ value: String) -> Bool {
        switch value.trimmingCharacters(in: .whitespaces).lowercased() {
        case "true", "1", "yes": return true
        default: return false
        }
    }
}

