import CairnCLI
CairnCommand.main()
