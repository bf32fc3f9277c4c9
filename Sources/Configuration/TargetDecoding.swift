import Foundation
import Reporting
import Scheduling
import SmokeRunner

/// Decoding of the `targets` list into `TargetSettings`.
extension ConfigurationDecoder {
    static let targetKeys = [
        "name", "url", "path", "schedule", "timezone", "jitter", "requests", "concurrency", "timeout", "api_key_env",
        "simulate", "pinecone_down", "budgets", "headers", "prompts", "fallback_header", "fallback_field",
        "method", "prompt_order", "seed", "body", "body_file", "openai", "stream", "compressed", "stream_idle_timeout",
        "request_id_header", "expect_status", "expect_json_field", "expect_header",
        "rate", "max_in_flight", "duration", "warmup",
    ]
    static let budgetKeys = BudgetMetric.allCases.map(\.rawValue)

    /// Returns every valid target and reports an issue for each invalid one, for a missing or empty list and for
    /// duplicate names.
    func targets(_ entry: YAMLMappingEntry?, documentLine: Int) -> [TargetSettings] {
        guard let entry else {
            report(line: documentLine, keyPath: "", "missing required key \"targets\"; add a list with at least one target that has a name, url and schedule")
            return []
        }
        guard case .sequence(let items) = entry.value.content else {
            report(line: entry.value.line, keyPath: "targets", "expected a list of targets, found \(entry.value.kindName)")
            return []
        }
        guard !items.isEmpty else {
            report(line: entry.value.line, keyPath: "targets", "expected at least one target with a name, url and schedule")
            return []
        }

        var targets: [TargetSettings] = []
        var lineByName: [String: Int] = [:]
        for (index, item) in items.enumerated() {
            let name = Self.validName(in: item)
            if let name {
                if let firstLine = lineByName[name] {
                    report(line: item.line, keyPath: "targets[\(index)].name", "duplicate target name \"\(name)\"; it is already used on line \(firstLine), and names must be unique")
                    continue
                }
                lineByName[name] = item.line
            }
            if let target = target(item, keyPath: "targets[\(name ?? String(index))]") {
                targets.append(target)
            }
        }
        return targets
    }

    /// Returns the target's `name` when it is set and valid, so key paths can use it in place of the index.
    private static func validName(in node: YAMLNode) -> String? {
        guard case .mapping(let entries) = node.content,
              let entry = entries.first(where: { $0.key == "name" }),
              case .scalar(let scalar) = entry.value.content,
              isValidTargetName(scalar.text)
        else { return nil }
        return scalar.text
    }

    static func isValidTargetName(_ name: String) -> Bool {
        !name.isEmpty && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }
    }

    private func target(_ node: YAMLNode, keyPath: String) -> TargetSettings? {
        let issueCountBefore = issues.count
        guard let keys = mapping(node, keyPath: keyPath, knownKeys: Self.targetKeys) else { return nil }

        var name = ""
        if let entry = keys["name"], let text = string(entry, in: keyPath, expected: "a name such as chat-prod") {
            if Self.isValidTargetName(text) {
                name = text
            } else {
                report(line: entry.value.line, keyPath: keyPath + ".name", "invalid target name \"\(text)\"; use letters, digits, '.', '_' and '-' only, such as chat-prod")
            }
        } else if keys["name"] == nil {
            report(line: keys.line, keyPath: keyPath, "missing required key \"name\"; give the target a unique name such as chat-prod")
        }

        let schedule = targetSchedule(keys)
        let timeZone = targetTimeZone(keys)
        let jitterSeconds = targetJitter(keys, schedule: schedule?.schedule)
        var (options, apiKeyEnv) = SmokeOptionsDecoding(decoder: self, keys: keys).decode()
        options.targetName = name

        guard issues.count == issueCountBefore, let schedule else { return nil }

        // The fields passed one by one; this catches rules that span fields, such as url and path together.
        do {
            try options.validate()
        } catch let error as SmokeOptionsError {
            var key = SmokeOptionsDecoding.configKey(forOption: error.option)
            // `SmokeOptions` reports a template error as `body-file` unless the source is `--body`, so an inline
            // template's error belongs to `body`.
            if key == "body_file", keys["body_file"] == nil { key = "body" }
            let line = keys[key.components(separatedBy: ".")[0]]?.value.line ?? keys.line
            report(line: line, keyPath: Self.join(keyPath, key), SmokeOptionsDecoding.message(for: error, shownValue: error.option == "api-key" ? nil : error.value))
            return nil
        } catch {
            report(line: keys.line, keyPath: keyPath, "\(error)")
            return nil
        }

        return TargetSettings(
            name: name,
            schedule: schedule.schedule,
            scheduleText: schedule.text,
            timeZone: timeZone,
            jitterSeconds: jitterSeconds,
            options: options,
            apiKeyEnv: apiKeyEnv
        )
    }

    private func targetSchedule(_ keys: MappingEntries) -> (schedule: Schedule, text: String)? {
        guard let entry = keys["schedule"] else {
            report(line: keys.line, keyPath: keys.keyPath, "missing required key \"schedule\"; use a cron expression such as \"*/5 * * * *\", a macro such as \"@hourly\" or an interval such as \"every 30s\"")
            return nil
        }
        guard let text = string(entry, in: keys.keyPath, expected: "a schedule such as \"*/5 * * * *\" or \"every 30s\"") else { return nil }
        do {
            return (try Schedule.parse(text), text)
        } catch {
            report(line: entry.value.line, keyPath: keys.keyPath + ".schedule", "\(error)")
            return nil
        }
    }

    private func targetTimeZone(_ keys: MappingEntries) -> TimeZone {
        let utc = TimeZone(identifier: "UTC")!
        guard let entry = keys["timezone"], let name = string(entry, in: keys.keyPath, expected: "an IANA time zone name such as Europe/Berlin") else {
            return utc
        }
        guard let zone = TimeZone(identifier: name) else {
            report(line: entry.value.line, keyPath: keys.keyPath + ".timezone", "unknown time zone \"\(name)\"; use an IANA name such as Europe/Berlin or UTC")
            return utc
        }
        return zone
    }

    private func targetJitter(_ keys: MappingEntries, schedule: Schedule?) -> Double {
        guard let entry = keys["jitter"], let seconds = duration(entry, in: keys.keyPath, allowsZero: true) else { return 0 }
        // NOTE: only intervals are checked. A cron expression's shortest gap between fire times is not computed, so a
        // jitter longer than that gap is accepted and can delay a run past the next fire time.
        if case .interval(let interval) = schedule, seconds >= interval {
            report(line: entry.value.line, keyPath: keys.keyPath + ".jitter", "jitter \(DurationText.format(seconds)) must be shorter than the schedule's interval of \(DurationText.format(interval)), or runs would overlap")
            return 0
        }
        return seconds
    }
}
