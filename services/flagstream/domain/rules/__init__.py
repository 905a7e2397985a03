"""Flag rules: pure functions of a child's state and an as-of date, routed by flag name.

Adding a flag = a Rule (here, or register_rule from an extension) + a config entry in the
rules file; a new stream for it = one catalogue entry + its schema (docs/adding-a-stream.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from ..state import ChildState
from .attain import ATTAIN
from .attend import ATTEND
from .base import Outcome, Rule, RuleConfig
from .family import FAMILY
from .safeguard import SAFEGUARD
from .simple import FSM, SEN

# The catalogue of flags: each declared once as a Rule (settings, evaluation, words,
# sensitivity). An extension adds its own with register_rule (flagstream/extensions.py).
_RULES: dict[str, Rule] = {r.flag: r for r in (ATTAIN, ATTEND, FAMILY, FSM, SAFEGUARD, SEN)}
DEFAULT_RULES: Mapping[str, Rule] = _RULES
# Flags only the DSL of the child's current school may see (Rule.sensitive).
SENSITIVE: set[str] = {r.flag for r in _RULES.values() if r.sensitive}


def register_rule(rule: Rule) -> Rule:
    """Add a flag to the catalogue (idempotent for the same rule): the rules file may then
    configure it and every service evaluates, keeps and shows it."""
    held = _RULES.get(rule.flag)
    if held is not None and held != rule:
        raise ValueError(f"flag {rule.flag!r} is already declared")
    _RULES[rule.flag] = rule
    if rule.sensitive:
        SENSITIVE.add(rule.flag)
    return rule


def unregister_rule(rule: Rule) -> None:
    """Remove an extension's flag (tests that add one for a while)."""
    if _RULES.get(rule.flag) is rule:
        del _RULES[rule.flag]
        SENSITIVE.discard(rule.flag)


def default_config(
    version: str = "default", rules: Mapping[str, Rule] = DEFAULT_RULES
) -> RuleConfig:
    """Every flag on, with its default settings."""
    return RuleConfig(version, {name: rule.settings_type() for name, rule in rules.items()})


def evaluate(
    state: ChildState,
    as_of: date,
    config: RuleConfig,
    rules: Mapping[str, Rule] = DEFAULT_RULES,
    known: Mapping[str, Outcome] | None = None,
) -> dict[str, Outcome]:
    """Each enabled flag's outcome for this child, as of a date; `known` holds outcomes
    already known to be what their rule would give (domain/memo.py), not run again."""
    known = known or {}
    return {
        flag: known[flag] if flag in known else rules[flag].outcome(state, as_of, settings)
        for flag, settings in config.flags.items()
        if settings.enabled
    }


__all__ = [
    "DEFAULT_RULES",
    "SENSITIVE",
    "Outcome",
    "Rule",
    "RuleConfig",
    "default_config",
    "evaluate",
    "register_rule",
    "unregister_rule",
]
