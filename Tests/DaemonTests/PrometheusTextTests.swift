import XCTest

final class PrometheusTextTests: XCTestCase {
    func testValidExpositionHasNoProblems() {
        let text = """
        # HELP loadsmoke_runs_total Runs finished.
        # TYPE loadsmoke_runs_total counter
        loadsmoke_runs_total{status="passed",target="a\\"b"} 3
        loadsmoke_up_seconds 1.5e3 1700000000000

        """

        XCTAssertEqual(PrometheusText.problems(in: text), [])
        XCTAssertEqual(PrometheusText.samples(in: text)[#"loadsmoke_runs_total{status="passed",target="a\"b"}"#], 3)
    }

    func testInvalidLinesReported() {
        let cases = [
            "loadsmoke_runs_total{target=\"a\"} three\n",
            "loadsmoke_runs_total{target=a} 1\n",
            "loadsmoke_runs_total{target=\"a\\q\"} 1\n",
            "1metric 1\n",
            "# TYPE loadsmoke_runs_total meter\n",
            "loadsmoke_runs_total 1\n# TYPE loadsmoke_runs_total counter\n",
            "loadsmoke_runs_total 1",
        ]
        for text in cases {
            XCTAssertEqual(PrometheusText.problems(in: text).count, 1, text.debugDescription)
        }
    }
}
