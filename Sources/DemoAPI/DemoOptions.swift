/// Settings of the built-in demo chat API.
public struct DemoOptions: Sendable {
    /// The IPv4 or IPv6 literal to listen on.
    public var host: String
    /// The TCP port. 0 lets the kernel pick a free port.
    public var port: Int
    /// The median simulated latency of a primary-path answer, in milliseconds. Latencies follow a log-normal
    /// distribution around it, capped at 10 times the median.
    public var latencyMilliseconds: Double
    /// The delay in milliseconds from receiving a streamed chat completion request to sending its first content
    /// token. It is fixed, not drawn at random, so that a measured time to first token can be checked against it.
    /// The fallback path multiplies it by `fallbackFirstTokenFactor`.
    public var firstTokenMilliseconds: Double
    /// The delay in milliseconds from sending one content token of a streamed chat completion to sending the next,
    /// fixed like `firstTokenMilliseconds`.
    public var tokenIntervalMilliseconds: Double
    /// The probability, from 0 to 1, that the primary retrieval backend (pinecone) fails and the slower fallback
    /// (pgvector) serves the request instead.
    public var fallbackRate: Double
    /// The probability, from 0 to 1, that a request fails with 503.
    public var errorRate: Double
    /// The seed for the random draws, which makes the sequence of latencies, fallbacks and errors repeatable when
    /// requests arrive one after another. Nil seeds from the system's random source.
    public var seed: UInt64?
    /// Receives the HTTP server's `key=value` log lines for errors it catches. Nil logs nothing.
    public var logger: (@Sendable (String) -> Void)?

    /// The maximum of every delay option, 60 s, so that a mistyped value cannot make requests hang for hours.
    public static let maxLatencyMilliseconds = 60_000.0
    /// How much longer the first token of a stream takes when the fallback backend (pgvector) serves it.
    public static let fallbackFirstTokenFactor = 1.5

    public init(
        host: String = "127.0.0.1",
        port: Int = 8000,
        latencyMilliseconds: Double = 40.0,
        firstTokenMilliseconds: Double = 150.0,
        tokenIntervalMilliseconds: Double = 20.0,
        fallbackRate: Double = 0.1,
        errorRate: Double = 0.01,
        seed: UInt64? = nil,
        logger: (@Sendable (String) -> Void)? = nil
    ) {
        self.host = host
        self.port = port
        self.latencyMilliseconds = latencyMilliseconds
        self.firstTokenMilliseconds = firstTokenMilliseconds
        self.tokenIntervalMilliseconds = tokenIntervalMilliseconds
        self.fallbackRate = fallbackRate
        self.errorRate = errorRate
        self.seed = seed
        self.logger = logger
    }

    /// Checks the range of every numeric option.
    /// - Throws: `DemoOptionsError` naming the first option out of range and its value.
    public func validate() throws {
        guard (0...65535).contains(port) else {
            throw DemoOptionsError(option: "port", value: "\(port)", expected: "an integer from 0 to 65535")
        }
        try Self.validateDelay(latencyMilliseconds, option: "latencyMilliseconds")
        try Self.validateDelay(firstTokenMilliseconds, option: "firstTokenMilliseconds")
        try Self.validateDelay(tokenIntervalMilliseconds, option: "tokenIntervalMilliseconds")
        guard (0.0...1.0).contains(fallbackRate) else {
            throw DemoOptionsError(option: "fallbackRate", value: "\(fallbackRate)", expected: "a probability from 0 to 1")
        }
        guard (0.0...1.0).contains(errorRate) else {
            throw DemoOptionsError(option: "errorRate", value: "\(errorRate)", expected: "a probability from 0 to 1")
        }
    }

    private static func validateDelay(_ milliseconds: Double, option: String) throws {
        guard milliseconds.isFinite, (0...maxLatencyMilliseconds).contains(milliseconds) else {
            throw DemoOptionsError(
                option: option,
                value: "\(milliseconds)",
                expected: "a number of milliseconds from 0 to \(Int(maxLatencyMilliseconds))"
            )
        }
    }
}

/// An option of `DemoOptions` that is out of range.
public struct DemoOptionsError: Error, CustomStringConvertible, Equatable, Sendable {
    public let option: String
    public let value: String
    public let expected: String

    public var description: String {
        "invalid demo option \(option)=\(value): expected \(expected)"
    }
}
