"""A batch's records checked one by one (HTTP and Kafka alike): validated and pseudonymised
into events, partner event ids seen before refused, then each checked against the roll and
known schools (roll_check.py), in the caller's transaction."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from pydantic import ValidationError

from .. import fields as f
from ..kinds import RecordKind
from ..models import Rejection
from ..store import Transaction
from .roll import RAW, Held, Move, Sender
from .roll_check import RollCheck


def _model(kind: RecordKind, raw: Any) -> Any:
    if not isinstance(raw, dict) or "__malformed__" in raw:
        why = raw.get("__malformed__") if isinstance(raw, dict) else "not an object"
        raise f.Reject("malformed_record", None, f"record is malformed: {why}")
    try:
        return kind.record.model_validate(raw)
    except ValidationError as exc:
        where = ".".join(str(x) for x in exc.errors()[0]["loc"]) or None
        raise f.Reject("malformed_record", where, "a field has the wrong type") from None


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
    kind: RecordKind,
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
    gate.load(tx, [e for _, e in valid])
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
