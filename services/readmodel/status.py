"""The read model's status row: whether it is current, rebuilding or refused, with the lags
and late registers the projector last measured. The projector writes it; the dashboard's
banner reads it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select

from .tables import read_model_status


@dataclass(frozen=True, slots=True)
class Status:
    """The read model's status row."""

    state: str
    since: datetime
    detail: str
    log_topics: dict[str, str]
    flagger_lag: int | None = None
    projector_lag: int | None = None
    late_registers: int | None = None
    checked_at: datetime | None = None


def _utc(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:  # SQLite drops the zone
        return value.replace(tzinfo=UTC)
    return value


def read_status(conn: Connection) -> Status | None:
    """The status row, if the projector has written one."""
    row = conn.execute(select(read_model_status)).first()
    if row is None:
        return None
    since = _utc(row.since)
    assert since is not None
    return Status(
        row.state,
        since,
        row.detail,
        json.loads(row.log_topics),
        row.flagger_lag,
        row.projector_lag,
        row.late_registers,
        _utc(row.checked_at),
    )


def write_status(conn: Connection, **values: Any) -> None:
    if "log_topics" in values:
        values["log_topics"] = json.dumps(values["log_topics"], sort_keys=True)
    if conn.execute(select(read_model_status.c.id)).first() is None:
        conn.execute(read_model_status.insert(), [{"id": 1, **values}])
    else:
        conn.execute(read_model_status.update().values(**values))
