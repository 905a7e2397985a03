"""Files only their owner may read - secrets, API keys, users files, env files holding the
pseudonym key: created with mode 0600 before a byte is written, and replaced whole."""

from __future__ import annotations

import os
import shlex
from collections.abc import Mapping
from pathlib import Path


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path` owner-only, atomically (a temporary file beside it, renamed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    tmp.replace(path)


def write_env_file(path: Path, env: Mapping[str, str]) -> None:
    """A file of `export NAME=value` lines for `. path`, each value shell-quoted, owner-only."""
    write_private(path, "".join(f"export {n}={shlex.quote(v)}\n" for n, v in env.items()))
