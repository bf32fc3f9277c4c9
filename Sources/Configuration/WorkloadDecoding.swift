import Foundation
import Scheduling
import SmokeRunner

/// Decoding of a target's request body, prompt order, streaming and response-check keys.
extension SmokeOptionsDecoding {
    func applyRequestShape(to options: inout SmokeOptions) {
        if let entry = keys["method"],
           let method = decoder.string(entry, in: keyPath, expected: "an HTTP method such as POST"),
           check(entry, shownValue: method, { $0.method = method }) {
            options.method = method
        }
        if let entry = keys["prompt_order"],
           let text = decoder.string(entry, in: keyPath, expected: "sequential or random") {
            if let order = PromptOrder(rawValue: text) {
                options.promptOrder = order
            } else {
                let accepted = PromptOrder.allCases.map(\.rawValue).joined(separator: " or ")
                decoder.report(line: entry.value.line, keyPath: keyPath + ".prompt_order", "invalid value \"\(text)\": expected \(accepted)")
            }
        }
        if let entry = keys["seed"], let seed = seed(entry) {
            options.seed = seed
        }
        if let entry = keys["openai"],
           let model = decoder.string(entry, in: keyPath, expected: "a model name such as gpt-4o-mini"),
           check(entry, shownValue: model, { $0.openAIModel = model }) {
            options.openAIModel = model
        }
        applyBodyTemplate(to: &options)
    }

    func applyStreaming(to options: inout SmokeOptions) {
        if let entry = keys["stream"], let isStreaming = decoder.boolean(entry, in: keyPath) {
            options.isStreaming = isStreaming
        }
        if let entry = keys["compressed"], let acceptsCompression = decoder.boolean(entry, in: keyPath) {
            options.acceptsCompression = acceptsCompression
        }
        if let entry = keys["stream_idle_timeout"], let seconds = decoder.duration(entry, in: keyPath),
           check(entry, shownValue: DurationText.format(seconds), { $0.streamIdleTimeoutSeconds = seconds }) {
            options.streamIdleTimeoutSeconds = seconds
        }
        if let entry = keys["request_id_header"],
           let name = decoder.string(entry, in: keyPath, expected: "a header name such as X-Request-Id, or none") {
            // `none` turns the header off, case-insensitively, as `loadsmoke run --request-id-header none` does.
            let header: String? = name.lowercased() == "none" ? nil : name
            if check(entry, shownValue: name, { $0.requestIDHeader = header }) {
                options.requestIDHeader = header
            }
        }
    }

    /// Reads the open-loop rate, its in-flight bound, the run's duration and the warm-up.
    func applyPacing(to options: inout SmokeOptions) {
        if let entry = keys["rate"],
           let text = decoder.string(entry, in: keyPath, expected: "requests per second such as 20") {
            if let rate = Double(text), check(entry, shownValue: text, { $0.ratePerSecond = rate }) {
                if let concurrency = keys["concurrency"] {
                    decoder.report(line: concurrency.value.line, keyPath: keyPath + ".concurrency", "concurrency sets the closed loop's workers and cannot be combined with rate; bound the open loop with max_in_flight")
                }
                options.ratePerSecond = rate
            } else if Double(text) == nil {
                decoder.report(line: entry.value.line, keyPath: keyPath + ".rate", "invalid value \"\(text)\": expected requests per second greater than 0, such as 20 or 0.5")
            }
        }
        if let entry = keys["max_in_flight"], let count = decoder.integer(entry, in: keyPath),
           check(entry, shownValue: String(count), { $0.maxInFlight = count }) {
            if keys["rate"] == nil {
                decoder.report(line: entry.value.line, keyPath: keyPath + ".max_in_flight", "max_in_flight bounds the open loop and needs rate; the closed loop uses concurrency")
            }
            options.maxInFlight = count
        }
        if let entry = keys["duration"], let seconds = decoder.duration(entry, in: keyPath) {
            if keys["requests"] != nil {
                decoder.report(line: entry.value.line, keyPath: keyPath + ".duration", "duration and requests both set the run's length; use one of them")
            }
            options.durationSeconds = seconds
        }
        if let entry = keys["warmup"],
           let text = decoder.string(entry, in: keyPath, expected: "a request count such as 20 or a duration such as 10s") {
            if let count = Int(text), count >= 0 {
                options.warmupRequests = count
            } else if let seconds = try? DurationText.parse(text, allowsZero: true) {
                options.warmupSeconds = seconds
            } else {
                decoder.report(line: entry.value.line, keyPath: keyPath + ".warmup", "invalid value \"\(text)\": expected a request count such as 20 or a duration such as 10s")
            }
        }
    }

    func applyResponseChecks(to options: inout SmokeOptions) {
        if let entry = keys["expect_status"],
           let items = stringOrList(entry, expected: "a status list such as [200, 2xx]") {
            let statuses = items.filter { item in
                check(entry, line: item.line, key: item.key, shownValue: item.text, { $0.expectedStatus = item.text })
            }
            // An empty list leaves the default, which accepts any 2xx status.
            if statuses.count == items.count, !statuses.isEmpty {
                options.expectedStatus = statuses.map(\.text).joined(separator: ",")
            }
        }
        if let entry = keys["expect_json_field"],
           let items = stringOrList(entry, expected: "a JSON Pointer such as /answer, or a list of them") {
            options.expectedJSONFields = items.filter { item in
                check(entry, line: item.line, key: item.key, shownValue: item.text, { $0.expectedJSONFields = [item.text] })
            }.map(\.text)
        }
        if let entry = keys["expect_header"],
           let items = stringOrList(entry, expected: "a header such as X-Fallback=false, or a list of them") {
            options.expectedHeaders = items.filter { item in
                check(entry, line: item.line, key: item.key, shownValue: item.text, { $0.expectedHeaders = [item.text] })
            }.map(\.text)
        }
    }

    // MARK: Body template

    /// Applies `body` or `body_file`. A file is read now, so a missing file or a template that is not JSON stops the
    /// daemon at start-up instead of failing every run.
    private func applyBodyTemplate(to options: inout SmokeOptions) {
        let inline = keys["body"]
        let file = keys["body_file"]
        if inline != nil, let file {
            decoder.report(line: file.keyLine, keyPath: keyPath + ".body_file", "body and body_file cannot be combined; use one of them")
            return
        }

        if let inline, let template = decoder.string(inline, in: keyPath, expected: "a JSON template such as '{\"message\": \"{{prompt}}\"}'"),
           check(inline, shownValue: template, { $0.bodyTemplate = template }) {
            options.bodyTemplate = template
            options.bodyTemplateSource = Self.inlineBodySource
        }

        if let file, let path = decoder.string(file, in: keyPath, expected: "a file path such as body.json"),
           let template = readBodyFile(file, path: path) {
            let resolved = decoder.resolvedPath(path)
            if check(file, shownValue: resolved, { probe in
                probe.bodyTemplate = template
                probe.bodyTemplateSource = resolved
            }) {
                options.bodyTemplate = template
                options.bodyTemplateSource = resolved
            }
        }
    }

    /// The `bodyTemplateSource` of a template written inline, which reports show in place of a file path.
    static let inlineBodySource = "body"

    private func readBodyFile(_ entry: YAMLMappingEntry, path: String) -> String? {
        let resolved = decoder.resolvedPath(path)
        let keyPath = self.keyPath + ".body_file"
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: resolved, isDirectory: &isDirectory) else {
            decoder.report(line: entry.value.line, keyPath: keyPath, "body file \"\(resolved)\" not found; paths are relative to the configuration file's folder")
            return nil
        }
        guard !isDirectory.boolValue, let data = FileManager.default.contents(atPath: resolved) else {
            decoder.report(line: entry.value.line, keyPath: keyPath, "body file \"\(resolved)\" is not a readable file; give a JSON template file")
            return nil
        }
        guard let template = String(data: data, encoding: .utf8) else {
            decoder.report(line: entry.value.line, keyPath: keyPath, "body file \"\(resolved)\" is not valid UTF-8; save it as UTF-8 text")
            return nil
        }
        return template
    }

    // MARK: Readers

    /// Reads `seed` as a whole number from 0 to 2^64 - 1, the range of the seeds that reports print.
    private func seed(_ entry: YAMLMappingEntry) -> UInt64? {
        let path = keyPath + ".seed"
        guard case .scalar(let scalar) = entry.value.content else {
            decoder.report(line: entry.value.line, keyPath: path, "expected a whole number, found \(entry.value.kindName)")
            return nil
        }
        guard scalar.isPlain else {
            decoder.report(line: entry.value.line, keyPath: path, "expected a whole number, found the string \"\(scalar.text)\"; remove the quotes")
            return nil
        }
        guard scalar.text.allSatisfy(\.isASCIIDigit), let seed = UInt64(scalar.text) else {
            decoder.report(line: entry.value.line, keyPath: path, "invalid value \"\(scalar.text)\": expected a whole number from 0 to \(UInt64.max)")
            return nil
        }
        return seed
    }

    /// Reads one string or a list of strings, each with the line and key path suffix that messages name. Returns nil,
    /// with an issue, for another kind of value.
    private func stringOrList(_ entry: YAMLMappingEntry, expected: String) -> [(text: String, line: Int, key: String)]? {
        if case .scalar(let scalar) = entry.value.content {
            return [(scalar.text, entry.value.line, entry.key)]
        }
        guard let items = decoder.stringItems(entry, in: keyPath, expected: expected) else { return nil }
        return items.enumerated().map { index, item in (item.text, item.line, "\(entry.key)[\(index)]") }
    }
}
