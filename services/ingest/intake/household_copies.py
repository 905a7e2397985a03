"""Publishing a household's case copies (docs/families.md): each a partner's record with a
sibling's child_key, counting no record of its own - except the first copy of a record that
names no child, which is that record's only way onto a topic, so it counts as the record
published, under the record's own source and day."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date
from typing import Any

from ..households import Plan
from ..routing import Router
from ..store import Transaction


def publish_copies(
    tx: Transaction, router: Router, shared: Plan, source: str, day: date, key_id: str | None
) -> None:
    """Queue the plan's copies in the outbox, in the caller's transaction."""
    firsts: dict[uuid.UUID, Any] = {}
    rest = []
    for copy in shared.copies:
        if copy.event_id in shared.first and copy.event_id not in firsts:
            firsts[copy.event_id] = copy
        else:
            rest.append(copy)
    for copy in firsts.values():
        # A lone event is one message, itself, counting one record.
        tx.publish(
            router.child_events([copy]),
            copy.source,
            copy.recorded_at.date(),
            "family_case",
            key_id=key_id,
        )
    copies = [replace(m, records=0) for m in router.child_events(rest)]
    tx.publish(copies, source, day, "family_case", key_id=key_id)
