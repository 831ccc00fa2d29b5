/// metav1.StatusReason: the machine-readable reason of a Status, every value apimachinery defines.
public enum StatusReason: String, Codable, Sendable, CaseIterable, CustomStringConvertible {
    case unknown = ""
    case unauthorized = "Unauthorized"
    case forbidden = "Forbidden"
    case notFound = "NotFound"
    case alreadyExists = "AlreadyExists"
    case conflict = "Conflict"
    case gone = "Gone"
    case invalid = "Invalid"
    case serverTimeout = "ServerTimeout"
    case storeReadError = "StorageReadError"
    case timeout = "Timeout"
    case tooManyRequests = "TooManyRequests"
    case badRequest = "BadRequest"
    case methodNotAllowed = "MethodNotAllowed"
    case notAcceptable = "NotAcceptable"
    case requestEntityTooLarge = "RequestEntityTooLarge"
    case unsupportedMediaType = "UnsupportedMediaType"
    case internalError = "InternalError"
    case expired = "Expired"
    case serviceUnavailable = "ServiceUnavailable"

    public var description: String { rawValue }

    /// A reason this version does not know decodes as `.unknown`, as a Go client keeps any string.
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        self = StatusReason(rawValue: text) ?? .unknown
    }
}

/// metav1.Status: every API error is one of these.
public struct Status: Codable, Sendable, Hashable, Error, CustomStringConvertible {
    public struct Cause: Codable, Sendable, Hashable {
        public var reason: String?
        public var message: String?
        public var field: String?
        public init(reason: String?, message: String?, field: String?) {
            self.reason = reason
            self.message = message
            self.field = field
        }
    }
    public struct Details: Codable, Sendable, Hashable {
        public var name: String?
        public var group: String?
        public var kind: String?
        public var causes: [Cause]?
        public init(name: String?, group: String?, kind: String?, causes: [Cause]? = nil) {
            self.name = name
            self.group = group
            self.kind = kind
            self.causes = causes
        }
    }

    public var apiVersion: String = "v1"
    public var kind: String = "Status"
    public var metadata: [String: String] = [:]
    public var status: String
    public var message: String
    public var reason: StatusReason
    public var details: Details?
    public var code: Int

    public init(code: Int, reason: StatusReason, message: String, details: Details? = nil) {
        self.status = code < 400 ? "Success" : "Failure"
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
    }

    public var description: String { message }

    public static func notFound(_ kind: Kind, _ name: String) -> Status {
        Status(code: 404, reason: .notFound, message: "\(kind.qualifiedResource) \"\(name)\" not found",
               details: Details(name: name, group: kind.group, kind: kind.resource))
    }
    public static func alreadyExists(_ kind: Kind, _ name: String) -> Status {
        Status(code: 409, reason: .alreadyExists, message: "\(kind.qualifiedResource) \"\(name)\" already exists",
               details: Details(name: name, group: kind.group, kind: kind.resource))
    }
    public static func conflict(_ kind: Kind, _ name: String, _ why: String) -> Status {
        Status(code: 409, reason: .conflict,
               message: "Operation cannot be fulfilled on \(kind.qualifiedResource) \"\(name)\": \(why)",
               details: Details(name: name, group: kind.group, kind: kind.resource))
    }
    public static func invalid(_ kind: Kind, _ name: String, _ errors: [FieldError]) -> Status {
        Status(code: 422, reason: .invalid, message: "\(kind.qualifiedKind) \"\(name)\" is invalid: \(aggregateMessage(errors))",
               details: Details(name: name, group: kind.group, kind: kind.rawValue,
                                causes: errors.map { Cause(reason: $0.type.rawValue, message: $0.body, field: $0.field) }))
    }
    public static func badRequest(_ message: String) -> Status {
        Status(code: 400, reason: .badRequest, message: message)
    }
    public static func forbidden(_ kind: Kind, _ name: String, _ why: String) -> Status {
        Status(code: 403, reason: .forbidden, message: "\(kind.qualifiedResource) \"\(name)\" is forbidden: \(why)",
               details: Details(name: name, group: kind.group, kind: kind.resource))
    }
    public static func methodNotAllowed(_ message: String) -> Status {
        Status(code: 405, reason: .methodNotAllowed, message: message)
    }
    public static func unauthorized() -> Status { Status(code: 401, reason: .unauthorized, message: "Unauthorized") }
    public static func internalError(_ message: String) -> Status {
        Status(code: 500, reason: .internalError, message: "Internal error occurred: \(message)")
    }
    public static func tooLarge(_ message: String) -> Status {
        Status(code: 413, reason: .requestEntityTooLarge, message: message)
    }
}
