import CairnAPI
import CairnCLICore
import CairnCore
import Foundation

/// What `cairn bindings` does with the daemon's answer: `-o json` parses and pretty-prints it,
/// the table decodes a BindingList and prints its rows. A pretty-printed document parses back to
/// the same value. Nothing may trap, whatever the socket sends.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzBindings(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = Data(UnsafeBufferPointer(start: data, count: size))
    if let value = try? JSONValue.parse(bytes) {
        let pretty = JSONText.pretty(value)
        guard let again = try? JSONText.parse(pretty) else { fatalError("pretty output does not parse: \(pretty.prefix(200))") }
        // An integral double prints as an integer (as Go prints float64): compare numbers as numbers.
        if numeric(again) != numeric(value) { fatalError("pretty output parses to another value: \(pretty.prefix(200))") }
    }
    guard let list = try? JSONCoding.decoder.decode(BindingList.self, from: bytes) else { return 0 }
    let now = Date()
    let rows = list.items.map { b -> [String] in
        [b.namespace, b.claim, b.phase.rawValue, b.volume ?? "", b.node ?? "", b.capacity ?? "", humanBytes(b.usedBytes),
         AccessMode.abbreviate(b.accessModes), b.storageClass ?? "", b.reclaimPolicy ?? "",
         b.pods.isEmpty ? "<none>" : b.pods.map { "\($0.name):\($0.hostPath)" }.joined(separator: ","),
         b.boundAt.map { humanDuration(now.timeIntervalSince($0.date)) } ?? ""]
    }
    _ = Printers.table(["NAMESPACE", "CLAIM", "STATUS", "VOLUME", "NODE", "CAPACITY", "USED", "ACCESS MODES",
                        "STORAGECLASS", "RECLAIM", "PODS (HOST PATH)", "BOUND"], rows)
    _ = try? JSONCoding.encoder.encode(list)
    return 0
}

/// The value with every integral double made an int (what printing it and parsing it back gives).
func numeric(_ v: JSONValue) -> JSONValue {
    switch v {
    case .double(let d) where d == d.rounded() && abs(d) < 1e15: .int(Int64(d))
    case .array(let a): .array(a.map(numeric))
    case .object(let o): .object(o.mapValues(numeric))
    default: v
    }
}
