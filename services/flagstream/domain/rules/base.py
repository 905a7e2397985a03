"""What every rule shares: its outcome, its settings and the versioned configuration."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ..state import ChildState


@dataclass(frozen=True, slots=True)
class Outcome:
    """Whether a flag is raised, its tier, and the evidence in words either way."""

    raised: bool
    reason: str
    tier: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class FlagSettings:
    """Settings every flag has; a rule's own settings extend this."""

    enabled: bool = True


@dataclass(frozen=True, slots=True)
class Rule:
    """A flag's name, the type of its settings, its pure evaluation function and whether
    it is sensitive."""

    flag: str
    settings_type: type[FlagSettings]
    evaluate: Callable[[ChildState, date, Any], Outcome]
    describe: Callable[[Any], str]
    # A sensitive flag is seen only by the DSL of the child's current school: the read model
    # keeps it apart from every count, list and history others read (docs/security.md).
    sensitive: bool = False
    # How screens spell it (the council's own: "FSM", "Attend"); empty: the name, title-cased.
    title: str = ""

    @property
    def display_name(self) -> str:
        """The flag as screens and exports show it."""
        return self.title or self.flag.title()


@dataclass(frozen=True, slots=True)
class RuleConfig:
    """A versioned set of flag settings; the version is recorded on every flag change."""

    version: str
    flags: Mapping[str, FlagSettings] = field(default_factory=dict)

    def enabled(self) -> list[str]:
        """Names of the flags switched on."""
        return [name for name, s in self.flags.items() if s.enabled]
