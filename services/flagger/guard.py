"""The flagger's checks that its log is the one its state belongs to (filled in below)."""

from __future__ import annotations

from flagstream.metrics import ConsumerMetrics
from flagstream.settings import Settings


def prepare(settings: Settings, health: ConsumerMetrics) -> None:
    """Before Faust starts: check topics and the log's identity (see module docstring)."""


class LogWatch:
    """While running: notices the topics being recreated under the flagger."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    async def changed(self) -> str | None:
        """A description of what changed, or None while the log is the same."""
        return None
