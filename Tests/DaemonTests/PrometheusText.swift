import Foundation

/// A checker for the Prometheus text exposition format, version 0.0.4
/// (https://prometheus.io/docs/instrumenting/exposition_formats/), covering the rules listed at `problems(in:)`.
enum PrometheusText {
    /// Returns a description of each rule violation, with its line number. The result is empty for a valid exposition.
    ///
    /// `# HELP` and `# TYPE` lines must name a valid metric. A TYPE line must name a known type, come before the
    /// family's samples and appear at most once. Sample and label names must be valid, and label values quoted with
    /// only `\\`, `\"` and `\n` escapes. Values must parse as floats, and the text must end with a line feed.
    static func problems(in text: String) -> [String] {
        var problems: [String] = []
        if !text.hasSuffix("\n") { problems.append("the exposition does not end with a line feed") }
        var typedFamilies: Set<String> = []
        var familiesWithSamples: Set<String> = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let number = index + 1
            if line.isEmpty { continue }
            if line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ", maxSplits: 3)
                guard parts.count == 4, isMetricName(parts[2]) else {
                    problems.append("line \(number): invalid TYPE line \"\(line)\"")
                    continue
                }
                let name = String(parts[2])
                if !["counter", "gauge", "histogram", "summary", "untyped"].contains(parts[3]) {
                    problems.append("line \(number): unknown type \"\(parts[3])\"")
                }
                if typedFamilies.contains(name) { problems.append("line \(number): second TYPE line for \(name)") }
                if familiesWithSamples.contains(name) { problems.append("line \(number): TYPE line for \(name) after its samples") }
                typedFamilies.insert(name)
            } else if line.hasPrefix("# HELP ") {
                let parts = line.split(separator: " ", maxSplits: 3)
                if parts.count < 3 || !isMetricName(parts[2]) { problems.append("line \(number): invalid HELP line \"\(line)\"") }
            } else if line.hasPrefix("#") {
                continue
            } else if let sample = parseSample(line) {
                familiesWithSamples.insert(sample.name)
            } else {
                problems.append("line \(number): invalid sample \"\(line)\"")
            }
        }
        return problems
    }

    /// Returns sample values by series, where a series is the sample line up to the space before its value, such as
    /// `loadsmoke_runs_total{status="passed",target="demo"}`. Lines that do not parse are left out.
    static func samples(in text: String) -> [String: Double] {
        var samples: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let sample = parseSample(line) else { continue }
            samples[sample.series] = sample.value
        }
        return samples
    }

    /// Splits `name{labels} value [timestamp]`, or returns nil when any part is invalid.
    private static func parseSample(_ line: Substring) -> (name: String, series: String, value: Double)? {
        var rest = line[...]
        let name = rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" || $0 == ":" }
        guard isMetricName(name) else { return nil }
        rest = rest.dropFirst(name.count)
        if rest.first == "{" {
            guard let labelsEnd = labelsEnd(rest) else { return nil }
            rest = rest[labelsEnd...]
        }
        let series = String(line[line.startIndex..<rest.startIndex])
        guard rest.first == " " else { return nil }
        let fields = rest.dropFirst().split(separator: " ")
        guard (1...2).contains(fields.count), let value = parseValue(fields[0]) else { return nil }
        if fields.count == 2, Int64(fields[1]) == nil { return nil }
        return (String(name), series, value)
    }

    /// Reads `{name="value",...}` from the start of `text` and returns the index after `}`, or nil when it is invalid.
    private static func labelsEnd(_ text: Substring) -> Substring.Index? {
        var index = text.index(after: text.startIndex)
        while index < text.endIndex {
            if text[index] == "}" { return text.index(after: index) }
            let nameStart = index
            while index < text.endIndex, text[index].isASCII, text[index].isLetter || text[index].isNumber || text[index] == "_" {
                index = text.index(after: index)
            }
            let labelName = text[nameStart..<index]
            guard let first = labelName.first, !first.isNumber else { return nil }
            guard index < text.endIndex, text[index] == "=" else { return nil }
            index = text.index(after: index)
            guard index < text.endIndex, text[index] == "\"" else { return nil }
            index = text.index(after: index)
            var isClosed = false
            while index < text.endIndex {
                let character = text[index]
                if character == "\\" {
                    index = text.index(after: index)
                    guard index < text.endIndex, ["\\", "\"", "n"].contains(text[index]) else { return nil }
                } else if character == "\"" {
                    isClosed = true
                    index = text.index(after: index)
                    break
                } else if character == "\n" {
                    return nil
                }
                index = text.index(after: index)
            }
            guard isClosed, index < text.endIndex else { return nil }
            if text[index] == "," { index = text.index(after: index) }
        }
        return nil
    }

    private static func parseValue(_ text: Substring) -> Double? {
        switch text {
        case "NaN": return .nan
        case "+Inf": return .infinity
        case "-Inf": return -.infinity
        default: return Double(text)
        }
    }

    private static func isMetricName(_ name: Substring) -> Bool {
        guard let first = name.first, first.isASCII, first.isLetter || first == "_" || first == ":" else { return false }
        return name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == ":") }
    }
}
