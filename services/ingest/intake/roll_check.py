"""One batch's checks against the roll, the known schools and pending transfers (roll.py),
decided record by record in the order the records came, and written in the batch's
transaction: a leaver then a joiner in one upload is a move, not a pending transfer."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any, Final

from .. import fields as f
from ..routing import Message, Router
from ..store import Transaction
from .roll import Enrolment, Held, Move, Sender, enter, on_roll, open_elsewhere, own_pupil

# The date a roll-bound record is checked on, per kind a school key may send (enrolments
# are the roll itself; school keys send no outcomes or notifications today).
ROLL_DAY: Final = {
    "attendance_mark": "date",
    "sen_provision": "effective_on",
    "assessment": "assessed_on",
    "outcome": "recorded_on",
    "domestic_abuse_notification": "incident_on",
}
_CHUNK: Final = 500


def _chunks(items: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


class RollCheck:
    """One batch's checks against the roll, known schools and pending transfers, and what
    they change: read in `load`, decided record by record in `admit`, written by `store`."""

    def __init__(self, kind: str, sender: Sender, now: datetime) -> None:
        self.kind, self.sender, self.now = kind, sender, now
        self.held: list[Held] = []
        self.moves: list[Move] = []
        self._known: set[str] = set()
        self._roll: dict[str, list[Enrolment]] = {}
        self._pending: dict[str, list[Any]] = {}  # child_key -> pending transfer rows
        self._dirty: dict[tuple[str, str, date], str | None] = {}  # roll rows -> their key
        self._confirmed: list[Any] = []
        self._new_schools: list[str] = []

    @property
    def _bound(self) -> bool:
        return self.sender.school is not None and self.kind in ROLL_DAY

    def load(self, tx: Transaction, events: Sequence[Any]) -> None:
        """Read what the batch's records are checked against."""
        named = {getattr(e, "urn", None) for e in events} if self.kind != "school" else set()
        for chunk in _chunks(sorted(u for u in named if u)):
            self._known |= tx.known_schools(chunk)
        if not (self._bound or self.kind == "enrolment"):
            return
        children = sorted({e.child_key for e in events})
        for chunk in _chunks(children):
            for r in tx.enrolments(chunk):
                self._roll.setdefault(r.child_key, []).append(
                    Enrolment(r.urn, r.joined_on, r.left_on)
                )
            if self.kind == "enrolment":
                for t in tx.pending_transfers(chunk):
                    self._pending.setdefault(t.child_key, []).append(t)

    def admit(self, index: int, event: Any) -> f.Invalid | Held | None:
        """None to accept the record, an Invalid to reject it, a Held to hold it."""
        if self.kind == "school":
            self._new_schools.append(event.urn)
            return None
        urn = getattr(event, "urn", None)
        if urn is not None and urn not in self._known:
            return f.Invalid(
                "unknown_school", "urn", "no school record was accepted for this URN: send it "
                "to /v1/schools first",
            )  # fmt: skip
        if self._bound:
            on = getattr(event, ROLL_DAY[self.kind])
            if not on_roll(self._roll.get(event.child_key, ()), self.sender.school or "", on):
                return f.Invalid(
                    "not_on_roll", "upn", f"the pupil is not on this school's roll on "
                    f"{on.isoformat()}: send their enrolment first",
                )  # fmt: skip
        if self.kind == "enrolment":
            return self._enrol(index, event)
        return None

    def _enrol(self, index: int, e: Any) -> Held | None:
        mine = self._roll.setdefault(e.child_key, [])
        elsewhere = open_elsewhere(mine, e.urn)
        if self.sender.school is not None and elsewhere is not None and not own_pupil(mine, e):
            held = Held(index, e, elsewhere)
            self.held.append(held)
            return held
        for urn, joined in enter(mine, e.urn, e.joined_on, e.left_on):
            self._dirty[(e.child_key, urn, joined)] = self.sender.key_id
        pending = self._pending.get(e.child_key, [])
        if e.left_on is not None:  # the previous school recorded the leaving date
            confirmed = [t for t in pending if t.from_urn == e.urn]
        elif self.sender.school is None:  # the council's own enrolment at the new school
            confirmed = [t for t in pending if t.to_urn == e.urn]
        else:
            confirmed = []
        for t in confirmed:
            pending.remove(t)
            for urn, joined in enter(mine, t.to_urn, t.joined_on, t.left_on):
                self._dirty[(e.child_key, urn, joined)] = t.key_id
            self._confirmed.append(t)
            self.moves.append(Move(t.child_key, t.to_urn, self.now))
        return None

    def store(self, tx: Transaction, router: Router, source: str, day: date) -> None:
        """Write the batch's changes in its transaction; confirmed transfers' held records
        go to the outbox after the batch's own (after the leaving date that confirmed them)."""
        key_id = self.sender.key_id
        tx.know_schools(self._new_schools, key_id, self.now)
        rows = [
            {
                "child_key": child,
                "urn": urn,
                "joined_on": joined,
                "left_on": next(
                    x.left_on for x in self._roll[child] if (x.urn, x.joined_on) == (urn, joined)
                ),
                "key_id": sent_by,
                "updated_at": self.now,
            }
            for (child, urn, joined), sent_by in sorted(self._dirty.items())
        ]
        tx.upsert_roll(rows)
        held_rows = []
        for h in self.held:
            [message] = router.enrolments([h.event])  # one event: one message, as itself
            held_rows.append(_held_row(h, message, source, day, key_id, self.now))
        tx.hold(held_rows)
        tx.release(self._confirmed, self.sender.key_id or self.sender.scope or "-", self.now)


def _held_row(
    h: Held, m: Message, source: str, day: date, key_id: str | None, now: datetime
) -> dict[str, Any]:
    e = h.event
    return {
        "id": h.transfer_id, "child_key": e.child_key, "from_urn": h.from_urn,
        "to_urn": e.urn, "joined_on": e.joined_on, "left_on": e.left_on, "status": "pending",
        "source": source, "day": day, "kind": "enrolment", "topic": m.topic,
        "partition": m.partition, "key": m.key, "value": m.value, "records": m.records,
        "key_id": key_id, "created_at": now,
    }  # fmt: skip
