import Foundation

/// metav1.LabelSelector: the API shape used by StatefulSet, ReplicaSet and claim selectors.
///
/// `asSelector()` is LabelSelectorAsSelector: an empty selector (no labels, no expressions) matches
/// everything; a missing one (`nil`, see `Selector.init(_:)`) matches nothing. Workload validation
/// rejects an empty selector separately, as upstream does.
public struct LabelSelector: Codable, Sendable, Hashable {
    public var matchLabels: [String: String]?
    public var matchExpressions: [LabelSelectorRequirement]?

    public init(matchLabels: [String: String]? = nil, matchExpressions: [LabelSelectorRequirement]? = nil) {
        self.matchLabels = matchLabels
        self.matchExpressions = matchExpressions
    }

    /// LabelSelectorAsSelector. Keys and values are checked as labels.NewRequirement checks them, and
    /// the first bad requirement is reported with upstream's message. Match labels are taken in key
    /// order (upstream walks a Go map, so which error comes first is random there).
    public func asSelector() throws(SelectorError) -> Selector {
        let labels = matchLabels ?? [:]
        let expressions = matchExpressions ?? []
        if labels.isEmpty && expressions.isEmpty { return .everything }
        var requirements: [Selector.Requirement] = []
        for key in labels.keys.sorted(by: Selector.byteOrder) {
            requirements.append(try Selector.Requirement(validating: key, .equals, [labels[key]!]))
        }
        for expr in expressions {
            let op: Selector.Operator
            switch expr.operator {
            case LabelSelectorRequirement.opIn: op = .in
            case LabelSelectorRequirement.opNotIn: op = .notIn
            case LabelSelectorRequirement.opExists: op = .exists
            case LabelSelectorRequirement.opDoesNotExist: op = .doesNotExist
            default:
                throw SelectorError("\(goQuote(expr.operator)) is not a valid pod selector operator")
            }
            // append([]string(nil), expr.Values...): no values is nil, shown as "null".
            let values = (expr.values ?? []).isEmpty ? nil : expr.values
            requirements.append(try Selector.Requirement(validating: expr.key, op, values))
        }
        return Selector(requirements)
    }
}

/// metav1.LabelSelectorRequirement. `operator` is one of In, NotIn, Exists, DoesNotExist.
public struct LabelSelectorRequirement: Codable, Sendable, Hashable {
    public static let opIn = "In"
    public static let opNotIn = "NotIn"
    public static let opExists = "Exists"
    public static let opDoesNotExist = "DoesNotExist"

    public var key: String
    public var `operator`: String
    public var values: [String]?

    public init(key: String, operator: String, values: [String]? = nil) {
        self.key = key
        self.operator = `operator`
        self.values = values
    }
}

/// A selector could not be built or parsed; `message` is upstream's error text.
public struct SelectorError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// labels.Selector: requirements ANDed together, kept sorted by key.
public struct Selector: Sendable, Hashable, CustomStringConvertible {
    /// selection.Operator; raw values are upstream's.
    public enum Operator: String, Sendable, Hashable, CaseIterable {
        case doesNotExist = "!"
        case equals = "="
        case doubleEquals = "=="
        case `in` = "in"
        case notEquals = "!="
        case notIn = "notin"
        case exists = "exists"
        case greaterThan = "gt"
        case lessThan = "lt"
    }

    /// labels.Requirement.
    public struct Requirement: Sendable, Hashable, CustomStringConvertible {
        public let key: String
        public let `operator`: Operator
        public let values: [String]

        /// labels.NewRequirement: the key must be a qualified name and every value a label value;
        /// in/notin need values, =, ==, != exactly one, exists and ! none, gt and lt one integer.
        public init(key: String, operator: Operator, values: [String] = []) throws(SelectorError) {
            try self.init(validating: key, `operator`, values)
        }

        /// `values` nil stands for Go's nil slice, which error messages show as null.
        init(validating key: String, _ op: Operator, _ values: [String]?) throws(SelectorError) {
            var errs: [String] = []
            let vals = values ?? []
            let shownValues = values.map(jsonArray) ?? "null"
            if let e = Selector.labelKeyError(key, path: "key") { errs.append(e) }
            switch op {
            case .in, .notIn:
                if vals.isEmpty {
                    errs.append("values: Invalid value: \(shownValues): for 'in', 'notin' operators, values set can't be empty")
                }
            case .equals, .doubleEquals, .notEquals:
                if vals.count != 1 {
                    errs.append("values: Invalid value: \(shownValues): exact-match compatibility requires one single value")
                }
            case .exists, .doesNotExist:
                if !vals.isEmpty {
                    errs.append("values: Invalid value: \(shownValues): values set must be empty for exists and does not exist")
                }
            case .greaterThan, .lessThan:
                if vals.count != 1 {
                    errs.append("values: Invalid value: \(shownValues): for 'Gt', 'Lt' operators, exactly one value is required")
                }
                for (i, v) in vals.enumerated() where Int64(v) == nil {
                    errs.append("values[\(i)]: Invalid value: \(goQuote(v)): for 'Gt', 'Lt' operators, the value must be an integer")
                }
            }
            for (i, v) in vals.enumerated() {
                let problems = Names.isValidLabelValue(v)
                if !problems.isEmpty {
                    errs.append("values[\(i)][\(key)]: Invalid value: \(goQuote(v)): " + problems.joined(separator: "; "))
                }
            }
            if !errs.isEmpty { throw SelectorError(aggregate(errs)) }
            self.init(unchecked: key, op, vals)
        }

        init(unchecked key: String, _ op: Operator, _ values: [String]) {
            self.key = key
            self.operator = op
            self.values = values
        }

        /// Requirement.Matches.
        public func matches(_ labels: [String: String]) -> Bool {
            switch self.operator {
            case .in, .equals, .doubleEquals:
                guard let v = labels[key] else { return false }
                return values.contains(v)
            case .notIn, .notEquals:
                guard let v = labels[key] else { return true }
                return !values.contains(v)
            case .exists:
                return labels[key] != nil
            case .doesNotExist:
                return labels[key] == nil
            case .greaterThan, .lessThan:
                guard let s = labels[key], let have = Int64(s), values.count == 1, let want = Int64(values[0]) else {
                    return false
                }
                return self.operator == .greaterThan ? have > want : have < want
            }
        }

        /// Requirement.String: "x in (a,b)", "x!=a", "!x", "x>1".
        public var description: String {
            var s = self.operator == .doesNotExist ? "!" : ""
            s += key
            switch self.operator {
            case .equals: s += "="
            case .doubleEquals: s += "=="
            case .notEquals: s += "!="
            case .in: s += " in "
            case .notIn: s += " notin "
            case .greaterThan: s += ">"
            case .lessThan: s += "<"
            case .exists, .doesNotExist: return s
            }
            let list = values.count == 1 ? values[0] : values.sorted(by: Selector.byteOrder).joined(separator: ",")
            if self.operator == .in || self.operator == .notIn { return s + "(" + list + ")" }
            return s + list
        }
    }

    /// The requirements, sorted by key.
    public private(set) var requirements: [Requirement]
    private var selectsNothing: Bool

    /// labels.Everything(): matches every label set.
    public static let everything = Selector([])
    /// labels.Nothing(): matches no label set (what a missing LabelSelector becomes).
    public static let nothing = Selector(requirements: [], selectsNothing: true)

    private init(requirements: [Requirement], selectsNothing: Bool) {
        self.requirements = requirements
        self.selectsNothing = selectsNothing
    }

    /// A selector of these requirements (sorted by key, stably).
    public init(_ requirements: [Requirement]) {
        self.init(requirements: Self.sortedByKey(requirements), selectsNothing: false)
    }

    /// SelectorFromValidatedSet: key=value for each entry; an empty set matches everything.
    public init(matching set: [String: String]) {
        self.init(set.map { Requirement(unchecked: $0.key, .equals, [$0.value]) })
    }

    /// LabelSelectorAsSelector for an optional selector: nil matches nothing.
    public init(_ labelSelector: LabelSelector?) throws(SelectorError) {
        guard let labelSelector else {
            self = .nothing
            return
        }
        self = try labelSelector.asSelector()
    }

    /// Whether every requirement matches (never, for `nothing`).
    public func matches(_ labels: [String: String]) -> Bool {
        if selectsNothing { return false }
        return requirements.allSatisfy { $0.matches(labels) }
    }

    /// Empty(): true when the selector does not restrict anything (false for `nothing`).
    public var isEmpty: Bool { !selectsNothing && requirements.isEmpty }

    /// String(): the requirements joined by ","; "" for both everything and nothing.
    public var description: String {
        requirements.map(\.description).joined(separator: ",")
    }

    /// Add: a copy with more requirements, re-sorted by key.
    public func adding(_ more: Requirement...) -> Selector {
        if selectsNothing { return self }
        return Selector(requirements + more)
    }

    /// RequiresExactMatch: the single value the first requirement on `label` insists on, if any.
    public func requiresExactMatch(_ label: String) -> String? {
        guard let r = requirements.first(where: { $0.key == label }) else { return nil }
        switch r.operator {
        case .equals, .doubleEquals, .in: return r.values.count == 1 ? r.values[0] : nil
        default: return nil
        }
    }

    static func sortedByKey(_ rs: [Requirement]) -> [Requirement] {
        rs.enumerated().sorted { a, b in
            if a.element.key != b.element.key { return byteOrder(a.element.key, b.element.key) }
            return a.offset < b.offset
        }.map(\.element)
    }

    /// Go compares strings byte by byte.
    static func byteOrder(_ a: String, _ b: String) -> Bool {
        a.utf8.lexicographicallyPrecedes(b.utf8)
    }

    static func labelKeyError(_ key: String, path: String) -> String? {
        let problems = Names.isQualifiedName(key)
        if problems.isEmpty { return nil }
        return "\(path): Invalid value: \(goQuote(key)): " + problems.joined(separator: "; ")
    }

    // MARK: Parsing (labels.Parse)

    /// labels.Parse: the `kubectl get -l` syntax.
    ///
    ///     <selector-syntax>         ::= <requirement> | <requirement> "," <selector-syntax>
    ///     <requirement>             ::= [!] KEY [ <set-based-restriction> | <exact-match-restriction> ]
    ///     <set-based-restriction>   ::= "" | <inclusion-exclusion> <value-set>
    ///     <inclusion-exclusion>     ::= "in" | "notin"
    ///     <value-set>               ::= "(" <values> ")"
    ///     <exact-match-restriction> ::= ["="|"=="|"!="] VALUE      (and ">" / "<" with an integer)
    ///
    /// Whitespace (space, tab, CR, LF) separates tokens. "" parses to `everything`. Values in a set are
    /// de-duplicated and sorted; "x in ()" means the empty value. Errors read as upstream's, e.g.
    /// "unable to parse requirement: found '', expected: in, notin, =, ==, !=, gt, lt".
    public static func parse(_ string: String) throws(SelectorError) -> Selector {
        var parser = Parser(Array(string.utf8))
        return Selector(try parser.parse())
    }
}

// MARK: - Lexer and parser, ported from pkg/labels/selector.go

private enum Token: Equatable {
    case error, endOfString, closedPar, comma, doesNotExist, doubleEquals, equals, greaterThan
    case identifier, `in`, lessThan, notEquals, notIn, openPar
}

private let string2token: [String: Token] = [
    ")": .closedPar, ",": .comma, "!": .doesNotExist, "==": .doubleEquals, "=": .equals, ">": .greaterThan,
    "in": .in, "<": .lessThan, "!=": .notEquals, "notin": .notIn, "(": .openPar,
]

private struct Lexer {
    let s: [UInt8]
    var pos = 0

    mutating func read() -> UInt8 {
        guard pos < s.count else { return 0 }
        defer { pos += 1 }
        return s[pos]
    }

    mutating func unread() { pos -= 1 }

    static func isWhitespace(_ c: UInt8) -> Bool {
        c == UInt8(ascii: " ") || c == UInt8(ascii: "\t") || c == UInt8(ascii: "\r") || c == UInt8(ascii: "\n")
    }

    static func isSpecialSymbol(_ c: UInt8) -> Bool {
        switch c {
        case UInt8(ascii: "="), UInt8(ascii: "!"), UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: ","),
             UInt8(ascii: ">"), UInt8(ascii: "<"):
            return true
        default:
            return false
        }
    }

    mutating func scanIDOrKeyword() -> (Token, String) {
        var buffer: [UInt8] = []
        while true {
            let ch = read()
            if ch == 0 { break }
            if Self.isSpecialSymbol(ch) || Self.isWhitespace(ch) {
                unread()
                break
            }
            buffer.append(ch)
        }
        let s = String(decoding: buffer, as: UTF8.self)
        if let t = string2token[s] { return (t, s) }
        return (.identifier, s)
    }

    mutating func scanSpecialSymbol() -> (Token, String) {
        var last: (Token, String)?
        var buffer: [UInt8] = []
        while true {
            let ch = read()
            if ch == 0 { break }
            if Self.isSpecialSymbol(ch) {
                buffer.append(ch)
                if let t = string2token[String(decoding: buffer, as: UTF8.self)] {
                    last = (t, String(decoding: buffer, as: UTF8.self))
                } else if last != nil {
                    unread()
                    break
                }
            } else {
                unread()
                break
            }
        }
        guard let last else {
            return (.error, "error expected: keyword found '\(String(decoding: buffer, as: UTF8.self))'")
        }
        return last
    }

    mutating func lex() -> (Token, String) {
        var ch = read()
        while Self.isWhitespace(ch) { ch = read() }
        if ch == 0 { return (.endOfString, "") }
        unread()
        return Self.isSpecialSymbol(ch) ? scanSpecialSymbol() : scanIDOrKeyword()
    }
}

private struct Parser {
    enum Context { case keyAndOperator, values }

    var lexer: Lexer
    var items: [(Token, String)] = []
    var position = 0

    init(_ s: [UInt8]) { lexer = Lexer(s: s) }

    func lookahead(_ context: Context) -> (Token, String) {
        var (tok, lit) = items[position]
        if context == .values && (tok == .in || tok == .notIn) { tok = .identifier }
        return (tok, lit)
    }

    mutating func consume(_ context: Context) -> (Token, String) {
        position += 1
        var (tok, lit) = items[position - 1]
        if context == .values && (tok == .in || tok == .notIn) { tok = .identifier }
        return (tok, lit)
    }

    mutating func scan() {
        while true {
            let item = lexer.lex()
            items.append(item)
            if item.0 == .endOfString { break }
        }
    }

    mutating func parse() throws(SelectorError) -> [Selector.Requirement] {
        scan()
        var requirements: [Selector.Requirement] = []
        while true {
            let (tok, lit) = lookahead(.values)
            switch tok {
            case .identifier, .doesNotExist:
                do {
                    requirements.append(try parseRequirement())
                } catch {
                    throw SelectorError("unable to parse requirement: \(error.message)")
                }
                let (t, l) = consume(.values)
                switch t {
                case .endOfString:
                    return requirements
                case .comma:
                    let (t2, l2) = lookahead(.values)
                    if t2 != .identifier && t2 != .doesNotExist {
                        throw SelectorError("found '\(l2)', expected: identifier after ','")
                    }
                default:
                    throw SelectorError("found '\(l)', expected: ',' or 'end of string'")
                }
            case .endOfString:
                return requirements
            default:
                throw SelectorError("found '\(lit)', expected: !, identifier, or 'end of string'")
            }
        }
    }

    mutating func parseRequirement() throws(SelectorError) -> Selector.Requirement {
        let (key, inferred) = try parseKeyAndInferOperator()
        if let inferred {
            return try Selector.Requirement(validating: key, inferred, [])
        }
        let op = try parseOperator()
        let values: [String]
        switch op {
        case .in, .notIn: values = try parseValues()
        default: values = try parseExactValue()
        }
        return try Selector.Requirement(validating: key, op, values)
    }

    /// Returns the key, and the operator when it is implied: exists, or ! (does not exist).
    mutating func parseKeyAndInferOperator() throws(SelectorError) -> (String, Selector.Operator?) {
        var op: Selector.Operator?
        var (tok, literal) = consume(.values)
        if tok == .doesNotExist {
            op = .doesNotExist
            (tok, literal) = consume(.values)
        }
        if tok != .identifier {
            throw SelectorError("found '\(literal)', expected: identifier")
        }
        // validateLabelKey with the parser's nil path, which upstream prints as "<nil>".
        if let e = Selector.labelKeyError(literal, path: "<nil>") { throw SelectorError(e) }
        let (t, _) = lookahead(.values)
        if t == .endOfString || t == .comma {
            if op != .doesNotExist { op = .exists }
        }
        return (literal, op)
    }

    mutating func parseOperator() throws(SelectorError) -> Selector.Operator {
        let (tok, lit) = consume(.keyAndOperator)
        switch tok {
        case .in: return .in
        case .equals: return .equals
        case .doubleEquals: return .doubleEquals
        case .greaterThan: return .greaterThan
        case .lessThan: return .lessThan
        case .notIn: return .notIn
        case .notEquals: return .notEquals
        default:
            throw SelectorError("found '\(lit)', expected: in, notin, =, ==, !=, gt, lt")
        }
    }

    mutating func parseValues() throws(SelectorError) -> [String] {
        var (tok, lit) = consume(.values)
        if tok != .openPar {
            throw SelectorError("found '\(lit)' expected: '('")
        }
        (tok, lit) = lookahead(.values)
        switch tok {
        case .identifier, .comma:
            let s = try parseIdentifiersList()
            if consume(.values).0 != .closedPar {
                throw SelectorError("found '\(lit)', expected: ')'")
            }
            return s
        case .closedPar:
            _ = consume(.values)
            return [""]
        default:
            throw SelectorError("found '\(lit)', expected: ',', ')' or identifier")
        }
    }

    /// A possibly empty, comma-separated list of possibly empty identifiers, as a sorted set.
    mutating func parseIdentifiersList() throws(SelectorError) -> [String] {
        var s = Set<String>()
        func sorted() -> [String] { s.sorted(by: Selector.byteOrder) }
        while true {
            let (tok, lit) = consume(.values)
            switch tok {
            case .identifier:
                s.insert(lit)
                let (tok2, lit2) = lookahead(.values)
                switch tok2 {
                case .comma: continue
                case .closedPar: return sorted()
                default: throw SelectorError("found '\(lit2)', expected: ',' or ')'")
                }
            case .comma:
                if s.isEmpty { s.insert("") }  // "(,"
                let (tok2, _) = lookahead(.values)
                if tok2 == .closedPar {
                    s.insert("")  // ",)"
                    return sorted()
                }
                if tok2 == .comma {
                    _ = consume(.values)
                    s.insert("")  // ",,"
                }
            default:
                throw SelectorError("found '\(lit)', expected: ',', or identifier")
            }
        }
    }

    mutating func parseExactValue() throws(SelectorError) -> [String] {
        let (next, _) = lookahead(.values)
        if next == .endOfString || next == .comma { return [""] }
        let (tok, lit) = consume(.values)
        if tok == .identifier { return [lit] }
        throw SelectorError("found '\(lit)', expected: identifier")
    }
}

// MARK: - Go-style rendering for error messages

/// fmt's %q for the strings that reach these messages.
private func goQuote(_ s: String) -> String {
    var out = "\""
    for u in s.unicodeScalars {
        switch u {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\t": out += "\\t"
        case "\r": out += "\\r"
        default:
            if u.value < 0x20 || u.value == 0x7f {
                out += String(format: "\\x%02x", u.value)
            } else {
                out.unicodeScalars.append(u)
            }
        }
    }
    return out + "\""
}

/// json.Marshal of a []string, as field errors show a list value.
private func jsonArray(_ values: [String]) -> String {
    "[" + values.map(goQuote).joined(separator: ",") + "]"
}

/// utilerrors aggregate: one error bare, several de-duplicated inside brackets.
private func aggregate(_ messages: [String]) -> String {
    var seen: [String] = []
    for m in messages where !seen.contains(m) { seen.append(m) }
    return seen.count == 1 ? seen[0] : "[" + seen.joined(separator: ", ") + "]"
}

extension Selector.Requirement {
    /// A node selector requirement (NodeSelectorOperator In, NotIn, Exists, DoesNotExist, Gt, Lt) as
    /// the label requirement nodeaffinity turns it into; nil when the operator is unknown or the
    /// values do not fit it (upstream's NewRequirement error, which makes the term match nothing).
    public init?(nodeSelector key: String, operator op: String, values: [String]?) {
        let mapped: Selector.Operator
        switch op {
        case "In": mapped = .in
        case "NotIn": mapped = .notIn
        case "Exists": mapped = .exists
        case "DoesNotExist": mapped = .doesNotExist
        case "Gt": mapped = .greaterThan
        case "Lt": mapped = .lessThan
        default: return nil
        }
        guard let r = try? Selector.Requirement(validating: key, mapped, values) else { return nil }
        self = r
    }
}

