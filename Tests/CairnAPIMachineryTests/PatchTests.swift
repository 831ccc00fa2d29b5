@testable import CairnAPIMachinery
import CairnCore
import Testing

func json(_ s: String) -> JSONValue { try! JSONValue.parse(s) }

struct JSONMergePatchTests {
    /// RFC 7386 appendix A, then evanphx/json-patch's handling of nulls in replaced values.
    static let cases: [(Int, String, String, String)] = [
        (1, #"{"a":"b"}"#, #"{"a":"c"}"#, #"{"a":"c"}"#),
        (2, #"{"a":"b"}"#, #"{"b":"c"}"#, #"{"a":"b","b":"c"}"#),
        (3, #"{"a":"b"}"#, #"{"a":null}"#, #"{}"#),
        (4, #"{"a":"b","b":"c"}"#, #"{"a":null}"#, #"{"b":"c"}"#),
        (5, #"{"a":["b"]}"#, #"{"a":"c"}"#, #"{"a":"c"}"#),
        (6, #"{"a":"c"}"#, #"{"a":["b"]}"#, #"{"a":["b"]}"#),
        (7, #"{"a":{"b":"c"}}"#, #"{"a":{"b":"d","c":null}}"#, #"{"a":{"b":"d"}}"#),
        (8, #"{"a":[{"b":"c"}]}"#, #"{"a":[1]}"#, #"{"a":[1]}"#),
        (9, #"{"e":null}"#, #"{"a":1}"#, #"{"e":null,"a":1}"#),
        (10, #"{}"#, #"{"a":{"bb":{"ccc":null}}}"#, #"{"a":{"bb":{}}}"#),
        // 11. A new member's nested nulls are pruned; an array's null elements stay.
        (11, #"{}"#, #"{"a":[null,{"x":null,"y":1}]}"#, #"{"a":[null,{"y":1}]}"#),
        // 12. An object replacing a scalar is pruned; an array replacing an object is not.
        (12, #"{"a":1}"#, #"{"a":{"b":null,"c":2}}"#, #"{"a":{"c":2}}"#),
        (13, #"{"a":{"b":1}}"#, #"{"a":[{"x":null}]}"#, #"{"a":[{"x":null}]}"#),
        // 14. kubectl label/annotate: metadata.labels merged, one removed.
        (14, #"{"metadata":{"name":"p","labels":{"app":"x","tier":"db"}}}"#, #"{"metadata":{"labels":{"tier":null,"env":"prod"}}}"#,
         #"{"metadata":{"name":"p","labels":{"app":"x","env":"prod"}}}"#),
        // 15. A top-level array patch becomes the document (its decode then fails as Invalid).
        (15, #"{"a":1}"#, #"[1,{"b":null}]"#, #"[1,{}]"#),
    ]

    @Test(arguments: cases)
    func table(_ c: (Int, String, String, String)) throws {
        #expect(try JSONMergePatch.apply(json(c.2), to: json(c.1)) == json(c.3), "case \(c.0)")
    }

    @Test func nullAndScalarPatchesAreBadRequests() {
        for patch in ["null", "5", #""x""#, "true"] {
            #expect(throws: Status.badRequest("Invalid JSON Patch")) { try JSONMergePatch.apply(json(patch), to: json("{}")) }
        }
    }

    @Test func invalidJSONBodyIsBadRequest() {
        #expect(throws: Status.badRequest("invalid JSON patch")) { try PatchType.parseJSONBody(Array("{nope".utf8)) }
    }

    @Test func patchTypes() throws {
        #expect(try PatchType(contentType: "application/merge-patch+json; charset=utf-8") == .merge)
        #expect(try PatchType(contentType: "application/strategic-merge-patch+json") == .strategic)
        #expect(try PatchType(contentType: "application/json-patch+json") == .json)
        #expect(try PatchType(contentType: "application/apply-patch+yaml") == .apply)
        do {
            _ = try PatchType(contentType: "text/plain")
            Issue.record("text/plain accepted")
        } catch {
            #expect(error.code == 415)
            #expect(error.reason == .unsupportedMediaType)
        }
    }
}

struct JSONPatchTests {
    /// RFC 6902 appendix A (where the library agrees), then kubectl's usual patches.
    static let applies: [(Int, String, String, String)] = [
        (1, #"{"foo":"bar"}"#, #"[{"op":"add","path":"/baz","value":"qux"}]"#, #"{"baz":"qux","foo":"bar"}"#),
        (2, #"{"foo":["bar","baz"]}"#, #"[{"op":"add","path":"/foo/1","value":"qux"}]"#, #"{"foo":["bar","qux","baz"]}"#),
        (3, #"{"baz":"qux","foo":"bar"}"#, #"[{"op":"remove","path":"/baz"}]"#, #"{"foo":"bar"}"#),
        (4, #"{"foo":["bar","qux","baz"]}"#, #"[{"op":"remove","path":"/foo/1"}]"#, #"{"foo":["bar","baz"]}"#),
        (5, #"{"baz":"qux","foo":"bar"}"#, #"[{"op":"replace","path":"/baz","value":"boo"}]"#, #"{"baz":"boo","foo":"bar"}"#),
        (6, #"{"foo":{"bar":"baz","waldo":"fred"},"qux":{"corge":"grault"}}"#, #"[{"op":"move","from":"/foo/waldo","path":"/qux/thud"}]"#,
         #"{"foo":{"bar":"baz"},"qux":{"corge":"grault","thud":"fred"}}"#),
        (7, #"{"foo":["all","grass","cows","eat"]}"#, #"[{"op":"move","from":"/foo/1","path":"/foo/3"}]"#, #"{"foo":["all","cows","eat","grass"]}"#),
        (8, #"{"baz":"qux","foo":["a",2,"c"]}"#, #"[{"op":"test","path":"/baz","value":"qux"},{"op":"test","path":"/foo/1","value":2}]"#,
         #"{"baz":"qux","foo":["a",2,"c"]}"#),
        (9, #"{"foo":"bar"}"#, #"[{"op":"add","path":"/child","value":{"grandchild":{}}}]"#, #"{"foo":"bar","child":{"grandchild":{}}}"#),
        (10, #"{"foo":["bar"]}"#, #"[{"op":"add","path":"/foo/-","value":["abc","def"]}]"#, #"{"foo":["bar",["abc","def"]]}"#),
        (11, #"{"/":9,"~1":10}"#, #"[{"op":"test","path":"/~01","value":10},{"op":"test","path":"/~1","value":9}]"#, #"{"/":9,"~1":10}"#),
        (12, #"{"a":{"b":1}}"#, #"[{"op":"copy","from":"/a","path":"/c"}]"#, #"{"a":{"b":1},"c":{"b":1}}"#),
        // 13. The library's quirks, kept: negative indices count from the end ...
        (13, #"{"a":[1,2,3]}"#, #"[{"op":"remove","path":"/a/-1"}]"#, #"{"a":[1,2]}"#),
        // 14. ... replace of a missing object member adds it ...
        (14, #"{"a":1}"#, #"[{"op":"replace","path":"/b","value":2}]"#, #"{"a":1,"b":2}"#),
        // 15. ... an absent value is null, and whatever precedes the first slash is ignored ("a/b" is "/b").
        (15, #"{"a":{"c":1}}"#, #"[{"op":"add","path":"a/b"}]"#, #"{"a":{"c":1},"b":null}"#),
        // 16. kubectl patch --type=json on a StatefulSet.
        (16, #"{"spec":{"replicas":1,"template":{"spec":{"containers":[{"name":"c","image":"a"}]}}}}"#,
         #"[{"op":"replace","path":"/spec/replicas","value":3},{"op":"replace","path":"/spec/template/spec/containers/0/image","value":"b"}]"#,
         #"{"spec":{"replicas":3,"template":{"spec":{"containers":[{"name":"c","image":"b"}]}}}}"#),
        (17, #"{"metadata":{"labels":{"a.b/c":"x"}}}"#, #"[{"op":"remove","path":"/metadata/labels/a.b~1c"}]"#, #"{"metadata":{"labels":{}}}"#),
        (18, #"{"a":null}"#, #"[{"op":"test","path":"/a","value":null},{"op":"test","path":"/missing","value":null}]"#, #"{"a":null}"#),
        (19, #"{"a":1}"#, #"[{"op":"test","path":"/a","value":1.0}]"#, #"{"a":1}"#),
        // 20. Replacing the whole document with a scalar is ignored (json-patch.v4 wraps a nil error).
        (20, #"{"a":1}"#, #"[{"op":"replace","path":"","value":3}]"#, #"{"a":1}"#),
        (21, #"{"a":1}"#, #"[{"op":"replace","path":"","value":{"b":2}}]"#, #"{"b":2}"#),
    ]

    @Test(arguments: applies)
    func table(_ c: (Int, String, String, String)) throws {
        #expect(try JSONPatch(json(c.2)).apply(to: json(c.1)) == json(c.3), "case \(c.0)")
    }

    /// The library's error text for each failure; kube-apiserver answers all of them with a bare 422.
    static let failures: [(Int, String, String, String)] = [
        (1, #"{"foo":"bar"}"#, #"[{"op":"add","path":"/baz/bat","value":"qux"}]"#,
         #"add operation does not apply: doc is missing path: "/baz/bat": missing value"#),
        (2, #"{"baz":"qux"}"#, #"[{"op":"test","path":"/baz","value":"bar"}]"#, "testing value /baz failed: test failed"),
        (3, #"{"foo":["bar","baz"]}"#, #"[{"op":"add","path":"/foo/3","value":"x"}]"#,
         "error in add for path: '/foo/3': Unable to access invalid index: 3: invalid index referenced"),
        (4, #"{"a":1}"#, #"[{"op":"remove","path":"/b"}]"#, "error in remove for path: '/b': Unable to remove nonexistent key: b: missing value"),
        (5, #"{"a":[1]}"#, #"[{"op":"replace","path":"/a/x","value":1}]"#, "replace operation does not apply: doc is missing key: /a/x: missing value"),
        (6, #"{"a":1}"#, #"[{"op":"frob","path":"/a"}]"#, "Unexpected kind: frob"),
        (7, #"{"a":1}"#, #"[{"path":"/a"}]"#, "Unexpected kind: unknown"),
        (8, #"{"a":1}"#, #"[{"op":"move","from":"/x","path":"/a"}]"#, "error in move for path: 'x': Unable to remove nonexistent key: x: missing value"),
        (9, #"{"a":[1]}"#, #"[{"op":"add","path":"/a/q","value":1}]"#,
         #"error in add for path: '/a/q': value was not a proper array index: 'q': strconv.Atoi: parsing "q": invalid syntax"#),
        (10, #"{"a":"s"}"#, #"[{"op":"add","path":"/a/b","value":1}]"#, #"add operation does not apply: doc is missing path: "/a/b": missing value"#),
        (11, #"{"a":1}"#, #"[{"op":"add","value":1}]"#, "add operation failed to decode path: missing value"),
        (12, #"{"a":1}"#, #"[{"op":"add","path":"b","value":1}]"#, #"add operation does not apply: doc is missing path: "b": missing value"#),
    ]

    @Test(arguments: failures)
    func failure(_ c: (Int, String, String, String)) throws {
        let original = json(c.1)
        do {
            _ = try JSONPatch(json(c.2)).apply(to: original)
            Issue.record("case \(c.0) applied")
        } catch {
            #expect(error.message == c.3, "case \(c.0)")
            #expect(error.status.code == 422)
            #expect(error.status.reason == .invalid)
            #expect(error.status.message == "the server rejected our request due to an error in our request")
        }
    }

    @Test func decodeErrors() {
        #expect(throws: JSONPatchError.badRequest("json: cannot unmarshal object into Go value of type jsonpatch.Patch")) {
            try JSONPatch(json(#"{"op":"add"}"#))
        }
        #expect(throws: JSONPatchError.badRequest("json: cannot unmarshal string into Go value of type jsonpatch.Operation")) {
            try JSONPatch(json(#"["add"]"#))
        }
        let many = JSONValue.array(Array(repeating: ["op": "test", "path": "/a", "value": 1], count: maximumJSONPatchOperations + 1))
        do {
            _ = try JSONPatch(many)
            Issue.record("too many operations accepted")
        } catch {
            #expect(error.status.code == 413)
            #expect(error.status.message == "The allowed maximum operations in a JSON patch is 10000, got 10001")
        }
    }

    @Test func strictErrorsNameUnknownMembers() throws {
        let patch = try JSONPatch(json(#"[{"op":"add","path":"/a","value":1,"valu":2}]"#))
        #expect(patch.strictErrors == [#"json patch unknown field "[0].valu""#])
    }
}
