import Foundation
import Scheduling
import SmokeRunner

/// A validated daemon configuration, built by `ConfigurationLoader`.
///
/// Secrets (the status token and the API keys) are read from the environment. Printing, dumping or describing a
/// value of this type shows `<redacted>` in their place.
public struct DaemonConfiguration: Sendable {
    /// The configuration file's path as given to the loader.
    public var sourcePath: String
    public var storage: StorageSettings
    public var server: ServerSettings
    /// Nil when the file has no `alert` section, so no alert command runs.
    public var alert: AlertSettings?
    /// At least one, with unique names, in file order.
    public var targets: [TargetSettings]

    public init(sourcePath: String, storage: StorageSettings, server: ServerSettings, alert: AlertSettings?, targets: [TargetSettings]) {
        self.sourcePath = sourcePath
        self.storage = storage
        self.server = server
        self.alert = alert
        self.targets = targets
    }
}

/// The `storage` section: where run results go and how long they stay.
public struct StorageSettings: Sendable, Equatable {
    /// Absolute path of the SQLite file. A relative `path` in the file is resolved against the file's folder.
    public var path: String
    /// Runs older than this many seconds are pruned; greater than 0.
    public var retentionSeconds: Double
    /// Seconds between two pruning passes; greater than 0.
    public var pruneIntervalSeconds: Double

    public static let defaultFileName = "loadsmoke.db"
    public static let defaultRetentionSeconds: Double = 30 * 86_400
    public static let defaultPruneIntervalSeconds: Double = 3_600

    public init(path: String, retentionSeconds: Double = defaultRetentionSeconds, pruneIntervalSeconds: Double = defaultPruneIntervalSeconds) {
        self.path = path
        self.retentionSeconds = retentionSeconds
        self.pruneIntervalSeconds = pruneIntervalSeconds
    }
}

/// The `server` section: the status endpoint's address and optional bearer token.
public struct ServerSettings: Sendable, Equatable {
    /// An IPv4 address, an IPv6 address without brackets (such as `::1`) or a host name.
    public var host: String
    /// 0 to 65535; 0 picks a free port.
    public var port: Int
    /// Name of the environment variable that contains the token, from `token_env`.
    public var tokenEnv: String?
    /// The bearer token that requests other than `/healthz` must send; nil means no authentication. A secret.
    public var token: String?

    public static let defaultHost = "127.0.0.1"
    public static let defaultPort = 9790

    public init(host: String = defaultHost, port: Int = defaultPort, tokenEnv: String? = nil, token: String? = nil) {
        self.host = host
        self.port = port
        self.tokenEnv = tokenEnv
        self.token = token
    }

    /// Whether `host` is a loopback address or `localhost`, so only local clients can connect.
    public var isLoopback: Bool {
        ListenAddress.isLoopback(host)
    }
}

/// An event that can trigger the alert command.
public enum AlertEvent: String, Sendable, CaseIterable, Hashable {
    /// A target's run failed: a budget was exceeded or the run could not be carried out.
    case failure
    /// A target's run passed after a failure.
    case recovery
}

/// The `alert` section: a command run without a shell when a target fails or recovers.
public struct AlertSettings: Sendable, Equatable {
    /// argv: non-empty, the first element an absolute path or a command name to look up on `PATH`.
    public var command: [String]
    /// Seconds the command may run before it is stopped; greater than 0.
    public var timeoutSeconds: Double
    /// Non-empty.
    public var events: Set<AlertEvent>
    /// While a target stays failing, seconds between repeated failure alerts; nil alerts once per failing streak.
    public var repeatSeconds: Double?

    public static let defaultTimeoutSeconds: Double = 10

    public init(command: [String], timeoutSeconds: Double = defaultTimeoutSeconds, events: Set<AlertEvent> = [.failure], repeatSeconds: Double? = nil) {
        self.command = command
        self.timeoutSeconds = timeoutSeconds
        self.events = events
        self.repeatSeconds = repeatSeconds
    }
}

/// One entry of `targets`: an API to smoke-test on a schedule.
public struct TargetSettings: Sendable {
    /// Unique within the file; matches `[A-Za-z0-9._-]+`, so it is safe in logs, URLs and Prometheus labels.
    public var name: String
    public var schedule: Schedule
    /// The `schedule` text as written in the file.
    public var scheduleText: String
    /// Zone whose wall clock a cron schedule follows, from `timezone`; UTC by default.
    public var timeZone: TimeZone
    /// Upper bound of the random delay before each run, in seconds, from `jitter`; 0 by default.
    public var jitterSeconds: Double
    /// The run itself, validated with `SmokeOptions.validate()`. `targetName` is `name`, `promptsFile` is absolute,
    /// `apiKey` is the value of the `apiKeyEnv` variable, and `bodyTemplate` contains the `body_file` contents read at
    /// load time, with `bodyTemplateSource` the file's absolute path, or `body` for an inline template.
    public var options: SmokeOptions
    /// Name of the environment variable that contains the API key, from `api_key_env`.
    public var apiKeyEnv: String?

    public init(name: String, schedule: Schedule, scheduleText: String, timeZone: TimeZone, jitterSeconds: Double, options: SmokeOptions, apiKeyEnv: String?) {
        self.name = name
        self.schedule = schedule
        self.scheduleText = scheduleText
        self.timeZone = timeZone
        self.jitterSeconds = jitterSeconds
        self.options = options
        self.apiKeyEnv = apiKeyEnv
    }
}

// The mirrors below replace the secrets, so `print`, `dump` and string interpolation never show them.

extension ServerSettings: CustomReflectable {
    public var customMirror: Mirror {
        Mirror(self, children: [
            "host": host,
            "port": port,
            "tokenEnv": tokenEnv as Any,
            "token": token == nil ? "nil" : "<redacted>",
        ])
    }
}

extension TargetSettings: CustomReflectable {
    public var customMirror: Mirror {
        var redactedOptions = options
        if redactedOptions.apiKey != nil { redactedOptions.apiKey = "<redacted>" }
        redactedOptions.headers = redactedOptions.headers.map { header in
            (name: header.name, value: HeaderLine.isSensitive(header.name) ? "<redacted>" : header.value)
        }
        return Mirror(self, children: [
            "name": name,
            "scheduleText": scheduleText,
            "timeZone": timeZone.identifier,
            "jitterSeconds": jitterSeconds,
            "options": redactedOptions,
            "apiKeyEnv": apiKeyEnv as Any,
        ])
    }
}
