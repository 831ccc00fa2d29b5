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
        // CSI driver: gRPC over a Unix socket with protobuf messages.
        .package(url: "https://github.com/grpc/grpc-swift-2", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport", from: "2.9.2"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ],
    targets: [
        // Pure core: Kubernetes objects, Quantity, names, selectors, validation. No I/O.
        .target(name: "CairnCore"),
        // Manifest decoding (YAML/JSON) with line and column for every field path.
        .target(name: "CairnManifest", dependencies: [
            "CairnCore", .product(name: "Yams", package: "Yams"),
        ]),
        // Pure controllers: scheduling, provisioning, binding, StatefulSet/ReplicaSet plans.
        .target(name: "CairnControl", dependencies: ["CairnCore"], exclude: ["README.md"]),
        // SQLite adapter.
        .target(name: "CairnStore", dependencies: [
            "CairnCore", .product(name: "GRDB", package: "GRDB.swift"),
        ], exclude: ["README.md"]),
        // libfuse3 through the system library.
        .systemLibrary(name: "CFuse3", pkgConfig: "fuse3",
                       providers: [.apt(["libfuse3-dev"])]),
        // Cairn's FUSE filesystem: passthrough with per-volume capacity.
        .target(name: "CairnFS", dependencies: [
            "CFuse3", .product(name: "Logging", package: "swift-log"),
        ], exclude: ["README.md"]),
        // Node agent: mounts pod volumes, cleans stale mounts, `cairn exec`.
        .target(name: "CairnNode", dependencies: [
            "CairnFS", .product(name: "Logging", package: "swift-log"),
            .product(name: "Crypto", package: "swift-crypto"),
        ], exclude: ["README.md"]),
        // The daemon: HTTP API on the socket, controller loop, node agent wiring.
        .target(name: "CairnServer", dependencies: [
            "CairnCore", "CairnManifest", "CairnControl", "CairnStore", "CairnNode", "CairnFS",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        // The CSI driver (`cairn csi`): Identity, Controller and Node services over gRPC, the code
        // generated from Proto/csi.proto (committed; see the module's README), state in CairnStore.
        .target(name: "CairnCSI", dependencies: [
            "CairnCore", "CairnStore", "CairnFS", "CairnNode",
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
        // The command line.
        .target(name: "CairnCLI", dependencies: [
            "CairnCore", "CairnManifest", "CairnClient", "CairnServer", "CairnNode", "CairnCSI",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "cairn", dependencies: [
            "CairnCLI", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // Serves one CairnFS mount in its own process: for the filesystem tests and tools/bench-fs.
        .executableTarget(name: "cairnfs-harness", dependencies: [
            "CairnFS", .product(name: "Logging", package: "swift-log"),
        ]),

        .testTarget(name: "CairnCoreTests", dependencies: ["CairnCore", "CairnManifest"]),
        .testTarget(name: "CairnControlTests", dependencies: ["CairnCore", "CairnControl"]),
        .testTarget(name: "CairnStoreTests", dependencies: ["CairnCore", "CairnStore"]),
        .testTarget(name: "CairnFSTests", dependencies: ["CairnFS", "CairnNode"]),
        .testTarget(name: "CairnNodeTests", dependencies: ["CairnNode"]),
        .testTarget(name: "CairnEndToEndTests", dependencies: ["CairnCore", "CairnNode"]),
        // Conformance of the CSI driver: a gRPC client against `cairn csi` on its Unix socket.
        .testTarget(name: "CairnCSITests", dependencies: [
            "CairnCSI", "CairnCore", "CairnNode", "CairnServer", "CairnStore",
            .product(name: "GRPCCore", package: "grpc-swift-2"),
            .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
            .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
            .product(name: "SwiftProtobuf", package: "swift-protobuf"),
        ]),
    ],
    swiftLanguageModes: [.v6]
)
