import CairnAPIMachinery
import CairnCore

/// JSON merge patch (RFC 7386) and strategic merge patch, as PATCH applies them: the input is a
/// document and a patch separated by a NUL byte; the first byte picks the kind whose patch schema
/// the strategic patch uses. Neither may trap; a merge patch applied twice changes nothing more.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPatch(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let first = bytes.first else { return 0 }
    let rest = bytes.dropFirst()
    let cut = rest.firstIndex(of: 0) ?? rest.endIndex
    guard let document = try? JSONText.parse(rest[..<cut]),
          let patch = try? JSONText.parse(cut < rest.endIndex ? rest[(cut + 1)...] : []) else { return 0 }
    if let merged = try? JSONMergePatch.apply(patch, to: document) {
        if let twice = try? JSONMergePatch.apply(patch, to: merged), twice != merged {
            fatalError("a merge patch applied twice changed the document again")
        }
        _ = JSONText.bytes(merged)
    }
    let kind = Kind.allCases[Int(first) % Kind.allCases.count]
    if let merged = try? StrategicMergePatch.apply(patch, to: document, kind: kind) {
        _ = JSONText.bytes(merged)
    }
    return 0
}
