/// One node of a parsed YAML document, with the 1-based line where it starts.
///
/// The tree keeps what validation needs: the scalar text with whether it was plain (unquoted), so `50` and `"50"`
/// can be distinguished, and every mapping entry in file order, duplicates included, so they can be reported.
struct YAMLNode {
    enum Content {
        case scalar(YAMLScalar)
        case sequence([YAMLNode])
        case mapping([YAMLMappingEntry])
    }

    var content: Content
    var line: Int

    /// Whether the node is a plain `null`, `~` or empty value, which YAML 1.2's core schema reads as null.
    var isNull: Bool {
        guard case .scalar(let scalar) = content, scalar.isPlain else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(scalar.text)
    }

    /// The YAML name of the node's kind, for messages such as `expected a list, found a mapping`.
    var kindName: String {
        switch content {
        case .scalar(let scalar):
            if isNull { return "null" }
            return scalar.isPlain ? "the value \"\(scalar.text)\"" : "the string \"\(scalar.text)\""
        case .sequence: return "a list"
        case .mapping: return "a mapping"
        }
    }
}

/// A scalar's text after YAML unescaping and line folding.
struct YAMLScalar {
    var text: String
    /// False for single-quoted, double-quoted, literal (`|`) and folded (`>`) scalars, which are always strings.
    var isPlain: Bool
}

struct YAMLMappingEntry {
    var key: String
    var keyLine: Int
    var value: YAMLNode
}
