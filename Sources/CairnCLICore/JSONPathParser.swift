/// The JSONPath template language as kubectl implements it (k8s.io/client-go/util/jsonpath): text with
/// `{...}` actions; inside an action `.field`, `['key']`, `[n]`, `[start:end:step]`, `[*]`, `[a,b]`,
/// `..` (recursive descent), `[?(@.x == "y")]` filters, quoted literals, numbers, `true`/`false`, and
/// the `range`/`end` keywords. The parser follows upstream's scanner rule for rule, so a template
/// kubectl accepts parses to the same tree here and one it refuses fails with upstream's message.
public indirect enum JSONPathNode: Sendable, Hashable {
    case text(String)
    case field(String)
    case identifier(String)
    case slice(JSONPathSlice)
    case filter(left: [JSONPathNode], op: String, right: [JSONPathNode])
    case int(Int)
    case float(Double)
    case bool(Bool)
    case wildcard
    case recursive
    case union([[JSONPathNode]])
}

/// `[start:end:step]` as upstream's ArrayNode holds it: which parts were given, and whether `end` was
/// derived from a single index (`[n]` is `[n:n+1]`).
public struct JSONPathSlice: Sendable, Hashable {
    public struct Param: Sendable, Hashable {
        public var value: Int
        public var known: Bool
        public var derived = false
    }
    public var start: Param
    public var end: Param
    public var step: Param
}

/// One piece of a parsed template: literal text outside actions, or the nodes of one `{...}` action.
public enum JSONPathPiece: Sendable, Hashable {
    case text(String)
    case action([JSONPathNode])
}

public struct JSONPathError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

struct JSONPathParser {
    private let input: [Unicode.Scalar]
    private var pos = 0
    private var start = 0
    private var width = 0
    private var pieces: [JSONPathPiece] = []
    private var current: [JSONPathNode] = []

    private init(_ text: String) { input = Array(text.unicodeScalars) }

    static func parse(_ text: String) throws(JSONPathError) -> [JSONPathPiece] {
        var p = JSONPathParser(text)
        try p.parseText()
        return p.pieces
    }

    /// An expression as the contents of one action (upstream's parseAction).
    static func parseAction(_ text: String) throws(JSONPathError) -> [JSONPathNode] {
        let pieces = try parse("{" + text + "}")
        guard case .action(let nodes)? = pieces.first else { return [] }
        return nodes
    }

    private mutating func next() -> Unicode.Scalar? {
        guard pos < input.count else { width = 0; return nil }
        width = 1
        pos += 1
        return input[pos - 1]
    }

    private mutating func backup() { pos -= width }

    private mutating func peek() -> Unicode.Scalar? {
        let r = next()
        backup()
        return r
    }

    private mutating func consumeText() -> String {
        var s = String.UnicodeScalarView()
        s.append(contentsOf: input[start..<pos])
        start = pos
        return String(s)
    }

    private func hasPrefix(_ s: String) -> Bool {
        let p = Array(s.unicodeScalars)
        return pos + p.count <= input.count && Array(input[pos..<(pos + p.count)]) == p
    }

    private mutating func parseText() throws(JSONPathError) {
        while true {
            if hasPrefix("{") {
                if pos > start { pieces.append(.text(consumeText())) }
                pos += 1
                _ = consumeText()
                current = []
                try parseInsideAction()
                pieces.append(.action(current))
                current = []
                continue
            }
            if next() == nil { break }
        }
        if pos > start { pieces.append(.text(consumeText())) }
    }

    private mutating func parseInsideAction() throws(JSONPathError) {
        while true {
            if hasPrefix("}") {
                pos += 1
                _ = consumeText()
                return
            }
            if hasPrefix("[?(") { try parseFilter(); continue }
            if hasPrefix("..") { try parseRecursive(); continue }
            guard let r = next(), !Self.isEndOfLine(r) else { throw JSONPathError("unclosed action") }
            switch r {
            case " ", "@", "$":
                _ = consumeText()
            case "[":
                try parseArray()
            case "\"", "'":
                try parseQuote(r)
            case ".":
                parseField()
            case "+", "-":
                backup()
                try parseNumber()
            default:
                if Self.isDigit(r) {
                    backup()
                    try parseNumber()
                } else if Self.isAlphaNumeric(r) {
                    backup()
                    parseIdentifier()
                } else {
                    throw JSONPathError("unrecognized character in action: \(Self.goRune(r))")
                }
            }
        }
    }

    private mutating func parseIdentifier() {
        while true {
            let r = next()
            if Self.isTerminator(r) { backup(); break }
        }
        let value = consumeText()
        if value == "true" || value == "false" {
            current.append(.bool(value == "true"))
        } else {
            current.append(.identifier(value))
        }
    }

    private mutating func parseRecursive() throws(JSONPathError) {
        if current.last == .recursive { throw JSONPathError("invalid multiple recursive descent") }
        pos += 2
        _ = consumeText()
        current.append(.recursive)
        if let r = peek(), Self.isAlphaNumeric(r) { parseField() }
    }

    private mutating func parseNumber() throws(JSONPathError) {
        if let r = peek(), r == "+" || r == "-" { _ = next() }
        while true {
            let r = next()
            if let r, r == "." || Self.isDigit(r) { continue }
            backup()
            break
        }
        let value = consumeText()
        if let i = Self.goAtoi(value) {
            current.append(.int(i))
        } else if value.contains(where: { $0.isASCII && $0.isNumber }),
                  let d = Double(value) ?? (value.hasSuffix(".") ? Double(value + "0") : nil) {
            current.append(.float(d))
        } else {
            throw JSONPathError("cannot parse number \(value)")
        }
    }

    private mutating func parseArray() throws(JSONPathError) {
        while true {
            guard let r = next(), r != "\n" else { throw JSONPathError("unterminated array") }
            if r == "]" { break }
        }
        var text = consumeText()
        text = String(text.dropFirst().dropLast())
        if text == "*" { text = ":" }

        let parts = text.split(separator: ",", omittingEmptySubsequences: false)
        if parts.count > 1 {
            var union: [[JSONPathNode]] = []
            for part in parts {
                union.append(try Self.parseAction("[\(Self.trimSpaces(part))]"))
            }
            current.append(.union(union))
            return
        }
        // ['key'] is the same as .key (the key itself may be a dotted path).
        if text.count >= 2, text.hasPrefix("'"), text.hasSuffix("'"), !text.dropFirst().dropLast().contains("'") {
            current += try Self.parseAction(".\(text.dropFirst().dropLast())")
            return
        }
        guard let groups = Self.sliceGroups(text) else { throw JSONPathError("invalid array index \(text)") }
        var params: [JSONPathSlice.Param] = []
        for i in 0..<3 {
            var value = groups[i]
            if !value.isEmpty {
                if i > 0 { value.removeFirst() }
                if i > 0 && value.isEmpty {
                    params.append(.init(value: 0, known: false))
                } else {
                    guard let n = Self.goAtoi(value) else { throw JSONPathError("array index \(value) is not a number") }
                    params.append(.init(value: n, known: true))
                }
            } else if i == 1 {
                params.append(.init(value: params[0].value + 1, known: true, derived: true))
            } else {
                params.append(.init(value: 0, known: false))
            }
        }
        current.append(.slice(JSONPathSlice(start: params[0], end: params[1], step: params[2])))
    }

    /// `^(-?[\d]*)(:-?[\d]*)?(:-?[\d]*)?$`, the three groups (empty when absent).
    static func sliceGroups(_ text: String) -> [String]? {
        let s = Array(text)
        var i = 0
        func group(colon: Bool) -> String? {
            var g = ""
            if colon {
                guard i < s.count, s[i] == ":" else { return "" }
                g.append(":")
                i += 1
            }
            if i < s.count, s[i] == "-" { g.append("-"); i += 1 }
            while i < s.count, s[i].isASCII, s[i].isNumber { g.append(s[i]); i += 1 }
            return g
        }
        guard let a = group(colon: false), let b = group(colon: true), let c = group(colon: true), i == s.count else { return nil }
        return [a, b, c]
    }

    private mutating func parseFilter() throws(JSONPathError) {
        pos += 3
        _ = consumeText()
        var begin = false, end = false
        var pair: Unicode.Scalar = "\""
        loop: while true {
            guard let r = next(), r != "\n" else { throw JSONPathError("unterminated filter") }
            switch r {
            case "\"", "'":
                if !begin {
                    begin = true
                    pair = r
                    continue
                }
                if input[pos - 2] != "\\" && r == pair { end = true }
            case ")":
                if begin == end { break loop }
            default:
                break
            }
        }
        if next() != "]" { throw JSONPathError("unclosed array expect ]") }
        var text = consumeText()
        text = String(text.unicodeScalars.dropLast(2))
        if let (left, op, right) = Self.splitComparison(text) {
            current.append(.filter(left: try Self.parseAction(left), op: op, right: try Self.parseAction(right)))
        } else {
            current.append(.filter(left: try Self.parseAction(text), op: "exists", right: []))
        }
    }

    /// `^([^!<>=]+)([!<>=]+)(.+?)$`: the left side, the operator and the right side of a filter.
    static func splitComparison(_ text: String) -> (String, String, String)? {
        let ops: Set<Character> = ["!", "<", ">", "="]
        guard let opStart = text.firstIndex(where: { ops.contains($0) }), opStart > text.startIndex else { return nil }
        var opEnd = opStart
        while opEnd < text.endIndex, ops.contains(text[opEnd]) { opEnd = text.index(after: opEnd) }
        guard opEnd < text.endIndex else { return nil }
        return (String(text[..<opStart]), String(text[opStart..<opEnd]), String(text[opEnd...]))
    }

    private mutating func parseQuote(_ quote: Unicode.Scalar) throws(JSONPathError) {
        while true {
            guard let r = next(), r != "\n" else { throw JSONPathError("unterminated quoted string") }
            if r == quote && input[pos - 2] != "\\" { break }
        }
        let value = consumeText()
        guard let s = Self.unquote(value) else { throw JSONPathError("unquote string \(value) error invalid syntax") }
        current.append(.text(s))
    }

    private mutating func parseField() {
        _ = consumeText()
        while true {
            let r = next()
            if r == "\\" { _ = next(); continue }
            if Self.isTerminator(r) { backup(); break }
        }
        let value = consumeText()
        current.append(value == "*" ? .wildcard : .field(value.replacingOccurrences(of: "\\", with: "")))
    }

    static func trimSpaces(_ s: Substring) -> Substring {
        var t = s
        while t.hasPrefix(" ") { t = t.dropFirst() }
        while t.hasSuffix(" ") { t = t.dropLast() }
        return t
    }

    // MARK: character classes, as upstream defines them

    static func isTerminator(_ r: Unicode.Scalar?) -> Bool {
        guard let r else { return true }
        switch r {
        case " ", "\t", "\r", "\n", ".", ",", "[", "]", "$", "@", "{", "}": return true
        default: return false
        }
    }

    static func isEndOfLine(_ r: Unicode.Scalar) -> Bool { r == "\r" || r == "\n" }
    static func isDigit(_ r: Unicode.Scalar) -> Bool { r.properties.numericType == .decimal }
    static func isAlphaNumeric(_ r: Unicode.Scalar) -> Bool { r == "_" || r.properties.isAlphabetic || isDigit(r) }

    /// Go's %#U: `U+0026 '&'` (the character only when printable).
    static func goRune(_ r: Unicode.Scalar) -> String {
        let hex = String(r.value, radix: 16, uppercase: true)
        let code = "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
        return r.properties.generalCategory == .control ? code : "\(code) '\(r)'"
    }

    /// strconv.Atoi: an optional sign and decimal digits.
    static func goAtoi(_ s: String) -> Int? {
        var body = Substring(s)
        if body.hasPrefix("+") || body.hasPrefix("-") { body = body.dropFirst() }
        guard !body.isEmpty, body.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int(s.hasPrefix("+") ? String(s.dropFirst()) : s)
    }

    /// Upstream's UnquoteExtend: Go string-literal unquoting for double- or single-quoted text.
    static func unquote(_ s: String) -> String? {
        let chars = Array(s.unicodeScalars)
        guard chars.count >= 2, let quote = chars.first, quote == "\"" || quote == "'", chars.last == quote else { return nil }
        let body = chars[1..<(chars.count - 1)]
        var out = String.UnicodeScalarView()
        var i = body.startIndex
        func hexValue(_ count: Int) -> UInt32? {
            guard i + count <= body.endIndex else { return nil }
            var v: UInt32 = 0
            for c in body[i..<(i + count)] {
                guard let d = Int(String(c), radix: 16) else { return nil }
                v = v * 16 + UInt32(d)
            }
            i += count
            return v
        }
        while i < body.endIndex {
            let c = body[i]
            i += 1
            if c == quote { return nil }
            guard c == "\\" else { out.append(c); continue }
            guard i < body.endIndex else { return nil }
            let e = body[i]
            i += 1
            switch e {
            case "a": out.append("\u{07}")
            case "b": out.append("\u{08}")
            case "f": out.append("\u{0C}")
            case "n": out.append("\n")
            case "r": out.append("\r")
            case "t": out.append("\t")
            case "v": out.append("\u{0B}")
            case "\\": out.append("\\")
            case "\"", "'":
                guard e == quote else { return nil }
                out.append(e)
            case "x":
                guard let v = hexValue(2), let u = Unicode.Scalar(v) else { return nil }
                out.append(u)
            case "u":
                guard let v = hexValue(4), let u = Unicode.Scalar(v) else { return nil }
                out.append(u)
            case "U":
                guard let v = hexValue(8), let u = Unicode.Scalar(v) else { return nil }
                out.append(u)
            case "0"..."7":
                guard i + 2 <= body.endIndex else { return nil }
                let digits = [e] + body[i..<(i + 2)]
                guard let v = UInt32(String(String.UnicodeScalarView(digits)), radix: 8), v <= 255,
                      let u = Unicode.Scalar(v) else { return nil }
                i += 2
                out.append(u)
            default:
                return nil
            }
        }
        return String(out)
    }
}
