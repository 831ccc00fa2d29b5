import ArgumentParser
import CairnCLICore
import Foundation

extension CairnCommand {
    /// The `cairn` program: kubectl's spellings normalised, then parsed; a usage error is reported as
    /// kubectl reports one (`error: ...`, a pointer to --help, exit status 1, where ArgumentParser
    /// would exit 64).
    public static func runMain(_ arguments: [String] = Array(CommandLine.arguments.dropFirst())) async -> Never {
        var stderr = FileHandle.standardError
        let args: [String]
        do {
            args = try ArgvNormalizer.cairn.normalize(arguments)
        } catch {
            print("error: \(error.message)", to: &stderr)
            Foundation.exit(1)
        }
        do {
            var command = try parseAsRoot(args)
            if var async = command as? AsyncParsableCommand {
                try await async.run()
            } else {
                try command.run()
            }
            Foundation.exit(0)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                Foundation.exit(0)
            }
            if let e = error as? ExitCode { Foundation.exit(e.rawValue) }
            if code != .validationFailure { fail(error) }
            let verb = UsageMessage.commandPath(args, commands: commandNames)
            let text = message(for: error)
            if verb.isEmpty, let word = UsageMessage.quoted(text, after: "Unexpected argument ") {
                print("Error: unknown command \"\(word)\" for \"cairn\"", to: &stderr)
                print("Run 'cairn --help' for usage.", to: &stderr)
                Foundation.exit(1)
            }
            // cobra's own prefix for flag errors is "Error:", as kubectl prints it.
            print("Error: \(UsageMessage.kubectlStyle(text))", to: &stderr)
            print("See '\((["cairn"] + verb).joined(separator: " ")) --help' for usage.", to: &stderr)
            Foundation.exit(1)
        }
    }

    /// Every subcommand name, with the subcommands of each.
    static var commandNames: [String: [String]] {
        var names: [String: [String]] = [:]
        for c in configuration.subcommands {
            let name = c.configuration.commandName ?? c._commandName
            names[name] = c.configuration.subcommands.map { $0.configuration.commandName ?? $0._commandName }
        }
        return names
    }
}
