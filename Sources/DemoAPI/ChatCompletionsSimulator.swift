import HTTPServer
import JSONCoding

/// The `/v1/chat/completions` handler: validates the request, draws the outcome from the same random source as
/// `/chat`, and sends the answer either whole after the `/chat` latency or as server-sent events paced by
/// `firstTokenMilliseconds` and `tokenIntervalMilliseconds`.
final class ChatCompletionsSimulator: @unchecked Sendable {
    private let options: DemoOptions
    private let random: SeededRandomSource

    init(options: DemoOptions, random: SeededRandomSource) {
        self.options = options
        self.random = random
    }

    func respond(to request: HTTPRequest) -> HTTPResponse {
        let receivedAt = MonotonicClock.now()
        let completionRequest: ChatCompletionRequest
        switch ChatCompletionRequest.parse(request.body) {
        case let .success(parsed):
            completionRequest = parsed
        case let .failure(error):
            return error.response
        }

        let draws = random.drawChat(documentCount: KnowledgeBase.documents.count)
        let primaryLatency = ChatSimulator.primaryLatency(medianMilliseconds: options.latencyMilliseconds, deviate: draws.latencyDeviate)

        if draws.errorRoll < options.errorRate {
            // A streamed request fails when its first token would have been due, before any byte of the stream.
            let delay = completionRequest.isStreaming ? options.firstTokenMilliseconds : primaryLatency
            MonotonicClock.sleep(until: MonotonicClock.instant(receivedAt, plusMilliseconds: delay))
            let error = OpenAIError(
                status: 503,
                message: "the chat backend failed (a simulated error at rate \(options.errorRate)). Retry the request.",
                type: "server_error",
                param: nil
            )
            var response = error.response
            response.headers.set("Retry-After", "1")
            return response
        }

        let isFallback = ChatSimulator.isFallback(request, draws: draws, fallbackRate: options.fallbackRate)
        let completion = ChatCompletion(request: completionRequest, draws: draws, isFallback: isFallback)

        if completionRequest.isStreaming {
            let isCut = request.headers.tokens(for: "X-Simulate-Failure").contains("stream-cut")
            return streamedResponse(completion, receivedAt: receivedAt, isCut: isCut)
        }

        let latency = ChatSimulator.answerLatency(primaryLatency: primaryLatency, draws: draws, isFallback: isFallback)
        MonotonicClock.sleep(until: MonotonicClock.instant(receivedAt, plusMilliseconds: latency))
        var response = HTTPResponse.json(serialized: completion.completionObject().serialized())
        response.headers.set("X-Fallback", isFallback ? "true" : "false")
        return response
    }

    /// Returns a `text/event-stream` response that sends the role chunk at once. The first content token follows
    /// `firstTokenMilliseconds` after `receivedAt`, or `fallbackFirstTokenFactor` times that on the fallback path.
    /// Each further token follows `tokenIntervalMilliseconds` after the previous one was sent. The final chunk, the
    /// usage chunk and `data: [DONE]` follow the last token at once.
    ///
    /// With `isCut` the stream stops after about half the tokens and the connection closes, without the final
    /// chunk, the usage chunk, `[DONE]` or the chunked body's last chunk.
    private func streamedResponse(_ completion: ChatCompletion, receivedAt: UInt64, isCut: Bool) -> HTTPResponse {
        let slowdown = completion.isFallback ? DemoOptions.fallbackFirstTokenFactor : 1
        let firstTokenDelay = options.firstTokenMilliseconds * slowdown
        let tokenInterval = options.tokenIntervalMilliseconds
        let headers: HTTPHeaders = [
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-cache",
            "X-Fallback": completion.isFallback ? "true" : "false",
        ]

        return HTTPResponse(status: 200, headers: headers) { writer in
            try Self.send(completion.roleChunk(), to: writer)

            let sentTokenCount = isCut ? max(1, completion.tokens.count / 2) : completion.tokens.count
            var deadline = MonotonicClock.instant(receivedAt, plusMilliseconds: firstTokenDelay)
            for token in completion.tokens.prefix(sentTokenCount) {
                MonotonicClock.sleep(until: deadline)
                try Self.send(completion.contentChunk(token), to: writer)
                // Timing each gap from the end of the previous send keeps every gap at least the interval, so a
                // late wake-up lengthens the stream instead of shortening the next gap.
                deadline = MonotonicClock.instant(MonotonicClock.now(), plusMilliseconds: tokenInterval)
            }
            if isCut {
                // Throwing makes the server close the connection without ending the chunked body.
                throw SimulatedStreamCut(sentTokenCount: sentTokenCount, tokenCount: completion.tokens.count)
            }

            try Self.send(completion.finalChunk(), to: writer)
            try Self.send(completion.usageChunk(), to: writer)
            try writer.write("data: [DONE]\n\n")
            try writer.flush()
        }
    }

    /// Writes one server-sent event and sends it as its own chunk.
    private static func send(_ chunk: JSONValue, to writer: HTTPBodyWriter) throws {
        try writer.write("data: \(chunk.serialized())\n\n")
        try writer.flush()
    }
}

/// The end of a stream that `X-Simulate-Failure: stream-cut` requested. The server logs its description.
struct SimulatedStreamCut: Error, CustomStringConvertible {
    let sentTokenCount: Int
    let tokenCount: Int

    var description: String {
        "the stream was cut after \(sentTokenCount) of \(tokenCount) tokens because X-Simulate-Failure names stream-cut"
    }
}
