/// ArgumentParser's usage errors in the words kubectl (cobra and pflag) uses for the same mistakes.
public enum UsageMessage {
    public static func kubectlStyle(_ message: String) -> String {
        let firstLine = message.split(separator: "\n", omittingEmptySubsequences: false).first.map(String.init) ?? message
        if let option = quoted(firstLine, after: "Unknown option ") {
            if option.hasPrefix("--") { return "unknown flag: \(option)" }
            return "unknown shorthand flag: '\(option.dropFirst().prefix(1))' in \(option)"
        }
        if let option = quoted(firstLine, after: "Missing value for ") {
            let flag = String(option.prefix { $0 != " " })
            if flag.hasPrefix("--") { return "flag needs an argument: \(flag)" }
            return "flag needs an argument: '\(flag.dropFirst())' in \(flag)"
        }
        // "The value 'x' is invalid for '--log-level <log-level>'. Please provide one of the following:\n  - a\n  - b"
        if let value = quoted(firstLine, after: "The value "), let flagPart = firstLine.range(of: " is invalid for '") {
            let flag = firstLine[flagPart.upperBound...].prefix { $0 != " " && $0 != "'" }
            let choices = message.split(separator: "\n").dropFirst().compactMap { line -> String? in
                let t = line.drop { $0 == " " }
                return t.hasPrefix("- ") ? String(t.dropFirst(2)) : nil
            }
            if !choices.isEmpty {
                return "invalid argument \"\(value)\" for \"\(flag)\" flag: must be one of \(choices.joined(separator: ", "))"
            }
            return "invalid argument \"\(value)\" for \"\(flag)\" flag"
        }
        guard let first = message.first else { return message }
        return first.lowercased() + message.dropFirst()
    }

    /// The text between the quotes that follow `prefix` (ArgumentParser quotes with ').
    public static func quoted(_ line: String, after prefix: String) -> String? {
        guard line.hasPrefix(prefix + "'") else { return nil }
        let rest = line.dropFirst(prefix.count + 1)
        guard let end = rest.firstIndex(of: "'") else { return nil }
        return String(rest[..<end])
    }

    /// The subcommand the arguments name (`["verify", "retention"]`), for "See 'cairn verify retention --help'".
    public static func commandPath(_ args: [String], commands: [String: [String]]) -> [String] {
        let positionals = args.prefix { $0 != "--" }.filter { !$0.hasPrefix("-") }
        guard let verb = positionals.first(where: { commands[$0] != nil }) else { return [] }
        if let subs = commands[verb], let i = positionals.firstIndex(of: verb), i + 1 < positionals.count,
           subs.contains(positionals[i + 1]) {
            return [verb, positionals[i + 1]]
        }
        return [verb]
    }
}
