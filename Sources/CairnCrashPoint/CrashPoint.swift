#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Named places in multi-step operations where a test may make the process die, as a power cut or
/// kill -9 would: compiled into every build, inert unless the environment arms one.
///
/// - `CAIRN_CRASH_AT=NAME:N` kills the process (SIGKILL: no exit handlers, nothing flushed) the Nth
///   time `reached(NAME)` is called.
/// - `CAIRN_CRASH_AT=NAME:N@THEN` waits for the Nth time NAME is reached, then kills the process the
///   next time THEN is reached: `claim-bound:1@store-committed` dies just after the transaction that
///   holds the binding is durable, where `claim-bound:1` dies with it still staged.
/// - `CAIRN_CRASH_TRACE=FILE` appends every point's name to FILE as it is reached (one line each):
///   how a test learns which points a scenario reaches, and how often.
///
/// Before dying the process writes one line to stderr naming the point, so a test can tell the crash
/// it asked for from any other death.
public enum CrashPoint {
    /// The variable that arms a point.
    public static let armVariable = "CAIRN_CRASH_AT"
    /// The variable that names the trace file.
    public static let traceVariable = "CAIRN_CRASH_TRACE"
    /// The first line a killed process writes to stderr starts with this.
    public static let announcement = "cairn: crash point"

    /// Marks that the process reached `name`. Costs one load and a branch unless a point is armed or
    /// traced: only then is the name made (some are built at run time, `controller:action`).
    @inline(__always)
    public static func reached(_ name: @autoclosure () -> String) {
        guard let armed = state else { return }
        var text = name()
        text.withUTF8 { armed.reached($0) }
    }

    /// The parsed environment, read once; nil when neither variable is set (the normal case).
    private static let state: Armed? = Armed(environment: { key in
        guard let value = getenv(key) else { return nil }
        let text = String(cString: value)
        return text.isEmpty ? nil : text
    })

    /// An armed specification, parsed: exposed for the parser's table test.
    public struct Specification: Equatable, Sendable {
        public var name: String
        public var count: Int
        /// The point whose next reach kills, once `name` was reached `count` times (nil: at once).
        public var then: String?

        public init(name: String, count: Int, then: String? = nil) {
            self.name = name
            self.count = count
            self.then = then
        }

        /// `NAME:N` or `NAME:N@THEN`; N >= 1. nil for anything else.
        public init?(parsing text: String) {
            var rest = Substring(text)
            var then: String?
            if let at = rest.firstIndex(of: "@") {
                then = String(rest[rest.index(after: at)...])
                rest = rest[..<at]
                guard let t = then, !t.isEmpty, !t.contains("@") else { return nil }
            }
            guard let colon = rest.lastIndex(of: ":"), let n = Int(rest[rest.index(after: colon)...]), n >= 1 else { return nil }
            let name = String(rest[..<colon])
            // Names may hold colons (`statefulset-controller:create-Pod`); the count is after the last.
            guard !name.isEmpty, !name.hasSuffix(":") else { return nil }
            self.init(name: name, count: n, then: then)
        }
    }

    final class Armed: Sendable {
        let specification: Specification?
        let traceFD: Int32
        /// Times the armed point was reached; then, whether the second stage is armed.
        private let count = Atomic<Int>(0)
        private let thenArmed = Atomic<Bool>(false)

        init?(environment: (String) -> String?) {
            let spec = environment(CrashPoint.armVariable)
            let trace = environment(CrashPoint.traceVariable)
            guard spec != nil || trace != nil else { return nil }
            if let spec {
                guard let parsed = Specification(parsing: spec) else {
                    // A test that arms a point and gets no crash must not pass by accident.
                    Armed.announce("\(CrashPoint.armVariable)=\(spec) is not NAME:N or NAME:N@THEN (N >= 1); refusing to run\n")
                    exit(70)
                }
                specification = parsed
            } else {
                specification = nil
            }
            traceFD = trace.map { open($0, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644) } ?? -1
        }

        func reached(_ point: UnsafeBufferPointer<UInt8>) {
            if traceFD >= 0 {
                // One write(2) per line, so lines from several threads never interleave.
                var line = Array(point)
                line.append(10)
                _ = line.withUnsafeBytes { write(traceFD, $0.baseAddress, $0.count) }
            }
            guard let spec = specification else { return }
            if let then = spec.then, thenArmed.load(ordering: .acquiring), Armed.equal(point, then) {
                die("\(CrashPoint.announcement) \(then) reached after \(spec.name):\(spec.count): killing the process\n")
            }
            guard Armed.equal(point, spec.name) else { return }
            let n = count.add(1, ordering: .acquiringAndReleasing).newValue
            guard n == spec.count else { return }
            if spec.then != nil {
                thenArmed.store(true, ordering: .releasing)
            } else {
                die("\(CrashPoint.announcement) \(spec.name) reached \(n) time(s): killing the process\n")
            }
        }

        static func equal(_ point: UnsafeBufferPointer<UInt8>, _ name: String) -> Bool {
            name.utf8.elementsEqual(point)
        }

        private func die(_ message: String) -> Never {
            Armed.announce(message)
            kill(getpid(), SIGKILL)
            // SIGKILL cannot be caught; this line is never reached.
            _exit(137)
        }

        static func announce(_ message: String) {
            var bytes = Array(message.utf8)
            _ = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
        }
    }
}
