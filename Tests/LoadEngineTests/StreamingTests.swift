import Foundation
import LoadEngine
import Measurement
import XCTest

/// Streamed answers against scripted servers: timings, token counts and every way a stream can fail.
final class StreamingTests: XCTestCase {
    private typealias Server = ScriptedServer

    private func plan(_ server: Server, requests: Int = 2, idle: Double = 5) -> LoadPlan {
        var plan = LoadPlan(url: server.url + "/v1/chat/completions", bodies: [Array("{}".utf8)], requestCount: requests, concurrency: 1, timeoutSeconds: 10)
        plan.stream = StreamFormat(idleTimeoutSeconds: idle)
        return plan
    }

    private func summarize(_ plan: LoadPlan) throws -> MetricsSummary {
        let outcome = try LoadEngine(plan: plan).run()
        return outcome.metrics.summarize(wallSeconds: outcome.wallSeconds)
    }

    private static func openAIEvent(_ content: String) -> String {
        Server.chunk("data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"\(content)\"}}]}\n\n")
    }

    /// Builds an OpenAI-style stream: a role chunk at once, the first token after `firstToken` s, then one token every
    /// `gap` s.
    private static func openAIStream(tokens: Int, firstToken: Double, gap: Double, usage: Int? = nil, done: Bool = true) -> [Server.Step] {
        var steps: [Server.Step] = [.send(Server.chunkedHead()), .send(Server.chunk("data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\"}}]}\n\n")), .sleep(firstToken)]
        for index in 0..<tokens {
            if index > 0 { steps.append(.sleep(gap)) }
            steps.append(.send(openAIEvent("word\(index) ")))
        }
        if let usage { steps.append(.send(Server.chunk("data: {\"choices\":[],\"usage\":{\"completion_tokens\":\(usage)}}\n\n"))) }
        if done { steps.append(.send(Server.chunk("data: [DONE]\n\n"))) }
        steps.append(.send(Server.lastChunk))
        return steps
    }

    func testTimingsMatchTheServerDelays() throws {
        let server = try Server(.steps(StreamingTests.openAIStream(tokens: 6, firstToken: 0.12, gap: 0.03, usage: 6)))
        defer { server.stop() }
        let summary = try summarize(plan(server, requests: 3))
        XCTAssertEqual(summary.succeeded, 3)
        let streaming = try XCTUnwrap(summary.streaming)
        let ttft = try XCTUnwrap(streaming.timeToFirstToken)
        XCTAssertEqual(ttft.p50, 120, accuracy: 15, "TTFT follows the 120 ms first-token delay")
        let itl = try XCTUnwrap(streaming.interTokenLatency)
        XCTAssertEqual(itl.count, 15, "5 gaps per stream over 3 streams")
        XCTAssertEqual(itl.p50, 30, accuracy: 10)
        XCTAssertEqual(try XCTUnwrap(streaming.meanTokensPerSecond), 1000.0 / 30, accuracy: 8)
        XCTAssertEqual(streaming.streamsWithReportedTokens, 3)
    }

    func testTokensAreCountedFromEventsWithoutUsage() throws {
        let server = try Server(.steps(StreamingTests.openAIStream(tokens: 4, firstToken: 0, gap: 0.01)))
        defer { server.stop() }
        let streaming = try XCTUnwrap(try summarize(plan(server, requests: 1)).streaming)
        XCTAssertEqual(streaming.streamsWithReportedTokens, 0)
        XCTAssertEqual(streaming.interTokenLatency?.count, 3)
    }

    func testCutOffStreamIsStreamFailure() throws {
        var steps = Array(StreamingTests.openAIStream(tokens: 6, firstToken: 0, gap: 0.005).prefix(6))
        steps.append(.close)
        let server = try Server(.steps(steps))
        defer { server.stop() }
        let summary = try summarize(plan(server))
        XCTAssertEqual(summary.errorCounts, [.stream: 2])
        XCTAssertTrue(summary.firstErrorMessages[.stream]?.hasPrefix("stream cut off after") == true, summary.firstErrorMessages[.stream] ?? "")
    }

    func testStreamWithoutDoneIsStreamFailure() throws {
        let server = try Server(.steps(StreamingTests.openAIStream(tokens: 3, firstToken: 0, gap: 0, done: false)))
        defer { server.stop() }
        let summary = try summarize(plan(server))
        XCTAssertEqual(summary.errorCounts, [.stream: 2])
        XCTAssertEqual(summary.firstErrorMessages[.stream], "stream ended without data: [DONE]")
    }

    func testStalledStreamFailsAfterIdleTimeout() throws {
        var steps = Array(StreamingTests.openAIStream(tokens: 2, firstToken: 0, gap: 0).prefix(4))
        steps.append(.sleep(4))
        let server = try Server(.steps(steps))
        defer { server.stop() }
        let started = Date()
        let summary = try summarize(plan(server, requests: 1, idle: 0.3))
        XCTAssertEqual(summary.errorCounts, [.stream: 1])
        XCTAssertTrue(summary.firstErrorMessages[.stream]?.hasPrefix("stream stalled") == true, summary.firstErrorMessages[.stream] ?? "")
        XCTAssertLessThan(Date().timeIntervalSince(started), 3, "the stall is cut off at the idle timeout, not the request timeout")
    }

    func testErrorEventIsStreamFailure() throws {
        let steps: [Server.Step] = [
            .send(Server.chunkedHead()),
            .send(StreamingTests.openAIEvent("partial")),
            .send(Server.chunk("event: error\ndata: {\"error\":{\"message\":\"model overloaded\"}}\n\n")),
            .send(Server.lastChunk),
        ]
        let server = try Server(.steps(steps))
        defer { server.stop() }
        let summary = try summarize(plan(server, requests: 1))
        XCTAssertEqual(summary.firstErrorMessages[.stream], "error event: model overloaded")
    }

    func testPlainJSONAnswerFailsWhenStreamExpected() throws {
        let server = try Server(.respond(Server.response(body: #"{"answer":"x"}"#)))
        defer { server.stop() }
        let summary = try summarize(plan(server, requests: 1))
        XCTAssertEqual(summary.firstErrorMessages[.stream], "expected a stream (text/event-stream or JSON lines), got Content-Type application/json")
    }

    func testJSONLinesStreamIsMeasured() throws {
        let steps: [Server.Step] = [
            .send(Server.chunkedHead(contentType: "application/x-ndjson")),
            .sleep(0.05),
            .send(Server.chunk("{\"response\":\"Hello\",\"done\":false}\n")),
            .sleep(0.02),
            .send(Server.chunk("{\"response\":\" world\",\"done\":false}\n")),
            .send(Server.chunk("{\"response\":\"\",\"done\":true,\"eval_count\":2}\n")),
            .send(Server.lastChunk),
        ]
        let server = try Server(.steps(steps))
        defer { server.stop() }
        let summary = try summarize(plan(server, requests: 1))
        XCTAssertEqual(summary.succeeded, 1, summary.firstErrorMessages.description)
        XCTAssertEqual(summary.streaming?.timeToFirstToken?.p50 ?? 0, 50, accuracy: 15)
        XCTAssertEqual(summary.streaming?.streamsWithReportedTokens, 1)
    }

    func testFallbackFieldInStreamEventCounts() throws {
        var steps = StreamingTests.openAIStream(tokens: 2, firstToken: 0, gap: 0)
        steps.insert(.send(Server.chunk("data: {\"choices\":[],\"retrieval\":{\"fallback\":true}}\n\n")), at: steps.count - 2)
        let server = try Server(.steps(steps))
        defer { server.stop() }
        var streamPlan = plan(server, requests: 1)
        streamPlan.fallbackSignal = FallbackSignal(bodyField: "/retrieval/fallback")
        XCTAssertEqual(try summarize(streamPlan).fallbacks, 1)
    }
}

final class ResponseCheckTests: XCTestCase {
    private func summarize(_ server: ScriptedServer, checks: ResponseChecks, fallback: FallbackSignal = FallbackSignal()) throws -> MetricsSummary {
        var plan = LoadPlan(url: server.url + "/chat", bodies: [Array("{}".utf8)], requestCount: 2, concurrency: 1, timeoutSeconds: 5)
        plan.checks = checks
        plan.fallbackSignal = fallback
        let outcome = try LoadEngine(plan: plan).run()
        return outcome.metrics.summarize(wallSeconds: outcome.wallSeconds)
    }

    func testUnexpectedSuccessStatusIsCheckFailure() throws {
        let server = try ScriptedServer(.respond(ScriptedServer.response(body: "{}")))
        defer { server.stop() }
        let summary = try summarize(server, checks: ResponseChecks(expectedStatuses: try StatusMatcher(parsing: "201")))
        XCTAssertEqual(summary.errorCounts, [.check: 2])
        XCTAssertEqual(summary.checkFailures, ["status 200 is not one of 201": 2])
    }

    func testExpectedErrorStatusSucceeds() throws {
        let server = try ScriptedServer(.respond(ScriptedServer.response(status: "404 Not Found", body: "{}")))
        defer { server.stop() }
        let summary = try summarize(server, checks: ResponseChecks(expectedStatuses: try StatusMatcher(parsing: "2xx,404")))
        XCTAssertEqual(summary.succeeded, 2)
    }

    func testUnexpectedServerErrorKeepsItsKind() throws {
        let server = try ScriptedServer(.respond(ScriptedServer.response(status: "500 Internal Server Error", body: "{}")))
        defer { server.stop() }
        let summary = try summarize(server, checks: ResponseChecks(expectedStatuses: try StatusMatcher(parsing: "200")))
        XCTAssertEqual(summary.errorCounts, [.http5xx: 2])
    }

    func testJSONFieldCheck() throws {
        let server = try ScriptedServer(.respond(ScriptedServer.response(body: #"{"answer":"","data":{"text":"ok"}}"#)))
        defer { server.stop() }
        XCTAssertEqual(try summarize(server, checks: ResponseChecks(jsonFieldPointers: ["/data/text"])).succeeded, 2)
        XCTAssertEqual(try summarize(server, checks: ResponseChecks(jsonFieldPointers: ["/answer"])).checkFailures, ["missing non-empty string at /answer": 2])
    }

    func testHeaderCheck() throws {
        let server = try ScriptedServer(.respond(ScriptedServer.response(headers: ["X-Model: small"], body: "{}")))
        defer { server.stop() }
        XCTAssertEqual(try summarize(server, checks: ResponseChecks(headers: [(name: "x-model", value: nil)])).succeeded, 2)
        XCTAssertEqual(try summarize(server, checks: ResponseChecks(headers: [(name: "X-Model", value: "SMALL")])).succeeded, 2)
        XCTAssertEqual(try summarize(server, checks: ResponseChecks(headers: [(name: "X-Model", value: "large")])).checkFailures, [#"header X-Model is "small", expected "large""#: 2])
        XCTAssertEqual(try summarize(server, checks: ResponseChecks(headers: [(name: "X-Region", value: nil)])).checkFailures, ["missing header X-Region": 2])
    }

    func testEveryFailedCheckIsCounted() throws {
        let server = try ScriptedServer(.respond(ScriptedServer.response(body: #"{"answer":""}"#)))
        defer { server.stop() }
        let summary = try summarize(server, checks: ResponseChecks(jsonFieldPointers: ["/answer"], headers: [(name: "X-Model", value: nil)]))
        XCTAssertEqual(summary.errorCounts, [.check: 2], "each request fails once")
        XCTAssertEqual(summary.checkFailures, ["missing header X-Model": 2, "missing non-empty string at /answer": 2])
    }

    func testFallbackHeaderValueMatch() throws {
        let server = try ScriptedServer(.respond(ScriptedServer.response(headers: ["X-Retrieval: pgvector"], body: "{}")))
        defer { server.stop() }
        XCTAssertEqual(try summarize(server, checks: ResponseChecks(), fallback: FallbackSignal(headerName: "X-Retrieval", headerValue: "pgvector")).fallbacks, 2)
        XCTAssertEqual(try summarize(server, checks: ResponseChecks(), fallback: FallbackSignal(headerName: "X-Retrieval", headerValue: "pinecone")).fallbacks, 0)
    }

    func testFallbackPointerInBody() throws {
        let server = try ScriptedServer(.respond(ScriptedServer.response(body: #"{"retrieval":{"fallback":true}}"#)))
        defer { server.stop() }
        XCTAssertEqual(try summarize(server, checks: ResponseChecks(), fallback: FallbackSignal(bodyField: "/retrieval/fallback")).fallbacks, 2)
    }

    func testStatusMatcherParsing() throws {
        let matcher = try StatusMatcher(parsing: "200, 3xx")
        XCTAssertTrue(matcher.matches(200))
        XCTAssertTrue(matcher.matches(302))
        XCTAssertFalse(matcher.matches(201))
        XCTAssertThrowsError(try StatusMatcher(parsing: "2x"))
        XCTAssertThrowsError(try StatusMatcher(parsing: "600"))
        XCTAssertThrowsError(try StatusMatcher(parsing: ""))
    }
}
