import Glibc
import JSONCoding

/// One completion of `/v1/chat/completions` and its JSON forms, shaped as in OpenAI's Chat Completions API: the
/// `chat.completion` object of a plain response and the `chat.completion.chunk` events of a streamed one.
struct ChatCompletion: Sendable {
    /// "chatcmpl-" and 24 random letters and digits, shared by every chunk of one stream.
    let id: String
    /// The Unix time in seconds when the answer was created.
    let created: Int
    let model: String
    /// The answer's word tokens after the `max_tokens` cap. Joined they are the answer text.
    let tokens: [String]
    /// "length" when `max_tokens` cut the answer short, otherwise "stop".
    let finishReason: String
    /// The word count of every message's content, standing in for a tokenizer's count.
    let promptTokens: Int
    /// Whether the fallback backend (pgvector) served the answer.
    let isFallback: Bool
    /// Whether every chunk but the usage chunk carries `"usage": null`, as OpenAI sends with `include_usage`.
    let includesUsage: Bool

    init(request: ChatCompletionRequest, draws: ChatDraws, isFallback: Bool) {
        let question = request.lastUserContent
        let sources = ChatSimulator.retrieveSources(for: question, draws: draws)
        let answerTokens = WordTokens.split(KnowledgeBase.composeAnswer(to: question, sources: sources))
        tokens = request.maxTokens.map { Array(answerTokens.prefix($0)) } ?? answerTokens
        finishReason = tokens.count < answerTokens.count ? "length" : "stop"
        promptTokens = request.messages.reduce(0) { $0 + WordTokens.count($1.content) }
        id = "chatcmpl-" + Self.randomAlphanumerics(count: 24)
        created = Int(time(nil))
        model = request.model
        self.isFallback = isFallback
        includesUsage = request.includesUsage
    }

    var content: String {
        tokens.joined()
    }

    /// Returns the `chat.completion` object of a response with `"stream": false`, with the demo's top-level
    /// `fallback` and `retrieval` fields added.
    func completionObject() -> JSONValue {
        .object([
            ("id", .string(id)),
            ("object", .string("chat.completion")),
            ("created", .integer(created)),
            ("model", .string(model)),
            ("choices", .array([
                .object([
                    ("index", .integer(0)),
                    ("message", .object([("role", .string("assistant")), ("content", .string(content))])),
                    ("finish_reason", .string(finishReason)),
                ]),
            ])),
            ("usage", usage()),
            ("fallback", .bool(isFallback)),
            ("retrieval", .string(isFallback ? "pgvector" : "pinecone")),
        ])
    }

    /// Returns the first chunk of a stream, which sets the role and has no `content` key, so that a client timing
    /// the first token can skip it.
    func roleChunk() -> JSONValue {
        chunk(delta: .object([("role", .string("assistant"))]), finishReason: .null)
    }

    func contentChunk(_ token: String) -> JSONValue {
        chunk(delta: .object([("content", .string(token))]), finishReason: .null)
    }

    /// Returns the chunk after the last token, with an empty delta and the finish reason.
    func finalChunk() -> JSONValue {
        chunk(delta: .object([]), finishReason: .string(finishReason))
    }

    /// Returns the chunk with empty `choices` and the token counts, plus the demo's top-level `fallback` field.
    ///
    /// OpenAI sends this chunk only when the request sets `stream_options.include_usage`. The demo always sends it
    /// so that loadsmoke can read the completion token count from any stream.
    func usageChunk() -> JSONValue {
        .object(chunkHeader() + [
            ("choices", .array([])),
            ("usage", usage()),
            ("fallback", .bool(isFallback)),
        ])
    }

    private func chunk(delta: JSONValue, finishReason: JSONValue) -> JSONValue {
        var members = chunkHeader() + [
            ("choices", .array([
                .object([("index", .integer(0)), ("delta", delta), ("finish_reason", finishReason)]),
            ])),
        ]
        if includesUsage {
            members.append(("usage", .null))
        }
        return .object(members)
    }

    private func chunkHeader() -> [(String, JSONValue)] {
        [
            ("id", .string(id)),
            ("object", .string("chat.completion.chunk")),
            ("created", .integer(created)),
            ("model", .string(model)),
        ]
    }

    private func usage() -> JSONValue {
        .object([
            ("prompt_tokens", .integer(promptTokens)),
            ("completion_tokens", .integer(tokens.count)),
            ("total_tokens", .integer(promptTokens + tokens.count)),
        ])
    }

    private static func randomAlphanumerics(count: Int) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        return String((0..<count).map { _ in alphabet.randomElement()! })
    }
}
