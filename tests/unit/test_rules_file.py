from pathlib import Path

import pytest

from flagstream.domain.rules.attend import AttendSettings
from flagstream.rules_file import (
    DEFAULT_RULES_FILE,
    RulesFileError,
    describe_rules,
    load_rules,
    parse_rules,
)


def test_shipped_rules_file_is_valid_and_has_every_flag_on() -> None:
    config = load_rules(DEFAULT_RULES_FILE)
    assert config.enabled() == ["ATTAIN", "ATTEND", "FAMILY", "FSM", "SAFEGUARD", "SEN"]
    assert config.flags["ATTEND"] == AttendSettings()
    words = describe_rules(config)
    assert "10% or more of possible sessions" in words and "28 days" in words


def test_a_flag_left_out_is_switched_off_and_said_so() -> None:
    config = parse_rules('version = "t1"\n[flags.ATTEND]\npersistent_absence_pct = 15\n')
    assert config.version == "t1" and config.enabled() == ["ATTEND"]
    assert config.flags["ATTEND"].persistent_absence_pct == 15  # type: ignore[attr-defined]
    assert "FSM: switched off." in describe_rules(config)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("[flags.ATTEND]\n", "needs a version"),
        ('version = "1"\n[flags.NEET]\n', "unknown flag 'NEET'"),
        ('version = "1"\n[flags.ATTEND]\nthreshold = 3\n', "has no setting 'threshold'"),
        ('version = "1"\n[flags.ATTEND]\nmin_possible_sessions = 2.5\n', "whole number"),
        ('version = "1"\n[flags.ATTEND]\nenabled = "yes"\n', "true or false"),
        ('version = "1"\n[flags.SAFEGUARD]\nnotification_days = -1\n', "cannot be negative"),
        ('version = "1"\n[flags.ATTAIN]\nks2_writing_expected = "EXS"\n', "list of strings"),
        ('version = "1"\nflags = [\n', "not valid TOML"),
        ('version = "1"\ncolour = "red"\n', "unknown top-level"),
    ],
)
def test_bad_files_say_what_to_fix(text: str, problem: str) -> None:
    with pytest.raises(RulesFileError, match=problem):
        parse_rules(text)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(RulesFileError, match="cannot read rules file"):
        load_rules(tmp_path / "nope.toml")
