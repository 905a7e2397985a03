"""The alerts store: the notifier's sent ledger and inbox, and each user's preferences and
last visits. Its own database (FLAGSTREAM_ALERTS_DATABASE_URL), written by the notifier and
the dashboard, so that neither service imports the other.

Replay-safe by construction: a message has a deterministic id (the flag change's event id,
or a digest's period), the ledger's primary key is (message_id, recipient, channel), and the
inbox row and the ledger row are inserted in one transaction; only a row newly inserted is
ever sent. Nothing here names a child beyond its pseudonymous key in a link.

The tables are declared in alerts_tables.py.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, Connection, Table, and_, select, update

from .alerts_tables import AlertKind, inbox, ledger, offsets, preferences, visits
from .alerts_tables import metadata as metadata  # alerts_database.py: alerts.metadata
from .upsert import _insert, upsert


@dataclass(frozen=True, slots=True)
class Message:
    """One message to one user (or an operations address): an inbox row, an email, or both."""

    message_id: str
    recipient: str
    kind: AlertKind
    subject: str
    body: str
    link: str
    address: str | None = None  # None: no email
    to_inbox: bool = True


@dataclass(frozen=True, slots=True)
class Prefs:
    """What a user gets by email; the safeguarding email is on unless they turned it off."""

    safeguarding_email: bool = True
    daily_school: bool = False
    weekly_zone: bool = False


def _insert_new(conn: Connection, table: Table, row: dict[str, object]) -> bool:
    # RETURNING, not rowcount: psycopg reports -1 for a single INSERT ... ON CONFLICT.
    stmt = _insert(conn, table).on_conflict_do_nothing().returning(table.c.message_id)
    return conn.execute(stmt, row).first() is not None


def record(conn: Connection, messages: Iterable[Message], now: datetime) -> list[Message]:
    """Insert inbox and ledger rows not there yet (call inside the caller's transaction);
    returns the messages whose email row is new, i.e. the only emails to send."""
    fresh: list[Message] = []
    for m in messages:
        if m.to_inbox:
            _insert_new(
                conn,
                inbox,
                {
                    "message_id": m.message_id,
                    "recipient": m.recipient,
                    "kind": m.kind,
                    "subject": m.subject,
                    "link": m.link,
                    "created_at": now,
                },
            )
        if m.address is None:
            continue
        row = {
            "message_id": m.message_id,
            "recipient": m.recipient,
            "channel": "email",
            "kind": m.kind,
            "address": m.address,
            "subject": m.subject,
            "body": m.body,
            "status": "pending",
            "attempts": 0,
            "created_at": now,
        }
        if _insert_new(conn, ledger, row):
            fresh.append(m)
    return fresh


@dataclass(frozen=True, slots=True)
class Outgoing:
    """An email row still to send."""

    message_id: str
    recipient: str
    kind: str
    address: str
    subject: str
    body: str
    attempts: int


def pending(conn: Connection, limit: int = 100) -> list[Outgoing]:
    """Email rows not yet sent (new, or failed and to be tried again), oldest first."""
    rows = conn.execute(
        select(ledger)
        .where(and_(ledger.c.channel == "email", ledger.c.status == "pending"))
        .order_by(ledger.c.created_at)
        .limit(limit)
    )
    return [
        Outgoing(r.message_id, r.recipient, r.kind, r.address or "", r.subject, r.body, r.attempts)
        for r in rows
    ]


def _key(o: Outgoing) -> ColumnElement[bool]:
    return and_(
        ledger.c.message_id == o.message_id,
        ledger.c.recipient == o.recipient,
        ledger.c.channel == "email",
    )


def mark_sent(conn: Connection, o: Outgoing, now: datetime) -> None:
    conn.execute(
        update(ledger)
        .where(_key(o))
        .values(status="sent", sent_at=now, attempts=o.attempts + 1, last_error=None)
    )


def mark_failed(conn: Connection, o: Outgoing, error: str, give_up: bool) -> None:
    """Count a failed attempt; `give_up` leaves it failed for good (an operator re-queues)."""
    conn.execute(
        update(ledger)
        .where(_key(o))
        .values(
            status="failed" if give_up else "pending",
            attempts=o.attempts + 1,
            last_error=error[:120],
        )
    )


def prefs_of(conn: Connection, username: str) -> Prefs:
    row = conn.execute(select(preferences).where(preferences.c.username == username)).first()
    if row is None:
        return Prefs()
    return Prefs(row.safeguarding_email, row.daily_school, row.weekly_zone)


def set_prefs(conn: Connection, username: str, prefs: Prefs, now: datetime) -> None:
    upsert(
        conn,
        preferences,
        [
            {
                "username": username,
                "safeguarding_email": prefs.safeguarding_email,
                "daily_school": prefs.daily_school,
                "weekly_zone": prefs.weekly_zone,
                "updated_at": now,
            }
        ],
    )


def all_prefs(conn: Connection) -> dict[str, Prefs]:
    return {
        r.username: Prefs(r.safeguarding_email, r.daily_school, r.weekly_zone)
        for r in conn.execute(select(preferences))
    }


@dataclass(frozen=True, slots=True)
class InboxRow:
    message_id: str
    kind: str
    subject: str
    link: str
    created_at: datetime
    read_at: datetime | None


def inbox_of(conn: Connection, username: str, limit: int = 200) -> list[InboxRow]:
    """A user's inbox, newest first."""
    rows = conn.execute(
        select(inbox)
        .where(inbox.c.recipient == username)
        .order_by(inbox.c.created_at.desc(), inbox.c.message_id)
        .limit(limit)
    )
    return [
        InboxRow(r.message_id, r.kind, r.subject, r.link, r.created_at, r.read_at) for r in rows
    ]


def mark_read(conn: Connection, username: str, message_id: str, now: datetime) -> bool:
    """Mark one of the user's own messages read; False if they have no such message."""
    result = conn.execute(
        update(inbox)
        .where(and_(inbox.c.recipient == username, inbox.c.message_id == message_id))
        .values(read_at=now)
    )
    return bool(result.rowcount)


def visit(
    conn: Connection, username: str, page: str, now: datetime, sitting: timedelta = timedelta(0)
) -> datetime | None:
    """Record a visit to a list page; returns the visit before this one (None: the first).
    A visit within `sitting` of the last is the same sitting: the previous visit stays."""
    row = conn.execute(
        select(visits.c.previous_at, visits.c.last_at).where(
            and_(visits.c.username == username, visits.c.page == page)
        )
    ).first()
    previous = _aware(row.last_at) if row is not None else None
    if row is not None and previous is not None and now - previous < sitting:
        previous = _aware(row.previous_at)
    upsert(
        conn,
        visits,
        [{"username": username, "page": page, "previous_at": previous, "last_at": now}],
    )
    return previous


def previous_visit(conn: Connection, username: str, page: str) -> datetime | None:
    """The visit before the latest (the live table's refreshes do not count as visits)."""
    row = conn.execute(
        select(visits.c.previous_at).where(
            and_(visits.c.username == username, visits.c.page == page)
        )
    ).first()
    return _aware(row.previous_at) if row is not None else None


def _aware(at: datetime | None) -> datetime | None:
    """SQLite gives back naive datetimes for what was written in UTC."""
    return at.replace(tzinfo=UTC) if at is not None and at.tzinfo is None else at


def stored_offsets(conn: Connection) -> dict[tuple[str, int], int]:
    return {(r.topic, r.kafka_partition): r.next_offset for r in conn.execute(select(offsets))}


def store_offsets(conn: Connection, positions: dict[tuple[str, int], int]) -> None:
    """Record the next offset to read per partition, in the transaction of its messages."""
    upsert(
        conn,
        offsets,
        [{"topic": t, "kafka_partition": p, "next_offset": o} for (t, p), o in positions.items()],
    )
