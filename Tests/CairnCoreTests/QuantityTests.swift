#if canImport(CairnCoreParts)
@testable import CairnCoreParts
#else
@testable import CairnCore
#endif
import Foundation
import Testing

// Tables ported from apimachinery pkg/api/resource/quantity_test.go; each names the upstream test.

private func q(_ s: String) -> Quantity { try! Quantity(parsing: s) }

/// decQuantity(i, exponent, format) upstream.
private func dec(_ i: Int64, _ exponent: Int, _ format: Quantity.Format) -> Quantity {
    Quantity(scaled: i, scale: exponent, format: format)
}

struct QuantityParseTests {
    /// TestQuantityParse: input, expected value as decQuantity(mantissa, exponent), expected format.
    static let parseTable: [(String, Int64, Int, Quantity.Format)] = [
        ("0", 0, 0, .decimalSI), ("0n", 0, 0, .decimalSI), ("0u", 0, 0, .decimalSI), ("0m", 0, 0, .decimalSI),
        ("0Ki", 0, 0, .binarySI), ("0k", 0, 0, .decimalSI), ("0Mi", 0, 0, .binarySI), ("0M", 0, 0, .decimalSI),
        ("0Gi", 0, 0, .binarySI), ("0G", 0, 0, .decimalSI), ("0Ti", 0, 0, .binarySI), ("0T", 0, 0, .decimalSI),
        // Quantity less numbers are allowed
        ("1", 1, 0, .decimalSI),
        // Binary suffixes
        ("1Ki", 1024, 0, .binarySI), ("8Ki", 8 * 1024, 0, .binarySI), ("7Mi", 7 << 20, 0, .binarySI),
        ("6Gi", 6 << 30, 0, .binarySI), ("5Ti", 5 << 40, 0, .binarySI), ("4Pi", 4 << 50, 0, .binarySI),
        ("3Ei", 3 << 60, 0, .binarySI), ("10Ti", 10 << 40, 0, .binarySI), ("100Ti", 100 << 40, 0, .binarySI),
        // Decimal suffixes
        ("5n", 5, -9, .decimalSI), ("4u", 4, -6, .decimalSI), ("3m", 3, -3, .decimalSI), ("9", 9, 0, .decimalSI),
        ("8k", 8, 3, .decimalSI), ("50k", 5, 4, .decimalSI), ("7M", 7, 6, .decimalSI), ("6G", 6, 9, .decimalSI),
        ("5T", 5, 12, .decimalSI), ("40T", 4, 13, .decimalSI), ("300T", 3, 14, .decimalSI), ("2P", 2, 15, .decimalSI),
        ("1E", 1, 18, .decimalSI),
        // Decimal exponents
        ("1E-3", 1, -3, .decimalExponent), ("1e3", 1, 3, .decimalExponent), ("1E6", 1, 6, .decimalExponent),
        ("1e9", 1, 9, .decimalExponent), ("1E12", 1, 12, .decimalExponent), ("1e15", 1, 15, .decimalExponent),
        ("1E18", 1, 18, .decimalExponent),
        // Nonstandard but still parsable
        ("1e14", 1, 14, .decimalExponent), ("1e13", 1, 13, .decimalExponent), ("100.035k", 100035, 0, .decimalSI),
        // Things that look like floating point
        ("0.001", 1, -3, .decimalSI), ("0.0005k", 5, -1, .decimalSI), ("0.005", 5, -3, .decimalSI),
        ("0.05", 5, -2, .decimalSI), ("0.5", 5, -1, .decimalSI), ("0.00050k", 5, -1, .decimalSI),
        ("0.00500", 5, -3, .decimalSI), ("0.05000", 5, -2, .decimalSI), ("0.50000", 5, -1, .decimalSI),
        ("0.5e0", 5, -1, .decimalExponent), ("0.5e-1", 5, -2, .decimalExponent), ("0.5e-2", 5, -3, .decimalExponent),
        ("10.035M", 10035, 3, .decimalSI),
        ("1.2e3", 12, 2, .decimalExponent), ("1.3E+6", 13, 5, .decimalExponent), ("1.40e9", 14, 8, .decimalExponent),
        ("1.53E12", 153, 10, .decimalExponent), ("1.6e15", 16, 14, .decimalExponent), ("1.7E18", 17, 17, .decimalExponent),
        ("9.01", 901, -2, .decimalSI), ("8.1k", 81, 2, .decimalSI), ("7.123456M", 7123456, 0, .decimalSI),
        ("6.987654321G", 6987654321, 0, .decimalSI), ("5.444T", 5444, 9, .decimalSI), ("40.1T", 401, 11, .decimalSI),
        ("300.2T", 3002, 11, .decimalSI), ("2.5P", 25, 14, .decimalSI), ("1.01E", 101, 16, .decimalSI),
        // Things that saturate/round
        ("3.001n", 4, -9, .decimalSI), ("1.1E-9", 2, -9, .decimalExponent), ("0.0000000001", 1, -9, .decimalSI),
        ("0.0000000005", 1, -9, .decimalSI), ("0.00000000050", 1, -9, .decimalSI), ("0.5e-9", 1, -9, .decimalExponent),
        ("0.9n", 1, -9, .decimalSI), ("0.00000012345", 124, -9, .decimalSI), ("0.00000012354", 124, -9, .decimalSI),
        ("9Ei", Int64.max, 0, .binarySI), ("9223372036854775807Ki", Int64.max, 0, .binarySI),
        ("12E", 12, 18, .decimalSI),
        // We'll accept fractional binary stuff, too.
        ("100.035Ki", 10243584, -2, .binarySI), ("0.5Mi", 512 * 1024, 0, .binarySI),
        ("0.05Gi", 536870912, -1, .binarySI), ("0.025Ti", 274877906944, -1, .binarySI),
        // Things written by trolls
        ("0.000000000001Ki", 2, -9, .decimalSI),  // rounds up, changes format
        (".001", 1, -3, .decimalSI), (".0001k", 100, -3, .decimalSI), ("1.", 1, 0, .decimalSI), ("1.G", 1, 9, .decimalSI),
    ]

    @Test(arguments: parseTable)
    func parses(input: String, mantissa: Int64, exponent: Int, format: Quantity.Format) throws {
        let expected = dec(mantissa, exponent, format)
        let got = try Quantity(parsing: input)
        #expect(got == expected, "\(input): got \(got)")
        #expect(got.format == format, "\(input)")
    }

    /// The same table negated, as upstream does.
    @Test(arguments: parseTable)
    func parsesNegated(input: String, mantissa: Int64, exponent: Int, format: Quantity.Format) throws {
        let got = try Quantity(parsing: "-" + input)
        #expect(got == -dec(mantissa, exponent, format), "-\(input): got \(got)")
        #expect(got.format == format)
    }

    /// And with an explicit "+".
    @Test(arguments: parseTable)
    func parsesWithPlus(input: String, mantissa: Int64, exponent: Int, format: Quantity.Format) throws {
        let got = try Quantity(parsing: "+" + input)
        #expect(got == dec(mantissa, exponent, format), "+\(input): got \(got)")
        #expect(got.format == format)
    }

    /// TestQuantityParse's invalid list, plus cases for each error, with upstream's messages.
    @Test(arguments: [
        ("", QuantityError.formatWrong),
        ("1.1.M", .formatWrong), ("1+1.0M", .formatWrong), ("0.1mi", .suffix), ("0.1am", .formatWrong),
        ("aoeu", .formatWrong), (".5i", .suffix), ("1i", .suffix), ("-3.01i", .suffix), ("-3.01e-", .suffix),
        (" 1", .formatWrong), ("1 ", .formatWrong),  // whitespace is forbidden
        ("Non-Numeric", .formatWrong), ("1e", .suffix), ("1kK", .suffix), ("1Ki5", .suffix), ("1gi", .formatWrong),
        ("1KiB", .formatWrong), ("1GB", .formatWrong), ("1e+", .suffix), ("1e1.5", .formatWrong),
        ("e-10", .numeric), (".e-10", .numeric), ("-.n0", .suffix), ("1e99999999999", .suffix),
    ] as [(String, QuantityError)])
    func rejects(input: String, error: QuantityError) {
        #expect(throws: error) { try Quantity(parsing: input) }
    }

    @Test func errorMessagesAreUpstreams() {
        #expect(QuantityError.formatWrong.description
            == "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")
        #expect(QuantityError.numeric.description == "unable to parse numeric part of quantity")
        #expect(QuantityError.suffix.description == "unable to parse quantity's suffix")
    }

    /// TestParseQuantityString's odd inputs that still parse.
    @Test(arguments: [(".", "0"), ("-.", "0"), ("+", "0"), ("-0", "0"), ("000", "0"), ("k", "0"), ("Ki", "0"),
                      ("e3", "0"), ("1E-3", "1E-3")] as [(String, String)])
    func oddButValid(input: String, printed: String) throws {
        #expect(try Quantity(parsing: input).description == printed)
    }

    /// Values past int64 stay exact in decimal forms; binary ones are capped at 2^63-1 (upstream #140674).
    @Test func largeValues() throws {
        #expect(q("18446744073709551616").description == "18446744073709551616")
        #expect(q("9223372036854775808").description == "9223372036854775808")
        #expect(q("12E").description == "12E")
        #expect(q("12E") > q("9223372036854775807"))
        #expect(q("8Ei").description == "9223372036854775807")
        #expect(q("8Ei").value == Int64.max)
        #expect(q("7Ei").description == "7Ei")
        #expect(q("7Ei").value == 7 << 60)
        #expect(q("1Ei") + q("1Ei") == q("2Ei"))
        let eight = q("4Ei") + q("4Ei")
        #expect(eight.description == "8Ei")
        #expect(eight == q("9223372036854775808"))
        #expect(eight.bytes == nil)
        #expect(q("1e21").description == "1e21")
        #expect(q("1000E").description == "1e21")
        #expect(q("1.2345").description == "1234500u")
        #expect(q("123456789012345678901234567890").description == "123456789012345678901234567890")
    }
}

struct QuantityStringTests {
    /// TestQuantityString: the quantity, its canonical string, and another spelling that parses to it.
    static let table: [(Quantity, String, String)] = [
        (dec(1024 * 1024 * 1024, 0, .binarySI), "1Gi", "1024Mi"),
        (dec(300 * 1024 * 1024, 0, .binarySI), "300Mi", "307200Ki"),
        (dec(6 * 1024, 0, .binarySI), "6Ki", ""),
        (dec(1001 * 1024 * 1024 * 1024, 0, .binarySI), "1001Gi", "1025024Mi"),
        (dec(1024 * 1024 * 1024 * 1024, 0, .binarySI), "1Ti", "1024Gi"),
        (dec(5, 0, .binarySI), "5", "5000m"),
        (dec(500, -3, .binarySI), "500m", "0.5"),
        (dec(1, 9, .decimalSI), "1G", "1000M"),
        (dec(1000, 6, .decimalSI), "1G", "0.001T"),
        (dec(1000000, 3, .decimalSI), "1G", ""),
        (dec(1000000000, 0, .decimalSI), "1G", ""),
        (dec(1, -3, .decimalSI), "1m", "1000u"),
        (dec(80, -3, .decimalSI), "80m", ""),
        (dec(1080, -3, .decimalSI), "1080m", "1.08"),
        (dec(108, -2, .decimalSI), "1080m", "1080000000n"),
        (dec(10800, -4, .decimalSI), "1080m", ""),
        (dec(300, 6, .decimalSI), "300M", ""),
        (dec(1, 12, .decimalSI), "1T", ""),
        (dec(1, 18, .decimalSI), "1E", ""),
        (dec(1, 21, .decimalSI), "1e21", "1000E"),
        (dec(5, 21, .decimalSI), "5e21", "5000E"),
        (dec(1, 24, .decimalSI), "1e24", "1000000E"),
        (dec(1234567, 6, .decimalSI), "1234567M", ""),
        (dec(1234567, -3, .binarySI), "1234567m", ""),
        (dec(3, 3, .decimalSI), "3k", ""),
        (dec(1025, 0, .binarySI), "1025", ""),
        (dec(0, 0, .decimalSI), "0", ""),
        (dec(0, 0, .binarySI), "0", ""),
        (dec(1, 9, .decimalExponent), "1e9", ".001e12"),
        (dec(1, -3, .decimalExponent), "1e-3", "0.001e0"),
        (dec(1, -9, .decimalExponent), "1e-9", "1000e-12"),
        (dec(80, -3, .decimalExponent), "80e-3", ""),
        (dec(300, 6, .decimalExponent), "300e6", ""),
        (dec(1, 12, .decimalExponent), "1e12", ""),
        (dec(1, 3, .decimalExponent), "1e3", ""),
        (dec(3, 3, .decimalExponent), "3e3", ""),
        (dec(0, 0, .decimalExponent), "0", "00"),
        (dec(1, -9, .decimalSI), "1n", ""),
        (dec(80, -9, .decimalSI), "80n", ""),
        (dec(1080, -9, .decimalSI), "1080n", ""),
        (dec(108, -8, .decimalSI), "1080n", ""),
        (dec(10800, -10, .decimalSI), "1080n", ""),
        (dec(1, -6, .decimalSI), "1u", ""),
        (dec(80, -6, .decimalSI), "80u", ""),
        (dec(1080, -6, .decimalSI), "1080u", ""),
    ]

    @Test(arguments: table)
    func canonical(quantity: Quantity, expected: String, alternate: String) throws {
        #expect(quantity.description == expected)
        let reparsed = try Quantity(parsing: expected)
        #expect(reparsed.description == expected)
        #expect(reparsed == quantity)
        if !alternate.isEmpty {
            let alt = try Quantity(parsing: alternate)
            #expect(alt.description == expected, "\(alternate)")
            #expect(alt.cachedString == nil, "\(alternate) must not be kept verbatim")
        }
        if !quantity.isZero {
            #expect((-quantity).description == "-" + expected)
        }
    }

    /// TestQuantityParseEmit, and the examples Cairn's brief and quantity.go's comment give.
    @Test(arguments: [
        ("1Ki", "1Ki"), ("1Mi", "1Mi"), ("1Gi", "1Gi"), ("1024Mi", "1Gi"), ("1000M", "1G"),
        (".001Ki", "1024m"), (".000001Ki", "1024u"), (".000000001Ki", "1024n"), (".000000000001Ki", "2n"),
        ("1G", "1G"), ("1.5Gi", "1536Mi"), ("0.5", "500m"), ("1e9", "1e9"), ("100m", "100m"), ("1.5", "1500m"),
        ("1536", "1536"), ("1000", "1k"), ("1024", "1024"), ("2048Ki", "2Mi"), ("1.1Gi", "1181116006400m"),
        ("10Gi", "10Gi"), ("1500Mi", "1500Mi"), ("1e3", "1e3"), ("10e3", "10e3"), ("1e14", "100e12"),
        ("1.5e3", "1500"), ("1.1Ki", "1126400m"), ("1000m", "1"), ("0.1", "100m"), ("100Mi", "100Mi"),
        ("1025Ki", "1025Ki"), ("1023", "1023"), ("512Ki", "512Ki"), ("0.5Ki", "512"),
    ] as [(String, String)])
    func parseEmit(input: String, expected: String) throws {
        #expect(try Quantity(parsing: input).description == expected)
        let negative = try Quantity(parsing: "-" + input)
        #expect(negative.description == "-" + expected)
    }

    /// ParseQuantity keeps the input verbatim when it judges it canonical, and String() returns it:
    /// upstream prints these exactly so (kubernetes/kubernetes#138165 for the fractional ones).
    @Test(arguments: [
        ("+1", "+1"), ("01", "01"), ("+1Ki", "+1Ki"), ("1.001", "1.001"), ("1.500", "1.500"),
        ("1.500k", "1.500k"), ("007", "007"), ("0", "0"), ("-1", "-1"), ("10e3", "10e3"),
        // and what it does not keep
        ("1.0", "1"), ("1000", "1k"), ("0.5", "500m"), ("1024Ki", "1Mi"), ("+1000", "1k"),
    ] as [(String, String)])
    func keepsUpstreamsVerbatimStrings(input: String, printed: String) throws {
        let parsed = try Quantity(parsing: input)
        #expect(parsed.description == printed)
        #expect(parsed == (try Quantity(parsing: parsed.canonicalString)))
    }

    @Test func changingTheFormatDropsTheVerbatimString() throws {
        var x = try Quantity(parsing: "+1")
        #expect(x.description == "+1")
        x.format = .decimalSI
        #expect(x.description == "1")
        var y = try Quantity(parsing: "2048")
        y.format = .binarySI
        #expect(y.description == "2Ki")
    }

    /// TestNewSet, TestMilliNewSet and TestNewScaledSet: constructors, printing, and the value back.
    @Test(arguments: [
        (Int64(1), Quantity.Format.decimalSI, "1"), (1000, .decimalSI, "1k"), (1234000, .decimalSI, "1234k"),
        (1024, .binarySI, "1Ki"), (1000000, .decimalExponent, "1e6"), (1024 * 1024, .binarySI, "1Mi"),
    ] as [(Int64, Quantity.Format, String)])
    func newQuantity(value: Int64, format: Quantity.Format, expected: String) throws {
        let x = Quantity(bytes: value, format: format)
        #expect(x.description == expected)
        #expect(try Quantity(parsing: x.description).value == value)
    }

    @Test(arguments: [
        (Int64(1), Quantity.Format.decimalSI, "1m", true), (1000, .decimalSI, "1", true),
        (1234000, .decimalSI, "1234", true), (1024, .binarySI, "1024m", false),
        (1000000, .decimalExponent, "1e3", true), (1024 * 1024, .binarySI, "1048576m", false),
    ] as [(Int64, Quantity.Format, String, Bool)])
    func newMilliQuantity(value: Int64, format: Quantity.Format, expected: String, exact: Bool) throws {
        let x = Quantity(scaled: value, scale: -3, format: format)
        #expect(x.description == expected)
        if exact { #expect(try Quantity(parsing: x.description).milliValue == value) }
    }

    @Test(arguments: [
        (Int64(1), -9, "1n"), (1000, -9, "1u"), (1, -6, "1u"), (1000, -6, "1m"), (1, -3, "1m"), (1000, -3, "1"),
        (1, 0, "1"), (0, -9, "0"), (0, -6, "0"), (0, -3, "0"), (0, 0, "0"),
    ] as [(Int64, Int, String)])
    func newScaledQuantity(value: Int64, scale: Int, expected: String) throws {
        let x = Quantity(scaled: value, scale: scale)
        #expect(x.description == expected)
        #expect(try Quantity(parsing: x.description).scaledValue(scale) == value)
    }
}

struct QuantityValueTests {
    /// TestScaledValue: 1 at one scale read at another, rounding up.
    @Test(arguments: [
        (-9, -9, Int64(1)), (-9, -6, 1), (-9, -3, 1), (-9, 0, 1), (-6, -9, 1000), (-6, -6, 1), (-6, -3, 1), (-6, 0, 1),
        (-3, -9, 1000 * 1000), (-3, -6, 1000), (-3, -3, 1), (-3, 0, 1), (0, -9, 1000 * 1000 * 1000),
        (0, -6, 1000 * 1000), (0, -3, 1000), (0, 0, 1), (2, -2, 100 * 100),
    ] as [(Int, Int, Int64)])
    func scaledValue(from: Int, to: Int, expected: Int64) {
        #expect(Quantity(scaled: 1, scale: from).scaledValue(to) == expected)
    }

    /// Value() rounds up away from zero; `bytes` is that value when it fits an Int64.
    @Test(arguments: [
        ("1Gi", Int64(1 << 30), Int64(1 << 30) * 1000), ("1G", 1_000_000_000, 1_000_000_000_000),
        ("0.5", 1, 500), ("1.5k", 1500, 1_500_000), ("100m", 1, 100), ("1m", 1, 1), ("1n", 1, 1),
        ("1.1Ki", 1127, 1_126_400), ("-1.5", -2, -1500), ("-1n", -1, -1), ("0", 0, 0), ("1Ei", 1 << 60, Int64.max),
        ("9Ei", Int64.max, Int64.max), ("12E", Int64.max, Int64.max), ("-12E", Int64.min, Int64.min),
        ("9223372036854775807", Int64.max, Int64.max), ("-9223372036854775808", Int64.min, Int64.min),
        ("1e-20", 1, 1), ("1e400", Int64.max, Int64.max),
    ] as [(String, Int64, Int64)])
    func valueAndMilliValue(input: String, value: Int64, milli: Int64) {
        #expect(q(input).value == value)
        #expect(q(input).milliValue == milli)
    }

    @Test(arguments: [
        ("1Gi", Int64?.some(1 << 30)), ("0.5", 1), ("1.5", 2), ("0", 0), ("-1", -1), ("12E", nil),
        ("9223372036854775807", Int64.max), ("9223372036854775808", nil), ("8Ei", Int64.max), ("1e400", nil),
        ("100Ti", 100 << 40),
    ] as [(String, Int64?)])
    func bytes(input: String, expected: Int64?) {
        #expect(q(input).bytes == expected)
    }

    /// TestQuantityCmp, plus cross-format cases.
    @Test(arguments: [
        ("0", "0", 0), ("100m", "50m", 1), ("50m", "100m", -1), ("10000T", "100Gi", 1),
        ("1Gi", "1024Mi", 0), ("1G", "1000M", 0), ("1Gi", "1G", 1), ("-1", "1", -1), ("-2", "-1", -1),
        ("1e3", "1k", 0), ("0.001", "1m", 0), ("1n", "0", 1), ("12E", "8Ei", 1), ("1e-9", "1n", 0),
        ("1e100", "1e99", 1), ("-1e100", "-1e99", -1),
    ] as [(String, String, Int)])
    func compare(x: String, y: String, expected: Int) {
        let a = q(x), b = q(y)
        let got = a < b ? -1 : (a == b ? 0 : 1)
        #expect(got == expected, "\(x) vs \(y)")
        if expected == 0 { #expect(a.hashValue == b.hashValue) }
    }

    /// TestAdd and TestSub: a zero left operand takes the right operand's format.
    @Test func addAndSubtract() {
        #expect(dec(10, 0, .decimalSI) + dec(1, 1, .decimalSI) == dec(20, 0, .decimalSI))
        #expect((dec(10, 0, .decimalSI) + dec(1, 0, .binarySI)).format == .decimalSI)
        #expect((dec(10, 0, .binarySI) + dec(1, 0, .decimalSI)).format == .binarySI)
        #expect(Quantity.zero + dec(50, 0, .decimalSI) == dec(50, 0, .decimalSI))
        #expect((Quantity.zero + q("1Gi")).description == "1Gi")
        #expect((q("100m") + .zero).description == "100m")
        #expect(dec(10, 0, .decimalSI) - dec(1, 1, .decimalSI) == .zero)
        #expect(dec(10, 0, .decimalSI) - dec(1, 0, .binarySI) == dec(9, 0, .decimalSI))
        #expect(Quantity.zero - dec(50, 0, .decimalSI) == dec(-50, 0, .decimalSI))
        #expect((Quantity.zero - q("1Gi")).description == "-1Gi")
        #expect((q("1Gi") - q("512Mi")).description == "512Mi")
        #expect((q("1") - q("1.5")).description == "-500m")
        var total = Quantity.zero
        for s in ["1Gi", "512Mi", "512Mi"] { total += q(s) }
        #expect(total.description == "2Gi")
        total -= q("2Gi")
        #expect(total.isZero && total.sign == 0)
    }

    /// TestQuantityNeg.
    @Test func negate() {
        #expect((-dec(901, -2, .decimalSI)).description == "-9010m")
        #expect((-(-q("1Gi"))).description == "1Gi")
        #expect((-Quantity.zero).description == "0")
    }
}

struct QuantityCodingTests {
    struct Holder: Codable, Equatable {
        var storage: Quantity
    }

    private func decode(_ json: String) throws -> Quantity {
        try JSONDecoder().decode(Holder.self, from: Data(json.utf8)).storage
    }

    /// TestJSONWhitespace, numbers, and null.
    @Test(arguments: [
        (#"{"storage":" 1"}"#, "1"), (#"{"storage":"1 "}"#, "1"), (#"{"storage":1}"#, "1"),
        (#"{"storage": 1}"#, "1"), (#"{"storage":10}"#, "10"), (#"{"storage":-1}"#, "-1"),
        (#"{"storage":1000}"#, "1k"), (#"{"storage":"1Gi"}"#, "1Gi"), (#"{"storage":1.5}"#, "1500m"),
        (#"{"storage":0.001}"#, "1m"), (#"{"storage":null}"#, "0"), (#"{"storage":"+1"}"#, "+1"),
        (#"{"storage":10737418240}"#, "10737418240"),
    ] as [(String, String)])
    func decodes(json: String, printed: String) throws {
        #expect(try decode(json).description == printed)
    }

    @Test func rejectsBadStringsWithUpstreamsMessage() {
        do {
            _ = try decode(#"{"storage":"10 Gi"}"#)
            Issue.record("decoded a bad quantity")
        } catch let DecodingError.dataCorrupted(context) {
            #expect(context.debugDescription == QuantityError.formatWrong.description)
        } catch {
            Issue.record("unexpected error \(error)")
        }
        #expect(throws: DecodingError.self) { try decode(#"{"storage":"1Gb"}"#) }
        #expect(throws: DecodingError.self) { try decode(#"{"storage":true}"#) }
    }

    @Test func encodesTheStringForm() throws {
        let data = try JSONEncoder().encode(Holder(storage: q("1024Mi")))
        #expect(String(decoding: data, as: UTF8.self) == #"{"storage":"1Gi"}"#)
        let kept = try JSONEncoder().encode(Holder(storage: q("+1")))
        #expect(String(decoding: kept, as: UTF8.self) == #"{"storage":"+1"}"#)
    }

    /// TestJSON: round trips of generated quantities (deterministic, in place of upstream's fuzzer).
    @Test func roundTrips() throws {
        var rng = CoreTestRandom(seed: 42)
        for _ in 0..<500 {
            let x: Quantity
            switch rng.next() % 4 {
            case 0: x = Quantity(bytes: Int64(rng.next() >> 1), format: .binarySI)
            case 1: x = Quantity(bytes: Int64(rng.next() % 1024) << (10 * Int64(rng.next() % 5)), format: .binarySI)
            case 2: x = Quantity(scaled: Int64(rng.next() >> 1), scale: -Int(rng.next() % 4),
                                 format: rng.next() % 2 == 0 ? .decimalSI : .decimalExponent)
            default: x = Quantity(scaled: Int64(rng.next() % 1000), scale: Int(rng.next() % 15) - 3,
                                  format: rng.next() % 2 == 0 ? .decimalSI : .decimalExponent)
            }
            let data = try JSONEncoder().encode(Holder(storage: x))
            let back = try JSONDecoder().decode(Holder.self, from: data).storage
            #expect(back == x, "\(x) via \(String(decoding: data, as: UTF8.self))")
            #expect(back.description == x.description)
        }
    }

    @Test func literal() {
        let x: Quantity = "10Gi"
        #expect(x.bytes == 10 << 30)
    }
}

/// A small seeded generator for repeatable tests.
struct CoreTestRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
