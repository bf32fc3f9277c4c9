import HTTPServer
import JSONCoding

/// One message of a chat completion request.
struct ChatMessage: Equatable {
    var role: String
    var content: String
}

/// A validated `POST /v1/chat/completions` body, in the subset of the OpenAI Chat Completions API the demo serves.
struct ChatCompletionRequest: Equatable {
    /// The model name sent, which the demo echoes and otherwise ignores.
    var model: String
    var messages: [ChatMessage]
    var isStreaming: Bool
    /// The maximum number of completion tokens, 1 or more. Nil sends the whole answer.
    var maxTokens: Int?
    /// Whether `stream_options.include_usage` is true, which adds `"usage": null` to every chunk but the usage chunk.
    var includesUsage: Bool

    /// The model name echoed when a request sends none.
    static let defaultModel = "loadsmoke-demo"

    static let exampleBody = #"{"model": "demo", "messages": [{"role": "user", "content": "How long does shipping take?"}]}"#

    /// The content of the last message whose role is "user", which the answer quotes.
    var lastUserContent: String {
        messages.last(where: { $0.role == "user" })?.content ?? ""
    }

    /// Parses and validates a request body.
    ///
    /// `stream`, `max_tokens`, `stream_options` and `model` may be null, which means absent, as in OpenAI's API.
    /// Other fields are ignored.
    static func parse(_ body: [UInt8]) -> Result<ChatCompletionRequest, OpenAIError> {
        let document: JSONValue
        do {
            document = try JSONValue.parse(body)
        } catch {
            return .failure(.invalidRequest("invalid JSON in the request body: \(error). Send an object such as \(exampleBody)."))
        }
        guard case .object = document else {
            return .failure(.invalidRequest("the request body must be a JSON object such as \(exampleBody)"))
        }

        let model: String
        switch document["model"] {
        case nil, .null?:
            model = defaultModel
        case let .string(name)?:
            model = name
        case let value?:
            return .failure(.invalidRequest("the field \"model\" must be a string, not \(jsonTypeName(value))", param: "model"))
        }

        let messages: [ChatMessage]
        switch parseMessages(document["messages"]) {
        case let .success(parsed):
            messages = parsed
        case let .failure(error):
            return .failure(error)
        }

        let isStreaming: Bool
        switch document["stream"] {
        case nil, .null?:
            isStreaming = false
        case let .bool(flag)?:
            isStreaming = flag
        case let value?:
            return .failure(.invalidRequest("the field \"stream\" must be true or false, not \(jsonTypeName(value))", param: "stream"))
        }

        var maxTokens: Int?
        switch document["max_tokens"] {
        case nil, .null?:
            maxTokens = nil
        case let value?:
            guard let count = value.integerValue, count >= 1, count <= Int64(Int32.max) else {
                return .failure(.invalidRequest(
                    "invalid value \(value.serialized()) for \"max_tokens\": expected a whole number of 1 or more",
                    param: "max_tokens"
                ))
            }
            maxTokens = Int(count)
        }

        var includesUsage = false
        switch document["stream_options"] {
        case nil, .null?:
            break
        case let .object(members)?:
            switch members.first(where: { $0.0 == "include_usage" })?.1 {
            case nil, .null?:
                break
            case let .bool(flag)?:
                includesUsage = flag
            case let value?:
                return .failure(.invalidRequest(
                    "the field \"stream_options.include_usage\" must be true or false, not \(jsonTypeName(value))",
                    param: "stream_options.include_usage"
                ))
            }
        case let value?:
            return .failure(.invalidRequest(
                "the field \"stream_options\" must be an object such as {\"include_usage\": true}, not \(jsonTypeName(value))",
                param: "stream_options"
            ))
        }

        return .success(ChatCompletionRequest(
            model: model,
            messages: messages,
            isStreaming: isStreaming,
            maxTokens: maxTokens,
            includesUsage: includesUsage
        ))
    }

    /// Checks that `value` is a non-empty array of messages with string roles and contents, at least one from
    /// the user.
    private static func parseMessages(_ value: JSONValue?) -> Result<[ChatMessage], OpenAIError> {
        guard let value else {
            return .failure(.invalidRequest("the field \"messages\" is missing. Send an object such as \(exampleBody).", param: "messages"))
        }
        guard let elements = value.arrayValue else {
            return .failure(.invalidRequest("the field \"messages\" must be an array of messages, not \(jsonTypeName(value))", param: "messages"))
        }
        guard !elements.isEmpty else {
            return .failure(.invalidRequest("the field \"messages\" is empty. Send at least one message with the role \"user\".", param: "messages"))
        }

        var messages: [ChatMessage] = []
        for (index, element) in elements.enumerated() {
            let param = "messages[\(index)]"
            guard case .object = element else {
                return .failure(.invalidRequest("\(param) must be an object such as {\"role\": \"user\", \"content\": \"Hello\"}, not \(jsonTypeName(element))", param: param))
            }
            guard let roleValue = element["role"] else {
                return .failure(.invalidRequest("\(param).role is missing. Send a role such as \"user\".", param: "\(param).role"))
            }
            guard let role = roleValue.stringValue else {
                return .failure(.invalidRequest("\(param).role must be a string, not \(jsonTypeName(roleValue))", param: "\(param).role"))
            }
            guard let contentValue = element["content"] else {
                return .failure(.invalidRequest("\(param).content is missing. Send the message text as a string.", param: "\(param).content"))
            }
            // NOTE: OpenAI also accepts an array of content parts here, but the demo accepts only a string.
            guard let content = contentValue.stringValue else {
                return .failure(.invalidRequest("\(param).content must be a string, not \(jsonTypeName(contentValue))", param: "\(param).content"))
            }
            messages.append(ChatMessage(role: role, content: content))
        }

        guard messages.contains(where: { $0.role == "user" }) else {
            return .failure(.invalidRequest("the field \"messages\" contains no message with the role \"user\". Add the question as a user message.", param: "messages"))
        }
        return .success(messages)
    }

    private static func jsonTypeName(_ value: JSONValue) -> String {
        ChatSimulator.jsonTypeName(value)
    }
}

/// An error response in the shape of OpenAI's API:
/// `{"error": {"message": "...", "type": "invalid_request_error", "param": "messages", "code": null}}`.
struct OpenAIError: Error, Equatable {
    var status: Int
    var message: String
    /// OpenAI's error category, such as "invalid_request_error" or "server_error".
    var type: String
    /// The request field that caused the error, such as "messages[0].content", or nil when no one field did.
    var param: String?

    /// Returns a 400 error of the type "invalid_request_error".
    static func invalidRequest(_ message: String, param: String? = nil) -> OpenAIError {
        OpenAIError(status: 400, message: message, type: "invalid_request_error", param: param)
    }

    var response: HTTPResponse {
        let body = JSONValue.object([
            ("error", .object([
                ("message", .string(message)),
                ("type", .string(type)),
                ("param", param.map(JSONValue.string) ?? .null),
                ("code", .null),
            ])),
        ])
        return .json(status: status, serialized: body.serialized())
    }
}
