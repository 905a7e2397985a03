"""One upload, start to finish, as one unit of work: validate each record, drop partner
event ids seen before, check it against the roll (checks.py), and store accepted messages,
dead letters, the roll, held transfers, counts and the receipt in one transaction
(writes.py); the stores beside it are written before that transaction commits."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError, OperationalError

from flagstream.identity import Identity
from flagstream.restricted import Details

from .. import fields as f
from ..kinds import RecordKind
from ..models import PendingRecord, Receipt
from ..routing import Router
from ..store import Store, ensure, legacy_scope
from .checks import check_records
from .roll import Held, Move, Sender
from .writes import Beside, queue_checked

STORE_WAIT_S = 20.0


@dataclass(frozen=True, slots=True)
class Upload:
    """What arrived: records of one kind from one partner."""

    kind: RecordKind
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
        self._beside = Beside(identities, restricted, moves)
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
            self._beside.keep(kind.name, checked)
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
            tx.refuse(source[:200], self._clock().date(), kind, reason)


def _pending_record(held: Held) -> PendingRecord:
    return PendingRecord(
        index=held.index,
        transfer_id=held.transfer_id,
        message="the pupil is on another school's roll: the enrolment is held until that school "
        "records the leaving date or the council confirms the transfer",
    )
