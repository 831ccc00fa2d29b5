/// A refusal the driver answers with: the CSI spec's gRPC code and a message that says what is wrong,
/// with which field or volume, and how to fix it. The pure rules return these; the services turn them
/// into `RPCError`s in one place (`CSIFailure.rpcError`).
public struct CSIFailure: Error, Equatable, Sendable, CustomStringConvertible {
    /// The gRPC codes the CSI spec assigns to its error conditions.
    public enum Code: String, Sendable, Equatable {
        case invalidArgument = "INVALID_ARGUMENT"
        case notFound = "NOT_FOUND"
        case alreadyExists = "ALREADY_EXISTS"
        case failedPrecondition = "FAILED_PRECONDITION"
        case outOfRange = "OUT_OF_RANGE"
        case resourceExhausted = "RESOURCE_EXHAUSTED"
        case aborted = "ABORTED"
        case unavailable = "UNAVAILABLE"
        case `internal` = "INTERNAL"
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }

    static func missing(_ field: String) -> CSIFailure {
        CSIFailure(.invalidArgument, "\(field) is required")
    }

    static func invalid(_ field: String, _ why: String) -> CSIFailure {
        CSIFailure(.invalidArgument, "\(field): \(why)")
    }

    static func unknownVolume(_ id: String) -> CSIFailure {
        CSIFailure(.notFound, "volume \"\(id)\" does not exist on this node")
    }
}
