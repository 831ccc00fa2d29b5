import ArgumentParser
import CairnCLI

/// Calls AsyncParsableCommand's async entry point (a plain `CairnCommand.main()` from top-level code
/// resolves to the synchronous one).
func runAsync<Command: AsyncParsableCommand>(_ command: Command.Type) async {
    await command.main(nil)
}

await runAsync(CairnCommand.self)
