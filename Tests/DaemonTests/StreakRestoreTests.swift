@testable import Daemon
import Foundation
import Storage
import XCTest

/// The alert streak and /status state look past interrupted runs to the newest run with a verdict.
final class StreakRestoreTests: XCTestCase {
    private var folder: URL!
    private var store: RunStore!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("loadsmoke-streak-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        store = try RunStore(path: folder.appendingPathComponent("runs.db").path)
    }

    override func tearDown() {
        store.close()
        try? FileManager.default.removeItem(at: folder)
    }

    private func insert(_ status: RunStatus, secondsAgo: Double) throws {
        let started = Date().addingTimeInterval(-secondsAgo)
        _ = try store.insertCompletedRun(target: "chat", startedAt: started, outcome: RunOutcome(status: status, finishedAt: started.addingTimeInterval(1)))
    }

    func testLatestVerdictSkipsInterruptedRuns() throws {
        try insert(.failed, secondsAgo: 30)
        try insert(.interrupted, secondsAgo: 20)
        XCTAssertEqual(try store.latestVerdictRun(target: "chat")?.status, .failed)
    }

    func testLatestVerdictIsNilWithoutOne() throws {
        try insert(.interrupted, secondsAgo: 20)
        XCTAssertNil(try store.latestVerdictRun(target: "chat"))
        XCTAssertNil(try store.latestVerdictRun(target: "other"))
    }

    func testRecoveryFollowsInterruptedFailingStreak() throws {
        try insert(.failed, secondsAgo: 30)
        try insert(.interrupted, secondsAgo: 20)
        let policy = AlertPolicy(events: [.failure, .recovery], repeatSeconds: nil)
        let latest = try XCTUnwrap(try store.latestVerdictRun(target: "chat"))
        var state = AlertPolicy.TargetState(isFailing: latest.status != .passed, lastFailureAlertAt: latest.finishedAt)
        XCTAssertNil(policy.decide(status: .failed, at: Date(), state: &state), "the streak goes on without a second alert")
        XCTAssertEqual(policy.decide(status: .passed, at: Date(), state: &state), .recovery)
    }
}
