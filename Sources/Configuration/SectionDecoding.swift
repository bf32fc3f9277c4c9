import Foundation

/// Decoding of the `storage`, `server` and `alert` sections.
extension ConfigurationDecoder {
    static let storageKeys = ["path", "retention", "prune_interval"]
    static let serverKeys = ["listen", "token_env"]
    static let alertKeys = ["command", "timeout", "on", "repeat"]

    /// Reads the `storage` section. A nil `node` means that the section is omitted, so every default applies.
    func storage(_ node: YAMLNode?) -> StorageSettings {
        var settings = StorageSettings(path: resolvedPath(StorageSettings.defaultFileName))
        guard let node, let keys = mapping(node, keyPath: "storage", knownKeys: Self.storageKeys) else { return settings }

        if let entry = keys["path"], let path = string(entry, in: keys.keyPath, expected: "a file path such as /var/lib/loadsmoke/loadsmoke.db") {
            if path.isEmpty {
                report(line: entry.value.line, keyPath: "storage.path", "expected a file path such as /var/lib/loadsmoke/loadsmoke.db, found an empty string")
            } else {
                settings.path = resolvedPath(path)
            }
        }
        if let entry = keys["retention"], let seconds = duration(entry, in: keys.keyPath) {
            settings.retentionSeconds = seconds
        }
        if let entry = keys["prune_interval"], let seconds = duration(entry, in: keys.keyPath) {
            settings.pruneIntervalSeconds = seconds
        }
        return settings
    }

    /// Reads the `server` section. A nil `node` means that the section is omitted, so every default applies.
    func server(_ node: YAMLNode?) -> ServerSettings {
        var settings = ServerSettings()
        guard let node, let keys = mapping(node, keyPath: "server", knownKeys: Self.serverKeys) else { return settings }

        if let entry = keys["listen"], let text = string(entry, in: keys.keyPath, expected: "an address such as \(ListenAddress.example)") {
            do {
                (settings.host, settings.port) = try ListenAddress.parse(text)
            } catch let error as ListenAddressError {
                report(line: entry.value.line, keyPath: "server.listen", "invalid address \"\(text)\": \(error.message)")
            } catch {
                report(line: entry.value.line, keyPath: "server.listen", "invalid address \"\(text)\": \(error)")
            }
        }
        if let entry = keys["token_env"], let secret = secret(entry, in: keys.keyPath) {
            settings.tokenEnv = secret.name
            settings.token = secret.value
        }
        return settings
    }

    /// Reads the `alert` section, or returns nil when it is omitted or invalid.
    func alert(_ node: YAMLNode?) -> AlertSettings? {
        guard let node, let keys = mapping(node, keyPath: "alert", knownKeys: Self.alertKeys) else { return nil }
        var settings = AlertSettings(command: [])
        var isValid = true

        if let entry = keys["command"] {
            if let command = alertCommand(entry) {
                settings.command = command
            } else {
                isValid = false
            }
        } else {
            report(line: keys.line, keyPath: "alert", "missing required key \"command\"; give the alert program as a list, such as [\"/usr/local/bin/notify-ops\", \"--channel\", \"smoke\"]")
            isValid = false
        }

        if let entry = keys["timeout"] {
            if let seconds = duration(entry, in: keys.keyPath) { settings.timeoutSeconds = seconds } else { isValid = false }
        }
        if let entry = keys["on"] {
            if let events = alertEvents(entry) { settings.events = events } else { isValid = false }
        }
        if let entry = keys["repeat"] {
            if let seconds = duration(entry, in: keys.keyPath) { settings.repeatSeconds = seconds } else { isValid = false }
        }
        return isValid ? settings : nil
    }

    private func alertCommand(_ entry: YAMLMappingEntry) -> [String]? {
        let example = "[\"/usr/local/bin/notify-ops\", \"--channel\", \"smoke\"]"
        guard let command = stringList(entry, in: "alert", expected: "a list of program and arguments, run without a shell, such as \(example)") else {
            return nil
        }
        guard let program = command.first else {
            report(line: entry.value.line, keyPath: "alert.command", "expected at least the program, such as \(example)")
            return nil
        }
        // A relative path such as ./notify would depend on the daemon's working directory.
        guard program.hasPrefix("/") || (!program.isEmpty && !program.contains("/")) else {
            report(line: entry.value.line, keyPath: "alert.command[0]", "invalid program \"\(program)\"; expected an absolute path such as /usr/local/bin/notify-ops or a command name looked up on PATH")
            return nil
        }
        return command
    }

    private func alertEvents(_ entry: YAMLMappingEntry) -> Set<AlertEvent>? {
        let accepted = AlertEvent.allCases.map(\.rawValue).joined(separator: ", ")
        guard let names = stringItems(entry, in: "alert", expected: "a list of events out of \(accepted), such as [failure, recovery]") else {
            return nil
        }
        guard !names.isEmpty else {
            report(line: entry.value.line, keyPath: "alert.on", "expected at least one event out of \(accepted); remove the alert section to turn alerts off")
            return nil
        }
        var events: Set<AlertEvent> = []
        var isValid = true
        for (index, name) in names.enumerated() {
            guard let event = AlertEvent(rawValue: name.text) else {
                report(line: name.line, keyPath: "alert.on[\(index)]", "unknown event \"\(name.text)\"; accepted events: \(accepted)")
                isValid = false
                continue
            }
            events.insert(event)
        }
        return isValid ? events : nil
    }
}
