"""Owner-only files (flagstream/private_files.py): mode 0600 from creation, a rewrite keeps
it, and an env file reads back in a shell with every value as written."""

from __future__ import annotations

import stat
import subprocess
from pathlib import Path

from flagstream.private_files import write_env_file, write_private


def test_a_private_file_is_owner_only_and_replaced_whole(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "secret"
    write_private(path, "one\n")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    path.chmod(0o644)  # someone loosened it: the next write makes it owner-only again
    write_private(path, "two\n")
    assert path.read_text() == "two\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in path.parent.iterdir()) == ["secret"]  # no temporary left


def test_an_env_file_reads_back_in_a_shell(tmp_path: Path) -> None:
    env = {"PLAIN": "sqlite:////tmp/x.db", "SPACED": "a b; echo no", "QUOTE": "it's $HOME"}
    path = tmp_path / "up.env"
    write_env_file(path, env)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "export PLAIN=sqlite:////tmp/x.db\n" in path.read_text()
    shown = subprocess.run(
        ["bash", "-c", f'. {path} && printf "%s\\n" "$PLAIN" "$SPACED" "$QUOTE"'],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert shown.splitlines() == [env["PLAIN"], env["SPACED"], env["QUOTE"]]
