import CairnAPI
import CairnCore
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The host's facts a kubelet reports as a Node's NodeSystemInfo (every logical node of this host
/// shares them): read once at start.
enum HostFacts {
    static let nodeInfo: JSONValue = {
        var name = utsname()
        uname(&name)
        func field<T>(_ value: T) -> String {
            withUnsafeBytes(of: value) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        }
        let machine = field(name.machine)
        let architecture = ["x86_64": "amd64", "aarch64": "arm64"][machine] ?? machine
        return [
            "machineID": .string(read("/etc/machine-id")),
            "systemUUID": .string(read("/sys/class/dmi/id/product_uuid").lowercased()),
            "bootID": .string(read("/proc/sys/kernel/random/boot_id")),
            "kernelVersion": .string(field(name.release)),
            "osImage": .string(osImage()),
            "containerRuntimeVersion": .string("cairn://\(CairnVersion.version)"),
            "kubeletVersion": .string(CairnVersion.info.gitVersion),
            "kubeProxyVersion": "",
            "operatingSystem": "linux",
            "architecture": .string(architecture),
        ]
    }()

    static func read(_ path: String) -> String {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// PRETTY_NAME of /etc/os-release, as kubelet reads it.
    static func osImage() -> String {
        for line in read("/etc/os-release").split(separator: "\n") where line.hasPrefix("PRETTY_NAME=") {
            return String(line.dropFirst("PRETTY_NAME=".count)).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        }
        return "Linux"
    }
}
