"""The roll: each child's enrolments as ingest accepted them, the schools ingest knows, and
enrolments held as pending transfers - what a record is checked against beyond itself.

* A record naming a URN no school record was accepted for is rejected `unknown_school`.
* A school key (one URN) writes marks, SEN and assessments only for children on its roll on
  the record's date; otherwise `not_on_roll`.
* A school key enrolling a child who is on another school's roll (an open enrolment there)
  does not move the child: the enrolment is held as a pending transfer (`pending_transfer`),
  published when the previous school records the leaving date, a council (or `all`) key
  enrols the child at the new school, or an admin confirms it (`flagstream transfers`).

Keys without a URN (council, all) and the raw topics are not roll-bound: their enrolments
are the county's own record and apply at once. All of it is written in the upload's
transaction (RollCheck.store)."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Final

from sqlalchemy import (
    Column,
    Connection,
    Date,
    DateTime,
    Engine,
    Integer,
    LargeBinary,
    String,
    Table,
    func,
    inspect,
    select,
    update,
)

from flagstream.schema import create_tables

from .routing import Message
from .store import Transaction, dialect_insert, metadata, outbox, raw_outbox

roll = Table(
    "ingest_roll",
    metadata,
    Column("child_key", String(64), primary_key=True),
    Column("urn", String(6), primary_key=True),
    Column("joined_on", Date, primary_key=True),
    Column("left_on", Date, nullable=True, comment="None: still on this school's roll"),
    Column("key_id", String(32), nullable=True, comment="API key that sent the enrolment"),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    comment="Each child's enrolments as accepted: who is on which school's roll, when",
)
schools = Table(
    "ingest_schools",
    metadata,
    Column("urn", String(6), primary_key=True),
    Column("key_id", String(32), nullable=True, comment="API key that first sent it"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    comment="URNs a school record was accepted for: records naming others are refused",
)
transfers = Table(
    "ingest_transfers",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("child_key", String(64), nullable=False, index=True),
    Column("from_urn", String(6), nullable=False, comment="School whose roll the child is on"),
    Column("to_urn", String(6), nullable=False, comment="School that enrolled the child"),
    Column("joined_on", Date, nullable=False),
    Column("left_on", Date, nullable=True),
    Column("status", String(16), nullable=False, comment="pending or confirmed"),
    Column("source", String(200), nullable=False, comment="Ledger source, day and kind of the"),
    Column("day", Date, nullable=False, comment="held record, counted accepted on receipt"),
    Column("kind", String(64), nullable=False),
    Column("topic", String(255), nullable=False, comment="The held message, as the outbox"),
    Column("partition", Integer, nullable=False, comment="would have kept it"),
    Column("key", LargeBinary, nullable=False),
    Column("value", LargeBinary, nullable=False, comment="EnrolmentRecorded (no names)"),
    Column("records", Integer, nullable=False),
    Column("key_id", String(32), nullable=True, comment="API key that sent it"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("confirmed_at", DateTime(timezone=True), nullable=True),
    Column("confirmed_by", String(64), nullable=True, comment="Key id, 'raw' or 'admin'"),
    comment="Enrolments held because the child is on another school's roll",
)
TABLES: Final = (roll, schools, transfers)


@dataclass(frozen=True, slots=True)
class Sender:
    """Who sent a batch: the API key's id, its one URN (a school key: roll-bound), and the
    scope its event ids are unique in. No key id: the raw topics, or a caller's own upload."""

    key_id: str | None = None
    school: str | None = None
    scope: str | None = None


RAW = Sender(scope="raw")


@dataclass(frozen=True, slots=True)
class Move:
    """A confirmed transfer: the child's identity row now belongs to to_urn."""

    child_key: str
    urn: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Held:
    """An accepted enrolment held as a pending transfer."""

    index: int
    event: Any
    from_urn: str
    transfer_id: str = field(default_factory=lambda: secrets.token_hex(6))


@dataclass(slots=True)
class Enrolment:
    """One enrolment on the roll: at urn from joined_on, to left_on if the child left."""

    urn: str
    joined_on: date
    left_on: date | None


def ensure(engine: Engine) -> None:
    """Create the tables; a database whose known schools are empty learns them from the
    school records its durable record holds (an ingest upgraded to this one)."""
    create_tables(metadata, engine, list(TABLES))
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


def release(tx: Transaction, held: Sequence[Any], by: str, now: datetime) -> None:
    """Publish confirmed transfers' held records (counted under their own source, day and
    key) and mark them confirmed; the roll rows are the caller's."""
    for t in held:
        message = Message(t.topic, t.partition, bytes(t.key), bytes(t.value), t.records)
        tx.publish([message], t.source, t.day, t.kind, key_id=t.key_id)
    ids = [t.id for t in held]
    if ids:
        tx.conn.execute(
            update(transfers)
            .where(transfers.c.id.in_(ids), transfers.c.status == "pending")
            .values(status="confirmed", confirmed_at=now, confirmed_by=by[:64])
        )


def on_roll(enrolments: Iterable[Enrolment], urn: str, on: date) -> bool:
    """Whether an enrolment at urn covers the day (joining and leaving days included)."""
    return any(
        e.urn == urn and e.joined_on <= on and (e.left_on is None or on <= e.left_on)
        for e in enrolments
    )


def open_elsewhere(enrolments: Iterable[Enrolment], urn: str) -> str | None:
    """The school, other than urn, whose roll the child is on now (the latest joined)."""
    found = [e for e in enrolments if e.urn != urn and e.left_on is None]
    return max(found, key=lambda e: e.joined_on).urn if found else None


def own_pupil(enrolments: Sequence[Enrolment], e: Any) -> bool:
    """The school's own pupil: on its roll now, or a leaving date for a past enrolment."""
    here = [x for x in enrolments if x.urn == e.urn]
    return any(x.left_on is None for x in here) or (
        e.left_on is not None and any(x.joined_on == e.joined_on for x in here)
    )


def enter(
    enrolments: list[Enrolment], urn: str, joined: date, left: date | None
) -> list[tuple[str, date]]:
    """Record an enrolment; a leaving date also closes the school's other open enrolments.
    Returns the (urn, joined_on) of every enrolment changed."""
    changed = [(urn, joined)]
    for x in enrolments:
        if x.urn == urn and x.joined_on == joined:
            x.left_on = left
            break
    else:
        enrolments.append(Enrolment(urn, joined, left))
    if left is not None:
        for x in enrolments:
            if x.urn == urn and x.left_on is None and x.joined_on <= left:
                x.left_on = left
                changed.append((x.urn, x.joined_on))
    return changed
