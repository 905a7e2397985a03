"""Flag history: raised -> cleared intervals rebuilt from a child's flag changes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, delete, select

from readmodel.tables import flag_changes, flag_history

from . import bulk

REFERRAL_WINDOW_DAYS = 365


def intervals(changes: Iterable[Any], reflag_after_days: int = 0) -> list[dict[str, Any]]:
    """Pair RAISED with the next CLEARED per (child, flag), in the order given.

    A second RAISED while raised (a new reason) keeps the interval open; a CLEARED with
    nothing raised is ignored. A raise is a re-flag when the same flag cleared at least
    `reflag_after_days` and at most 365 days before (FLAGSTREAM_REFLAG_AFTER_DAYS): a flag
    back after a short gap is the same concern, not a new referral.
    """
    open_: dict[tuple[str, str], dict[str, Any]] = {}
    last_cleared: dict[tuple[str, str], Any] = {}
    rows: list[dict[str, Any]] = []
    for c in changes:
        key = (c.child_key, c.flag)
        if c.change == "RAISED" and key not in open_:
            previous = last_cleared.get(key)
            row = {
                "raised_event_id": c.event_id,
                "child_key": c.child_key,
                "urn": c.urn,
                "flag": c.flag,
                "raised_on": c.as_of,
                "raised_reason": c.reason,
                "rule_version": c.rule_version,
                "cleared_on": None,
                "cleared_reason": None,
                "cleared_rule_version": None,
                "days_raised": None,
                "previous_cleared_on": previous,
                "reflagged_within_12m": previous is not None
                and reflag_after_days <= (c.as_of - previous).days <= REFERRAL_WINDOW_DAYS,
            }
            open_[key] = row
            rows.append(row)
        elif c.change == "CLEARED" and key in open_:
            row = open_.pop(key)
            row["cleared_on"] = c.as_of
            row["cleared_reason"] = c.reason
            row["cleared_rule_version"] = c.rule_version
            row["days_raised"] = (c.as_of - row["raised_on"]).days
            last_cleared[key] = c.as_of
    return rows


def rebuild(conn: Connection, child_keys: Sequence[str], reflag_after_days: int = 0) -> None:
    """Replace these children's history rows with intervals from all their flag changes."""
    if not child_keys:
        return
    changes = conn.execute(
        select(flag_changes)
        .where(bulk.one_of(conn, flag_changes.c.child_key, child_keys))
        .order_by(flag_changes.c.kafka_partition, flag_changes.c.kafka_offset)
    ).all()
    conn.execute(
        delete(flag_history).where(bulk.one_of(conn, flag_history.c.child_key, child_keys))
    )
    bulk.write(conn, flag_history, intervals(changes, reflag_after_days), "nothing")
