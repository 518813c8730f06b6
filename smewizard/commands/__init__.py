"""One module per `smewizard` subcommand; each has `register(subparsers)`."""

# Order is the order in `smewizard --help`. A new subcommand adds its module name here.
COMMAND_MODULES = ("tui", "demo", "check", "apply", "undo", "spamassassin", "dmarc", "report", "records")
