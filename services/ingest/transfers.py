"""Pending transfers for admins (`flagstream transfers list|confirm`), and moving a confirmed
transfer's identity row to the new school. Listings carry a child_key prefix, URNs and dates:
never a name or UPN."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import Engine, select, update

from flagstream import identity
from flagstream.schema import create_tables

from .intake import Move
from .store import Store, ensure, transfers

CONFIRMED_BY_ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class TransferInfo:
    """One held enrolment, as an admin sees it."""

    id: str
    child: str  # the child_key's first 8 characters
    from_urn: str
    to_urn: str
    joined_on: date
    left_on: date | None
    status: str
    key_id: str | None
    created_at: datetime
    confirmed_by: str | None


def list_transfers(engine: Engine, everything: bool = False) -> list[TransferInfo]:
    """Pending transfers, oldest first (with everything, confirmed ones too)."""
    ensure(engine)
    query = select(transfers).order_by(transfers.c.created_at, transfers.c.id)
    if not everything:
        query = query.where(transfers.c.status == "pending")
    with engine.connect() as conn:
        return [
            TransferInfo(
                id=t.id,
                child=t.child_key[:8],
                from_urn=t.from_urn,
                to_urn=t.to_urn,
                joined_on=t.joined_on,
                left_on=t.left_on,
                status=t.status,
                key_id=t.key_id,
                created_at=t.created_at,
                confirmed_by=t.confirmed_by,
            )
            for t in conn.execute(query)
        ]


class UnknownTransfer(LookupError):
    """No pending transfer has that id."""


def confirm_transfer(
    store: Store,
    transfer_id: str,
    moves: Callable[[list[Move]], None] | None = None,
    now: datetime | None = None,
) -> Move:
    """Confirm one pending transfer as an admin: its held enrolment goes to the outbox and the
    child onto the new school's roll, in one transaction; the identity row is moved (by
    `moves`) before it commits."""
    at = now or datetime.now(UTC)
    ensure(store.engine)
    with store.begin() as tx:
        row = tx.pending_transfer(transfer_id)
        if row is None:
            raise UnknownTransfer(transfer_id)
        tx.release([row], CONFIRMED_BY_ADMIN, at)
        entry = {
            "child_key": row.child_key,
            "urn": row.to_urn,
            "joined_on": row.joined_on,
            "left_on": row.left_on,
            "key_id": row.key_id,
            "updated_at": at,
        }
        tx.upsert_roll([entry])
        move = Move(row.child_key, row.to_urn, at)
        if moves is not None:
            moves([move])
    return move


def identity_mover(engine: Engine) -> Callable[[list[Move]], None]:
    """Moves identity rows to the school a confirmed transfer names: the school only - the
    names stay as last written (a held enrolment's names were never kept)."""
    create_tables(identity.metadata, engine)
    table = identity.identities

    def move(moves: Sequence[Move]) -> None:
        with engine.begin() as conn:
            for m in moves:
                conn.execute(
                    update(table)
                    .where(table.c.child_key == m.child_key)
                    .values(urn=m.urn, updated_at=m.at)
                )

    return move
