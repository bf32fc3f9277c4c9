import Foundation
import Reporting
import Scheduling
import SmokeRunner

/// Decoding of a target's run options into `SmokeOptions`.
///
/// Each value is range-checked on its own with `SmokeOptions.validate()`: it is set on otherwise default options,
/// which pass validation, so an error can only come from that value. This reports every bad value of a target
/// instead of the first one that `validate()` meets.
struct SmokeOptionsDecoding {
    let decoder: ConfigurationDecoder
    let keys: MappingEntries

    var keyPath: String { keys.keyPath }

    /// Returns the options with every valid value applied, and the `api_key_env` name.
    func decode() -> (options: SmokeOptions, apiKeyEnv: String?) {
        var options = SmokeOptions()
        applyEndpoint(to: &options)
        applyLoad(to: &options)
        applyFailureSimulation(to: &options)
        applyBudgets(to: &options)
        applyHeaders(to: &options)
        applyResponseSignals(to: &options)
        applyPrompts(to: &options)
        applyRequestShape(to: &options)
        applyStreaming(to: &options)
        applyPacing(to: &options)
        applyResponseChecks(to: &options)
        let apiKeyEnv = applyAPIKey(to: &options)
        return (options, apiKeyEnv)
    }

    // MARK: Fields

    private func applyEndpoint(to options: inout SmokeOptions) {
        if let entry = keys["url"] {
            if let url = decoder.string(entry, in: keyPath, expected: "a URL such as https://chat.example.com"),
               check(entry, shownValue: url, { $0.url = url }) {
                options.url = url
            }
        } else {
            decoder.report(line: keys.line, keyPath: keyPath, "missing required key \"url\"; give the API's base URL, such as https://chat.example.com")
        }
        if let entry = keys["path"],
           let path = decoder.string(entry, in: keyPath, expected: "a request path such as /chat"),
           check(entry, shownValue: path, { $0.path = path }) {
            options.path = path
        }
    }

    private func applyLoad(to options: inout SmokeOptions) {
        if let entry = keys["requests"], let requests = decoder.integer(entry, in: keyPath),
           check(entry, shownValue: String(requests), { $0.requests = requests }) {
            options.requests = requests
        }
        if let entry = keys["concurrency"], let concurrency = decoder.integer(entry, in: keyPath),
           check(entry, shownValue: String(concurrency), { $0.concurrency = concurrency }) {
            options.concurrency = concurrency
        }
        if let entry = keys["timeout"], let seconds = decoder.duration(entry, in: keyPath),
           check(entry, shownValue: DurationText.format(seconds), { $0.timeoutSeconds = seconds }) {
            options.timeoutSeconds = seconds
        }
    }

    private func applyFailureSimulation(to options: inout SmokeOptions) {
        var simulate: [String] = []
        if let entry = keys["simulate"],
           let names = decoder.stringItems(entry, in: keyPath, expected: "a list of failure names such as [pinecone]") {
            for (index, name) in names.enumerated() {
                let failureName = name.text
                if check(entry, line: name.line, key: "simulate[\(index)]", shownValue: failureName, { $0.simulate = [failureName] }) {
                    simulate.append(failureName)
                }
            }
        }
        // The same rule as `loadsmoke run --pinecone-down`: it adds pinecone first unless it is listed already.
        if let entry = keys["pinecone_down"], decoder.boolean(entry, in: keyPath) == true, !simulate.contains("pinecone") {
            simulate.insert("pinecone", at: 0)
        }
        options.simulate = simulate
    }

    private func applyBudgets(to options: inout SmokeOptions) {
        guard let entry = keys["budgets"],
              let budgetKeys = decoder.mapping(entry.value, keyPath: keyPath + ".budgets", knownKeys: ConfigurationDecoder.budgetKeys)
        else { return }

        for metric in BudgetMetric.allCases {
            guard let budgetEntry = budgetKeys[metric.rawValue], let limit = budgetLimit(budgetEntry, metric: metric) else { continue }
            let index = options.budgets.firstIndex { $0.metric == metric }
            // A streaming budget is valid only with `stream: true`. That rule spans two keys, so the target's final
            // check reports it, and this probe checks the limit alone.
            let apply: (inout SmokeOptions) -> Void = { probe in
                probe.isStreaming = metric.needsStreaming
                if probe.budgets.contains(where: { $0.metric == metric }) {
                    probe.budgets = probe.budgets.map { $0.metric == metric ? Budget(metric: metric, limit: limit) : $0 }
                } else {
                    probe.budgets.append(Budget(metric: metric, limit: limit))
                }
            }
            if check(budgetEntry, key: "budgets.\(metric.rawValue)", shownValue: scalarText(budgetEntry), apply) {
                if let index {
                    options.budgets[index].limit = limit
                } else {
                    options.budgets.append(Budget(metric: metric, limit: limit))
                }
            }
        }
    }

    private func applyHeaders(to options: inout SmokeOptions) {
        guard let entry = keys["headers"] else { return }
        let headersPath = keyPath + ".headers"
        guard case .mapping(let entries) = entry.value.content else {
            decoder.report(line: entry.value.line, keyPath: headersPath, "expected a mapping of header names to values, such as {X-Team: search}, found \(entry.value.kindName)")
            return
        }

        var lineByLowercasedName: [String: Int] = [:]
        for header in entries {
            let headerPath = headersPath + "." + header.key
            // Header names are case-insensitive (RFC 9110 §5.1), so X-Team and x-team are the same header.
            if let firstLine = lineByLowercasedName[header.key.lowercased()] {
                decoder.report(line: header.keyLine, keyPath: headerPath, "duplicate header; it is already set on line \(firstLine), and header names are case-insensitive")
                continue
            }
            lineByLowercasedName[header.key.lowercased()] = header.keyLine

            let value: String
            if header.value.isNull {
                value = ""
            } else if case .scalar(let scalar) = header.value.content {
                value = scalar.text
            } else {
                decoder.report(line: header.value.line, keyPath: headerPath, "expected a header value as text, found \(header.value.kindName)")
                continue
            }
            let name = header.key
            if check(header, key: "headers.\(name)", shownValue: name, { $0.headers = [(name: name, value: value)] }) {
                options.headers.append((name: name, value: value))
            }
        }
    }

    private func applyResponseSignals(to options: inout SmokeOptions) {
        if let entry = keys["fallback_header"],
           let name = decoder.string(entry, in: keyPath, expected: "a header name such as X-Fallback"),
           check(entry, shownValue: name, { $0.fallbackHeader = name }) {
            options.fallbackHeader = name
        }
        if let entry = keys["fallback_field"],
           let name = decoder.string(entry, in: keyPath, expected: "a JSON field name such as fallback"),
           check(entry, shownValue: name, { $0.fallbackField = name }) {
            options.fallbackField = name
        }
    }

    private func applyPrompts(to options: inout SmokeOptions) {
        guard let entry = keys["prompts"],
              let path = decoder.string(entry, in: keyPath, expected: "a file path such as prompts.txt")
        else { return }
        let resolved = decoder.resolvedPath(path)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: resolved, isDirectory: &isDirectory) else {
            decoder.report(line: entry.value.line, keyPath: keyPath + ".prompts", "prompts file \"\(resolved)\" not found; paths are relative to the configuration file's folder")
            return
        }
        guard !isDirectory.boolValue, FileManager.default.isReadableFile(atPath: resolved) else {
            decoder.report(line: entry.value.line, keyPath: keyPath + ".prompts", "prompts file \"\(resolved)\" is not a readable file; give a text file with one prompt per line")
            return
        }
        options.promptsFile = resolved
    }

    private func applyAPIKey(to options: inout SmokeOptions) -> String? {
        guard let entry = keys["api_key_env"], let secret = decoder.secret(entry, in: keyPath) else { return nil }
        let key = secret.value
        guard check(entry, shownValue: nil, { $0.apiKey = key }) else { return nil }
        options.apiKey = key
        return secret.name
    }

    // MARK: Checks

    /// Validates options that differ from the defaults only by `apply`, and reports the error at the entry.
    /// `shownValue` nil marks a secret, whose value no message may contain.
    func check(
        _ entry: YAMLMappingEntry, line: Int? = nil, key: String? = nil, shownValue: String?,
        _ apply: (inout SmokeOptions) -> Void
    ) -> Bool {
        var probe = SmokeOptions()
        apply(&probe)
        do {
            try probe.validate()
            return true
        } catch let error as SmokeOptionsError {
            let path = ConfigurationDecoder.join(keyPath, key ?? entry.key)
            decoder.report(line: line ?? entry.value.line, keyPath: path, Self.message(for: error, shownValue: shownValue))
            return false
        } catch {
            decoder.report(line: line ?? entry.value.line, keyPath: ConfigurationDecoder.join(keyPath, key ?? entry.key), "\(error)")
            return false
        }
    }

    /// Returns the text of a scalar entry as written, for messages.
    private func scalarText(_ entry: YAMLMappingEntry) -> String {
        if case .scalar(let scalar) = entry.value.content { return scalar.text }
        return entry.value.kindName
    }

    /// Reads a budget limit in the metric's unit: milliseconds for latencies, a fraction for rates.
    private func budgetLimit(_ entry: YAMLMappingEntry, metric: BudgetMetric) -> Double? {
        let path = keyPath + ".budgets." + metric.rawValue
        guard case .scalar(let scalar) = entry.value.content else {
            decoder.report(line: entry.value.line, keyPath: path, "expected a number, found \(entry.value.kindName)")
            return nil
        }
        let text = scalar.text.trimmingCharacters(in: .whitespaces)

        if metric.unit == "ms" {
            if scalar.isPlain, let milliseconds = Self.decimal(text) { return milliseconds }
            if let seconds = try? DurationText.parse(text, allowsZero: true) { return seconds * 1000 }
            decoder.report(line: entry.value.line, keyPath: path, "invalid latency budget \"\(text)\"; expected milliseconds such as 800, or a duration such as 800ms or 1.5s")
            return nil
        }

        if scalar.isPlain, let fraction = Self.decimal(text) { return fraction }
        if text.hasSuffix("%"), let percent = Self.decimal(String(text.dropLast()).trimmingCharacters(in: .whitespaces)) {
            return percent / 100
        }
        decoder.report(line: entry.value.line, keyPath: path, "invalid rate budget \"\(text)\"; expected a fraction from 0 to 1 such as 0.05, or a percentage such as 5%")
        return nil
    }

    /// Parses a decimal number such as `800`, `0.05` or `-1`. Exponents, `inf` and `nan` return nil.
    private static func decimal(_ text: String) -> Double? {
        let unsigned = text.hasPrefix("-") ? text.dropFirst() : Substring(text)
        let parts = unsigned.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count),
              parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCIIDigit) })
        else { return nil }
        return Double(text)
    }

    // MARK: Messages

    /// Builds the message for a rejected value, naming the value as written in the file and configuration keys in
    /// place of command-line options.
    static func message(for error: SmokeOptionsError, shownValue: String?) -> String {
        let reason = configurationReason(error.reason)
        switch error.option {
        case "api-key":
            return "the API key read from the environment is empty or contains a line break or control character; fix the variable's value"
        case "header":
            return "invalid header \"\(shownValue ?? error.value)\": \(reason)"
        default:
            return "invalid value \"\(shownValue ?? error.value)\": \(reason)"
        }
    }

    /// Rewrites the command-line options that a `SmokeOptionsError` reason names, such as `--body-file`, as the
    /// configuration keys that set them, such as `body_file`.
    static func configurationReason(_ reason: String) -> String {
        // `--stream` is a flag, so the key needs its value, and dropping the flag means setting it to false.
        var text = reason
            .replacingOccurrences(of: "or --stream", with: "or set stream: false")
            .replacingOccurrences(of: "--stream", with: "stream: true")
        var result = ""
        while let range = text.range(of: "--") {
            result += text[..<range.lowerBound]
            var name = text[range.upperBound...].prefix { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-") }
            // Option names start with a letter, so `1--2` stays as it is.
            if name.first?.isLetter != true { name = name.prefix(0) }
            result += name.isEmpty ? "--" : configKey(forOption: String(name))
            text = String(text[range.upperBound...].dropFirst(name.count))
        }
        return result + text
    }

    /// Returns the configuration key for a `SmokeOptionsError.option`, such as `budgets.p95` for `budget-p95`.
    static func configKey(forOption option: String) -> String {
        if let metric = BudgetMetric.allCases.first(where: { $0.optionName.dropFirst(2) == option }) {
            return "budgets." + metric.rawValue
        }
        switch option {
        case "api-key": return "api_key_env"
        case "header": return "headers"
        default: return option.replacingOccurrences(of: "-", with: "_")
        }
    }
}
