import Configuration
import Foundation
import Storage

/// Decides which alert, if any, a finished run triggers, from the target's failing streak.
///
/// A run with status `failed` or `error` starts or continues a failing streak; `passed` ends it. The first failing
/// run of a streak sends `failure`. While the streak lasts, `failure` is sent again only when `repeatSeconds` have
/// passed since the last alert. The first passing run after a streak sends `recovery`. Interrupted runs change
/// nothing. Events not configured are never sent, but the streak is still tracked.
public struct AlertPolicy: Sendable, Equatable {
    public var events: Set<AlertEvent>
    public var repeatSeconds: Double?

    public init(events: Set<AlertEvent>, repeatSeconds: Double?) {
        self.events = events
        self.repeatSeconds = repeatSeconds
    }

    /// The policy's memory of one target between runs.
    public struct TargetState: Sendable, Equatable {
        /// nil until the target's first run with a verdict.
        public var isFailing: Bool?
        /// When the last failure alert of the current streak was sent.
        public var lastFailureAlertAt: Date?

        public init(isFailing: Bool? = nil, lastFailureAlertAt: Date? = nil) {
            self.isFailing = isFailing
            self.lastFailureAlertAt = lastFailureAlertAt
        }
    }

    /// Returns the alert to send for a run that ended with `status` at `now`, and updates `state`.
    public func decide(status: RunStatus, at now: Date, state: inout TargetState) -> AlertEvent? {
        switch status {
        case .passed:
            let wasFailing = state.isFailing == true
            state.isFailing = false
            state.lastFailureAlertAt = nil
            return wasFailing && events.contains(.recovery) ? .recovery : nil
        case .failed, .error:
            let isNewStreak = state.isFailing != true
            state.isFailing = true
            guard events.contains(.failure) else { return nil }
            if isNewStreak {
                state.lastFailureAlertAt = now
                return .failure
            }
            guard let repeatSeconds, let last = state.lastFailureAlertAt, now.timeIntervalSince(last) >= repeatSeconds else {
                return nil
            }
            state.lastFailureAlertAt = now
            return .failure
        case .running, .interrupted:
            return nil
        }
    }
}
