@testable import Configuration
import Foundation
import Reporting
import Scheduling
import SmokeRunner
import XCTest

final class ConfigurationLoaderTests: XCTestCase {
    private var directory: URL!
    private let environment = ["CHAT_API_KEY": "sk-test-secret-1", "LOADSMOKE_STATUS_TOKEN": "status-secret-2"]

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("loadsmoke-config-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try FileManager.default.removeItem(at: directory)
    }

    // MARK: Helpers

    /// Writes `text` to a file in the temporary directory and returns its path.
    @discardableResult
    private func write(_ text: String, to name: String = "loadsmoke.yaml") throws -> String {
        let url = directory.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
        return url.path
    }

    private func load(_ text: String, name: String = "loadsmoke.yaml", environment: [String: String]? = nil) throws -> DaemonConfiguration {
        try ConfigurationLoader.load(path: write(text, to: name), environment: environment ?? self.environment)
    }

    /// Loads `text`, expects it to fail and returns each issue's description with the file path replaced by `FILE`.
    private func issues(_ text: String, name: String = "loadsmoke.yaml", environment: [String: String]? = nil,
                        file: StaticString = #filePath, line: UInt = #line) throws -> [String] {
        let path = try write(text, to: name)
        do {
            _ = try ConfigurationLoader.load(path: path, environment: environment ?? self.environment)
            XCTFail("expected the configuration to be rejected", file: file, line: line)
            return []
        } catch let errors as ConfigurationErrors {
            return errors.issues.map { $0.description.replacingOccurrences(of: path, with: "FILE") }
        }
    }

    private let minimalTarget = """
    targets:
      - name: chat
        url: http://127.0.0.1:8000
        schedule: every 30s

    """

    // MARK: Valid files

    func testExampleFileValidates() throws {
        let examplePath = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("config/loadsmoke.example.yaml").path
        let configuration = try ConfigurationLoader.load(path: examplePath, environment: environment)

        XCTAssertEqual(configuration.storage.path, "/var/lib/loadsmoke/loadsmoke.db")
        XCTAssertEqual(configuration.storage.retentionSeconds, 30 * 86_400)
        XCTAssertEqual(configuration.server.host, "127.0.0.1")
        XCTAssertEqual(configuration.server.port, 9790)
        XCTAssertEqual(configuration.server.token, "status-secret-2")
        XCTAssertEqual(configuration.alert?.command, ["/usr/local/bin/notify-ops", "--channel", "smoke"])
        XCTAssertEqual(configuration.alert?.events, [.failure, .recovery])
        XCTAssertEqual(configuration.alert?.repeatSeconds, 3600)
        XCTAssertEqual(configuration.targets.map(\.name), ["chat-prod", "chat-stream"])

        let target = try XCTUnwrap(configuration.targets.first)
        XCTAssertEqual(target.name, "chat-prod")
        XCTAssertEqual(target.options.targetName, "chat-prod")
        XCTAssertEqual(target.scheduleText, "*/5 * * * *")
        XCTAssertEqual(target.schedule, try Schedule.parse("*/5 * * * *"))
        XCTAssertEqual(target.timeZone.identifier, "Europe/Berlin")
        XCTAssertEqual(target.options.url, "https://chat.example.com")
        XCTAssertEqual(target.options.timeoutSeconds, 30)
        XCTAssertEqual(target.options.apiKey, "sk-test-secret-1")
        XCTAssertEqual(target.apiKeyEnv, "CHAT_API_KEY")
        XCTAssertEqual(target.options.headers.map(\.name), ["X-Team"])
        XCTAssertEqual(target.options.budgets, Budget.defaults)
        XCTAssertEqual(target.options.method, "POST")
        XCTAssertEqual(target.options.expectedStatus, "2xx")
        XCTAssertEqual(target.options.expectedJSONFields, ["/answer"])
        XCTAssertEqual(target.options.expectedHeaders, [])
        XCTAssertFalse(target.options.isStreaming)

        let streamed = try XCTUnwrap(configuration.targets.last)
        XCTAssertEqual(streamed.options.openAIModel, "gpt-4o-mini")
        XCTAssertEqual(streamed.options.effectivePath, "/v1/chat/completions")
        XCTAssertTrue(streamed.options.isStreaming)
        XCTAssertEqual(streamed.options.budgets.first { $0.metric == .ttftP95 }?.limit, 800)
        XCTAssertEqual(streamed.options.budgets.first { $0.metric == .itlP99 }?.limit, 150)
    }

    func testDefaultsWhenKeysOmitted() throws {
        let configuration = try load(minimalTarget)

        XCTAssertEqual(configuration.storage.path, directory.appendingPathComponent("loadsmoke.db").path)
        XCTAssertEqual(configuration.storage.retentionSeconds, 30 * 86_400)
        XCTAssertEqual(configuration.storage.pruneIntervalSeconds, 3600)
        XCTAssertEqual(configuration.server.host, "127.0.0.1")
        XCTAssertEqual(configuration.server.port, 9790)
        XCTAssertNil(configuration.server.token)
        XCTAssertTrue(configuration.server.isLoopback)
        XCTAssertNil(configuration.alert)

        let target = try XCTUnwrap(configuration.targets.first)
        // Foundation on Linux reports UTC under the identifier GMT, so the offset is what is compared.
        XCTAssertEqual(target.timeZone.secondsFromGMT(), 0)
        XCTAssertEqual(target.jitterSeconds, 0)
        XCTAssertNil(target.apiKeyEnv)
        XCTAssertNil(target.options.apiKey)
        XCTAssertNil(target.options.path)
        XCTAssertEqual(target.options.effectivePath, "/chat")
        XCTAssertEqual(target.options.requests, 50)
        XCTAssertEqual(target.options.concurrency, 10)
        XCTAssertEqual(target.options.timeoutSeconds, 30)
        XCTAssertEqual(target.options.simulate, [])
        XCTAssertEqual(target.options.budgets, Budget.defaults)
        XCTAssertNil(target.options.promptsFile)
        XCTAssertEqual(target.options.fallbackHeader, "X-Fallback")
        XCTAssertEqual(target.options.fallbackField, "fallback")
        XCTAssertEqual(target.options.method, "POST")
        XCTAssertEqual(target.options.promptOrder, .sequential)
        XCTAssertNil(target.options.seed)
        XCTAssertNil(target.options.bodyTemplate)
        XCTAssertNil(target.options.bodyTemplateSource)
        XCTAssertNil(target.options.openAIModel)
        XCTAssertFalse(target.options.isStreaming)
        XCTAssertEqual(target.options.streamIdleTimeoutSeconds, 10)
        XCTAssertEqual(target.options.requestIDHeader, "X-Request-Id")
        XCTAssertNil(target.options.expectedStatus)
        XCTAssertEqual(target.options.expectedJSONFields, [])
        XCTAssertEqual(target.options.expectedHeaders, [])
    }

    func testWorkloadKeysApplied() throws {
        let template = #"{"input": "{{prompt}}", "id": "{{request_id}}"}"#
        try write(template + "\n", to: "conf/templates/body.json")
        let text = """
        targets:
          - name: chat
            url: http://127.0.0.1:8000
            schedule: every 1m
            method: PUT
            prompt_order: random
            seed: 18446744073709551615
            body_file: templates/body.json
            stream: true
            stream_idle_timeout: 2500ms
            request_id_header: X-Trace-Id
            expect_status: [200, 2xx]
            expect_header: [X-Model=chat-v2, X-Region]
            budgets: {ttft_p50: 250, ttft_p95: 0.5s, ttft_p99: 900ms, itl_p50: 20ms, itl_p95: 45, itl_p99: 80ms}
        """
        let options = try XCTUnwrap(load(text, name: "conf/loadsmoke.yaml").targets.first?.options)

        XCTAssertEqual(options.method, "PUT")
        XCTAssertEqual(options.promptOrder, .random)
        XCTAssertEqual(options.seed, UInt64.max)
        XCTAssertEqual(options.bodyTemplate, template + "\n")
        XCTAssertEqual(options.bodyTemplateSource, directory.appendingPathComponent("conf/templates/body.json").path)
        XCTAssertTrue(options.isStreaming)
        XCTAssertEqual(options.streamIdleTimeoutSeconds, 2.5)
        XCTAssertEqual(options.requestIDHeader, "X-Trace-Id")
        XCTAssertEqual(options.expectedStatus, "200,2xx")
        XCTAssertEqual(options.expectedHeaders, ["X-Model=chat-v2", "X-Region"])
        let limits = Dictionary(uniqueKeysWithValues: options.budgets.map { ($0.metric, $0.limit) })
        XCTAssertEqual(limits[.ttftP50], 250)
        XCTAssertEqual(limits[.ttftP95], 500)
        XCTAssertEqual(limits[.ttftP99], 900)
        XCTAssertEqual(limits[.itlP50], 20)
        XCTAssertEqual(limits[.itlP95], 45)
        XCTAssertEqual(limits[.itlP99], 80)
        XCTAssertEqual(limits[.p95], 1500)
    }

    func testSingleValuesAndInlineBodyApplied() throws {
        let text = minimalTarget + """
            body: '{"message": "{{prompt}}"}'
            request_id_header: None
            expect_status: "200,204"
            expect_json_field: /answer
            expect_header: X-Fallback=false

        """
        let options = try XCTUnwrap(load(text).targets.first?.options)

        XCTAssertEqual(options.bodyTemplate, #"{"message": "{{prompt}}"}"#)
        XCTAssertEqual(options.bodyTemplateSource, "body")
        XCTAssertNil(options.requestIDHeader)
        XCTAssertEqual(options.expectedStatus, "200,204")
        XCTAssertEqual(options.expectedJSONFields, ["/answer"])
        XCTAssertEqual(options.expectedHeaders, ["X-Fallback=false"])
    }

    func testEmptyCheckListsKeepDefaults() throws {
        let options = try XCTUnwrap(load(minimalTarget + "    expect_status: []\n    expect_json_field: []\n").targets.first?.options)

        XCTAssertNil(options.expectedStatus)
        XCTAssertEqual(options.expectedJSONFields, [])
    }

    func testOpenAIPathDefault() throws {
        let options = try XCTUnwrap(load(minimalTarget + "    openai: gpt-4o-mini\n").targets.first?.options)

        XCTAssertEqual(options.openAIModel, "gpt-4o-mini")
        XCTAssertNil(options.path)
        XCTAssertEqual(options.effectivePath, "/v1/chat/completions")
    }

    func testAlertDefaults() throws {
        let configuration = try load("alert:\n  command: [notify-ops]\n" + minimalTarget)
        let alert = try XCTUnwrap(configuration.alert)

        XCTAssertEqual(alert.command, ["notify-ops"])
        XCTAssertEqual(alert.timeoutSeconds, 10)
        XCTAssertEqual(alert.events, [.failure])
        XCTAssertNil(alert.repeatSeconds)
    }

    func testNullValueMeansOmitted() throws {
        let configuration = try load("storage:\n  retention:\n" + minimalTarget)

        XCTAssertEqual(configuration.storage.retentionSeconds, 30 * 86_400)
    }

    func testJSONFileAccepted() throws {
        let json = """
        {
          "storage": {"path": "data/runs.db", "retention": "7d"},
          "server": {"listen": "[::1]:9791"},
          "targets": [
            {"name": "chat-json", "url": "http://127.0.0.1:8000", "schedule": "@hourly", "requests": 5,
             "pinecone_down": true, "budgets": {"p95": 1200, "error_rate": 0.1}}
          ]
        }
        """
        let configuration = try load(json, name: "loadsmoke.json")

        XCTAssertEqual(configuration.storage.path, directory.appendingPathComponent("data/runs.db").path)
        XCTAssertEqual(configuration.storage.retentionSeconds, 7 * 86_400)
        XCTAssertEqual(configuration.server.host, "::1")
        XCTAssertEqual(configuration.server.port, 9791)
        let target = try XCTUnwrap(configuration.targets.first)
        XCTAssertEqual(target.name, "chat-json")
        XCTAssertEqual(target.options.requests, 5)
        XCTAssertEqual(target.options.simulate, ["pinecone"])
        XCTAssertEqual(target.options.budgets.first { $0.metric == .p95 }?.limit, 1200)
        XCTAssertEqual(target.options.budgets.first { $0.metric == .errorRate }?.limit, 0.1)
    }

    func testRelativePathsResolvedAgainstConfigFolder() throws {
        try write("Hello\n", to: "conf/prompts/chat.txt")
        let text = """
        storage:
          path: ../state/loadsmoke.db
        targets:
          - name: chat
            url: http://127.0.0.1:8000
            schedule: every 1m
            prompts: prompts/chat.txt
        """
        let configuration = try load(text, name: "conf/loadsmoke.yaml")

        XCTAssertEqual(configuration.storage.path, directory.appendingPathComponent("state/loadsmoke.db").standardizedFileURL.path)
        XCTAssertEqual(configuration.targets.first?.options.promptsFile, directory.appendingPathComponent("conf/prompts/chat.txt").path)
    }

    func testAbsoluteStoragePathKept() throws {
        let configuration = try load("storage:\n  path: /var/lib/loadsmoke/x.db\n" + minimalTarget)

        XCTAssertEqual(configuration.storage.path, "/var/lib/loadsmoke/x.db")
    }

    func testBudgetsAcceptDurationsNumbersAndPercentages() throws {
        let text = minimalTarget + "    budgets: {p50: 1.5s, p95: 900, p99: 2500ms, error_rate: 5%, fallback_rate: 0.25}\n"
        let budgets = try XCTUnwrap(load(text).targets.first?.options.budgets)

        XCTAssertEqual(budgets.first { $0.metric == .p50 }?.limit, 1500)
        XCTAssertEqual(budgets.first { $0.metric == .p95 }?.limit, 900)
        XCTAssertEqual(budgets.first { $0.metric == .p99 }?.limit, 2500)
        XCTAssertEqual(try XCTUnwrap(budgets.first { $0.metric == .errorRate }?.limit), 0.05, accuracy: 1e-12)
        XCTAssertEqual(budgets.first { $0.metric == .fallbackRate }?.limit, 0.25)
    }

    func testPineconeDownAddsSimulateOnce() throws {
        let text = minimalTarget + "    simulate: [redis, pinecone]\n    pinecone_down: true\n"

        XCTAssertEqual(try load(text).targets.first?.options.simulate, ["redis", "pinecone"])
    }

    func testListenParsesIPv4AndIPv6() throws {
        let ipv4 = try load("server:\n  listen: 0.0.0.0:8080\n" + minimalTarget).server
        XCTAssertEqual(ipv4.host, "0.0.0.0")
        XCTAssertEqual(ipv4.port, 8080)
        XCTAssertFalse(ipv4.isLoopback)

        let ipv6 = try load("server:\n  listen: \"[::1]:9790\"\n" + minimalTarget).server
        XCTAssertEqual(ipv6.host, "::1")
        XCTAssertEqual(ipv6.port, 9790)
        XCTAssertTrue(ipv6.isLoopback)

        let name = try load("server:\n  listen: localhost:9000\n" + minimalTarget).server
        XCTAssertEqual(name.host, "localhost")
        XCTAssertTrue(name.isLoopback)
    }

    func testSecretsHiddenFromDescriptions() throws {
        let text = """
        server:
          token_env: LOADSMOKE_STATUS_TOKEN
        targets:
          - name: chat
            url: http://127.0.0.1:8000
            schedule: every 30s
            api_key_env: CHAT_API_KEY
            headers: {X-Api-Token: header-secret-3}
        """
        let configuration = try load(text)
        let printed = String(describing: configuration) + String(reflecting: configuration)
        var dumped = ""
        dump(configuration, to: &dumped)

        for secret in ["sk-test-secret-1", "status-secret-2", "header-secret-3"] {
            XCTAssertFalse(printed.contains(secret), "\(secret) printed")
            XCTAssertFalse(dumped.contains(secret), "\(secret) dumped")
        }
        XCTAssertTrue(dumped.contains("<redacted>"))
    }

    // MARK: Rejected files

    func testUnknownKeySuggestsClosest() throws {
        XCTAssertEqual(try issues(minimalTarget + "    concurency: 5\n"), [
            "FILE:5: targets[chat].concurency: unknown key \"concurency\"; did you mean \"concurrency\"?",
        ])
    }

    func testUnknownKeyListsAcceptedKeys() throws {
        XCTAssertEqual(try issues("server:\n  colour: blue\n" + minimalTarget), [
            "FILE:2: server.colour: unknown key \"colour\"; accepted keys: listen, token_env",
        ])
    }

    func testWrongTypeForWholeNumber() throws {
        XCTAssertEqual(try issues(minimalTarget + "    requests: many\n"), [
            "FILE:5: targets[chat].requests: expected a whole number, such as 50, found the value \"many\"",
        ])
    }

    func testQuotedNumberRejected() throws {
        XCTAssertEqual(try issues(minimalTarget + "    concurrency: \"10\"\n"), [
            "FILE:5: targets[chat].concurrency: expected a whole number, found the string \"10\"; remove the quotes",
        ])
    }

    func testRangeCheckReusesSmokeOptions() throws {
        XCTAssertEqual(try issues(minimalTarget + "    requests: 0\n"), [
            "FILE:5: targets[chat].requests: invalid value \"0\": expected a whole number of 1 or more",
        ])
    }

    func testYesIsNotBoolean() throws {
        XCTAssertEqual(try issues(minimalTarget + "    pinecone_down: yes\n"), [
            "FILE:5: targets[chat].pinecone_down: expected true or false, found the value \"yes\"",
        ])
    }

    func testDuplicateTargetName() throws {
        let text = minimalTarget + """
          - name: chat
            url: http://127.0.0.1:8001
            schedule: every 1m
        """
        XCTAssertEqual(try issues(text), [
            "FILE:5: targets[1].name: duplicate target name \"chat\"; it is already used on line 2, and names must be unique",
        ])
    }

    func testDuplicateMappingKey() throws {
        XCTAssertEqual(try issues(minimalTarget + "    requests: 5\n    requests: 6\n"), [
            "FILE:6: targets[chat].requests: duplicate key; it is already set on line 5, so remove one of them",
        ])
    }

    func testBadCron() throws {
        let text = "targets:\n  - name: chat-prod\n    url: http://127.0.0.1:8000\n    schedule: \"61 * * * *\"\n"
        let found = try issues(text)

        XCTAssertEqual(found.count, 1)
        XCTAssertEqual(found.first, "FILE:4: targets[chat-prod].schedule: \(scheduleErrorText("61 * * * *"))")
        XCTAssertTrue(found.first?.contains("61") ?? false)
    }

    func testBadTimeZone() throws {
        XCTAssertEqual(try issues(minimalTarget + "    timezone: Mars/Olympus_Mons\n"), [
            "FILE:5: targets[chat].timezone: unknown time zone \"Mars/Olympus_Mons\"; use an IANA name such as Europe/Berlin or UTC",
        ])
    }

    func testDurationWithoutUnitRejected() throws {
        XCTAssertEqual(try issues(minimalTarget + "    timeout: 30\n"), [
            "FILE:5: targets[chat].timeout: \(durationErrorText("30"))",
        ])
    }

    func testBadDurationUnit() throws {
        XCTAssertEqual(try issues("storage:\n  retention: 30 days\n" + minimalTarget), [
            "FILE:2: storage.retention: \(durationErrorText("30 days"))",
        ])
    }

    func testJitterNotShorterThanInterval() throws {
        XCTAssertEqual(try issues(minimalTarget + "    jitter: 30s\n"), [
            "FILE:5: targets[chat].jitter: jitter 30s must be shorter than the schedule's interval of 30s, or runs would overlap",
        ])
    }

    func testMissingEnvironmentVariable() throws {
        XCTAssertEqual(try issues(minimalTarget + "    api_key_env: CHAT_API_KEY\n", environment: [:]), [
            "FILE:5: targets[chat].api_key_env: environment variable CHAT_API_KEY is not set; export it before starting loadsmoke",
        ])
    }

    func testEmptyEnvironmentVariable() throws {
        XCTAssertEqual(try issues("server:\n  token_env: LOADSMOKE_STATUS_TOKEN\n" + minimalTarget, environment: ["LOADSMOKE_STATUS_TOKEN": ""]), [
            "FILE:2: server.token_env: environment variable LOADSMOKE_STATUS_TOKEN is empty; set it to the secret",
        ])
    }

    func testInvalidAPIKeyNotShown() throws {
        let found = try issues(minimalTarget + "    api_key_env: CHAT_API_KEY\n", environment: ["CHAT_API_KEY": "line\nbreak-secret"])

        XCTAssertEqual(found.count, 1)
        XCTAssertTrue(found.first?.hasPrefix("FILE:5: targets[chat].api_key_env: ") ?? false)
        XCTAssertFalse(found.joined().contains("break-secret"))
    }

    func testMissingRequiredKeys() throws {
        XCTAssertEqual(try issues("targets:\n  - name: chat\n    requests: 5\n"), [
            "FILE:2: targets[chat]: missing required key \"schedule\"; use a cron expression such as \"*/5 * * * *\", a macro such as \"@hourly\" or an interval such as \"every 30s\"",
            "FILE:2: targets[chat]: missing required key \"url\"; give the API's base URL, such as https://chat.example.com",
        ])
    }

    func testMissingTargetName() throws {
        XCTAssertEqual(try issues("targets:\n  - url: http://127.0.0.1:8000\n    schedule: every 1m\n"), [
            "FILE:2: targets[0]: missing required key \"name\"; give the target a unique name such as chat-prod",
        ])
    }

    func testMissingTargets() throws {
        XCTAssertEqual(try issues("storage:\n  retention: 7d\n"), [
            "FILE:1: missing required key \"targets\"; add a list with at least one target that has a name, url and schedule",
        ])
    }

    func testInvalidTargetName() throws {
        XCTAssertEqual(try issues("targets:\n  - name: chat prod\n    url: http://127.0.0.1:8000\n    schedule: every 1m\n"), [
            "FILE:2: targets[0].name: invalid target name \"chat prod\"; use letters, digits, '.', '_' and '-' only, such as chat-prod",
        ])
    }

    func testYAMLSyntaxError() throws {
        XCTAssertEqual(try issues("targets:\n  - name: chat\n    url: [http://127.0.0.1\n"), [
            "FILE:4: YAML syntax error: did not find expected ',' or ']' (while parsing a flow sequence on line 3)",
        ])
    }

    func testTabIndentationIsSyntaxError() throws {
        let found = try issues("targets:\n\t- name: chat\n")

        XCTAssertEqual(found.count, 1)
        XCTAssertTrue(found.first?.hasPrefix("FILE:2: YAML syntax error: ") ?? false, found.first ?? "")
    }

    func testEmptyFile() throws {
        XCTAssertEqual(try issues(""), [
            "FILE: the file is empty; it needs at least a \"targets\" list, as in config/loadsmoke.example.yaml",
        ])
    }

    func testCommentOnlyFileIsEmpty() throws {
        XCTAssertEqual(try issues("# nothing yet\n").first?.hasPrefix("FILE: the file is empty"), true)
    }

    func testTopLevelListRejected() throws {
        XCTAssertEqual(try issues("- name: chat\n"), [
            "FILE:1: expected a mapping with the keys storage, server, alert, targets at the top level, found a list",
        ])
    }

    func testMissingFile() throws {
        let path = directory.appendingPathComponent("absent.yaml").path

        XCTAssertThrowsError(try ConfigurationLoader.load(path: path, environment: [:])) { error in
            XCTAssertEqual((error as? ConfigurationErrors)?.description,
                           "\(path): cannot open the configuration file: No such file or directory; check the path and its permissions")
        }
    }

    func testDirectoryRejected() throws {
        XCTAssertThrowsError(try ConfigurationLoader.load(path: directory.path, environment: [:])) { error in
            XCTAssertEqual((error as? ConfigurationErrors)?.description,
                           "\(directory.path): not a regular file; give the path of a YAML or JSON configuration file")
        }
    }

    func testAnchorRejected() throws {
        let text = "targets:\n  - &base\n    name: chat\n    url: http://127.0.0.1:8000\n    schedule: every 1m\n"

        XCTAssertEqual(try issues(text), [
            "FILE:2: YAML anchor \"&base\" is not supported; write each value out in full",
        ])
    }

    func testAliasRejected() throws {
        let text = minimalTarget + "    timeout: &t 5s\n    fallback_field: *t\n"

        XCTAssertEqual(try issues(text).first, "FILE:5: YAML anchor \"&t\" is not supported; write each value out in full")
    }

    func testSecondDocumentRejected() throws {
        XCTAssertEqual(try issues(minimalTarget + "---\n" + minimalTarget), [
            "FILE:5: a second YAML document starts here; keep the whole configuration in one document",
        ])
    }

    func testListenRejectsBadPort() throws {
        XCTAssertEqual(try issues("server:\n  listen: 127.0.0.1:70000\n" + minimalTarget), [
            "FILE:2: server.listen: invalid address \"127.0.0.1:70000\": invalid port \"70000\"; expected a whole number from 0 to 65535",
        ])
    }

    func testListenRejectsMissingHost() throws {
        XCTAssertEqual(try issues("server:\n  listen: \":9790\"\n" + minimalTarget), [
            "FILE:2: server.listen: invalid address \":9790\": missing host before \":9790\"; write it out, such as 127.0.0.1:9790 for loopback only or 0.0.0.0:9790 for every interface",
        ])
    }

    func testListenRejectsIPv6WithoutBrackets() throws {
        XCTAssertEqual(try issues("server:\n  listen: \"::1:9790\"\n" + minimalTarget), [
            "FILE:2: server.listen: invalid address \"::1:9790\": an IPv6 address needs brackets, such as [::1]:9790",
        ])
    }

    func testAlertRelativeProgramRejected() throws {
        XCTAssertEqual(try issues("alert:\n  command: [./notify]\n" + minimalTarget), [
            "FILE:2: alert.command[0]: invalid program \"./notify\"; expected an absolute path such as /usr/local/bin/notify-ops or a command name looked up on PATH",
        ])
    }

    func testAlertUnknownEventRejected() throws {
        XCTAssertEqual(try issues("alert:\n  command: [notify]\n  on: [failure, outage]\n" + minimalTarget), [
            "FILE:3: alert.on[1]: unknown event \"outage\"; accepted events: failure, recovery",
        ])
    }

    func testRateBudgetAboveOneRejected() throws {
        XCTAssertEqual(try issues(minimalTarget + "    budgets: {error_rate: 150%}\n"), [
            "FILE:5: targets[chat].budgets.error_rate: invalid value \"150%\": expected a fraction from 0 to 1, such as 0.05 for 5 %",
        ])
    }

    func testMissingPromptsFile() throws {
        let path = directory.appendingPathComponent("none.txt").path

        XCTAssertEqual(try issues(minimalTarget + "    prompts: none.txt\n"), [
            "FILE:5: targets[chat].prompts: prompts file \"\(path)\" not found; paths are relative to the configuration file's folder",
        ])
    }

    func testUrlAndHeaderCheckedBySmokeOptions() throws {
        let text = "targets:\n  - name: chat\n    url: ftp://example.invalid\n    schedule: every 1m\n    headers: {\"Bad Name\": x}\n"

        XCTAssertEqual(try issues(text), [
            "FILE:3: targets[chat].url: invalid value \"ftp://example.invalid\": expected an http:// or https:// URL with a host (and a port from 1 to 65535), such as http://localhost:8000",
            "FILE:5: targets[chat].headers.Bad Name: invalid header \"Bad Name\": expected a header name of letters, digits and -, such as X-Team",
        ])
    }

    func testUnknownKeyWithTiedSuggestionsListsKeys() throws {
        XCTAssertEqual(try issues(minimalTarget + "    budgets: {p90: 900}\n"), [
            "FILE:5: targets[chat].budgets.p90: unknown key \"p90\"; accepted keys: p50, p95, p99, error_rate, fallback_rate, "
                + "ttft_p50, ttft_p95, ttft_p99, itl_p50, itl_p95, itl_p99",
        ])
    }

    func testStreamingBudgetNeedsStream() throws {
        XCTAssertEqual(try issues(minimalTarget + "    budgets: {ttft_p95: 800ms}\n"), [
            "FILE:5: targets[chat].budgets.ttft_p95: invalid value \"800\": time-to-first-token and inter-token budgets need "
                + "streamed answers; add stream: true",
        ])
    }

    func testNegativeStreamingBudgetRejected() throws {
        XCTAssertEqual(try issues(minimalTarget + "    stream: true\n    budgets: {itl_p50: -5}\n"), [
            "FILE:6: targets[chat].budgets.itl_p50: invalid value \"-5\": expected a number of 0 or more",
        ])
    }

    func testJSONFieldCheckWithStreamRejected() throws {
        XCTAssertEqual(try issues(minimalTarget + "    stream: true\n    expect_json_field: [/answer]\n"), [
            "FILE:6: targets[chat].expect_json_field: invalid value \"/answer\": applies to whole JSON answers, not to "
                + "streams; drop it or set stream: false",
        ])
    }

    func testBodyWithOpenAIRejected() throws {
        XCTAssertEqual(try issues(minimalTarget + "    openai: gpt-4o-mini\n    body: '{\"q\": \"{{prompt}}\"}'\n"), [
            "FILE:5: targets[chat].openai: invalid value \"gpt-4o-mini\": cannot be combined with body or body_file; use one of them",
        ])
    }

    func testBodyAndBodyFileRejected() throws {
        try write("{}", to: "body.json")

        XCTAssertEqual(try issues(minimalTarget + "    body: '{}'\n    body_file: body.json\n"), [
            "FILE:6: targets[chat].body_file: body and body_file cannot be combined; use one of them",
        ])
    }

    func testMissingBodyFile() throws {
        let path = directory.appendingPathComponent("missing.json").path

        XCTAssertEqual(try issues(minimalTarget + "    body_file: missing.json\n"), [
            "FILE:5: targets[chat].body_file: body file \"\(path)\" not found; paths are relative to the configuration file's folder",
        ])
    }

    func testBodyFileNotJSONRejected() throws {
        let path = try write(#"{"message": {{prompt}}}"#, to: "body.json")

        let found = try issues(minimalTarget + "    body_file: body.json\n")

        XCTAssertEqual(found.count, 1)
        XCTAssertTrue(found.first?.hasPrefix(
            "FILE:5: targets[chat].body_file: invalid value \"\(path)\": the template is not valid JSON once {{prompt}} and "
                + "{{request_id}} are filled in ("
        ) ?? false, found.first ?? "")
    }

    func testInlineBodyNotJSONRejected() throws {
        let found = try issues(minimalTarget + "    body: 'message={{prompt}}'\n")

        XCTAssertEqual(found.count, 1)
        XCTAssertTrue(found.first?.hasPrefix("FILE:5: targets[chat].body: invalid value \"message={{prompt}}\": the template is not valid JSON") ?? false,
                      found.first ?? "")
    }

    func testWorkloadValuesRejected() throws {
        let text = minimalTarget + """
            method: post
            prompt_order: shuffled
            seed: -1
            stream: yes
            stream_idle_timeout: 0s
            request_id_header: "X Trace"
            expect_status: [200, 7xx]
            expect_json_field: answer
            expect_header: ["X Model=chat"]

        """
        XCTAssertEqual(try issues(text), [
            "FILE:5: targets[chat].method: invalid value \"post\": expected an HTTP method in capitals, such as POST or GET",
            "FILE:6: targets[chat].prompt_order: invalid value \"shuffled\": expected sequential or random",
            "FILE:7: targets[chat].seed: invalid value \"-1\": expected a whole number from 0 to 18446744073709551615",
            "FILE:8: targets[chat].stream: expected true or false, found the value \"yes\"",
            "FILE:9: targets[chat].stream_idle_timeout: \(durationErrorText("0s"))",
            "FILE:10: targets[chat].request_id_header: invalid value \"X Trace\": expected a header name such as X-Request-Id, or none",
            "FILE:11: targets[chat].expect_status[1]: invalid value \"7xx\": \"7xx\" is neither a status code from 100 to 599 nor a class such as 2xx",
            "FILE:12: targets[chat].expect_json_field: invalid value \"answer\": expected a JSON Pointer starting with /, such as /answer",
            "FILE:13: targets[chat].expect_header[0]: invalid value \"X Model=chat\": expected NAME or NAME=VALUE, such as X-Fallback=false",
        ])
    }

    func testOptionReasonsNameConfigurationKeys() {
        XCTAssertEqual(SmokeOptionsDecoding.configurationReason("cannot be combined with --body or --body-file; use one of them"),
                       "cannot be combined with body or body_file; use one of them")
        XCTAssertEqual(SmokeOptionsDecoding.configurationReason("needs --budget-ttft-p95 and --stream"),
                       "needs budgets.ttft_p95 and stream: true")
        XCTAssertEqual(SmokeOptionsDecoding.configurationReason("a range such as 1--2"), "a range such as 1--2")
    }

    func testListenRejectsBadIPv4() throws {
        XCTAssertEqual(try issues("server:\n  listen: 300.1.1.1:9790\n" + minimalTarget), [
            "FILE:2: server.listen: invalid address \"300.1.1.1:9790\": \"300.1.1.1\" is not an IP address or host name; use 127.0.0.1:9790 or [::1]:9790",
        ])
    }

    func testDeepNestingRejected() throws {
        let nested = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)

        XCTAssertEqual(try issues(minimalTarget + "    simulate: \(nested)\n"), [
            "FILE:5: lists and mappings nest more than 64 levels deep; flatten the file",
        ])
    }

    func testSeveralErrorsReportedTogether() throws {
        let text = """
        storage:
          retention: forever
        server:
          listen: 127.0.0.1:65536
        targets:
          - name: chat-prod
            url: http://127.0.0.1:8000
            schedule: "61 * * * *"
            concurency: 5
          - name: chat-prod
            schedule: every 1m
        """
        let found = try issues(text, environment: [:])

        XCTAssertEqual(found, [
            "FILE:2: storage.retention: \(durationErrorText("forever"))",
            "FILE:4: server.listen: invalid address \"127.0.0.1:65536\": invalid port \"65536\"; expected a whole number from 0 to 65535",
            "FILE:8: targets[chat-prod].schedule: \(scheduleErrorText("61 * * * *"))",
            "FILE:9: targets[chat-prod].concurency: unknown key \"concurency\"; did you mean \"concurrency\"?",
            "FILE:10: targets[1].name: duplicate target name \"chat-prod\"; it is already used on line 6, and names must be unique",
        ])
    }

    func testParseTextUsesSourcePathInIssues() throws {
        XCTAssertThrowsError(try ConfigurationLoader.parse(text: "targets: []\n", sourcePath: "loadsmoke.yaml", environment: [:])) { error in
            XCTAssertEqual((error as? ConfigurationErrors)?.description,
                           "loadsmoke.yaml:1: targets: expected at least one target with a name, url and schedule")
        }
    }

    // MARK: Messages of the Scheduling module

    private func scheduleErrorText(_ text: String) -> String {
        do {
            _ = try Schedule.parse(text)
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    private func durationErrorText(_ text: String) -> String {
        do {
            _ = try DurationText.parse(text)
            return "no error"
        } catch {
            return "\(error)"
        }
    }
}

final class PacingConfigurationTests: XCTestCase {
    private func load(_ target: String) throws -> DaemonConfiguration {
        let text = """
        storage:
          path: /tmp/loadsmoke-pacing-test.db
        targets:
          - name: chat
            url: http://127.0.0.1:9
            schedule: every 1m
        \(target)
        """
        return try ConfigurationLoader.parse(text: text, sourcePath: "FILE", environment: [:])
    }

    private func issues(_ target: String) -> [String] {
        do {
            _ = try load(target)
            return []
        } catch let errors as ConfigurationErrors {
            return errors.issues.map(\.description)
        } catch {
            return ["\(error)"]
        }
    }

    func testOpenLoopKeysAreRead() throws {
        let options = try load("    rate: 12.5\n    max_in_flight: 40\n    duration: 30s\n    warmup: 5s\n").targets[0].options
        XCTAssertEqual(options.ratePerSecond, 12.5)
        XCTAssertEqual(options.maxInFlight, 40)
        XCTAssertEqual(options.durationSeconds, 30)
        XCTAssertEqual(options.warmupSeconds, 5)
    }

    func testWarmupCountIsRead() throws {
        XCTAssertEqual(try load("    warmup: 20\n").targets[0].options.warmupRequests, 20)
    }

    func testRateWithConcurrencyIsRejected() {
        XCTAssertEqual(issues("    rate: 10\n    concurrency: 5\n"), [
            "FILE:8: targets[chat].concurrency: concurrency sets the closed loop's workers and cannot be combined with rate; bound the open loop with max_in_flight",
        ])
    }

    func testMaxInFlightWithoutRateIsRejected() {
        XCTAssertEqual(issues("    max_in_flight: 5\n"), [
            "FILE:7: targets[chat].max_in_flight: max_in_flight bounds the open loop and needs rate; the closed loop uses concurrency",
        ])
    }

    func testDurationWithRequestsIsRejected() {
        XCTAssertEqual(issues("    requests: 10\n    duration: 1m\n"), [
            "FILE:8: targets[chat].duration: duration and requests both set the run's length; use one of them",
        ])
    }

    func testBadRateIsRejected() {
        XCTAssertEqual(issues("    rate: fast\n").first, "FILE:7: targets[chat].rate: invalid value \"fast\": expected requests per second greater than 0, such as 20 or 0.5")
    }
}
