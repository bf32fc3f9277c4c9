import Foundation
import Glibc
import XCTest
@testable import HTTPServer

final class HTTPServerTests: XCTestCase {
    /// Echoes the parsed request as text, sleeping first when the query has `sleep_ms`.
    private static let echoHandler: @Sendable (HTTPRequest) -> HTTPResponse = { request in
        if let sleep = request.queryValue("sleep_ms"), let milliseconds = UInt32(sleep) {
            usleep(milliseconds * 1000)
        }
        let text = "\(request.method) \(request.path) body=\(request.bodyText)"
        var response = HTTPResponse.text(text)
        response.headers.add("X-Echo-Version", request.version.description)
        return response
    }

    private func startServer(
        _ configuration: HTTPServer.Configuration = HTTPServer.Configuration(),
        handler: @escaping @Sendable (HTTPRequest) -> HTTPResponse = HTTPServerTests.echoHandler
    ) throws -> HTTPServer {
        let server = HTTPServer(configuration: configuration, handler: handler)
        try server.start()
        addTeardownBlock { server.stop() }
        return server
    }

    private func get(_ path: String, extraHeaders: String = "") -> String {
        "GET \(path) HTTP/1.1\r\nHost: localhost\r\n\(extraHeaders)\r\n"
    }

    // MARK: Round trips

    func testGetRoundTrip() throws {
        let server = try startServer()
        let client = try RawHTTPClient(port: server.port)

        try client.send(get("/hello"))
        let response = try client.readResponse()

        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.bodyText, "GET /hello body=")
        XCTAssertEqual(response.header("Content-Length"), "16")
        XCTAssertEqual(response.header("Content-Type"), "text/plain; charset=utf-8")
        XCTAssertNotNil(response.header("Date"))
    }

    func testPostBodyRoundTrip() throws {
        let server = try startServer()
        let client = try RawHTTPClient(port: server.port)

        try client.send("POST /items HTTP/1.1\r\nHost: localhost\r\nContent-Length: 11\r\n\r\nhello world")
        let response = try client.readResponse()

        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.bodyText, "POST /items body=hello world")
    }

    func testPathAndQueryDecoding() throws {
        let captured = CapturedRequests()
        let server = try startServer { request in
            captured.append(request)
            return .text("ok")
        }
        let client = try RawHTTPClient(port: server.port)

        try client.send(get("/a%20b/c?x=1+2&y=%C3%A9&flag&x=3"))
        _ = try client.readResponse()

        let request = try XCTUnwrap(captured.all.first)
        XCTAssertEqual(request.target, "/a%20b/c?x=1+2&y=%C3%A9&flag&x=3")
        XCTAssertEqual(request.path, "/a b/c")
        XCTAssertEqual(request.queryValue("x"), "1 2")
        XCTAssertEqual(request.queryValue("y"), "é")
        XCTAssertEqual(request.queryValue("flag"), "")
        XCTAssertNil(request.queryValue("missing"))
        XCTAssertEqual(request.query.map(\.name), ["x", "y", "flag", "x"])
    }

    func testHeadersCaseInsensitiveWithRepeats() throws {
        let captured = CapturedRequests()
        let server = try startServer { request in
            captured.append(request)
            return .text("ok")
        }
        let client = try RawHTTPClient(port: server.port)

        try client.send(get("/", extraHeaders: "X-Tag: one\r\nx-tag:  two \r\nAccept: */*\r\n"))
        _ = try client.readResponse()

        let request = try XCTUnwrap(captured.all.first)
        XCTAssertEqual(request.headers["X-TAG"], "one")
        XCTAssertEqual(request.headers.values(for: "x-tag"), ["one", "two"])
        XCTAssertEqual(request.headers.tokens(for: "X-Tag"), ["one", "two"])
        XCTAssertTrue(request.remoteAddress.hasPrefix("127.0.0.1:"))
    }

    func testHeadRequestOmitsBody() throws {
        let server = try startServer()
        let client = try RawHTTPClient(port: server.port)

        try client.send("HEAD /page HTTP/1.1\r\nHost: localhost\r\n\r\n")
        let head = try client.readResponse(isHead: true)
        try client.send(get("/next"))
        let next = try client.readResponse()

        XCTAssertEqual(head.status, 200)
        XCTAssertEqual(head.header("Content-Length"), "16")
        XCTAssertEqual(next.bodyText, "GET /next body=")
    }

    // MARK: Connection management

    func testKeepAliveServesTwoRequests() throws {
        let server = try startServer()
        let client = try RawHTTPClient(port: server.port)

        try client.send(get("/one"))
        let first = try client.readResponse()
        try client.send(get("/two"))
        let second = try client.readResponse()

        XCTAssertEqual(first.bodyText, "GET /one body=")
        XCTAssertNil(first.header("Connection"))
        XCTAssertEqual(second.bodyText, "GET /two body=")
    }

    func testPipelinedRequestsAnsweredInOrder() throws {
        let server = try startServer()
        let client = try RawHTTPClient(port: server.port)

        // The first request is the slowest, so responses in request order prove the ordering.
        try client.send(get("/first?sleep_ms=100") + "POST /second HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc" + get("/third"))
        let responses = try (0..<3).map { _ in try client.readResponse() }

        XCTAssertEqual(responses.map(\.bodyText), ["GET /first body=", "POST /second body=abc", "GET /third body="])
    }

    func testConnectionCloseHonoured() throws {
        let server = try startServer()
        let client = try RawHTTPClient(port: server.port)

        try client.send(get("/bye", extraHeaders: "Connection: close\r\n"))
        let response = try client.readResponse()

        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.header("Connection"), "close")
        XCTAssertTrue(client.isClosedByServer())
    }

    func testHTTP10ClosesUnlessKeepAlive() throws {
        let server = try startServer()
        let closing = try RawHTTPClient(port: server.port)
        let keeping = try RawHTTPClient(port: server.port)

        try closing.send("GET /old HTTP/1.0\r\n\r\n")
        let closed = try closing.readResponse()
        try keeping.send("GET /old HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        let kept = try keeping.readResponse()
        try keeping.send("GET /again HTTP/1.0\r\n\r\n")
        let again = try keeping.readResponse()

        XCTAssertEqual(closed.header("Connection"), "close")
        XCTAssertEqual(closed.header("X-Echo-Version"), "HTTP/1.0")
        XCTAssertTrue(closing.isClosedByServer())
        XCTAssertEqual(kept.header("Connection"), "keep-alive")
        XCTAssertEqual(again.bodyText, "GET /again body=")
        XCTAssertTrue(keeping.isClosedByServer())
    }

    func testHandlerConnectionCloseClosesConnection() throws {
        let server = try startServer { _ in
            HTTPResponse(status: 200, headers: ["Connection": "close"], body: Array("done".utf8))
        }
        let client = try RawHTTPClient(port: server.port)

        try client.send(get("/"))
        let response = try client.readResponse()

        XCTAssertEqual(response.header("Connection"), "close")
        XCTAssertTrue(client.isClosedByServer())
    }

    func testIdleClientDoesNotBlockOthers() throws {
        let server = try startServer()
        let idle = try RawHTTPClient(port: server.port)
        try idle.send("GET /half HTTP/1.1\r\nHost: loc")

        let other = try RawHTTPClient(port: server.port)
        try other.send(get("/other"))
        let response = try other.readResponse()

        XCTAssertEqual(response.bodyText, "GET /other body=")
    }

    func testSlowHandlerDoesNotBlockOthers() throws {
        let release = DispatchSemaphore(value: 0)
        let server = try startServer { request in
            if request.path == "/slow" {
                _ = release.wait(timeout: .now() + 5)
            }
            return .text(request.path)
        }
        let slow = try RawHTTPClient(port: server.port)
        try slow.send(get("/slow"))

        let fast = try RawHTTPClient(port: server.port)
        try fast.send(get("/fast"))
        let fastResponse = try fast.readResponse()
        release.signal()
        let slowResponse = try slow.readResponse()

        XCTAssertEqual(fastResponse.bodyText, "/fast")
        XCTAssertEqual(slowResponse.bodyText, "/slow")
    }

    func testPartialRequestTimesOutWith408() throws {
        let server = try startServer(HTTPServer.Configuration(readTimeout: .milliseconds(200)))
        let client = try RawHTTPClient(port: server.port)

        try client.send("GET /slow HTTP/1.1\r\nHost: x\r\n")
        let response = try client.readResponse()

        XCTAssertEqual(response.status, 408)
        XCTAssertEqual(response.header("Connection"), "close")
        XCTAssertTrue(client.isClosedByServer())
    }

    func testIdleConnectionClosedAfterIdleTimeout() throws {
        let server = try startServer(HTTPServer.Configuration(idleTimeout: .milliseconds(200)))
        let client = try RawHTTPClient(port: server.port)

        try client.send(get("/"))
        _ = try client.readResponse()

        XCTAssertTrue(client.isClosedByServer())
    }

    func testConnectionLimitGets503() throws {
        let server = try startServer(HTTPServer.Configuration(maxConnections: 1))
        let admitted = try RawHTTPClient(port: server.port)
        try admitted.send(get("/first"))
        _ = try admitted.readResponse()

        let rejected = try RawHTTPClient(port: server.port)
        let response = try rejected.readResponse()

        XCTAssertEqual(response.status, 503)
        XCTAssertEqual(response.header("Connection"), "close")
        XCTAssertTrue(response.bodyText.contains("\"status\":503"))
        XCTAssertTrue(rejected.isClosedByServer())
    }

    func testAcceptSurvivesDescriptorExhaustion() throws {
        let lines = CapturedLines()
        let server = try startServer(HTTPServer.Configuration(logger: { lines.append($0) }))

        // Lower the soft limit to just above the lowest free descriptor and fill every free slot below it, then
        // free one slot for the client socket. The server's accept then has no descriptor left and fails with EMFILE.
        var original = rlimit()
        XCTAssertEqual(getrlimit(openFilesResource, &original), 0)
        let lowestFree = dup(0)
        close(lowestFree)
        var lowered = original
        lowered.rlim_cur = rlim_t(lowestFree + 1)
        XCTAssertEqual(setrlimit(openFilesResource, &lowered), 0)
        var fillers: [Int32] = []
        var isRestored = false
        defer {
            if !isRestored {
                setrlimit(openFilesResource, &original)
            }
            fillers.forEach { close($0) }
        }
        for _ in 0..<1024 {
            let filler = dup(0)
            guard filler >= 0 else {
                break
            }
            fillers.append(filler)
        }
        close(fillers.removeLast())
        let client = try RawHTTPClient(port: server.port)

        for _ in 0..<100 where !lines.all.contains(where: { $0.contains("errno=\(EMFILE)") }) {
            usleep(20_000)
        }
        setrlimit(openFilesResource, &original)
        isRestored = true
        try client.send(get("/after-emfile"))
        let response = try client.readResponse()

        let line = try XCTUnwrap(lines.all.first)
        XCTAssertTrue(line.hasPrefix("event=http.accept_failed errno=\(EMFILE) cause=\"Too many open files\""), line)
        XCTAssertEqual(response.bodyText, "GET /after-emfile body=")
    }

    // MARK: Rejected requests

    func testMalformedRequestLineGets400AndServerKeepsServing() throws {
        let server = try startServer()
        let bad = try RawHTTPClient(port: server.port)

        try bad.send("THIS IS NOT HTTP\r\n\r\n")
        let rejected = try bad.readResponse()
        let good = try RawHTTPClient(port: server.port)
        try good.send(get("/ok"))
        let served = try good.readResponse()

        XCTAssertEqual(rejected.status, 400)
        XCTAssertEqual(rejected.header("Content-Type"), "application/json")
        XCTAssertEqual(rejected.header("Connection"), "close")
        XCTAssertTrue(rejected.bodyText.hasPrefix("{\"error\":{\"status\":400,\"message\":\"malformed request line"))
        XCTAssertTrue(bad.isClosedByServer())
        XCTAssertEqual(served.status, 200)
    }

    func testMalformedRequestsGet400() throws {
        let server = try startServer()
        let cases = [
            "GET /path\r\nHost: x\r\n\r\n",
            "GET  /path HTTP/1.1\r\nHost: x\r\n\r\n",
            "GET /path HTTP/1.1\r\nHost: x\r\nBad Header: value\r\n\r\n",
            "GET /path HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n",
            "GET /path HTTP/1.1\r\nHost: x\r\nX-A: one\r\n folded\r\n\r\n",
            "GET /path HTTP/1.1\r\n\r\n",
            "GET /path HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
            "GET path HTTP/1.1\r\nHost: x\r\n\r\n",
            "GET /bad%zz HTTP/1.1\r\nHost: x\r\n\r\n",
            "GET /path HTTP/x.y\r\nHost: x\r\n\r\n",
        ]
        for request in cases {
            let client = try RawHTTPClient(port: server.port)
            try client.send(request)
            let response = try client.readResponse()
            XCTAssertEqual(response.status, 400, "request: \(request.debugDescription) body: \(response.bodyText)")
        }
    }

    func testUnsupportedMajorVersionGets505() throws {
        let server = try startServer()
        let client = try RawHTTPClient(port: server.port)

        try client.send("GET / HTTP/2.0\r\nHost: x\r\n\r\n")
        let response = try client.readResponse()

        XCTAssertEqual(response.status, 505)
    }

    func testOversizedHeadersGet431() throws {
        let server = try startServer(HTTPServer.Configuration(maxHeaderBytes: 1024))
        let client = try RawHTTPClient(port: server.port)

        try client.send(get("/", extraHeaders: "X-Large: \(String(repeating: "a", count: 2000))\r\n"))
        let response = try client.readResponse()

        XCTAssertEqual(response.status, 431)
        XCTAssertTrue(response.bodyText.contains("1024 bytes"))
    }

    func testOversizedHeadersWithoutEndGet431() throws {
        let server = try startServer(HTTPServer.Configuration(maxHeaderBytes: 1024))
        let client = try RawHTTPClient(port: server.port)

        try client.send("GET / HTTP/1.1\r\nX-Large: \(String(repeating: "a", count: 2000))")
        let response = try client.readResponse()

        XCTAssertEqual(response.status, 431)
    }

    func testOversizedBodyGets413() throws {
        let server = try startServer(HTTPServer.Configuration(maxBodyBytes: 100))
        let client = try RawHTTPClient(port: server.port)

        try client.send("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n" + String(repeating: "b", count: 1000))
        let response = try client.readResponse()

        XCTAssertEqual(response.status, 413)
        XCTAssertTrue(response.bodyText.contains("100 bytes"))
        XCTAssertTrue(client.isClosedByServer())
    }

    func testOversizedChunkedBodyGets413() throws {
        let server = try startServer(HTTPServer.Configuration(maxBodyBytes: 10))
        let client = try RawHTTPClient(port: server.port)

        try client.send("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n12345678\r\n8\r\n12345678\r\n0\r\n\r\n")
        let response = try client.readResponse()

        XCTAssertEqual(response.status, 413)
    }

    func testInvalidContentLengthGets400() throws {
        let server = try startServer()
        let values = ["abc", "-1", "5, 6", "1.5", ""]
        for value in values {
            let client = try RawHTTPClient(port: server.port)
            try client.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: \(value)\r\n\r\nhello")
            let response = try client.readResponse()
            XCTAssertEqual(response.status, 400, "Content-Length: \(value)")
        }
    }

    func testConflictingContentLengthFieldsGet400() throws {
        let server = try startServer()
        let client = try RawHTTPClient(port: server.port)

        try client.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!")
        let response = try client.readResponse()

        XCTAssertEqual(response.status, 400)
    }

    func testRepeatedEqualContentLengthAccepted() throws {
        let server = try startServer()
        let client = try RawHTTPClient(port: server.port)

        try client.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 5\r\n\r\nhello")
        let response = try client.readResponse()

        XCTAssertEqual(response.bodyText, "POST / body=hello")
    }

    func testChunkedRequestBodyDecoded() throws {
        let server = try startServer()
        let client = try RawHTTPClient(port: server.port)

        try client.send("POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "5;name=value\r\nhello\r\n1\r\n \r\nA\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\n")
        let first = try client.readResponse()
        try client.send(get("/after"))
        let second = try client.readResponse()

        XCTAssertEqual(first.bodyText, "POST /c body=hello 0123456789")
        XCTAssertEqual(second.bodyText, "GET /after body=")
    }

    func testMalformedChunkedBodyGets400() throws {
        let server = try startServer()
        let client = try RawHTTPClient(port: server.port)

        try client.send("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n")
        let response = try client.readResponse()

        XCTAssertEqual(response.status, 400)
    }

    func testUnsupportedTransferEncodingGets501() throws {
        let server = try startServer()
        let client = try RawHTTPClient(port: server.port)

        try client.send("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n")
        let response = try client.readResponse()

        XCTAssertEqual(response.status, 501)
    }

    func testTransferEncodingWithContentLengthGets400() throws {
        let server = try startServer()
        let client = try RawHTTPClient(port: server.port)

        try client.send("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n")
        let response = try client.readResponse()

        XCTAssertEqual(response.status, 400)
    }

    func testExpectContinueGetsInterimResponse() throws {
        let server = try startServer()
        let client = try RawHTTPClient(port: server.port)

        try client.send("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
        let interim = try client.readResponse()
        try client.send("data")
        let final = try client.readResponse()

        XCTAssertEqual(interim.status, 100)
        XCTAssertEqual(final.status, 200)
        XCTAssertEqual(final.bodyText, "POST /upload body=data")
    }

    func testLeadingEmptyLinesIgnored() throws {
        let server = try startServer()
        let client = try RawHTTPClient(port: server.port)

        try client.send("\r\n\r\n" + get("/after-blank"))
        let response = try client.readResponse()

        XCTAssertEqual(response.bodyText, "GET /after-blank body=")
    }

    func testLoggerReceivesRejection() throws {
        let lines = CapturedLines()
        let server = try startServer(HTTPServer.Configuration(logger: { lines.append($0) }))
        let client = try RawHTTPClient(port: server.port)

        try client.send("NOT HTTP\r\n\r\n")
        _ = try client.readResponse()
        XCTAssertTrue(client.isClosedByServer())

        let line = try XCTUnwrap(lines.all.first)
        XCTAssertTrue(line.hasPrefix("event=http.request_rejected remote=127.0.0.1:"), line)
        XCTAssertTrue(line.contains(" status=400 cause=\"malformed request line"), line)
    }

    // MARK: Responses

    func testErrorHelperShape() throws {
        let response = HTTPResponse.error(status: 422, message: "quote \" and\nnewline")
        guard case let .bytes(body) = response.body else {
            return XCTFail("expected a complete body")
        }

        XCTAssertEqual(response.status, 422)
        XCTAssertEqual(response.headers["content-type"], "application/json")
        XCTAssertEqual(String(decoding: body, as: UTF8.self), #"{"error":{"status":422,"message":"quote \" and\nnewline"}}"#)
    }

    func testMethodNotAllowedListsAllowedMethods() throws {
        let server = try startServer { request in
            .methodNotAllowed(method: request.method, path: request.path, allowedMethods: ["GET", "HEAD"])
        }
        let client = try RawHTTPClient(port: server.port)

        try client.send("DELETE /thing HTTP/1.1\r\nHost: x\r\n\r\n")
        let response = try client.readResponse()

        XCTAssertEqual(response.status, 405)
        XCTAssertEqual(response.header("Allow"), "GET, HEAD")
        XCTAssertTrue(response.bodyText.contains("method DELETE is not allowed on /thing"))
    }

    func testHandlerHeaderWithLineBreakDropped() throws {
        let server = try startServer { _ in
            HTTPResponse(status: 200, headers: ["X-Bad": "a\r\nX-Injected: yes", "X-Good": "fine", "Content-Length": "999"],
                         body: Array("ok".utf8))
        }
        let client = try RawHTTPClient(port: server.port)

        try client.send(get("/"))
        let response = try client.readResponse()

        XCTAssertNil(response.header("X-Bad"))
        XCTAssertNil(response.header("X-Injected"))
        XCTAssertEqual(response.header("X-Good"), "fine")
        XCTAssertEqual(response.header("Content-Length"), "2")
        XCTAssertEqual(response.bodyText, "ok")
    }

    func testNoContentResponseHasNoBody() throws {
        let server = try startServer { _ in HTTPResponse(status: 204, body: Array("ignored".utf8)) }
        let client = try RawHTTPClient(port: server.port)

        try client.send(get("/") + get("/again"))
        let first = try client.readResponse()
        let second = try client.readResponse()

        XCTAssertEqual(first.status, 204)
        XCTAssertNil(first.header("Content-Length"))
        XCTAssertEqual(second.status, 204)
    }

    func testStreamingResponseArrivesInChunks() throws {
        let firstChunkReceived = DispatchSemaphore(value: 0)
        let server = try startServer { _ in
            HTTPResponse(status: 200, headers: ["Content-Type": "text/event-stream"]) { writer in
                try writer.write("data: one\n\n")
                try writer.flush()
                // The second chunk waits until the client has the first, which proves the first was flushed alone.
                _ = firstChunkReceived.wait(timeout: .now() + 5)
                try writer.write("data: two\n\n")
            }
        }
        let client = try RawHTTPClient(port: server.port)

        try client.send(get("/events"))
        let head = try client.readResponse(isHead: true)
        let first = try client.readChunk()
        firstChunkReceived.signal()
        let second = try client.readChunk()
        let end = try client.readChunk()
        try client.send(get("/events"))
        firstChunkReceived.signal()
        let again = try client.readResponse()

        XCTAssertEqual(head.header("Transfer-Encoding"), "chunked")
        XCTAssertNil(head.header("Content-Length"))
        XCTAssertEqual(first.map { String(decoding: $0, as: UTF8.self) }, "data: one\n\n")
        XCTAssertEqual(second.map { String(decoding: $0, as: UTF8.self) }, "data: two\n\n")
        XCTAssertNil(end)
        XCTAssertEqual(again.chunks.count, 2)
    }

    func testStreamingResponseToHTTP10EndsWithClose() throws {
        let server = try startServer { _ in
            HTTPResponse(status: 200) { writer in
                try writer.write("part one, ")
                try writer.flush()
                try writer.write("part two")
            }
        }
        let client = try RawHTTPClient(port: server.port)

        try client.send("GET /stream HTTP/1.0\r\n\r\n")
        let response = try client.readResponse()

        XCTAssertNil(response.header("Transfer-Encoding"))
        XCTAssertEqual(response.header("Connection"), "close")
        XCTAssertEqual(response.bodyText, "part one, part two")
    }

    // MARK: Lifecycle

    func testPortZeroPicksPort() throws {
        let server = try startServer(HTTPServer.Configuration(port: 0))

        XCTAssertGreaterThan(server.port, 0)
        XCTAssertFalse(isConnectionRefused(port: server.port))
    }

    func testBindingPortInUseThrowsErrorNamingIt() throws {
        let first = try startServer()
        let second = HTTPServer(configuration: HTTPServer.Configuration(port: first.port), handler: Self.echoHandler)

        XCTAssertThrowsError(try second.start()) { error in
            let message = "\(error)"
            XCTAssertEqual(error as? HTTPServerError, .listenFailed(address: "127.0.0.1:\(first.port)", call: "bind", errno: EADDRINUSE))
            XCTAssertTrue(message.contains("127.0.0.1:\(first.port)"), message)
            XCTAssertTrue(message.contains("Address already in use"), message)
        }
    }

    func testInvalidHostThrows() {
        let server = HTTPServer(configuration: HTTPServer.Configuration(host: "example.invalid"), handler: Self.echoHandler)

        XCTAssertThrowsError(try server.start()) { error in
            XCTAssertEqual(error as? HTTPServerError, .invalidHost("example.invalid"))
        }
    }

    func testInvalidConfigurationThrows() {
        let server = HTTPServer(configuration: HTTPServer.Configuration(maxConnections: 0), handler: Self.echoHandler)

        XCTAssertThrowsError(try server.start()) { error in
            XCTAssertEqual("\(error)", "invalid HTTP server setting maxConnections=0: expected at least 1")
        }
    }

    func testStartTwiceThrows() throws {
        let server = try startServer()

        XCTAssertThrowsError(try server.start()) { error in
            XCTAssertEqual(error as? HTTPServerError, .alreadyStarted)
        }
    }

    func testIPv6Loopback() throws {
        let server = HTTPServer(configuration: HTTPServer.Configuration(host: "::1"), handler: Self.echoHandler)
        do {
            try server.start()
        } catch let HTTPServerError.listenFailed(_, _, code) where code == EADDRNOTAVAIL || code == EAFNOSUPPORT {
            throw XCTSkip("this machine has no IPv6 loopback")
        }
        defer { server.stop() }
        let client = try RawHTTPClient(host: "::1", port: server.port)

        try client.send(get("/six"))
        let response = try client.readResponse()

        XCTAssertEqual(response.bodyText, "GET /six body=")
    }

    func testStopReturnsAndClosesPort() throws {
        let server = HTTPServer(configuration: HTTPServer.Configuration(), handler: Self.echoHandler)
        try server.start()
        let port = server.port
        let idle = try RawHTTPClient(port: port)
        try idle.send(get("/"))
        _ = try idle.readResponse()

        server.stop()

        XCTAssertTrue(idle.isClosedByServer())
        XCTAssertTrue(isConnectionRefused(port: port))
    }

    func testStopWaitsForRunningHandler() throws {
        let finished = CapturedLines()
        let started = DispatchSemaphore(value: 0)
        let server = HTTPServer(configuration: HTTPServer.Configuration(), handler: { request in
            started.signal()
            usleep(200_000)
            finished.append(request.path)
            return .text("late")
        })
        try server.start()
        let client = try RawHTTPClient(port: server.port)
        try client.send(get("/slow"))
        XCTAssertEqual(started.wait(timeout: .now() + 5), .success)

        server.stop()
        let response = try client.readResponse()

        XCTAssertEqual(finished.all, ["/slow"])
        XCTAssertEqual(response.bodyText, "late")
        XCTAssertEqual(response.header("Connection"), "close")
    }

    func testStreamWriteFailsAfterStop() throws {
        let outcome = CapturedLines()
        let started = DispatchSemaphore(value: 0)
        let server = HTTPServer(configuration: HTTPServer.Configuration(), handler: { _ in
            HTTPResponse(status: 200) { writer in
                started.signal()
                // Bounded: at most 100 events 20 ms apart, ending early once a write fails.
                for index in 0..<100 {
                    do {
                        try writer.write("event \(index)\n")
                        try writer.flush()
                    } catch {
                        outcome.append("\(error)")
                        throw error
                    }
                    usleep(20_000)
                }
            }
        })
        try server.start()
        let client = try RawHTTPClient(port: server.port)
        try client.send(get("/events"))
        XCTAssertEqual(started.wait(timeout: .now() + 5), .success)

        server.stop()

        XCTAssertEqual(outcome.all, ["cannot write the response body: the server is stopping"])
    }
}

/// RLIMIT_NOFILE, which Glibc declares as an enum case that Swift imports as a distinct type.
private let openFilesResource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)

/// Requests collected from handler threads.
final class CapturedRequests: @unchecked Sendable {
    private let lock = NSLock()
    private var requests: [HTTPRequest] = []

    func append(_ request: HTTPRequest) {
        lock.withLock { requests.append(request) }
    }

    var all: [HTTPRequest] { lock.withLock { requests } }
}

/// Text lines collected from handler or logger threads.
final class CapturedLines: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []

    func append(_ line: String) {
        lock.withLock { lines.append(line) }
    }

    var all: [String] { lock.withLock { lines } }
}
