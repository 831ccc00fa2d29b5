// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Cairn",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "cairn", targets: ["cairn"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.20.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.5.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.0.0"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        // CSI driver: gRPC over a Unix socket with protobuf messages.
        .package(url: "https://github.com/grpc/grpc-swift-2", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport", from: "2.9.2"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket", from: "2.8.1"),
        .package(url: "https://github.com/hummingbird-project/swift-websocket", from: "1.6.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
    ],
    targets: [
        // Pure core: Kubernetes objects, Quantity, names, selectors, validation. No I/O.
        .target(name: "CairnCore"),
        // Named crash points in multi-step operations, inert unless CAIRN_CRASH_AT arms one (the
        // crash-matrix tests); no dependencies, so every module that takes steps can mark them.
        .target(name: "CairnCrashPoint"),
        // Manifest decoding (YAML/JSON) with line and column for every field path.
        .target(name: "CairnManifest", dependencies: [
            "CairnCore", .product(name: "Yams", package: "Yams"),
        ]),
        // Pure controllers: scheduling, provisioning, binding, StatefulSet/ReplicaSet plans.
        .target(name: "CairnControl", dependencies: ["CairnCore"], exclude: ["README.md"]),
        // SQLite adapter.
        .target(name: "CairnStore", dependencies: [
            "CairnCore", "CairnCrashPoint", .product(name: "GRDB", package: "GRDB.swift"),
        ], exclude: ["README.md"]),
        // The FUSE kernel protocol's layouts, the Linux calls Swift cannot make, and the
        // descriptor holder process (C: it runs before any Swift code in the holder).
        .target(name: "CFuseKernel"),
        // zlib through the system library: SPDY/3.1's header compression (kubectl exec before 1.30).
        .systemLibrary(name: "CZlib", pkgConfig: "zlib",
                       providers: [.apt(["zlib1g-dev"])]),
        // Cairn's FUSE filesystem: the protocol on /dev/fuse, kernel passthrough, per-volume
        // capacity (project quotas, btrfs qgroups or the daemon's own accounting), restarts pods do
        // not notice.
        .target(name: "CairnFS", dependencies: [
            "CFuseKernel", .product(name: "Logging", package: "swift-log"),
        ], exclude: ["README.md"]),
        // Node agent: mounts pod volumes, cleans stale mounts, `cairn exec`.
        .target(name: "CairnNode", dependencies: [
            "CairnFS", "CFuseKernel", "CairnCrashPoint", .product(name: "Logging", package: "swift-log"),
            .product(name: "Crypto", package: "swift-crypto"),
        ], exclude: ["README.md"]),
        // Wire types and paths of Cairn's own API (/cairn/v1), shared by the daemon and the CLI.
        .target(name: "CairnAPI", dependencies: ["CairnCore"]),
        // The daemon: HTTP API on the socket, controller loop, node agent wiring.
        .target(name: "CairnServer", dependencies: [
            "CairnCore", "CairnAPI", "CairnManifest", "CairnControl", "CairnStore", "CairnNode", "CairnFS", "CairnCrashPoint",
            "CairnAPIMachinery", "CairnTLS", "CZlib",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdTLS", package: "hummingbird"),
            .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
            .product(name: "WSCore", package: "swift-websocket"),
            .product(name: "NIOWebSocket", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        // Pure Kubernetes API machinery for kubectl: patches (merge, JSON, strategic), server-side apply,
        // tables, discovery, OpenAPI v3, strict field validation, the exec stream framing. No I/O.
        .target(name: "CairnAPIMachinery", dependencies: ["CairnCore"], exclude: ["README.md"]),
        // The cluster's CA, serving and client certificates in the state dir, and kubeconfig files.
        .target(name: "CairnTLS", dependencies: [
            .product(name: "X509", package: "swift-certificates"),
            .product(name: "SwiftASN1", package: "swift-asn1"),
            .product(name: "Crypto", package: "swift-crypto"),
        ], exclude: ["README.md"]),
        // The CSI driver (`cairn csi`): Identity, Controller and Node services over gRPC, the code
        // generated from Proto/csi.proto (committed; see the module's README), state in CairnStore.
        .target(name: "CairnCSI", dependencies: [
            "CairnCore", "CairnAPI", "CairnStore", "CairnFS", "CairnNode",
            .product(name: "GRPCCore", package: "grpc-swift-2"),
            .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
            .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
            .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Crypto", package: "swift-crypto"),
        ], exclude: ["README.md", "Proto"]),
        // Client of the daemon's API.
        .target(name: "CairnClient", dependencies: [
            "CairnCore",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
        ]),
        // The command line's pure core: argv normalisation, JSONPath, printers, describe layouts.
        .target(name: "CairnCLICore", dependencies: [
            "CairnCore", "CairnAPI", .product(name: "Yams", package: "Yams"),
        ], exclude: ["README.md"]),
        // The command line.
        .target(name: "CairnCLI", dependencies: [
            "CairnCore", "CairnAPI", "CairnCLICore", "CairnManifest", "CairnClient", "CairnServer", "CairnNode", "CairnCSI",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "cairn", dependencies: [
            "CairnCLI", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // Times the planners over large states (tools/bench-planners.sh).
        .executableTarget(name: "cairn-planner-bench", dependencies: ["CairnCore", "CairnControl"]),
        // Serves one CairnFS mount in its own process: for the filesystem tests and tools/bench-fs.
        .executableTarget(name: "cairnfs-harness", dependencies: [
            "CairnFS", .product(name: "Logging", package: "swift-log"),
        ]),

        .testTarget(name: "CairnCoreTests", dependencies: ["CairnCore", "CairnManifest"]),
        .testTarget(name: "CairnControlTests", dependencies: ["CairnCore", "CairnControl"]),
        .testTarget(name: "CairnStoreTests", dependencies: ["CairnCore", "CairnStore", .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(name: "CairnFSTests", dependencies: ["CairnFS", "CairnNode", "CFuseKernel"]),
        .testTarget(name: "CairnNodeTests", dependencies: ["CairnNode", "CFuseKernel"]),
        // The API request table both server test targets run (in process, and against a live daemon).
        // What the test targets that run programs share: package paths, `runProgram`, TestFailure.
        .target(name: "CairnTestSupport", path: "Tests/CairnTestSupport"),
        .target(name: "CairnAPIScenarios", dependencies: ["CairnCore", "CairnManifest"], path: "Tests/CairnAPIScenarios"),
        .testTarget(name: "CairnServerTests", dependencies: [
            "CairnCore", "CairnControl", "CairnStore", "CairnServer", "CairnAPIScenarios",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "CairnEndToEndTests", dependencies: ["CairnCore", "CairnNode", "CairnAPIScenarios", "CairnCrashPoint", "CairnTestSupport"]),
        .testTarget(name: "CairnCLICoreTests", dependencies: ["CairnCLICore", "CairnCore", "CairnAPI"]),
        .testTarget(name: "CairnAPIMachineryTests", dependencies: [
            "CairnTestSupport",
            "CairnAPIMachinery", "CairnCore",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        // The real kubectl (1.32 and the oldest and newest beside it) against a live `cairn serve` over HTTPS.
        .testTarget(name: "CairnKubectlTests", dependencies: ["CairnTestSupport"]),
        .testTarget(name: "CairnTLSTests", dependencies: [
            "CairnTestSupport",
            "CairnTLS",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "HummingbirdTLS", package: "hummingbird"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
        ]),
        // Conformance of the CSI driver: a gRPC client against `cairn csi` on its Unix socket.
        .testTarget(name: "CairnCSITests", dependencies: [
            "CairnTestSupport",
            "CairnCSI", "CairnAPI", "CairnCore", "CairnNode", "CairnServer", "CairnStore",
            .product(name: "GRPCCore", package: "grpc-swift-2"),
            .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
            .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
            .product(name: "SwiftProtobuf", package: "swift-protobuf"),
        ]),
    ],
    swiftLanguageModes: [.v6]
)

// libFuzzer targets (tools/fuzz.sh builds them with `--sanitize=fuzzer --sanitize=address` in their
// own build directory). Declared only when CAIRN_FUZZ is set, so `swift build` and the tests never
// build or link them.
if Context.environment["CAIRN_FUZZ"] != nil {
    let fuzzTargets: [(String, [Target.Dependency])] = [
        ("fuzz-manifest", ["CairnCore", "CairnManifest"]),
        ("fuzz-quantity", ["CairnCore"]),
        ("fuzz-selectors", ["CairnCore"]),
        ("fuzz-patch", ["CairnCore", "CairnAPIMachinery"]),
        ("fuzz-api-request", ["CairnCore", "CairnAPI", "CairnControl", "CairnStore", "CairnServer",
                              .product(name: "Hummingbird", package: "hummingbird"),
                              .product(name: "HummingbirdCore", package: "hummingbird"),
                              .product(name: "Logging", package: "swift-log")]),
        ("fuzz-bindings", ["CairnCore", "CairnAPI", "CairnCLICore"]),
    ]
    for (name, dependencies) in fuzzTargets {
        package.targets.append(.executableTarget(name: name, dependencies: dependencies, path: "Tests/Fuzz/Targets/\(name)"))
    }
}
