import CairnCLI

await CairnCommand.runMain()
