/// Rewrites what a kubectl user types into what the argument parser takes, in one place:
///
/// - a value attached to a short option, as pflag allows: `-owide`, `-ojson`, `-o=json`, `-lapp=web`,
///   `-nteam-a` become `-o wide`, ..., `-n team-a`;
/// - grouped short flags: `-it` becomes `-i -t`;
/// - global options before the verb, as kubectl allows them anywhere: `cairn -n ns get pvc` and
///   `cairn --socket S get pods` move the options after the command (and its subcommand, for
///   `verify retention`);
/// - `exec POD COMMAND` without `--`, which kubectl refuses with its own message.
///
/// Nothing after `--` is touched: that is the command `exec` runs.
public struct ArgvNormalizer: Sendable {
    /// Short options that take a value.
    public var valueShorts: Set<Character>
    /// Long options that take a value (so that a value starting with `-` is not read as flags).
    public var valueLongs: Set<String>
    /// Options every client command takes, which may come before the verb.
    public var globalShorts: Set<Character>
    public var globalLongs: Set<String>
    /// Commands whose first argument is a subcommand (`verify retention`).
    public var nestedCommands: [String: Set<String>]
    /// Commands left as typed (internal ones whose arguments are machine-made).
    public var verbatimCommands: Set<String>

    public init(valueShorts: Set<Character>, valueLongs: Set<String>, globalShorts: Set<Character>,
                globalLongs: Set<String>, nestedCommands: [String: Set<String>], verbatimCommands: Set<String>) {
        self.valueShorts = valueShorts
        self.valueLongs = valueLongs
        self.globalShorts = globalShorts
        self.globalLongs = globalLongs
        self.nestedCommands = nestedCommands
        self.verbatimCommands = verbatimCommands
    }

    /// `cairn`'s options.
    public static let cairn = ArgvNormalizer(
        valueShorts: ["o", "l", "n", "c", "f", "L"],
        valueLongs: ["--output", "--selector", "--namespace", "--container", "--filename", "--socket", "--sort-by",
                     "--replicas", "--resource-version", "--state-dir", "--storage-classes", "--node",
                     "--node-capacity", "--listen", "--token-file", "--log-level", "--label-columns",
                     "--server", "--write-kubeconfig", "--tls-san"],
        globalShorts: ["n"],
        globalLongs: ["--namespace", "--socket"],
        nestedCommands: ["verify": ["retention"]],
        verbatimCommands: ["exec-sandbox"])

    /// The message kubectl 1.32 prints for `kubectl exec POD COMMAND` (and exits 1).
    public static func execWithoutDashDash(_ program: String) -> String {
        "exec [POD] [COMMAND] is not supported anymore. Use exec [POD] -- [COMMAND] instead\nSee '\(program) exec -h' for help and examples"
    }

    /// The arguments after the program name, normalised.
    public func normalize(_ arguments: [String], program: String = "cairn") throws(CommandLineError) -> [String] {
        // Split each token into options (with their values) and positionals, up to "--".
        var tokens: [Token] = []
        var i = 0
        while i < arguments.count {
            let a = arguments[i]
            i += 1
            if a == "--" {
                tokens.append(.terminator(Array(arguments[i...])))
                break
            }
            if a.hasPrefix("--") {
                if a.contains("=") || !valueLongs.contains(a) {
                    tokens.append(.option([a], global: globalLongs.contains(String(a.prefix { $0 != "=" }))))
                } else {
                    let value = i < arguments.count ? [arguments[i]] : []
                    i += value.count
                    tokens.append(.option([a] + value, global: globalLongs.contains(a)))
                }
                continue
            }
            if a.hasPrefix("-"), a.count > 1 {
                var letters = Substring(a.dropFirst())
                while let letter = letters.first {
                    letters = letters.dropFirst()
                    guard valueShorts.contains(letter) else {
                        tokens.append(.option(["-\(letter)"], global: globalShorts.contains(letter)))
                        continue
                    }
                    if letters.hasPrefix("=") { letters = letters.dropFirst() }
                    var option = ["-\(letter)"]
                    if !letters.isEmpty {
                        option.append(String(letters))
                    } else if i < arguments.count {
                        option.append(arguments[i])
                        i += 1
                    }
                    tokens.append(.option(option, global: globalShorts.contains(letter)))
                    letters = ""
                }
                continue
            }
            tokens.append(.positional(a))
        }

        guard let verbAt = tokens.firstIndex(where: { if case .positional = $0 { true } else { false } }),
              case .positional(let verb) = tokens[verbAt] else {
            return tokens.flatMap(\.words)
        }
        if verbatimCommands.contains(verb) { return arguments }

        // The verb (and its subcommand) first, then the global options that preceded it.
        var path = [tokens[verbAt]]
        var rest = Array(tokens[(verbAt + 1)...])
        if let subs = nestedCommands[verb], case .positional(let sub)? = rest.first, subs.contains(sub) {
            path.append(rest.removeFirst())
        }
        let before = tokens[..<verbAt]
        let moved = before.filter(\.isGlobal)
        let kept = before.filter { !$0.isGlobal }

        if verb == "exec" {
            let positionals = rest.filter { if case .positional = $0 { true } else { false } }
            if positionals.count > 1 { throw CommandLineError(Self.execWithoutDashDash(program)) }
        }
        return (kept + path + moved + rest).flatMap(\.words)
    }

    enum Token {
        case option([String], global: Bool)
        case positional(String)
        case terminator([String])

        var words: [String] {
            switch self {
            case .option(let w, _): w
            case .positional(let p): [p]
            case .terminator(let rest): ["--"] + rest
            }
        }
        var isGlobal: Bool { if case .option(_, true) = self { true } else { false } }
    }
}
