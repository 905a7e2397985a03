"""One upload's transaction: everything an upload (or a validator batch, or an admin's
confirmed transfer) reads and writes, committed together, so a 202 means durably stored.
Callers see these methods, never the connection."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, Table, select, update

from flagstream.codec import Codec

from ..households import Plan
from ..routing import Message
from . import households, nhs_links
from . import school_roll as roll
from .counts import add_counts, add_refusal
from .offsets import Offsets, save_offsets
from .tables import outbox, seen_events, transfers, uploads


def legacy_scope(partner: str) -> str:
    """The Idempotency-Key scope of an upload sent without a key id (and of answers kept before
    key ids were): the partner's name, hashed to a key id's length."""
    return "-" + hashlib.sha256(partner.encode()).hexdigest()[:31]


@dataclass(frozen=True, slots=True)
class Prior:
    """The stored first answer to an upload."""

    request_hash: str
    status: int
    receipt: dict[str, Any]


class Transaction:
    """Everything one upload writes, in one database transaction."""

    def __init__(self, conn: Connection, queue: Table = outbox) -> None:
        self._conn, self._outbox = conn, queue

    def prior(self, scope: str, partner: str, key: str) -> Prior | None:
        """The first answer to this key's Idempotency-Key (or to the partner's, kept before
        answers were kept per key), if there was one."""
        scopes = {scope, legacy_scope(partner)}
        query = select(uploads).where(
            uploads.c.key_id.in_(sorted(scopes)), uploads.c.idempotency_key == key
        )
        row = self._conn.execute(query.order_by(uploads.c.created_at)).first()
        if row is None:
            return None
        return Prior(row.request_hash, row.status, json.loads(row.receipt))

    def seen(self, event_ids: Sequence[str], unscoped: bool = False) -> set[str]:
        """Which of these (published) event ids were accepted before; with unscoped, which of
        these partners' own ids were accepted before ids were scoped per key."""
        found: set[str] = set()
        for start in range(0, len(event_ids), 500):
            chunk = event_ids[start : start + 500]
            query = select(seen_events.c.event_id).where(seen_events.c.event_id.in_(chunk))
            if unscoped:
                query = query.where(seen_events.c.key_id.is_(None))
            found |= set(self._conn.scalars(query))
        return found

    def remember(self, event_ids: Iterable[str], now: datetime, scope: str | None = None) -> None:
        """Record partner event ids (as published) as accepted under a key's scope."""
        rows = [
            {"event_id": e, "created_at": now, "key_id": scope} for e in dict.fromkeys(event_ids)
        ]
        if rows:
            self._conn.execute(seen_events.insert(), rows)

    def publish(
        self,
        messages: Sequence[Message],
        source: str,
        day: date,
        kind: str,
        dead: bool = False,
        key_id: str | None = None,
    ) -> None:
        """Keep messages in the outbox (the durable record), in order, to be published; key_id
        is the API key that sent them."""
        now = datetime.now(UTC)
        rows = [
            {
                "topic": m.topic,
                "partition": m.partition,
                "key": m.key,
                "value": m.value,
                "records": m.records,
                "source": source,
                "day": day,
                "kind": kind,
                "dead": dead,
                "sent": False,
                "created_at": now,
                "key_id": key_id,
            }
            for m in messages
        ]
        if rows:
            self._conn.execute(self._outbox.insert(), rows)

    def save(
        self,
        scope: str,
        partner: str,
        key: str,
        request_hash: str,
        status: int,
        receipt: dict[str, Any],
    ) -> None:
        """Keep the answer for retries with the same Idempotency-Key and API key."""
        self._conn.execute(
            uploads.insert(),
            [
                {
                    "key_id": scope,
                    "partner": partner,
                    "idempotency_key": key,
                    "request_hash": request_hash,
                    "status": status,
                    "receipt": json.dumps(receipt),
                    "created_at": datetime.now(UTC),
                }
            ],
        )

    def count(self, source: str, day: date, kind: str, **counts: int) -> None:
        """Add to the ledger's counts of one source, day and kind."""
        add_counts(self._conn, source, day, kind, **counts)

    def refuse(self, source: str, day: date, kind: str, reason: str) -> None:
        """Count one request refused whole."""
        add_refusal(self._conn, source, day, kind, reason)

    def save_offsets(self, offsets: Offsets) -> None:
        """The next raw-topic offsets to read, committed with what they produced."""
        save_offsets(self._conn, offsets)

    # -- the roll (intake/roll.py) ---------------------------------------------------------

    def known_schools(self, urns: Sequence[str]) -> set[str]:
        """Which of these URNs a school record was accepted for."""
        return roll.known(self._conn, urns)

    def know_schools(self, urns: Sequence[str], key_id: str | None, now: datetime) -> None:
        """Remember URNs as known schools."""
        roll.know_schools(self._conn, urns, key_id, now)

    def enrolments(self, children: Sequence[str]) -> Iterable[Any]:
        """These children's rows on the roll."""
        return roll.enrolments(self._conn, children)

    def pending_transfers(self, children: Sequence[str]) -> Iterable[Any]:
        """These children's pending transfers, oldest first."""
        return roll.pending(self._conn, children)

    def pending_transfer(self, transfer_id: str) -> Any | None:
        """One pending transfer, if it is pending."""
        query = select(transfers).where(
            transfers.c.id == transfer_id, transfers.c.status == "pending"
        )
        return self._conn.execute(query).first()

    def household_copies(self, events: Sequence[Any], now: datetime) -> Plan:
        """The family-case copies these enrolments or cases lead to, their households locked
        and kept (store/households.py, docs/families.md)."""
        return households.share(self._conn, events, now)

    def nhs_route(self, codec: Codec, events: Sequence[Any], now: datetime) -> list[Any]:
        """NHS-keyed events re-keyed to their linked child; the unlinked held for a later
        link (store/nhs_links.py, docs/families.md)."""
        return nhs_links.route(self._conn, codec, events, now)

    def nhs_link(self, codec: Codec, events: Sequence[Any], now: datetime) -> list[Any]:
        """Link the NHS keys these enrolments bring to their children; the records held for
        the newly linked, re-keyed to the child."""
        pairs: dict[str, str] = {}
        for e in events:
            if getattr(e, "nhs_key", None):
                pairs.setdefault(e.nhs_key, e.child_key)
        return nhs_links.link(self._conn, codec, pairs, now) if pairs else []

    def upsert_roll(self, rows: Sequence[dict[str, Any]]) -> None:
        """Write enrolments onto the roll (roll.upsert_roll)."""
        roll.upsert_roll(self._conn, rows)

    def hold(self, rows: Sequence[dict[str, Any]]) -> None:
        """Keep enrolments held as pending transfers (a row each, with its message)."""
        if rows:
            self._conn.execute(transfers.insert(), list(rows))

    def release(self, held: Sequence[Any], by: str, now: datetime) -> None:
        """Publish confirmed transfers' held records (counted under their own source, day and
        key) and mark them confirmed; the roll rows are the caller's."""
        for t in held:
            message = Message(t.topic, t.partition, bytes(t.key), bytes(t.value), t.records)
            self.publish([message], t.source, t.day, t.kind, key_id=t.key_id)
        ids = [t.id for t in held]
        if ids:
            self._conn.execute(
                update(transfers)
                .where(transfers.c.id.in_(ids), transfers.c.status == "pending")
                .values(status="confirmed", confirmed_at=now, confirmed_by=by[:64])
            )
