import CairnCore
import CairnManifest
import Foundation
import Testing

/// The tree decoder must decode exactly what Foundation's JSONDecoder decodes, and refuse what it refuses.
@Suite struct JSONTreeDecoderTests {
    /// Every example and seed manifest, defaulted (as stored): the same typed object both ways.
    @Test func decodesEveryManifestAsFoundationDoes() throws {
        var checked = 0
        for doc in try DefaultingTests.manifests() {
            guard case .success(let object) = ObjectDecoding.decodeAny(doc.json) else { continue }
            let defaulted = Defaulting.apply(object)
            let stored = try JSONValue(encoding: defaulted)
            let (viaTree, viaFoundation) = try Self.bothWays(defaulted, stored)
            #expect(viaTree == viaFoundation, "\(doc.source)")
            checked += 1
        }
        #expect(checked >= 3)
    }

    static func bothWays<T: KubeObject>(_ sample: T, _ stored: JSONValue) throws -> (JSONValue, JSONValue) {
        let tree = try JSONTreeDecoder().decode(T.self, from: stored)
        let foundation = try JSONDecoder().decode(T.self, from: Data(stored.jsonText().utf8))
        // Encoded both ways too: the tree encoder must make what parsing Foundation's text makes.
        let viaFoundation = try JSONText.parse(JSONCoding.encoder.encode(foundation))
        #expect(try JSONTreeEncoder().encode(tree) == viaFoundation)
        return (try JSONTreeEncoder().encode(tree), viaFoundation)
    }

    struct Sample: Codable, Equatable {
        var name: String
        var count: Int32?
        var ratio: Double?
        var flags: [Bool]?
        var extra: JSONValue?
        var nested: [String: [Int64]]?
        var labels: [String: String]?
        var words: [String]?
    }

    /// Numbered cases: the input, and the value (nil: the decoder must throw).
    @Test func scalarsAreAsStrictAsFoundations() throws {
        let cases: [(String, Sample?)] = [
            /* 1 */ (#"{"name":"a"}"#, Sample(name: "a")),
            /* 2 */ (#"{"name":"a","count":3,"ratio":2,"flags":[true,false]}"#, Sample(name: "a", count: 3, ratio: 2, flags: [true, false])),
            /* 3 */ (#"{"name":"a","count":null,"extra":{"k":[1,"x",null]}}"#, Sample(name: "a", extra: ["k": [1, "x", .null]])),
            /* 4 */ (#"{"name":"a","nested":{"x":[1,2]}}"#, Sample(name: "a", nested: ["x": [1, 2]])),
            /* 5 */ (#"{"name":3}"#, nil),
            /* 6 */ (#"{"count":3}"#, nil),
            /* 7 */ (#"{"name":"a","count":"3"}"#, nil),
            /* 8 */ (#"{"name":"a","count":4294967296}"#, nil),
            /* 9 */ (#"{"name":"a","flags":[1]}"#, nil),
            /* 10 */ (#"{"name":"a","ratio":"1.5"}"#, nil),
            /* 11 */ (#"[]"#, nil),
            /* 12 */ (#"{"name":"a","labels":{"k":"v","l":""},"words":["x","y"]}"#, Sample(name: "a", labels: ["k": "v", "l": ""], words: ["x", "y"])),
            /* 13 */ (#"{"name":"a","labels":{"k":1}}"#, nil),
            /* 14 */ (#"{"name":"a","words":["x",null]}"#, nil),
            /* 15 */ (#"{"name":"a","labels":[]}"#, nil),
            /* 16 */ (#"{"name":"a","ratio":1.5,"extra":[1.25,-3,"s",{"b":false}]}"#, Sample(name: "a", ratio: 1.5, extra: [.double(1.25), -3, "s", ["b": false]])),
        ]
        for (i, c) in cases.enumerated() {
            let tree = try JSONText.parse(c.0)
            let foundation = try? JSONDecoder().decode(Sample.self, from: Data(c.0.utf8))
            #expect(foundation == c.1, "case \(i + 1): Foundation")
            #expect((try? JSONTreeDecoder().decode(Sample.self, from: tree)) == c.1, "case \(i + 1): tree")
            if let value = c.1 {
                #expect(try JSONTreeEncoder().encode(value) == JSONText.parse(JSONCoding.encoder.encode(value)), "case \(i + 1): encoded")
            }
        }
    }
}

