#if canImport(CairnCoreParts)
@testable import CairnCoreParts
#else
@testable import CairnCore
#endif
import Foundation
import Testing

// Tables ported from apimachinery pkg/labels/selector_test.go and metav1 helpers.

private func parse(_ s: String) throws -> Selector { try Selector.parse(s) }

private func req(_ key: String, _ op: Selector.Operator, _ values: [String] = []) -> Selector.Requirement {
    try! Selector.Requirement(key: key, operator: op, values: values)
}

private let qualifiedMsg = "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
private let labelValueMsg = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"

struct SelectorParseTests {
    /// TestSelectorParse: parses, and prints back as written less the spaces.
    @Test(arguments: ["x=a,y=b,z=c", "", "x!=a,y=b", "x=", "x= ", "x=,z= ", "x= ,z= ", "!x", "x>1", "x>1,z<5"])
    func roundTrips(_ input: String) throws {
        #expect(try parse(input).description == input.replacingOccurrences(of: " ", with: ""))
    }

    /// TestSetSelectorParser (valid rows): input and the selector it denotes, printed.
    @Test(arguments: [
        ("", ""), ("\rx", "x"),
        ("this-is-a-dns.domain.com/key-with-dash", "this-is-a-dns.domain.com/key-with-dash"),
        ("this-is-another-dns.domain.com/key-with-dash in (so,what)", "this-is-another-dns.domain.com/key-with-dash in (so,what)"),
        ("0.1.2.domain/99 notin (10.10.100.1, tick.tack.clock)", "0.1.2.domain/99 notin (10.10.100.1,tick.tack.clock)"),
        ("foo  in\t (abc)", "foo in (abc)"), ("x notin\n (abc)", "x notin (abc)"),
        ("x  notin\t\t\t(abc,def)", "x notin (abc,def)"), ("x in (abc,def)", "x in (abc,def)"),
        ("x in (abc,)", "x in (,abc)"), ("x in ()", "x in ()"),
        ("x notin (abc,def),bar,z in (),w", "bar,w,x notin (abc,def),z in ()"),
        ("x,y in (a)", "x,y in (a)"), ("x=a", "x=a"), ("x>1", "x>1"), ("x<7", "x<7"), ("x=a,y!=b", "x=a,y!=b"),
        ("x=a,y!=b,z in (h,i,j)", "x=a,y!=b,z in (h,i,j)"), ("x notin ( )", "x notin ()"),
        ("x notin (, a)", "x notin (,a)"), ("a ", "a"), ("a in (x,y,notin, z,in)", "a in (in,notin,x,y,z)"),
        ("x,y", "x,y"), ("x in (b,a,b)", "x in (a,b)"), ("notin=in", "notin=in"), ("x==a", "x==a"),
        ("z,a,m", "a,m,z"), ("app in (web,,db)", "app in (,db,web)"),
    ] as [(String, String)])
    func parsesSetSyntax(input: String, printed: String) throws {
        #expect(try parse(input).description == printed)
    }

    /// TestSelectorParse and TestSetSelectorParser (invalid rows), with the error upstream gives.
    @Test(arguments: [
        ("x=a||y=b", "unable to parse requirement: values[0][x]: Invalid value: \"a||y\": " + labelValueMsg),
        ("x==a==b", "found '==', expected: ',' or 'end of string'"),
        ("!x=a", "found '=', expected: ',' or 'end of string'"),
        ("x<a", "unable to parse requirement: values[0]: Invalid value: \"a\": for 'Gt', 'Lt' operators, the value must be an integer"),
        ("x,,y", "found ',', expected: identifier after ','"),
        (",x,y", "found ',', expected: !, identifier, or 'end of string'"),
        ("x nott in (y)", "unable to parse requirement: found 'nott', expected: in, notin, =, ==, !=, gt, lt"),
        ("a in (xyz),", "found '', expected: identifier after ','"),
        ("a in (xyz)b notin ()", "found 'b', expected: ',' or 'end of string'"),
        ("a in (xyz abc)", "unable to parse requirement: found 'abc', expected: ',' or ')'"),
        ("a notin(", "unable to parse requirement: found '', expected: ',', ')' or identifier"),
        ("a (", "unable to parse requirement: found '(', expected: in, notin, =, ==, !=, gt, lt"),
        ("(", "found '(', expected: !, identifier, or 'end of string'"),
        ("x in a", "unable to parse requirement: found 'a' expected: '('"),
        ("x=a b", "found 'b', expected: ',' or 'end of string'"),
        ("x=(", "unable to parse requirement: found '(', expected: identifier"),
        ("!", "unable to parse requirement: found '', expected: identifier"),
        ("a/b/c", "unable to parse requirement: <nil>: Invalid value: \"a/b/c\": " + qualifiedMsg),
        ("x=-a", "unable to parse requirement: values[0][x]: Invalid value: \"-a\": " + labelValueMsg),
        ("x in (a,-b)", "unable to parse requirement: values[0][x]: Invalid value: \"-b\": " + labelValueMsg),
    ] as [(String, String)])
    func rejects(input: String, message: String) {
        #expect(throws: SelectorError(message)) { try parse(input) }
    }

    /// TestDeterministicParse.
    @Test func deterministic() throws {
        #expect(try parse("x=a,a=x") == parse("a=x,x=a"))
        #expect(try parse("x=a,a=x").description == "a=x,x=a")
    }
}

struct SelectorMatchTests {
    /// TestSelectorMatches.
    @Test(arguments: [
        ("", ["x": "y"], true), ("x=y", ["x": "y"], true), ("x=y,z=w", ["x": "y", "z": "w"], true),
        ("x!=y,z!=w", ["x": "z", "z": "a"], true), ("notin=in", ["notin": "in"], true), ("x", ["x": "z"], true),
        ("!x", ["y": "z"], true), ("x>1", ["x": "2"], true), ("x<1", ["x": "0"], true),
        ("x=z", [:], false), ("x=y", ["x": "z"], false), ("x=y,z=w", ["x": "w", "z": "w"], false),
        ("x!=y,z!=w", ["x": "z", "z": "w"], false), ("x", ["y": "z"], false), ("!x", ["x": "z"], false),
        ("x>1", ["x": "0"], false), ("x<1", ["x": "2"], false),
        ("foo=bar", ["foo": "bar", "baz": "blah"], true), ("baz=blah", ["foo": "bar", "baz": "blah"], true),
        ("foo=bar,baz=blah", ["foo": "bar", "baz": "blah"], true), ("foo=blah", ["foo": "bar", "baz": "blah"], false),
        ("baz=bar", ["foo": "bar", "baz": "blah"], false),
        ("foo=bar,foobar=bar,baz=blah", ["foo": "bar", "baz": "blah"], false),
        ("x in (a,b)", ["x": "b"], true), ("x in (a,b)", ["x": "c"], false), ("x in (a,b)", [:], false),
        ("x notin (a,b)", [:], true), ("x notin (a,b)", ["x": "a"], false), ("x notin (a,b)", ["x": "c"], true),
        ("x in ()", ["x": ""], true), ("x=", ["x": ""], true), ("x=", [:], false), ("x!=a", [:], true),
        ("x>1", ["x": "v2"], false), ("x>1", [:], false), ("x<10", ["x": "-3"], true),
    ] as [(String, [String: String], Bool)])
    func matches(selector: String, labels: [String: String], expected: Bool) throws {
        #expect(try parse(selector).matches(labels) == expected)
    }

    /// TestRequirementSelectorMatching.
    @Test func requirementMatching() {
        #expect(Selector([req("x", .in, ["foo"]), req("y", .notIn, ["alpha"])]).matches(["x": "foo", "y": "baz"]))
        #expect(!Selector([req("x", .in, ["foo"]), req("y", .in, ["alpha"])]).matches(["x": "foo", "y": "baz"]))
        #expect(Selector([req("x", .notIn, [""]), req("y", .exists)]).matches(["y": ""]))
        #expect(Selector([req("x", .doesNotExist), req("y", .exists)]).matches(["y": ""]))
        #expect(!Selector([req("x", .notIn, [""]), req("y", .doesNotExist)]).matches(["y": ""]))
        #expect(!Selector([req("x", .in, [""])]).matches(["y": "baz"]))
        #expect(Selector([req("z", .greaterThan, ["1"])]).matches(["z": "2"]))
        #expect(!Selector([req("z", .greaterThan, ["1"])]).matches(["z": "v2"]))
    }

    /// TestToString.
    @Test func printsRequirements() {
        #expect(Selector([req("x", .in, ["abc", "def"]), req("y", .notIn, ["jkl"]), req("z", .exists)]).description
            == "x in (abc,def),y notin (jkl),z")
        #expect(Selector([req("x", .notIn, ["abc", "def"]), req("y", .notEquals, ["jkl"]), req("z", .doesNotExist)]).description
            == "x notin (abc,def),y!=jkl,!z")
        #expect(Selector([req("x", .notIn, ["abc"]), req("y", .in, ["jkl", "mno"]), req("z", .notIn, [""])]).description
            == "x notin (abc),y in (jkl,mno),z notin ()")
        #expect(Selector([req("x", .equals, ["abc"]), req("y", .doubleEquals, ["jkl"]), req("z", .notEquals, ["a"]),
                          req("z", .exists)]).description == "x=abc,y==jkl,z!=a,z")
        #expect(Selector([req("x", .greaterThan, ["2"]), req("y", .lessThan, ["8"]), req("z", .exists)]).description
            == "x>2,y<8,z")
        #expect(req("x", .in, ["def", "abc"]).description == "x in (abc,def)")
    }

    /// TestRequirementConstructor, with the messages.
    @Test(arguments: [
        ("x", Selector.Operator.in, [String](), "values: Invalid value: []: for 'in', 'notin' operators, values set can't be empty"),
        ("x", .notIn, [], "values: Invalid value: []: for 'in', 'notin' operators, values set can't be empty"),
        ("x", .in, ["foo"], ""), ("x", .notIn, ["foo"], ""), ("x", .exists, [], ""), ("x", .doesNotExist, [], ""),
        ("1foo", .in, ["bar"], ""), ("1234", .in, ["bar"], ""), ("y", .greaterThan, ["1"], ""), ("z", .lessThan, ["6"], ""),
        ("foo", .greaterThan, ["bar"], "values[0]: Invalid value: \"bar\": for 'Gt', 'Lt' operators, the value must be an integer"),
        ("barz", .lessThan, ["blah"], "values[0]: Invalid value: \"blah\": for 'Gt', 'Lt' operators, the value must be an integer"),
        ("x", .equals, ["a", "b"], "values: Invalid value: [\"a\",\"b\"]: exact-match compatibility requires one single value"),
        ("x", .exists, ["a"], "values: Invalid value: [\"a\"]: values set must be empty for exists and does not exist"),
        ("x", .greaterThan, ["1", "2"], "values: Invalid value: [\"1\",\"2\"]: for 'Gt', 'Lt' operators, exactly one value is required"),
        (String(repeating: "a", count: 254), .exists, [],
         "key: Invalid value: \"\(String(repeating: "a", count: 254))\": name part must be no more than 63 characters"),
        ("a/b/c", .in, [], "[key: Invalid value: \"a/b/c\": \(qualifiedMsg), values: Invalid value: []: for 'in', 'notin' operators, values set can't be empty]"),
    ] as [(String, Selector.Operator, [String], String)])
    func requirementConstructor(key: String, op: Selector.Operator, values: [String], error: String) {
        if error.isEmpty {
            #expect(throws: Never.self) { try Selector.Requirement(key: key, operator: op, values: values) }
        } else {
            #expect(throws: SelectorError(error)) { try Selector.Requirement(key: key, operator: op, values: values) }
        }
    }

    @Test func everythingNothingAndSets() throws {
        #expect(Selector.everything.matches(["x": "y"]))
        #expect(Selector.everything.isEmpty)
        #expect(try parse("").isEmpty)
        #expect(!Selector.nothing.matches([:]))
        #expect(!Selector.nothing.matches(["x": "y"]))
        #expect(!Selector.nothing.isEmpty)
        #expect(Selector.nothing.description == "")
        #expect(Selector.nothing.adding(req("x", .exists)) == .nothing)
        let set = Selector(matching: ["foo": "bar", "baz": "blah"])
        #expect(set.description == "baz=blah,foo=bar")
        #expect(set.matches(["foo": "bar", "baz": "blah", "other": "x"]))
        #expect(!set.matches(["foo": "bar"]))
        #expect(Selector(matching: [:]).isEmpty)
        #expect(Selector(matching: [:]).matches(["a": "b"]))
    }

    @Test func addAndExactMatch() throws {
        let s = Selector([req("key", .in, ["value"])]).adding(req("key2", .equals, ["value2"]))
        #expect(s.requirements == [req("key", .in, ["value"]), req("key2", .equals, ["value2"])])
        #expect(s.requiresExactMatch("key") == "value")
        #expect(s.requiresExactMatch("key2") == "value2")
        #expect(s.requiresExactMatch("nope") == nil)
        #expect(try parse("x in (a,b)").requiresExactMatch("x") == nil)
        #expect(try parse("x!=a").requiresExactMatch("x") == nil)
    }
}

struct LabelSelectorTests {
    private func expr(_ key: String, _ op: String, _ values: [String]? = nil) -> LabelSelectorRequirement {
        LabelSelectorRequirement(key: key, operator: op, values: values)
    }

    /// LabelSelectorAsSelector: the printed selector, or the error.
    @Test(arguments: [
        (LabelSelector(), ""),
        (LabelSelector(matchLabels: [:], matchExpressions: []), ""),
        (LabelSelector(matchLabels: ["app": "web", "tier": "db"]), "app=web,tier=db"),
        (LabelSelector(matchLabels: ["app": "web"], matchExpressions: [
            LabelSelectorRequirement(key: "env", operator: "In", values: ["prod", "dev"]),
            LabelSelectorRequirement(key: "legacy", operator: "DoesNotExist"),
            LabelSelectorRequirement(key: "zone", operator: "NotIn", values: ["b"]),
            LabelSelectorRequirement(key: "disk", operator: "Exists", values: []),
        ]), "app=web,disk,env in (dev,prod),!legacy,zone notin (b)"),
        (LabelSelector(matchExpressions: [LabelSelectorRequirement(key: "x", operator: "In")]),
         "error: values: Invalid value: null: for 'in', 'notin' operators, values set can't be empty"),
        (LabelSelector(matchExpressions: [LabelSelectorRequirement(key: "x", operator: "NotIn", values: [])]),
         "error: values: Invalid value: null: for 'in', 'notin' operators, values set can't be empty"),
        (LabelSelector(matchExpressions: [LabelSelectorRequirement(key: "x", operator: "Exists", values: ["a"])]),
         "error: values: Invalid value: [\"a\"]: values set must be empty for exists and does not exist"),
        (LabelSelector(matchExpressions: [LabelSelectorRequirement(key: "x", operator: "in", values: ["a"])]),
         "error: \"in\" is not a valid pod selector operator"),
        (LabelSelector(matchExpressions: [LabelSelectorRequirement(key: "x", operator: "Gt", values: ["1"])]),
         "error: \"Gt\" is not a valid pod selector operator"),
        (LabelSelector(matchLabels: ["app": "-x"]),
         "error: values[0][app]: Invalid value: \"-x\": " + labelValueMsg),
        (LabelSelector(matchLabels: ["a/b/c": "x"]), "error: key: Invalid value: \"a/b/c\": " + qualifiedMsg),
    ] as [(LabelSelector, String)])
    func asSelector(selector: LabelSelector, expected: String) {
        do {
            let s = try selector.asSelector()
            #expect(s.description == expected)
            #expect(try Selector(selector) == s)
        } catch {
            #expect("error: \(error.message)" == expected)
        }
    }

    @Test func emptyMatchesEverythingAndNilMatchesNothing() throws {
        #expect(try LabelSelector().asSelector().matches(["any": "thing"]))
        #expect(try LabelSelector().asSelector().isEmpty)
        #expect(try !Selector(nil).matches(["any": "thing"]))
        #expect(try !Selector(nil).matches([:]))
        #expect(try Selector(nil) == .nothing)
    }

    @Test func matchesTemplateLabels() throws {
        let s = try LabelSelector(matchLabels: ["app": "web"],
                                  matchExpressions: [expr("tier", "In", ["fe", "be"])]).asSelector()
        #expect(s.matches(["app": "web", "tier": "fe", "extra": "1"]))
        #expect(!s.matches(["app": "web"]))
        #expect(!s.matches(["app": "db", "tier": "fe"]))
    }

    @Test func codableShape() throws {
        let json = #"{"matchExpressions":[{"key":"tier","operator":"In","values":["db"]},{"key":"x","operator":"Exists"}],"matchLabels":{"app":"web"}}"#
        let decoded = try JSONDecoder().decode(LabelSelector.self, from: Data(json.utf8))
        #expect(decoded == LabelSelector(matchLabels: ["app": "web"],
                                         matchExpressions: [expr("tier", "In", ["db"]), expr("x", "Exists")]))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        #expect(String(decoding: try encoder.encode(decoded), as: UTF8.self) == json)
        #expect(String(decoding: try encoder.encode(LabelSelector(matchLabels: ["a": "b"])), as: UTF8.self)
            == #"{"matchLabels":{"a":"b"}}"#)
        #expect(try JSONDecoder().decode(LabelSelector.self, from: Data("{}".utf8)) == LabelSelector())
    }
}
