"""The one `twinteller` command (main.py) and its subcommands: thin clients of the admin,
operations and public gRPC APIs, and local certificate issuance."""
