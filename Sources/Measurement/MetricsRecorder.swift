/// Collects request results as they complete and computes the run's metrics once at the end.
/// Not thread-safe: the load engine adds results from its single event-loop thread.
/// Timings are exact up to `LatencySamples.defaultExactLimit` values each and bucketed beyond, so memory stays flat
/// for runs of millions of requests.
public struct MetricsRecorder: Sendable {
    private var latencies = LatencySamples()
    private var dnsTimes = LatencySamples()
    private var connectTimes = LatencySamples()
    private var tlsTimes = LatencySamples()
    private var firstByteTimes = LatencySamples()
    private var errorCounts: [ErrorKind: Int] = [:]
    private var firstErrorMessages: [ErrorKind: String] = [:]
    private var statusCounts: [Int: Int] = [:]
    private var completed = 0
    private var fallbacks = 0
    private var truncatedBodies = 0
    private var timesToFirstToken = LatencySamples()
    private var interTokenGaps = LatencySamples()
    // Rates only feed means, so a running sum (added in arrival order) replaces the per-stream arrays.
    private var tokenRateSum: Double = 0
    private var tokenRateCount = 0
    private var eventRateSum: Double = 0
    private var eventRateCount = 0
    private var streams = 0
    private var streamsWithReportedTokens = 0
    private var checkFailures: [String: Int] = [:]
    private var serviceTimes = LatencySamples()
    private var delayed = 0

    public init() {}

    public var completedCount: Int { completed }
    public var failedCount: Int { errorCounts.values.reduce(0, +) }

    public mutating func add(_ result: RequestResult) {
        completed += 1
        if result.status > 0 { statusCounts[result.status, default: 0] += 1 }
        if result.isBodyTruncated { truncatedBodies += 1 }
        if result.isDelayed { delayed += 1 }

        // Phase timings describe the connection, so they are kept for failed requests that got that far too.
        if result.status > 0 {
            dnsTimes.record(milliseconds: result.phases.dns)
            connectTimes.record(milliseconds: result.phases.connect)
            tlsTimes.record(milliseconds: result.phases.tls)
            firstByteTimes.record(milliseconds: result.phases.timeToFirstByte)
        }

        if let failure = result.failure {
            errorCounts[failure.kind, default: 0] += 1
            if firstErrorMessages[failure.kind] == nil { firstErrorMessages[failure.kind] = failure.message }
            if failure.kind == .check {
                for reason in failure.reasons.isEmpty ? [failure.message] : failure.reasons {
                    checkFailures[reason, default: 0] += 1
                }
            }
            return
        }
        latencies.record(milliseconds: result.latency)
        if let serviceTime = result.serviceTime { serviceTimes.record(milliseconds: serviceTime) }
        if result.isFallback { fallbacks += 1 }
        if let stream = result.stream { addStream(stream, latency: result.latency) }
    }

    /// Stream timings count for successful streams only, like latency.
    private mutating func addStream(_ stream: StreamTimings, latency: Double) {
        streams += 1
        if stream.isTokenCountReported { streamsWithReportedTokens += 1 }
        if let ttft = stream.timeToFirstToken { timesToFirstToken.record(milliseconds: ttft) }
        for gap in stream.interTokenGaps { interTokenGaps.record(milliseconds: gap) }
        if let rate = stream.tokensPerSecond {
            tokenRateSum += rate
            tokenRateCount += 1
        }
        if latency > 0 {
            eventRateSum += Double(stream.eventCount) / (latency / 1000)
            eventRateCount += 1
        }
    }

    /// Computes the run's metrics.
    /// - Parameter wallSeconds: time from the first request being started to the last one ending.
    public func summarize(wallSeconds: Double) -> MetricsSummary {
        let failed = failedCount
        let requests = completed
        return MetricsSummary(
            requests: requests,
            succeeded: requests - failed,
            failed: failed,
            fallbacks: fallbacks,
            durationSeconds: wallSeconds,
            latency: latencies.distribution(),
            phases: PhaseSummary(
                dns: dnsTimes.distribution(),
                connect: connectTimes.distribution(),
                tls: tlsTimes.distribution(),
                timeToFirstByte: firstByteTimes.distribution()
            ),
            errorCounts: errorCounts,
            firstErrorMessages: firstErrorMessages,
            statusCounts: statusCounts,
            truncatedBodies: truncatedBodies,
            streaming: streams == 0 ? nil : StreamSummary(
                streams: streams,
                timeToFirstToken: timesToFirstToken.distribution(),
                interTokenLatency: interTokenGaps.distribution(),
                meanTokensPerSecond: tokenRateCount == 0 ? nil : tokenRateSum / Double(tokenRateCount),
                meanEventsPerSecond: eventRateCount == 0 ? nil : eventRateSum / Double(eventRateCount),
                streamsWithReportedTokens: streamsWithReportedTokens
            ),
            checkFailures: checkFailures,
            serviceTime: serviceTimes.distribution(),
            delayedRequests: delayed,
            latencyHistogram: latencies.count == 0 ? nil : latencies.histogram
        )
    }
}

/// Distributions of the connection phases, in milliseconds, over requests that received a response.
public struct PhaseSummary: Sendable, Equatable {
    public var dns: Distribution?
    public var connect: Distribution?
    public var tls: Distribution?
    public var timeToFirstByte: Distribution?

    public init(dns: Distribution?, connect: Distribution?, tls: Distribution?, timeToFirstByte: Distribution?) {
        self.dns = dns
        self.connect = connect
        self.tls = tls
        self.timeToFirstByte = timeToFirstByte
    }
}

/// The measured result of a run, before budgets are applied.
public struct MetricsSummary: Sendable, Equatable {
    /// Requests that completed (succeeded or failed); requests aborted by an interrupt are not counted.
    public var requests: Int
    public var succeeded: Int
    public var failed: Int
    /// Successful requests answered by the degraded path.
    public var fallbacks: Int
    public var durationSeconds: Double
    /// Latency of successful requests in milliseconds; nil when none succeeded.
    public var latency: Distribution?
    public var phases: PhaseSummary
    public var errorCounts: [ErrorKind: Int]
    /// The first cause seen for each error kind.
    public var firstErrorMessages: [ErrorKind: String]
    public var statusCounts: [Int: Int]
    /// Responses whose body exceeded the in-memory limit, so the body's fallback field was not checked.
    public var truncatedBodies: Int
    /// Token timings over successful streamed answers; nil when no successful response was a stream.
    public var streaming: StreamSummary?
    /// Failed response checks by reason.
    public var checkFailures: [String: Int]
    /// Open loop: milliseconds from the actual send, over successful requests; nil in the closed loop.
    public var serviceTime: Distribution?
    /// Open loop: requests sent after their due time because the in-flight bound was full.
    public var delayedRequests: Int
    /// Latency of successful requests bucketed for storage and for merging runs; nil when none succeeded.
    public var latencyHistogram: LatencyHistogram?

    public init(
        requests: Int, succeeded: Int, failed: Int, fallbacks: Int, durationSeconds: Double,
        latency: Distribution?, phases: PhaseSummary, errorCounts: [ErrorKind: Int],
        firstErrorMessages: [ErrorKind: String], statusCounts: [Int: Int], truncatedBodies: Int,
        streaming: StreamSummary? = nil, checkFailures: [String: Int] = [:], serviceTime: Distribution? = nil,
        delayedRequests: Int = 0, latencyHistogram: LatencyHistogram? = nil
    ) {
        self.requests = requests
        self.succeeded = succeeded
        self.failed = failed
        self.fallbacks = fallbacks
        self.durationSeconds = durationSeconds
        self.latency = latency
        self.phases = phases
        self.errorCounts = errorCounts
        self.firstErrorMessages = firstErrorMessages
        self.statusCounts = statusCounts
        self.truncatedBodies = truncatedBodies
        self.streaming = streaming
        self.checkFailures = checkFailures
        self.serviceTime = serviceTime
        self.delayedRequests = delayedRequests
        self.latencyHistogram = latencyHistogram
    }

    /// failed / requests; 0 when nothing completed.
    public var errorRate: Double { requests == 0 ? 0 : Double(failed) / Double(requests) }
    /// fallbacks / requests; 0 when nothing completed.
    public var fallbackRate: Double { requests == 0 ? 0 : Double(fallbacks) / Double(requests) }
    /// requests / duration in requests per second; 0 for a zero duration.
    public var throughput: Double { durationSeconds > 0 ? Double(requests) / durationSeconds : 0 }
}

/// Token timings over the successful streamed answers of a run.
public struct StreamSummary: Sendable, Equatable {
    public var streams: Int
    /// Time to first token in milliseconds, one value per stream that carried content.
    public var timeToFirstToken: Distribution?
    /// Inter-token latency in milliseconds: every gap between consecutive content events of every stream.
    public var interTokenLatency: Distribution?
    /// Mean over streams of each stream's decode rate, (tokens - 1) / (last content event - first content event).
    public var meanTokensPerSecond: Double?
    /// Mean over streams of events / stream latency.
    public var meanEventsPerSecond: Double?
    /// Streams whose token count came from the stream's usage report; the others counted content events.
    public var streamsWithReportedTokens: Int

    public init(
        streams: Int, timeToFirstToken: Distribution?, interTokenLatency: Distribution?, meanTokensPerSecond: Double?,
        meanEventsPerSecond: Double?, streamsWithReportedTokens: Int
    ) {
        self.streams = streams
        self.timeToFirstToken = timeToFirstToken
        self.interTokenLatency = interTokenLatency
        self.meanTokensPerSecond = meanTokensPerSecond
        self.meanEventsPerSecond = meanEventsPerSecond
        self.streamsWithReportedTokens = streamsWithReportedTokens
    }
}
