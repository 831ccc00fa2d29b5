// Times the planners on large states: what the planner tests used to assert and must not (a timing
// assertion fails at random on a loaded machine). Run by tools/bench-planners.sh, which prints the
// figures with the baseline of building the index itself beside them.
import CairnControl
import CairnCore
import Foundation

let epoch = Date(timeIntervalSince1970: 1_800_000_000)
func time(_ s: Int) -> Time { Time(epoch.addingTimeInterval(TimeInterval(s))) }
let now = time(3600)

func node(_ name: String, storage: String) -> Node {
    var n = Node(metadata: ObjectMeta(name: name, labels: [Node.hostnameLabel: name], annotations: [Node.dataRootAnnotation: "/data/\(name)"]))
    n.metadata.uid = "uid-node-\(name)"
    var status = NodeStatus()
    status.allocatable = [Node.storageResource: try! Quantity(parsing: storage)]
    n.status = status
    return n
}

func storageClass(_ name: String, waitForConsumer: Bool) -> StorageClass {
    var sc = StorageClass(metadata: ObjectMeta(name: name), provisioner: Validation.provisionerName)
    sc.metadata.uid = "uid-sc-\(name)"
    sc.volumeBindingMode = waitForConsumer ? "WaitForFirstConsumer" : "Immediate"
    sc.reclaimPolicy = "Delete"
    return sc
}

func claim(_ name: String, class klass: String, created: Int) -> PersistentVolumeClaim {
    var meta = ObjectMeta(name: name, namespace: "default")
    meta.uid = "uid-\(name)"
    meta.resourceVersion = "1"
    meta.creationTimestamp = time(created)
    var spec = PersistentVolumeClaimSpec()
    spec.accessModes = ["ReadWriteOnce"]
    spec.resources = ResourceRequirements(requests: ["storage": try! Quantity(parsing: "1Gi")])
    spec.storageClassName = klass
    var c = PersistentVolumeClaim(metadata: meta, spec: spec)
    c.status = PersistentVolumeClaimStatus()
    c.status?.phase = .pending
    return c
}

func pod(_ name: String, claim: String, created: Int) -> Pod {
    var meta = ObjectMeta(name: name, namespace: "default")
    meta.uid = "uid-pod-\(name)"
    meta.resourceVersion = "1"
    meta.creationTimestamp = time(created)
    var spec = PodSpec(containers: [Container(name: "app", image: "busybox")])
    spec.volumes = [Volume(name: "data", persistentVolumeClaim: .init(claimName: claim))]
    var p = Pod(metadata: meta, spec: spec)
    p.status = PodStatus()
    p.status?.phase = .pending
    return p
}

/// The fastest of `runs` runs, in milliseconds.
func best(_ runs: Int, _ body: () -> Void) -> Double {
    let clock = ContinuousClock()
    var fastest = Duration.seconds(3600)
    for _ in 0..<runs { fastest = min(fastest, clock.measure(body)) }
    let (s, atto) = fastest.components
    return Double(s) * 1000 + Double(atto) / 1e15
}

let n = Int(CommandLine.arguments.dropFirst().first ?? "") ?? 1000
var s = ClusterSnapshot(now: now)
s.nodes = (0..<10).map { node("node\($0)", storage: "2000Gi") }
s.storageClasses = [storageClass("fast", waitForConsumer: false), storageClass("local", waitForConsumer: true)]
s.claims = (0..<n).map { claim(String(format: "data-%05d", $0), class: "local", created: $0) }
    + (0..<n).map { claim(String(format: "imm-%05d", $0), class: "fast", created: n + $0) }
s.pods = (0..<n).map { pod(String(format: "web-%05d", $0), claim: String(format: "data-%05d", $0), created: $0) }
s.localNodes = Set(s.nodes.map(\.name))

var index = ClusterIndex()
let build = best(5) { index = ClusterIndex(s) }
var actions: [Action] = []
let schedule = best(5) { actions = Scheduler.plan(index, keys: Scheduler.keys(index), now: now) }
let scheduled = actions.count
let storage = best(5) { actions = StoragePlanner.plan(index, keys: StoragePlanner.keys(index), now: now) }
let planned = actions.count
let oneKey = ObjectRef(.persistentVolumeClaim, NamespacedName("default", String(format: "imm-%05d", n / 2)))
let single = best(50) { actions = StoragePlanner.plan(index, keys: [oneKey], now: now) }
var updated = index
let oneChange = best(50) { updated.upsert(s.claims[n + n / 2]) }

func row(_ name: String, _ ms: Double, _ note: String) {
    print(name.padding(toLength: 44, withPad: " ", startingAt: 0) + String(format: "%9.3f ms   ", ms) + note)
}
print("Cairn planner benchmark (\(n) pods, \(2 * n) claims, 10 nodes; fastest of 5, single key of 50)")
row("build the index (baseline)", build, "")
row("Scheduler, every pod", schedule, String(format: "(%.1fx baseline, %d actions)", schedule / build, scheduled))
row("StoragePlanner, every claim", storage, String(format: "(%.1fx baseline, %d actions)", storage / build, planned))
row("StoragePlanner, one claim", single, String(format: "(%.4fx of every claim)", single / storage))
row("index: one claim changed", oneChange, String(format: "(%.4fx of building it)", oneChange / build))
