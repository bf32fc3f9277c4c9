import Foundation
import Glibc

/// Reads and validates a daemon configuration file (YAML, or JSON as a subset of it).
///
/// Validation runs section by section in a fixed order (storage, server, alert, targets), fills in defaults and
/// collects every problem it finds. A YAML syntax error stops reading at once, because nothing after it is reliable.
public enum ConfigurationLoader {
    static let topLevelKeys = ["storage", "server", "alert", "targets"]

    /// Reads the file at `path` and validates it like `parse(text:sourcePath:environment:)`.
    ///
    /// - Throws: `ConfigurationErrors` with one issue when the file is missing, unreadable or not UTF-8, and with
    ///   every issue found otherwise.
    public static func load(path: String, environment: [String: String]) throws -> DaemonConfiguration {
        let text: String
        do {
            text = try readText(path)
        } catch let message as FileReadFailure {
            throw ConfigurationErrors(issues: [ConfigurationIssue(file: path, line: nil, keyPath: "", message: message.text)])
        }
        return try parse(text: text, sourcePath: path, environment: environment)
    }

    /// Validates configuration `text`.
    ///
    /// - Parameters:
    ///   - sourcePath: the file's path as shown in issues. Relative paths in the file (`storage.path`, `prompts`)
    ///     are resolved against its folder, and a relative folder against the current directory.
    ///   - environment: where `api_key_env` and `token_env` variables are looked up, such as
    ///     `ProcessInfo.processInfo.environment`.
    /// - Throws: `ConfigurationErrors` listing every issue in line order.
    public static func parse(text: String, sourcePath: String, environment: [String: String]) throws -> DaemonConfiguration {
        let fileURL = URL(fileURLWithPath: sourcePath)
        let decoder = ConfigurationDecoder(
            file: sourcePath, environment: environment, baseDirectory: fileURL.deletingLastPathComponent()
        )

        let root: YAMLNode?
        do {
            root = try YAMLReader.readDocument(text)
        } catch let error as YAMLReadError {
            decoder.report(line: error.line, keyPath: "", error.message)
            throw ConfigurationErrors(issues: decoder.issues)
        }
        guard let root, !root.isNull else {
            decoder.report(line: nil, keyPath: "", "the file is empty; it needs at least a \"targets\" list, as in config/loadsmoke.example.yaml")
            throw ConfigurationErrors(issues: decoder.issues)
        }
        guard case .mapping(let rootEntries) = root.content else {
            decoder.report(line: root.line, keyPath: "", "expected a mapping with the keys \(topLevelKeys.joined(separator: ", ")) at the top level, found \(root.kindName)")
            throw ConfigurationErrors(issues: decoder.issues)
        }
        guard let sections = decoder.mapping(root, keyPath: "", knownKeys: topLevelKeys) else {
            throw ConfigurationErrors(issues: decoder.issues)
        }

        let storage = decoder.storage(sections["storage"]?.value)
        let server = decoder.server(sections["server"]?.value)
        let alert = decoder.alert(sections["alert"]?.value)
        let targets = decoder.targets(sections["targets"], documentLine: rootEntries.first?.keyLine ?? root.line)

        guard decoder.issues.isEmpty else {
            throw ConfigurationErrors(issues: sortedByLine(decoder.issues))
        }
        return DaemonConfiguration(sourcePath: sourcePath, storage: storage, server: server, alert: alert, targets: targets)
    }

    /// Sorts issues by line. Comparing the index too keeps the validation order within a line.
    private static func sortedByLine(_ issues: [ConfigurationIssue]) -> [ConfigurationIssue] {
        issues.enumerated()
            .sorted { ($0.element.line ?? 0, $0.offset) < ($1.element.line ?? 0, $1.offset) }
            .map(\.element)
    }

    private struct FileReadFailure: Error {
        var text: String
    }

    /// Reads the whole file as UTF-8, with errno's text on failure.
    private static func readText(_ path: String) throws -> String {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            let cause = String(cString: strerror(errno))
            throw FileReadFailure(text: "cannot open the configuration file: \(cause); check the path and its permissions")
        }
        let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)

        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            throw FileReadFailure(text: "cannot read the configuration file: \(String(cString: strerror(errno)))")
        }
        guard (status.st_mode & S_IFMT) == S_IFREG else {
            throw FileReadFailure(text: "not a regular file; give the path of a YAML or JSON configuration file")
        }

        let data: Data
        do {
            data = try handle.readToEnd() ?? Data()
        } catch {
            throw FileReadFailure(text: "cannot read the configuration file: \(error.localizedDescription)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw FileReadFailure(text: "the file is not valid UTF-8 text; save it as UTF-8")
        }
        return text
    }
}
