import Foundation

/// resource.Quantity from apimachinery (`pkg/api/resource/quantity.go`): a fixed-point number with a suffix.
///
///     <quantity>        ::= <signedNumber><suffix>
///     <suffix>          ::= <binarySI> | <decimalExponent> | <decimalSI>
///     <binarySI>        ::= Ki | Mi | Gi | Ti | Pi | Ei
///     <decimalSI>       ::= n | u | m | "" | k | M | G | T | P | E
///     <decimalExponent> ::= "e" <signedNumber> | "E" <signedNumber>
///
/// The value is held exactly: an arbitrary-precision magnitude times a power of ten, never a float.
/// Parsing follows `ParseQuantity` step by step, including what it does that surprises:
/// - a value finer than nano is rounded away from zero to the next nano ("0.9n" is "1n");
/// - a BinarySI value is capped, silently, at 2^63-1 ("8Ei" parses as 9223372036854775807; a decimal
///   spelling such as "9223372036854775808" or "12E" keeps its value);
/// - a BinarySI value strictly between -1 and 1 becomes DecimalSI ("0.000000000001Ki" is "2n");
/// - when the input already looks canonical upstream keeps the input string and `String()` returns it
///   verbatim, so "+1" prints as "+1", "01" as "01" and "1.001" as "1.001" (kubernetes/kubernetes#138165).
///   `description` does the same, so what Cairn echoes back is what a Kubernetes API server would.
///
/// Equality, hashing and ordering compare values only ("1Gi" == "1024Mi" == "1073741824"), like `Cmp`.
public struct Quantity: Sendable, Hashable, Codable, CustomStringConvertible, Comparable {
    /// How the quantity prints: upstream's `Format`.
    public enum Format: String, Sendable, Hashable, Codable, CaseIterable {
        case decimalExponent = "DecimalExponent"  // 12e6
        case binarySI = "BinarySI"                // 12Mi (12 * 2^20)
        case decimalSI = "DecimalSI"              // 12M  (12 * 10^6)
    }

    /// Value = (isNegative ? -1 : 1) * magnitude * 10^exponent. Normalised: the magnitude carries no
    /// factor of ten, and zero is (false, 0, 0), so the synthesised-style equality below is by value.
    var isNegative: Bool
    var magnitude: Magnitude
    var exponent: Int
    /// Upstream's `s`: the input string when ParseQuantity judged it canonical.
    var cachedString: String?

    /// The format used when printing. Changing it drops the string remembered from parsing.
    public var format: Format {
        didSet { cachedString = nil }
    }

    /// The zero quantity, printed "0".
    public static let zero = Quantity(negative: false, magnitude: .zero, exponent: 0, format: .decimalSI)

    init(negative: Bool, magnitude: Magnitude, exponent: Int, format: Format, cachedString: String? = nil) {
        var m = magnitude
        var e = exponent
        if m.isZero {
            e = 0
        } else {
            e += m.removeFactorsOfTen()
        }
        self.isNegative = negative && !m.isZero
        self.magnitude = m
        self.exponent = e
        self.format = format
        self.cachedString = cachedString
    }

    /// A whole number of bytes (or any unit): upstream's `NewQuantity(value, format)`.
    public init(bytes: Int64, format: Format = .binarySI) {
        self.init(negative: bytes < 0, magnitude: Magnitude(bytes.magnitude), exponent: 0, format: format)
    }

    /// value * 10^scale: upstream's `NewScaledQuantity` (scale -3 is milli, 9 is giga), DecimalSI by default.
    public init(scaled value: Int64, scale: Int, format: Format = .decimalSI) {
        self.init(negative: value < 0, magnitude: Magnitude(value.magnitude), exponent: scale, format: format)
    }

    // MARK: Parsing

    /// Parses `<signedNumber><suffix>` exactly as apimachinery's `ParseQuantity`.
    /// Deviation: an exponent outside Int32 ("1e99999999999") is rejected with `.suffix`, where
    /// upstream silently truncates it to 32 bits.
    public init(parsing str: String) throws(QuantityError) {
        let b = Array(str.utf8)
        if b.isEmpty { throw .formatWrong }
        if str == "0" {
            self.init(negative: false, magnitude: .zero, exponent: 0, format: .decimalSI, cachedString: str)
            return
        }
        let scan = try Self.scan(b)
        guard let (base, suffixExponent, parsedFormat) = Self.interpret(scan.suffix) else { throw .suffix }
        var format = parsedFormat
        let num = scan.num.isEmpty ? [UInt8(ascii: "0")] : scan.num
        let denom = scan.denom

        // Upstream's int64 fast path. Its result equals the general path's whenever it applies; what it
        // decides on its own is whether the input string is kept as the canonical one.
        var precision = -1
        var scale = 0
        var multiplierShift = 0
        switch format {
        case .decimalExponent, .decimalSI:
            scale = suffixExponent
            precision = 19 - (num.count + denom.count)
        case .binarySI:
            if suffixExponent >= 0 && denom.isEmpty {
                multiplierShift = suffixExponent
                precision = 15 - num.count - Int(Float(suffixExponent) * 3 / 10) - 1
            }
        }
        if precision >= 0 {
            scale -= denom.count
            if scale >= -9, let value = Int64(String(decoding: num + denom, as: UTF8.self)),
               multiplierShift < 63, value <= Int64.max >> multiplierShift {
                let shifted = num + denom
                var canonical = false
                switch format {
                case .binarySI:
                    canonical = suffixExponent % 10 == 0 && value & 0x07 != 0
                default:
                    canonical = scale % 3 == 0 && !shifted.ends(with: Array("000".utf8)) && shifted[0] != UInt8(ascii: "0")
                }
                let m = Magnitude(UInt64(value) << UInt64(multiplierShift))
                self.init(negative: !scan.positive, magnitude: m, exponent: scale, format: format,
                          cachedString: canonical ? str : nil)
                return
            }
        }

        // General path (inf.Dec upstream).
        guard scan.valueHasDigits else { throw .numeric }
        var m = Magnitude(decimalDigits: num + denom)
        var e = -denom.count
        if base == 10 {
            e += suffixExponent
        } else {
            m.shiftLeft(by: suffixExponent)
        }
        // Round a non-zero value up (away from zero) to nano: "if you want some resources, you should
        // get some resources".
        if !m.isZero && e < -9 {
            let inexact = m.divideByPowerOfTen(-9 - e)
            if inexact { m.add(1) }
            e = -9
        }
        if format == .binarySI && Self.compareAbs(m, e, Magnitude(UInt64(Int64.max)), 0) > 0 {
            m = Magnitude(UInt64(Int64.max))
            e = 0
        }
        if format == .binarySI && !m.isZero && Self.compareAbs(m, e, Magnitude(1), 0) < 0 {
            format = .decimalSI
        }
        self.init(negative: !scan.positive, magnitude: m, exponent: e, format: format)
    }

    private struct Scanned {
        var positive = true
        var valueHasDigits = false
        var num: [UInt8] = []     // integer digits without leading zeros
        var denom: [UInt8] = []   // fraction digits
        var suffix: [UInt8] = []
    }

    /// parseQuantityString: sign, digits, optional fraction, then a suffix of [eEinumkKMGTP]*[-+]?[0-9]*.
    private static func scan(_ b: [UInt8]) throws(QuantityError) -> Scanned {
        var r = Scanned()
        var pos = 0
        let end = b.count
        if b[0] == UInt8(ascii: "-") { r.positive = false; pos = 1 } else if b[0] == UInt8(ascii: "+") { pos = 1 }
        while pos < end && b[pos] == UInt8(ascii: "0") { pos += 1; r.valueHasDigits = true }
        if pos >= end { r.valueHasDigits = true; return r }
        let numStart = pos
        while pos < end && isDigit(b[pos]) { pos += 1 }
        r.num = Array(b[numStart..<pos])
        if pos < end && b[pos] == UInt8(ascii: ".") {
            pos += 1
            let denomStart = pos
            while pos < end && isDigit(b[pos]) { pos += 1 }
            r.denom = Array(b[denomStart..<pos])
        }
        r.valueHasDigits = r.valueHasDigits || !r.num.isEmpty || !r.denom.isEmpty
        let suffixStart = pos
        let suffixLetters = Set("eEinumkKMGTP".utf8)
        while pos < end && suffixLetters.contains(b[pos]) { pos += 1 }
        if pos < end && (b[pos] == UInt8(ascii: "-") || b[pos] == UInt8(ascii: "+")) { pos += 1 }
        while pos < end && isDigit(b[pos]) { pos += 1 }
        if pos < end { throw .formatWrong }
        r.suffix = Array(b[suffixStart..<end])
        return r
    }

    private static func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }

    private static let decimalSuffixes: [String: Int] = [
        "n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18,
    ]
    private static let binarySuffixes: [String: Int] = ["Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60]

    /// suffixer.interpret: (base, exponent, format), or nil for an unknown suffix.
    private static func interpret(_ suffixBytes: [UInt8]) -> (Int, Int, Format)? {
        let s = String(decoding: suffixBytes, as: UTF8.self)
        if let e = decimalSuffixes[s] { return (10, e, .decimalSI) }
        if let e = binarySuffixes[s] { return (2, e, .binarySI) }
        if suffixBytes.count > 1 && (suffixBytes[0] == UInt8(ascii: "e") || suffixBytes[0] == UInt8(ascii: "E")) {
            // strconv.ParseInt(s[1:], 10, 64): an optional sign, then at least one digit.
            var digits = suffixBytes[1...]
            var negative = false
            if let f = digits.first, f == UInt8(ascii: "+") || f == UInt8(ascii: "-") {
                negative = f == UInt8(ascii: "-")
                digits = digits.dropFirst()
            }
            guard !digits.isEmpty, digits.allSatisfy(isDigit) else { return nil }
            guard let v = Int32(String(decoding: digits, as: UTF8.self)) else { return nil }
            return (10, negative ? -Int(v) : Int(v), .decimalExponent)
        }
        return nil
    }

    // MARK: Printing

    /// The canonical string (`String()` upstream), or the parsed string when upstream keeps it.
    public var description: String {
        cachedString ?? canonicalString
    }

    /// CanonicalizeBytes: no precision lost, no fractional digits, the largest exponent or suffix.
    var canonicalString: String {
        if magnitude.isZero { return "0" }
        let sign = isNegative ? "-" : ""
        var format = format
        if format == .binarySI {
            if Self.compareAbs(magnitude, exponent, Magnitude(1024), 0) < 0 {
                // Between -1024 and 1024 exclusive: "avoids rounding and hopefully confusion".
                format = .decimalSI
            } else if exponent < 0 {
                // Not a whole number (the magnitude holds no factor of ten): don't lose precision.
                format = .decimalSI
            }
        }
        switch format {
        case .binarySI:
            var n = magnitude
            n.multiplyByPowerOfTen(exponent)
            var times = 0
            // Upstream removes every factor of 1024; past "Ei" it has no suffix and would print the
            // value 1024^k times too small. Stop at "Ei" instead (unreachable by parsing, which caps).
            while times < 6 {
                var q = n
                if q.divide(by: 1024) != 0 { break }
                n = q
                times += 1
            }
            let suffixes = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"]
            return sign + n.decimalString + suffixes[times]
        case .decimalSI, .decimalExponent:
            var m = magnitude
            var e = exponent
            let r = ((e % 3) + 3) % 3
            if r != 0 {
                m.multiplyByPowerOfTen(r)
                e -= r
            }
            let number = sign + m.decimalString
            if format == .decimalSI, let s = Self.decimalSuffixes.first(where: { $0.value == e })?.key {
                return number + s
            }
            // DecimalExponent, or a DecimalSI exponent past "E" (or below "n"): e-notation.
            return e == 0 ? number : number + "e\(e)"
        }
    }

    // MARK: Integer views

    /// Upstream's `Value()`: the value rounded up (away from zero) to an integer. Saturates at
    /// Int64.min/max where upstream's result is undefined. (Upstream rounds a negative fraction held
    /// in its big-decimal form toward +infinity instead; Cairn rounds every value away from zero, as
    /// upstream's common int64 form does.)
    public var value: Int64 { scaledValue(0) }

    /// Upstream's `MilliValue()`: ceil(value * 1000), saturating like `value`.
    public var milliValue: Int64 { scaledValue(-3) }

    /// Upstream's `ScaledValue(scale)`: value / 10^scale rounded away from zero, saturating.
    public func scaledValue(_ scale: Int) -> Int64 {
        if let v = exactScaledValue(scale) { return v }
        return isNegative ? Int64.min : Int64.max
    }

    /// A size in bytes: the value rounded up to a whole byte, as Kubernetes does with `Value()` when it
    /// provisions ("0.5" asks for 1 byte, "1.5k" for 1500). Nil when that does not fit an Int64.
    /// Zero and negative values are returned as they are: whether they are acceptable (a storage request
    /// must be greater than zero) is the caller's decision, worded by the caller.
    public var bytes: Int64? { exactScaledValue(0) }

    /// value / 10^scale rounded away from zero, or nil when it does not fit an Int64.
    func exactScaledValue(_ scale: Int) -> Int64? {
        if magnitude.isZero { return 0 }
        var m = magnitude
        let e = exponent - scale
        if e >= 0 {
            if m.decimalDigitCount + e > 20 { return nil }
            m.multiplyByPowerOfTen(e)
        } else {
            let inexact: Bool
            if -e > m.decimalDigitCount {
                m = .zero
                inexact = true
            } else {
                inexact = m.divideByPowerOfTen(-e)
            }
            if inexact { m.add(1) }
        }
        guard let u = m.uint64 else { return nil }
        if isNegative {
            if u <= UInt64(Int64.max) { return -Int64(u) }
            return u == UInt64(Int64.max) + 1 ? Int64.min : nil
        }
        return u <= UInt64(Int64.max) ? Int64(u) : nil
    }

    public var isZero: Bool { magnitude.isZero }

    /// -1, 0 or 1.
    public var sign: Int { magnitude.isZero ? 0 : (isNegative ? -1 : 1) }

    // MARK: Arithmetic (Add/Sub upstream: a zero left operand takes the right operand's format)

    public static func + (lhs: Quantity, rhs: Quantity) -> Quantity {
        let format = lhs.isZero ? rhs.format : lhs.format
        let e = min(lhs.exponent, rhs.exponent)
        var a = lhs.magnitude
        a.multiplyByPowerOfTen(lhs.exponent - e)
        var b = rhs.magnitude
        b.multiplyByPowerOfTen(rhs.exponent - e)
        if lhs.isNegative == rhs.isNegative {
            a.add(b)
            return Quantity(negative: lhs.isNegative, magnitude: a, exponent: e, format: format)
        }
        if a < b {
            b.subtract(a)
            return Quantity(negative: rhs.isNegative, magnitude: b, exponent: e, format: format)
        }
        a.subtract(b)
        return Quantity(negative: lhs.isNegative, magnitude: a, exponent: e, format: format)
    }

    public static prefix func - (q: Quantity) -> Quantity {
        Quantity(negative: !q.isNegative, magnitude: q.magnitude, exponent: q.exponent, format: q.format)
    }

    public static func - (lhs: Quantity, rhs: Quantity) -> Quantity {
        lhs + (-rhs)
    }

    public static func += (lhs: inout Quantity, rhs: Quantity) { lhs = lhs + rhs }
    public static func -= (lhs: inout Quantity, rhs: Quantity) { lhs = lhs - rhs }

    // MARK: Equality, ordering, hashing: by value only

    public static func == (lhs: Quantity, rhs: Quantity) -> Bool {
        lhs.isNegative == rhs.isNegative && lhs.exponent == rhs.exponent && lhs.magnitude == rhs.magnitude
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(isNegative)
        hasher.combine(exponent)
        hasher.combine(magnitude)
    }

    public static func < (lhs: Quantity, rhs: Quantity) -> Bool {
        if lhs.sign != rhs.sign { return lhs.sign < rhs.sign }
        let c = compareAbs(lhs.magnitude, lhs.exponent, rhs.magnitude, rhs.exponent)
        return lhs.isNegative ? c > 0 : c < 0
    }

    /// Compares |a * 10^ea| with |b * 10^eb|: -1, 0 or 1.
    static func compareAbs(_ a: Magnitude, _ ea: Int, _ b: Magnitude, _ eb: Int) -> Int {
        if a.isZero || b.isZero { return a.isZero ? (b.isZero ? 0 : -1) : 1 }
        if ea == eb { return a < b ? -1 : (a == b ? 0 : 1) }
        // Where the leading digit sits settles most comparisons without building 10^|ea-eb|.
        let la = a.decimalDigitCount + ea
        let lb = b.decimalDigitCount + eb
        if la != lb { return la < lb ? -1 : 1 }
        var x = a, y = b
        if ea > eb { x.multiplyByPowerOfTen(ea - eb) } else { y.multiplyByPowerOfTen(eb - ea) }
        return x < y ? -1 : (x == y ? 0 : 1)
    }

    // MARK: Codable

    /// Decodes a string ("1Gi") or a number (`storage: 1000` is accepted by Kubernetes too); JSON null
    /// is the zero quantity, as upstream's UnmarshalJSON makes it. Surrounding whitespace is trimmed.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .zero
            return
        }
        let text: String
        if let s = try? c.decode(String.self) {
            text = s
        } else if let i = try? c.decode(Int64.self) {
            text = String(i)
        } else if let d = try? c.decode(Decimal.self) {
            text = d.description
        } else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "quantity must be a string or a number")
        }
        do {
            self = try Quantity(parsing: text.trimmingCharacters(in: .whitespacesAndNewlines))
        } catch {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: error.description)
        }
    }

    /// Encodes the string form, as MarshalJSON does.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

extension Quantity: ExpressibleByStringLiteral {
    /// For literals in code and tests; an invalid literal is a programming error (MustParse).
    public init(stringLiteral value: String) {
        do {
            self = try Quantity(parsing: value)
        } catch {
            preconditionFailure("cannot parse '\(value)': \(error)")
        }
    }
}

/// The errors of ParseQuantity, with upstream's messages.
public enum QuantityError: Error, Sendable, Hashable, CustomStringConvertible {
    /// ErrFormatWrong.
    case formatWrong
    /// ErrNumeric.
    case numeric
    /// ErrSuffix.
    case suffix

    public static let regularExpression = "^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$"

    public var description: String {
        switch self {
        case .formatWrong: return "quantities must match the regular expression '\(Self.regularExpression)'"
        case .numeric: return "unable to parse numeric part of quantity"
        case .suffix: return "unable to parse quantity's suffix"
        }
    }
}

// MARK: - Magnitude

extension Quantity {
    /// A non-negative integer of any size: base 2^32 limbs, least significant first, no leading zero
    /// limbs. Just what Quantity needs; not a general big-number library.
    struct Magnitude: Sendable, Hashable, Comparable {
        private(set) var limbs: [UInt32]

        static let zero = Magnitude(limbs: [])

        private init(limbs: [UInt32]) {
            self.limbs = limbs
            normalize()
        }

        init(_ v: UInt64) {
            self.init(limbs: [UInt32(truncatingIfNeeded: v), UInt32(truncatingIfNeeded: v >> 32)])
        }

        /// ASCII decimal digits only.
        init(decimalDigits: [UInt8]) {
            self = .zero
            var i = 0
            while i < decimalDigits.count {
                let n = min(9, decimalDigits.count - i)
                var chunk: UInt32 = 0
                for d in decimalDigits[i..<(i + n)] { chunk = chunk * 10 + UInt32(d - UInt8(ascii: "0")) }
                multiply(by: Self.powersOfTen[n], adding: chunk)
                i += n
            }
        }

        static let powersOfTen: [UInt32] = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000,
                                            100_000_000, 1_000_000_000]

        var isZero: Bool { limbs.isEmpty }

        var uint64: UInt64? {
            switch limbs.count {
            case 0: return 0
            case 1: return UInt64(limbs[0])
            case 2: return UInt64(limbs[0]) | UInt64(limbs[1]) << 32
            default: return nil
            }
        }

        private mutating func normalize() {
            while let last = limbs.last, last == 0 { limbs.removeLast() }
        }

        mutating func multiply(by m: UInt32, adding a: UInt32 = 0) {
            var carry = UInt64(a)
            for i in limbs.indices {
                let p = UInt64(limbs[i]) * UInt64(m) + carry
                limbs[i] = UInt32(truncatingIfNeeded: p)
                carry = p >> 32
            }
            if carry != 0 { limbs.append(UInt32(carry)) }
            normalize()
        }

        /// Divides in place and returns the remainder.
        @discardableResult
        mutating func divide(by d: UInt32) -> UInt32 {
            var rem: UInt64 = 0
            for i in limbs.indices.reversed() {
                let cur = rem << 32 | UInt64(limbs[i])
                limbs[i] = UInt32(cur / UInt64(d))
                rem = cur % UInt64(d)
            }
            normalize()
            return UInt32(rem)
        }

        mutating func multiplyByPowerOfTen(_ n: Int) {
            var n = n
            while n >= 9 { multiply(by: Self.powersOfTen[9]); n -= 9 }
            if n > 0 { multiply(by: Self.powersOfTen[n]) }
        }

        /// Divides by 10^n, truncating; returns whether anything non-zero was dropped.
        mutating func divideByPowerOfTen(_ n: Int) -> Bool {
            var n = n
            var inexact = false
            while n > 0 && !isZero {
                let k = min(9, n)
                if divide(by: Self.powersOfTen[k]) != 0 { inexact = true }
                n -= k
            }
            return inexact
        }

        /// Strips trailing decimal zeros and returns how many there were.
        mutating func removeFactorsOfTen() -> Int {
            var count = 0
            while !isZero {
                var q = self
                if q.divide(by: 10) != 0 { break }
                self = q
                count += 1
            }
            return count
        }

        mutating func shiftLeft(by bits: Int) {
            guard !isZero, bits > 0 else { return }
            let words = bits / 32, rest = bits % 32
            if rest > 0 {
                var carry: UInt32 = 0
                for i in limbs.indices {
                    let v = limbs[i]
                    limbs[i] = v << UInt32(rest) | carry
                    carry = v >> UInt32(32 - rest)
                }
                if carry != 0 { limbs.append(carry) }
            }
            limbs.insert(contentsOf: repeatElement(0, count: words), at: 0)
        }

        mutating func add(_ other: Magnitude) {
            var carry: UInt64 = 0
            let n = max(limbs.count, other.limbs.count)
            limbs.reserveCapacity(n + 1)
            for i in 0..<n {
                let a = i < limbs.count ? UInt64(limbs[i]) : 0
                let b = i < other.limbs.count ? UInt64(other.limbs[i]) : 0
                let s = a + b + carry
                if i < limbs.count { limbs[i] = UInt32(truncatingIfNeeded: s) } else { limbs.append(UInt32(truncatingIfNeeded: s)) }
                carry = s >> 32
            }
            if carry != 0 { limbs.append(UInt32(carry)) }
        }

        mutating func add(_ small: UInt32) { add(Magnitude(UInt64(small))) }

        /// self -= other; other must not be larger.
        mutating func subtract(_ other: Magnitude) {
            var borrow: Int64 = 0
            for i in limbs.indices {
                var d = Int64(limbs[i]) - borrow - (i < other.limbs.count ? Int64(other.limbs[i]) : 0)
                if d < 0 { d += 1 << 32; borrow = 1 } else { borrow = 0 }
                limbs[i] = UInt32(d)
            }
            precondition(borrow == 0, "Magnitude.subtract: negative result")
            normalize()
        }

        var decimalString: String {
            if isZero { return "0" }
            if let u = uint64 { return String(u) }
        var chunks: [UInt32] = []
            var v = self
            while !v.isZero { chunks.append(v.divide(by: Self.powersOfTen[9])) }
            var s = String(chunks.removeLast())
            for c in chunks.reversed() {
                let t = String(c)
                s += String(repeating: "0", count: 9 - t.count) + t
            }
            return s
        }

        var decimalDigitCount: Int { isZero ? 1 : decimalString.utf8.count }

        static func < (a: Magnitude, b: Magnitude) -> Bool {
            if a.limbs.count != b.limbs.count { return a.limbs.count < b.limbs.count }
            for i in a.limbs.indices.reversed() where a.limbs[i] != b.limbs[i] {
                return a.limbs[i] < b.limbs[i]
            }
            return false
        }
    }
}

private extension Array where Element == UInt8 {
    func ends(with suffix: [UInt8]) -> Bool {
        count >= suffix.count && Array(self[(count - suffix.count)...]) == suffix
    }
}
