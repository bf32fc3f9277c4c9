@testable import Daemon
import Foundation
import JSONCoding
import XCTest

/// `RunJSON.summary` as `/runs/ID` serves it over loopback HTTP.
final class RunJSONTests: XCTestCase {
    private var fixture: StatusAPIFixture!

    override func setUpWithError() throws {
        fixture = try StatusAPIFixture(targetNames: ["streamed", "plain"])
    }

    override func tearDown() {
        fixture?.stop()
    }

    private func run(_ id: Int64) throws -> JSONValue {
        let response = try LoopbackHTTPClient.request(port: fixture.port, path: "/runs/\(id)")
        XCTAssertEqual(response.status, 200, response.text)
        return try response.json()
    }

    func testSummaryOfStreamedRun() throws {
        let id = try fixture.store(StreamingReports.report(streaming: StreamingReports.fullStreamSummary()), target: "streamed")

        let document = try run(id)

        XCTAssertEqual(document["ttft_ms"]?["p50"]?.doubleValue, 120)
        XCTAssertEqual(document["ttft_ms"]?["p95"]?.doubleValue, 300)
        XCTAssertEqual(document["ttft_ms"]?["p99"]?.doubleValue, 300)
        XCTAssertEqual(document["itl_ms"]?["p50"]?.doubleValue, 20)
        XCTAssertEqual(document["itl_ms"]?["p95"]?.doubleValue, 50)
        XCTAssertEqual(document["itl_ms"]?["p99"]?.doubleValue, 50)
        XCTAssertEqual(document["tokens_per_s"]?.doubleValue, StreamingReports.tokensPerSecond)
    }

    func testSummaryOfPlainRunHasNulls() throws {
        let id = try fixture.store(StreamingReports.report(streaming: nil), target: "plain")

        let document = try run(id)

        XCTAssertEqual(document["ttft_ms"], .null)
        XCTAssertEqual(document["itl_ms"], .null)
        XCTAssertEqual(document["tokens_per_s"], .null)
        XCTAssertEqual(document["latency_ms"]?["p50"]?.doubleValue, 250)
    }
}
