import CairnAPI
import CairnControl
import CairnCore
import CairnStore
import Foundation

/// `cairn verify retention statefulset NAME`: for every claim the set has ever stamped out, is it still
/// Bound to its first volume, is the directory there, and are the contents what its last pod left?
/// A pod's contents are compared only between the pod leaving (unmount) and a pod arriving (its first
/// mount): a daemon restart under a running pod is a remount, not an arrival, and what the pod wrote
/// meanwhile is its own business.
struct RetentionCheck {
    let plane: ControlPlane
    let agent: any NodeAgent

    func report(namespace: String, name: String, deep: Bool) async throws -> RetentionReport {
        guard let sts = await plane.get(StatefulSet.self, namespace: namespace, name: name) else {
            throw Status.notFound(.statefulSet, name)
        }
        let templates = (sts.spec.volumeClaimTemplates ?? []).compactMap(\.metadata.name)
        let ordinal = { (claim: String) in StatefulSetNames.claimOrdinal(claim, templates: templates, set: name) }
        // Every claim the set has ever stamped out: current ones plus any the history remembers.
        var claimNames = Set(await plane.read { index in
            index.claims.keys.filter { $0.namespace == namespace }.map(\.name)
        }.filter { ordinal($0) != nil })
        for n in try await plane.historyClaims(namespace: namespace) where ordinal(n) != nil { claimNames.insert(n) }
        let sorted = claimNames.sorted { a, b in
            let x = ordinal(a)!, y = ordinal(b)!
            return (x.template, x.ordinal) < (y.template, y.ordinal)
        }
        var rows: [RetentionRow] = []
        for claim in sorted {
            rows.append(try await check(namespace: namespace, claimName: claim, deep: deep, ordinal: ordinal(claim)?.ordinal))
        }
        return RetentionReport(namespace: namespace, statefulSet: name, deep: deep, items: rows)
    }

    func check(namespace: String, claimName: String, deep: Bool, ordinal: Int?) async throws -> RetentionRow {
        let history = try await plane.history(namespace: namespace, claim: claimName)
        let firstVolume = history.first { $0.action == .bound || $0.action == .provisioned }?.volume
        var row = RetentionRow(claim: claimName, ordinal: ordinal, firstVolume: firstVolume)
        guard let claim = await plane.get(PersistentVolumeClaim.self, namespace: namespace, name: claimName) else {
            row.verdict = .missing
            row.detail = "the claim no longer exists"
            return row
        }
        row.phase = claim.phase
        row.volume = claim.spec.volumeName
        guard let volumeName = claim.spec.volumeName, claim.phase == .bound else {
            row.verdict = .unbound
            row.detail = "the claim is \(claim.phase), not Bound"
            return row
        }
        if let firstVolume, firstVolume != volumeName {
            row.verdict = .rebound
            row.detail = "first bound to \(firstVolume), now to \(volumeName)"
        }
        let pv = await plane.get(PersistentVolume.self, namespace: nil, name: volumeName)
        let path = pv?.spec.local?.path
        var isDir: ObjCBool = false
        row.directoryPresent = path.map { FileManager.default.fileExists(atPath: $0, isDirectory: &isDir) && isDir.boolValue } ?? false
        if !row.directoryPresent {
            row.verdict = .directoryMissing
            row.detail = "volume directory \(path ?? "(no path)") is gone"
            return row
        }
        row.usedBytes = await plane.usage(volume: volumeName)?.used
        let users = await plane.read { index in
            index.pods.values.filter { $0.metadata.namespace == namespace && $0.spec.claimVolumes.contains { $0.claim == claimName } }
                .map(\.name).sorted()
        }
        row.pod = users.first
        guard let left = try await plane.fingerprint(claimUID: claim.uid, kind: .left) else {
            row.contents = .neverLeft
            return row
        }
        let arrival = users.isEmpty ? nil : try await plane.fingerprint(claimUID: claim.uid, kind: .arrival)
        var now: VolumeFingerprint?
        if users.isEmpty, let path { now = try agent.fingerprint(path: path, deep: deep) }
        let (contents, detail) = Self.compare(left: left, arrival: arrival, inUse: !users.isEmpty, now: now, deep: deep)
        row.contents = contents
        if contents == .changed {
            if row.verdict == .ok { row.verdict = .changed }
            row.detail = detail
        } else if let detail, row.detail == nil {
            row.detail = detail
        }
        return row
    }

    /// Pure: what the fingerprints say. In use: what the pod found on arrival against what the last pod
    /// left (an arrival older than the leaving is from an earlier pod, so it says nothing). Not in use:
    /// the directory now against what the last pod left.
    static func compare(left: Fingerprint, arrival: Fingerprint?, inUse: Bool, now: VolumeFingerprint?,
                        deep: Bool) -> (RetentionContents, String?) {
        let parts = left.digest.split(separator: "/").map(String.init)
        let leftShallow = parts.first ?? "", leftDeep = parts.count > 1 ? parts[1] : ""
        if inUse {
            guard let arrival, arrival.recordedAt >= left.recordedAt else { return (.inUse, nil) }
            let arrivedShallow = arrival.digest.split(separator: "/").first.map(String.init) ?? ""
            if arrivedShallow == leftShallow && arrival.files == left.files {
                return (.inUse, "unchanged between \(left.pod ?? "the last pod") leaving at \(left.recordedAt) and \(arrival.pod ?? "a pod") arriving at \(arrival.recordedAt)")
            }
            return (.changed, "changed between \(left.pod ?? "the last pod") leaving (\(left.files) files, \(left.bytes) bytes) and \(arrival.pod ?? "a pod") arriving (\(arrival.files) files, \(arrival.bytes) bytes)")
        }
        guard let now else { return (.unknown, nil) }
        let same = now.files == left.files && now.bytes == left.bytes && now.digest == leftShallow && (!deep || now.deepDigest == leftDeep)
        if same { return (.unchanged, nil) }
        return (.changed, "left by \(left.pod ?? "its pod") at \(left.recordedAt) with \(left.files) files, \(left.bytes) bytes; now \(now.files) files, \(now.bytes) bytes")
    }
}
