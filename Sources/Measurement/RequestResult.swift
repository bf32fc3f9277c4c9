/// The kind of a request failure. The raw values are the names used in reports, JSON and storage.
public enum ErrorKind: String, CaseIterable, Sendable, Comparable {
    /// No complete response within the per-request timeout.
    case timeout
    /// Connection refused, reset or unreachable, or closed before any response byte.
    case connection
    /// The host name did not resolve.
    case dns
    /// TLS handshake or certificate verification failed.
    case tls
    /// The server answered with a 4xx status.
    case http4xx = "http_4xx"
    /// The server answered with a 5xx status.
    case http5xx = "http_5xx"
    /// Malformed or truncated response, or a status outside 2xx, 4xx and 5xx.
    case `protocol`
    /// A streamed answer that ended without its terminator, stalled, or carried an error event.
    case stream
    /// The response arrived but failed a response check (`--expect-status`, `--expect-json-field`, `--expect-header`).
    case check

    public static func < (lhs: ErrorKind, rhs: ErrorKind) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// A failed request's classification and a human-readable cause, such as curl's error text.
public struct RequestFailure: Sendable, Equatable {
    public var kind: ErrorKind
    public var message: String
    /// For `check` failures: every failed check, each counted on its own; `message` is the first.
    public var reasons: [String]

    public init(kind: ErrorKind, message: String, reasons: [String] = []) {
        self.kind = kind
        self.message = message
        self.reasons = reasons
    }
}

/// Connection phases of one request in milliseconds, from curl's per-transfer timers.
/// A phase that did not happen (a reused connection, plain HTTP) is 0.
public struct PhaseTimings: Sendable, Equatable {
    /// Name resolution.
    public var dns: Double
    /// TCP connect, after resolution.
    public var connect: Double
    /// TLS handshake, after the TCP connect.
    public var tls: Double
    /// From the request being sent to the first response byte (server think time plus one round trip).
    public var timeToFirstByte: Double

    public init(dns: Double = 0, connect: Double = 0, tls: Double = 0, timeToFirstByte: Double = 0) {
        self.dns = dns
        self.connect = connect
        self.tls = tls
        self.timeToFirstByte = timeToFirstByte
    }
}

/// The outcome of one request.
public struct RequestResult: Sendable, Equatable {
    /// Milliseconds from the request being handed to the connection to the last byte of the body.
    public var latency: Double
    /// HTTP status, or 0 when no response arrived.
    public var status: Int
    /// nil for a success.
    public var failure: RequestFailure?
    /// A successful response that reported the degraded (fallback) path.
    public var isFallback: Bool
    public var phases: PhaseTimings
    /// Body bytes received, including those beyond the in-memory limit.
    public var bodyBytes: Int
    /// The body was larger than the in-memory limit, so only its header was checked for the fallback signal.
    public var isBodyTruncated: Bool
    /// Token timings of a streamed answer; nil when the response was not a stream.
    public var stream: StreamTimings?
    /// Open loop only: milliseconds from the actual send to the last body byte; `latency` counts from the due time.
    public var serviceTime: Double?
    /// Open loop only: sent after its due time because the in-flight bound was full.
    public var isDelayed: Bool

    public init(
        latency: Double, serviceTime: Double? = nil, isDelayed: Bool = false, status: Int, failure: RequestFailure? = nil, isFallback: Bool = false,
        phases: PhaseTimings = PhaseTimings(), bodyBytes: Int = 0, isBodyTruncated: Bool = false,
        stream: StreamTimings? = nil
    ) {
        self.latency = latency
        self.status = status
        self.failure = failure
        self.isFallback = isFallback
        self.phases = phases
        self.bodyBytes = bodyBytes
        self.isBodyTruncated = isBodyTruncated
        self.stream = stream
        self.serviceTime = serviceTime
        self.isDelayed = isDelayed
    }

    public var isSuccess: Bool { failure == nil }
}

/// Timings of one streamed answer (server-sent events or JSON lines), in milliseconds on the same clock as `latency`.
public struct StreamTimings: Sendable, Equatable {
    /// Time to first token: from the request being handed to the connection to the first event carrying content.
    public var timeToFirstToken: Double?
    /// Gaps between consecutive content events.
    public var interTokenGaps: [Double]
    /// Events received, content or not.
    public var eventCount: Int
    public var contentEventCount: Int
    /// Output tokens: the stream's reported usage when it sent one, else the number of content events.
    public var outputTokens: Int
    public var isTokenCountReported: Bool
    /// From the first to the last content event.
    public var contentSpan: Double

    public init(
        timeToFirstToken: Double?, interTokenGaps: [Double], eventCount: Int, contentEventCount: Int,
        outputTokens: Int, isTokenCountReported: Bool, contentSpan: Double
    ) {
        self.timeToFirstToken = timeToFirstToken
        self.interTokenGaps = interTokenGaps
        self.eventCount = eventCount
        self.contentEventCount = contentEventCount
        self.outputTokens = outputTokens
        self.isTokenCountReported = isTokenCountReported
        self.contentSpan = contentSpan
    }

    /// Decode rate: (output tokens - 1) per second of `contentSpan`, because the first token's time is TTFT; nil for
    /// fewer than two tokens or a zero span.
    public var tokensPerSecond: Double? {
        guard outputTokens >= 2, contentSpan > 0 else { return nil }
        return Double(outputTokens - 1) / (contentSpan / 1000)
    }
}
