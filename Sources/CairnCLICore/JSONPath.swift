import CairnCore

/// A parsed JSONPath template, evaluated as upstream's JSONPath.FindResults/PrintResults evaluate it
/// over an unstructured object: every action starts from the root (or, inside `{range}`, from the
/// element), a missing key yields nothing when missing keys are allowed (kubectl's default), and each
/// action's results print separated by spaces.
public struct JSONPath: Sendable {
    public let template: String
    let pieces: [JSONPathPiece]
    let segments: [Segment]
    public var allowMissingKeys = true

    /// A run of the template: an action, or a `{range ...}` and the segments up to its `{end}`.
    indirect enum Segment: Sendable {
        case action([JSONPathNode])
        case range([JSONPathNode], [Segment])
        case end
    }

    public init(_ template: String, allowMissingKeys: Bool = true) throws(JSONPathError) {
        self.template = template
        self.allowMissingKeys = allowMissingKeys
        pieces = try JSONPathParser.parse(template)
        var index = 0
        segments = Self.group(pieces, &index, depth: 0)
    }

    /// Nests every `{range}` with what follows it up to its `{end}`. A stray `{end}` is kept so that
    /// evaluating it fails as upstream does; a range left open extends to the end of the template.
    private static func group(_ pieces: [JSONPathPiece], _ index: inout Int, depth: Int) -> [Segment] {
        var out: [Segment] = []
        while index < pieces.count {
            let piece = pieces[index]
            index += 1
            switch piece {
            case .text(let t):
                out.append(.action([.text(t)]))
            case .action(let nodes):
                if nodes.contains(.identifier("end")) {
                    if depth > 0 { return out }
                    out.append(.end)
                } else if let r = nodes.firstIndex(of: .identifier("range")) {
                    var expr = nodes
                    expr.remove(at: r)
                    out.append(.range(expr, group(pieces, &index, depth: depth + 1)))
                } else {
                    out.append(.action(nodes))
                }
            }
        }
        return out
    }

    /// The results of every action, in order (upstream's FindResults).
    public func findResults(_ data: JSONValue) throws(JSONPathError) -> [[JSONValue]] {
        try run(segments, data)
    }

    private func run(_ segments: [Segment], _ root: JSONValue) throws(JSONPathError) -> [[JSONValue]] {
        var out: [[JSONValue]] = []
        for segment in segments {
            switch segment {
            case .action(let nodes):
                out.append(try evalList([root], nodes))
            case .range(let expr, let body):
                let values = try evalList([root], expr)
                if values.isEmpty {
                    // Upstream walks the body once anyway, so its errors still surface.
                    _ = try run(body, .null)
                }
                for v in values { out += try run(body, v) }
            case .end:
                throw JSONPathError("not in range, nothing to end")
            }
        }
        return out
    }

    /// The template applied to `data`, as `kubectl get -o jsonpath=...` prints it.
    public func execute(_ data: JSONValue) throws(JSONPathError) -> String {
        var out = ""
        for results in try findResults(data) {
            out += results.map(GoFormat.jsonPathText).joined(separator: " ")
        }
        return out
    }

    /// `-o jsonpath-as-json`: each action's results as one indented JSON array.
    public func executeAsJSON(_ data: JSONValue) throws(JSONPathError) -> String {
        try findResults(data).map { GoFormat.marshalIndent(.array($0)) + "\n" }.joined()
    }

    // MARK: evaluation

    func evalList(_ input: [JSONValue], _ nodes: [JSONPathNode]) throws(JSONPathError) -> [JSONValue] {
        var cur = input
        for node in nodes { cur = try walk(cur, node) }
        return cur
    }

    private func walk(_ input: [JSONValue], _ node: JSONPathNode) throws(JSONPathError) -> [JSONValue] {
        switch node {
        case .text(let t): return [.string(t)]
        case .int(let i): return input.map { _ in .int(Int64(i)) }
        case .float(let d): return input.map { _ in .double(d) }
        case .bool(let b): return input.map { _ in .bool(b) }
        case .field(let name): return try field(input, name)
        case .slice(let s): return try slice(input, s)
        case .filter(let left, let op, let right): return try filter(input, left, op, right)
        case .wildcard: return input.flatMap(children)
        case .recursive: return recursive(input)
        case .union(let lists):
            var out: [JSONValue] = []
            for l in lists { out += try evalList(input, l) }
            return out
        case .identifier(let name):
            switch name {
            case "range": return input
            default: throw JSONPathError("unrecognized identifier \(name)")
            }
        }
    }

    private func field(_ input: [JSONValue], _ name: String) throws(JSONPathError) -> [JSONValue] {
        if input.isEmpty { return [] }
        var out: [JSONValue] = []
        for v in input {
            if case .object(let o) = v, let found = o[name] { out.append(found) }
        }
        if out.isEmpty && !allowMissingKeys { throw JSONPathError("\(name) is not found") }
        return out
    }

    /// The values a wildcard or recursive descent visits: an object's values (by key, as Go's map
    /// order is random), a list's elements, a string's bytes.
    private func children(_ v: JSONValue) -> [JSONValue] {
        switch v {
        case .object(let o): return o.keys.sorted().map { o[$0]! }
        case .array(let a): return a
        case .string(let s): return s.utf8.map { .int(Int64($0)) }
        default: return []
        }
    }

    private func recursive(_ input: [JSONValue]) -> [JSONValue] {
        var out: [JSONValue] = []
        for v in input where v != .null {
            let kids = children(v)
            if !kids.isEmpty {
                out.append(v)
                out += recursive(kids)
            }
        }
        return out
    }

    private func slice(_ input: [JSONValue], _ s: JSONPathSlice) throws(JSONPathError) -> [JSONValue] {
        var out: [JSONValue] = []
        for v in input {
            if v == .null { continue }
            guard case .array(let a) = v else { throw JSONPathError("\(GoFormat.typeName(v)) is not array or slice") }
            let n = a.count
            var start = s.start.known ? s.start.value : 0
            if start < 0 { start += n }
            var end = s.end.known ? s.end.value : n
            if end < 0 || (end == 0 && s.end.derived) { end += n }
            // Asking for no elements is allowed, and (as upstream) ends the evaluation here.
            if end == start { return out }
            if start >= n || start < 0 { throw JSONPathError("array index out of bounds: index \(start), length \(n)") }
            if end > n || end < 0 { throw JSONPathError("array index out of bounds: index \(end - 1), length \(n)") }
            if start > end { throw JSONPathError("starting index \(start) is greater than ending index \(end)") }
            var step = 1
            if s.step.known {
                if s.step.value <= 0 { throw JSONPathError("step must be > 0") }
                step = s.step.value
            }
            out += stride(from: start, to: end, by: step).map { a[$0] }
        }
        return out
    }

    private func filter(_ input: [JSONValue], _ left: [JSONPathNode], _ op: String,
                        _ right: [JSONPathNode]) throws(JSONPathError) -> [JSONValue] {
        var out: [JSONValue] = []
        for v in input {
            guard case .array(let a) = v else {
                throw JSONPathError("\(GoFormat.sprint(v)) is not array or slice and cannot be filtered")
            }
            for element in a {
                if op == "exists" {
                    if let lefts = try? evalList([element], left), !lefts.isEmpty { out.append(element) }
                    continue
                }
                let lefts = try evalList([element], left)
                if lefts.isEmpty { continue }
                guard lefts.count == 1 else { throw JSONPathError("can only compare one element at a time") }
                let rights = try evalList([element], right)
                if rights.isEmpty { continue }
                guard rights.count == 1 else { throw JSONPathError("can only compare one element at a time") }
                if try GoComparison.compare(lefts[0], op, rights[0]) { out.append(element) }
            }
        }
        return out
    }
}

/// text/template's eq, ne, lt, le, gt, ge on decoded JSON values: bools, integers, floats and strings
/// compare with their own kind only (an integer never equals a float), strings byte by byte.
enum GoComparison {
    enum BasicKind { case bool, int, float, string }

    static func kind(_ v: JSONValue) throws(JSONPathError) -> BasicKind {
        switch v {
        case .bool: return .bool
        case .int: return .int
        case .double: return .float
        case .string: return .string
        default: throw JSONPathError("invalid type for comparison")
        }
    }

    static func equal(_ a: JSONValue, _ b: JSONValue) throws(JSONPathError) -> Bool {
        let ka = try kind(a), kb = try kind(b)
        guard ka == kb else { throw JSONPathError("incompatible types for comparison") }
        return a == b
    }

    static func less(_ a: JSONValue, _ b: JSONValue) throws(JSONPathError) -> Bool {
        let ka = try kind(a), kb = try kind(b)
        guard ka == kb else { throw JSONPathError("incompatible types for comparison") }
        switch (a, b) {
        case (.int(let x), .int(let y)): return x < y
        case (.double(let x), .double(let y)): return x < y
        case (.string(let x), .string(let y)): return x.utf8.lexicographicallyPrecedes(y.utf8)
        default: throw JSONPathError("invalid type for comparison")
        }
    }

    static func compare(_ a: JSONValue, _ op: String, _ b: JSONValue) throws(JSONPathError) -> Bool {
        switch op {
        case "==": return try equal(a, b)
        case "!=": return try !equal(a, b)
        case "<": return try less(a, b)
        case "<=":
            if try less(a, b) { return true }
            return try equal(a, b)
        case ">":
            if try less(a, b) { return false }
            return try !equal(a, b)
        case ">=": return try !less(a, b)
        default: throw JSONPathError("unrecognized filter operator \(op)")
        }
    }
}
