"""The README stays true to the code: every setting and every command is documented."""

from pathlib import Path

from flagstream.settings import Settings
from flagstream_tools.cli import build_parser

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def test_every_setting_is_in_the_readme() -> None:
    missing = [n for n in Settings.model_fields if f"FLAGSTREAM_{n.upper()}" not in README]
    assert missing == []


def test_every_readme_setting_exists() -> None:
    import re

    named = set(re.findall(r"FLAGSTREAM_([A-Z0-9_]+)", README))
    assert named <= {n.upper() for n in Settings.model_fields}


def test_every_command_is_in_the_readme() -> None:
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    for command in sub.choices:  # type: ignore[union-attr]
        assert f"flagstream {command}" in README or f"`{command}`" in README, command
