import Configuration
@testable import Daemon
import Foundation
import HTTPServer
import Measurement
import Reporting
import Scheduling
import SmokeRunner
import Storage

/// A fixed `DaemonStatusSource` for tests that serve `StatusAPI` without a scheduler.
final class FixedStatusSource: DaemonStatusSource, @unchecked Sendable {
    let targets: [TargetSettings]
    let nextFireDates: [String: Date] = [:]
    let isSchedulerHealthy = true
    let startedAt = Date()
    let statusToken: String? = nil

    init(targetNames: [String]) throws {
        targets = try targetNames.map { name in
            var options = SmokeOptions()
            options.targetName = name
            return TargetSettings(name: name, schedule: try Schedule.parse("every 1m"), scheduleText: "every 1m",
                                  timeZone: TimeZone(identifier: "UTC")!, jitterSeconds: 0, options: options, apiKeyEnv: nil)
        }
    }
}

/// A run store in a temporary folder, served by `StatusAPI` on 127.0.0.1 at a port the kernel picks.
final class StatusAPIFixture {
    let directory: URL
    let store: RunStore
    let source: FixedStatusSource
    let server: HTTPServer

    init(targetNames: [String]) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("daemon-streaming-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        store = try RunStore(path: directory.appendingPathComponent("runs.db").path)
        source = try FixedStatusSource(targetNames: targetNames)
        let api = StatusAPI(store: store, source: source, version: "test")
        server = HTTPServer(configuration: HTTPServer.Configuration(host: "127.0.0.1", port: 0)) { api.handle($0) }
        try server.start()
    }

    var port: Int { server.port }

    /// Stores `report` as a finished run of its target and returns the run's id.
    @discardableResult
    func store(_ report: SmokeReport, target: String) throws -> Int64 {
        try store.insertCompletedRun(target: target, startedAt: report.startedAt,
                                     outcome: RunRecording.outcome(of: report, finishedAt: report.startedAt.addingTimeInterval(2)))
    }

    func stop() {
        server.stop()
        store.close()
        try? FileManager.default.removeItem(at: directory)
    }
}

/// Reports built by hand, so every streaming value is known exactly.
enum StreamingReports {
    /// Time to first token samples in milliseconds: nearest-rank p50 120, p95 and p99 300.
    static let timesToFirstToken: [Double] = [100, 120, 300]
    /// Inter-token gaps in milliseconds: p50 20, p95 and p99 50.
    static let interTokenGaps: [Double] = [10, 20, 30, 50]
    static let tokensPerSecond = 42.5

    /// Builds a passing report of three requests, streamed when `streaming` is given.
    static func report(streaming: StreamSummary?, startedAt: Date = Date()) -> SmokeReport {
        let setup = RunSetup(url: "http://127.0.0.1:9", method: "POST", requests: 3, concurrency: 1, timeoutSeconds: 5,
                             simulate: [], headers: [], promptSource: "built-in", promptCount: 3,
                             fallbackHeader: "X-Fallback", fallbackField: "fallback", hasAPIKey: false)
        let summary = MetricsSummary(
            requests: 3, succeeded: 3, failed: 0, fallbacks: 0, durationSeconds: 1.5,
            latency: Distribution([200, 250, 400]),
            phases: PhaseSummary(dns: nil, connect: nil, tls: nil, timeToFirstByte: nil),
            errorCounts: [:], firstErrorMessages: [:], statusCounts: [200: 3], truncatedBodies: 0,
            streaming: streaming
        )
        let budgets = BudgetResult.evaluate(Budget.defaults, against: summary)
        return SmokeReport(setup: setup, summary: summary, budgets: budgets, startedAt: startedAt,
                           wasInterrupted: false, abortedInFlight: 0, maxBodyBytes: 65_536)
    }

    /// Builds a stream summary with the sample values above.
    static func fullStreamSummary() -> StreamSummary {
        StreamSummary(streams: 3, timeToFirstToken: Distribution(timesToFirstToken), interTokenLatency: Distribution(interTokenGaps),
                      meanTokensPerSecond: tokensPerSecond, meanEventsPerSecond: 40, streamsWithReportedTokens: 0)
    }
}
