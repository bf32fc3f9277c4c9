/// The demo's stand-in for a model tokenizer: one token per word, so token counts are word counts and not the
/// counts a real model's tokenizer would report.
enum WordTokens {
    /// Splits `text` into words that each keep the whitespace after them, so joining the tokens returns `text`.
    /// Whitespace before the first word stays with that word.
    static func split(_ text: String) -> [String] {
        var tokens: [String] = []
        var current = ""
        var isInTrailingWhitespace = false
        for character in text {
            if character.isWhitespace {
                if !current.isEmpty && !current.allSatisfy(\.isWhitespace) {
                    isInTrailingWhitespace = true
                }
            } else if isInTrailingWhitespace {
                tokens.append(current)
                current = ""
                isInTrailingWhitespace = false
            }
            current.append(character)
        }
        if !current.isEmpty {
            tokens.append(current)
        }
        return tokens
    }

    /// Returns how many tokens `split(_:)` makes of `text`.
    static func count(_ text: String) -> Int {
        split(text).count
    }
}
