import Foundation
import JSONCoding
import LoadEngine
import Measurement
import Reporting

/// A validated smoke run, ready to send: built from SmokeOptions by `prepare`, then `execute`d once.
/// The command line and the daemon both run their cycles through this type.
public struct SmokeRun: Sendable {
    public let options: SmokeOptions
    public let plan: LoadPlan
    /// The settings the report header and JSON `config` show, without any secret.
    public let setup: RunSetup

    /// Validates the options, reads the prompts and pre-encodes every request body.
    /// - Throws: SmokeOptionsError for an invalid option or an unreadable prompts file.
    public static func prepare(_ options: SmokeOptions) throws -> SmokeRun {
        try options.validate()
        let endpoint = try options.endpointURL()
        let prompts = try options.promptsFile.map(PromptFile.load) ?? CannedPrompts.all.map { Prompt(text: $0) }
        let seed = options.seed ?? UInt64.random(in: 0...UInt64(UInt32.max))
        let requestIDPrefix = String(UInt32.random(in: 0...UInt32.max), radix: 16)
        let mode: BodyBuilder.Mode
        if let template = options.bodyTemplate {
            mode = .template(BodyTemplate(template))
        } else if let model = options.openAIModel {
            mode = .openAI(model: model, isStreaming: options.isStreaming)
        } else if prompts.contains(where: { $0.object != nil }) {
            mode = .promptObjects
        } else {
            mode = .chat
        }
        let builder = BodyBuilder(prompts: prompts, order: options.promptOrder, seed: seed, mode: mode, requestIDPrefix: requestIDPrefix)

        var headers: [(name: String, value: String)] = []
        let hasExplicitAuthorization = options.headers.contains { $0.name.lowercased() == "authorization" }
        if let apiKey = options.apiKey, !hasExplicitAuthorization {
            headers.append((name: "Authorization", value: "Bearer \(apiKey)"))
        }
        if !options.simulate.isEmpty {
            headers.append((name: "X-Simulate-Failure", value: options.simulate.joined(separator: ", ")))
        }
        headers += options.headers

        var plan = LoadPlan(
            url: endpoint.absoluteString,
            method: options.method,
            headers: headers,
            bodies: [builder.body(for: 0)],
            requestCount: options.requests,
            concurrency: options.concurrency,
            timeoutSeconds: options.timeoutSeconds,
            fallbackSignal: options.fallbackSignal
        )
        if let cached = builder.cachedBodies {
            plan.bodies = cached
            plan.bodyIndex = { builder.promptIndex(for: $0) }
        } else {
            plan.bodyProvider = { builder.body(for: $0) }
        }
        plan.requestIDHeader = options.requestIDHeader
        plan.requestIDPrefix = requestIDPrefix
        plan.stream = options.isStreaming ? StreamFormat(idleTimeoutSeconds: options.streamIdleTimeoutSeconds) : nil
        plan.checks = options.responseChecks
        plan.pacing = options.pacing
        plan.acceptsCompression = options.acceptsCompression
        plan.length = options.runLength
        var setup = RunSetup(
            targetName: options.targetName,
            url: redactingPassword(endpoint),
            method: options.method,
            requests: options.plannedRequests,
            concurrency: options.concurrency,
            timeoutSeconds: options.timeoutSeconds,
            simulate: options.simulate,
            headers: options.headers.map { (name: $0.name, value: HeaderLine.isSensitive($0.name) ? "<redacted>" : $0.value) },
            promptSource: options.promptsFile ?? "built-in",
            promptCount: prompts.count,
            fallbackHeader: options.fallbackHeader,
            fallbackField: options.fallbackField,
            hasAPIKey: options.apiKey != nil
        )
        setup.workload = WorkloadSetup(
            promptOrder: options.promptOrder.rawValue,
            seed: options.promptOrder == .random ? seed : nil,
            body: options.bodyTemplateSource ?? (options.openAIModel != nil ? "openai" : (mode.isPromptObjects ? "prompt objects" : "chat")),
            openAIModel: options.openAIModel,
            isStreaming: options.isStreaming,
            acceptsCompression: options.acceptsCompression,
            streamIdleTimeoutSeconds: options.isStreaming ? options.streamIdleTimeoutSeconds : nil,
            requestIDHeader: options.requestIDHeader,
            requestIDPrefix: options.requestIDHeader == nil ? nil : requestIDPrefix,
            expectedStatus: options.expectedStatus,
            expectedJSONFields: options.expectedJSONFields,
            expectedHeaders: options.expectedHeaders
        )
        setup.pacing = PacingSetup(
            ratePerSecond: options.ratePerSecond,
            maxInFlight: options.ratePerSecond == nil ? nil : options.maxInFlight,
            durationSeconds: options.durationSeconds,
            warmupRequests: options.warmupRequests,
            warmupSeconds: options.warmupSeconds
        )
        return SmokeRun(options: options, plan: plan, setup: setup)
    }

    /// Sends the requests and checks the budgets. An interrupted run returns the partial report.
    /// - Throws: CurlError when libcurl cannot be set up; transfer failures are counted, not thrown.
    public func execute(
        stop: StopFlag = StopFlag(), graceSeconds: Double = 2, progress: ((EngineProgress) -> Void)? = nil
    ) throws -> SmokeReport {
        let startedAt = Date()
        let engine = try LoadEngine(plan: plan)
        let outcome = try engine.run(stop: stop, graceSeconds: graceSeconds, progress: progress)
        let summary = outcome.metrics.summarize(wallSeconds: outcome.wallSeconds)
        return SmokeReport(
            setup: setup,
            summary: summary,
            budgets: BudgetResult.evaluate(options.budgets, against: summary),
            startedAt: startedAt,
            wasInterrupted: outcome.wasInterrupted,
            abortedInFlight: outcome.abortedInFlight,
            maxBodyBytes: plan.maxBodyBytes
        )
    }

    /// Returns the URL as text with any password replaced, so it can be printed and stored.
    static func redactingPassword(_ url: URL) -> String {
        guard var components = URLComponents(url: url, resolvingAgainstBaseURL: false), components.password != nil else {
            return url.absoluteString
        }
        components.password = "redacted"
        return components.string ?? url.absoluteString
    }
}

extension BodyBuilder.Mode {
    var isPromptObjects: Bool {
        if case .promptObjects = self { return true }
        return false
    }
}
