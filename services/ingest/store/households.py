"""Households in ingest's database: who is in each household and the latest state of each
family-support case on it, read and written in the upload's transaction (the rule they serve:
intake/households.py, docs/families.md). Only pseudonyms: household and child keys."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import Column, Connection, Date, DateTime, String, Table, Text, select

from flagstream.domain.events import FamilyCaseRecorded

from ..households import Plan, names_household, plan
from .counts import dialect_insert
from .tables import metadata

households = Table(
    "ingest_households",
    metadata,
    Column("household_key", String(64), primary_key=True, comment="Keyed hash of the reference"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    comment="One row per household: the row an upload locks while it reads and writes the "
    "household's members and cases, so a case and a new member never miss each other",
)

household_members = Table(
    "ingest_household_members",
    metadata,
    Column("household_key", String(64), primary_key=True),
    Column("child_key", String(64), primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False, comment="When first named"),
    comment="A child named in a household by an enrolment or a family case (never removed)",
)

household_cases = Table(
    "ingest_household_cases",
    metadata,
    Column("household_key", String(64), primary_key=True),
    Column("case_id", String(64), primary_key=True),
    Column("child_key", String(64), nullable=False, comment="The child the partner named"),
    Column("event_id", String(36), nullable=False, comment="The latest record's event id"),
    Column("source", String(200), nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("opened_on", Date, nullable=False),
    Column("closed_on", Date, nullable=True),
    Column("outcome_areas", Text, nullable=False, comment="';'-separated outcome ids"),
    comment="The latest record of each family-support case on a household, copied to a child "
    "who joins the household later",
)

HOUSEHOLD_TABLES: Final = (households, household_members, household_cases)


def lock(conn: Connection, keys: Iterable[str], now: datetime | None = None) -> None:
    """Make sure each household has its row and hold it until the transaction ends (sorted,
    so two uploads naming the same households never deadlock). SQLite locks the database
    for any write, which serialises uploads as well."""
    names = sorted(set(keys))
    if not names:
        return
    at = now or datetime.now(UTC)
    stmt = dialect_insert(conn, households).on_conflict_do_nothing(index_elements=["household_key"])
    conn.execute(stmt, [{"household_key": k, "created_at": at} for k in names])
    if conn.dialect.name == "postgresql":
        query = select(households.c.household_key).where(households.c.household_key.in_(names))
        conn.execute(query.order_by(households.c.household_key).with_for_update())


def members(conn: Connection, keys: Sequence[str]) -> dict[str, set[str]]:
    """household_key -> the children named in it so far."""
    found: dict[str, set[str]] = {k: set() for k in keys}
    if keys:
        m = household_members.c
        for row in conn.execute(
            select(m.household_key, m.child_key).where(m.household_key.in_(keys))
        ):
            found[row.household_key].add(row.child_key)
    return found


def join(conn: Connection, pairs: Iterable[tuple[str, str]], now: datetime) -> None:
    """Name children in households (household_key, child_key); known pairs are left alone."""
    rows = [
        {"household_key": h, "child_key": c, "created_at": now} for h, c in dict.fromkeys(pairs)
    ]
    if rows:
        stmt = dialect_insert(conn, household_members).on_conflict_do_nothing(
            index_elements=["household_key", "child_key"]
        )
        conn.execute(stmt, rows)


def cases(conn: Connection, keys: Sequence[str]) -> dict[str, list[Any]]:
    """household_key -> its cases' latest rows, by case id."""
    found: dict[str, list[Any]] = {k: [] for k in keys}
    if keys:
        c = household_cases.c
        query = select(household_cases).where(c.household_key.in_(keys)).order_by(c.case_id)
        for row in conn.execute(query):
            found[row.household_key].append(row)
    return found


def keep_cases(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Keep each case's latest record (a later one for the same case replaces it)."""
    if not rows:
        return
    stmt = dialect_insert(conn, household_cases)
    stmt = stmt.on_conflict_do_update(
        index_elements=["household_key", "case_id"],
        set_={
            name: stmt.excluded[name]
            for name in rows[0]
            if name not in ("household_key", "case_id")
        },
    )
    conn.execute(stmt, list(rows))


def share(conn: Connection, events: Sequence[Any], now: datetime) -> Plan:
    """Lock the households these events name, and return the family-case copies they lead
    to (households.plan), keeping the new members and each case's latest record."""
    named = [e for e in events if names_household(e)]
    if not named:
        return Plan([], [], [])
    keys = sorted({e.household_key for e in named})
    lock(conn, keys, now)
    held = {h: [_case(row) for row in rows] for h, rows in cases(conn, keys).items()}
    result = plan(named, members(conn, keys), held)
    join(conn, result.joins, now)
    keep_cases(conn, [_row(c) for c in result.kept])
    return result


def _utc(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)  # SQLite keeps no zone


def _case(row: Any) -> FamilyCaseRecorded:
    return FamilyCaseRecorded(
        event_id=uuid.UUID(row.event_id),
        source=row.source,
        occurred_at=_utc(row.occurred_at),
        recorded_at=_utc(row.recorded_at),
        child_key=row.child_key,
        case_id=row.case_id,
        opened_on=row.opened_on,
        closed_on=row.closed_on,
        outcome_areas=[a for a in row.outcome_areas.split(";") if a],
        household_key=row.household_key,
    )


def _row(case: FamilyCaseRecorded) -> dict[str, Any]:
    return {
        "household_key": case.household_key,
        "case_id": case.case_id,
        "child_key": case.child_key,
        "event_id": str(case.event_id),
        "source": case.source,
        "occurred_at": case.occurred_at,
        "recorded_at": case.recorded_at,
        "opened_on": case.opened_on,
        "closed_on": case.closed_on,
        "outcome_areas": ";".join(case.outcome_areas),
    }
