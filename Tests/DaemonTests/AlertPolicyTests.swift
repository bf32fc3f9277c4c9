import Configuration
import Daemon
import Foundation
import Storage
import XCTest

final class AlertPolicyTests: XCTestCase {
    private let start = Date(timeIntervalSince1970: 1_800_000_000)
    private let bothEvents = AlertPolicy(events: [.failure, .recovery], repeatSeconds: nil)

    // MARK: - Failure

    func testFirstFailureAlerts() {
        var state = AlertPolicy.TargetState()

        let event = bothEvents.decide(status: .failed, at: start, state: &state)

        XCTAssertEqual(event, .failure)
        XCTAssertEqual(state.isFailing, true)
        XCTAssertEqual(state.lastFailureAlertAt, start)
    }

    func testErrorRunCountsAsFailure() {
        var state = AlertPolicy.TargetState()

        XCTAssertEqual(bothEvents.decide(status: .error, at: start, state: &state), .failure)
        XCTAssertNil(bothEvents.decide(status: .failed, at: start.addingTimeInterval(60), state: &state))
    }

    func testFailureAfterPassingAlerts() {
        var state = AlertPolicy.TargetState()
        XCTAssertNil(bothEvents.decide(status: .passed, at: start, state: &state))

        XCTAssertEqual(bothEvents.decide(status: .failed, at: start.addingTimeInterval(60), state: &state), .failure)
    }

    func testStreakDoesNotRealert() {
        var state = AlertPolicy.TargetState()
        XCTAssertEqual(bothEvents.decide(status: .failed, at: start, state: &state), .failure)

        for hour in 1...5 {
            let event = bothEvents.decide(status: .failed, at: start.addingTimeInterval(Double(hour) * 3600), state: &state)
            XCTAssertNil(event, "run \(hour) hours into the streak")
        }
        XCTAssertEqual(state.lastFailureAlertAt, start)
    }

    func testRepeatAfterInterval() {
        let policy = AlertPolicy(events: [.failure, .recovery], repeatSeconds: 60)
        var state = AlertPolicy.TargetState()

        XCTAssertEqual(policy.decide(status: .failed, at: start, state: &state), .failure)
        XCTAssertNil(policy.decide(status: .failed, at: start.addingTimeInterval(59), state: &state))
        XCTAssertEqual(policy.decide(status: .failed, at: start.addingTimeInterval(60), state: &state), .failure)
        XCTAssertNil(policy.decide(status: .failed, at: start.addingTimeInterval(100), state: &state))
        XCTAssertEqual(policy.decide(status: .error, at: start.addingTimeInterval(120), state: &state), .failure)
        XCTAssertEqual(state.lastFailureAlertAt, start.addingTimeInterval(120))
    }

    func testNewStreakAlertsWithinRepeatInterval() {
        let policy = AlertPolicy(events: [.failure, .recovery], repeatSeconds: 3600)
        var state = AlertPolicy.TargetState()
        XCTAssertEqual(policy.decide(status: .failed, at: start, state: &state), .failure)
        XCTAssertEqual(policy.decide(status: .passed, at: start.addingTimeInterval(10), state: &state), .recovery)

        XCTAssertEqual(policy.decide(status: .failed, at: start.addingTimeInterval(20), state: &state), .failure)
    }

    // MARK: - Recovery

    func testRecoveryAfterFailingStreak() {
        var state = AlertPolicy.TargetState()
        XCTAssertEqual(bothEvents.decide(status: .failed, at: start, state: &state), .failure)
        XCTAssertNil(bothEvents.decide(status: .failed, at: start.addingTimeInterval(60), state: &state))

        let event = bothEvents.decide(status: .passed, at: start.addingTimeInterval(120), state: &state)

        XCTAssertEqual(event, .recovery)
        XCTAssertEqual(state.isFailing, false)
        XCTAssertNil(state.lastFailureAlertAt)
    }

    func testRecoveryOnlyOnce() {
        var state = AlertPolicy.TargetState()
        XCTAssertEqual(bothEvents.decide(status: .failed, at: start, state: &state), .failure)
        XCTAssertEqual(bothEvents.decide(status: .passed, at: start.addingTimeInterval(60), state: &state), .recovery)

        XCTAssertNil(bothEvents.decide(status: .passed, at: start.addingTimeInterval(120), state: &state))
    }

    func testFirstPassNeverRecovers() {
        var state = AlertPolicy.TargetState()

        XCTAssertNil(bothEvents.decide(status: .passed, at: start, state: &state))
        XCTAssertEqual(state.isFailing, false)
    }

    // MARK: - Interrupted and running

    func testInterruptedChangesNothing() {
        for initial in [
            AlertPolicy.TargetState(),
            AlertPolicy.TargetState(isFailing: false),
            AlertPolicy.TargetState(isFailing: true, lastFailureAlertAt: start),
        ] {
            for status in [RunStatus.interrupted, .running] {
                var state = initial

                let event = bothEvents.decide(status: status, at: start.addingTimeInterval(60), state: &state)

                XCTAssertNil(event, "\(status) from \(initial)")
                XCTAssertEqual(state, initial, "\(status) from \(initial)")
            }
        }
    }

    func testInterruptedRunKeepsStreak() {
        var state = AlertPolicy.TargetState()
        XCTAssertEqual(bothEvents.decide(status: .failed, at: start, state: &state), .failure)
        XCTAssertNil(bothEvents.decide(status: .interrupted, at: start.addingTimeInterval(60), state: &state))

        XCTAssertNil(bothEvents.decide(status: .failed, at: start.addingTimeInterval(120), state: &state))
        XCTAssertEqual(bothEvents.decide(status: .passed, at: start.addingTimeInterval(180), state: &state), .recovery)
    }

    // MARK: - Configured events

    func testFailureNotSentWhenNotConfigured() {
        let policy = AlertPolicy(events: [.recovery], repeatSeconds: 60)
        var state = AlertPolicy.TargetState()

        XCTAssertNil(policy.decide(status: .failed, at: start, state: &state))
        XCTAssertNil(policy.decide(status: .failed, at: start.addingTimeInterval(120), state: &state))
        XCTAssertEqual(state.isFailing, true)
        XCTAssertEqual(policy.decide(status: .passed, at: start.addingTimeInterval(180), state: &state), .recovery)
    }

    func testRecoveryNotSentWhenNotConfigured() {
        let policy = AlertPolicy(events: [.failure], repeatSeconds: nil)
        var state = AlertPolicy.TargetState()
        XCTAssertEqual(policy.decide(status: .failed, at: start, state: &state), .failure)

        XCTAssertNil(policy.decide(status: .passed, at: start.addingTimeInterval(60), state: &state))
        XCTAssertEqual(state.isFailing, false)
        XCTAssertEqual(policy.decide(status: .failed, at: start.addingTimeInterval(120), state: &state), .failure)
    }

    func testNoEventsConfiguredSendsNothing() {
        let policy = AlertPolicy(events: [], repeatSeconds: 1)
        var state = AlertPolicy.TargetState()

        let events = [RunStatus.failed, .failed, .passed, .error, .passed].enumerated().map { index, status in
            policy.decide(status: status, at: start.addingTimeInterval(Double(index) * 60), state: &state)
        }

        XCTAssertEqual(events, [nil, nil, nil, nil, nil])
    }
}
