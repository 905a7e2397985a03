"""The `flagstream` command's subcommands, one module per audience: running the services
(services.py), operating a running system (admin.py), generating, demonstrating and
measuring (runs.py), the supervised one-machine stack (up.py), the databases (db.py) and
the batch oracle (oracle.py). Each module's
`add_commands(add)` registers its subcommands; cli.py builds the parser from them."""

from __future__ import annotations

import argparse
import signal
from collections.abc import Callable
from typing import Any

Handler = Callable[[argparse.Namespace], int]
Add = Callable[[str, Handler, str], Any]  # (name, handler, help) -> the subparser


def stop_on_sigterm() -> None:
    """Turn SIGTERM into the same clean unwinding as Ctrl-C, so children are stopped."""

    def _raise(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _raise)
