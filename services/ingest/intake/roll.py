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
transaction (RollCheck.store); the tables are the store's (store/school_roll.py)."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any


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
