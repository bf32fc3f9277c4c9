import XCTest
@testable import DemoAPI

final class WordTokensTests: XCTestCase {
    func testWordsKeepTrailingWhitespace() {
        XCTAssertEqual(WordTokens.split("You asked:  \"why?\"\nOK"), ["You ", "asked:  ", "\"why?\"\n", "OK"])
    }

    func testLeadingWhitespaceJoinsFirstWord() {
        XCTAssertEqual(WordTokens.split("  a b "), ["  a ", "b "])
    }

    func testEmptyAndBlankText() {
        XCTAssertEqual(WordTokens.split(""), [])
        XCTAssertEqual(WordTokens.split(" \t"), [" \t"])
    }

    func testJoinedTokensGiveText() {
        let texts = ["", "one", "Items can be returned within 30 days.", " x  y\t\tz\n", "émoji 👍🏽 ok "]
        for text in texts {
            XCTAssertEqual(WordTokens.split(text).joined(), text, "text \(text.debugDescription)")
        }
    }

    func testCountMatchesSplit() {
        XCTAssertEqual(WordTokens.count("How long does shipping take?"), 5)
    }
}
