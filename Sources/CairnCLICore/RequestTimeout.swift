/// kubectl's `--request-timeout`: "0" (no limit), a whole number of seconds, or a Go duration such
/// as "500ms", "30s", "1m30s", "2h".
public enum RequestTimeout {
    public struct Invalid: Error, CustomStringConvertible {
        public var value: String
        public var description: String {
            "invalid argument \"\(value)\" for \"--request-timeout\" flag: time: invalid duration \"\(value)\"; use a number of seconds or a duration such as 30s or 1m"
        }
    }

    /// Seconds, or nil for no limit.
    public static func parse(_ text: String) throws(Invalid) -> Double? {
        if text == "0" || text.isEmpty { return nil }
        if let seconds = Int(text), seconds >= 0 { return seconds == 0 ? nil : Double(seconds) }
        var total = 0.0
        var rest = Substring(text)
        guard !rest.isEmpty else { throw Invalid(value: text) }
        while !rest.isEmpty {
            let number = rest.prefix { $0.isNumber || $0 == "." }
            guard let value = Double(number), !number.isEmpty else { throw Invalid(value: text) }
            rest = rest.dropFirst(number.count)
            let unit = rest.prefix { $0.isLetter || $0 == "µ" }
            rest = rest.dropFirst(unit.count)
            switch unit {
            case "h": total += value * 3600
            case "m": total += value * 60
            case "s": total += value
            case "ms": total += value / 1000
            case "us", "µs": total += value / 1_000_000
            case "ns": total += value / 1_000_000_000
            default: throw Invalid(value: text)
            }
        }
        return total == 0 ? nil : total
    }
}
