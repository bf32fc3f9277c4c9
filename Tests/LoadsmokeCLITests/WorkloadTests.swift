@testable import LoadsmokeCLI
import DemoAPI
import Foundation
import HTTPServer
import JSONCoding
import Reporting
import SmokeRunner
import XCTest

/// Request bodies, prompt files and ordering, and the options that build them.
final class WorkloadTests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("loadsmoke-workload-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(at: folder)
    }

    private func options(_ arguments: [String]) throws -> SmokeOptions {
        let parsed = try ArgumentParser.parse(arguments, for: RunCommand.spec)
        return try RunCommand.invocation(from: parsed, environment: [:]).options
    }

    private func bodies(_ arguments: [String], count: Int = 3) throws -> [String] {
        let run = try SmokeRun.prepare(try options(arguments))
        return (0..<count).map { String(decoding: run.plan.body(for: $0), as: UTF8.self) }
    }

    private func write(_ text: String, to name: String) throws -> String {
        let path = folder.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func testTemplateEscapesPromptAndFillsRequestID() throws {
        let prompts = try write("say \"hi\"\nline\\two\n", to: "prompts.txt")
        let run = try SmokeRun.prepare(try options(["--prompts", prompts, "--body", #"{"q": "{{prompt}}", "id": "{{request_id}}"}"#]))
        let first = try JSONValue.parse(run.plan.body(for: 0))
        XCTAssertEqual(first["q"], .string("say \"hi\""))
        XCTAssertEqual(first["id"], .string("\(run.plan.requestIDPrefix)-0"))
        XCTAssertEqual(try JSONValue.parse(run.plan.body(for: 1))["q"], .string("line\\two"))
    }

    func testTemplateThatIsNotJSONIsRejected() {
        XCTAssertThrowsError(try SmokeRun.prepare(try options(["--body", #"{"q": {{prompt}}}"#]))) { error in
            XCTAssertTrue("\(error)".hasPrefix("invalid value \"--body\" for --body: the template is not valid JSON"), "\(error)")
        }
    }

    func testBodyFileIsRead() throws {
        let template = try write(#"{"input": "{{prompt}}"}"#, to: "body.json")
        let prompts = try write("one\n", to: "p.txt")
        XCTAssertEqual(try bodies(["--body-file", template, "--prompts", prompts], count: 1), [#"{"input": "one"}"#])
    }

    func testJSONLinesPromptsAreSentAsTheyAre() throws {
        let prompts = try write(#"{"message": "a", "user": "u1"}"# + "\n\n" + #"{"message": "b", "tags": [1]}"# + "\n", to: "prompts.jsonl")
        XCTAssertEqual(try bodies(["--prompts", prompts], count: 2), [#"{"message":"a","user":"u1"}"#, #"{"message":"b","tags":[1]}"#])
    }

    func testMalformedJSONLinesNameTheLine() throws {
        let prompts = try write(#"{"message": "a"}"# + "\n" + #"{"message": "#, to: "bad.jsonl")
        XCTAssertThrowsError(try SmokeRun.prepare(try options(["--prompts", prompts]))) { error in
            XCTAssertTrue("\(error)".contains("line 2 is not valid JSON"), "\(error)")
        }
    }

    func testOpenAIBodyAndPath() throws {
        let run = try SmokeRun.prepare(try options(["--openai", "demo", "--stream"]))
        XCTAssertTrue(run.plan.url.hasSuffix("/v1/chat/completions"), run.plan.url)
        let body = try JSONValue.parse(run.plan.body(for: 0))
        XCTAssertEqual(body["model"], .string("demo"))
        XCTAssertEqual(body["stream"], .bool(true))
        XCTAssertEqual(body["messages"]?.arrayValue?.first?["role"], .string("user"))
        XCTAssertEqual(body["messages"]?.arrayValue?.first?["content"], .string(CannedPrompts.all[0]))
        XCTAssertEqual(body["stream_options"]?["include_usage"], .bool(true))
        XCTAssertNotNil(run.plan.stream)
    }

    func testRandomOrderRepeatsWithSeed() throws {
        let first = try bodies(["--prompt-order", "random", "--seed", "7"], count: 20)
        let second = try bodies(["--prompt-order", "random", "--seed", "7"], count: 20)
        let other = try bodies(["--prompt-order", "random", "--seed", "8"], count: 20)
        XCTAssertEqual(first, second)
        XCTAssertNotEqual(first, other)
        XCTAssertGreaterThan(Set(first).count, 5, "a random order spreads over the prompts")
    }

    func testSequentialOrderRotates() throws {
        let sent = try bodies([], count: CannedPrompts.all.count + 1)
        XCTAssertEqual(sent.first, sent.last)
    }

    func testInvalidCombinationsAreRejected() {
        let cases: [([String], String)] = [
            (["--openai", "m", "--body", "{}"], "--openai: cannot be combined with --body"),
            (["--budget-ttft-p95", "300"], "need streamed answers; add --stream"),
            (["--stream", "--expect-json-field", "/answer"], "applies to whole JSON answers"),
            (["--expect-json-field", "answer"], "expected a JSON Pointer"),
            (["--expect-status", "2x"], "\"2x\" is neither a status code"),
            (["--method", "post"], "expected an HTTP method in capitals"),
        ]
        for (arguments, expected) in cases {
            XCTAssertThrowsError(try SmokeRun.prepare(try options(arguments)), "\(arguments)") { error in
                XCTAssertTrue("\(error)".contains(expected), "\(arguments): \(error)")
            }
        }
    }

    func testUnknownPromptOrderIsUsageError() {
        XCTAssertThrowsError(try options(["--prompt-order", "shuffled"])) { error in
            XCTAssertEqual("\(error)", "error: invalid value \"shuffled\" for --prompt-order: expected sequential or random (see 'loadsmoke run --help')")
        }
    }

    func testCompressionIsRequestedOnlyWhenAsked() throws {
        let seen = HeaderLog()
        let server = HTTPServer(configuration: .init(port: 0)) { request in
            seen.append(request.headers["Accept-Encoding"] ?? "none")
            return .json(serialized: "{}")
        }
        try server.start()
        defer { server.stop() }
        let url = "http://127.0.0.1:\(server.port)"
        XCTAssertEqual(try LoadsmokeProcess.run(["run", "--url", url, "-n", "1"]).exitCode, 0)
        XCTAssertEqual(try LoadsmokeProcess.run(["run", "--url", url, "-n", "1", "--compressed"]).exitCode, 0)
        XCTAssertEqual(seen.values.first, "none")
        XCTAssertTrue(seen.values.last?.contains("gzip") == true, seen.values.description)
    }

    func testRequestIDsAreUniquePerRequest() throws {
        let seen = HeaderLog()
        let server = HTTPServer(configuration: .init(port: 0)) { request in
            seen.append(request.headers["X-Trace"] ?? "")
            return .json(serialized: "{}")
        }
        try server.start()
        defer { server.stop() }
        let result = try LoadsmokeProcess.run(["run", "--url", "http://127.0.0.1:\(server.port)", "-n", "6", "-c", "3", "--request-id-header", "X-Trace", "--json"])
        XCTAssertEqual(result.exitCode, 0, result.stderr)
        let prefix = try JSONValue.parse(result.stdout)["config"]?["request_id_prefix"]?.stringValue ?? "?"
        XCTAssertEqual(Set(seen.values), Set((0..<6).map { "\(prefix)-\($0)" }))
    }
}

/// `loadsmoke run --openai demo --stream` against the demo API, whose token timing is set per test.
final class StreamingRunTests: XCTestCase {
    func testStreamMetricsMatchDemoDelays() throws {
        let demo = try DemoChatService(options: DemoOptions(
            port: 0, latencyMilliseconds: 1, firstTokenMilliseconds: 80, tokenIntervalMilliseconds: 15,
            fallbackRate: 0, errorRate: 0, seed: 5
        ))
        try demo.start()
        defer { demo.stop() }
        let result = try LoadsmokeProcess.run([
            "run", "--url", "http://127.0.0.1:\(demo.port)", "--openai", "demo", "--stream", "-n", "6", "-c", "3",
            "--budget-p50", "5000", "--budget-p95", "5000", "--budget-p99", "5000", "--budget-ttft-p95", "1000", "--json",
        ])
        XCTAssertEqual(result.exitCode, 0, result.stderr)
        let document = try JSONValue.parse(result.stdout)
        XCTAssertEqual(document["ttft_ms"]?["p50"]?.doubleValue ?? 0, 80, accuracy: 10)
        XCTAssertEqual(document["itl_ms"]?["p50"]?.doubleValue ?? 0, 15, accuracy: 5)
        XCTAssertEqual(document["tokens_per_s"]?.doubleValue ?? 0, 1000.0 / 15, accuracy: 12)
        XCTAssertEqual(document["stream"]?["token_count_source"], .string("usage"))
        XCTAssertEqual(document["budgets"]?.arrayValue?.last?["name"], .string("ttft_p95"))
    }

    func testCutStreamsFailWithStreamKind() throws {
        let demo = try DemoChatService(options: DemoOptions(port: 0, firstTokenMilliseconds: 1, tokenIntervalMilliseconds: 1, fallbackRate: 0, errorRate: 0))
        try demo.start()
        defer { demo.stop() }
        let result = try LoadsmokeProcess.run(["run", "--url", "http://127.0.0.1:\(demo.port)", "--openai", "demo", "--stream", "--simulate", "stream-cut", "-n", "4", "--json"])
        XCTAssertEqual(result.exitCode, 1)
        XCTAssertEqual(try JSONValue.parse(result.stdout)["errors"], .object([("stream", .integer(Int64(4)))]))
    }

    func testNonStreamedRunHasNullStreamMetrics() throws {
        let demo = try DemoChatService(options: DemoOptions(port: 0, latencyMilliseconds: 1, fallbackRate: 0, errorRate: 0))
        try demo.start()
        defer { demo.stop() }
        let result = try LoadsmokeProcess.run(["run", "--url", "http://127.0.0.1:\(demo.port)", "-n", "2", "--json"])
        let document = try JSONValue.parse(result.stdout)
        XCTAssertEqual(document["ttft_ms"], .null)
        XCTAssertEqual(document["itl_ms"], .null)
        XCTAssertEqual(document["tokens_per_s"], .null)
    }
}

final class PlainJSONAPITests: XCTestCase {
    func testGetWithEmptyBodyAndFieldCheck() throws {
        let methods = HeaderLog()
        let server = HTTPServer(configuration: .init(port: 0)) { request in
            methods.append("\(request.method) \(request.body.count)")
            return .json(serialized: #"{"status":"ok"}"#)
        }
        try server.start()
        defer { server.stop() }
        let url = "http://127.0.0.1:\(server.port)"
        let passing = try LoadsmokeProcess.run(["run", "--url", url, "--path", "/v2/health", "--method", "GET", "--body", "", "--expect-json-field", "/status", "-n", "3"])
        XCTAssertEqual(passing.exitCode, 0, passing.stdout + passing.stderr)
        XCTAssertEqual(methods.values, Array(repeating: "GET 0", count: 3))

        let failing = try LoadsmokeProcess.run(["run", "--url", url, "--method", "GET", "--body", "", "--expect-json-field", "/answer", "-n", "2", "--json"])
        XCTAssertEqual(failing.exitCode, 1)
        XCTAssertEqual(try JSONValue.parse(failing.stdout)["check_failures"], .object([("missing non-empty string at /answer", .integer(Int64(2)))]))
    }
}
