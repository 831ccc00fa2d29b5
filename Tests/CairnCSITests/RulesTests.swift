import Testing
@testable import CairnCSI

// Tables for the pure rules. Case numbers are referred to by the failure messages.

/// What a rule should answer: a value, or a refusal with the spec's code.
enum Outcome<T: Equatable & Sendable>: Equatable, Sendable {
    case ok(T)
    case refused(CSIFailure.Code)

    init(_ result: Result<T, CSIFailure>) {
        switch result {
        case .success(let v): self = .ok(v)
        case .failure(let f): self = .refused(f.code)
        }
    }
}

@Suite struct CapabilityRulesTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var number: Int
        var request: CapabilityRequest
        var expected: Outcome<Capability>
        var testDescription: String { "case \(number)" }
    }

    static let mount = CapabilityRequest.AccessType.mount(fsType: "", mountFlags: [], volumeMountGroup: "")

    static let cases: [Case] = [
        Case(number: 1, request: .init(accessType: mount, accessMode: 1), expected: .ok(.init(mode: .singleNodeWriter))),
        Case(number: 2, request: .init(accessType: mount, accessMode: 2), expected: .ok(.init(mode: .singleNodeReaderOnly))),
        Case(number: 3, request: .init(accessType: mount, accessMode: 6), expected: .ok(.init(mode: .singleNodeSingleWriter))),
        Case(number: 4, request: .init(accessType: mount, accessMode: 7), expected: .ok(.init(mode: .singleNodeMultiWriter))),
        // Multi-node modes, block, no access type, no or unknown mode, fs types and flags: refused.
        Case(number: 5, request: .init(accessType: mount, accessMode: 3), expected: .refused(.invalidArgument)),
        Case(number: 6, request: .init(accessType: mount, accessMode: 4), expected: .refused(.invalidArgument)),
        Case(number: 7, request: .init(accessType: mount, accessMode: 5), expected: .refused(.invalidArgument)),
        Case(number: 8, request: .init(accessType: .block, accessMode: 1), expected: .refused(.invalidArgument)),
        Case(number: 9, request: .init(accessType: nil, accessMode: 1), expected: .refused(.invalidArgument)),
        Case(number: 10, request: .init(accessType: mount, accessMode: nil), expected: .refused(.invalidArgument)),
        Case(number: 11, request: .init(accessType: mount, accessMode: 0), expected: .refused(.invalidArgument)),
        Case(number: 12, request: .init(accessType: mount, accessMode: 42), expected: .refused(.invalidArgument)),
        Case(number: 13, request: .init(accessType: .mount(fsType: "ext4", mountFlags: [], volumeMountGroup: ""), accessMode: 1),
             expected: .refused(.invalidArgument)),
        Case(number: 14, request: .init(accessType: .mount(fsType: "", mountFlags: ["noatime"], volumeMountGroup: ""), accessMode: 1),
             expected: .refused(.invalidArgument)),
        Case(number: 15, request: .init(accessType: .mount(fsType: "", mountFlags: [], volumeMountGroup: "1000"), accessMode: 1),
             expected: .refused(.invalidArgument)),
    ]

    @Test(arguments: cases)
    func check(_ c: Case) {
        let result = CapabilityRules.check(c.request, field: "cap")
        #expect(Outcome(result) == c.expected, "case \(c.number): \(result)")
        if case .failure(let f) = result {
            #expect(f.message.hasPrefix("cap"), "case \(c.number): the message names the field: \(f.message)")
        }
    }

    @Test func aListNeedsOneAndIsSortedWithoutRepeats() throws {
        #expect(CapabilityRules.checkAll([], field: "volume_capabilities") == .failure(.missing("volume_capabilities")))
        let list = try CapabilityRules.checkAll([
            .init(accessType: Self.mount, accessMode: 7), .init(accessType: Self.mount, accessMode: 1),
            .init(accessType: Self.mount, accessMode: 7),
        ], field: "volume_capabilities").get()
        #expect(list.map(\.mode) == [.singleNodeWriter, .singleNodeMultiWriter])
        #expect(CapabilityRules.canonical(list) == "mount/SINGLE_NODE_WRITER,mount/SINGLE_NODE_MULTI_WRITER")
        guard case .failure(let f) = CapabilityRules.checkAll([.init(accessType: Self.mount, accessMode: 1),
                                                               .init(accessType: .block, accessMode: 1)], field: "caps") else {
            Issue.record("a block capability in the list must refuse the list")
            return
        }
        #expect(f.message.hasPrefix("caps[1].block"))
    }

    @Test func kubernetesNames() {
        #expect(AccessMode.singleNodeWriter.kubernetesName == "ReadWriteOnce")
        #expect(AccessMode.singleNodeMultiWriter.kubernetesName == "ReadWriteOnce")
        #expect(AccessMode.singleNodeSingleWriter.kubernetesName == "ReadWriteOncePod")
        for mode in AccessMode.allCases { #expect(AccessMode(name: mode.description) == mode) }
    }
}

@Suite struct CapacityRulesTests {
    // (number, range, expected size or code)
    static let newVolume: [(Int, CapacityRange?, Outcome<Int64>)] = [
        (1, nil, .ok(1 << 30)),
        (2, CapacityRange(), .ok(1 << 30)),
        (3, CapacityRange(requiredBytes: 5000), .ok(5000)),
        (4, CapacityRange(limitBytes: 4096), .ok(4096)),
        (5, CapacityRange(limitBytes: 4 << 30), .ok(1 << 30)),
        (6, CapacityRange(requiredBytes: 10, limitBytes: 10), .ok(10)),
        (7, CapacityRange(requiredBytes: 11, limitBytes: 10), .refused(.outOfRange)),
        (8, CapacityRange(requiredBytes: -1), .refused(.outOfRange)),
        (9, CapacityRange(limitBytes: -1), .refused(.outOfRange)),
    ]

    @Test func newVolumeSizes() {
        for (n, range, expected) in Self.newVolume {
            #expect(Outcome(CapacityRules.newVolumeSize(range)) == expected, "case \(n)")
        }
    }

    static let expansions: [(Int, Int64, CapacityRange, Outcome<Int64>)] = [
        (1, 100, CapacityRange(requiredBytes: 200), .ok(200)),
        (2, 100, CapacityRange(requiredBytes: 50), .ok(100)),  // never shrinks: already satisfied
        (3, 100, CapacityRange(requiredBytes: 200, limitBytes: 300), .ok(200)),
        (4, 100, CapacityRange(limitBytes: 50), .refused(.outOfRange)),  // would have to shrink
        (5, 100, CapacityRange(), .ok(100)),
        (6, 100, CapacityRange(requiredBytes: 300, limitBytes: 200), .refused(.outOfRange)),
    ]

    @Test func expandedSizes() {
        for (n, current, range, expected) in Self.expansions {
            #expect(Outcome(CapacityRules.expandedSize(current: current, range: range)) == expected, "case \(n)")
        }
    }

    @Test func room() {
        #expect(CapacityRules.free(nodeCapacity: 100, provisioned: 30) == 70)
        #expect(CapacityRules.free(nodeCapacity: 100, provisioned: 130) == 0)
        #expect(CapacityRules.room(for: 70, free: 70, node: "n", code: .resourceExhausted, what: "v") == nil)
        let refusal = CapacityRules.room(for: 71, free: 70, node: "n", code: .resourceExhausted, what: "volume \"v\"")
        #expect(refusal?.code == .resourceExhausted)
        #expect(refusal?.message.contains("node n has 70 bytes") == true)
        #expect(CapacityRange(requiredBytes: 5, limitBytes: 9).admits(7))
        #expect(!CapacityRange(requiredBytes: 5).admits(4))
        #expect(!CapacityRange(limitBytes: 5).admits(6))
    }
}

@Suite struct VolumeNamingTests {
    @Test func volumeIDs() throws {
        // 1: external-provisioner's names are used as they are.
        #expect(try VolumeNaming.volumeID(requestName: "pvc-3f98c60c-1b2a-4c3d-9e8f-0123456789ab").get()
            == "pvc-3f98c60c-1b2a-4c3d-9e8f-0123456789ab")
        // 2: a name that is not a safe path component gets a stable hashed id.
        let spaced = try VolumeNaming.volumeID(requestName: "my volume/1").get()
        #expect(spaced.hasPrefix("csi-") && spaced.count == 36)
        #expect(try VolumeNaming.volumeID(requestName: "my volume/1").get() == spaced)
        #expect(try VolumeNaming.volumeID(requestName: "my volume/2").get() != spaced)
        // 3: a leading dot is not safe either (".." must never name a directory).
        #expect(try VolumeNaming.volumeID(requestName: "..").get().hasPrefix("csi-"))
        // 4: empty, too long, control characters.
        #expect(VolumeNaming.volumeID(requestName: "") == .failure(.missing("name")))
        #expect((try? VolumeNaming.volumeID(requestName: String(repeating: "a", count: 129)).get()) == nil)
        #expect((try? VolumeNaming.volumeID(requestName: "a\u{7}b").get()) == nil)
        // 5: tabs and other whitespace are allowed by CSI (hashed).
        #expect(try VolumeNaming.volumeID(requestName: "a\tb").get().hasPrefix("csi-"))
    }

    @Test func parameters() throws {
        let claim = [VolumeNaming.claimNamespaceKey: "default", VolumeNaming.claimNameKey: "data-web-0",
                     VolumeNaming.persistentVolumeKey: "pvc-3f98c60c-1b2a-4c3d-9e8f-0123456789ab"]
        // 1: no parameters.
        #expect(try VolumeNaming.parameters([:]).get() == VolumeParameters(dirMode: 0o777, claim: nil))
        // 2: the claim metadata and a mode.
        let p = try VolumeNaming.parameters(claim.merging(["dirMode": "0750"]) { a, _ in a }).get()
        #expect(p.dirMode == 0o750)
        #expect(p.claim == .init(namespace: "default", name: "data-web-0", persistentVolume: "pvc-3f98c60c-1b2a-4c3d-9e8f-0123456789ab"))
        // 3: Kubernetes' other keys are its own.
        #expect(try VolumeNaming.parameters(["csi.storage.k8s.io/something-new": "x"]).get().claim == nil)
        // 4-8: refused, each naming the parameter.
        let refused: [(Int, [String: String], String)] = [
            (4, ["dirMode": "rwx"], "parameters.dirMode"),
            (5, ["dirMode": "99999"], "parameters.dirMode"),
            (6, ["placement": "spread"], "parameters.placement"),
            (7, ["colour": "red"], "parameters.colour"),
            (8, [VolumeNaming.claimNameKey: "x"], "parameters.csi.storage.k8s.io/pvc/namespace"),
            (9, claim.merging([VolumeNaming.claimNamespaceKey: "Not_A_Label"]) { _, b in b }, "parameters.csi.storage.k8s.io/pvc/namespace"),
        ]
        for (n, params, field) in refused {
            guard case .failure(let f) = VolumeNaming.parameters(params) else {
                Issue.record("case \(n) must be refused")
                continue
            }
            #expect(f.code == .invalidArgument, "case \(n)")
            #expect(f.message.hasPrefix(field), "case \(n): \(f.message)")
        }
    }

    @Test func directories() {
        let claim = VolumeParameters.Claim(namespace: "default", name: "data-web-0", persistentVolume: "pvc-1")
        #expect(VolumeNaming.directory(volumeID: "pvc-1", claim: claim) == "pvc-1_default_data-web-0")
        #expect(VolumeNaming.directory(volumeID: "sanity-1", claim: nil) == "sanity-1")
        let long = VolumeParameters.Claim(namespace: String(repeating: "n", count: 63), name: String(repeating: "c", count: 253),
                                          persistentVolume: "pvc-3f98c60c-1b2a-4c3d-9e8f-0123456789ab")
        let dir = VolumeNaming.directory(volumeID: "x", claim: long)
        #expect(dir.utf8.count == 255)
        #expect(dir.hasPrefix("pvc-3f98c60c-1b2a-4c3d-9e8f-0123456789ab_\(long.namespace)_ccc"))
        #expect(VolumeNaming.claimUID(persistentVolume: "pvc-3f98c60c-1b2a-4c3d-9e8f-0123456789ab") == "3f98c60c-1b2a-4c3d-9e8f-0123456789ab")
        #expect(VolumeNaming.claimUID(persistentVolume: "pvc-1") == nil)
        #expect(VolumeNaming.claimUID(persistentVolume: "manual-volume") == nil)
    }
}

@Suite struct PaginationTests {
    static let ids = ["a", "b", "c", "d", "e"]

    @Test func pages() throws {
        // 1: everything without a limit.
        let all = try Pagination.page(sortedIDs: Self.ids, maxEntries: 0, startingToken: "").get()
        #expect(all.range == 0..<5 && all.nextToken.isEmpty)
        // 2: pages of two, following the tokens to the end.
        var seen: [String] = []
        var token = ""
        var pages = 0
        repeat {
            let page = try Pagination.page(sortedIDs: Self.ids, maxEntries: 2, startingToken: token).get()
            seen += Self.ids[page.range]
            token = page.nextToken
            pages += 1
        } while !token.isEmpty && pages < 10
        #expect(seen == Self.ids && pages == 3)
        // 3: the volume a token names is deleted before the next page: the listing goes on after it.
        let first = try Pagination.page(sortedIDs: Self.ids, maxEntries: 2, startingToken: "").get()
        let afterDelete = try Pagination.page(sortedIDs: ["a", "c", "d", "e"], maxEntries: 2, startingToken: first.nextToken).get()
        #expect(["a", "c", "d", "e"][afterDelete.range] == ["c", "d"])
        // 4: a volume added between pages that sorts later is seen, none twice.
        let added = try Pagination.page(sortedIDs: ["a", "b", "bb", "c", "d", "e"], maxEntries: 0, startingToken: first.nextToken).get()
        #expect(["a", "b", "bb", "c", "d", "e"][added.range] == ["bb", "c", "d", "e"])
        // 5: an exact last page has no next token.
        let exact = try Pagination.page(sortedIDs: ["a", "b"], maxEntries: 2, startingToken: "").get()
        #expect(exact.nextToken.isEmpty)
    }

    @Test func badRequests() {
        #expect((try? Pagination.page(sortedIDs: Self.ids, maxEntries: -1, startingToken: "").get()) == nil)
        for token in ["invalid-token", "cairn1:", "cairn1:zz", "cairn1:616"] {
            guard case .failure(let f) = Pagination.page(sortedIDs: Self.ids, maxEntries: 0, startingToken: token) else {
                Issue.record("token \(token) must be refused")
                continue
            }
            #expect(f.code == .aborted, "token \(token)")
        }
    }
}

@Suite struct TopologyTests {
    @Test func requirements() {
        let me = NodeTopology.segments(node: "n1")
        #expect(NodeTopology.allows(requisite: [], node: "n1"))
        #expect(NodeTopology.allows(requisite: [me], node: "n1"))
        #expect(NodeTopology.allows(requisite: [NodeTopology.segments(node: "n2"), me], node: "n1"))
        #expect(!NodeTopology.allows(requisite: [NodeTopology.segments(node: "n2")], node: "n1"))
        #expect(NodeTopology.describes(nil, node: "n1"))
        #expect(NodeTopology.describes(me, node: "n1"))
        #expect(!NodeTopology.describes(NodeTopology.segments(node: "n2"), node: "n1"))
        #expect(!NodeTopology.describes(["zone": "a"], node: "n1"))
    }

    @Test func nodeIDs() {
        #expect(NodeTopology.problem(nodeID: "k8s-node1") == nil)
        #expect(NodeTopology.problem(nodeID: "ip-10-0-0-1.ec2.internal") == nil)
        #expect(NodeTopology.problem(nodeID: "") != nil)
        #expect(NodeTopology.problem(nodeID: "-a") != nil)
        #expect(NodeTopology.problem(nodeID: "a/b") != nil)
        #expect(NodeTopology.problem(nodeID: String(repeating: "a", count: 64)) != nil)
    }
}

@Suite struct NodeRulesTests {
    static let writer = Capability(mode: .singleNodeWriter)
    static let multi = Capability(mode: .singleNodeMultiWriter)
    static let single = Capability(mode: .singleNodeSingleWriter)
    static let reader = Capability(mode: .singleNodeReaderOnly)

    @Test func stage() {
        let s = NodeRules.Stage(stagingPath: "/s", capability: Self.writer)
        // 1: first time. 2: the same again. 3: other capability, same path. 4: another path.
        #expect(NodeRules.stage(volumeID: "v", existing: nil, request: s) == .proceed)
        #expect(NodeRules.stage(volumeID: "v", existing: s, request: s) == .alreadyDone)
        #expect(code(NodeRules.stage(volumeID: "v", existing: s, request: .init(stagingPath: "/s", capability: Self.reader)))
            == .alreadyExists)
        #expect(code(NodeRules.stage(volumeID: "v", existing: s, request: .init(stagingPath: "/t", capability: Self.writer)))
            == .failedPrecondition)
    }

    func publication(_ target: String, _ c: Capability, readOnly: Bool = false, volume: String = "v") -> NodeRules.Publication {
        .init(volumeID: volume, targetPath: target, capability: c, readOnly: readOnly)
    }

    /// The spec's second NodePublishVolume table, for a plugin with SINGLE_NODE_MULTI_WRITER.
    @Test func publishTable() {
        let stage = NodeRules.Stage(stagingPath: "/s", capability: Self.writer)
        func decide(first: NodeRules.Publication, second: NodeRules.Publication) -> NodeRules.Decision {
            let atTarget = first.targetPath == second.targetPath ? first : nil
            return NodeRules.publish(stage: stage, requestedStagingPath: "/s", atTarget: atTarget, others: [first], request: second)
        }
        // (number, capability, T1=T2, P1=P2, expected)
        let table: [(Int, Capability, Bool, Bool, NodeRules.Decision)] = [
            (1, Self.single, true, true, .alreadyDone),
            (2, Self.single, true, false, .refuse(.init(.alreadyExists, ""))),
            (3, Self.single, false, true, .refuse(.init(.failedPrecondition, ""))),
            (4, Self.single, false, false, .refuse(.init(.failedPrecondition, ""))),
            (5, Self.multi, true, true, .alreadyDone),
            (6, Self.multi, true, false, .refuse(.init(.alreadyExists, ""))),
            (7, Self.multi, false, true, .proceed),
            (8, Self.multi, false, false, .proceed),
            (9, Self.writer, true, true, .alreadyDone),
            (10, Self.writer, true, false, .refuse(.init(.alreadyExists, ""))),
            (11, Self.writer, false, true, .refuse(.init(.failedPrecondition, ""))),
            (12, Self.writer, false, false, .refuse(.init(.failedPrecondition, ""))),
            (13, Self.reader, false, true, .refuse(.init(.failedPrecondition, ""))),
        ]
        for (n, c, sameTarget, sameArguments, expected) in table {
            let first = publication("/t1", c)
            let second = publication(sameTarget ? "/t1" : "/t2", c, readOnly: !sameArguments)
            let got = decide(first: first, second: second)
            switch (got, expected) {
            case (.refuse(let a), .refuse(let b)): #expect(a.code == b.code, "case \(n): \(a)")
            default: #expect(got == expected, "case \(n)")
            }
        }
    }

    @Test func publishPreconditions() {
        let stage = NodeRules.Stage(stagingPath: "/s", capability: Self.writer)
        let p = publication("/t", Self.writer)
        // 1: not staged. 2: staged elsewhere. 3: the target holds another volume.
        #expect(code(NodeRules.publish(stage: nil, requestedStagingPath: "/s", atTarget: nil, others: [], request: p)) == .failedPrecondition)
        #expect(code(NodeRules.publish(stage: stage, requestedStagingPath: "/x", atTarget: nil, others: [], request: p)) == .failedPrecondition)
        #expect(code(NodeRules.publish(stage: stage, requestedStagingPath: "/s", atTarget: publication("/t", Self.writer, volume: "w"),
                                       others: [], request: p)) == .failedPrecondition)
        // 4: a multi-writer publication next to a single-writer one is refused both ways.
        #expect(code(NodeRules.publish(stage: stage, requestedStagingPath: "/s", atTarget: nil,
                                       others: [publication("/t0", Self.writer)], request: publication("/t", Self.multi))) == .failedPrecondition)
    }

    func code(_ d: NodeRules.Decision) -> CSIFailure.Code? {
        if case .refuse(let f) = d { return f.code }
        return nil
    }
}
