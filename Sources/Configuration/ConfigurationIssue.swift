/// One problem in a configuration file, located by file, line and key path.
public struct ConfigurationIssue: Sendable, Equatable, CustomStringConvertible {
    /// The configuration file's path as given to the loader.
    public var file: String
    /// 1-based line, or nil when the problem concerns the whole file (missing, unreadable, empty).
    public var line: Int?
    /// Key path of the problem, such as `targets[chat-prod].schedule` or `targets[0].budgets.p95`. It is empty for the
    /// file as a whole and for YAML syntax errors. A target is named by its `name` when that name is valid, else by index.
    public var keyPath: String
    /// Problem and accepted values. It never contains a secret's value.
    public var message: String

    public init(file: String, line: Int?, keyPath: String, message: String) {
        self.file = file
        self.line = line
        self.keyPath = keyPath
        self.message = message
    }

    /// `FILE:LINE: KEY: MESSAGE`, leaving out the line and key when they are absent, such as
    /// `loadsmoke.yaml:14: targets[chat-prod].schedule: invalid cron expression "61 * * * *": ...`.
    public var description: String {
        var text = file
        if let line { text += ":\(line)" }
        if !keyPath.isEmpty { text += ": \(keyPath)" }
        return text + ": " + message
    }
}

/// Every problem found in a configuration file, sorted by line.
public struct ConfigurationErrors: Error, Sendable, CustomStringConvertible {
    /// Non-empty. Issues without a line come first, then the rest by line; issues on one line keep the order of
    /// validation (storage, server, alert, targets).
    public var issues: [ConfigurationIssue]

    public init(issues: [ConfigurationIssue]) {
        self.issues = issues
    }

    /// One issue per line.
    public var description: String {
        issues.map(\.description).joined(separator: "\n")
    }
}
