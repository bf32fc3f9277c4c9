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
    /// What the report header and JSON `config` show; holds no secret.
    public let setup: RunSetup

    /// Validates the options, reads the prompts and pre-encodes every request body.
    /// - Throws: SmokeOptionsError for an invalid option or an unreadable prompts file.
    public static func prepare(_ options: SmokeOptions) throws -> SmokeRun {
        try options.validate()
        let endpoint = try options.endpointURL()
        let prompts = try loadPrompts(options.promptsFile)
        let bodies = prompts.map { Array(JSONValue.object([("message", .string($0))]).serialized().utf8) }

        var headers: [(name: String, value: String)] = []
        let hasExplicitAuthorization = options.headers.contains { $0.name.lowercased() == "authorization" }
        if let apiKey = options.apiKey, !hasExplicitAuthorization {
            headers.append((name: "Authorization", value: "Bearer \(apiKey)"))
        }
        if !options.simulate.isEmpty {
            headers.append((name: "X-Simulate-Failure", value: options.simulate.joined(separator: ", ")))
        }
        headers += options.headers

        let plan = LoadPlan(
            url: endpoint.absoluteString,
            method: options.method,
            headers: headers,
            bodies: bodies,
            requestCount: options.requests,
            concurrency: options.concurrency,
            timeoutSeconds: options.timeoutSeconds,
            fallbackSignal: FallbackSignal(headerName: options.fallbackHeader, bodyField: options.fallbackField)
        )
        let setup = RunSetup(
            targetName: options.targetName,
            url: redactingPassword(endpoint),
            method: options.method,
            requests: options.requests,
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

    /// The built-in prompts, or one prompt per non-blank line of `path` (LF or CRLF line ends).
    static func loadPrompts(_ path: String?) throws -> [String] {
        guard let path else { return CannedPrompts.all }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            let cause = (error as NSError).localizedDescription
            throw SmokeOptionsError(option: "prompts", value: path, reason: "cannot read the file (\(cause)); give a readable text file with one prompt per line")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw SmokeOptionsError(option: "prompts", value: path, reason: "the file is not UTF-8 text; give a text file with one prompt per line")
        }
        // Character-wise splitting treats "\r\n" as one newline, so Windows line ends need no special case.
        let prompts = text.split(omittingEmptySubsequences: true, whereSeparator: \.isNewline)
            .map(String.init)
            .filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        guard !prompts.isEmpty else {
            throw SmokeOptionsError(option: "prompts", value: path, reason: "the file has no prompts; put one prompt per line")
        }
        return prompts
    }

    /// The URL as text with any password replaced, so it can be printed and stored.
    static func redactingPassword(_ url: URL) -> String {
        guard var components = URLComponents(url: url, resolvingAgainstBaseURL: false), components.password != nil else {
            return url.absoluteString
        }
        components.password = "redacted"
        return components.string ?? url.absoluteString
    }
}
