@_exported import CairnTestSupport
import Foundation

/// kubectl versions that read OpenAPI v3 for explain and for apply's field-validation check (1.29+);
/// 1.27 and 1.28 read /openapi/v2 as protobuf.
let kubectlV3Binaries: [String] = kubectlBinaries.filter { p in
    guard let v = p.split(separator: ".").last.flatMap({ Int($0) }), p.contains("kubectl.1.") else { return true }
    return v >= 29
} + ["/usr/lib/google-cloud-sdk/bin/kubectl.1.29"].filter { FileManager.default.isExecutableFile(atPath: $0) }
