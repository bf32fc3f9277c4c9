import Configuration
import Dispatch
import Foundation
import HTTPServer
import LoadEngine
import Storage
import Glibc

/// The smoke-monitoring daemon: runs every target's cycles on schedule, stores them, serves the status endpoint,
/// prunes old runs and runs the alert command.
///
/// Services start in dependency order (store, status server, pruner, scheduler) and stop in reverse. `stop` lets
/// running cycles finish within the grace period, then stores them as `interrupted`, waits for alert commands
/// (each bounded by its own timeout) and closes the database.
public final class Daemon: DaemonStatusSource, @unchecked Sendable {
    public static let version = LoadEngine.version

    private let lock = NSLock()
    private var configuration: DaemonConfiguration
    private let configurationPath: String?
    private let environment: [String: String]
    private let logger: DaemonLogger
    private let store: RunStore
    private var server: HTTPServer?
    private var scheduler: Scheduler?
    private var pruner: Pruner?
    private var alerts: AlertDispatcher?
    public let startedAt = Date()

    /// Seconds a running cycle gets to finish on shutdown before it is asked to stop.
    public var shutdownGraceSeconds = 10.0
    /// Seconds alert commands still running at shutdown get before the daemon exits without them.
    public var alertWaitSeconds = 15.0

    /// Opens the run store; nothing runs until `start()`.
    /// - Parameter configurationPath: the file SIGHUP reloads; nil for a configuration built in code.
    public init(configuration: DaemonConfiguration, configurationPath: String?, environment: [String: String], logger: DaemonLogger) throws {
        self.configuration = configuration
        self.configurationPath = configurationPath
        self.environment = environment
        self.logger = logger
        store = try RunStore(path: configuration.storage.path)
    }

    /// `http://HOST:PORT` of the status endpoint, with the bound port.
    public var statusURL: String {
        let host = configuration.server.host.contains(":") ? "[\(configuration.server.host)]" : configuration.server.host
        return "http://\(host):\(server?.port ?? configuration.server.port)"
    }

    public func start() throws {
        let recovered = try store.markUnfinishedRunsInterrupted(at: Date())
        logger.info("daemon.starting", [
            ("version", Daemon.version), ("config", configurationPath), ("database", configuration.storage.path),
            ("targets", configuration.targets.count), ("recovered_interrupted_runs", recovered),
        ])

        let api = StatusAPI(store: store, source: self, version: Daemon.version)
        let logger = self.logger
        let server = HTTPServer(
            configuration: HTTPServer.Configuration(
                host: configuration.server.host,
                port: configuration.server.port,
                logger: { line in logger.logPreformatted(.warn, line) }
            ),
            handler: { request in api.handle(request) }
        )
        try server.start()
        self.server = server
        logger.info("server.listening", [("url", statusURL), ("auth", configuration.server.token == nil ? "none" : "bearer")])
        if configuration.server.token == nil, !configuration.server.isLoopback {
            logger.warn("server.unauthenticated", [("url", statusURL), ("fix", "set server.token_env so /status, /runs, /trend and /metrics need a bearer token")])
        }

        let alerts = AlertDispatcher(settings: configuration.alert, store: store, logger: logger, statusURL: statusURL)
        // An interrupted run has no verdict on the streak, so the state comes from the newest run with a verdict.
        for target in configuration.targets {
            alerts.restoreState(target: target.name, latest: try store.latestVerdictRun(target: target.name))
        }
        self.alerts = alerts

        let pruner = Pruner(store: store, retentionSeconds: configuration.storage.retentionSeconds, intervalSeconds: configuration.storage.pruneIntervalSeconds, logger: logger)
        pruner.start()
        self.pruner = pruner

        let cycles = CycleRunner(store: store, logger: logger, alerts: alerts)
        let scheduler = Scheduler(targets: configuration.targets, logger: logger) { target, stop in cycles.run(target, stop: stop) }
        scheduler.start()
        self.scheduler = scheduler
        for (name, date) in scheduler.nextFireDates().sorted(by: { $0.key < $1.key }) {
            logger.info("target.scheduled", [("target", name), ("next_run_at", RunJSON.timestamp(date))])
        }
        logger.info("daemon.started", [("status_url", statusURL)])
    }

    /// Stops every service in reverse start order and closes the database. Returns whether the shutdown was clean
    /// (every cycle ended and the database closed).
    @discardableResult
    public func stop() -> Bool {
        logger.info("daemon.stopping", [("grace_s", shutdownGraceSeconds)])
        var isClean = true
        if let scheduler {
            isClean = scheduler.stop(graceSeconds: shutdownGraceSeconds, stopSeconds: SmokeRunGrace.engineSeconds + 3) && isClean
        }
        if let alerts, !alerts.waitForAlerts(seconds: alertWaitSeconds) {
            logger.warn("daemon.alerts_unfinished", [("wait_s", alertWaitSeconds)])
        }
        pruner?.stop(waitSeconds: 10)
        server?.stop()
        store.close()
        logger.info("daemon.stopped", [("clean", isClean)])
        return isClean
    }

    /// Reads the configuration file again and applies targets, alert and retention settings. An invalid file is
    /// logged and the running configuration stays. Storage path and listen address need a restart.
    public func reload() {
        guard let configurationPath else { return }
        let new: DaemonConfiguration
        do {
            new = try ConfigurationLoader.load(path: configurationPath, environment: environment)
        } catch let errors as ConfigurationErrors {
            for issue in errors.issues {
                logger.log(.error, "config.reload_failed", [("config", configurationPath), ("issue", issue.description)])
            }
            logger.warn("config.kept", [("config", configurationPath), ("reason", "the new file is invalid")])
            return
        } catch {
            logger.log(.error, "config.reload_failed", [("config", configurationPath), ("cause", "\(error)")])
            return
        }

        lock.lock()
        let old = configuration
        if new.storage.path != old.storage.path {
            logger.warn("config.restart_required", [("key", "storage.path"), ("reason", "the database stays open until restart")])
        }
        if new.server.host != old.server.host || new.server.port != old.server.port {
            logger.warn("config.restart_required", [("key", "server.listen"), ("reason", "the listener stays until restart")])
        }
        var applied = new
        applied.storage.path = old.storage.path
        applied.server.host = old.server.host
        applied.server.port = old.server.port
        configuration = applied
        lock.unlock()

        alerts?.update(settings: applied.alert)
        pruner?.update(retentionSeconds: applied.storage.retentionSeconds, intervalSeconds: applied.storage.pruneIntervalSeconds)
        scheduler?.reload(applied.targets)
        logger.info("config.reloaded", [("config", configurationPath), ("targets", applied.targets.count)])
    }

    // MARK: - DaemonStatusSource

    public var targets: [TargetSettings] {
        lock.lock()
        defer { lock.unlock() }
        return configuration.targets
    }

    var nextFireDates: [String: Date] { scheduler?.nextFireDates() ?? [:] }
    var isSchedulerHealthy: Bool { scheduler?.isHealthy ?? false }

    var statusToken: String? {
        lock.lock()
        defer { lock.unlock() }
        return configuration.server.token
    }

    /// Runs until SIGTERM or SIGINT, reloading on SIGHUP; returns the process exit code (0 after a clean stop).
    /// A second SIGTERM or SIGINT during the graceful stop ends the process at once.
    public func runUntilSignalled() -> Int32 {
        let signals = SignalRouter.shared
        signals.setHandler(SIGHUP) { [self] in
            logger.info("signal.received", [("signal", "SIGHUP")])
            reload()
        }
        let done = DispatchSemaphore(value: 0)
        for (number, name) in [(SIGTERM, "SIGTERM"), (SIGINT, "SIGINT")] {
            signals.setHandler(number) { [self] in
                logger.info("signal.received", [("signal", name)])
                done.signal()
            }
        }
        done.wait()
        signals.setHandler(SIGTERM, nil)
        signals.setHandler(SIGINT, nil)
        stop()
        signals.setHandler(SIGHUP, nil)
        return 0
    }
}

/// Seconds the load engine waits for requests in flight after a cycle is asked to stop.
enum SmokeRunGrace {
    static let engineSeconds = 2.0
}
