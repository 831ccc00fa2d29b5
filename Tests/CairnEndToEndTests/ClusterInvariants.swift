import CairnNode
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// What a live daemon holds, read over its socket and from its data roots: the objects the invariants
/// are about, typed down to the fields they look at.
struct ClusterView {
    struct Claim {
        var namespace: String, name: String, uid: String
        var phase: String, volume: String?, deleting: Bool
        var key: String { "\(namespace)/\(name)" }
    }
    struct Volume {
        var name: String, phase: String, claimUID: String?, claimKey: String?
        var path: String?, reclaimPolicy: String, deleting: Bool
    }
    struct Pod {
        var namespace: String, name: String, uid: String, node: String?
        var phase: String, ready: Bool, deleting: Bool
        /// Pod volume name -> claim name.
        var claims: [String: String]
        var key: String { "\(namespace)/\(name)" }
        var runningAndReady: Bool { phase == "Running" && ready && !deleting }
    }
    struct HistoryRow { var action: String, volume: String?, pod: String? }

    var claims: [Claim] = []
    var volumes: [Volume] = []
    var pods: [Pod] = []
    /// "node/name" of every pvc-* directory under the data roots.
    var directories: Set<String> = []

    static func read(_ d: TestDaemon) throws -> ClusterView {
        var v = ClusterView()
        for o in try list(d, "/api/v1/persistentvolumeclaims") {
            let m = o["metadata"] as? [String: Any] ?? [:]
            v.claims.append(Claim(namespace: m["namespace"] as? String ?? "", name: m["name"] as? String ?? "",
                                  uid: m["uid"] as? String ?? "",
                                  phase: (o["status"] as? [String: Any])?["phase"] as? String ?? "",
                                  volume: (o["spec"] as? [String: Any])?["volumeName"] as? String,
                                  deleting: m["deletionTimestamp"] != nil))
        }
        for o in try list(d, "/api/v1/persistentvolumes") {
            let m = o["metadata"] as? [String: Any] ?? [:]
            let spec = o["spec"] as? [String: Any] ?? [:]
            let ref = spec["claimRef"] as? [String: Any]
            v.volumes.append(Volume(name: m["name"] as? String ?? "",
                                    phase: (o["status"] as? [String: Any])?["phase"] as? String ?? "",
                                    claimUID: ref?["uid"] as? String,
                                    claimKey: ref.map { "\($0["namespace"] as? String ?? "")/\($0["name"] as? String ?? "")" },
                                    path: (spec["local"] as? [String: Any])?["path"] as? String,
                                    reclaimPolicy: spec["persistentVolumeReclaimPolicy"] as? String ?? "",
                                    deleting: m["deletionTimestamp"] != nil))
        }
        for o in try list(d, "/api/v1/pods") {
            let m = o["metadata"] as? [String: Any] ?? [:]
            let spec = o["spec"] as? [String: Any] ?? [:]
            let status = o["status"] as? [String: Any] ?? [:]
            let conditions = status["conditions"] as? [[String: Any]] ?? []
            var claims: [String: String] = [:]
            for vol in spec["volumes"] as? [[String: Any]] ?? [] {
                if let c = (vol["persistentVolumeClaim"] as? [String: Any])?["claimName"] as? String, let n = vol["name"] as? String {
                    claims[n] = c
                }
            }
            v.pods.append(Pod(namespace: m["namespace"] as? String ?? "", name: m["name"] as? String ?? "",
                              uid: m["uid"] as? String ?? "", node: spec["nodeName"] as? String,
                              phase: status["phase"] as? String ?? "",
                              ready: conditions.contains { $0["type"] as? String == "Ready" && $0["status"] as? String == "True" },
                              deleting: m["deletionTimestamp"] != nil, claims: claims))
        }
        for node in d.nodes {
            let root = "\(d.dir)/data/\(node)"
            for name in (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [] where name.hasPrefix("pvc-") {
                v.directories.insert("\(node)/\(name)")
            }
        }
        return v
    }

    static func list(_ d: TestDaemon, _ path: String) throws -> [[String: Any]] {
        let r = try http(d.socket, "GET", path)
        guard r.status == 200 else { throw TestFailure("GET \(path): \(r.status) \(r.body.prefix(300))") }
        return try json(r.body)["items"] as? [[String: Any]] ?? []
    }

    static func history(_ d: TestDaemon, namespace: String, claim: String) throws -> [HistoryRow] {
        let r = try http(d.socket, "GET", "/cairn/v1/namespaces/\(namespace)/claims/\(claim)/history")
        guard r.status == 200, let rows = try JSONSerialization.jsonObject(with: Data(r.body.utf8)) as? [[String: Any]] else {
            throw TestFailure("claim history of \(namespace)/\(claim): \(r.status) \(r.body.prefix(300))")
        }
        return rows.map { HistoryRow(action: $0["action"] as? String ?? "", volume: $0["volume"] as? String, pod: $0["pod"] as? String) }
    }

    func claim(_ key: String) -> Claim? { claims.first { $0.key == key } }
    func volume(_ name: String) -> Volume? { volumes.first { $0.name == name } }
}

/// Data a test wrote and fsync'ed through a pod's mount, and what the scenario did to the claims
/// holding it: what the invariants expect to find.
struct WrittenData {
    struct Claim {
        var uid: String
        var reclaimPolicy: String
        /// Path inside the volume -> content.
        var files: [String: String]
    }
    /// By "namespace/claim".
    var claims: [String: Claim] = [:]
    /// Claims the scenario deletes (their data goes with them only under reclaim policy Delete).
    var deletedClaims: Set<String> = []
    /// Namespaces the scenario deletes (every claim in them counts as deleted).
    var deletedNamespaces: Set<String> = []

    func isDeleted(_ key: String) -> Bool {
        deletedClaims.contains(key) || deletedNamespaces.contains(String(key.split(separator: "/").first ?? ""))
    }
}

/// The promise the crash matrix, the races and the soak check after the daemon settled: nothing
/// acknowledged is lost, nothing is bound twice, nothing is left behind. Each violation is one line.
enum ClusterInvariants {
    static func violations(_ d: TestDaemon, _ data: WrittenData = WrittenData()) -> [String] {
        let view: ClusterView
        do { view = try ClusterView.read(d) } catch { return ["cannot read the cluster: \(error)"] }
        var out: [String] = []
        out += binding(view)
        out += directories(view, d)
        out += writtenData(view, data, d)
        out += mounts(view, data, d)
        out += history(view, d)
        return out
    }

    /// Every claim Bound to exactly one volume, every Bound volume to exactly one claim.
    static func binding(_ v: ClusterView) -> [String] {
        var out: [String] = []
        for c in v.claims where !c.deleting {
            guard c.phase == "Bound" else { out.append("claim \(c.key) is \(c.phase), not Bound"); continue }
            guard let name = c.volume, let pv = v.volume(name) else {
                out.append("claim \(c.key) is Bound to \(c.volume ?? "no volume"), which does not exist"); continue
            }
            if pv.claimUID != c.uid { out.append("claim \(c.key) is Bound to \(name), whose claimRef is \(pv.claimKey ?? "nil") uid \(pv.claimUID ?? "nil")") }
            if pv.phase != "Bound" { out.append("claim \(c.key) is Bound to \(name), which is \(pv.phase)") }
            let others = v.volumes.filter { $0.claimUID == c.uid && $0.name != name && $0.phase == "Bound" }
            if !others.isEmpty { out.append("claim \(c.key) has further Bound volumes: \(others.map(\.name))") }
        }
        for pv in v.volumes where pv.phase == "Bound" {
            let owners = v.claims.filter { $0.uid == pv.claimUID && $0.volume == pv.name }
            if owners.count != 1 { out.append("volume \(pv.name) is Bound but \(owners.count) claims are bound to it") }
        }
        return out
    }

    /// One directory per volume, and none without a volume (the sweep at start removed empty ones).
    static func directories(_ v: ClusterView, _ d: TestDaemon) -> [String] {
        var out: [String] = []
        var named = Set<String>()
        for pv in v.volumes {
            guard let path = pv.path else { out.append("volume \(pv.name) has no local path"); continue }
            let parts = path.split(separator: "/")
            guard parts.count >= 2 else { continue }
            let key = "\(parts[parts.count - 2])/\(parts[parts.count - 1])"
            named.insert(key)
            var st = stat()
            if lstat(path, &st) != 0 || (st.st_mode & S_IFMT) != S_IFDIR {
                out.append("volume \(pv.name) (\(pv.phase)) has no directory at \(path)")
            }
        }
        for dir in v.directories.subtracting(named).sorted() { out.append("directory \(dir) belongs to no volume") }
        return out
    }

    /// Every fsync'ed byte intact, unless its claim was deleted under reclaim policy Delete (then its
    /// directory and volume are gone); under Retain the volume is Released and the data intact.
    static func writtenData(_ v: ClusterView, _ data: WrittenData, _ d: TestDaemon) -> [String] {
        var out: [String] = []
        for (key, written) in data.claims.sorted(by: { $0.key < $1.key }) {
            let volumeName = "pvc-\(written.uid)"
            let pv = v.volume(volumeName)
            if data.isDeleted(key) {
                if v.claims.contains(where: { $0.uid == written.uid }) { out.append("claim \(key) was deleted but is still there"); continue }
                if written.reclaimPolicy == "Delete" {
                    if let pv { out.append("volume \(volumeName) of deleted claim \(key) (reclaim Delete) is still there (\(pv.phase))") }
                    continue
                }
                guard let pv else { out.append("volume \(volumeName) of deleted claim \(key) (reclaim Retain) is gone"); continue }
                if pv.phase != "Released" { out.append("volume \(volumeName) of deleted claim \(key) (reclaim Retain) is \(pv.phase), not Released") }
            } else {
                guard let c = v.claim(key) else { out.append("claim \(key) is gone"); continue }
                if c.uid != written.uid { out.append("claim \(key) has a new uid \(c.uid) (was \(written.uid))"); continue }
                guard pv != nil else { out.append("volume \(volumeName) of claim \(key) is gone"); continue }
            }
            guard let path = pv?.path else { continue }
            for (file, content) in written.files.sorted(by: { $0.key < $1.key }) {
                let found = try? String(contentsOfFile: "\(path)/\(file)", encoding: .utf8)
                if found != content {
                    out.append("claim \(key): \(file) holds \(found.map { "\($0.count) other bytes" } ?? "nothing") in \(path) (fsync'ed \(content.count) bytes)")
                }
            }
        }
        return out
    }

    /// Every Running and Ready pod on a served node has each claim volume mounted and sees its data.
    static func mounts(_ v: ClusterView, _ data: WrittenData, _ d: TestDaemon) -> [String] {
        var out: [String] = []
        let mountPoints = Set(MountTable.mounts().map(\.mountPoint))
        for pod in v.pods where pod.runningAndReady && d.nodes.contains(pod.node ?? "") {
            for (volume, claimName) in pod.claims.sorted(by: { $0.key < $1.key }) {
                let host = "\(d.stateDir)/pods/\(pod.namespace)/\(pod.name)/volumes/\(volume)"
                guard mountPoints.contains(host) else { out.append("pod \(pod.key) is Ready but \(volume) is not mounted at \(host)"); continue }
                let key = "\(pod.namespace)/\(claimName)"
                guard let written = data.claims[key], v.claim(key)?.uid == written.uid else { continue }
                for (file, content) in written.files.sorted(by: { $0.key < $1.key }) {
                    let found = try? String(contentsOfFile: "\(host)/\(file)", encoding: .utf8)
                    if found != content { out.append("pod \(pod.key) does not see \(file) of \(key) through its mount") }
                }
            }
        }
        return out
    }

    /// The binding history agrees with the objects: each Bound claim's volume was provisioned once
    /// and bound; a Running pod's last entry for its claim is a mount.
    static func history(_ v: ClusterView, _ d: TestDaemon) -> [String] {
        var out: [String] = []
        for c in v.claims where !c.deleting && c.phase == "Bound" {
            guard let volume = c.volume else { continue }
            let rows: [ClusterView.HistoryRow]
            do { rows = try ClusterView.history(d, namespace: c.namespace, claim: c.name) } catch { out.append("\(error)"); continue }
            let mine = rows.filter { $0.volume == volume }
            let provisioned = mine.filter { $0.action == "provisioned" }.count
            if provisioned != 1 { out.append("history of \(c.key): volume \(volume) provisioned \(provisioned) times") }
            if !mine.contains(where: { $0.action == "bound" }) { out.append("history of \(c.key): no bound entry for \(volume)") }
            if let gone = mine.first(where: { $0.action == "deleted" }) { out.append("history of \(c.key): \(volume) \(gone.action) while Bound") }
            for pod in v.pods where pod.runningAndReady && pod.namespace == c.namespace && pod.claims.values.contains(c.name) {
                let last = mine.last { ["mounted", "remounted", "unmounted"].contains($0.action) && $0.pod == pod.name }
                if last == nil || last?.action == "unmounted" {
                    out.append("history of \(c.key): pod \(pod.name) is Running but its last entry is \(last?.action ?? "none")")
                }
            }
        }
        return out
    }
}

/// Writes `content` to `path` and fsyncs it (a pod's committed write).
func writeSynced(_ path: String, _ content: String) throws {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw TestFailure("open \(path): \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    let bytes = Array(content.utf8)
    guard write(fd, bytes, bytes.count) == bytes.count else { throw TestFailure("write \(path): \(String(cString: strerror(errno)))") }
    guard fsync(fd) == 0 else { throw TestFailure("fsync \(path): \(String(cString: strerror(errno)))") }
}
