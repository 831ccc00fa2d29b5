/// How the Node service decides a stage or publish given what is already staged and published. The
/// answers are the CSI spec's: asking again for what exists is OK, the same path with other arguments
/// is ALREADY_EXISTS, and the publication table for a plugin with SINGLE_NODE_MULTI_WRITER decides a
/// second target path. The adapter then makes the mounts match (it re-mounts a recorded mount that
/// is missing, so "already done" also heals).
public enum NodeRules {
    public struct Stage: Sendable, Hashable {
        public var stagingPath: String
        public var capability: Capability

        public init(stagingPath: String, capability: Capability) {
            self.stagingPath = stagingPath
            self.capability = capability
        }
    }

    public struct Publication: Sendable, Hashable {
        public var volumeID: String
        public var targetPath: String
        public var capability: Capability
        public var readOnly: Bool

        public init(volumeID: String, targetPath: String, capability: Capability, readOnly: Bool) {
            self.volumeID = volumeID
            self.targetPath = targetPath
            self.capability = capability
            self.readOnly = readOnly
        }
    }

    public enum Decision: Equatable, Sendable {
        /// Recorded already with the same arguments: make sure the mount is there, answer OK.
        case alreadyDone
        /// Record it and mount.
        case proceed
        case refuse(CSIFailure)
    }

    public static func stage(volumeID: String, existing: Stage?, request: Stage) -> Decision {
        guard let existing else { return .proceed }
        guard existing.stagingPath == request.stagingPath else {
            return .refuse(CSIFailure(.failedPrecondition,
                "volume \"\(volumeID)\" is already staged at \(existing.stagingPath); a volume has one staging path "
                + "on a node: unstage it there before staging it at \(request.stagingPath)"))
        }
        guard existing.capability == request.capability else {
            return .refuse(CSIFailure(.alreadyExists,
                "volume \"\(volumeID)\" is staged at \(existing.stagingPath) as \(existing.capability), "
                + "not \(request.capability); unstage it first to stage it differently"))
        }
        return .alreadyDone
    }

    /// A publication, given the volume's stage and its other publications. `atTarget` is whatever is
    /// recorded at the requested target path (of this volume or of another one).
    public static func publish(stage: Stage?, requestedStagingPath: String, atTarget: Publication?,
                               others: [Publication], request: Publication) -> Decision {
        let id = request.volumeID
        guard let stage else {
            return .refuse(CSIFailure(.failedPrecondition,
                "volume \"\(id)\" is not staged on this node; NodeStageVolume must succeed before NodePublishVolume"))
        }
        guard stage.stagingPath == requestedStagingPath else {
            return .refuse(CSIFailure(.failedPrecondition,
                "volume \"\(id)\" is staged at \(stage.stagingPath), not at staging_target_path \(requestedStagingPath)"))
        }
        if let atTarget {
            guard atTarget.volumeID == id else {
                return .refuse(CSIFailure(.failedPrecondition,
                    "target_path \(request.targetPath) is where volume \"\(atTarget.volumeID)\" is published; "
                    + "a target path serves one volume"))
            }
            guard atTarget.capability == request.capability, atTarget.readOnly == request.readOnly else {
                return .refuse(CSIFailure(.alreadyExists,
                    "volume \"\(id)\" is published at \(request.targetPath) as \(atTarget.capability)"
                    + "\(atTarget.readOnly ? ", read-only" : ", read-write"); the request asks for \(request.capability)"
                    + "\(request.readOnly ? ", read-only" : ", read-write"): unpublish it first"))
            }
            return .alreadyDone
        }
        if let other = others.first(where: { $0.targetPath != request.targetPath }) {
            let modes = [other.capability.mode, request.capability.mode]
            if let single = modes.first(where: { !$0.allowsSeveralTargets }) {
                return .refuse(CSIFailure(.failedPrecondition,
                    "volume \"\(id)\" is already published at \(other.targetPath), and \(single) allows one target "
                    + "path at a time (ReadWriteOncePod: one pod); SINGLE_NODE_MULTI_WRITER (ReadWriteOnce) allows several"))
            }
        }
        return .proceed
    }
}
