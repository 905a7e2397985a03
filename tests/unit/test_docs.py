"""The README stays true to the code: every setting and every command is documented."""

from pathlib import Path

from flagstream.extensions import ExtensionSettings
from flagstream.logs import LogSettings
from flagstream.settings import Settings
from flagstream_tools.cli import build_parser

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def test_every_setting_is_in_the_readme() -> None:
    missing = [n for n in Settings.model_fields if f"FLAGSTREAM_{n.upper()}" not in README]
    assert missing == []


def test_every_readme_setting_exists() -> None:
    import re

    named = set(re.findall(r"FLAGSTREAM_([A-Z0-9_]+)", README))
    early = {f"LOG_{n.upper()}" for n in LogSettings.model_fields}
    early |= {n.upper() for n in ExtensionSettings.model_fields}
    assert named <= {n.upper() for n in Settings.model_fields} | early


def test_the_settings_read_first_are_in_the_readme() -> None:
    for name in [*(f"LOG_{n}" for n in LogSettings.model_fields), *ExtensionSettings.model_fields]:
        assert f"FLAGSTREAM_{name.upper()}" in README, name


def test_every_command_is_in_the_readme() -> None:
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    for command in sub.choices:  # type: ignore[union-attr]
        assert f"flagstream {command}" in README or f"`{command}`" in README, command
