import Foundation
import LoadEngine
import Measurement
import XCTest

/// The open loop's schedule, its in-flight bound, warm-up and duration, and the coordinated-omission correction.
final class OpenLoopTests: XCTestCase {
    private static let okResponse = ScriptedServer.response(body: #"{"answer":"ok"}"#)

    private func plan(_ server: ScriptedServer, pacing: Pacing, length: RunLength) -> LoadPlan {
        var plan = LoadPlan(url: server.url + "/chat", bodies: [Array("{}".utf8)], requestCount: length.requests, concurrency: 1, timeoutSeconds: 10)
        plan.pacing = pacing
        plan.length = length
        return plan
    }

    private func run(_ plan: LoadPlan) throws -> (MetricsSummary, EngineOutcome) {
        let outcome = try LoadEngine(plan: plan).run()
        return (outcome.metrics.summarize(wallSeconds: outcome.wallSeconds), outcome)
    }

    func testRequestsFollowTheSchedule() throws {
        let server = try ScriptedServer(.respond(OpenLoopTests.okResponse))
        defer { server.stop() }
        let (summary, outcome) = try run(plan(server, pacing: .open(ratePerSecond: 50, maxInFlight: 10), length: RunLength(requests: 26)))
        XCTAssertEqual(summary.requests, 26)
        // 26 requests at 50/s are due over 25 / 50 = 0.5 s.
        XCTAssertEqual(outcome.wallSeconds, 0.5, accuracy: 0.15)
        XCTAssertEqual(summary.delayedRequests, 0)
        XCTAssertNotNil(summary.serviceTime)
    }

    func testDurationSetsTheScheduleLength() throws {
        let server = try ScriptedServer(.respond(OpenLoopTests.okResponse))
        defer { server.stop() }
        let (summary, _) = try run(plan(server, pacing: .open(ratePerSecond: 40, maxInFlight: 10), length: RunLength(requests: 1, durationSeconds: 0.5)))
        XCTAssertEqual(summary.requests, 20, "0.5 s at 40 requests per second")
    }

    func testStallShowsInOpenLoopPercentiles() throws {
        // Requests due during the 0.6 s stall wait until it ends, so request i due at d sees 0.6 s - (d - stall start).
        let stallStart = Date().addingTimeInterval(0.3)
        let server = try ScriptedServer(.stall(from: stallStart, until: stallStart.addingTimeInterval(0.6), OpenLoopTests.okResponse))
        defer { server.stop() }
        let (open, _) = try run(plan(server, pacing: .open(ratePerSecond: 50, maxInFlight: 100), length: RunLength(requests: 60)))
        let openP95 = try XCTUnwrap(open.latency?.p95)
        // 30 of the 60 requests fall into the stall with waits spread evenly over 0 to 600 ms, so the true p95
        // (rank 57) is the wait of the 4th request into the stall, about 600 - 3 * 20 = 540 ms.
        XCTAssertEqual(openP95, 540, accuracy: 60, "open-loop p95 carries the stall")
        XCTAssertLessThan(try XCTUnwrap(open.serviceTime?.p50), openP95)
    }

    func testQueuedRequestsCountFromTheirDueTime() throws {
        // With one request in flight, requests due during the stall queue behind it: their service time is short,
        // but the latency from their due time carries the stall, as it would for users arriving on schedule.
        let stallStart = Date().addingTimeInterval(0.3)
        let server = try ScriptedServer(.stall(from: stallStart, until: stallStart.addingTimeInterval(0.6), OpenLoopTests.okResponse))
        defer { server.stop() }
        let (summary, _) = try run(plan(server, pacing: .open(ratePerSecond: 50, maxInFlight: 1), length: RunLength(requests: 60)))
        XCTAssertEqual(try XCTUnwrap(summary.latency?.p95), 540, accuracy: 80)
        XCTAssertLessThan(try XCTUnwrap(summary.serviceTime?.p50), 50, "most queued requests were served fast")
        XCTAssertGreaterThan(summary.delayedRequests, 20)
    }

    func testClosedLoopHidesTheStall() throws {
        // The same stall seen by one closed-loop worker: only the request in flight during the stall waits.
        let stallStart = Date().addingTimeInterval(0.3)
        let server = try ScriptedServer(.stall(from: stallStart, until: stallStart.addingTimeInterval(0.6), OpenLoopTests.okResponse))
        defer { server.stop() }
        var closed = plan(server, pacing: .closed, length: RunLength(requests: 1, durationSeconds: 1.2))
        closed.concurrency = 1
        let (summary, _) = try run(closed)
        XCTAssertLessThan(try XCTUnwrap(summary.latency?.p95), 100, "coordinated omission: one slow request among many fast ones")
    }

    func testInFlightBoundDelaysAndCounts() throws {
        let server = try ScriptedServer(.delay(0.2, OpenLoopTests.okResponse))
        defer { server.stop() }
        let (summary, _) = try run(plan(server, pacing: .open(ratePerSecond: 50, maxInFlight: 2), length: RunLength(requests: 10)))
        XCTAssertEqual(summary.requests, 10)
        XCTAssertGreaterThan(summary.delayedRequests, 0)
        XCTAssertGreaterThan(try XCTUnwrap(summary.latency?.max), try XCTUnwrap(summary.serviceTime?.max) + 100, "waiting for a slot counts in the latency")
    }

    func testWarmupIsSentButNotCounted() throws {
        let server = try ScriptedServer(.respond(OpenLoopTests.okResponse))
        defer { server.stop() }
        let (closed, _) = try run(plan(server, pacing: .closed, length: RunLength(requests: 5, warmupRequests: 3)))
        XCTAssertEqual(closed.requests, 5)
        XCTAssertEqual(server.requests.count, 8)

        let openServer = try ScriptedServer(.respond(OpenLoopTests.okResponse))
        defer { openServer.stop() }
        let (open, _) = try run(plan(openServer, pacing: .open(ratePerSecond: 100, maxInFlight: 5), length: RunLength(requests: 4, warmupSeconds: 0.05)))
        XCTAssertEqual(open.requests, 4)
        XCTAssertEqual(openServer.requests.count, 9, "0.05 s of warm-up at 100/s is 5 requests")
    }

    func testClosedLoopDurationStopsStarting() throws {
        let server = try ScriptedServer(.delay(0.05, OpenLoopTests.okResponse))
        defer { server.stop() }
        let (summary, outcome) = try run(plan(server, pacing: .closed, length: RunLength(requests: 1, durationSeconds: 0.4)))
        XCTAssertGreaterThan(summary.requests, 3)
        XCTAssertEqual(outcome.wallSeconds, 0.42, accuracy: 0.15)
    }
}
