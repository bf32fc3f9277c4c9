import Foundation
import Glibc
import HTTPServer
import JSONCoding

/// The built-in reference chat API: a simulated retrieval-augmented chat service for `loadsmoke serve-demo` and
/// `loadsmoke demo`, so loadsmoke can run without a service of its own.
///
/// Routes:
/// - `POST /chat` with `{"message": "..."}` returns an answer, 2 to 4 sources, the retrieval backend, whether the
///   fallback backend served it and the simulated latency, with an `X-Fallback: true|false` header.
///   `X-Simulate-Failure: pinecone` forces the fallback path. A share `errorRate` of requests fails with 503.
/// - `POST /v1/chat/completions` serves the same answers in the shape of OpenAI's Chat Completions API, whole or,
///   with `"stream": true`, as server-sent events paced by `firstTokenMilliseconds` and `tokenIntervalMilliseconds`.
///   Errors there use OpenAI's error shape. `X-Simulate-Failure: stream-cut` ends a stream after about half its
///   tokens without `data: [DONE]`.
/// - `GET /healthz` returns `{"status": "ok"}`.
public final class DemoChatService: @unchecked Sendable {
    public let options: DemoOptions
    private let server: HTTPServer
    private let chat: ChatSimulator
    private let completions: ChatCompletionsSimulator

    /// - Throws: `DemoOptionsError` when an option is out of range.
    public init(options: DemoOptions = DemoOptions()) throws {
        try options.validate()
        self.options = options
        // Both routes draw from one source, so a seed fixes the outcomes of any mix of their requests.
        let random = SeededRandomSource(seed: options.seed ?? UInt64.random(in: .min ... .max))
        let chat = ChatSimulator(options: options, random: random)
        let completions = ChatCompletionsSimulator(options: options, random: random)
        self.chat = chat
        self.completions = completions
        let configuration = HTTPServer.Configuration(host: options.host, port: options.port, logger: options.logger)
        server = HTTPServer(configuration: configuration) { request in
            DemoChatService.route(request, chat: chat, completions: completions)
        }
    }

    /// Starts listening and returns once the socket accepts connections.
    /// - Throws: `HTTPServerError` when the host is invalid or the port cannot be bound, naming `host:port`.
    public func start() throws {
        try server.start()
    }

    /// The port the service listens on, which is the kernel's choice when `options.port` is 0. 0 before `start()`.
    public var port: Int {
        server.port
    }

    /// Stops accepting connections and waits a bounded time for requests in progress, as `HTTPServer.stop()` does.
    public func stop() {
        server.stop()
    }

    static func route(_ request: HTTPRequest, chat: ChatSimulator, completions: ChatCompletionsSimulator) -> HTTPResponse {
        switch request.path {
        case "/chat":
            guard request.method == "POST" else {
                return .methodNotAllowed(method: request.method, path: request.path, allowedMethods: ["POST"])
            }
            return chat.respond(to: request)
        case "/v1/chat/completions":
            guard request.method == "POST" else {
                let error = OpenAIError(
                    status: 405,
                    message: "method \(request.method) is not allowed on \(request.path). Use POST",
                    type: "invalid_request_error",
                    param: nil
                )
                var response = error.response
                response.headers.set("Allow", "POST")
                return response
            }
            return completions.respond(to: request)
        case "/healthz":
            guard request.method == "GET" || request.method == "HEAD" else {
                return .methodNotAllowed(method: request.method, path: request.path, allowedMethods: ["GET", "HEAD"])
            }
            return .json(serialized: JSONValue.object([("status", .string("ok"))]).serialized())
        default:
            return .notFound(path: request.path)
        }
    }
}

/// The `/chat` handler: validates the message, draws the outcome, sleeps for the simulated latency and builds
/// the response.
final class ChatSimulator: @unchecked Sendable {
    private let options: DemoOptions
    private let random: SeededRandomSource

    /// The latency cap as a multiple of the median, which bounds the log-normal tail.
    static let latencyCapFactor = 10.0
    /// The spread of the latency's logarithm. With 0.5 the 95th percentile is about 2.3 times the median and the
    /// 99th about 3.2 times.
    static let latencyLogSpread = 0.5

    init(options: DemoOptions, random: SeededRandomSource) {
        self.options = options
        self.random = random
    }

    func respond(to request: HTTPRequest) -> HTTPResponse {
        let message: String
        switch Self.parseMessage(request.body) {
        case let .success(text):
            message = text
        case let .failure(rejection):
            return .error(status: 400, message: rejection.message)
        }

        let draws = random.drawChat(documentCount: KnowledgeBase.documents.count)
        let primaryLatency = Self.primaryLatency(medianMilliseconds: options.latencyMilliseconds, deviate: draws.latencyDeviate)

        if draws.errorRoll < options.errorRate {
            sleep(milliseconds: primaryLatency)
            var response = HTTPResponse.error(
                status: 503,
                message: "the chat backend failed (a simulated error at rate \(options.errorRate)). Retry the request."
            )
            response.headers.set("Retry-After", "1")
            return response
        }

        let isFallback = Self.isFallback(request, draws: draws, fallbackRate: options.fallbackRate)
        let latency = Self.answerLatency(primaryLatency: primaryLatency, draws: draws, isFallback: isFallback)
        sleep(milliseconds: latency)

        let sources = Self.retrieveSources(for: message, draws: draws)
        let body = JSONValue.object([
            ("answer", .string(KnowledgeBase.composeAnswer(to: message, sources: sources))),
            ("sources", .array(sources.map { source in
                .object([
                    ("id", .string(source.document.id)),
                    ("title", .string(source.document.title)),
                    ("score", .number(source.score)),
                ])
            })),
            ("retrieval", .string(isFallback ? "pgvector" : "pinecone")),
            ("fallback", .bool(isFallback)),
            ("latency_ms", .number((latency * 10).rounded() / 10)),
        ])
        var response = HTTPResponse.json(serialized: body.serialized())
        response.headers.set("X-Fallback", isFallback ? "true" : "false")
        return response
    }

    /// Returns the primary path's latency in milliseconds: log-normal with the configured median, capped at
    /// `latencyCapFactor` times the median.
    static func primaryLatency(medianMilliseconds: Double, deviate: Double) -> Double {
        min(medianMilliseconds * exp(latencyLogSpread * deviate), medianMilliseconds * latencyCapFactor)
    }

    /// Returns whether the fallback backend serves the request: always when `X-Simulate-Failure` names pinecone,
    /// and otherwise at the rate `fallbackRate`.
    static func isFallback(_ request: HTTPRequest, draws: ChatDraws, fallbackRate: Double) -> Bool {
        request.headers.tokens(for: "X-Simulate-Failure").contains("pinecone") || draws.fallbackRoll < fallbackRate
    }

    /// Returns the latency of an answer in milliseconds. The fallback backend responds 30 % to 50 % slower than
    /// the primary one.
    static func answerLatency(primaryLatency: Double, draws: ChatDraws, isFallback: Bool) -> Double {
        isFallback ? primaryLatency * (1.3 + 0.2 * draws.fallbackSlowdownRoll) : primaryLatency
    }

    /// Returns the 2 to 4 knowledge-base documents that best match `message`.
    static func retrieveSources(for message: String, draws: ChatDraws) -> [RetrievedSource] {
        let sourceCount = 2 + min(Int(draws.sourceCountRoll * 3), 2)
        return KnowledgeBase.retrieve(for: message, count: sourceCount, jitters: draws.scoreJitters)
    }

    struct MessageRejection: Error {
        let message: String
    }

    /// Extracts a non-empty string `message` from a JSON object body.
    static func parseMessage(_ body: [UInt8]) -> Result<String, MessageRejection> {
        let document: JSONValue
        do {
            document = try JSONValue.parse(body)
        } catch {
            return .failure(MessageRejection(message: "invalid JSON in the request body: \(error). Send {\"message\": \"your question\"}."))
        }
        guard case .object = document else {
            return .failure(MessageRejection(message: "the request body must be a JSON object such as {\"message\": \"your question\"}"))
        }
        guard let value = document["message"] else {
            return .failure(MessageRejection(message: "the field \"message\" is missing. Send {\"message\": \"your question\"}."))
        }
        guard let text = value.stringValue else {
            return .failure(MessageRejection(message: "the field \"message\" must be a string, not \(Self.jsonTypeName(value))"))
        }
        guard !text.allSatisfy(\.isWhitespace) else {
            return .failure(MessageRejection(message: "the field \"message\" is empty. Send a question."))
        }
        return .success(text)
    }

    static func jsonTypeName(_ value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .bool: return "a boolean"
        case .integer, .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }

    private func sleep(milliseconds: Double) {
        guard milliseconds > 0 else {
            return
        }
        usleep(useconds_t(milliseconds * 1000))
    }
}
