import CairnAPIScenarios
import CairnControl
import CairnCore
import CairnServer
import Foundation
import Testing

/// The request table against the handler in this process (the end-to-end suite runs it against a
/// live daemon).
@Suite("API request table, in process")
struct InProcessAPITests {
    @Test(arguments: APIScenarios.all)
    func scenario(_ s: APIScenario) async throws {
        let server = try await InProcessServer()
        defer { server.stop() }
        let problems = try await s.run(server)
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
    }

    /// A resourceVersion older than the change log still holds gets 410 Expired, in kube-apiserver's words.
    @Test func anExpiredResourceVersionGets410() async throws {
        var settings = ControlPlaneSettings()
        settings.changeLogRetention = 10
        let server = try await InProcessServer(settings: settings)
        defer { server.stop() }
        let start = APIScenarios.rv(try await server.send("GET", "/api/v1/namespaces/default/services", body: nil).body)
        for i in 0..<30 { _ = try await server.send("POST", "/api/v1/namespaces/default/services", body: APIScenarios.service("s\(i)")) }
        let watch = try await server.send("GET", "/api/v1/namespaces/default/services?watch=1&resourceVersion=\(start)&timeoutSeconds=1", body: nil)
        let e = APIScenarios.events(watch.body)
        #expect(e.count == 1 && e.first?.type == "ERROR", "\(watch.body)")
        #expect(e.first?.object["code"] == .int(410) && e.first?.object["reason"]?.stringValue == "Expired")
        #expect(e.first?.object["message"]?.stringValue?.hasPrefix("too old resource version: \(start) (") == true)
    }

    /// Provisioning and pod start through the whole loop, with the node agent faked: the seed
    /// StatefulSet's pod runs, its claim is bound.
    @Test func aStatefulSetRunsThroughTheLoop() async throws {
        let server = try await InProcessServer()
        defer { server.stop() }
        for doc in try APIScenarios.manifests() where doc.source.hasSuffix("statefulset.yaml") {
            let kind = try ObjectDecoding.kind(of: doc.json).get()
            let r = try await server.send("POST", kind.collectionPath(namespace: "default"), body: doc.json.jsonText())
            #expect(r.status == 201, "\(r.body)")
        }
        let deadline = Date().addingTimeInterval(60)
        var running = false
        while Date() < deadline, !running {
            let pod = try await server.send("GET", "/api/v1/namespaces/default/pods/stateful-pvc-0", body: nil)
            running = APIScenarios.object(pod.body)["status"]?["phase"]?.stringValue == "Running"
            if !running { try await Task.sleep(for: .milliseconds(20)) }
        }
        #expect(running)
        let claim = try await server.send("GET", "/api/v1/namespaces/default/persistentvolumeclaims/volume-stateful-pvc-0", body: nil)
        #expect(APIScenarios.object(claim.body)["status"]?["phase"]?.stringValue == "Bound")
        #expect(server.agent.runningPods.withLock { $0 } == ["default/stateful-pvc-0"])
    }
}
