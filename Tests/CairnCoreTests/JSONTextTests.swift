@testable import CairnCore
import Foundation
import Testing

/// The byte-level JSON reader and writer, checked against Foundation's (the reference it replaces).
struct JSONTextTests {
    static let valid: [(String, JSONValue)] = [
        ("null", .null),
        ("true", .bool(true)),
        (" false ", .bool(false)),
        ("0", .int(0)),
        ("-12", .int(-12)),
        ("9223372036854775807", .int(Int64.max)),
        ("9223372036854775808", .double(9223372036854775808)),
        ("1.5", .double(1.5)),
        ("-2e3", .double(-2000)),
        ("1E-2", .double(0.01)),
        (#""""#, .string("")),
        (#""a/b \"q\" \\ \n\t\r\b\f""#, .string("a/b \"q\" \\ \n\t\r\u{08}\u{0C}")),
        (#""\u00e9\u4e2d\ud83d\ude00 \/""#, .string("é中😀 /")),
        ("\"명령어\"", .string("명령어")),
        ("[]", .array([])),
        ("[1, [2], {}]", .array([.int(1), .array([.int(2)]), .object([:])])),
        (#"{"b": {"c": null}, "a": [true]}"#, .object(["b": .object(["c": .null]), "a": .array([.bool(true)])])),
    ]

    @Test(arguments: valid)
    func parses(_ text: String, _ expected: JSONValue) throws {
        #expect(try JSONText.parse(text) == expected)
    }

    static let invalid: [(String, String)] = [
        ("", "unexpected end of input at offset 0"),
        ("{not json", "expected a quoted object key at offset 1"),
        ("[1,]", "unexpected character ']' at offset 3"),
        ("[1 2]", "expected ',' or ']' in an array at offset 3"),
        (#"{"a" 1}"#, "expected ':' after an object key at offset 5"),
        (#"{"a":1"#, "unexpected end of input in an object at offset 6"),
        ("01", "unexpected text after the JSON value at offset 1"),
        ("-", "invalid number at offset 1"),
        ("1.", "invalid number at offset 2"),
        ("tru", "unexpected end of input at offset 0"),
        ("nul1", "invalid literal (expected null) at offset 0"),
        ("\"abc", "unterminated string at offset 4"),
        ("\"a\nb\"", "unescaped control character in a string at offset 2"),
        (#""\x""#, "invalid escape \\x at offset 3"),
        (#""\ud800""#, "unpaired surrogate in a \\u escape at offset 7"),
        (#""\u12g4""#, "invalid hex digit in a \\u escape at offset 5"),
        ("1e999", "number 1e999 is out of range at offset 0"),
        ("{} {}", "unexpected text after the JSON value at offset 3"),
    ]

    @Test(arguments: invalid)
    func rejects(_ text: String, _ message: String) {
        #expect(throws: JSONText.SyntaxError.self) { try JSONText.parse(text) }
        do { _ = try JSONText.parse(text) } catch { #expect(error.description == message) }
    }

    @Test func rejectsNestingDeeperThanTheLimit() {
        let deep = String(repeating: "[", count: 600) + String(repeating: "]", count: 600)
        #expect(throws: JSONText.SyntaxError.self) { try JSONText.parse(deep) }
        let fine = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect((try? JSONText.parse(fine)) != nil)
    }

    /// The writer must produce exactly what Foundation's encoder (sorted keys, unescaped slashes)
    /// produced, so text stored before and after compares equal.
    @Test(arguments: [
        #"{"z":1,"a":{"y":[1,2,{"b":"c"}],"x":null},"m":"a/b \"q\" \\ \n\t é 😀 \u0001\u001f"}"#,
        #"{"metadata":{"annotations":{"cairn.io/x":"1"},"name":"n"},"spec":{"replicas":3,"ok":true,"f":false}}"#,
        #"[1.5,-2,0,"",[],{}]"#,
    ])
    func writesWhatFoundationWrites(_ text: String) throws {
        let value = try JSONText.parse(text)
        let foundation = String(decoding: try JSONCoding.encoder.encode(value), as: UTF8.self)
        #expect(JSONText.string(value) == foundation)
        #expect(try JSONText.parse(JSONText.string(value)) == value)
    }

    /// Found by fuzz-bindings: a double with no fraction prints as an integer (as Go's encoding/json
    /// prints float64), so `[1.0]` printed and parsed again is the integer 1, not the double. The
    /// number survives; its kind does not, and a round trip is compared as numbers (numbered cases).
    @Test func integralDoublesPrintAsIntegers() throws {
        let cases: [(String, String)] = [
            /* 1 */ ("[0.0]", "[0]"),
            /* 2 */ ("[-0.0]", "[0]"),
            /* 3 */ ("[1.0]", "[1]"),
            /* 4 */ ("[1e3]", "[1000]"),
            /* 5 */ ("[0.0e300]", "[0]"),
            /* 6 */ ("[2.5]", "[2.5]"),
            /* 7 */ ("[1e20]", "[1e+20]"),
        ]
        for (i, c) in cases.enumerated() {
            let value = try JSONText.parse(c.0)
            #expect(JSONText.string(value) == c.1, "case \(i + 1)")
            let again = try JSONText.parse(JSONText.string(value))
            #expect(numbers(again) == numbers(value), "case \(i + 1)")
        }
    }

    func numbers(_ v: JSONValue) -> [Double] {
        guard case .array(let items) = v else { return [] }
        return items.compactMap { item -> Double? in
            switch item {
            case .int(let i): Double(i)
            case .double(let d): d
            default: nil
            }
        }
    }
}
