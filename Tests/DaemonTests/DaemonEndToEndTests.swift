import DemoAPI
import Foundation
import HTTPServer
import JSONCoding
import Storage
import XCTest
import Glibc

/// `loadsmoke daemon` as a child process against two targets on 127.0.0.1: the demo chat API, which always passes,
/// and a switchable server whose response the test turns from 503 to 200. Each test starts its own daemon, checks it
/// over real loopback HTTP and real SQLite files, and stops it.
final class DaemonEndToEndTests: XCTestCase {
    private var directory: URL!
    private var demo: DemoChatService!
    private var switchable: SwitchableTargetServer!
    private var daemons: [LoadsmokeChildProcess] = []

    /// Upper bound of every poll for state the daemon reaches on its own, such as stored runs or alerts.
    private static let pollSeconds = 15.0
    /// Upper bound of the wait for the daemon's `server.listening` line.
    private static let startSeconds = 10.0

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("daemon-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        demo = try DemoChatService(options: DemoOptions(port: 0, latencyMilliseconds: 5, fallbackRate: 0, errorRate: 0, seed: 7))
        try demo.start()
        switchable = try SwitchableTargetServer(isFailing: true)
    }

    override func tearDownWithError() throws {
        for daemon in daemons { daemon.terminate() }
        killHungHooks()
        demo?.stop()
        switchable?.stop()
        if let directory { try? FileManager.default.removeItem(at: directory) }
    }

    // MARK: - Endpoints

    func testEndpointsServeStoredRuns() throws {
        let (_, port) = try startDaemon(configuration: writeConfiguration())

        let demoRun = try XCTUnwrap(waitForRun(port: port, target: "demo", status: "passed"))
        let failedRun = try XCTUnwrap(waitForRun(port: port, target: "switchable", status: "failed"))

        let demoID = try XCTUnwrap(demoRun["id"]?.integerValue)
        let detail = try getJSON(port: port, path: "/runs/\(demoID)")
        XCTAssertEqual(detail["target"]?.stringValue, "demo")
        XCTAssertEqual(detail["status"]?.stringValue, "passed")
        XCTAssertEqual(detail["report"]?["passed"]?.boolValue, true)
        XCTAssertEqual(detail["report"]?["totals"]?["requests"]?.integerValue, 3)
        XCTAssertEqual(failedRun["totals"]?["failed"]?.integerValue, 3)

        let status = try getJSON(port: port, path: "/status")
        let targets = try XCTUnwrap(status["targets"]?.arrayValue)
        XCTAssertEqual(targets.compactMap { $0["name"]?.stringValue }, ["demo", "switchable"])
        let demoStatus = try XCTUnwrap(targets.first { $0["name"]?.stringValue == "demo" })
        let switchableStatus = try XCTUnwrap(targets.first { $0["name"]?.stringValue == "switchable" })
        XCTAssertEqual(demoStatus["state"]?.stringValue, "passing")
        XCTAssertEqual(switchableStatus["state"]?.stringValue, "failing")
        XCTAssertNotNil(demoStatus["next_run_at"]?.stringValue)
        XCTAssertNotNil(switchableStatus["next_run_at"]?.stringValue)
        XCTAssertGreaterThanOrEqual(switchableStatus["failing_streak"]?.integerValue ?? 0, 1)

        let trend = try getJSON(port: port, path: "/trend?target=demo&metric=p95&bucket=1m&since=1h")
        XCTAssertEqual(trend["metric"]?.stringValue, "p95")
        XCTAssertEqual(trend["unit"]?.stringValue, "ms")
        let buckets = try XCTUnwrap(trend["buckets"]?.arrayValue)
        XCTAssertFalse(buckets.isEmpty)
        XCTAssertGreaterThanOrEqual(buckets.compactMap { $0["runs"]?.integerValue }.reduce(0, +), 1)

        let health = try LoopbackHTTPClient.request(port: port, path: "/healthz")
        XCTAssertEqual(health.status, 200)
        let healthDocument = try health.json()
        XCTAssertEqual(healthDocument["status"]?.stringValue, "ok")
        XCTAssertNotNil(healthDocument["uptime_s"]?.doubleValue)
        XCTAssertFalse((healthDocument["version"]?.stringValue ?? "").isEmpty)
    }

    func testMetricsAreValidExposition() throws {
        let (_, port) = try startDaemon(configuration: writeConfiguration())
        XCTAssertNotNil(waitForRun(port: port, target: "demo", status: "passed"))
        XCTAssertNotNil(waitForRun(port: port, target: "switchable", status: "failed"))

        let response = try LoopbackHTTPClient.request(port: port, path: "/metrics")

        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.header("Content-Type"), "text/plain; version=0.0.4; charset=utf-8")
        let problems = PrometheusText.problems(in: response.text)
        XCTAssertEqual(problems, [])
        let samples = PrometheusText.samples(in: response.text)
        XCTAssertGreaterThanOrEqual(samples[#"loadsmoke_runs_total{status="passed",target="demo"}"#] ?? 0, 1)
        XCTAssertGreaterThanOrEqual(samples[#"loadsmoke_runs_total{status="failed",target="switchable"}"#] ?? 0, 1)
        XCTAssertNotNil(samples[#"loadsmoke_last_run_latency_seconds{percentile="95",target="demo"}"#])
        XCTAssertEqual(samples[#"loadsmoke_last_run_passed{target="switchable"}"#], 0)
    }

    // MARK: - Alerts

    func testFailingTargetAlertsOnceThenRecovers() throws {
        let hook = try writeScript("hook.sh", """
        cat > "\(directory.path)/alert-$LOADSMOKE_RUN_ID-$LOADSMOKE_EVENT.json"
        printf '%s %s %s %s\\n' "$LOADSMOKE_EVENT" "$LOADSMOKE_TARGET" "$LOADSMOKE_RUN_ID" "$LOADSMOKE_STATUS_URL" >> "\(directory.path)/alerts.log"
        """)
        let alert = "alert:\n  command: [\"\(hook)\"]\n  timeout: 5s\n  on: [failure, recovery]\n"
        let (_, port) = try startDaemon(configuration: writeConfiguration(alert: alert))

        // A streak of four failed runs sends one failure alert, for its first run.
        XCTAssertTrue(poll { try self.runs(port: port, target: "switchable", status: "failed").count >= 4 })
        let failedIDs = try runs(port: port, target: "switchable", status: "failed").compactMap { $0["id"]?.integerValue }
        let firstFailedID = try XCTUnwrap(failedIDs.min())
        XCTAssertTrue(poll { self.alertLines().count >= 1 })
        XCTAssertEqual(alertLines(), ["failure switchable \(firstFailedID) http://127.0.0.1:\(port)"])

        let stdinPath = directory.appendingPathComponent("alert-\(firstFailedID)-failure.json").path
        let stdinReport = try JSONValue.parse(try String(contentsOfFile: stdinPath, encoding: .utf8))
        XCTAssertEqual(stdinReport["passed"]?.boolValue, false)
        XCTAssertEqual(stdinReport["totals"]?["failed"]?.integerValue, 3)
        XCTAssertTrue(poll { try self.getJSON(port: port, path: "/runs/\(firstFailedID)")["alert"]?["exit_status"]?.integerValue == 0 })
        XCTAssertEqual(try getJSON(port: port, path: "/runs/\(firstFailedID)")["alert"]?["event"]?.stringValue, "failure")

        // The first passed run after the streak sends one recovery alert, and later passed runs send none.
        switchable.isFailing = false
        XCTAssertTrue(poll { try self.runs(port: port, target: "switchable", status: "passed").count >= 3 })
        let passedIDs = try runs(port: port, target: "switchable", status: "passed").compactMap { $0["id"]?.integerValue }
        let firstPassedID = try XCTUnwrap(passedIDs.min())
        XCTAssertTrue(poll { self.alertLines().count >= 2 })
        XCTAssertEqual(alertLines(), [
            "failure switchable \(firstFailedID) http://127.0.0.1:\(port)",
            "recovery switchable \(firstPassedID) http://127.0.0.1:\(port)",
        ])
        let recoveryReport = try JSONValue.parse(try String(
            contentsOfFile: directory.appendingPathComponent("alert-\(firstPassedID)-recovery.json").path, encoding: .utf8
        ))
        XCTAssertEqual(recoveryReport["passed"]?.boolValue, true)
    }

    func testHangingHookDoesNotDelaySchedule() throws {
        // `exec` makes the hook's pid the sleep itself, so tearDown can stop a hook that outlives the daemon.
        let hook = try writeScript("hang.sh", "echo $$ >> \"\(directory.path)/hung.pids\"\nexec sleep 60")
        let alert = "alert:\n  command: [\"\(hook)\"]\n  timeout: 1s\n  on: [failure]\n  repeat: 1s\n"
        let (daemon, port) = try startDaemon(configuration: writeConfiguration(alert: alert))

        // With repeat 1s every failed run starts a hook that hangs until its timeout, so hooks are hanging for
        // almost the whole window in which these runs are stored.
        XCTAssertTrue(poll { try self.runs(port: port, target: "switchable", status: "failed").count >= 5 })
        XCTAssertTrue(poll { try self.runs(port: port, target: "demo", status: "passed").count >= 4 })
        XCTAssertGreaterThanOrEqual(hungHookPIDs().count, 2)

        XCTAssertNotNil(daemon.waitForStderrLine(containing: "event=alert.failed", "timed_out=true", "cause=\"timed out\"", timeout: Self.pollSeconds))
        let alerted = try XCTUnwrap(firstRunWithAlert(port: port, target: "switchable"))
        XCTAssertEqual(alerted["alert"]?["event"]?.stringValue, "failure")
        XCTAssertEqual(alerted["alert"]?["signal"]?.integerValue, Int64(SIGTERM))
        XCTAssertEqual(alerted["alert"]?["exit_status"], .null)
    }

    // MARK: - HTTP edge cases

    func testMalformedRequestGets400() throws {
        let (_, port) = try startDaemon(configuration: writeConfiguration())

        let garbage = try LoopbackHTTPClient.exchange(Array("GARBAGE\r\n\r\n".utf8), port: port)
        let health = try LoopbackHTTPClient.request(port: port, path: "/healthz")

        XCTAssertEqual(garbage.status, 400)
        XCTAssertEqual(try garbage.json()["error"]?["status"]?.integerValue, 400)
        XCTAssertEqual(health.status, 200)
    }

    func testUnknownPathGets404JSON() throws {
        let (_, port) = try startDaemon(configuration: writeConfiguration())

        let response = try LoopbackHTTPClient.request(port: port, path: "/nope")

        XCTAssertEqual(response.status, 404)
        XCTAssertEqual(response.header("Content-Type"), "application/json")
        XCTAssertEqual(try response.json()["error"]?["status"]?.integerValue, 404)
        XCTAssertEqual(try response.json()["error"]?["message"]?.stringValue, "no resource at /nope")
    }

    func testPostStatusGets405() throws {
        let (_, port) = try startDaemon(configuration: writeConfiguration())

        let response = try LoopbackHTTPClient.request(port: port, method: "POST", path: "/status")

        XCTAssertEqual(response.status, 405)
        XCTAssertEqual(response.header("Allow"), "GET, HEAD")
        XCTAssertEqual(try response.json()["error"]?["status"]?.integerValue, 405)
    }

    func testRunQueryErrorsGet400Or404() throws {
        let (_, port) = try startDaemon(configuration: writeConfiguration())

        let unknownRun = try LoopbackHTTPClient.request(port: port, path: "/runs/999999")
        let invalidRun = try LoopbackHTTPClient.request(port: port, path: "/runs/abc")
        let invalidLimit = try LoopbackHTTPClient.request(port: port, path: "/runs?limit=0")
        let invalidStatus = try LoopbackHTTPClient.request(port: port, path: "/runs?status=green")
        let trendWithoutTarget = try LoopbackHTTPClient.request(port: port, path: "/trend?metric=p95")
        let trendTooManyBuckets = try LoopbackHTTPClient.request(port: port, path: "/trend?target=demo&bucket=1s&since=30d")

        XCTAssertEqual(unknownRun.status, 404)
        XCTAssertEqual(try unknownRun.json()["error"]?["message"]?.stringValue, "no run with id 999999")
        XCTAssertEqual(invalidRun.status, 400)
        XCTAssertEqual(invalidLimit.status, 400)
        XCTAssertEqual(invalidStatus.status, 400)
        XCTAssertEqual(trendWithoutTarget.status, 400)
        XCTAssertEqual(try trendWithoutTarget.json()["error"]?["message"]?.stringValue, "missing target: add ?target=NAME")
        XCTAssertEqual(trendTooManyBuckets.status, 400)
    }

    func testHeadStatusHasNoBody() throws {
        let (_, port) = try startDaemon(configuration: writeConfiguration())

        let response = try LoopbackHTTPClient.request(port: port, method: "HEAD", path: "/status")

        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.header("Content-Type"), "application/json")
        XCTAssertEqual(response.body, [])
    }

    func testStatusTokenRequired() throws {
        let token = "e2e-\(UUID().uuidString)"
        let configuration = try writeConfiguration(server: "server:\n  listen: 127.0.0.1:0\n  token_env: LOADSMOKE_E2E_STATUS_TOKEN\n")
        let (_, port) = try startDaemon(configuration: configuration, environment: ["LOADSMOKE_E2E_STATUS_TOKEN": token])

        let missing = try LoopbackHTTPClient.request(port: port, path: "/status")
        let wrong = try LoopbackHTTPClient.request(port: port, path: "/status", headers: ["Authorization: Bearer \(token)x"])
        let right = try LoopbackHTTPClient.request(port: port, path: "/status", headers: ["Authorization: Bearer \(token)"])
        let metrics = try LoopbackHTTPClient.request(port: port, path: "/metrics")
        let health = try LoopbackHTTPClient.request(port: port, path: "/healthz")

        XCTAssertEqual(missing.status, 401)
        XCTAssertEqual(missing.header("WWW-Authenticate"), "Bearer realm=\"loadsmoke\"")
        XCTAssertEqual(wrong.status, 401)
        XCTAssertEqual(right.status, 200)
        XCTAssertEqual(try right.json()["targets"]?.arrayValue?.count, 2)
        XCTAssertEqual(metrics.status, 401)
        XCTAssertEqual(health.status, 200)
    }

    // MARK: - Signals

    func testSigtermStopsCleanly() throws {
        // Slower demo responses make a cycle last about a second, so SIGTERM is likely to arrive during one.
        try restartDemo(latencyMilliseconds: 300)
        let (daemon, port) = try startDaemon(configuration: writeConfiguration())
        XCTAssertTrue(poll { try self.runs(port: port, target: "demo", status: "passed").count >= 2 })

        daemon.send(SIGTERM)

        XCTAssertEqual(daemon.waitForExit(timeout: 20), 0)
        XCTAssertEqual(daemon.stderrLines(containing: "event=daemon.stopped").count, 1)
        XCTAssertEqual(daemon.stderrLines(containing: "event=daemon.stopped", "clean=true").count, 1)
        let store = try RunStore(path: databasePath, readOnly: true)
        defer { store.close() }
        XCTAssertEqual(try store.integrityCheck(), "ok")
        XCTAssertEqual(try store.runs(RunQuery(status: .running)).count, 0)
        XCTAssertGreaterThanOrEqual(try store.runs(RunQuery(target: "demo", status: .passed)).count, 2)
    }

    func testReloadKeepsConfigWhenFileInvalid() throws {
        let configuration = try writeConfiguration()
        let (daemon, port) = try startDaemon(configuration: configuration)
        XCTAssertNotNil(waitForRun(port: port, target: "demo", status: "passed"))
        let valid = try String(contentsOf: configuration, encoding: .utf8)
        try valid.replacingOccurrences(of: "schedule: every 1s", with: "schedule: \"61 * * * *\"")
            .write(to: configuration, atomically: true, encoding: .utf8)

        daemon.send(SIGHUP)

        XCTAssertNotNil(daemon.waitForStderrLine(containing: "event=config.reload_failed", timeout: Self.pollSeconds))
        XCTAssertNotNil(daemon.waitForStderrLine(containing: "event=config.kept", timeout: Self.pollSeconds))
        let countAfterReload = try runs(port: port, target: "demo").count
        XCTAssertTrue(poll { try self.runs(port: port, target: "demo").count >= countAfterReload + 2 })
        XCTAssertTrue(daemon.isRunning)
        XCTAssertEqual(try getJSON(port: port, path: "/status")["targets"]?.arrayValue?.count, 2)
    }

    func testReloadAddsTarget() throws {
        let configuration = try writeConfiguration()
        let (daemon, port) = try startDaemon(configuration: configuration)
        XCTAssertNotNil(waitForRun(port: port, target: "demo", status: "passed"))
        try configurationText(extraTarget: "demo-copy").write(to: configuration, atomically: true, encoding: .utf8)

        daemon.send(SIGHUP)

        XCTAssertNotNil(daemon.waitForStderrLine(containing: "event=config.reloaded", "targets=3", timeout: Self.pollSeconds))
        let names = try getJSON(port: port, path: "/status")["targets"]?.arrayValue?.compactMap { $0["name"]?.stringValue }
        XCTAssertEqual(names, ["demo", "switchable", "demo-copy"])
        XCTAssertNotNil(waitForRun(port: port, target: "demo-copy", status: "passed"))
    }

    func testShutdownGraceZeroStoresInterruptedRun() throws {
        // Three responses of about a second each keep the demo cycle running when SIGTERM arrives.
        try restartDemo(latencyMilliseconds: 1000)
        let daemon = try LoadsmokeChildProcess(["daemon", "--config", try writeConfiguration().path, "--shutdown-grace", "0s"])
        daemons.append(daemon)
        let started = try XCTUnwrap(daemon.waitForStderrLine(containing: "event=run.started", "target=demo", timeout: Self.pollSeconds))
        let runID = try XCTUnwrap(Self.fieldValue("run_id", in: started).flatMap { Int64($0) })

        daemon.send(SIGTERM)

        XCTAssertEqual(daemon.waitForExit(timeout: 20), 0)
        XCTAssertEqual(daemon.stderrLines(containing: "event=daemon.stopped", "clean=true").count, 1)
        let store = try RunStore(path: databasePath, readOnly: true)
        defer { store.close() }
        XCTAssertEqual(try store.run(id: runID)?.status, .interrupted)
        XCTAssertEqual(try store.runs(RunQuery(status: .running)).count, 0)
    }

    func testSecondSigtermExitsAtOnce() throws {
        try restartDemo(latencyMilliseconds: 1000)
        let (daemon, _) = try startDaemon(configuration: writeConfiguration())
        XCTAssertNotNil(daemon.waitForStderrLine(containing: "event=run.started", "target=demo", timeout: Self.pollSeconds))

        daemon.send(SIGTERM)
        XCTAssertNotNil(daemon.waitForStderrLine(containing: "event=daemon.stopping", timeout: Self.pollSeconds))
        daemon.send(SIGTERM)

        // The default grace of 10 s would keep a first SIGTERM waiting for the demo cycle, so only the second
        // signal can end the process within 5 s, with status 128 + SIGTERM.
        XCTAssertEqual(daemon.waitForExit(timeout: 5), 128 + SIGTERM)
        XCTAssertEqual(daemon.stderrLines(containing: "event=daemon.stopped").count, 0)
    }

    func testRestartMarksKilledRunInterrupted() throws {
        try restartDemo(latencyMilliseconds: 1000)
        let configuration = try writeConfiguration()
        let (first, _) = try startDaemon(configuration: configuration)
        let started = try XCTUnwrap(first.waitForStderrLine(containing: "event=run.started", "target=demo", timeout: Self.pollSeconds))
        let runID = try XCTUnwrap(Self.fieldValue("run_id", in: started).flatMap { Int64($0) })

        first.terminate()
        let (second, port) = try startDaemon(configuration: configuration)

        let starting = try XCTUnwrap(second.waitForStderrLine(containing: "event=daemon.starting", timeout: Self.startSeconds))
        let recovered = try XCTUnwrap(Self.fieldValue("recovered_interrupted_runs", in: starting).flatMap { Int($0) })
        XCTAssertGreaterThanOrEqual(recovered, 1)
        XCTAssertEqual(try getJSON(port: port, path: "/runs/\(runID)")["status"]?.stringValue, "interrupted")
    }

    func testRestartMidStreakDoesNotRealert() throws {
        let hook = try writeScript("hook.sh", """
        cat > /dev/null
        printf '%s %s %s\\n' "$LOADSMOKE_EVENT" "$LOADSMOKE_TARGET" "$LOADSMOKE_RUN_ID" >> "\(directory.path)/alerts.log"
        """)
        let configuration = try writeConfiguration(alert: "alert:\n  command: [\"\(hook)\"]\n  timeout: 5s\n  on: [failure, recovery]\n")
        let (first, firstPort) = try startDaemon(configuration: configuration)
        XCTAssertTrue(poll { self.alertLines().count >= 1 })
        XCTAssertTrue(poll { try self.runs(port: firstPort, target: "switchable", status: "failed").first?["alert"] != .null })
        first.send(SIGTERM)
        XCTAssertEqual(first.waitForExit(timeout: 20), 0)

        let (_, port) = try startDaemon(configuration: configuration)
        let countAtRestart = try runs(port: port, target: "switchable", status: "failed").count
        XCTAssertTrue(poll { try self.runs(port: port, target: "switchable", status: "failed").count >= countAtRestart + 3 })

        XCTAssertEqual(alertLines().count, 1, alertLines().joined(separator: "\n"))
    }

    func testBusyPortFailsStart() throws {
        let occupant = HTTPServer(configuration: HTTPServer.Configuration(host: "127.0.0.1", port: 0)) { _ in .text("occupied") }
        try occupant.start()
        defer { occupant.stop() }
        let configuration = try writeConfiguration(server: "server:\n  listen: 127.0.0.1:\(occupant.port)\n")

        let daemon = try LoadsmokeChildProcess(["daemon", "--config", configuration.path])
        daemons.append(daemon)

        XCTAssertEqual(daemon.waitForExit(timeout: Self.startSeconds), 1)
        XCTAssertEqual(daemon.stderrLines(containing: "level=error", "event=daemon.start_failed").count, 1)
        XCTAssertTrue(daemon.stderr.contains("\(occupant.port)"), daemon.stderr)
    }

    func testInvalidConfigurationExitsWithUsage() throws {
        let configuration = try writeConfiguration()
        let valid = try String(contentsOf: configuration, encoding: .utf8)
        try valid.replacingOccurrences(of: "requests: 3", with: "requests: none").write(to: configuration, atomically: true, encoding: .utf8)

        let result = try LoadsmokeChildProcess.run(["daemon", "--config", configuration.path], timeout: Self.startSeconds)

        XCTAssertEqual(result.exitCode, 2)
        let lines = result.stderr.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 2, result.stderr)
        XCTAssertTrue(lines.allSatisfy { $0.hasPrefix("error: \(configuration.path):") && $0.contains(".requests: ") }, result.stderr)
    }

    // MARK: - Fixture

    private var databasePath: String { directory.appendingPathComponent("runs.db").path }

    /// Returns the daemon's configuration as YAML: both targets on `every 1s` with 3 requests at concurrency 1, plus
    /// the optional `server` and `alert` sections, given as YAML text.
    private func configurationText(server: String? = nil, alert: String? = nil, extraTarget: String? = nil) -> String {
        var text = """
        storage:
          path: "\(databasePath)"
        \(server ?? "server:\n  listen: 127.0.0.1:0\n")\(alert ?? "")targets:
          - name: demo
            url: http://127.0.0.1:\(demo.port)
            schedule: every 1s
            requests: 3
            concurrency: 1
            timeout: 2s
          - name: switchable
            url: \(switchable.url)
            schedule: every 1s
            requests: 3
            concurrency: 1
            timeout: 2s

        """
        if let extraTarget {
            text += """
              - name: \(extraTarget)
                url: http://127.0.0.1:\(demo.port)
                schedule: every 1s
                requests: 3
                concurrency: 1
                timeout: 2s

            """
        }
        return text
    }

    private func writeConfiguration(server: String? = nil, alert: String? = nil) throws -> URL {
        let url = directory.appendingPathComponent("loadsmoke.yaml")
        try configurationText(server: server, alert: alert).write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    private func writeScript(_ name: String, _ body: String) throws -> String {
        let path = directory.appendingPathComponent(name).path
        try Data("#!/bin/sh\n\(body)\n".utf8).write(to: URL(fileURLWithPath: path))
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        return path
    }

    /// Replaces the demo API with one whose median latency is `latencyMilliseconds`, before the daemon starts.
    private func restartDemo(latencyMilliseconds: Double) throws {
        demo.stop()
        demo = try DemoChatService(options: DemoOptions(port: 0, latencyMilliseconds: latencyMilliseconds, fallbackRate: 0, errorRate: 0, seed: 7))
        try demo.start()
    }

    /// Returns the value of `key=value` in a log line. Quoted values are not supported.
    private static func fieldValue(_ key: String, in line: String) -> String? {
        line.split(separator: " ").first { $0.hasPrefix("\(key)=") }.map { String($0.dropFirst(key.count + 1)) }
    }

    /// Starts `loadsmoke daemon --config FILE` and returns it with the status port it logged.
    private func startDaemon(configuration: URL, environment: [String: String] = [:]) throws -> (LoadsmokeChildProcess, Int) {
        let daemon = try LoadsmokeChildProcess(["daemon", "--config", configuration.path], environment: environment)
        daemons.append(daemon)
        guard let port = daemon.waitForStatusPort(timeout: Self.startSeconds) else {
            throw DaemonStartFailure(description: "loadsmoke daemon logged no server.listening line within \(Self.startSeconds) s; stderr:\n\(daemon.stderr)")
        }
        return (daemon, port)
    }

    // MARK: - Queries

    private func getJSON(port: Int, path: String) throws -> JSONValue {
        let response = try LoopbackHTTPClient.request(port: port, path: path)
        guard response.status == 200 else {
            throw LoopbackHTTPError(description: "GET \(path) returned \(response.status): \(response.text)")
        }
        return try response.json()
    }

    /// Run summaries of `target`, newest first, from `GET /runs`.
    private func runs(port: Int, target: String, status: String? = nil) throws -> [JSONValue] {
        var path = "/runs?target=\(target)&limit=100"
        if let status { path += "&status=\(status)" }
        return try getJSON(port: port, path: path)["runs"]?.arrayValue ?? []
    }

    /// Polls `/runs` until `target` has a run with `status`, and returns the newest such run.
    private func waitForRun(port: Int, target: String, status: String) -> JSONValue? {
        var found: JSONValue?
        _ = poll {
            found = try self.runs(port: port, target: target, status: status).first
            return found != nil
        }
        return found
    }

    /// Polls until a run of `target` has a finished alert record, and returns that run's summary.
    private func firstRunWithAlert(port: Int, target: String) -> JSONValue? {
        var found: JSONValue?
        _ = poll {
            found = try self.runs(port: port, target: target).last { ($0["alert"] ?? .null) != .null }
            return found != nil
        }
        return found
    }

    /// Evaluates `condition` every 100 ms for at most `pollSeconds`, and returns whether it became true. A thrown
    /// error counts as false, because the daemon may not serve yet.
    private func poll(_ condition: () throws -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(Self.pollSeconds)
        while Date() < deadline {
            if (try? condition()) == true { return true }
            usleep(100_000)
        }
        return (try? condition()) == true
    }

    /// Lines the alert hook appended: `EVENT TARGET RUN_ID STATUS_URL`.
    private func alertLines() -> [String] {
        let text = (try? String(contentsOfFile: directory.appendingPathComponent("alerts.log").path, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map(String.init)
    }

    private func hungHookPIDs() -> [pid_t] {
        let text = (try? String(contentsOfFile: directory.appendingPathComponent("hung.pids").path, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { pid_t($0) }
    }

    /// Kills hooks of `testHangingHookDoesNotDelaySchedule` that outlived the killed daemon. A pid counts only
    /// while its command line is still `sleep 60`, so a reused pid is left alone.
    private func killHungHooks() {
        for pid in hungHookPIDs() {
            guard let commandLine = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { continue }
            if String(decoding: commandLine, as: UTF8.self) == "sleep\u{0}60\u{0}" { kill(pid, SIGKILL) }
        }
    }
}

/// The daemon under test did not report its status port.
private struct DaemonStartFailure: Error, CustomStringConvertible {
    let description: String
}
