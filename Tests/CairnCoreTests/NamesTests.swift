#if canImport(CairnCoreParts)
@testable import CairnCoreParts
#else
@testable import CairnCore
#endif
import Testing

// Tables ported from apimachinery pkg/util/validation/validation_test.go.

private let a63 = String(repeating: "a", count: 63)
private let a64 = String(repeating: "a", count: 64)

struct NamesTests {
    static let labelGoodValues = ["a", "ab", "abc", "a1", "a-1", "a--1--2--b", "0", "01", "012", "1a", "1-a", "1--a--b--2", a63]
    static let labelBadValues = [
        "", "A", "ABC", "aBc", "A1", "A-1", "1-A", "-", "a-", "-a", "1-", "-1", "_", "a_", "_a", "a_b", "1_", "_1", "1_2",
        ".", "a.", ".a", "a.b", "1.", ".1", "1.2", " ", "a ", " a", "a b", "1 ", " 1", "1 2", a64, "é", "ab\u{0}",
    ]

    @Test(arguments: labelGoodValues) func dns1123LabelGood(_ v: String) { #expect(Names.isDNS1123Label(v) == []) }
    @Test(arguments: labelBadValues) func dns1123LabelBad(_ v: String) { #expect(Names.isDNS1123Label(v) != []) }

    static let subdomainGoodValues = [
        "a", "ab", "abc", "a1", "a-1", "a--1--2--b", "0", "01", "012", "1a", "1-a", "1--a--b--2",
        "a.a", "ab.a", "abc.a", "a1.a", "a-1.a", "a--1--2--b.a", "a.1", "ab.1", "abc.1", "a1.1", "a-1.1", "a--1--2--b.1",
        "0.a", "01.a", "012.a", "1a.a", "1-a.a", "1--a--b--2", "0.1", "01.1", "012.1", "1a.1", "1-a.1", "1--a--b--2.1",
        "a.b.c.d.e", "aa.bb.cc.dd.ee", "1.2.3.4.5", "11.22.33.44.55", String(repeating: "a", count: 253),
    ]
    static let subdomainBadValues = [
        "", "A", "ABC", "aBc", "A1", "A-1", "1-A", "-", "a-", "-a", "1-", "-1", "_", "a_", "_a", "a_b", "1_", "_1", "1_2",
        ".", "a.", ".a", "a..b", "1.", ".1", "1..2", " ", "a ", " a", "a b", "1 ", " 1", "1 2",
        "A.a", "aB.a", "ab.A", "A1.a", "a1.A", "A.1", "aB.1", "A1.1", "1A.1", "0.A", "01.A", "012.A", "1A.a", "1a.A",
        "A.B.C.D.E", "AA.BB.CC.DD.EE", "a.B.c.d.e", "aa.bB.cc.dd.ee", "a@b", "a,b", "a_b", "a;b", "a:b", "a%b", "a?b",
        "a$b", String(repeating: "a", count: 254),
    ]

    @Test(arguments: subdomainGoodValues) func dns1123SubdomainGood(_ v: String) { #expect(Names.isDNS1123Subdomain(v) == []) }
    @Test(arguments: subdomainBadValues) func dns1123SubdomainBad(_ v: String) { #expect(Names.isDNS1123Subdomain(v) != []) }

    static let dns1035GoodValues = ["a", "ab", "abc", "a1", "a-1", "a--1--2--b", a63]
    static let dns1035BadValues = [
        "0", "01", "012", "1a", "1-a", "1--a--b--2", "", "A", "ABC", "aBc", "A1", "A-1", "1-A", "-", "a-", "-a", "1-", "-1",
        "_", "a_", "_a", "a_b", "1_", "_1", "1_2", ".", "a.", ".a", "a.b", "1.", ".1", "1.2", " ", "a ", " a", "a b",
        "1 ", " 1", "1 2", a64,
    ]

    @Test(arguments: dns1035GoodValues) func dns1035Good(_ v: String) { #expect(Names.isDNS1035Label(v) == []) }
    @Test(arguments: dns1035BadValues) func dns1035Bad(_ v: String) { #expect(Names.isDNS1035Label(v) != []) }

    static let qualifiedGoodValues = [
        "simple", "now-with-dashes", "1-starts-with-num", "1234", "simple/simple", "now-with-dashes/simple",
        "now-with-dashes/now-with-dashes", "now.with.dots/simple", "now-with.dashes-and.dots/simple", "1-num.2-num/3-num",
        "1234/5678", "1.2.3.4/5678", "Uppercase_Is_OK_123", "example.com/Uppercase_Is_OK_123", "requests.storage-foo",
        a63, String(repeating: "a", count: 253) + "/" + String(repeating: "b", count: 63),
        "app.kubernetes.io/name", "kubernetes.io/hostname", "volume.kubernetes.io/selected-node",
    ]
    static let qualifiedBadValues = [
        "nospecialchars%^=@", "cantendwithadash-", "-cantstartwithadash-", "only/one/slash", "Example.com/abc",
        "example_com/abc", "example.com/", "/simple", a64, String(repeating: "a", count: 254) + "/abc", "", "/",
    ]

    @Test(arguments: qualifiedGoodValues) func qualifiedNameGood(_ v: String) { #expect(Names.isQualifiedName(v) == []) }
    @Test(arguments: qualifiedBadValues) func qualifiedNameBad(_ v: String) { #expect(Names.isQualifiedName(v) != []) }

    static let labelValueGoodValues = ["simple", "now-with-dashes", "1-starts-with-num", "end-with-num-1", "1234", a63, "", "a_b.c"]
    static let labelValueBadValues = [
        "nospecialchars%^=@", "Tama-nui-te-rā.is.Māori.sun", "\\backslashes\\are\\bad", "-starts-with-dash",
        "ends-with-dash-", ".starts.with.dot", "ends.with.dot.", a64,
    ]

    @Test(arguments: labelValueGoodValues) func labelValueGood(_ v: String) { #expect(Names.isValidLabelValue(v) == []) }
    @Test(arguments: labelValueBadValues) func labelValueBad(_ v: String) { #expect(Names.isValidLabelValue(v) != []) }

    static let labelMsg = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
    static let subdomainMsg = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
    static let nameMsg = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"

    /// The exact words, since Cairn's messages must read as the API server's.
    @Test(arguments: [
        ("label", "My_Name", [labelMsg]),
        ("label", "a.b", ["must not contain dots"]),
        ("label", a64, ["must be no more than 63 characters"]),
        ("label", String(repeating: "A", count: 64), ["must be no more than 63 characters", labelMsg]),
        ("subdomain", "A", [subdomainMsg]),
        ("subdomain", String(repeating: "a", count: 254), ["must be no more than 253 characters"]),
        ("1035", "1abc", ["a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"]),
        ("qualified", "only/one/slash", ["a qualified name " + nameMsg + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"]),
        ("qualified", "example.com/", ["name part must be non-empty", "name part " + nameMsg]),
        ("qualified", "/simple", ["prefix part must be non-empty"]),
        ("qualified", "Example.com/abc", ["prefix part " + subdomainMsg]),
        ("qualified", "-x", ["name part " + nameMsg]),
        ("qualified", a64, ["name part must be no more than 63 characters"]),
        ("value", "-bad", ["a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"]),
        ("value", a64, ["must be no more than 63 characters"]),
    ] as [(String, String, [String])])
    func messages(check: String, value: String, expected: [String]) {
        let got: [String]
        switch check {
        case "label": got = Names.isDNS1123Label(value)
        case "subdomain": got = Names.isDNS1123Subdomain(value)
        case "1035": got = Names.isDNS1035Label(value)
        case "qualified": got = Names.isQualifiedName(value)
        default: got = Names.isValidLabelValue(value)
        }
        #expect(got == expected)
    }
}

struct RandomSuffixTests {
    /// Always returns the same 64-bit word, so the 5-bit groups taken are known.
    struct Fixed: RandomNumberGenerator {
        var word: UInt64
        mutating func next() -> UInt64 { word }
    }

    /// Packs 5-bit indexes into an Int63 the way utilrand reads them (lowest bits first), then shifts
    /// left once because Int63 is the generator's word >> 1.
    private func word(_ indexes: [UInt64]) -> UInt64 {
        var r: UInt64 = 0
        for (i, idx) in indexes.enumerated() { r |= idx << UInt64(5 * i) }
        return r << 1
    }

    @Test(arguments: [
        ([UInt64(0), 1, 2, 3, 4], 5, "bcdfg"),
        ([31, 27, 0, 1, 2, 3, 4], 5, "bcdfg"),                     // indexes past the alphabet are skipped
        ([26, 25, 0, 0, 0], 3, "98b"),
        (Array(0...11), 13, "bcdfghjklmnpb"),                     // 12 letters per Int63, then a new one
        ([0], 0, ""),
    ] as [([UInt64], Int, String)])
    func followsUtilrand(indexes: [UInt64], length: Int, expected: String) {
        var g = Fixed(word: word(indexes))
        #expect(Names.randomSuffix(length: length, using: &g) == expected)
    }

    @Test func seededIsRepeatableAndUsesTheAlphabet() {
        var g1 = CoreTestRandom(seed: 7), g2 = CoreTestRandom(seed: 7)
        let alphabet = Set("bcdfghjklmnpqrstvwxz2456789")
        for _ in 0..<200 {
            let a = Names.randomSuffix(using: &g1)
            #expect(a == Names.randomSuffix(using: &g2))
            #expect(a.count == 5)
            #expect(a.allSatisfy(alphabet.contains))
            #expect(Names.isDNS1123Label("web-" + a) == [])
        }
        #expect(Names.randomSuffix().count == 5)
        #expect(Names.randomSuffix(length: 12).count == 12)
    }

    @Test func generateNameCutsTheBase() {
        var g = CoreTestRandom(seed: 1)
        let name = Names.generateName(base: String(repeating: "x", count: 70), using: &g)
        #expect(name.utf8.count == 63)
        #expect(name.hasPrefix(String(repeating: "x", count: 58)))
        let short = Names.generateName(base: "web-")
        #expect(short.hasPrefix("web-") && short.count == 9)
    }
}
