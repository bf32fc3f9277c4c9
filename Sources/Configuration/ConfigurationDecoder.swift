import Foundation
import Scheduling

/// Reads typed values out of the node tree and collects every issue instead of stopping at the first.
///
/// Each reader reports its own issue and returns nil on a wrong value, so callers fall back to a default and carry
/// on. A plain null value (`key:` with nothing after it, `~` or `null`) counts as an omitted key.
final class ConfigurationDecoder {
    let file: String
    let environment: [String: String]
    /// Absolute folder of the configuration file, against which relative paths are resolved.
    let baseDirectory: URL
    private(set) var issues: [ConfigurationIssue] = []

    init(file: String, environment: [String: String], baseDirectory: URL) {
        self.file = file
        self.environment = environment
        self.baseDirectory = baseDirectory
    }

    func report(line: Int?, keyPath: String, _ message: String) {
        issues.append(ConfigurationIssue(file: file, line: line, keyPath: keyPath, message: message))
    }

    // MARK: Mappings

    /// Returns the entries of a mapping by key, after reporting unknown keys (with the closest known key) and
    /// duplicate keys. Returns nil, with an issue, when `node` is not a mapping.
    func mapping(_ node: YAMLNode, keyPath: String, knownKeys: [String]) -> MappingEntries? {
        guard case .mapping(let entries) = node.content else {
            report(line: node.line, keyPath: keyPath, "expected a mapping of \(knownKeys.joined(separator: ", ")), found \(node.kindName)")
            return nil
        }

        var byKey: [String: YAMLMappingEntry] = [:]
        for entry in entries {
            let entryPath = Self.join(keyPath, entry.key)
            if let first = byKey[entry.key] {
                report(line: entry.keyLine, keyPath: entryPath, "duplicate key; it is already set on line \(first.keyLine), so remove one of them")
                continue
            }
            guard knownKeys.contains(entry.key) else {
                report(line: entry.keyLine, keyPath: entryPath, Self.unknownKeyMessage(entry.key, knownKeys: knownKeys))
                continue
            }
            byKey[entry.key] = entry
        }
        return MappingEntries(line: node.line, keyPath: keyPath, entries: byKey)
    }

    static func unknownKeyMessage(_ key: String, knownKeys: [String]) -> String {
        if let suggestion = KeySuggestion.closest(to: key, among: knownKeys) {
            return "unknown key \"\(key)\"; did you mean \"\(suggestion)\"?"
        }
        return "unknown key \"\(key)\"; accepted keys: \(knownKeys.joined(separator: ", "))"
    }

    static func join(_ keyPath: String, _ key: String) -> String {
        keyPath.isEmpty ? key : keyPath + "." + key
    }

    // MARK: Scalars

    /// Reads any scalar as text, quoted or not, so `name: 123` is the string "123".
    func string(_ entry: YAMLMappingEntry, in keyPath: String, expected: String) -> String? {
        guard case .scalar(let scalar) = entry.value.content else {
            report(line: entry.value.line, keyPath: Self.join(keyPath, entry.key), "expected \(expected), found \(entry.value.kindName)")
            return nil
        }
        return scalar.text
    }

    /// Reads a plain whole number such as `50` or `-1`. Range checks are left to the caller.
    func integer(_ entry: YAMLMappingEntry, in keyPath: String) -> Int? {
        let path = Self.join(keyPath, entry.key)
        guard case .scalar(let scalar) = entry.value.content else {
            report(line: entry.value.line, keyPath: path, "expected a whole number, found \(entry.value.kindName)")
            return nil
        }
        let digits = scalar.text.hasPrefix("-") || scalar.text.hasPrefix("+") ? scalar.text.dropFirst() : Substring(scalar.text)
        guard !digits.isEmpty, digits.allSatisfy(\.isASCIIDigit), let value = Int(scalar.text) else {
            report(line: entry.value.line, keyPath: path, "expected a whole number, such as 50, found \(entry.value.kindName)")
            return nil
        }
        guard scalar.isPlain else {
            report(line: entry.value.line, keyPath: path, "expected a whole number, found the string \"\(scalar.text)\"; remove the quotes")
            return nil
        }
        return value
    }

    /// Reads a plain `true` or `false`. YAML 1.1 spellings such as `yes`, `on` and `True` are rejected, not read as strings,
    /// so that a value meant as a boolean never silently becomes text.
    func boolean(_ entry: YAMLMappingEntry, in keyPath: String) -> Bool? {
        if case .scalar(let scalar) = entry.value.content, scalar.isPlain {
            if scalar.text == "true" { return true }
            if scalar.text == "false" { return false }
        }
        report(line: entry.value.line, keyPath: Self.join(keyPath, entry.key), "expected true or false, found \(entry.value.kindName)")
        return nil
    }

    /// Reads a duration such as `500ms`, `30s`, `5m`, `1h` or `7d`, in seconds. A bare number is rejected because its
    /// unit would be a guess.
    func duration(_ entry: YAMLMappingEntry, in keyPath: String, allowsZero: Bool = false) -> Double? {
        guard let text = string(entry, in: keyPath, expected: "a duration such as 30s") else { return nil }
        do {
            return try DurationText.parse(text, allowsZero: allowsZero)
        } catch {
            report(line: entry.value.line, keyPath: Self.join(keyPath, entry.key), "\(error)")
            return nil
        }
    }

    /// Reads a list of scalars as text.
    func stringList(_ entry: YAMLMappingEntry, in keyPath: String, expected: String) -> [String]? {
        stringItems(entry, in: keyPath, expected: expected)?.map(\.text)
    }

    /// Reads a list of scalars as text, each with its line.
    func stringItems(_ entry: YAMLMappingEntry, in keyPath: String, expected: String) -> [(text: String, line: Int)]? {
        let path = Self.join(keyPath, entry.key)
        guard case .sequence(let items) = entry.value.content else {
            report(line: entry.value.line, keyPath: path, "expected \(expected), found \(entry.value.kindName)")
            return nil
        }
        var strings: [(text: String, line: Int)] = []
        var isValid = true
        for (index, item) in items.enumerated() {
            guard case .scalar(let scalar) = item.content, !item.isNull else {
                report(line: item.line, keyPath: "\(path)[\(index)]", "expected a string, found \(item.kindName)")
                isValid = false
                continue
            }
            strings.append((scalar.text, item.line))
        }
        return isValid ? strings : nil
    }

    // MARK: Environment and files

    /// Looks up the environment variable named by `entry`, such as `api_key_env: CHAT_API_KEY`. The value is a
    /// secret, so no message includes it.
    func secret(_ entry: YAMLMappingEntry, in keyPath: String) -> (name: String, value: String)? {
        guard let name = string(entry, in: keyPath, expected: "an environment variable name such as CHAT_API_KEY") else { return nil }
        let path = Self.join(keyPath, entry.key)
        guard Self.isEnvironmentName(name) else {
            report(line: entry.value.line, keyPath: path, "invalid environment variable name \"\(name)\"; expected letters, digits and _, not starting with a digit, such as CHAT_API_KEY")
            return nil
        }
        guard let value = environment[name] else {
            report(line: entry.value.line, keyPath: path, "environment variable \(name) is not set; export it before starting loadsmoke")
            return nil
        }
        guard !value.isEmpty else {
            report(line: entry.value.line, keyPath: path, "environment variable \(name) is empty; set it to the secret")
            return nil
        }
        return (name, value)
    }

    static func isEnvironmentName(_ name: String) -> Bool {
        guard let first = name.first, !first.isASCIIDigit else { return false }
        return name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
    }

    /// Returns `path` when it is absolute, else `path` below the configuration's folder, standardized.
    func resolvedPath(_ path: String) -> String {
        URL(fileURLWithPath: path, relativeTo: baseDirectory).standardizedFileURL.path
    }
}

/// The known entries of one mapping, by key.
struct MappingEntries {
    /// Line of the mapping itself, for issues about missing keys.
    var line: Int
    var keyPath: String
    /// Entries whose value is a plain null are dropped, so a key with no value reads as omitted.
    private var entries: [String: YAMLMappingEntry]

    init(line: Int, keyPath: String, entries: [String: YAMLMappingEntry]) {
        self.line = line
        self.keyPath = keyPath
        self.entries = entries
    }

    subscript(key: String) -> YAMLMappingEntry? {
        guard let entry = entries[key], !entry.value.isNull else { return nil }
        return entry
    }
}
