"""The `flagstream` command: one entry point for every service and tool.

Its subcommands live in flagstream_tools/commands/, one module per audience; main() is the
composition root of every process started as `flagstream <command>`: logging, then the
extensions (flagstream/extensions.py), then the command.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from flagstream import extensions, logs
from flagstream_tools.commands import Handler, admin, db, oracle, runs, services, up

# The first simulated day of `flagstream generate` and `flagstream demo` (commands/runs.py).
DEMO_START = runs.DEMO_START


def build_parser() -> argparse.ArgumentParser:
    """The CLI, also used by tests to check docker-compose commands."""
    parser = argparse.ArgumentParser(
        prog="flagstream",
        description="Live early-help flags. Settings come from FLAGSTREAM_* environment "
        "variables (see README).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, handler: Handler, help_: str) -> Any:
        p = sub.add_parser(name, help=help_, description=help_)
        p.set_defaults(handler=handler)
        return p

    for commands in (runs, up, services, admin, oracle, db):
        commands.add_commands(add)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    log_settings = logs.LogSettings()
    logs.configure(log_settings.format, log_settings.level)
    try:
        extensions.load()  # before any catalogue, codec or rules are built
    except extensions.ExtensionError as exc:
        print(exc, file=sys.stderr)
        return 2
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
