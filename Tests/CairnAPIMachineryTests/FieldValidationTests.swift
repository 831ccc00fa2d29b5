@testable import CairnAPIMachinery
import CairnCore
import Testing

struct FieldValidationTests {
    /// Unknown and duplicate fields in document order, with full paths (numbered cases).
    static let cases: [(Int, Kind, String, [String])] = [
        (1, .statefulSet, #"{"apiVersion":"apps/v1","kind":"StatefulSet","metadata":{"name":"s"},"spec":{"replicas":1,"foo":2,"replicas":3,"template":{"spec":{"containers":[]}}}}"#,
         [#"unknown field "spec.foo""#, #"duplicate field "spec.replicas""#]),
        (2, .pod, #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","labels":{"a":"1","a":"2"}},"spec":{"containers":[{"name":"c","imag":"x","bar":{"baz":1}}]}}"#,
         [#"duplicate field "metadata.labels.a""#, #"unknown field "spec.containers[0].imag""#, #"unknown field "spec.containers[0].bar""#]),
        // 3. Beneath an opaque field (env is kept as given) nothing is unknown; beneath an unknown one nothing is looked at.
        (3, .pod, #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"c","env":[{"name":"A","whatever":1}]}],"colour":{"x":1,"x":2}}}"#,
         [#"unknown field "spec.colour""#]),
        // 4. The lesson's typo.
        (4, .pod, #"{"piVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"c"}]}}"#,
         [#"unknown field "piVersion""#]),
        (5, .persistentVolumeClaim, #"{"apiVersion":"v1","kind":"PersistentVolumeClaim","metadata":{"name":"c"},"spec":{"resources":{"requests":{"storage":"1Gi","storage":"2Gi"}}}}"#,
         [#"duplicate field "spec.resources.requests.storage""#]),
        (6, .service, #"{"apiVersion":"v1","kind":"Service","metadata":{"name":"s"},"spec":{"anything":{"goes":true}}}"#, []),
        (7, .statefulSet, #"{"apiVersion":"apps/v1","kind":"StatefulSet","metadata":{"name":"s"},"spec":{"template":{"spec":{"containers":[]}},"volumeClaimTemplates":[{"metadata":{"name":"v"},"spec":{"storageClass":"x"}}]}}"#,
         [#"unknown field "spec.volumeClaimTemplates[0].spec.storageClass""#]),
    ]

    @Test(arguments: cases)
    func issues(_ c: (Int, Kind, String, [String])) throws {
        #expect(try StrictDecoding.issues(in: Array(c.2.utf8), kind: c.1).map(\.description) == c.3, "case \(c.0)")
    }

    @Test func messagesAsKubeAPIServerWordsThem() throws {
        let issues = try StrictDecoding.issues(in: Array(Self.cases[0].2.utf8), kind: .statefulSet)
        let status = StrictDecoding.bodyError(kind: .statefulSet, issues)
        #expect(status.code == 400)
        #expect(status.reason == .badRequest)
        #expect(status.message == #"StatefulSet in version "v1" cannot be handled as a StatefulSet: strict decoding error: unknown field "spec.foo", duplicate field "spec.replicas""#)
        #expect(StrictDecoding.warningHeaders(issues.map(\.description)) == [#"299 - "unknown field \"spec.foo\"""#, #"299 - "duplicate field \"spec.replicas\"""#])

        let patched = StrictDecoding.patchError(value: #"{"spec":{"foo":1}}"#, [#"unknown field "spec.foo""#])
        #expect(patched.code == 422)
        #expect(patched.message == #" "" is invalid: patch: Invalid value: "{\"spec\":{\"foo\":1}}": strict decoding error: unknown field "spec.foo""#)
        #expect(patched.details?.causes?.first?.field == "patch")
    }

    /// A patched object that does not decode: Invalid on "patch", no kind or name, so kubectl prints
    /// "The request is invalid: patch: Invalid value: ...".
    @Test func undecodablePatchedObject() {
        let status = StrictDecoding.patchDecodeError(value: "map[spec:map[replicas:three]]",
                                                     [FieldError.invalid("spec.replicas", string: "three", "expected an integer, got string")])
        #expect(status.code == 422)
        #expect(status.reason == .invalid)
        #expect(status.message == #" "" is invalid: patch: Invalid value: "map[spec:map[replicas:three]]": spec.replicas: expected an integer, got string"#)
        #expect(status.details?.kind == "" && status.details?.name == "")
        #expect(status.details?.causes?.map(\.field) == ["patch"])
    }

    @Test func unknownFieldsOfAPatchedObject() {
        let obj = json(#"{"apiVersion":"v1","kind":"Node","metadata":{"name":"n","lables":{"a":"b"}},"spec":{"unschedulable":true,"taints":[{"key":"k"}]}}"#)
        #expect(StrictDecoding.unknownFields(of: obj, kind: .node).map(\.description) == [#"unknown field "metadata.lables""#])
    }

    @Test func directive() throws {
        #expect(try FieldValidation(query: nil, options: "CreateOptions") == .warn)
        #expect(try FieldValidation(query: "Strict", options: "CreateOptions") == .strict)
        do {
            _ = try FieldValidation(query: "strict", options: "PatchOptions")
            Issue.record("lower-case accepted")
        } catch {
            #expect(error.code == 422)
            #expect(error.message == #"PatchOptions.meta.k8s.io "" is invalid: fieldValidation: Unsupported value: "strict": supported values: "Ignore", "Strict", "Warn""#)
        }
    }

    /// The key scan in CairnCore: order, paths and duplicates.
    @Test func keyOccurrences() throws {
        let found = try JSONText.keyOccurrences(Array(#"{"a":1,"b":[{"c":2},{"c":3,"c":4}],"a":{"d":null}}"#.utf8))
        #expect(found.map { ObjectDecoding.joinPath($0.path) } == ["a", "b", "b[0].c", "b[1].c", "b[1].c", "a", "a.d"])
        #expect(found.map(\.isDuplicate) == [false, false, false, false, true, true, false])
        #expect(throws: JSONText.SyntaxError.self) { try JSONText.keyOccurrences(Array(#"{"a":}"#.utf8)) }
    }
}
