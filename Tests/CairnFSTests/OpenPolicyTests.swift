@testable import CairnFS
import CFuseKernel
import Testing

/// How each open is served (OpenPolicy): numbered cases of (enforcement, access, existing opens).
struct OpenPolicyTests {
    struct Case: Sendable {
        let kernelQuota: Bool
        let writable: Bool
        let available: Bool
        let regular: Bool
        let cached: Int
        let passthrough: Int
        var holes = false
        let want: IOMode
    }

    static let cases: [Case] = [
        // Daemon accounting.
        Case(kernelQuota: false, writable: false, available: true, regular: true, cached: 0, passthrough: 0, want: .passthrough),       // 1 reads go through the kernel
        Case(kernelQuota: false, writable: true, available: true, regular: true, cached: 0, passthrough: 0, want: .cached),             // 2 writes through the daemon
        Case(kernelQuota: false, writable: false, available: true, regular: true, cached: 1, passthrough: 0, want: .cached),            // 3 a cached open forbids passthrough
        Case(kernelQuota: false, writable: true, available: true, regular: true, cached: 0, passthrough: 2, want: .passthroughDirect),  // 4 a writer beside passthrough readers
        Case(kernelQuota: false, writable: false, available: true, regular: true, cached: 0, passthrough: 2, want: .passthrough),       // 5 more readers
        Case(kernelQuota: false, writable: false, available: false, regular: true, cached: 0, passthrough: 0, want: .cached),           // 6 kernel without passthrough
        Case(kernelQuota: false, writable: false, available: true, regular: true, cached: 0, passthrough: 0, holes: true, want: .cached), // 7 a sparse file is read through the daemon
        Case(kernelQuota: false, writable: false, available: true, regular: true, cached: 0, passthrough: 1, holes: true, want: .passthrough), // 8 (holes probed only for the first)
        // Project quotas: the kernel refuses what passes the capacity.
        Case(kernelQuota: true, writable: true, available: true, regular: true, cached: 0, passthrough: 0, want: .passthrough),         // 9 writes through the kernel too
        Case(kernelQuota: true, writable: true, available: true, regular: true, cached: 0, passthrough: 3, want: .passthrough),         // 10
        Case(kernelQuota: true, writable: true, available: true, regular: true, cached: 1, passthrough: 0, want: .cached),              // 11 the kernel's rule still holds
        Case(kernelQuota: true, writable: true, available: false, regular: true, cached: 0, passthrough: 0, want: .cached),             // 12
        Case(kernelQuota: true, writable: false, available: true, regular: false, cached: 0, passthrough: 0, want: .cached),            // 13 not a regular file
        Case(kernelQuota: true, writable: false, available: true, regular: true, cached: 0, passthrough: 0, holes: true, want: .passthrough), // 14 the kernel counts holes filled
    ]

    @Test func table() {
        for (i, c) in Self.cases.enumerated() {
            let got = OpenPolicy.mode(kernelQuota: c.kernelQuota, writable: c.writable, passthroughAvailable: c.available,
                                      regularFile: c.regular, counts: .init(cached: c.cached, passthrough: c.passthrough),
                                      holes: c.holes)
            #expect(got == c.want, "case \(i + 1): \(got), want \(c.want)")
        }
    }

    @Test func replyFlags() {
        #expect(OpenPolicy.replyFlags(.cached, keepCache: true) == UInt32(CFK_FOPEN_NOFLUSH | CFK_FOPEN_KEEP_CACHE))
        #expect(OpenPolicy.replyFlags(.passthrough, keepCache: true) == UInt32(CFK_FOPEN_PASSTHROUGH | CFK_FOPEN_NOFLUSH))
        #expect(OpenPolicy.replyFlags(.passthroughDirect, keepCache: false)
            == UInt32(CFK_FOPEN_PASSTHROUGH | CFK_FOPEN_DIRECT_IO | CFK_FOPEN_NOFLUSH))
    }
}
