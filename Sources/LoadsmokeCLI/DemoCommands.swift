import Configuration
import Daemon
import DemoAPI
import Scheduling
import Dispatch
import Foundation
import SmokeRunner
import Glibc

/// `loadsmoke serve-demo`: the built-in retrieval-augmented chat API, in the foreground.
enum ServeDemoCommand {
    static let spec = CommandSpec(
        name: "serve-demo",
        summary: "Serve the built-in demo chat API (POST /chat, POST /v1/chat/completions, GET /healthz) until Ctrl+C.",
        usage: "[options]",
        options: [
            .value("host", "ADDRESS", "IPv4 or IPv6 address to listen on (default: 127.0.0.1)."),
            .value("port", "PORT", "TCP port, 0 for any free port (default: 8000)."),
            .value("latency-ms", "MS", "Median answer latency in milliseconds; the tail is skewed (default: 40)."),
            .value("first-token-ms", "MS", "Delay before the first token of a streamed completion, in milliseconds (default: 150)."),
            .value("token-interval-ms", "MS", "Delay between tokens of a streamed completion, in milliseconds (default: 20)."),
            .value("fallback-rate", "F", "Share of requests whose primary store (pinecone) fails, 0 to 1 (default: 0.1)."),
            .value("error-rate", "F", "Share of requests answered with 503, 0 to 1 (default: 0.01)."),
            .value("seed", "N", "Seed for repeatable latencies, fallbacks and errors (default: random)."),
        ],
        discussion: """
        The header 'X-Simulate-Failure: pinecone' makes every request take the fallback path (pgvector), which
        answers a little slower and reports "fallback": true and 'X-Fallback: true'. On a streamed completion
        the fallback path delays the first token \(DemoOptions.fallbackFirstTokenFactor) times as long.

        POST /v1/chat/completions accepts OpenAI-style requests; with "stream": true it sends server-sent events.
        The header 'X-Simulate-Failure: stream-cut' closes a stream after about half its tokens, without the
        final chunk, the usage chunk or 'data: [DONE]'.
        """
    )

    static func options(from arguments: ParsedArguments, command: String) throws -> DemoOptions {
        var options = DemoOptions()
        if let host = arguments.value("host") { options.host = host }
        if let port = try arguments.integer("port", command: command, minimum: 0) {
            guard port <= 65535 else {
                throw UsageError(message: "invalid value \"\(port)\" for --port: expected a port from 0 to 65535", command: command)
            }
            options.port = port
        }
        let delays: [(name: String, example: Int, keyPath: WritableKeyPath<DemoOptions, Double>)] = [
            ("latency-ms", 40, \.latencyMilliseconds),
            ("first-token-ms", 150, \.firstTokenMilliseconds),
            ("token-interval-ms", 20, \.tokenIntervalMilliseconds),
        ]
        let maxDelay = Int(DemoOptions.maxLatencyMilliseconds)
        for delay in delays {
            let hint = "milliseconds from 0 to \(maxDelay), such as \(delay.example)"
            if let milliseconds = try arguments.decimal(delay.name, command: command, unitHint: hint) {
                guard milliseconds <= DemoOptions.maxLatencyMilliseconds else {
                    throw UsageError(message: "invalid value \"\(arguments.value(delay.name)!)\" for --\(delay.name): expected \(hint)", command: command)
                }
                options[keyPath: delay.keyPath] = milliseconds
            }
        }
        for (name, keyPath) in [("fallback-rate", \DemoOptions.fallbackRate), ("error-rate", \DemoOptions.errorRate)] {
            if let rate = try arguments.decimal(name, command: command, unitHint: "a fraction from 0 to 1, such as 0.1") {
                guard rate <= 1 else {
                    throw UsageError(message: "invalid value \"\(arguments.value(name)!)\" for --\(name): expected a fraction from 0 to 1, such as 0.1", command: command)
                }
                options[keyPath: keyPath] = rate
            }
        }
        if let seedText = arguments.value("seed") {
            guard let seed = UInt64(seedText) else {
                throw UsageError(message: "invalid value \"\(seedText)\" for --seed: expected a whole number of 0 or more", command: command)
            }
            options.seed = seed
        }
        return options
    }

    static func execute(_ arguments: [String], console: Console) -> Int32 {
        let parsed: ParsedArguments
        switch spec.parse(arguments, console: console) {
        case let .run(arguments): parsed = arguments
        case let .exit(code): return code
        }
        let options: DemoOptions
        do {
            options = try self.options(from: parsed, command: spec.name)
        } catch {
            return console.usageFailure(error, command: spec.name)
        }

        let service: DemoChatService
        do {
            service = try DemoChatService(options: options)
            try service.start()
        } catch let error as DemoOptionsError {
            console.error(UsageError(message: error.description, command: spec.name).description)
            return ExitCode.usage
        } catch {
            console.error("error: could not start the demo chat API: \(error)")
            return ExitCode.failure
        }
        let host = options.host.contains(":") ? "[\(options.host)]" : options.host
        console.error("demo chat API listening on http://\(host):\(service.port) (POST /chat, POST /v1/chat/completions, GET /healthz); press Ctrl+C to stop")
        SignalRouter.shared.waitForTermination()
        service.stop()
        console.error("demo chat API stopped")
        return ExitCode.success
    }
}

/// `loadsmoke demo`: the whole tool in one command, against the built-in chat API on a free loopback port.
enum DemoCommand {
    static let spec = CommandSpec(
        name: "demo",
        summary: "Start the demo chat API in-process, run a smoke run against it, then run a demo daemon until Ctrl+C.",
        usage: "[options]",
        options: [
            .flag("pinecone-down", "Simulate a primary vector-store outage in the first smoke run, so every answer takes the fallback path."),
            .flag("once", "Stop after the first smoke run and exit with its code."),
            .value("db", "FILE", "SQLite file of the demo daemon (default: loadsmoke-demo.db in the working folder)."),
            .value("listen", "HOST:PORT", "Status endpoint of the demo daemon (default: 127.0.0.1:9790, or a free port when that is taken)."),
        ],
        discussion: """
        Nothing leaves this machine: the demo API listens on a free port of 127.0.0.1. The demo daemon checks two
        targets every 10 s, 'demo-chat' (normal traffic) and 'demo-outage' (pinecone down, fallback budget 100 %),
        stores the runs and serves /status, /runs, /trend and /metrics.
        """
    )

    static func execute(_ arguments: [String], console: Console) -> Int32 {
        let parsed: ParsedArguments
        switch spec.parse(arguments, console: console) {
        case let .run(arguments): parsed = arguments
        case let .exit(code): return code
        }

        let service: DemoChatService
        do {
            service = try DemoChatService(options: DemoOptions(port: 0))
            try service.start()
        } catch {
            console.error("error: could not start the demo chat API: \(error)")
            return ExitCode.failure
        }
        defer { service.stop() }
        console.error("demo chat API started on http://127.0.0.1:\(service.port)")

        var options = SmokeOptions()
        options.url = "http://127.0.0.1:\(service.port)"
        if parsed.has("pinecone-down") { options.simulate = ["pinecone"] }
        let run: SmokeRun
        do {
            run = try SmokeRun.prepare(options)
        } catch {
            console.error("error: \(error)")
            return ExitCode.failure
        }
        let invocation = RunCommand.Invocation(options: options)
        let exitCode = SmokeSession(run: run, invocation: invocation, console: console).start()
        if parsed.has("once") || exitCode == ExitCode.interrupted { return exitCode }
        return DemoDaemon.run(demoPort: service.port, arguments: parsed, console: console)
    }
}
