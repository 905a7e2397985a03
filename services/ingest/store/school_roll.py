"""The roll's tables (tables.py) read and written: enrolments, known schools and pending
transfers, in the caller's transaction (the rules they serve: intake/roll.py)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, inspect, select

from flagstream.schema import create_tables

from .counts import dialect_insert
from .households import HOUSEHOLD_TABLES
from .nhs_links import NHS_TABLES
from .tables import ROLL_TABLES, metadata, outbox, raw_outbox, roll, schools, transfers


def ensure(engine: Engine) -> None:
    """Create the tables; a database whose known schools are empty learns them from the
    school records its durable record holds (an ingest upgraded to this one)."""
    create_tables(metadata, engine, [*ROLL_TABLES, *HOUSEHOLD_TABLES, *NHS_TABLES])
    queues = [q for q in (outbox, raw_outbox) if inspect(engine).has_table(q.name)]
    with engine.begin() as conn:
        if conn.scalar(select(func.count()).select_from(schools)):
            return
        urns: set[str] = set()
        for queue in queues:
            query = select(queue.c.key).where(queue.c.kind == "school", ~queue.c.dead)
            urns |= {bytes(k).decode("ascii", "replace") for k in conn.scalars(query.distinct())}
        know_schools(conn, sorted(u for u in urns if len(u) == 6 and u.isdigit()), None, None)


def know_schools(
    conn: Connection, urns: Sequence[str], key_id: str | None, now: datetime | None
) -> None:
    """Remember URNs as known schools (those known already are left as they are)."""
    at = now or datetime.now(UTC)
    rows = [{"urn": u, "key_id": key_id, "created_at": at} for u in dict.fromkeys(urns)]
    if rows:
        stmt = dialect_insert(conn, schools).on_conflict_do_nothing(index_elements=["urn"])
        conn.execute(stmt, rows)


def upsert_roll(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Write enrolments onto the roll (child_key, urn, joined_on, left_on, key_id, updated_at);
    one already there takes the new leaving date."""
    if rows:
        stmt = dialect_insert(conn, roll)
        stmt = stmt.on_conflict_do_update(
            index_elements=["child_key", "urn", "joined_on"],
            set_={c: stmt.excluded[c] for c in ("left_on", "key_id", "updated_at")},
        )
        conn.execute(stmt, list(rows))


def known(conn: Connection, urns: Sequence[str]) -> set[str]:
    """Which of these URNs are known schools."""
    return set(conn.scalars(select(schools.c.urn).where(schools.c.urn.in_(urns))))


def enrolments(conn: Connection, children: Sequence[str]) -> Iterable[Any]:
    """These children's roll rows."""
    return conn.execute(select(roll).where(roll.c.child_key.in_(children)))


def pending(conn: Connection, children: Sequence[str]) -> Iterable[Any]:
    """These children's pending transfers, oldest first."""
    query = select(transfers).where(
        transfers.c.child_key.in_(children), transfers.c.status == "pending"
    )
    return conn.execute(query.order_by(transfers.c.created_at, transfers.c.id))
