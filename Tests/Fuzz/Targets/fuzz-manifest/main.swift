import CairnCore
import CairnManifest

/// The manifest reader (multi-document YAML and JSON) and what `cairn apply` does next with each
/// document: strict decoding into the kind it names, defaulting and validation. Nothing may trap;
/// every field path an error names must have a position.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzManifest(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    guard let documents = try? ManifestReader.read(text, source: "fuzz.yaml") else { return 0 }
    for doc in documents {
        _ = doc.location(of: nil)
        switch ObjectDecoding.decodeAny(doc.json) {
        case .success(let object):
            for e in Validation.validate(Defaulting.apply(object)) { _ = doc.location(of: e.field) }
            _ = try? JSONValue(encoding: object)
        case .failure(let errors):
            for e in errors.errors { _ = doc.location(of: e.field) }
        }
    }
    return 0
}
