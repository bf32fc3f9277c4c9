import JSONCoding
import XCTest

final class JSONValueTests: XCTestCase {
    func testParseKeepsKeyOrderAndTypes() throws {
        let value = try JSONValue.parse(#"{"b": 1, "a": [true, null, 2.5, "x"], "c": {"d": -3e2}}"#)
        XCTAssertEqual(value.objectValue?.map(\.0), ["b", "a", "c"])
        XCTAssertEqual(value["b"], .integer(1))
        XCTAssertEqual(value["a"], .array([.bool(true), .null, .number(2.5), .string("x")]))
        XCTAssertEqual(value["c"]?["d"]?.doubleValue, -300)
    }

    func testStringEscapesRoundTrip() throws {
        let text = "quote \" backslash \\ newline \n tab \t control \u{01} emoji 🚀 é"
        let serialized = JSONValue.string(text).serialized()
        XCTAssertEqual(try JSONValue.parse(serialized), .string(text))
        XCTAssertTrue(serialized.contains("\\u0001"))
    }

    func testSurrogatePairEscapeDecodes() throws {
        XCTAssertEqual(try JSONValue.parse(#""\ud83d\ude80""#), .string("🚀"))
    }

    func testInvalidDocumentsAreRejected() {
        for text in ["", "{", "[1,]", "{\"a\" 1}", "tru", "01x", "\"unterminated", "{} extra", "[1] [2]"] {
            XCTAssertThrowsError(try JSONValue.parse(text), "should reject \(text)")
        }
    }

    func testDeepNestingIsRejected() {
        let deep = String(repeating: "[", count: 300) + String(repeating: "]", count: 300)
        XCTAssertThrowsError(try JSONValue.parse(deep))
    }

    func testNumbersSerializeWithoutNeedlessFraction() {
        XCTAssertEqual(JSONValue.number(30).serialized(), "30")
        XCTAssertEqual(JSONValue.number(0.05).serialized(), "0.05")
        XCTAssertEqual(JSONValue.number(.nan).serialized(), "null")
        XCTAssertEqual(JSONValue.integer(Int64(-7)).serialized(), "-7")
    }

    func testPrettyOutputIndentsByTwo() {
        let value = JSONValue.object([("a", .array([.integer(Int64(1))])), ("b", .object([]))])
        XCTAssertEqual(value.serialized(pretty: true), "{\n  \"a\": [\n    1\n  ],\n  \"b\": {}\n}")
    }

    func testPointerLookup() throws {
        let value = try JSONValue.parse(#"{"retrieval": {"fallback": true}, "choices": [{"text": "hi"}], "a/b": 1, "m~n": 2}"#)
        XCTAssertEqual(value.value(atPointer: "/retrieval/fallback"), .bool(true))
        XCTAssertEqual(value.value(atPointer: "/choices/0/text"), .string("hi"))
        XCTAssertEqual(value.value(atPointer: "/a~1b"), .integer(1))
        XCTAssertEqual(value.value(atPointer: "/m~0n"), .integer(2))
        XCTAssertNil(value.value(atPointer: "/choices/1"))
        XCTAssertEqual(value.value(atPointer: ""), value)
    }
}
