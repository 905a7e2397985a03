"""Case work for a child with complex needs: lead practitioner, actions, reviews, notes.

Kept in the dashboard's own database (casework_tables, migration 0003) and never sent to
ingest or any topic: it is free text about a child's circumstances. The progress shown beside
it is derived from the outcome statuses already in the read model (`progress_of`), so the
case work record cannot disagree with the outcomes professionals recorded.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from sqlalchemy import Connection, insert, select, update

from .casework_tables import (
    NOTES_MAX,
    TEXT_MAX,
    casework_actions,
    casework_cases,
    casework_reviews,
)

Overall = Literal["no record", "new", "improving", "steady", "worsening", "resolved", "unknown"]

# Worst to best, as the projector ranks them (projector/outcome_progress.py; not imported:
# the dashboard imports no other service). "Resolved" is handled before any ranking.
_RANK = {"further risk": 0, "no progress": 1, "some progress": 2, "good progress": 3}


class CaseworkError(ValueError):
    """Input the case work forms refuse; the message says what to change."""


@dataclass(frozen=True, slots=True)
class Progress:
    current: str | None  # the latest recorded status, as recorded
    overall: Overall


def progress_of(statuses: Sequence[str]) -> Progress:
    """Current and Overall Progress from a child's statuses, oldest first.

    Current is the latest status. Overall, in this order:
    * no statuses: "no record"; latest "Resolved": "resolved";
    * latest "Further risk": "worsening" (a new risk is never steady), even if it was first;
    * one status only: "new";
    * a status outside the council's list at either end: "unknown" (never a guess);
    * else the latest against the first: better "improving", worse "worsening", else "steady".
    """
    if not statuses:
        return Progress(None, "no record")
    first, latest = statuses[0].strip().lower(), statuses[-1].strip().lower()
    current = statuses[-1]
    if latest == "resolved":
        return Progress(current, "resolved")
    if latest == "further risk":
        return Progress(current, "worsening")
    if len(statuses) == 1:
        return Progress(current, "new")
    a = 4 if first == "resolved" else _RANK.get(first)  # reopened after being resolved
    b = _RANK.get(latest)
    if a is None or b is None:
        return Progress(current, "unknown")
    return Progress(current, "improving" if b > a else "worsening" if b < a else "steady")


@dataclass(frozen=True, slots=True)
class Action:
    id: int
    text: str
    owner: str
    due_on: date | None
    done: bool

    def overdue(self, today: date) -> bool:
        return not self.done and self.due_on is not None and self.due_on < today


@dataclass(frozen=True, slots=True)
class CaseWork:
    child_key: str
    lead_name: str
    lead_role: str
    next_review_on: date | None
    notes: str
    actions: tuple[Action, ...]
    reviews_held: tuple[date, ...]  # newest first

    def review_overdue_days(self, today: date) -> int:
        """Days past the next review's due date; 0 when not due yet or none is set."""
        if self.next_review_on is None:
            return 0
        return max(0, (today - self.next_review_on).days)


def _short(value: str, what: str, limit: int = TEXT_MAX, required: bool = False) -> str:
    value = value.strip()
    if required and not value:
        raise CaseworkError(f"Enter the {what}.")
    if len(value) > limit:
        raise CaseworkError(f"The {what} is {len(value)} characters; keep it to {limit}.")
    return value


def load(conn: Connection, child_key: str) -> CaseWork | None:
    """The child's case work, or None when nothing has been recorded."""
    case = conn.execute(
        select(casework_cases).where(casework_cases.c.child_key == child_key)
    ).first()
    a = casework_actions.c
    actions = tuple(
        Action(r.id, r.text, r.owner, r.due_on, r.done)
        for r in conn.execute(
            select(casework_actions).where(a.child_key == child_key).order_by(a.done, a.id)
        )
    )
    r = casework_reviews.c
    held = tuple(
        conn.scalars(select(r.held_on).where(r.child_key == child_key).order_by(r.held_on.desc()))
    )
    if case is None and not actions and not held:
        return None
    return CaseWork(
        child_key,
        (case.lead_name or "") if case else "",
        (case.lead_role or "") if case else "",
        case.next_review_on if case else None,
        (case.notes or "") if case else "",
        actions,
        held,
    )


def _upsert_case(
    conn: Connection, child_key: str, by: str, now: datetime, **values: object
) -> None:
    c = casework_cases.c
    changed = conn.execute(
        update(casework_cases)
        .where(c.child_key == child_key)
        .values(updated_at=now, updated_by=by, **values)
    )
    if changed.rowcount == 0:
        conn.execute(
            insert(casework_cases).values(
                child_key=child_key, updated_at=now, updated_by=by, **values
            )
        )


def save_lead(
    conn: Connection,
    child_key: str,
    *,
    lead_name: str,
    lead_role: str,
    next_review_on: date | None,
    notes: str,
    by: str,
    now: datetime,
) -> None:
    """Set the lead practitioner, next review date and notes (all replaced)."""
    _upsert_case(
        conn,
        child_key,
        by,
        now,
        lead_name=_short(lead_name, "lead practitioner's name"),
        lead_role=_short(lead_role, "lead practitioner's role"),
        next_review_on=next_review_on,
        notes=_short(notes, "notes", NOTES_MAX),
    )


def add_action(
    conn: Connection,
    child_key: str,
    *,
    text: str,
    owner: str,
    due_on: date | None,
    by: str,
    now: datetime,
) -> None:
    conn.execute(
        insert(casework_actions).values(
            child_key=child_key,
            text=_short(text, "action", required=True),
            owner=_short(owner, "action's owner", required=True),
            due_on=due_on,
            done=False,
            created_at=now,
            created_by=by,
        )
    )


def set_done(conn: Connection, child_key: str, action_id: int, done: bool) -> None:
    """Mark one of this child's actions done or not done; another child's id is refused."""
    a = casework_actions.c
    changed = conn.execute(
        update(casework_actions)
        .where(a.id == action_id, a.child_key == child_key)
        .values(done=done)
    )
    if changed.rowcount != 1:
        raise CaseworkError("No such action for this child.")


def record_review(
    conn: Connection,
    child_key: str,
    *,
    held_on: date,
    next_review_on: date | None,
    by: str,
    now: datetime,
) -> None:
    """A review was held; the next one is due on `next_review_on` (None: none planned)."""
    if held_on > now.date():
        raise CaseworkError("A review held cannot be in the future; set it as the next review.")
    if next_review_on is not None and next_review_on <= held_on:
        raise CaseworkError("The next review must be after the review held.")
    conn.execute(
        insert(casework_reviews).values(
            child_key=child_key, held_on=held_on, recorded_at=now, recorded_by=by
        )
    )
    _upsert_case(conn, child_key, by, now, next_review_on=next_review_on)


@dataclass(frozen=True, slots=True)
class Overdue:
    child_key: str
    next_review_on: date
    days_overdue: int
    lead_name: str
    lead_role: str
    overdue_action_owners: tuple[str, ...]


def overdue_reviews(
    conn: Connection, today: date, among: Collection[str] | None = None
) -> list[Overdue]:
    """Children whose next review is past, most overdue first; `among` limits the children
    (the caller's scope, from the read model: the two databases are joined in Python)."""
    c = casework_cases.c
    stmt = select(casework_cases).where(c.next_review_on < today).order_by(c.next_review_on)
    cases = [r for r in conn.execute(stmt) if among is None or r.child_key in among]
    if not cases:
        return []
    a = casework_actions.c
    owners: dict[str, list[str]] = {}
    for key, owner in conn.execute(
        select(a.child_key, a.owner)
        .where(
            a.child_key.in_([r.child_key for r in cases]),
            a.done.is_(False),
            a.due_on < today,
        )
        .order_by(a.due_on)
    ):
        if owner not in owners.setdefault(key, []):
            owners[key].append(owner)
    return [
        Overdue(
            r.child_key,
            r.next_review_on,
            (today - r.next_review_on).days,
            r.lead_name or "",
            r.lead_role or "",
            tuple(owners.get(r.child_key, ())),
        )
        for r in cases
    ]
