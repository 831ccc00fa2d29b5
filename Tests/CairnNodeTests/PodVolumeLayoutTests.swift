import Foundation
import Testing
@testable import CairnNode

#if canImport(Glibc)
import Glibc
#endif

@Suite struct PodVolumeLayoutTests {
    @Test func paths() {
        let layout = PodVolumeLayout(stateDir: "/var/lib/cairn/")
        #expect(layout.podDirectory(namespace: "default", pod: "web-0") == "/var/lib/cairn/pods/default/web-0")
        #expect(layout.volumePath(namespace: "default", pod: "web-0", volume: "data")
                == "/var/lib/cairn/pods/default/web-0/volumes/data")
        #expect(layout.nodeMountPoint(node: "node-1") == "/var/lib/cairn/mnt/node-1")
    }

    @Test func mountIsIdempotentAndConflictsAreReported() throws {
        try withScratch { s in
            let layout = PodVolumeLayout(stateDir: s.sub("state"))
            let source = try s.makeDirectory("data/pvc-a")
            let other = try s.makeDirectory("data/pvc-b")
            let target = layout.volumePath(namespace: "ns", pod: "p", volume: "v")
            try layout.mountPodVolume(source: source, namespace: "ns", pod: "p", volume: "v", readOnly: false)
            try layout.mountPodVolume(source: source, namespace: "ns", pod: "p", volume: "v", readOnly: false)
            #expect(MountTable.mounts().filter { $0.mountPoint == target }.count == 1)
            #expect(layout.mountedPodVolumes().map { "\($0.namespace)/\($0.pod)/\($0.volume)" } == ["ns/p/v"])

            #expect(throws: NodeError.mountConflict(path: target, requestedSource: other)) {
                try layout.mountPodVolume(source: other, namespace: "ns", pod: "p", volume: "v", readOnly: false)
            }
            // Asking again read-only brings the existing mount in line.
            try layout.mountPodVolume(source: source, namespace: "ns", pod: "p", volume: "v", readOnly: true)
            #expect(MountTable.mounts().filter { $0.mountPoint == target }.count == 1)
            #expect(open(target + "/x", O_CREAT | O_WRONLY, 0o600) == -1 && errno == EROFS)

            #expect(throws: NodeError.invalidName(kind: "volume", name: "..")) {
                try layout.mountPodVolume(source: source, namespace: "ns", pod: "p", volume: "..", readOnly: false)
            }
            try layout.unmountPod(namespace: "ns", pod: "p")
        }
    }

    @Test func unmountPodUnmountsEverythingAndRemovesEmptyDirectories() throws {
        try withScratch { s in
            let layout = PodVolumeLayout(stateDir: s.sub("state"))
            let a = try s.makeDirectory("data/pvc-a")
            let b = try s.makeDirectory("data/pvc-b")
            try s.write("data/pvc-a/keep.txt", "data")
            try layout.mountPodVolume(source: a, namespace: "ns", pod: "p", volume: "a", readOnly: false)
            try layout.mountPodVolume(source: b, namespace: "ns", pod: "p", volume: "b", readOnly: true)
            try layout.mountPodVolume(source: b, namespace: "ns", pod: "other", volume: "b", readOnly: true)
            #expect(layout.mountedPodVolumes().count == 3)

            try layout.unmountPod(namespace: "ns", pod: "p")
            #expect(!exists(layout.podDirectory(namespace: "ns", pod: "p")))
            #expect(exists(a + "/keep.txt"))
            #expect(layout.mountedPodVolumes().map(\.pod) == ["other"])

            try layout.unmountPod(namespace: "ns", pod: "p")
            try layout.unmountPod(namespace: "ns", pod: "other")
            #expect(!exists(s.sub("state/pods/ns")))
        }
    }

    @Test func unmountPodKeepsWhatIsNotEmpty() throws {
        try withScratch { s in
            let layout = PodVolumeLayout(stateDir: s.sub("state"))
            let a = try s.makeDirectory("data/pvc-a")
            try layout.mountPodVolume(source: a, namespace: "ns", pod: "p", volume: "a", readOnly: false)
            // Data written into a volume directory while nothing was mounted there.
            let stray = try s.write("state/pods/ns/p/volumes/b/stray.txt", "stray")
            let volumeB = layout.volumePath(namespace: "ns", pod: "p", volume: "b")

            #expect(throws: NodeError.notRemoved(paths: [volumeB])) {
                try layout.unmountPod(namespace: "ns", pod: "p")
            }
            #expect(exists(stray))
            #expect(!exists(layout.volumePath(namespace: "ns", pod: "p", volume: "a")))
            #expect(layout.mountedPodVolumes().isEmpty)
        }
    }
}
