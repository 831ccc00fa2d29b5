import CairnCore
import Foundation
@testable import CairnStore

let t0 = Time(Date(timeIntervalSince1970: 1_800_000_000))

/// A claim as the API server would hand it to the store (namespace already defaulted).
func claim(_ name: String, namespace: String = "default", volumeName: String? = nil, storage: String = "1Gi") -> JSONValue {
    var spec: [String: JSONValue] = [
        "accessModes": .array([.string("ReadWriteOnce")]),
        "resources": .object(["requests": .object(["storage": .string(storage)])]),
    ]
    if let volumeName { spec["volumeName"] = .string(volumeName) }
    return .object([
        "metadata": .object(["name": .string(name), "namespace": .string(namespace)]),
        "spec": .object(spec),
    ])
}

func volume(_ name: String, claimNamespace: String = "default", claimName: String? = nil, claimUID: String? = nil) -> JSONValue {
    var spec: [String: JSONValue] = [
        "capacity": .object(["storage": .string("1Gi")]),
        "persistentVolumeReclaimPolicy": .string("Delete"),
    ]
    if let claimName {
        var ref: [String: JSONValue] = ["kind": .string("PersistentVolumeClaim"), "namespace": .string(claimNamespace),
                                        "name": .string(claimName)]
        if let claimUID { ref["uid"] = .string(claimUID) }
        spec["claimRef"] = .object(ref)
    }
    return .object(["metadata": .object(["name": .string(name)]), "spec": .object(spec)])
}

func pod(_ name: String, namespace: String = "default") -> JSONValue {
    .object([
        "metadata": .object(["name": .string(name), "namespace": .string(namespace),
                             "labels": .object(["app": .string("web")])]),
        "spec": .object(["nodeName": .string("node-1"),
                         "containers": .array([.object(["name": .string("c"), "image": .string("busybox")])])]),
    ])
}

/// A directory under the system temporary directory, removed by `cleanup()`.
struct TempDir {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-store-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    func path(_ name: String) -> String { url.appendingPathComponent(name).path }
    func cleanup() { try? FileManager.default.removeItem(at: url) }
}

/// A value shared between threads in tests.
final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value
    init(_ value: Value) { self.value = value }
    func withLock<T>(_ body: (inout Value) -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body(&value)
    }
    var current: Value { withLock { $0 } }
}

extension JSONValue {
    /// Reads a value at a dotted path ("metadata.uid").
    func at(_ path: String) -> JSONValue? {
        path.split(separator: ".").reduce(Optional(self)) { node, key in node?[String(key)] }
    }
}
