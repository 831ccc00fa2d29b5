/// field.Error: one thing wrong with one field, worded as Kubernetes words it.
public struct FieldError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum ErrorType: String, Sendable {
        case required = "FieldValueRequired"
        case invalid = "FieldValueInvalid"
        case notSupported = "FieldValueNotSupported"
        case forbidden = "FieldValueForbidden"
        case duplicate = "FieldValueDuplicate"
        case tooLong = "FieldValueTooLong"
        case notFound = "FieldValueNotFound"
        case unknown = "FieldValueUnknown"
    }

    public var type: ErrorType
    /// The field path, e.g. "spec.volumeClaimTemplates[0].spec.accessModes[1]".
    public var field: String
    public var badValue: String?
    public var detail: String

    public init(_ type: ErrorType, _ field: String, value: String? = nil, _ detail: String = "") {
        self.type = type
        self.field = field
        self.badValue = value
        self.detail = detail
    }

    public static func required(_ field: String, _ detail: String = "") -> FieldError {
        FieldError(.required, field, detail)
    }
    public static func invalid(_ field: String, _ value: String, _ detail: String) -> FieldError {
        FieldError(.invalid, field, value: value, detail)
    }
    public static func invalid(_ field: String, string value: String, _ detail: String) -> FieldError {
        FieldError(.invalid, field, value: quoted(value), detail)
    }
    public static func notSupported(_ field: String, _ value: String, supported: [String]) -> FieldError {
        FieldError(.notSupported, field, value: quoted(value),
                   "supported values: " + supported.map(quoted).joined(separator: ", "))
    }
    public static func forbidden(_ field: String, _ detail: String) -> FieldError {
        FieldError(.forbidden, field, detail)
    }
    public static func duplicate(_ field: String, _ value: String) -> FieldError {
        FieldError(.duplicate, field, value: quoted(value))
    }
    public static func notFound(_ field: String, _ value: String) -> FieldError {
        FieldError(.notFound, field, value: quoted(value))
    }
    public static func unknown(_ field: String) -> FieldError {
        FieldError(.unknown, field, "")
    }

    /// The body of the message, after "field: ".
    public var body: String {
        switch type {
        case .required: return detail.isEmpty ? "Required value" : "Required value: \(detail)"
        case .invalid: return "Invalid value: \(badValue ?? "null")" + (detail.isEmpty ? "" : ": \(detail)")
        case .notSupported: return "Unsupported value: \(badValue ?? "null")" + (detail.isEmpty ? "" : ": \(detail)")
        case .forbidden: return detail.isEmpty ? "Forbidden" : "Forbidden: \(detail)"
        case .duplicate: return "Duplicate value: \(badValue ?? "null")"
        case .tooLong: return "Too long: \(detail)"
        case .notFound: return "Not found: \(badValue ?? "null")"
        case .unknown: return "unknown field \"\(field)\"" + (detail.isEmpty ? "" : ": \(detail)")
        }
    }

    public var description: String { type == .unknown ? body : "\(field): \(body)" }
}

func quoted(_ s: String) -> String {
    var out = "\""
    for ch in s.unicodeScalars {
        switch ch {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        default: out.unicodeScalars.append(ch)
        }
    }
    return out + "\""
}

/// Joins errors as the API server does in a 422 message: one error bare, several in brackets.
public func aggregateMessage(_ errors: [FieldError]) -> String {
    if errors.count == 1 { return errors[0].description }
    return "[" + errors.map(\.description).joined(separator: ", ") + "]"
}

/// Several field errors at once (an object is reported with everything wrong with it, not the first thing).
public struct FieldErrors: Error, Sendable, Hashable, CustomStringConvertible {
    public var errors: [FieldError]
    public init(_ errors: [FieldError]) { self.errors = errors }
    public var description: String { aggregateMessage(errors) }
}
