/// Every object key of a JSON text in the order it appears, with its path, and whether an earlier
/// member of the same object had the same key. `JSONText.parse` keeps the last of duplicate keys
/// (as Go's encoding/json does) without a word; strict field validation needs to name them, so this
/// separate pass reads the same bytes only when a caller asks, leaving the normal parse as fast as it was.
extension JSONText {
    public struct KeyOccurrence: Sendable, Hashable {
        /// The path to the key: object keys, and "[i]" for array elements (as `presentPaths` gives them).
        public var path: [String]
        public var isDuplicate: Bool
        public init(path: [String], isDuplicate: Bool) {
            self.path = path
            self.isDuplicate = isDuplicate
        }
    }

    public static func keyOccurrences(_ bytes: some Collection<UInt8>) throws(SyntaxError) -> [KeyOccurrence] {
        let array = Array(bytes)
        return try array.withUnsafeBufferPointer { buffer throws(SyntaxError) -> [KeyOccurrence] in
            var scanner = KeyScanner(parser: Parser(bytes: buffer))
            scanner.parser.skipWhitespace()
            try scanner.value(depth: 0, path: [])
            scanner.parser.skipWhitespace()
            if scanner.parser.position != buffer.count { throw scanner.parser.error("unexpected text after the JSON value") }
            return scanner.found
        }
    }

    struct KeyScanner {
        var parser: Parser
        var found: [KeyOccurrence] = []

        mutating func value(depth: Int, path: [String]) throws(SyntaxError) {
            guard depth < JSONText.maximumDepth else { throw parser.error("nesting deeper than \(JSONText.maximumDepth) levels") }
            guard parser.position < parser.bytes.count else { throw parser.error("unexpected end of input") }
            switch parser.bytes[parser.position] {
            case UInt8(ascii: "{"):
                parser.position += 1
                var seen = Set<String>()
                parser.skipWhitespace()
                if parser.position < parser.bytes.count, parser.bytes[parser.position] == UInt8(ascii: "}") { parser.position += 1; return }
                while true {
                    parser.skipWhitespace()
                    guard parser.position < parser.bytes.count, parser.bytes[parser.position] == UInt8(ascii: "\"") else {
                        throw parser.error("expected a quoted object key")
                    }
                    let key = try parser.string()
                    let keyPath = path + [key]
                    found.append(KeyOccurrence(path: keyPath, isDuplicate: !seen.insert(key).inserted))
                    parser.skipWhitespace()
                    guard parser.position < parser.bytes.count, parser.bytes[parser.position] == UInt8(ascii: ":") else {
                        throw parser.error("expected ':' after an object key")
                    }
                    parser.position += 1
                    parser.skipWhitespace()
                    try value(depth: depth + 1, path: keyPath)
                    parser.skipWhitespace()
                    guard parser.position < parser.bytes.count else { throw parser.error("unexpected end of input in an object") }
                    if parser.bytes[parser.position] == UInt8(ascii: ",") { parser.position += 1; continue }
                    if parser.bytes[parser.position] == UInt8(ascii: "}") { parser.position += 1; return }
                    throw parser.error("expected ',' or '}' in an object")
                }
            case UInt8(ascii: "["):
                parser.position += 1
                parser.skipWhitespace()
                if parser.position < parser.bytes.count, parser.bytes[parser.position] == UInt8(ascii: "]") { parser.position += 1; return }
                var index = 0
                while true {
                    parser.skipWhitespace()
                    try value(depth: depth + 1, path: path + ["[\(index)]"])
                    index += 1
                    parser.skipWhitespace()
                    guard parser.position < parser.bytes.count else { throw parser.error("unexpected end of input in an array") }
                    if parser.bytes[parser.position] == UInt8(ascii: ",") { parser.position += 1; continue }
                    if parser.bytes[parser.position] == UInt8(ascii: "]") { parser.position += 1; return }
                    throw parser.error("expected ',' or ']' in an array")
                }
            default:
                _ = try parser.value(depth: depth)
            }
        }
    }
}
