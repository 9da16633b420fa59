"""The command line: arguments, logging, exit codes; one module per command group."""
