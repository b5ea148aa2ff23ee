"""The one `twinteller` command (also `python -m twinteller`): each subcommand is a module
of this package or of twinteller/devcluster/, imported only when it is run, so `twinteller
chat` does not pay for the evaluation's imports.

    twinteller admin ...         the knowledge base, model lifecycle, insights, proposals
    twinteller migration ...     replacing the legacy bot (also `twinteller admin migration ...`)
    twinteller chat              talk to the routers as a customer would
    twinteller locate ...        the turns of a conversation, or of a time range, from every router
    twinteller inspect           a health report of a running cluster
    twinteller certificates DIR  a local CA and every component's certificate
    twinteller cluster           the local two-zone cluster (`make run`)
    twinteller eval              accuracy, clustering and lifecycle figures (`make eval`)
    twinteller noise             write the noisy BANKING77 test set again

`twinteller COMMAND --help` says what each takes. Exit status: 0 done, 1 refused (the
message says why), 2 bad usage.
"""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass


@dataclass(frozen=True)
class Command:
    module: str
    summary: str
    function: str = "main"  # in `module`, called with the arguments after the command's name


COMMANDS = {
    "admin": Command("twinteller.cli.admin", "the knowledge base, model lifecycle, insights and proposals"),
    "migration": Command("twinteller.cli.admin", "replacing the legacy bot: import, replay, cutover", "migration_main"),
    "chat": Command("twinteller.cli.chat", "talk to the routers as a customer would"),
    "locate": Command("twinteller.cli.locate", "the turns of a conversation or a time range, from every router"),
    "inspect": Command("twinteller.cli.inspection", "a health report of a running cluster"),
    "certificates": Command("twinteller.cli.certificates", "issue a local CA and every component's certificate"),
    "cluster": Command("twinteller.devcluster.launcher", "run the local two-zone cluster until Ctrl-C"),
    "eval": Command("twinteller.devcluster.evaluation", "accuracy, clustering and lifecycle figures"),
    "import-report": Command(
        "twinteller.cli.platforms", "what each platform sample export (or PATH) brings across, per kind"
    ),
    "noise": Command("twinteller.devcluster.noise", "write the noisy BANKING77 test set again"),
}


def usage() -> str:
    width = max(map(len, COMMANDS))
    lines = [f"  {name:{width}}  {command.summary}" for name, command in COMMANDS.items()]
    return (
        "usage: twinteller COMMAND [ARGS...]\n\ncommands:\n"
        + "\n".join(lines)
        + "\n\n"
        + ("twinteller COMMAND --help says what a command takes.")
    )


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in ("-h", "--help", "help"):
        print(usage())
        raise SystemExit(0 if args else 2)
    command = COMMANDS.get(args[0])
    if command is None:
        print(f"twinteller: unknown command {args[0]!r}\n\n{usage()}", file=sys.stderr)
        raise SystemExit(2)
    getattr(importlib.import_module(command.module), command.function)(args[1:])
