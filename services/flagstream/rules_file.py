"""The versioned rules file (TOML): load, validate, and say what it means in words."""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from .domain.rules import DEFAULT_RULES, Rule, RuleConfig
from .domain.rules.base import FlagSettings

DEFAULT_RULES_FILE: Final = Path(__file__).resolve().parents[2] / "deploy" / "rules.toml"


class RulesFileError(ValueError):
    """A rules file that cannot be used, with what to fix."""


def _settings(flag: str, rule: Rule, table: Mapping[str, Any], where: str) -> FlagSettings:
    fields = {f.name: f for f in dataclasses.fields(rule.settings_type)}
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key not in fields:
            raise RulesFileError(f"{where}: [flags.{flag}] has no setting '{key}' "
                                 f"(known: {', '.join(sorted(fields))})")  # fmt: skip
        default = fields[key].default
        if isinstance(default, bool) != isinstance(value, bool):
            raise RulesFileError(f"{where}: flags.{flag}.{key} must be true or false")
        if isinstance(default, tuple):
            if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
                raise RulesFileError(f"{where}: flags.{flag}.{key} must be a list of strings")
            value = tuple(value)
        elif isinstance(default, int | float) and not isinstance(default, bool):
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise RulesFileError(f"{where}: flags.{flag}.{key} must be a number")
            if isinstance(default, int) and not isinstance(value, int):
                raise RulesFileError(f"{where}: flags.{flag}.{key} must be a whole number")
            if value < 0:
                raise RulesFileError(f"{where}: flags.{flag}.{key} cannot be negative")
        values[key] = value
    try:
        return rule.settings_type(**values)
    except ValueError as exc:  # a rule's own check of its settings taken together
        raise RulesFileError(f"{where}: [flags.{flag}] {exc}") from None


def parse_rules(
    text: str, where: str = "rules", rules: Mapping[str, Rule] = DEFAULT_RULES
) -> RuleConfig:
    """A RuleConfig from TOML text; flags left out are switched off."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RulesFileError(f"{where}: not valid TOML ({exc})") from None
    version = data.get("version")
    if not isinstance(version, str) or not version.strip():
        raise RulesFileError(f'{where}: needs a version, e.g. version = "2026.2"')
    unknown = set(data) - {"version", "flags"}
    if unknown:
        raise RulesFileError(f"{where}: unknown top-level key(s) {sorted(unknown)}")
    tables = data.get("flags", {})
    for flag in tables:
        if flag not in rules:
            raise RulesFileError(f"{where}: unknown flag '{flag}' (known: {', '.join(rules)})")
    flags = {
        flag: _settings(flag, rule, tables[flag], where) if flag in tables
        else rule.settings_type(enabled=False)
        for flag, rule in rules.items()
    }  # fmt: skip
    return RuleConfig(version.strip(), flags)


def load_rules(path: Path, rules: Mapping[str, Rule] = DEFAULT_RULES) -> RuleConfig:
    """Read and validate a rules file."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise RulesFileError(f"cannot read rules file {path}: {exc.strerror}") from None
    return parse_rules(text, str(path), rules)


def describe_rules(config: RuleConfig, rules: Mapping[str, Rule] = DEFAULT_RULES) -> str:
    """The configuration in words, one paragraph per flag."""
    lines = [f"Rules version {config.version}:"]
    for flag, settings in config.flags.items():
        if settings.enabled:
            kept = settings.min_raised_days
            also = f" Once raised, kept raised at least {kept} days." if kept else ""
            lines.append(f"  - {rules[flag].describe(settings)}{also}")
        else:
            lines.append(f"  - {flag}: switched off.")
    return "\n".join(lines)
