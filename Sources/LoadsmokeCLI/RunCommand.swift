import Foundation
import LoadEngine
import Reporting
import Scheduling
import SmokeRunner
import Storage

/// `loadsmoke run`: one smoke run with budgets, for CI pipelines.
enum RunCommand {
    static let spec = CommandSpec(
        name: "run",
        summary: "Send requests to a chat API, measure latency, errors and fallbacks, and check them against budgets.",
        usage: "[options]",
        options: [
            .value("requests", short: "n", "N", "Requests to send (default: 50)."),
            .value("concurrency", short: "c", "N", "Requests in flight at once; each worker sends its next request when the last one ends (default: 10)."),
            .value("rate", "R", "Open loop: send R requests per second on schedule, latency counted from each due time (default: closed loop)."),
            .value("max-in-flight", "N", "Open loop: most requests open at once; later ones wait and are counted as delayed (default: 1000)."),
            .value("duration", "D", "Run for a time such as 30s or 2m instead of a request count."),
            .value("warmup", "N|D", "Send N requests or requests for a time D first, without counting them."),
            .value("url", "URL", "Base URL of the API (default: http://localhost:8000)."),
            .value("path", "PATH", "Request path appended to the URL (default: /chat, or /v1/chat/completions with --openai)."),
            .value("method", "METHOD", "HTTP method (default: POST); GET, HEAD, DELETE and OPTIONS send no body when the body is empty."),
            .value("api-key", "KEY", "Send 'Authorization: Bearer KEY' (default: $LOADSMOKE_API_KEY)."),
            .value("timeout", "S", "Per-request timeout in seconds, fractions allowed (default: 30)."),
            .flag("pinecone-down", "Ask the service to simulate a primary vector-store outage (same as --simulate pinecone)."),
            .value("simulate", "NAME", "Send 'X-Simulate-Failure: NAME' to ask the service to simulate that failure.", repeatable: true),
            .value("budget-p50", "MS", "Maximum p50 latency in milliseconds (default: 800)."),
            .value("budget-p95", "MS", "Maximum p95 latency in milliseconds (default: 1500)."),
            .value("budget-p99", "MS", "Maximum p99 latency in milliseconds (default: 2500)."),
            .value("budget-error", "F", "Maximum error rate, a fraction from 0 to 1 (default: 0.05)."),
            .value("budget-fallback", "F", "Maximum fallback rate, a fraction from 0 to 1 (default: 0.30)."),
            .value("budget-ttft-p50", "MS", "Maximum p50 time to first token in milliseconds (needs --stream; default: none)."),
            .value("budget-ttft-p95", "MS", "Maximum p95 time to first token in milliseconds (needs --stream; default: none)."),
            .value("budget-ttft-p99", "MS", "Maximum p99 time to first token in milliseconds (needs --stream; default: none)."),
            .value("budget-itl-p50", "MS", "Maximum p50 inter-token latency in milliseconds (needs --stream; default: none)."),
            .value("budget-itl-p95", "MS", "Maximum p95 inter-token latency in milliseconds (needs --stream; default: none)."),
            .value("budget-itl-p99", "MS", "Maximum p99 inter-token latency in milliseconds (needs --stream; default: none)."),
            .flag("json", "Print the result as one JSON document on stdout; progress and messages go to stderr."),
            .value("output", "FILE", "Also write the JSON document to FILE (replaced atomically)."),
            .value("header", "'NAME: VALUE'", "Extra request header.", repeatable: true),
            .value("prompts", "FILE", "Prompts to send: plain text, one per line, or JSON Lines objects sent as they are (default: built-in set of \(CannedPrompts.all.count))."),
            .value("prompt-order", "ORDER", "sequential or random (default: sequential)."),
            .value("seed", "N", "Seed of the random prompt order, to repeat a run (default: a new one, shown in the report)."),
            .value("body", "TEMPLATE", "JSON body template with {{prompt}} (JSON-escaped, inside quotes) and {{request_id}}."),
            .value("body-file", "FILE", "Read the body template from FILE."),
            .value("openai", "MODEL", "Send OpenAI-compatible chat completion bodies for MODEL to /v1/chat/completions."),
            .flag("stream", "Request and expect streamed answers (server-sent events or JSON lines); measure TTFT and inter-token latency."),
            .flag("compressed", "Ask for compressed answers (Accept-Encoding) and decompress them, as browsers and most SDKs do (default: off)."),
            .value("stream-idle-timeout", "S", "Seconds a stream may go without data before it fails as stalled (default: 10)."),
            .value("request-id-header", "NAME", "Header carrying a per-request id PREFIX-N, or none (default: X-Request-Id)."),
            .value("expect-status", "LIST", "Statuses that count as success, codes or classes such as 200,204 or 2xx (default: 2xx)."),
            .value("expect-json-field", "POINTER", "JSON Pointer that must hold a non-empty string in every answer, such as /answer.", repeatable: true),
            .value("expect-header", "NAME[=VALUE]", "Header every answer must carry, with that value when given.", repeatable: true),
            .value("fallback-header", "NAME[=VALUE]", "Response header marking a fallback answer when its value is true, 1 or yes, or VALUE when given (default: X-Fallback)."),
            .value("fallback-field", "NAME", "JSON boolean marking a fallback answer: a top-level name or a JSON Pointer such as /retrieval/fallback (default: fallback)."),
            .value("store", "FILE", "Also append the run to this SQLite database (created when missing), as the daemon stores its runs."),
            .value("target-name", "NAME", "Target name the run is stored under; required with --store."),
            .flag("no-progress", "Do not show the progress line on stderr (it is shown only when stderr is a terminal)."),
        ],
        discussion: """
        Requests are 'POST {url}{path}' with the JSON body {"message": PROMPT}. A request succeeds when any 2xx status
        (or one of --expect-status) arrives within the timeout and passes the checks; anything else is a failure of kind
        timeout, connection, dns, tls, http_4xx, http_5xx, protocol, stream or check. Latency is measured from the request being handed to the connection to the last byte
        of the body, over successful requests only; connection setup is reported apart as dns, connect and tls.
        Percentiles use the nearest-rank definition: p of n sorted values is the value at rank ceil(p/100 * n).

        Exit codes: 0 all budgets passed, 1 a budget failed, 2 invalid usage or input, 130 interrupted (Ctrl+C).
        """
    )

    /// Output settings of the command line beyond the smoke options: where the result goes.
    struct Invocation {
        var options: SmokeOptions
        var isJSON = false
        var outputPath: String?
        var showsProgress = true
        /// SQLite database to append the run to.
        var storePath: String?
    }

    /// Turns parsed arguments into smoke options. `environment` supplies LOADSMOKE_API_KEY.
    static func invocation(from arguments: ParsedArguments, environment: [String: String]) throws -> Invocation {
        let name = spec.name
        var options = SmokeOptions()
        if let requests = try arguments.integer("requests", command: name) { options.requests = requests }
        if let concurrency = try arguments.integer("concurrency", command: name) { options.concurrency = concurrency }
        if let url = arguments.value("url") { options.url = url }
        try applyPacing(arguments, to: &options)
        if let path = arguments.value("path") { options.path = path }
        if let method = arguments.value("method") { options.method = method }
        if let order = arguments.value("prompt-order") {
            guard let parsed = PromptOrder(rawValue: order) else {
                throw UsageError(message: "invalid value \"\(order)\" for --prompt-order: expected sequential or random", command: name)
            }
            options.promptOrder = parsed
        }
        if let seedText = arguments.value("seed") {
            guard let seed = UInt64(seedText) else {
                throw UsageError(message: "invalid value \"\(seedText)\" for --seed: expected a whole number of 0 or more", command: name)
            }
            options.seed = seed
        }
        if arguments.has("body"), arguments.has("body-file") {
            throw UsageError(message: "--body and --body-file cannot be combined; use one of them", command: name)
        }
        if let template = arguments.value("body") {
            options.bodyTemplate = template
            options.bodyTemplateSource = "--body"
        }
        if let file = arguments.value("body-file") {
            do {
                options.bodyTemplate = try String(contentsOfFile: file, encoding: .utf8)
            } catch {
                throw UsageError(message: "invalid value \"\(file)\" for --body-file: cannot read the file (\((error as NSError).localizedDescription))", command: name)
            }
            options.bodyTemplateSource = file
        }
        options.openAIModel = arguments.value("openai")
        options.isStreaming = arguments.has("stream")
        options.acceptsCompression = arguments.has("compressed")
        if let idle = try arguments.decimal("stream-idle-timeout", command: name, unitHint: "seconds greater than 0, such as 10") {
            options.streamIdleTimeoutSeconds = idle
        }
        if let header = arguments.value("request-id-header") {
            options.requestIDHeader = header.lowercased() == "none" ? nil : header
        }
        options.expectedStatus = arguments.value("expect-status")
        options.expectedJSONFields = arguments.all("expect-json-field")
        options.expectedHeaders = arguments.all("expect-header")
        if let timeout = try arguments.decimal("timeout", command: name, unitHint: "seconds greater than 0, such as 30 or 2.5") {
            guard timeout > 0 else {
                throw UsageError(message: "invalid value \"\(arguments.value("timeout")!)\" for --timeout: expected seconds greater than 0, such as 30 or 2.5", command: name)
            }
            options.timeoutSeconds = timeout
        }
        options.apiKey = arguments.value("api-key") ?? environment["LOADSMOKE_API_KEY"].flatMap { $0.isEmpty ? nil : $0 }

        var simulate = arguments.all("simulate")
        if arguments.has("pinecone-down"), !simulate.contains("pinecone") { simulate.insert("pinecone", at: 0) }
        options.simulate = simulate

        options.budgets = try budgets(from: arguments)
        options.headers = try arguments.all("header").map { line in
            do { return try HeaderLine.parse(line) } catch let error as SmokeOptionsError {
                throw UsageError(message: error.description, command: name)
            }
        }
        options.promptsFile = arguments.value("prompts")
        if let header = arguments.value("fallback-header") { options.fallbackHeader = header }
        if let field = arguments.value("fallback-field") { options.fallbackField = field }

        var invocation = Invocation(options: options)
        invocation.isJSON = arguments.has("json")
        invocation.outputPath = arguments.value("output")
        invocation.showsProgress = !arguments.has("no-progress")
        invocation.storePath = arguments.value("store")
        if let targetName = arguments.value("target-name") {
            guard TargetName.isValid(targetName) else {
                throw UsageError(message: "invalid value \"\(targetName)\" for --target-name: expected letters, digits, '.', '_' and '-'", command: name)
            }
            invocation.options.targetName = targetName
        }
        if invocation.storePath != nil, invocation.options.targetName == nil {
            throw UsageError(message: "--store needs --target-name NAME to file the run under", command: name)
        }
        return invocation
    }

    /// Reads --rate, --max-in-flight, --duration and --warmup, rejecting options of the other loop.
    private static func applyPacing(_ arguments: ParsedArguments, to options: inout SmokeOptions) throws {
        let name = spec.name
        if let rate = try arguments.decimal("rate", command: name, unitHint: "requests per second greater than 0, such as 20") {
            guard rate > 0 else {
                throw UsageError(message: "invalid value \"\(arguments.value("rate")!)\" for --rate: expected requests per second greater than 0, such as 20", command: name)
            }
            if arguments.has("concurrency") {
                throw UsageError(message: "--concurrency sets the closed loop's workers and cannot be combined with --rate; bound the open loop with --max-in-flight", command: name)
            }
            options.ratePerSecond = rate
        }
        if let maxInFlight = try arguments.integer("max-in-flight", command: name) {
            guard options.ratePerSecond != nil else {
                throw UsageError(message: "--max-in-flight bounds the open loop and needs --rate; the closed loop uses --concurrency", command: name)
            }
            options.maxInFlight = maxInFlight
        }
        if arguments.has("duration") {
            if arguments.has("requests") {
                throw UsageError(message: "--duration and --requests both set the run's length; use one of them", command: name)
            }
            options.durationSeconds = try arguments.duration("duration", command: name)
        }
        if let warmup = arguments.value("warmup") {
            if let count = Int(warmup), count >= 0 {
                options.warmupRequests = count
            } else if let seconds = try? DurationText.parse(warmup, allowsZero: true) {
                options.warmupSeconds = seconds
            } else {
                throw UsageError(message: "invalid value \"\(warmup)\" for --warmup: expected a request count such as 20 or a duration such as 10s", command: name)
            }
        }
    }

    /// Returns the default budgets with their options applied, then the streaming budgets that were given.
    private static func budgets(from arguments: ParsedArguments) throws -> [Budget] {
        func limit(_ metric: BudgetMetric) throws -> Double? {
            let option = String(metric.optionName.dropFirst(2))
            let hint = metric.unit == "ms" ? "milliseconds of 0 or more, such as 800" : "a fraction from 0 to 1, such as 0.05 for 5 %"
            guard let limit = try arguments.decimal(option, command: spec.name, unitHint: hint) else { return nil }
            if metric.unit == "ratio", limit > 1 {
                throw UsageError(message: "invalid value \"\(arguments.value(option)!)\" for --\(option): expected \(hint)", command: spec.name)
            }
            return limit
        }
        var budgets = try Budget.defaults.map { budget in
            Budget(metric: budget.metric, limit: try limit(budget.metric) ?? budget.limit)
        }
        for metric in BudgetMetric.allCases where metric.needsStreaming {
            if let value = try limit(metric) { budgets.append(Budget(metric: metric, limit: value)) }
        }
        return budgets
    }

    /// Runs the command and returns the exit code.
    static func execute(_ arguments: [String], console: Console) -> Int32 {
        let parsed: ParsedArguments
        switch spec.parse(arguments, console: console) {
        case let .run(arguments): parsed = arguments
        case let .exit(code): return code
        }
        let invocation: Invocation
        let run: SmokeRun
        var store: RunStore?
        do {
            invocation = try self.invocation(from: parsed, environment: ProcessInfo.processInfo.environment)
            run = try SmokeRun.prepare(invocation.options)
            if let path = invocation.outputPath { try ReportFile.checkWritable(path) }
            if let path = invocation.storePath { store = try RunStoreOpening.open(path) }
        } catch {
            return console.usageFailure(error, command: spec.name)
        }
        return SmokeSession(run: run, invocation: invocation, console: console, store: store).start()
    }
}

/// Target names: safe in logs, URLs and Prometheus labels.
enum TargetName {
    static func isValid(_ name: String) -> Bool {
        !name.isEmpty && name.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "._-".unicodeScalars.contains($0)) }
    }
}

/// Opens the database of `--store` before any request is sent, so a bad path fails fast with exit 2.
enum RunStoreOpening {
    static func open(_ path: String) throws -> RunStore {
        do {
            return try RunStore(path: path)
        } catch {
            throw UsageError(message: "invalid value \"\(path)\" for --store: \(error)", command: "run")
        }
    }
}

/// The process exit codes of `loadsmoke`.
enum ExitCode {
    static let success: Int32 = 0
    /// A budget failed, or the run could not be carried out.
    static let failure: Int32 = 1
    /// Invalid usage, option value, configuration or input file.
    static let usage: Int32 = 2
    /// Stopped by SIGINT (128 + 2), as shells report it.
    static let interrupted: Int32 = 130
}
