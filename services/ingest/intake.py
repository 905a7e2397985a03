"""One upload, start to finish: validate each record, drop partner event ids seen before,
check it against the roll (roll.py), and store accepted messages, dead letters, the roll,
held transfers, counts and the receipt in one transaction."""

from __future__ import annotations

import functools
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError, OperationalError

from flagstream.identity import Identity
from flagstream.restricted import Details

from . import fields as f
from .kinds import Kind
from .models import PendingRecord, Receipt, Rejection
from .roll import RAW, Held, Move, Sender, ensure
from .roll_check import RollCheck
from .routing import DeadLetter, Router
from .store import Store, Transaction, add_counts, add_refusal, legacy_scope
from .validation_partners import notification_details

STORE_WAIT_S = 20.0


@dataclass(frozen=True, slots=True)
class Upload:
    """What arrived: records of one kind from one partner."""

    kind: Kind
    records: Sequence[Any]
    source: str
    partner: str
    urn: str | None = None  # from the path (registers)
    idempotency_key: str | None = None
    request_hash: str = ""
    key_id: str | None = None  # the API key's id: scopes Idempotency-Keys and event ids
    school: str | None = None  # a school key's one URN: its records are roll-bound

    @property
    def sender(self) -> Sender:
        """Who sent it, for the roll checks and event-id scope."""
        return Sender(self.key_id, self.school, self.key_id)


@dataclass(frozen=True, slots=True)
class Outcome:
    """The answer, and whether it is the stored answer to an earlier identical upload."""

    status: int
    receipt: dict[str, Any]
    replayed: bool = False
    accepted: Sequence[tuple[Any, Any]] = ()  # (record, event) pairs newly accepted


class IdempotencyKeyReused(ValueError):
    """The Idempotency-Key was used before for a different request."""


def _model(kind: Kind, raw: Any) -> Any:
    if not isinstance(raw, dict) or "__malformed__" in raw:
        why = raw.get("__malformed__") if isinstance(raw, dict) else "not an object"
        raise f.Reject("malformed_record", None, f"record is malformed: {why}")
    try:
        return kind.record.model_validate(raw)
    except ValidationError as exc:
        where = ".".join(str(x) for x in exc.errors()[0]["loc"]) or None
        raise f.Reject("malformed_record", where, "a field has the wrong type") from None


class Intake:
    """Validates and stores uploads; the outbox drainer publishes them."""

    def __init__(
        self,
        store: Store,
        router: Router,
        pseudonymise: Callable[[str], str],
        clock: Callable[[], datetime],
        identities: Callable[[list[Identity]], None] | None = None,
        restricted: Callable[[list[Details]], None] | None = None,
        moves: Callable[[list[Move]], None] | None = None,
    ) -> None:
        self._store, self._router, self._key, self._clock = store, router, pseudonymise, clock
        self._identities, self._restricted = identities, restricted
        self._moves = moves  # confirmed transfers' identity rows: to their new school
        ensure(store.engine)

    @staticmethod
    def utc_now() -> datetime:
        """The default clock."""
        return datetime.now(UTC)

    def submit(self, upload: Upload, wait_s: float = STORE_WAIT_S) -> Outcome:
        """Store the upload (or return the first answer to its Idempotency-Key). A database
        that is busy or away is tried again for up to wait_s; then OperationalError."""
        deadline, pause = time.monotonic() + wait_s, 0.05
        while True:
            try:
                try:
                    return self._submit(upload)
                except IntegrityError:
                    # A concurrent upload with the same key or event ids committed first:
                    # answer as a retry would be answered.
                    return self._submit(upload)
            except OperationalError:
                # SQLite answers "database is locked" at once when a read must become a write
                # beside another writer; PostgreSQL may have dropped the connection.
                if time.monotonic() + pause > deadline:
                    raise
                time.sleep(pause)
                pause = min(pause * 2, 1.0)

    def _submit(self, upload: Upload) -> Outcome:
        kind = upload.kind
        stamp = f.Stamp(source=upload.source, recorded_at=self._clock())
        upload_id = uuid.uuid4().hex
        scope = upload.key_id or legacy_scope(upload.partner)
        with self._store.begin() as tx:
            if upload.idempotency_key is not None:
                prior = tx.prior(scope, upload.partner, upload.idempotency_key)
                if prior is not None:
                    if prior.request_hash != upload.request_hash:
                        raise IdempotencyKeyReused(upload.idempotency_key)
                    return Outcome(prior.status, prior.receipt, replayed=True)
            checked = check_records(
                tx, kind, upload.records, upload.urn, self._key, stamp, upload.sender
            )
            queue_checked(tx, self._router, kind, stamp, checked, lambda i: f"{upload_id}#{i}")
            if kind.name == "enrolment" and self._identities is not None and checked.accepted:
                # The identity store is another database: written before this transaction
                # commits, so a 202 means the names are stored too (a failed commit leaves at
                # most a name the partner's retry writes again).
                self._identities(identities_of(checked.accepted))
            if self._restricted is not None:
                # Likewise a notification's police reference and circumstances: stored in the
                # restricted store before the event (which carries neither) is committed.
                keep_restricted(self._restricted, kind.name, checked.accepted)
            if self._moves is not None and checked.moves:
                self._moves(checked.moves)  # after the names: a leaver's row, then the move
            receipt = Receipt(
                upload_id=upload_id,
                received=len(upload.records),
                accepted=len(checked.accepted) + len(checked.held),
                rejected=len(checked.rejections),
                rejections=checked.rejections,
                pending=len(checked.held),
                pending_records=[_pending_record(h) for h in checked.held],
            ).model_dump()
            if upload.idempotency_key is not None:
                tx.save(
                    scope,
                    upload.partner,
                    upload.idempotency_key,
                    upload.request_hash,
                    202,
                    receipt,
                )
        return Outcome(202, receipt, accepted=checked.accepted)

    def refused(self, source: str, kind: str, reason: str) -> None:
        """Count a request refused whole (401, 403, 413, ...) in the ledger."""
        with self._store.begin() as tx:
            add_refusal(tx.conn, source[:200], self._clock().date(), kind, reason)


def _pending_record(held: Held) -> PendingRecord:
    return PendingRecord(
        index=held.index,
        transfer_id=held.transfer_id,
        message="the pupil is on another school's roll: the enrolment is held until that school "
        "records the leaving date or the council confirms the transfer",
    )


@dataclass(frozen=True, slots=True)
class Checked:
    """A batch after validation: (record, event) pairs accepted to publish now, rejections by
    index, the partner event ids newly seen, enrolments held as pending transfers (accepted,
    not published) and the roll's changes."""

    received: int
    accepted: list[tuple[Any, Any]]
    rejections: list[Rejection]
    fresh: list[str]
    held: list[Held] = field(default_factory=list)
    roll: RollCheck | None = None
    scope: str | None = None

    @property
    def moves(self) -> list[Move]:
        """Identity rows to move: children whose pending transfer this batch confirmed."""
        return self.roll.moves if self.roll is not None else []


def check_records(
    tx: Transaction,
    kind: Kind,
    records: Sequence[Any],
    urn: str | None,
    key: Callable[[str], str],
    stamp: f.Stamp,
    sender: Sender = RAW,
) -> Checked:
    """Validate and pseudonymise each record on its own (HTTP and Kafka alike), reject
    partner event ids accepted before under the sender's scope, then check each against the
    roll and known schools (roll.py). A record given as an `Invalid` (it could not even be
    decoded) is rejected as it is."""
    stamp = replace(stamp, scope=sender.scope)

    def one(raw: Any) -> tuple[Any, Any]:
        record = _model(kind, raw)
        return record, kind.build(record, urn, key, stamp)

    checked = [
        raw if isinstance(raw, f.Invalid) else f.check(functools.partial(one, raw))
        for raw in records
    ]
    valid = [r for r in checked if not isinstance(r, f.Invalid)]
    seen = _seen(tx, [r for r in valid if r[0].event_id], sender.scope)
    gate = RollCheck(kind.name, sender, stamp.recorded_at)
    gate.load(tx.conn, [e for _, e in valid])
    accepted: list[tuple[Any, Any]] = []
    rejections: list[Rejection] = []
    fresh: list[str] = []
    for index, result in enumerate(checked):
        if not isinstance(result, f.Invalid):
            eid = str(result[1].event_id) if result[0].event_id else None
            verdict = (
                f.Invalid("duplicate_event", "event_id", "already accepted")
                if eid in seen
                else gate.admit(index, result[1])
            )
            if isinstance(verdict, f.Invalid):
                result = verdict
            elif eid is not None:
                seen.add(eid)
                fresh.append(eid)
            if isinstance(verdict, Held):
                continue
        if isinstance(result, f.Invalid):
            rejections.append(
                Rejection(
                    index=index, reason=result.reason, field=result.field, message=result.message
                )
            )
        else:
            accepted.append(result)
    return Checked(len(records), accepted, rejections, fresh, gate.held, gate, sender.scope)


def _seen(tx: Transaction, given: Sequence[tuple[Any, Any]], scope: str | None) -> set[str]:
    """Published ids of these records (each with a partner event_id) accepted before. Ids
    accepted before they were scoped per key were kept as the partner sent them: a resend of
    one is a duplicate too."""
    seen = tx.seen([str(e.event_id) for _, e in given])
    if scope is not None and given:
        own = {str(e.event_id): str(uuid.UUID(str(r.event_id).strip())) for r, e in given}
        before = tx.seen(sorted(set(own.values())), unscoped=True)
        seen |= {published for published, sent in own.items() if sent in before}
    return seen


def queue_checked(
    tx: Transaction,
    router: Router,
    kind: Kind,
    stamp: f.Stamp,
    checked: Checked,
    reference: Callable[[int], str],
) -> None:
    """Queue accepted events and dead letters in the outbox, keep the roll's changes and held
    transfers, remember new event ids and count the batch in the ledger (held records count
    as accepted) - all in the caller's transaction."""
    day = stamp.recorded_at.date()
    key_id = checked.roll.sender.key_id if checked.roll is not None else None
    events = [e for _, e in checked.accepted]
    tx.publish(kind.route(router, events), stamp.source, day, kind.name, key_id=key_id)
    letters = [
        router.dead_letter(
            DeadLetter(
                r.reason, r.field, stamp.source, kind.name, reference(r.index), stamp.recorded_at
            )
        )
        for r in checked.rejections
    ]
    tx.publish(letters, stamp.source, day, kind.name, dead=True, key_id=key_id)
    if checked.roll is not None:
        checked.roll.store(tx, router, stamp.source, day)
    tx.remember(checked.fresh, stamp.recorded_at, checked.scope)
    add_counts(
        tx.conn,
        stamp.source,
        day,
        kind.name,
        received=checked.received,
        accepted=len(checked.accepted) + len(checked.held),
        rejected=len(checked.rejections),
    )


def identities_of(accepted: Sequence[tuple[Any, Any]]) -> list[Identity]:
    """Identity-store rows for accepted enrolments (the raw record still holds the UPN)."""
    return [
        Identity(
            child_key=event.child_key,
            urn=event.urn,
            upn=f.upn(raw.upn),
            forename=f.optional_text(raw.forename, "forename", 100),
            surname=f.optional_text(raw.surname, "surname", 100),
            updated_at=event.recorded_at,
        )
        for raw, event in accepted
    ]


def keep_restricted(
    write: Callable[[list[Details]], None], kind: str, accepted: Sequence[tuple[Any, Any]]
) -> None:
    """Write accepted notifications' details to the restricted store (other kinds have none)."""
    if kind == "domestic_abuse_notification" and accepted:
        write([notification_details(raw, event) for raw, event in accepted])
