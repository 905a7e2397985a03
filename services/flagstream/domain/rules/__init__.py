"""Flag rules: pure functions of a child's state and an as-of date, routed by flag name.

Adding a flag = a source schema + a mutator in state.py + a Rule here + a config entry.
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

DEFAULT_RULES: Mapping[str, Rule] = {
    r.flag: r for r in (ATTAIN, ATTEND, FAMILY, FSM, SAFEGUARD, SEN)
}
# Flags only the DSL of the child's current school may see (Rule.sensitive).
SENSITIVE: frozenset[str] = frozenset(r.flag for r in DEFAULT_RULES.values() if r.sensitive)


def default_config(
    version: str = "default", rules: Mapping[str, Rule] = DEFAULT_RULES
) -> RuleConfig:
    """Every flag on, with its default settings."""
    return RuleConfig(version, {name: rule.settings_type() for name, rule in rules.items()})


def evaluate(
    state: ChildState, as_of: date, config: RuleConfig, rules: Mapping[str, Rule] = DEFAULT_RULES
) -> dict[str, Outcome]:
    """Each enabled flag's outcome for this child, as of a date."""
    return {
        flag: rules[flag].evaluate(state, as_of, settings)
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
]
