import CairnCore

/// Label selectors (labels.Parse) and field selectors (fields.ParseSelector plus each kind's field
/// labels): parsing never traps, a parsed label selector prints to one that parses to the same
/// requirements, and matching never traps.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSelectors(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    guard let first = bytes.first else { return 0 }
    let text = String(decoding: bytes.dropFirst(), as: UTF8.self)
    let labels: [String: String] = ["app": "web", "tier": "db", "a.b/c": "", "x": "1"]
    if let selector = try? Selector.parse(text) {
        let printed = selector.description
        guard let again = try? Selector.parse(printed) else {
            fatalError("\(text.debugDescription) prints as \(printed.debugDescription), which does not parse")
        }
        if again.description != printed { fatalError("\(printed.debugDescription) prints as \(again.description.debugDescription)") }
        if again.matches(labels) != selector.matches(labels) { fatalError("\(text.debugDescription) and its print match differently") }
        _ = selector.requiresExactMatch("app")
    }
    let kind = Kind.allCases[Int(first) % Kind.allCases.count]
    if let fields = try? FieldSelector.parse(text, kind: kind) {
        let object: JSONValue = ["metadata": ["name": "n", "namespace": "default"], "spec": ["nodeName": "k8s-node1"],
                                 "status": ["phase": "Running"]]
        _ = fields.matches(object)
        _ = fields.description
    }
    _ = try? ObjectFilter(kind: kind, labelSelector: text, fieldSelector: text)
    return 0
}
