@testable import CairnCLICore
import CairnCore
import Testing

/// kubectl's JSONPath (k8s.io/client-go/util/jsonpath): each case is a template, the object it runs
/// on, and what kubectl 1.32 prints (or the error it reports).
struct JSONPathTests {
    static let list = try! JSONValue.parse(#"""
    {"kind": "List", "apiVersion": "v1", "items": [
      {"kind": "PersistentVolumeClaim", "metadata": {"name": "data-0", "namespace": "default",
        "labels": {"app": "db", "kubernetes.io/part-of": "shop"}},
       "spec": {"resources": {"requests": {"storage": "1Gi"}}, "accessModes": ["ReadWriteOnce"]},
       "status": {"phase": "Bound", "capacity": {"storage": "1Gi"}}},
      {"kind": "PersistentVolumeClaim", "metadata": {"name": "data-1", "namespace": "default",
        "labels": {"app": "db"}},
       "spec": {"resources": {"requests": {"storage": "500Mi"}}, "accessModes": ["ReadWriteOnce", "ReadOnlyMany"]},
       "status": {"phase": "Pending"}},
      {"kind": "PersistentVolumeClaim", "metadata": {"name": "logs", "namespace": "web"},
       "spec": {"resources": {"requests": {"storage": "2G"}}},
       "status": {"phase": "Bound", "capacity": {"storage": "2G"}, "ready": true, "replicas": 3, "ratio": 0.5}}
    ]}
    """#)

    static let cases: [(Int, String, String)] = [
        (1, "{.items[*].metadata.name}", "data-0 data-1 logs"),
        (2, "{.items[0].metadata.name}", "data-0"),
        (3, "{.items[-1].metadata.name}", "logs"),
        (4, "{.items[0:2].metadata.name}", "data-0 data-1"),
        (5, "{.items[1:].metadata.name}", "data-1 logs"),
        (6, "{.items[::2].metadata.name}", "data-0 logs"),
        (7, "{.items[0,2].metadata.name}", "data-0 logs"),
        (8, #"{.items[?(@.status.phase=="Bound")].metadata.name}"#, "data-0 logs"),
        (9, #"{.items[?(@.status.phase!="Bound")].metadata.name}"#, "data-1"),
        (10, "{.items[?(@.status.capacity)].metadata.name}", "data-0 logs"),
        (11, "{range .items[*]}{.metadata.name}{\"\\t\"}{.status.phase}{\"\\n\"}{end}", "data-0\tBound\ndata-1\tPending\nlogs\tBound\n"),
        (12, "{..phase}", "Bound Pending Bound"),
        (13, "{.items[0].metadata.labels}", #"{"app":"db","kubernetes.io/part-of":"shop"}"#),
        (14, #"{.items[0].metadata.labels.kubernetes\.io/part-of}"#, "shop"),
        (15, "{.items[0].metadata.labels['app']}", "db"),
        (16, "{.items[1].spec.accessModes}", #"["ReadWriteOnce","ReadOnlyMany"]"#),
        (17, "{.items[1].spec.accessModes[*]}", "ReadWriteOnce ReadOnlyMany"),
        (18, "{.items[2].status.ready} {.items[2].status.replicas} {.items[2].status.ratio}", "true 3 0.5"),
        (19, "names: {.items[*].metadata.name}.", "names: data-0 data-1 logs."),
        (20, "{.items[*].nothing}", ""),
        (21, "{.kind}{\"/\"}{.apiVersion}", "List/v1"),
        (22, "{range .items[*]}[{.metadata.name}, {.status.capacity}] {end}", #"[data-0, {"storage":"1Gi"}] [data-1, ] [logs, {"storage":"2G"}] "#),
        (23, "{.items[?(@.status.replicas>2)].metadata.name}", "logs"),
        (24, "{.items[?(@.status.ready==true)].metadata.name}", "logs"),
        (25, "{range .items[*]}{range .spec.accessModes[*]}{@}, {end}{end}", "ReadWriteOnce, ReadWriteOnce, ReadOnlyMany, "),
        (26, "{.items[*]['metadata.name', 'status.phase']}", "data-0 data-1 logs Bound Pending Bound"),
        (27, "{.items[0:0].metadata.name}", ""),
        (28, "{'{'}{.kind}{'}'}", "{List}"),
        (29, "no actions at all", "no actions at all"),
        (30, "{@.kind}", "List"),
        (31, "{$.kind}", "List"),
        (32, "{.items[?(@.metadata.labels.app==\"db\")].spec.resources.requests.storage}", "1Gi 500Mi"),
        (33, "{.items[2].metadata}", #"{"name":"logs","namespace":"web"}"#),
    ]

    @Test(arguments: cases)
    func prints(_ n: Int, _ template: String, _ expected: String) throws {
        let path = try JSONPath(template)
        #expect(try path.execute(Self.list) == expected, "case \(n): \(template)")
    }

    static let executionErrors: [(Int, String, String)] = [
        (1, "{.items[5].metadata.name}", "array index out of bounds: index 5, length 3"),
        (2, "{.items[-4]}", "array index out of bounds: index -1, length 3"),
        (3, "{.items[2:1]}", "starting index 2 is greater than ending index 1"),
        (4, "{.items[0:3:0]}", "step must be > 0"),
        (5, "{.kind[0]}", "string is not array or slice"),
        (6, "{.items[0].metadata[0]}", "map[string]interface {} is not array or slice"),
        (7, "{end}", "not in range, nothing to end"),
        (8, "{hello}", "unrecognized identifier hello"),
        (9, "{.items[?(@.status.replicas==\"3\")]}", "incompatible types for comparison"),
        (10, "{.items[?(@.status.ready<true)]}", "invalid type for comparison"),
        (11, "{.items[?(@.status.phase<>\"x\")]}", "unrecognized filter operator <>"),
    ]

    @Test(arguments: executionErrors)
    func failsToExecute(_ n: Int, _ template: String, _ message: String) throws {
        let path = try JSONPath(template)
        #expect(throws: JSONPathError(message), "case \(n): \(template)") { try path.execute(Self.list) }
    }

    static let parseErrors: [(Int, String, String)] = [
        (1, "{.items", "unclosed action"),
        (2, "{.items[0}", "unterminated array"),
        (3, "{.items[?(@.x==1}", "unterminated filter"),
        (4, "{.items[a]}", "invalid array index a"),
        (5, "{\"abc}", "unterminated quoted string"),
        (6, "{(}", "unrecognized character in action: U+0028 '('"),
        (7, "{.......a}", "invalid multiple recursive descent"),
        (8, "{.items[?(@.x==1)}", "unclosed array expect ]"),
    ]

    @Test(arguments: parseErrors)
    func failsToParse(_ n: Int, _ template: String, _ message: String) {
        #expect(throws: JSONPathError(message), "case \(n): \(template)") { try JSONPath(template) }
    }

    @Test func missingKeysFailWhenNotAllowed() throws {
        let strict = try JSONPath("{.items[0].nothing}", allowMissingKeys: false)
        #expect(throws: JSONPathError("nothing is not found")) { try strict.execute(Self.list) }
        // An empty range still walks its body once, so a strict template still reports the missing key.
        let empty = try JSONValue.parse(#"{"items": []}"#)
        #expect(try JSONPath("{range .items[*]}{.metadata.name}{end}").execute(empty) == "")
        let strictRange = try JSONPath("{range .items[*]}{.metadata.name}{end}", allowMissingKeys: false)
        #expect(throws: JSONPathError("metadata is not found")) { try strictRange.execute(empty) }
    }

    @Test func asJSONPrintsEachActionAsAnIndentedArray() throws {
        let path = try JSONPath("{.items[0].metadata.name}{.items[2].status.capacity}")
        #expect(try path.executeAsJSON(Self.list) == "[\n    \"data-0\"\n]\n[\n    {\n        \"storage\": \"2G\"\n    }\n]\n")
    }

    @Test func nullPrintsAsNull() throws {
        let v = try JSONValue.parse(#"[{"x": null, "id": "i7"}]"#)
        #expect(try JSONPath("{[-1]['x']}").execute(v) == "null")
        #expect(try JSONPath("{[?(@.id)].id}").execute(v) == "i7")
    }
}

struct GoFormatTests {
    static let values: [(Int, JSONValue, String, String)] = [
        // case, value, fmt.Sprint, json.Marshal
        (1, .string("a<b&c>"), "a<b&c>", #""a\u003cb\u0026c\u003e""#),
        (2, .int(42), "42", "42"),
        (3, .double(0.5), "0.5", "0.5"),
        (4, .double(1_000_000), "1e+06", "1000000"),
        (5, .double(123456.5), "123456.5", "123456.5"),
        (6, .double(0.00001), "1e-05", "0.00001"),
        (7, .double(1e21), "1e+21", "1e+21"),
        (8, .bool(true), "true", "true"),
        (9, .null, "<nil>", "null"),
        (10, .array([.string("a"), .int(1)]), "[a 1]", #"["a",1]"#),
        (11, .object(["b": .int(1), "a": .object(["c": .string("d")])]), "map[a:map[c:d] b:1]", #"{"a":{"c":"d"},"b":1}"#),
        (12, .double(-2.25), "-2.25", "-2.25"),
    ]

    @Test(arguments: values)
    func printsAsGo(_ n: Int, _ v: JSONValue, _ sprint: String, _ marshal: String) {
        #expect(GoFormat.sprint(v) == sprint, "case \(n)")
        #expect(GoFormat.marshal(v) == marshal, "case \(n)")
    }
}
