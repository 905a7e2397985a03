"""Safeguard: a police (Operation Encompass) domestic-abuse notification within N days.

A sensitive flag: only the DSL of the child's current school sees it. For everyone else the
read model holds nothing that would differ had the notification never arrived - no flag, no
count, no history row, no source date (docs/security.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from ..state import ChildState
from .base import FlagSettings, Outcome, Rule


@dataclass(frozen=True, slots=True, kw_only=True)
class SafeguardSettings(FlagSettings):
    """How long a notification keeps the flag raised."""

    notification_days: int = 28


def safeguard(state: ChildState, as_of: date, s: SafeguardSettings) -> Outcome:
    """Raised for notification_days after an incident; the reason carries only dates (the
    police reference and circumstances never reach the flagger: docs/security.md)."""
    since = as_of - timedelta(days=s.notification_days)
    recent = [d for d in state.notifications if since < d <= as_of]
    if not recent:
        return Outcome(False, f"no notification within {s.notification_days} days")
    return Outcome(
        True,
        f"safeguarding notification within {s.notification_days} days (latest {max(recent)})",
        "notification",
    )


def describe(s: SafeguardSettings) -> str:
    """The rule in words."""
    return (
        f"Safeguard (DSL only): raised for {s.notification_days} days after a domestic-abuse "
        "(Operation Encompass) notification."
    )


SAFEGUARD = Rule(
    "SAFEGUARD", SafeguardSettings, safeguard, describe, sensitive=True, reads=("notifications",)
)
