import CairnCore
import Foundation

/// How kubectl (Go) prints the values of a decoded JSON object, which the printers built on JSONPath
/// show as they are: `fmt.Sprint` for custom-columns cells and JSONPath scalars, `json.Marshal` for
/// JSONPath objects and lists, `json.MarshalIndent` for `jsonpath-as-json`. JSON numbers decode as
/// int64 when whole and float64 otherwise, as in an unstructured object.
public enum GoFormat {
    /// fmt.Sprint(v): strings bare, maps as `map[k:v]` with sorted keys, slices as `[a b]`, nil as `<nil>`.
    public static func sprint(_ v: JSONValue) -> String {
        switch v {
        case .null: return "<nil>"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .double(let d): return float(d)
        case .string(let s): return s
        case .array(let a): return "[" + a.map(sprint).joined(separator: " ") + "]"
        case .object(let o):
            return "map[" + o.keys.sorted().map { "\($0):\(sprint(o[$0]!))" }.joined(separator: " ") + "]"
        }
    }

    /// The text JSONPath prints for one result (PrintResults): objects and lists as compact JSON,
    /// everything else as fmt.Fprint prints it, and null as "null".
    public static func jsonPathText(_ v: JSONValue) -> String {
        switch v {
        case .object, .array: return marshal(v)
        case .null: return "null"
        default: return sprint(v)
        }
    }

    /// json.Marshal: compact, keys sorted, `<`, `>` and `&` escaped as Go escapes them for HTML.
    public static func marshal(_ v: JSONValue) -> String {
        var out = ""
        marshal(v, indent: nil, level: 0, into: &out)
        return out
    }

    /// json.MarshalIndent(v, "", "    ").
    public static func marshalIndent(_ v: JSONValue) -> String {
        var out = ""
        marshal(v, indent: "    ", level: 0, into: &out)
        return out
    }

    private static func marshal(_ v: JSONValue, indent: String?, level: Int, into out: inout String) {
        func newline(_ l: Int) {
            if let indent { out += "\n" + String(repeating: indent, count: l) }
        }
        switch v {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .double(let d): out += jsonFloat(d)
        case .string(let s): out += quote(s)
        case .array(let a):
            if a.isEmpty { out += "[]"; return }
            out += "["
            for (i, e) in a.enumerated() {
                if i > 0 { out += "," }
                newline(level + 1)
                marshal(e, indent: indent, level: level + 1, into: &out)
            }
            newline(level)
            out += "]"
        case .object(let o):
            if o.isEmpty { out += "{}"; return }
            out += "{"
            for (i, k) in o.keys.sorted().enumerated() {
                if i > 0 { out += "," }
                newline(level + 1)
                out += quote(k) + (indent == nil ? ":" : ": ")
                marshal(o[k]!, indent: indent, level: level + 1, into: &out)
            }
            newline(level)
            out += "}"
        }
    }

    /// A JSON string as encoding/json writes it (HTMLEscape on, U+2028 and U+2029 escaped).
    public static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "<", ">", "&", "\u{2028}", "\u{2029}":
                out += "\\u" + hex4(u.value)
            default:
                if u.value < 0x20 { out += "\\u" + hex4(u.value) } else { out.unicodeScalars.append(u) }
            }
        }
        return out + "\""
    }

    private static func hex4(_ v: UInt32) -> String {
        let h = String(v, radix: 16)
        return String(repeating: "0", count: max(0, 4 - h.count)) + h
    }

    /// The shortest decimal digits of `d` and the position of the decimal point (d = 0.digits × 10^point).
    private static func shortestDigits(_ d: Double) -> (digits: String, point: Int) {
        // Swift's description is the shortest representation that reads back exactly, as Go's is.
        var s = "\(abs(d))"
        var exponent = 0
        if let e = s.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            exponent = Int(s[s.index(after: e)...]) ?? 0
            s = String(s[..<e])
        }
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        let intPart = String(parts[0]), frac = parts.count > 1 ? String(parts[1]) : ""
        var digits = intPart + frac
        var point = intPart.count + exponent
        while digits.hasPrefix("0") && digits.count > 1 { digits.removeFirst(); point -= 1 }
        while digits.hasSuffix("0") && digits.count > 1 { digits.removeLast() }
        if digits == "0" { point = 1 }
        return (digits, point)
    }

    /// fmt's %v for a float64: strconv 'g' with the shortest digits, exponent when it is < -4 or >= 6
    /// (`fmt.Sprint(1e6)` is "1e+06").
    public static func float(_ d: Double) -> String {
        if d.isNaN { return "NaN" }
        if d.isInfinite { return d < 0 ? "-Inf" : "+Inf" }
        let sign = d < 0 ? "-" : ""
        let (digits, point) = shortestDigits(d)
        if digits == "0" { return sign + "0" }
        let exp = point - 1
        if exp < -4 || exp >= 6 { return sign + scientific(digits, exp) }
        return sign + fixed(digits, point)
    }

    /// encoding/json's float64: like ES6, fixed unless the exponent is < -6 or >= 21.
    public static func jsonFloat(_ d: Double) -> String {
        if !d.isFinite { return "null" }
        let sign = d < 0 ? "-" : ""
        let (digits, point) = shortestDigits(d)
        if digits == "0" { return "0" }
        let exp = point - 1
        if exp < -6 || exp >= 21 { return sign + scientific(digits, exp) }
        return sign + fixed(digits, point)
    }

    private static func fixed(_ digits: String, _ point: Int) -> String {
        if point <= 0 { return "0." + String(repeating: "0", count: -point) + digits }
        if point >= digits.count { return digits + String(repeating: "0", count: point - digits.count) }
        let i = digits.index(digits.startIndex, offsetBy: point)
        return digits[..<i] + "." + digits[i...]
    }

    private static func scientific(_ digits: String, _ exp: Int) -> String {
        let mantissa = digits.count == 1 ? digits : "\(digits.first!)." + digits.dropFirst()
        let e = abs(exp) < 10 ? "0\(abs(exp))" : "\(abs(exp))"
        return "\(mantissa)e\(exp < 0 ? "-" : "+")\(e)"
    }

    /// Go's name for the dynamic type of a decoded JSON value, as its error messages print it.
    public static func typeName(_ v: JSONValue) -> String {
        switch v {
        case .null: return "<nil>"
        case .bool: return "bool"
        case .int: return "int64"
        case .double: return "float64"
        case .string: return "string"
        case .array: return "[]interface {}"
        case .object: return "map[string]interface {}"
        }
    }
}
