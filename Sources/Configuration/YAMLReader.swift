import CYAML

/// A YAML text that libyaml rejected, or that uses a feature this reader does not support.
struct YAMLReadError: Error {
    /// 1-based line of the problem.
    var line: Int
    var message: String
}

/// Reads one YAML document into a `YAMLNode` tree with libyaml's event parser.
///
/// JSON is read as well, because JSON is a subset of YAML's flow syntax. Anchors, aliases and tags are rejected,
/// not resolved, so a document can never be read differently from how it looks. A stream with more than one
/// document is rejected too.
enum YAMLReader {
    /// Returns the document's root node, or nil when the text contains no document (empty, or only comments).
    ///
    /// - Throws: `YAMLReadError` with libyaml's problem text and line for a syntax error, and for anchors,
    ///   aliases, tags, non-scalar mapping keys and a second document.
    static func readDocument(_ text: String) throws -> YAMLNode? {
        var bytes = Array(text.utf8)
        if bytes.isEmpty {
            // libyaml needs a valid buffer address even for an empty input.
            bytes = [0x0A]
        }
        return try bytes.withUnsafeBufferPointer { buffer in
            var parser = yaml_parser_t()
            guard yaml_parser_initialize(&parser) == 1 else {
                throw YAMLReadError(line: 1, message: "libyaml could not allocate its parser; retry with more free memory")
            }
            defer { yaml_parser_delete(&parser) }
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)

            var builder = TreeBuilder()
            while !builder.isFinished {
                var event = yaml_event_t()
                guard yaml_parser_parse(&parser, &event) == 1 else {
                    throw syntaxError(of: parser, in: buffer)
                }
                defer { yaml_event_delete(&event) }
                try builder.add(event)
            }
            return builder.root
        }
    }

    /// Turns libyaml's error fields into one message, such as
    /// `could not find expected ':' (while scanning a simple key on line 3)`.
    private static func syntaxError(of parser: yaml_parser_t, in buffer: UnsafeBufferPointer<UInt8>) -> YAMLReadError {
        let problem = parser.problem.map { String(cString: $0) } ?? "unknown libyaml error"
        if parser.error == YAML_READER_ERROR {
            // Reader errors (bad encoding) carry a byte offset, not a line.
            let offset = min(parser.problem_offset, buffer.count)
            let line = buffer[..<offset].reduce(1) { $1 == 0x0A ? $0 + 1 : $0 }
            return YAMLReadError(line: line, message: "the file is not valid UTF-8 text: \(problem) at byte \(offset)")
        }

        var message = "YAML syntax error: \(problem)"
        if let context = parser.context {
            message += " (\(String(cString: context)) on line \(parser.context_mark.line + 1))"
        }
        return YAMLReadError(line: Int(parser.problem_mark.line) + 1, message: message)
    }
}

/// Builds the node tree from libyaml events with an explicit stack, so nesting depth costs no call stack.
private struct TreeBuilder {
    private enum OpenCollection {
        case sequence(line: Int, items: [YAMLNode])
        case mapping(line: Int, entries: [YAMLMappingEntry], pendingKey: (text: String, line: Int)?)
    }

    /// Far deeper than any configuration needs, and shallow enough that the recursive release of the tree cannot
    /// exhaust the call stack.
    static let maximumDepth = 64

    private(set) var root: YAMLNode?
    private(set) var isFinished = false
    private var stack: [OpenCollection] = []
    private var documentCount = 0

    mutating func add(_ event: yaml_event_t) throws {
        let line = Int(event.start_mark.line) + 1
        switch event.type {
        case YAML_STREAM_START_EVENT, YAML_DOCUMENT_END_EVENT, YAML_NO_EVENT:
            break
        case YAML_STREAM_END_EVENT:
            isFinished = true
        case YAML_DOCUMENT_START_EVENT:
            documentCount += 1
            guard documentCount == 1 else {
                throw YAMLReadError(line: line, message: "a second YAML document starts here; keep the whole configuration in one document")
            }
        case YAML_ALIAS_EVENT:
            let name = event.data.alias.anchor.map { String(cString: $0) } ?? ""
            throw YAMLReadError(line: line, message: "YAML alias \"*\(name)\" is not supported; write the value out in full")
        case YAML_SCALAR_EVENT:
            let data = event.data.scalar
            try Self.rejectAnchorAndTag(anchor: data.anchor, tag: data.tag, line: line)
            let text = data.value.map { pointer in
                String(decoding: UnsafeBufferPointer(start: pointer, count: data.length), as: UTF8.self)
            } ?? ""
            let scalar = YAMLScalar(text: text, isPlain: data.style == YAML_PLAIN_SCALAR_STYLE)
            try attach(YAMLNode(content: .scalar(scalar), line: line))
        case YAML_SEQUENCE_START_EVENT:
            try Self.rejectAnchorAndTag(anchor: event.data.sequence_start.anchor, tag: event.data.sequence_start.tag, line: line)
            try checkCollectionStart(line: line)
            stack.append(.sequence(line: line, items: []))
        case YAML_MAPPING_START_EVENT:
            try Self.rejectAnchorAndTag(anchor: event.data.mapping_start.anchor, tag: event.data.mapping_start.tag, line: line)
            try checkCollectionStart(line: line)
            stack.append(.mapping(line: line, entries: [], pendingKey: nil))
        case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
            guard let closed = stack.popLast() else { break }
            switch closed {
            case .sequence(let start, let items):
                try attach(YAMLNode(content: .sequence(items), line: start))
            case .mapping(let start, let entries, _):
                try attach(YAMLNode(content: .mapping(entries), line: start))
            }
        default:
            break
        }
    }

    /// Places a finished node as the root, the next list item, a mapping key or a mapping value.
    private mutating func attach(_ node: YAMLNode) throws {
        guard let top = stack.popLast() else {
            root = node
            return
        }
        switch top {
        case .sequence(let line, var items):
            items.append(node)
            stack.append(.sequence(line: line, items: items))
        case .mapping(let line, var entries, let pendingKey):
            if let key = pendingKey {
                entries.append(YAMLMappingEntry(key: key.text, keyLine: key.line, value: node))
                stack.append(.mapping(line: line, entries: entries, pendingKey: nil))
            } else if case .scalar(let scalar) = node.content {
                stack.append(.mapping(line: line, entries: entries, pendingKey: (scalar.text, node.line)))
            } else {
                throw YAMLReadError(line: node.line, message: "a mapping key must be a plain name, not a list or mapping")
            }
        }
    }

    /// Rejects a list or mapping that starts where a mapping key is expected, or nests too deeply.
    private func checkCollectionStart(line: Int) throws {
        guard stack.count < Self.maximumDepth else {
            throw YAMLReadError(line: line, message: "lists and mappings nest more than \(Self.maximumDepth) levels deep; flatten the file")
        }
        if case .mapping(_, _, nil) = stack.last {
            throw YAMLReadError(line: line, message: "a mapping key must be a plain name, not a list or mapping")
        }
    }

    private static func rejectAnchorAndTag(anchor: UnsafeMutablePointer<yaml_char_t>?, tag: UnsafeMutablePointer<yaml_char_t>?, line: Int) throws {
        if let anchor {
            throw YAMLReadError(line: line, message: "YAML anchor \"&\(String(cString: anchor))\" is not supported; write each value out in full")
        }
        if let tag {
            throw YAMLReadError(line: line, message: "YAML tag \"\(String(cString: tag))\" is not supported; remove it and write the value in its plain form")
        }
    }
}
