/// Name and label syntax checks from apimachinery `pkg/util/validation/validation.go`, and the random
/// suffix of `generateName` (`pkg/util/rand`, `names.SimpleNameGenerator`).
///
/// Each check returns upstream's messages, empty when the value is valid. Lengths are counted in UTF-8
/// bytes, as Go's `len` does; the character classes are ASCII, so any other byte fails the pattern.
public enum Names {
    public static let dns1123LabelMaxLength = 63
    public static let dns1123SubdomainMaxLength = 253
    public static let dns1035LabelMaxLength = 63
    public static let qualifiedNameMaxLength = 63
    public static let labelValueMaxLength = 63

    static let dns1123LabelFmt = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
    static let dns1123LabelErrMsg = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character"
    static let dns1123SubdomainFmt = dns1123LabelFmt + "(\\." + dns1123LabelFmt + ")*"
    static let dns1123SubdomainErrMsg = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character"
    static let dns1035LabelFmt = "[a-z]([-a-z0-9]*[a-z0-9])?"
    static let dns1035LabelErrMsg = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character"
    static let qualifiedNameFmt = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
    static let qualifiedNameErrMsg = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
    static let labelValueFmt = "(" + qualifiedNameFmt + ")?"
    static let labelValueErrMsg = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"

    /// IsDNS1123Label: namespaces, container and volume names.
    public static func isDNS1123Label(_ value: String) -> [String] {
        var errs: [String] = []
        let b = Array(value.utf8)
        if b.count > dns1123LabelMaxLength { errs.append(maxLenError(dns1123LabelMaxLength)) }
        if !matchesDNS1123Label(b[...]) {
            if matchesDNS1123Subdomain(b) {
                // A valid subdomain but not a label: the length was checked, so it must be dots.
                errs.append("must not contain dots")
            } else {
                errs.append(regexError(dns1123LabelErrMsg, dns1123LabelFmt, "my-name", "123-abc"))
            }
        }
        return errs
    }

    /// IsDNS1123Subdomain: most object names (PersistentVolume, claim, StorageClass, Pod, ...).
    public static func isDNS1123Subdomain(_ value: String) -> [String] {
        var errs: [String] = []
        let b = Array(value.utf8)
        if b.count > dns1123SubdomainMaxLength { errs.append(maxLenError(dns1123SubdomainMaxLength)) }
        if !matchesDNS1123Subdomain(b) {
            errs.append(regexError(dns1123SubdomainErrMsg, dns1123SubdomainFmt, "example.com"))
        }
        return errs
    }

    /// IsDNS1035Label: Service names.
    public static func isDNS1035Label(_ value: String) -> [String] {
        var errs: [String] = []
        let b = Array(value.utf8)
        if b.count > dns1035LabelMaxLength { errs.append(maxLenError(dns1035LabelMaxLength)) }
        if !(matchesDNS1123Label(b[...]) && isLower(b[0])) {
            errs.append(regexError(dns1035LabelErrMsg, dns1035LabelFmt, "my-name", "abc-123"))
        }
        return errs
    }

    /// IsQualifiedName: label and annotation keys, `[prefix/]name` with a DNS subdomain prefix.
    public static func isQualifiedName(_ value: String) -> [String] {
        var errs: [String] = []
        let parts = value.split(separator: "/", omittingEmptySubsequences: false)
        let name: Substring
        switch parts.count {
        case 1:
            name = parts[0]
        case 2:
            let prefix = parts[0]
            name = parts[1]
            if prefix.isEmpty {
                errs.append("prefix part " + emptyError)
            } else {
                errs += isDNS1123Subdomain(String(prefix)).map { "prefix part " + $0 }
            }
        default:
            return ["a qualified name " + regexError(qualifiedNameErrMsg, qualifiedNameFmt, "MyName", "my.name", "123-abc")
                + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"]
        }
        let b = Array(name.utf8)
        if b.isEmpty {
            errs.append("name part " + emptyError)
        } else if b.count > qualifiedNameMaxLength {
            errs.append("name part " + maxLenError(qualifiedNameMaxLength))
        }
        if !matchesQualifiedName(b) {
            errs.append("name part " + regexError(qualifiedNameErrMsg, qualifiedNameFmt, "MyName", "my.name", "123-abc"))
        }
        return errs
    }

    /// IsValidLabelValue: empty, or a qualified-name-shaped string of at most 63 bytes.
    public static func isValidLabelValue(_ value: String) -> [String] {
        var errs: [String] = []
        let b = Array(value.utf8)
        if b.count > labelValueMaxLength { errs.append(maxLenError(labelValueMaxLength)) }
        if !(b.isEmpty || matchesQualifiedName(b)) {
            errs.append(regexError(labelValueErrMsg, labelValueFmt, "MyValue", "my_value", "12345"))
        }
        return errs
    }

    /// MaxLenError.
    public static func maxLenError(_ length: Int) -> String {
        "must be no more than \(length) characters"
    }

    /// RegexError, with upstream's punctuation (note the double space before "or").
    public static func regexError(_ msg: String, _ fmt: String, _ examples: String...) -> String {
        if examples.isEmpty { return msg + " (regex used for validation is '" + fmt + "')" }
        var s = msg + " (e.g. "
        for (i, e) in examples.enumerated() {
            if i > 0 { s += " or " }
            s += "'" + e + "', "
        }
        return s + "regex used for validation is '" + fmt + "')"
    }

    /// EmptyError.
    public static let emptyError = "must be non-empty"

    // MARK: Random suffixes

    /// utilrand's alphabet: no vowels (no accidental words) and no confusable 0/1/3.
    public static let randomAlphabet = Array("bcdfghjklmnpqrstvwxz2456789".utf8)

    /// utilrand.String(length) with the system generator.
    public static func randomSuffix(length: Int = 5) -> String {
        var g = SystemRandomNumberGenerator()
        return randomSuffix(length: length, using: &g)
    }

    /// utilrand.String(length): five bits at a time from 63-bit random numbers, skipping indexes past
    /// the 27-letter alphabet, as upstream does. Pass a seeded generator to make tests repeatable.
    public static func randomSuffix<G: RandomNumberGenerator>(length: Int = 5, using generator: inout G) -> String {
        let idxBits = 5
        let idxMask: UInt64 = 1 << idxBits - 1
        let perInt = 63 / idxBits
        var out: [UInt8] = []
        out.reserveCapacity(max(length, 0))
        var r = generator.next() >> 1  // Int63
        var remaining = perInt
        while out.count < length {
            if remaining == 0 {
                r = generator.next() >> 1
                remaining = perInt
            }
            let idx = Int(r & idxMask)
            if idx < randomAlphabet.count { out.append(randomAlphabet[idx]) }
            r >>= UInt64(idxBits)
            remaining -= 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// names.SimpleNameGenerator.GenerateName: `base` cut to 58 bytes, then 5 random characters
    /// (a ReplicaSet passes "<rs>-", giving "<rs>-x7k2p").
    public static func generateName<G: RandomNumberGenerator>(base: String, using generator: inout G) -> String {
        let maxBase = dns1123LabelMaxLength - 5
        var prefix = base
        if base.utf8.count > maxBase {
            prefix = String(decoding: Array(base.utf8.prefix(maxBase)), as: UTF8.self)
        }
        return prefix + randomSuffix(length: 5, using: &generator)
    }

    public static func generateName(base: String) -> String {
        var g = SystemRandomNumberGenerator()
        return generateName(base: base, using: &g)
    }

    // MARK: Matchers for the fixed patterns (no regex engine needed)

    private static func isLower(_ c: UInt8) -> Bool { c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z") }
    private static func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }
    private static func isAlnum(_ c: UInt8) -> Bool {
        isLower(c) || isDigit(c) || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z"))
    }

    /// ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$
    private static func matchesDNS1123Label(_ b: ArraySlice<UInt8>) -> Bool {
        guard let first = b.first, let last = b.last else { return false }
        let lowerAlnum = { (c: UInt8) in isLower(c) || isDigit(c) }
        return lowerAlnum(first) && lowerAlnum(last) && b.allSatisfy { lowerAlnum($0) || $0 == UInt8(ascii: "-") }
    }

    /// ^label(\.label)*$
    private static func matchesDNS1123Subdomain(_ b: [UInt8]) -> Bool {
        b.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false).allSatisfy(matchesDNS1123Label)
    }

    /// ^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$
    private static func matchesQualifiedName(_ b: [UInt8]) -> Bool {
        guard let first = b.first, let last = b.last else { return false }
        let ext = { (c: UInt8) in isAlnum(c) || c == UInt8(ascii: "-") || c == UInt8(ascii: "_") || c == UInt8(ascii: ".") }
        return isAlnum(first) && isAlnum(last) && b.allSatisfy(ext)
    }
}
