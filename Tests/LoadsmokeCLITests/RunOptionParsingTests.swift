@testable import LoadsmokeCLI
import Reporting
import SmokeRunner
import XCTest

final class RunOptionParsingTests: XCTestCase {
    private func invocation(_ arguments: [String], environment: [String: String] = [:]) throws -> RunCommand.Invocation {
        let parsed = try ArgumentParser.parse(arguments, for: RunCommand.spec)
        return try RunCommand.invocation(from: parsed, environment: environment)
    }

    private func usageMessage(_ arguments: [String]) -> String? {
        do {
            _ = try invocation(arguments)
            return nil
        } catch let error as UsageError {
            return error.description
        } catch {
            return "\(error)"
        }
    }

    func testDefaultsMatchTheDocumentedTable() throws {
        let options = try invocation([]).options
        XCTAssertEqual(options.requests, 50)
        XCTAssertEqual(options.concurrency, 10)
        XCTAssertEqual(options.url, "http://localhost:8000")
        XCTAssertEqual(options.effectivePath, "/chat")
        XCTAssertEqual(options.timeoutSeconds, 30)
        XCTAssertNil(options.apiKey)
        XCTAssertEqual(options.simulate, [])
        XCTAssertEqual(options.budgets, Budget.defaults)
        XCTAssertEqual(options.fallbackHeader, "X-Fallback")
        XCTAssertEqual(options.fallbackField, "fallback")
    }

    func testShortAndLongFormsAndEqualsSyntax() throws {
        let options = try invocation(["-n", "7", "--concurrency=3", "-c4", "--timeout", "2.5"]).options
        XCTAssertEqual(options.requests, 7)
        XCTAssertEqual(options.concurrency, 4, "the last of repeated single-value options wins")
        XCTAssertEqual(options.timeoutSeconds, 2.5)
    }

    func testBudgetsAreParsed() throws {
        let options = try invocation([
            "--budget-p50", "100", "--budget-p95=200", "--budget-p99", "300.5",
            "--budget-error", "0", "--budget-fallback", "1",
        ]).options
        XCTAssertEqual(options.budgets.map(\.limit), [100, 200, 300.5, 0, 1])
    }

    func testPineconeDownAndSimulateCombine() throws {
        XCTAssertEqual(try invocation(["--pinecone-down"]).options.simulate, ["pinecone"])
        XCTAssertEqual(try invocation(["--simulate", "redis", "--pinecone-down"]).options.simulate, ["pinecone", "redis"])
        XCTAssertEqual(try invocation(["--simulate", "pinecone", "--pinecone-down"]).options.simulate, ["pinecone"])
    }

    func testAPIKeyFromEnvironmentAndFlag() throws {
        XCTAssertEqual(try invocation([], environment: ["LOADSMOKE_API_KEY": "env-key"]).options.apiKey, "env-key")
        XCTAssertEqual(try invocation(["--api-key", "flag-key"], environment: ["LOADSMOKE_API_KEY": "env-key"]).options.apiKey, "flag-key")
        XCTAssertNil(try invocation([], environment: ["LOADSMOKE_API_KEY": ""]).options.apiKey)
    }

    func testHeadersAreRepeatableAndTrimmed() throws {
        let headers = try invocation(["--header", "X-Team:  search ", "--header", "X-Env: staging"]).options.headers
        XCTAssertEqual(headers.map(\.name), ["X-Team", "X-Env"])
        XCTAssertEqual(headers.map(\.value), ["search", "staging"])
    }

    func testOutputFlags() throws {
        let parsed = try invocation(["--json", "--output", "/tmp/r.json", "--no-progress"])
        XCTAssertTrue(parsed.isJSON)
        XCTAssertEqual(parsed.outputPath, "/tmp/r.json")
        XCTAssertFalse(parsed.showsProgress)
    }

    func testUnknownOptionNamesItAndHelp() {
        XCTAssertEqual(usageMessage(["--bogus"]), "error: unknown option '--bogus' (see 'loadsmoke run --help')")
        XCTAssertEqual(usageMessage(["-x"]), "error: unknown option '-x' (see 'loadsmoke run --help')")
    }

    func testInvalidNumbersNameTheValue() {
        XCTAssertEqual(usageMessage(["-n", "abc"]), "error: invalid value \"abc\" for --requests: expected a whole number of 1 or more (see 'loadsmoke run --help')")
        XCTAssertEqual(usageMessage(["-c", "0"]), "error: invalid value \"0\" for --concurrency: expected a whole number of 1 or more (see 'loadsmoke run --help')")
        XCTAssertEqual(usageMessage(["--timeout", "0"]), "error: invalid value \"0\" for --timeout: expected seconds greater than 0, such as 30 or 2.5 (see 'loadsmoke run --help')")
        XCTAssertEqual(usageMessage(["--budget-error", "5"]), "error: invalid value \"5\" for --budget-error: expected a fraction from 0 to 1, such as 0.05 for 5 % (see 'loadsmoke run --help')")
        XCTAssertEqual(usageMessage(["--budget-p95", "-1"]), "error: invalid value \"-1\" for --budget-p95: expected milliseconds of 0 or more, such as 800 (see 'loadsmoke run --help')")
    }

    func testMissingValueIsReported() {
        XCTAssertEqual(usageMessage(["--url"]), "error: missing value for '--url' (expected URL) (see 'loadsmoke run --help')")
    }

    func testFlagWithValueIsRejected() {
        XCTAssertEqual(usageMessage(["--json=yes"]), "error: option '--json' takes no value (see 'loadsmoke run --help')")
    }

    func testPositionalArgumentIsRejected() {
        XCTAssertEqual(usageMessage(["extra"]), "error: unexpected argument 'extra' (see 'loadsmoke run --help')")
    }

    func testMalformedHeaderIsRejected() {
        XCTAssertEqual(usageMessage(["--header", "no colon"]), "error: invalid value \"no colon\" for --header: expected 'Name: value', such as 'X-Team: search' (see 'loadsmoke run --help')")
    }

    func testHelpListsEveryOption() {
        let help = RunCommand.spec.helpText
        for option in ["--requests", "-n", "--concurrency", "-c", "--url", "--api-key", "--timeout", "--pinecone-down",
                       "--simulate", "--budget-p50", "--budget-p95", "--budget-p99", "--budget-error", "--budget-fallback",
                       "--json", "--output", "--header", "--prompts", "--fallback-header", "--fallback-field"] {
            XCTAssertTrue(help.contains(option), "help lacks \(option)")
        }
        XCTAssertTrue(help.contains("nearest-rank"))
        XCTAssertTrue(help.contains("any 2xx"))
    }
}

final class SmokeOptionsValidationTests: XCTestCase {
    func testMalformedURLsAreRejected() {
        for url in ["localhost:8000", "ftp://example", "http://", "not a url"] {
            var options = SmokeOptions()
            options.url = url
            XCTAssertThrowsError(try options.validate(), url) { error in
                XCTAssertTrue("\(error)".contains("--url"), "\(error)")
            }
        }
    }

    func testEndpointJoinsBasePathAndPath() throws {
        var options = SmokeOptions()
        options.url = "https://api.example.com/v1/"
        XCTAssertEqual(try options.endpointURL().absoluteString, "https://api.example.com/v1/chat")
        options.path = "/ask"
        options.url = "http://[::1]:9000"
        XCTAssertEqual(try options.endpointURL().absoluteString, "http://[::1]:9000/ask")
    }

    func testUnreadablePromptsFileIsAnOptionError() {
        var options = SmokeOptions()
        options.promptsFile = "/nonexistent/prompts.txt"
        XCTAssertThrowsError(try SmokeRun.prepare(options)) { error in
            XCTAssertTrue("\(error)".hasPrefix("invalid value \"/nonexistent/prompts.txt\" for --prompts: cannot read the file"), "\(error)")
        }
    }

    func testPromptsFileSkipsBlankLines() throws {
        let path = NSTemporaryDirectory() + "prompts-\(getpid()).txt"
        try "first\r\n\n  \nsecond\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        var options = SmokeOptions()
        options.promptsFile = path
        let run = try SmokeRun.prepare(options)
        let bodies = (0..<3).map { String(decoding: run.plan.body(for: $0), as: UTF8.self) }
        XCTAssertEqual(bodies, [#"{"message":"first"}"#, #"{"message":"second"}"#, #"{"message":"first"}"#])
        XCTAssertEqual(run.setup.promptCount, 2)
    }

    func testSecretsStayOutOfTheSetup() throws {
        var options = SmokeOptions()
        options.url = "http://user:hunter2@localhost:8000"
        options.apiKey = "sk-secret"
        options.headers = [(name: "X-Api-Key", value: "abc123"), (name: "X-Team", value: "search")]
        let run = try SmokeRun.prepare(options)
        XCTAssertFalse(run.setup.url.contains("hunter2"))
        XCTAssertEqual(run.setup.headers.map(\.value), ["<redacted>", "search"])
        XCTAssertTrue(run.plan.headers.contains { $0.name == "Authorization" && $0.value == "Bearer sk-secret" })
    }

    func testBuiltInPromptsAreVaried() {
        XCTAssertGreaterThanOrEqual(CannedPrompts.all.count, 20)
        let lengths = CannedPrompts.all.map(\.count)
        XCTAssertLessThan(lengths.min()!, 20)
        XCTAssertGreaterThan(lengths.max()!, 150)
    }
}

final class PacingOptionTests: XCTestCase {
    private func options(_ arguments: [String]) throws -> SmokeOptions {
        let parsed = try ArgumentParser.parse(arguments, for: RunCommand.spec)
        return try RunCommand.invocation(from: parsed, environment: [:]).options
    }

    private func message(_ arguments: [String]) -> String {
        do {
            _ = try options(arguments)
            return ""
        } catch {
            return "\(error)"
        }
    }

    func testOpenLoopOptions() throws {
        let parsed = try options(["--rate", "25", "--max-in-flight", "8", "--duration", "1m", "--warmup", "10s"])
        XCTAssertEqual(parsed.ratePerSecond, 25)
        XCTAssertEqual(parsed.maxInFlight, 8)
        XCTAssertEqual(parsed.durationSeconds, 60)
        XCTAssertEqual(parsed.warmupSeconds, 10)
        XCTAssertEqual(try options(["--warmup", "15"]).warmupRequests, 15)
    }

    func testPlannedRequestsFollowTheRunLength() throws {
        XCTAssertEqual(try options(["-n", "7"]).plannedRequests, 7)
        XCTAssertEqual(try options(["--rate", "5", "--duration", "20s"]).plannedRequests, 100)
        XCTAssertEqual(try options(["--duration", "20s"]).plannedRequests, 0, "a closed-loop duration run has no planned count")
    }

    func testPortOutOfRangeIsUsageError() {
        var smoke = SmokeOptions()
        smoke.url = "http://127.0.0.1:99999"
        XCTAssertThrowsError(try smoke.validate()) { error in
            XCTAssertTrue("\(error)".contains("a port from 1 to 65535"), "\(error)")
        }
    }

    func testConflictingOptionsAreRejected() {
        XCTAssertEqual(message(["--rate", "5", "-c", "3"]), "error: --concurrency sets the closed loop's workers and cannot be combined with --rate; bound the open loop with --max-in-flight (see 'loadsmoke run --help')")
        XCTAssertEqual(message(["--max-in-flight", "3"]), "error: --max-in-flight bounds the open loop and needs --rate; the closed loop uses --concurrency (see 'loadsmoke run --help')")
        XCTAssertEqual(message(["--duration", "10s", "-n", "5"]), "error: --duration and --requests both set the run's length; use one of them (see 'loadsmoke run --help')")
        XCTAssertEqual(message(["--rate", "0"]), "error: invalid value \"0\" for --rate: expected requests per second greater than 0, such as 20 (see 'loadsmoke run --help')")
        XCTAssertEqual(message(["--duration", "10"]), "error: invalid value \"10\" for --duration: expected a duration such as 500ms, 10s or 1m (see 'loadsmoke run --help')")
        XCTAssertEqual(message(["--warmup", "soon"]), "error: invalid value \"soon\" for --warmup: expected a request count such as 20 or a duration such as 10s (see 'loadsmoke run --help')")
    }
}
