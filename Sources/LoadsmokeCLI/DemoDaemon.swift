import Configuration
import Daemon
import Foundation
import Scheduling
import SmokeRunner

/// The daemon part of `loadsmoke demo`: embedded defaults, two targets against the in-process demo API.
enum DemoDaemon {
    /// Events the demo prints; the rest of the daemon's log would drown the verdicts.
    static let shownEvents = ["daemon.started", "run.finished", "run.error", "run.skipped", "alert.", "store.", "daemon.stopped"]

    static func run(demoPort: Int, arguments: ParsedArguments, console: Console) -> Int32 {
        let databasePath = arguments.value("db") ?? FileManager.default.currentDirectoryPath + "/loadsmoke-demo.db"
        var server = ServerSettings()
        if let listen = arguments.value("listen") {
            guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]), (0...65535).contains(port) else {
                console.error(UsageError(message: "invalid value \"\(listen)\" for --listen: expected HOST:PORT such as 127.0.0.1:9790", command: "demo").description)
                return ExitCode.usage
            }
            server.host = String(listen[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
            server.port = port
        }

        let configuration = DaemonConfiguration(
            sourcePath: "(built-in demo)",
            storage: StorageSettings(path: databasePath),
            server: server,
            alert: nil,
            targets: [target(name: "demo-chat", port: demoPort, simulate: []), target(name: "demo-outage", port: demoPort, simulate: ["pinecone"])]
        )
        let logger = DaemonLogger { line in
            guard shownEvents.contains(where: { line.contains(" event=\($0)") }) else { return }
            console.error(line)
        }

        var daemon: Daemon
        do {
            daemon = try Daemon(configuration: configuration, configurationPath: nil, environment: [:], logger: logger)
            daemon.shutdownGraceSeconds = 3
            do {
                try daemon.start()
            } catch where arguments.value("listen") == nil {
                // The default port is taken (another demo or daemon): take any free loopback port.
                daemon.stop()
                var fallback = configuration
                fallback.server.port = 0
                daemon = try Daemon(configuration: fallback, configurationPath: nil, environment: [:], logger: logger)
                daemon.shutdownGraceSeconds = 3
                try daemon.start()
            }
        } catch {
            console.error("error: could not start the demo daemon: \(error)")
            return ExitCode.failure
        }
        console.error("""

        demo daemon running: checks demo-chat and demo-outage every 10 s, stores runs in \(databasePath)
          status   \(daemon.statusURL)/status
          history  \(daemon.statusURL)/runs?limit=5
          trend    \(daemon.statusURL)/trend?target=demo-chat&metric=p95&bucket=1m&since=1h
          metrics  \(daemon.statusURL)/metrics
        press Ctrl+C to stop

        """)
        return daemon.runUntilSignalled()
    }

    private static func target(name: String, port: Int, simulate: [String]) -> TargetSettings {
        var options = SmokeOptions()
        options.url = "http://127.0.0.1:\(port)"
        options.requests = 20
        options.concurrency = 5
        options.simulate = simulate
        options.targetName = name
        if !simulate.isEmpty {
            options.budgets = options.budgets.map { $0.metric == .fallbackRate ? .init(metric: .fallbackRate, limit: 1) : $0 }
        }
        return TargetSettings(name: name, schedule: .interval(seconds: 10), scheduleText: "every 10s", timeZone: TimeZone(identifier: "UTC")!, jitterSeconds: 0, options: options, apiKeyEnv: nil)
    }
}
