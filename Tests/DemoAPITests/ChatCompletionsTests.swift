import Foundation
import HTTPServer
import JSONCoding
import XCTest
@testable import DemoAPI

final class ChatCompletionsTests: XCTestCase {
    private static let firstTokenMilliseconds = 30.0
    private static let tokenIntervalMilliseconds = 5.0
    /// The slack allowed above a configured delay, generous because the test machine may be busy.
    private static let delaySlackMilliseconds = 1_000.0

    private func startService(fallbackRate: Double = 0, errorRate: Double = 0) throws -> DemoChatService {
        let options = DemoOptions(
            port: 0,
            latencyMilliseconds: 1,
            firstTokenMilliseconds: Self.firstTokenMilliseconds,
            tokenIntervalMilliseconds: Self.tokenIntervalMilliseconds,
            fallbackRate: fallbackRate,
            errorRate: errorRate,
            seed: 11
        )
        let service = try DemoChatService(options: options)
        try service.start()
        addTeardownBlock { service.stop() }
        return service
    }

    private func requestBody(
        question: String = "How long does shipping take?",
        isStreaming: Bool,
        extraFields: [(String, JSONValue)] = []
    ) -> String {
        JSONValue.object([
            ("model", .string("demo-model")),
            ("messages", .array([.object([("role", .string("user")), ("content", .string(question))])])),
            ("stream", .bool(isStreaming)),
        ] + extraFields).serialized()
    }

    private func complete(_ service: DemoChatService, body: String, headers: [(String, String)] = []) throws -> DemoResponse {
        try sendRequest(port: service.port, method: "POST", path: "/v1/chat/completions", headers: headers, body: body)
    }

    /// Returns the content chunks of a stream: those whose delta has a `content` key.
    private func contentEvents(_ response: EventStreamResponse) throws -> [ReceivedEvent] {
        try response.events.filter { event in
            guard event.data != "[DONE]" else {
                return false
            }
            return try event.json().value(atPointer: "/choices/0/delta/content") != nil
        }
    }

    private func contentTokens(_ response: EventStreamResponse) throws -> [String] {
        try contentEvents(response).map { try XCTUnwrap($0.json().value(atPointer: "/choices/0/delta/content")?.stringValue) }
    }

    // MARK: Non-streamed

    func testCompletionHasOpenAIShape() throws {
        let service = try startService()

        let response = try complete(service, body: requestBody(isStreaming: false))
        let json = try response.json()

        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.header("Content-Type"), "application/json")
        XCTAssertEqual(response.header("X-Fallback"), "false")
        XCTAssertEqual(json.objectValue?.map(\.0), ["id", "object", "created", "model", "choices", "usage", "fallback", "retrieval"])
        XCTAssertTrue(json["id"]?.stringValue?.hasPrefix("chatcmpl-") ?? false)
        XCTAssertEqual(json["object"]?.stringValue, "chat.completion")
        XCTAssertGreaterThan(json["created"]?.integerValue ?? 0, 1_700_000_000)
        XCTAssertEqual(json["model"]?.stringValue, "demo-model")
        XCTAssertEqual(json["fallback"]?.boolValue, false)
        XCTAssertEqual(json["retrieval"]?.stringValue, "pinecone")

        let choices = try XCTUnwrap(json["choices"]?.arrayValue)
        XCTAssertEqual(choices.count, 1)
        XCTAssertEqual(choices[0]["index"]?.integerValue, 0)
        XCTAssertEqual(choices[0].value(atPointer: "/message/role")?.stringValue, "assistant")
        XCTAssertEqual(choices[0]["finish_reason"]?.stringValue, "stop")
        let content = try XCTUnwrap(choices[0].value(atPointer: "/message/content")?.stringValue)
        XCTAssertTrue(content.contains("How long does shipping take?"), content)
        XCTAssertTrue(content.contains("Shipping times"), content)
    }

    func testCompletionUsageCountsWords() throws {
        let service = try startService()

        let json = try complete(service, body: requestBody(isStreaming: false)).json()
        let content = try XCTUnwrap(json.value(atPointer: "/choices/0/message/content")?.stringValue)

        XCTAssertEqual(json.value(atPointer: "/usage/prompt_tokens")?.integerValue, 5)
        XCTAssertEqual(json.value(atPointer: "/usage/completion_tokens")?.integerValue, Int64(WordTokens.count(content)))
        XCTAssertEqual(json.value(atPointer: "/usage/total_tokens")?.integerValue, Int64(5 + WordTokens.count(content)))
    }

    func testAnswerQuotesLastUserMessage() throws {
        let service = try startService()
        let body = JSONValue.object([
            ("messages", .array([
                .object([("role", .string("system")), ("content", .string("Be brief."))]),
                .object([("role", .string("user")), ("content", .string("Can I get a refund?"))]),
                .object([("role", .string("assistant")), ("content", .string("Yes."))]),
                .object([("role", .string("user")), ("content", .string("How do I reset my password?"))]),
            ])),
        ]).serialized()

        let json = try complete(service, body: body).json()
        let content = try XCTUnwrap(json.value(atPointer: "/choices/0/message/content")?.stringValue)

        XCTAssertTrue(content.contains("How do I reset my password?"), content)
        XCTAssertFalse(content.contains("refund"), content)
        XCTAssertEqual(json["model"]?.stringValue, ChatCompletionRequest.defaultModel)
        XCTAssertEqual(json.value(atPointer: "/usage/prompt_tokens")?.integerValue, 2 + 5 + 1 + 6)
    }

    func testMaxTokensCapsCompletion() throws {
        let service = try startService()

        let json = try complete(service, body: requestBody(isStreaming: false, extraFields: [("max_tokens", .integer(3))])).json()

        XCTAssertEqual(json.value(atPointer: "/choices/0/message/content")?.stringValue, "You asked: \"How ")
        XCTAssertEqual(json.value(atPointer: "/choices/0/finish_reason")?.stringValue, "length")
        XCTAssertEqual(json.value(atPointer: "/usage/completion_tokens")?.integerValue, 3)
    }

    func testLargeMaxTokensFinishesWithStop() throws {
        let service = try startService()

        let json = try complete(service, body: requestBody(isStreaming: false, extraFields: [("max_tokens", .integer(10_000))])).json()

        XCTAssertEqual(json.value(atPointer: "/choices/0/finish_reason")?.stringValue, "stop")
    }

    func testPineconeFailureReportsFallback() throws {
        let service = try startService()

        let response = try complete(service, body: requestBody(isStreaming: false), headers: [("X-Simulate-Failure", "PineCone")])
        let json = try response.json()

        XCTAssertEqual(response.header("X-Fallback"), "true")
        XCTAssertEqual(json["fallback"]?.boolValue, true)
        XCTAssertEqual(json["retrieval"]?.stringValue, "pgvector")
    }

    // MARK: Streamed

    func testStreamSendsEventsInOrder() throws {
        let service = try startService()

        let response = try sendStreamingRequest(port: service.port, body: requestBody(isStreaming: true))
        let events = response.events
        let tokens = try contentTokens(response)

        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.header("Content-Type"), "text/event-stream")
        XCTAssertEqual(response.header("Cache-Control"), "no-cache")
        XCTAssertEqual(response.header("X-Fallback"), "false")
        XCTAssertTrue(response.hasLastChunk)
        XCTAssertGreaterThan(tokens.count, 10)
        XCTAssertEqual(events.count, 1 + tokens.count + 3, "role chunk, content chunks, final chunk, usage chunk, [DONE]")
        guard events.count == tokens.count + 4 else {
            return
        }

        let role = try events[0].json()
        XCTAssertEqual(role.value(atPointer: "/choices/0/delta"), .object([("role", .string("assistant"))]))
        XCTAssertEqual(role.value(atPointer: "/choices/0/finish_reason"), .null)
        for event in events[1...tokens.count] {
            let chunk = try event.json()
            XCTAssertEqual(chunk.value(atPointer: "/choices/0/finish_reason"), .null, event.data)
            XCTAssertNil(chunk["usage"], event.data)
        }
        XCTAssertTrue(tokens.joined().hasPrefix("You asked: \"How long does shipping take?\". "), tokens.joined())

        let final = try events[tokens.count + 1].json()
        XCTAssertEqual(final.value(atPointer: "/choices/0/delta"), .object([]))
        XCTAssertEqual(final.value(atPointer: "/choices/0/finish_reason")?.stringValue, "stop")

        let usage = try events[tokens.count + 2].json()
        XCTAssertEqual(usage["choices"], .array([]))
        XCTAssertEqual(usage.value(atPointer: "/usage/prompt_tokens")?.integerValue, 5)
        XCTAssertEqual(usage.value(atPointer: "/usage/completion_tokens")?.integerValue, Int64(tokens.count))
        XCTAssertEqual(usage.value(atPointer: "/usage/total_tokens")?.integerValue, Int64(5 + tokens.count))
        XCTAssertEqual(usage["fallback"]?.boolValue, false)

        XCTAssertEqual(events.last?.data, "[DONE]")
    }

    func testStreamChunksShareIdentity() throws {
        let service = try startService()

        let response = try sendStreamingRequest(port: service.port, body: requestBody(isStreaming: true))
        let chunks = try response.events.dropLast().map { try $0.json() }
        let firstID = try XCTUnwrap(chunks.first?["id"]?.stringValue)

        XCTAssertTrue(firstID.hasPrefix("chatcmpl-"))
        for chunk in chunks {
            XCTAssertEqual(chunk["id"]?.stringValue, firstID)
            XCTAssertEqual(chunk["object"]?.stringValue, "chat.completion.chunk")
            XCTAssertEqual(chunk["model"]?.stringValue, "demo-model")
            XCTAssertEqual(chunk["created"], chunks[0]["created"])
        }
    }

    func testStreamFirstTokenWaitsForDelay() throws {
        let service = try startService()

        let response = try sendStreamingRequest(port: service.port, body: requestBody(isStreaming: true))
        let firstToken = try XCTUnwrap(contentEvents(response).first)

        XCTAssertGreaterThanOrEqual(firstToken.arrivalMilliseconds, Self.firstTokenMilliseconds)
        XCTAssertLessThan(firstToken.arrivalMilliseconds, Self.firstTokenMilliseconds + Self.delaySlackMilliseconds)
        XCTAssertLessThan(try XCTUnwrap(response.events.first).arrivalMilliseconds, firstToken.arrivalMilliseconds)
    }

    func testStreamTokenGapsAreAtLeastInterval() throws {
        let service = try startService()

        let response = try sendStreamingRequest(port: service.port, body: requestBody(isStreaming: true))
        let arrivals = try contentEvents(response).map(\.arrivalMilliseconds)
        let gaps = zip(arrivals.dropFirst(), arrivals).map { $0 - $1 }.sorted()

        // The server waits at least the interval after each send, but a client read that wakes late shortens the
        // next measured gap or reads two tokens at once, so the median is checked and not each gap.
        XCTAssertGreaterThan(gaps.count, 10)
        let median = gaps[gaps.count / 2]
        XCTAssertGreaterThanOrEqual(median, Self.tokenIntervalMilliseconds, "gaps \(gaps)")
        XCTAssertLessThan(median, Self.tokenIntervalMilliseconds + Self.delaySlackMilliseconds, "gaps \(gaps)")
        let span = try XCTUnwrap(arrivals.last) - arrivals[0]
        XCTAssertLessThan(span, Double(gaps.count) * Self.tokenIntervalMilliseconds + Self.delaySlackMilliseconds)
    }

    func testStreamMaxTokensFinishesWithLength() throws {
        let service = try startService()
        let body = requestBody(isStreaming: true, extraFields: [("max_tokens", .integer(4))])

        let response = try sendStreamingRequest(port: service.port, body: body)
        let tokens = try contentTokens(response)
        let chunks = try response.events.dropLast().map { try $0.json() }

        XCTAssertEqual(tokens, ["You ", "asked: ", "\"How ", "long "])
        XCTAssertEqual(chunks.last?.value(atPointer: "/usage/completion_tokens")?.integerValue, 4)
        XCTAssertEqual(chunks.dropLast().last?.value(atPointer: "/choices/0/finish_reason")?.stringValue, "length")
        XCTAssertEqual(response.events.last?.data, "[DONE]")
    }

    func testStreamIncludeUsageAddsNullUsage() throws {
        let service = try startService()
        let body = requestBody(isStreaming: true, extraFields: [("stream_options", .object([("include_usage", .bool(true))]))])

        let response = try sendStreamingRequest(port: service.port, body: body)
        let chunks = try response.events.dropLast().map { try $0.json() }

        XCTAssertGreaterThan(chunks.count, 3)
        for chunk in chunks.dropLast() {
            XCTAssertEqual(chunk["usage"], .null, chunk.serialized())
        }
        XCTAssertNotNil(chunks.last?.value(atPointer: "/usage/completion_tokens")?.integerValue)
    }

    func testStreamPineconeFailureDelaysFirstToken() throws {
        let service = try startService()
        let slowedDelay = Self.firstTokenMilliseconds * DemoOptions.fallbackFirstTokenFactor

        let response = try sendStreamingRequest(
            port: service.port,
            headers: [("X-Simulate-Failure", "pinecone")],
            body: requestBody(isStreaming: true)
        )
        let firstToken = try XCTUnwrap(contentEvents(response).first)
        let usage = try response.events.dropLast().last?.json()

        XCTAssertEqual(response.header("X-Fallback"), "true")
        XCTAssertEqual(usage?["fallback"]?.boolValue, true)
        XCTAssertGreaterThanOrEqual(firstToken.arrivalMilliseconds, slowedDelay)
        XCTAssertLessThan(firstToken.arrivalMilliseconds, slowedDelay + Self.delaySlackMilliseconds)
        XCTAssertEqual(response.events.last?.data, "[DONE]")
    }

    func testStreamCutEndsWithoutDone() throws {
        let service = try startService()
        let body = requestBody(isStreaming: true, extraFields: [("max_tokens", .integer(10))])

        let response = try sendStreamingRequest(port: service.port, headers: [("X-Simulate-Failure", "pinecone, Stream-Cut")], body: body)
        let payloads = response.events.map(\.data)

        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.header("X-Fallback"), "true")
        XCTAssertEqual(try contentTokens(response).count, 5)
        XCTAssertEqual(payloads.count, 1 + 5, "role chunk and 5 content chunks: \(payloads)")
        XCTAssertFalse(payloads.contains("[DONE]"))
        XCTAssertFalse(payloads.contains { $0.contains("finish_reason\":\"") }, "\(payloads)")
        XCTAssertFalse(payloads.contains { $0.contains("\"usage\"") }, "\(payloads)")
        XCTAssertFalse(response.hasLastChunk)
    }

    func testStreamCutIgnoredWithoutStream() throws {
        let service = try startService()

        let response = try complete(service, body: requestBody(isStreaming: false), headers: [("X-Simulate-Failure", "stream-cut")])

        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(try response.json().value(atPointer: "/choices/0/finish_reason")?.stringValue, "stop")
    }

    // MARK: Errors

    func testErrorRateOneGets503InOpenAIShape() throws {
        let service = try startService(errorRate: 1)

        for isStreaming in [false, true] {
            let response = try complete(service, body: requestBody(isStreaming: isStreaming))
            let error = try response.json()["error"]
            XCTAssertEqual(response.status, 503, "stream \(isStreaming)")
            XCTAssertEqual(response.header("Retry-After"), "1", "stream \(isStreaming)")
            XCTAssertEqual(error?["type"]?.stringValue, "server_error", "stream \(isStreaming)")
            XCTAssertEqual(error?["param"], .null, "stream \(isStreaming)")
            XCTAssertEqual(error?["code"], .null, "stream \(isStreaming)")
            XCTAssertNotNil(error?["message"]?.stringValue, "stream \(isStreaming)")
        }
    }

    func testInvalidBodiesGet400InOpenAIShape() throws {
        let service = try startService()
        let user = #"{"role": "user", "content": "hi"}"#
        let cases: [(body: String, param: String?)] = [
            (#"{"messages": "#, nil),
            ("", nil),
            (#"["messages"]"#, nil),
            (#"{}"#, "messages"),
            (#"{"messages": null}"#, "messages"),
            (#"{"messages": "hi"}"#, "messages"),
            (#"{"messages": []}"#, "messages"),
            (#"{"messages": ["hi"]}"#, "messages[0]"),
            (#"{"messages": [{"role": "user"}]}"#, "messages[0].content"),
            (#"{"messages": [{"role": "user", "content": 5}]}"#, "messages[0].content"),
            (#"{"messages": [{"role": "user", "content": null}]}"#, "messages[0].content"),
            ("{\"messages\": [\(user), {\"role\": \"user\", \"content\": [\"hi\"]}]}", "messages[1].content"),
            (#"{"messages": [{"content": "hi"}]}"#, "messages[0].role"),
            (#"{"messages": [{"role": 1, "content": "hi"}]}"#, "messages[0].role"),
            (#"{"messages": [{"role": "system", "content": "hi"}]}"#, "messages"),
            ("{\"messages\": [\(user)], \"stream\": \"true\"}", "stream"),
            ("{\"messages\": [\(user)], \"stream\": 1}", "stream"),
            ("{\"messages\": [\(user)], \"max_tokens\": 0}", "max_tokens"),
            ("{\"messages\": [\(user)], \"max_tokens\": 2.5}", "max_tokens"),
            ("{\"messages\": [\(user)], \"max_tokens\": \"5\"}", "max_tokens"),
            ("{\"messages\": [\(user)], \"model\": 4}", "model"),
            ("{\"messages\": [\(user)], \"stream_options\": true}", "stream_options"),
            ("{\"messages\": [\(user)], \"stream_options\": {\"include_usage\": \"yes\"}}", "stream_options.include_usage"),
        ]

        for (body, param) in cases {
            let response = try complete(service, body: body)
            let error = try response.json()["error"]
            XCTAssertEqual(response.status, 400, "body \(body)")
            XCTAssertEqual(error?["type"]?.stringValue, "invalid_request_error", "body \(body)")
            XCTAssertEqual(error?["param"], param.map(JSONValue.string) ?? .null, "body \(body)")
            XCTAssertEqual(error?["code"], .null, "body \(body)")
            XCTAssertFalse(error?["message"]?.stringValue?.isEmpty ?? true, "body \(body)")
        }
    }

    func testNullOptionalFieldsAccepted() throws {
        let service = try startService()
        let body = #"{"model": null, "messages": [{"role": "user", "content": "hi"}], "stream": null, "max_tokens": null, "stream_options": null}"#

        let response = try complete(service, body: body)

        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(try response.json()["object"]?.stringValue, "chat.completion")
    }

    func testInvalidJSONMessageNamesProblem() throws {
        let service = try startService()

        let response = try complete(service, body: "{\"messages\": ")

        XCTAssertTrue(try response.json().value(atPointer: "/error/message")?.stringValue?.hasPrefix("invalid JSON in the request body") ?? false)
    }

    func testGetCompletionsGets405() throws {
        let service = try startService()

        let response = try sendRequest(port: service.port, method: "GET", path: "/v1/chat/completions")
        let error = try response.json()["error"]

        XCTAssertEqual(response.status, 405)
        XCTAssertEqual(response.header("Allow"), "POST")
        XCTAssertEqual(error?["type"]?.stringValue, "invalid_request_error")
        XCTAssertEqual(error?["code"], .null)
    }

    func testChatRouteStillAnswers() throws {
        let service = try startService()

        let response = try sendRequest(port: service.port, method: "POST", path: "/chat", body: #"{"message": "refund?"}"#)

        XCTAssertEqual(response.status, 200)
        XCTAssertNotNil(try response.json()["answer"]?.stringValue)
    }
}
