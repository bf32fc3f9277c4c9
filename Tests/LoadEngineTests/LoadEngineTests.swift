import CCurl
import Foundation
import LoadEngine
import Measurement
import XCTest

final class LoadEngineTests: XCTestCase {
    private func plan(_ url: String, requests: Int = 4, concurrency: Int = 2, timeout: Double = 5) -> LoadPlan {
        LoadPlan(
            url: url + "/chat",
            headers: [(name: "X-Simulate-Failure", value: "pinecone")],
            bodies: [Array(#"{"message":"a"}"#.utf8), Array(#"{"message":"b"}"#.utf8)],
            requestCount: requests,
            concurrency: concurrency,
            timeoutSeconds: timeout
        )
    }

    private func summarize(_ plan: LoadPlan) throws -> MetricsSummary {
        let outcome = try LoadEngine(plan: plan).run()
        return outcome.metrics.summarize(wallSeconds: outcome.wallSeconds)
    }

    func testSuccessfulRequestsAreMeasured() throws {
        let server = try ScriptedServer(.respond(ScriptedServer.response(body: #"{"answer":"ok","fallback":false}"#)))
        defer { server.stop() }
        let summary = try summarize(plan(server.url, requests: 6))
        XCTAssertEqual(summary.requests, 6)
        XCTAssertEqual(summary.succeeded, 6)
        XCTAssertEqual(summary.fallbacks, 0)
        XCTAssertEqual(summary.latency?.count, 6)
        XCTAssertEqual(server.requests.count, 6)
    }

    func testRequestCarriesMethodHeadersAndRotatedBodies() throws {
        let server = try ScriptedServer(.respond(ScriptedServer.response(body: "{}")))
        defer { server.stop() }
        _ = try summarize(plan(server.url, requests: 2, concurrency: 1))
        let requests = server.requests
        XCTAssertEqual(requests.count, 2)
        XCTAssertTrue(requests[0].hasPrefix("POST /chat HTTP/1.1\r\n"), requests[0])
        XCTAssertTrue(requests[0].contains("X-Simulate-Failure: pinecone\r\n"))
        XCTAssertTrue(requests[0].contains("Content-Type: application/json\r\n"))
        XCTAssertTrue(requests[0].hasSuffix(#"{"message":"a"}"#))
        XCTAssertTrue(requests[1].hasSuffix(#"{"message":"b"}"#))
    }

    func testConnectionsAreReusedPerWorker() throws {
        let server = try ScriptedServer(.respond(ScriptedServer.response(body: "{}")))
        defer { server.stop() }
        let summary = try summarize(plan(server.url, requests: 20, concurrency: 2))
        XCTAssertEqual(summary.succeeded, 20)
        XCTAssertEqual(server.connectionCount, 2)
    }

    func testFallbackHeaderValuesAreCaseInsensitive() throws {
        for value in ["true", "YES", "1", "True"] {
            let server = try ScriptedServer(.respond(ScriptedServer.response(headers: ["x-fallback: \(value)"], body: "{}")))
            defer { server.stop() }
            XCTAssertEqual(try summarize(plan(server.url)).fallbacks, 4, "header value \(value)")
        }
    }

    func testFallbackHeaderFalseIsNotFallback() throws {
        let server = try ScriptedServer(.respond(ScriptedServer.response(headers: ["X-Fallback: false"], body: #"{"fallback":false}"#)))
        defer { server.stop() }
        XCTAssertEqual(try summarize(plan(server.url)).fallbacks, 0)
    }

    func testFallbackBodyFieldCounts() throws {
        let server = try ScriptedServer(.respond(ScriptedServer.response(body: #"{"answer":"x","fallback":true}"#)))
        defer { server.stop() }
        XCTAssertEqual(try summarize(plan(server.url)).fallbacks, 4)
    }

    func testFallbackSignalNamesAreConfigurable() throws {
        let server = try ScriptedServer(.respond(ScriptedServer.response(headers: ["X-Fallback: true"], body: #"{"degraded":true}"#)))
        defer { server.stop() }
        var custom = plan(server.url)
        custom.fallbackSignal = FallbackSignal(headerName: "X-Degraded", bodyField: "degraded")
        XCTAssertEqual(try summarize(custom).fallbacks, 4, "the body field named degraded must count")

        var headerOnly = plan(server.url)
        headerOnly.fallbackSignal = FallbackSignal(headerName: "X-Other", bodyField: "other")
        XCTAssertEqual(try summarize(headerOnly).fallbacks, 0, "X-Fallback must be ignored when another header is configured")
    }

    func testServerErrorsAreHTTP5xx() throws {
        let server = try ScriptedServer(.respond(ScriptedServer.response(status: "503 Service Unavailable", body: #"{"error":"down"}"#)))
        defer { server.stop() }
        let summary = try summarize(plan(server.url))
        XCTAssertEqual(summary.errorCounts, [.http5xx: 4])
        XCTAssertEqual(summary.firstErrorMessages[.http5xx], "HTTP 503 Service Unavailable")
        XCTAssertNil(summary.latency)
    }

    func testClientErrorsAreHTTP4xx() throws {
        let server = try ScriptedServer(.respond(ScriptedServer.response(status: "404 Not Found", body: "{}")))
        defer { server.stop() }
        XCTAssertEqual(try summarize(plan(server.url)).errorCounts, [.http4xx: 4])
    }

    func testRedirectIsProtocolError() throws {
        let server = try ScriptedServer(.respond(ScriptedServer.response(status: "302 Found", headers: ["Location: /elsewhere"], body: "")))
        defer { server.stop() }
        XCTAssertEqual(try summarize(plan(server.url)).errorCounts, [.protocol: 4])
    }

    func testSlowResponseTimesOut() throws {
        let server = try ScriptedServer(.delay(3, ScriptedServer.response(body: "{}")))
        defer { server.stop() }
        let summary = try summarize(plan(server.url, requests: 2, concurrency: 2, timeout: 0.3))
        XCTAssertEqual(summary.errorCounts, [.timeout: 2])
    }

    func testRefusedConnectionIsConnectionError() throws {
        let port = try closedPort()
        let summary = try summarize(plan("http://127.0.0.1:\(port)"))
        XCTAssertEqual(summary.errorCounts, [.connection: 4])
        XCTAssertEqual(summary.errorRate, 1)
    }

    func testResetIsConnectionError() throws {
        let server = try ScriptedServer(.reset)
        defer { server.stop() }
        XCTAssertEqual(try summarize(plan(server.url)).errorCounts, [.connection: 4])
    }

    func testCloseWithoutResponseIsConnectionError() throws {
        let server = try ScriptedServer(.close)
        defer { server.stop() }
        XCTAssertEqual(try summarize(plan(server.url)).errorCounts, [.connection: 4])
    }

    func testTruncatedBodyIsProtocolError() throws {
        let raw = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"answer\":"
        let server = try ScriptedServer(.respondAndClose(raw))
        defer { server.stop() }
        XCTAssertEqual(try summarize(plan(server.url)).errorCounts, [.protocol: 4])
    }

    func testMalformedResponseIsProtocolError() throws {
        let server = try ScriptedServer(.respondAndClose("this is not HTTP\r\n\r\n"))
        defer { server.stop() }
        XCTAssertEqual(try summarize(plan(server.url)).errorCounts, [.protocol: 4])
    }

    func testOversizedBodyIsCountedAndTruncated() throws {
        let big = #"{"fallback":true,"answer":""# + String(repeating: "x", count: 300_000) + #""}"#
        let server = try ScriptedServer(.respond(ScriptedServer.response(headers: ["X-Fallback: true"], body: big)))
        defer { server.stop() }
        var small = plan(server.url, requests: 2, concurrency: 1)
        small.maxBodyBytes = 1024
        let summary = try summarize(small)
        XCTAssertEqual(summary.succeeded, 2)
        XCTAssertEqual(summary.truncatedBodies, 2)
        XCTAssertEqual(summary.fallbacks, 2, "the header still marks fallback when the body is truncated")
    }

    func testStopAbortsInFlightRequestsAfterGrace() throws {
        let server = try ScriptedServer(.delay(5, ScriptedServer.response(body: "{}")))
        defer { server.stop() }
        let stop = StopFlag()
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.2) { stop.request() }
        let engine = try LoadEngine(plan: plan(server.url, requests: 10, concurrency: 3))
        let outcome = try engine.run(stop: stop, graceSeconds: 0.2)
        XCTAssertTrue(outcome.wasInterrupted)
        XCTAssertEqual(outcome.abortedInFlight, 3)
        XCTAssertEqual(outcome.metrics.completedCount, 0)
        XCTAssertLessThan(outcome.wallSeconds, 3)
    }

    func testStopAfterLastStartIsNotAnInterruption() throws {
        let server = try ScriptedServer(.delay(0.4, ScriptedServer.response(body: "{}")))
        defer { server.stop() }
        let stop = StopFlag()
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.1) { stop.request() }
        let outcome = try LoadEngine(plan: plan(server.url, requests: 2, concurrency: 2)).run(stop: stop, graceSeconds: 2)
        XCTAssertEqual(outcome.metrics.completedCount, 2)
        XCTAssertEqual(outcome.abortedInFlight, 0)
        XCTAssertFalse(outcome.wasInterrupted, "every planned request started and finished within the grace")
    }

    /// Returns a port with nothing listening: bound once to get a free number, then closed.
    private func closedPort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Int32 in
                guard bind(descriptor, pointer, length) == 0 else { return -1 }
                return getsockname(descriptor, pointer, &length)
            }
        }
        guard bound == 0 else { throw POSIXError(.EADDRNOTAVAIL) }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

final class FailureClassifierTests: XCTestCase {
    func testCurlCodesMapToKinds() {
        let cases: [(CURLcode, ErrorKind)] = [
            (CURLE_OPERATION_TIMEDOUT, .timeout),
            (CURLE_COULDNT_RESOLVE_HOST, .dns),
            (CURLE_COULDNT_CONNECT, .connection),
            (CURLE_RECV_ERROR, .connection),
            (CURLE_SEND_ERROR, .connection),
            (CURLE_GOT_NOTHING, .connection),
            (CURLE_SSL_CONNECT_ERROR, .tls),
            (CURLE_PEER_FAILED_VERIFICATION, .tls),
            (CURLE_PARTIAL_FILE, .protocol),
            (CURLE_WEIRD_SERVER_REPLY, .protocol),
            (CURLE_HTTP2, .protocol),
        ]
        for (code, kind) in cases {
            XCTAssertEqual(FailureClassifier.classify(curlCode: code, status: 0, curlMessage: "m")?.kind, kind, "curl code \(code.rawValue)")
        }
    }

    func testStatusesMapToKinds() {
        XCTAssertNil(FailureClassifier.classify(curlCode: CURLE_OK, status: 200, curlMessage: ""))
        XCTAssertNil(FailureClassifier.classify(curlCode: CURLE_OK, status: 204, curlMessage: ""))
        XCTAssertEqual(FailureClassifier.classify(curlCode: CURLE_OK, status: 429, curlMessage: "")?.kind, .http4xx)
        XCTAssertEqual(FailureClassifier.classify(curlCode: CURLE_OK, status: 500, curlMessage: "")?.kind, .http5xx)
        XCTAssertEqual(FailureClassifier.classify(curlCode: CURLE_OK, status: 301, curlMessage: "")?.kind, .protocol)
    }

    func testEmptyCurlMessageFallsBackToCurlDescription() {
        let failure = FailureClassifier.classify(curlCode: CURLE_COULDNT_CONNECT, status: 0, curlMessage: "")
        XCTAssertEqual(failure?.message, "Couldn't connect to server")
    }
}
