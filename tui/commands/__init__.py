"""One module per `logonscope` subcommand; each exposes `register(subparsers)`."""
