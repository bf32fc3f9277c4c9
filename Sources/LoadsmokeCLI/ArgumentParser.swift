import Foundation
import SmokeRunner

/// One option of a command: a flag (no value) or an option that takes a value.
struct OptionSpec {
    /// Long name without dashes, e.g. `requests`.
    let name: String
    let short: Character?
    /// Placeholder shown in help, e.g. `N`; nil for a flag.
    let valueName: String?
    /// A short phrase with the unit and default, shown in help.
    let help: String
    var isRepeatable = false

    static func flag(_ name: String, short: Character? = nil, _ help: String) -> OptionSpec {
        OptionSpec(name: name, short: short, valueName: nil, help: help)
    }

    static func value(_ name: String, short: Character? = nil, _ valueName: String, _ help: String, repeatable: Bool = false) -> OptionSpec {
        OptionSpec(name: name, short: short, valueName: valueName, help: help, isRepeatable: repeatable)
    }
}

/// A subcommand's name, help text and accepted arguments.
struct CommandSpec {
    let name: String
    let summary: String
    /// Text after `loadsmoke NAME` in the usage line, e.g. `[options]`.
    let usage: String
    let options: [OptionSpec]
    /// Names of the positional arguments, in order, and whether each is required.
    var positionals: [(name: String, isRequired: Bool)] = []
    /// Paragraphs printed after the options in `--help`.
    var discussion: String = ""

    var helpText: String {
        var lines = ["OVERVIEW: \(summary)", "", "USAGE: loadsmoke \(name) \(usage)", "", "OPTIONS:"]
        let rows: [(String, String)] = options.map { option in
            var left = option.short.map { "-\($0), " } ?? "    "
            left += "--\(option.name)"
            if let valueName = option.valueName { left += " \(valueName)" }
            return (left, option.help + (option.isRepeatable ? " Repeatable." : ""))
        } + [("-h, --help", "Show this help.")]
        let width = min(34, rows.map { $0.0.count }.max() ?? 0)
        for (left, right) in rows {
            if left.count > width {
                lines.append("  \(left)")
                lines.append("  \(String(repeating: " ", count: width))  \(right)")
            } else {
                lines.append("  \(left.padding(toLength: width, withPad: " ", startingAt: 0))  \(right)")
            }
        }
        if !discussion.isEmpty {
            lines += ["", discussion]
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// A command-line mistake; printed as one line with a pointer to `--help`, exit code 2.
struct UsageError: Error, CustomStringConvertible {
    let message: String
    /// The subcommand whose help to point at, or nil for the top level.
    let command: String?

    var description: String {
        let help = command.map { "loadsmoke \($0) --help" } ?? "loadsmoke --help"
        return "error: \(message) (see '\(help)')"
    }
}

/// Parsed arguments: option values by long name, in the order given, and positionals.
struct ParsedArguments {
    var values: [String: [String]] = [:]
    var positionals: [String] = []
    var isHelpRequested = false

    func has(_ name: String) -> Bool { values[name] != nil }

    /// Returns the last value given for `name`, so a repeated single-value option keeps its last value, as most tools do.
    func value(_ name: String) -> String? { values[name]?.last }

    func all(_ name: String) -> [String] { values[name] ?? [] }
}

/// Parses `--name value`, `--name=value`, `-n value`, `-nVALUE`, flags, `--` and positionals.
enum ArgumentParser {
    static func parse(_ arguments: [String], for command: CommandSpec) throws -> ParsedArguments {
        var parsed = ParsedArguments()
        var index = 0
        var isAfterTerminator = false

        func fail(_ message: String) -> UsageError { UsageError(message: message, command: command.name) }

        while index < arguments.count {
            let argument = arguments[index]
            index += 1

            if isAfterTerminator || argument == "-" || !argument.hasPrefix("-") {
                parsed.positionals.append(argument)
                continue
            }
            if argument == "--" {
                isAfterTerminator = true
                continue
            }
            if argument == "-h" || argument == "--help" {
                parsed.isHelpRequested = true
                continue
            }

            let option: OptionSpec
            var inlineValue: String?
            if argument.hasPrefix("--") {
                let body = argument.dropFirst(2)
                let name: Substring
                if let equals = body.firstIndex(of: "=") {
                    name = body[..<equals]
                    inlineValue = String(body[body.index(after: equals)...])
                } else {
                    name = body
                }
                guard let match = command.options.first(where: { $0.name == name }) else {
                    throw fail("unknown option '--\(name)'")
                }
                option = match
            } else {
                let letter = argument[argument.index(after: argument.startIndex)]
                guard let match = command.options.first(where: { $0.short == letter }) else {
                    throw fail("unknown option '-\(letter)'")
                }
                option = match
                let rest = argument.dropFirst(2)
                if !rest.isEmpty {
                    guard option.valueName != nil else { throw fail("unknown option '\(argument)'") }
                    inlineValue = String(rest.hasPrefix("=") ? rest.dropFirst() : rest)
                }
            }

            guard option.valueName != nil else {
                if inlineValue != nil { throw fail("option '--\(option.name)' takes no value") }
                parsed.values[option.name, default: []].append("")
                continue
            }
            let value: String
            if let inlineValue {
                value = inlineValue
            } else {
                guard index < arguments.count else {
                    throw fail("missing value for '--\(option.name)' (expected \(option.valueName!))")
                }
                value = arguments[index]
                index += 1
            }
            parsed.values[option.name, default: []].append(value)
        }

        if parsed.isHelpRequested { return parsed }
        let allowed = command.positionals.count
        if parsed.positionals.count > allowed {
            throw fail("unexpected argument '\(parsed.positionals[allowed])'")
        }
        if let missing = command.positionals.dropFirst(parsed.positionals.count).first(where: \.isRequired) {
            throw fail("missing argument \(missing.name)")
        }
        return parsed
    }
}

/// Typed reads of option values; each error names the option, the value and what is accepted.
extension ParsedArguments {
    func integer(_ name: String, command: String, minimum: Int = 1) throws -> Int? {
        guard let text = value(name) else { return nil }
        guard let number = Int(text), number >= minimum else {
            throw UsageError(message: "invalid value \"\(text)\" for --\(name): expected a whole number of \(minimum) or more", command: command)
        }
        return number
    }

    func decimal(_ name: String, command: String, unitHint: String) throws -> Double? {
        guard let text = value(name) else { return nil }
        guard let number = Double(text), number.isFinite, number >= 0 else {
            throw UsageError(message: "invalid value \"\(text)\" for --\(name): expected \(unitHint)", command: command)
        }
        return number
    }
}

/// The result of reading a command's arguments: arguments to run with, or the exit code after `--help` was printed
/// or an invalid argument was reported.
enum ParseOutcome {
    case run(ParsedArguments)
    case exit(Int32)
}

extension CommandSpec {
    /// Parses `arguments`, printing the help text for `--help` and one `error:` line for an invalid argument.
    func parse(_ arguments: [String], console: Console) -> ParseOutcome {
        do {
            let parsed = try ArgumentParser.parse(arguments, for: self)
            if parsed.isHelpRequested {
                console.out(helpText)
                return .exit(ExitCode.success)
            }
            return .run(parsed)
        } catch {
            return .exit(console.usageFailure(error, command: name))
        }
    }
}

extension Console {
    /// Prints a usage or input problem as one `error:` line with a pointer to `--help`, and returns exit code 2.
    func usageFailure(_ error: Error, command: String?) -> Int32 {
        switch error {
        case let usage as UsageError:
            self.error(usage.description)
        case let option as SmokeOptionsError:
            self.error(UsageError(message: option.description, command: command).description)
        default:
            self.error("error: \(error)")
        }
        return ExitCode.usage
    }
}
