import Foundation
import Glibc

/// One-line `key=value` event logs on stderr, e.g.
/// `ts=2026-12-04T20:00:00.123Z level=info event=run.finished target=chat run_id=42 verdict=failed`.
///
/// A caught error is logged once per distinct (event, target, cause). Identical repeats are counted and summarized
/// at most once a minute with `repeats=N`, and `resolve` logs the count when the condition clears.
public final class DaemonLogger: @unchecked Sendable {
    public enum Level: String, Sendable {
        case debug, info, warn, error
    }

    private let lock = NSLock()
    private let sink: @Sendable (String) -> Void
    private let isDebugEnabled: Bool
    private var repeats: [String: (count: Int, lastSummary: Date)] = [:]
    private let formatter: ISO8601DateFormatter = {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter
    }()

    /// Seconds between `repeats=N` summaries of the same suppressed error.
    static let repeatSummaryInterval = 60.0
    /// Distinct errors remembered for repeat counting. Past it the table is cleared, so causes that embed changing
    /// text cannot grow it without bound over months, and the next occurrence of each is logged again.
    static let maximumTrackedErrors = 1000

    /// - Parameter sink: receives each finished line without its newline; defaults to stderr.
    public init(isDebugEnabled: Bool = false, sink: (@Sendable (String) -> Void)? = nil) {
        self.isDebugEnabled = isDebugEnabled
        self.sink = sink ?? { line in
            let bytes = Array((line + "\n").utf8)
            _ = bytes.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
        }
    }

    public func log(_ level: Level, _ event: String, _ fields: [(String, Any?)] = []) {
        if level == .debug && !isDebugEnabled { return }
        var line = "ts=\(timestamp()) level=\(level.rawValue) event=\(event)"
        for (key, value) in fields {
            guard let value else { continue }
            line += " \(key)=\(DaemonLogger.format(value))"
        }
        sink(line)
    }

    /// Logs a line that already contains `event=... key=value` fields, such as the HTTP server's error lines.
    public func logPreformatted(_ level: Level, _ fields: String) {
        if level == .debug && !isDebugEnabled { return }
        sink("ts=\(timestamp()) level=\(level.rawValue) \(fields)")
    }

    public func info(_ event: String, _ fields: [(String, Any?)] = []) { log(.info, event, fields) }
    public func debug(_ event: String, _ fields: [(String, Any?)] = []) { log(.debug, event, fields) }
    public func warn(_ event: String, _ fields: [(String, Any?)] = []) { log(.warn, event, fields) }

    /// Logs a caught error the first time it is seen; repeats are counted and summarized once a minute.
    /// - Parameter key: what makes two errors the same, beyond event and cause (usually the target).
    public func error(_ event: String, cause: String, key: String = "", _ fields: [(String, Any?)] = []) {
        let identity = "\(event)|\(key)|\(cause)"
        let now = Date()
        lock.lock()
        let previous = repeats[identity]
        var shouldLog = false
        var count = 0
        if let previous {
            count = previous.count + 1
            if now.timeIntervalSince(previous.lastSummary) >= DaemonLogger.repeatSummaryInterval {
                shouldLog = true
                repeats[identity] = (count: count, lastSummary: now)
            } else {
                repeats[identity] = (count: count, lastSummary: previous.lastSummary)
            }
        } else {
            shouldLog = true
            if repeats.count >= DaemonLogger.maximumTrackedErrors { repeats.removeAll() }
            repeats[identity] = (count: 1, lastSummary: now)
        }
        lock.unlock()
        guard shouldLog else { return }
        var all = fields
        all.append(("cause", cause))
        if count > 1 { all.append(("repeats", count)) }
        log(.error, event, all)
    }

    /// Forgets repeated errors of `event` for `key`, logging how often they occurred when that was more than once.
    public func resolve(_ event: String, key: String = "", _ fields: [(String, Any?)] = []) {
        lock.lock()
        let matching = repeats.filter { $0.key.hasPrefix("\(event)|\(key)|") }
        for identity in matching.keys { repeats.removeValue(forKey: identity) }
        lock.unlock()
        let total = matching.values.reduce(0) { $0 + $1.count }
        if total > 1 {
            log(.info, "\(event).resolved", fields + [("repeats", total)])
        }
    }

    private func timestamp() -> String {
        lock.lock()
        defer { lock.unlock() }
        return formatter.string(from: Date())
    }

    /// Quotes values that contain spaces, quotes, `=` or control characters, escaping as JSON strings do.
    static func format(_ value: Any) -> String {
        let text: String
        switch value {
        case let number as Double: text = String(format: "%.3f", number).replacingOccurrences(of: ".000", with: "")
        default: text = "\(value)"
        }
        let needsQuotes = text.isEmpty || text.unicodeScalars.contains { $0 == " " || $0 == "\"" || $0 == "=" || $0.value < 0x20 || $0 == "\\" }
        guard needsQuotes else { return text }
        var escaped = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": escaped += "\\\""
            case "\\": escaped += "\\\\"
            case "\n": escaped += "\\n"
            case "\r": escaped += "\\r"
            case "\t": escaped += "\\t"
            default:
                if scalar.value < 0x20 {
                    escaped += String(format: "\\u%04x", scalar.value)
                } else {
                    escaped.unicodeScalars.append(scalar)
                }
            }
        }
        return escaped + "\""
    }
}
