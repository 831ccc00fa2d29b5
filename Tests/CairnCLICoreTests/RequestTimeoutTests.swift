import CairnCLICore
import Testing

@Suite struct RequestTimeoutTests {
    @Test(arguments: [("0", nil), ("", nil), ("5", 5.0), ("30s", 30.0), ("1m30s", 90.0), ("2h", 7200.0), ("500ms", 0.5)] as [(String, Double?)])
    func parses(_ text: String, _ seconds: Double?) throws {
        #expect(try RequestTimeout.parse(text) == seconds)
    }

    @Test func refusesWhatIsNoDuration() {
        #expect(throws: RequestTimeout.Invalid.self) { try RequestTimeout.parse("soon") }
        #expect(throws: RequestTimeout.Invalid.self) { try RequestTimeout.parse("5 days") }
    }
}
