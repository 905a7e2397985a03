"""The family around the child, at the edge (docs/families.md): a household reference becomes
a keyed hash, and a family-support case on a household is copied to every child of it - the
children known when it arrives and those an enrolment names later.

`plan` is the rule, pure: given what ingest holds for the households an upload names, the
copies to publish and what to keep. A copy is the case's own record with another child_key
(same event id, source and times), so the ledger counts the partner's record once and a
replay of the durable record repeats it exactly.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from flagstream.domain.events import EnrolmentRecorded, FamilyCaseRecorded

from . import fields as f

Key = Callable[[str], str]
HOUSEHOLD_KINDS = frozenset({"enrolment", "family_case"})
NO_CHILD = ""  # the child_key of a case on a household that names no child: never published


def household_key(value: object, key: Key) -> str | None:
    """The keyed hash of an optional household reference (trimmed, case-folded), domain
    separated from UPNs; None when there is none. Raises Reject (too_long)."""
    ref = f.optional_text(value, "household_ref", 64)
    if ref is None or not ref.strip():
        return None
    return key(f"household:{ref.strip().upper().encode('utf-8').hex()}")


@dataclass(frozen=True, slots=True)
class Plan:
    """What one upload's household records lead to."""

    copies: list[FamilyCaseRecorded]  # in order: held cases to new members, then this batch's
    joins: list[tuple[str, str]]  # (household_key, child_key) named
    kept: list[FamilyCaseRecorded]  # each case's latest record in this upload
    # Records naming no child that reach a topic for the first time with these copies: the
    # ledger counts each as published once (intake/household_copies.py)
    first: frozenset[uuid.UUID] = frozenset()


def plan(
    events: Sequence[Any],
    members: Mapping[str, set[str]],
    held: Mapping[str, Sequence[FamilyCaseRecorded]],
) -> Plan:
    """The copies for the households `events` name, given each one's members and latest
    case records held before this upload.

    Every child named (by an enrolment or a case) is a member from now on. A new member gets
    the household's held cases; every member but the child it names gets the latest record
    of each case in this upload. Only the latest: a copy of an earlier one would reach a
    child after that child's own, newer record of the same case. A case naming no child
    (NO_CHILD) makes no member; it reaches every member as copies.
    """
    named = [e for e in events if getattr(e, "household_key", None)]
    after = {h: set(m) for h, m in members.items()}
    for e in named:
        after.setdefault(e.household_key, set())
        if e.child_key != NO_CHILD:
            after[e.household_key].add(e.child_key)
    latest: dict[tuple[str, str], FamilyCaseRecorded] = {}
    for e in named:
        if isinstance(e, FamilyCaseRecorded) and e.household_key:
            latest[(e.household_key, e.case_id)] = e
    copies: list[FamilyCaseRecorded] = []
    first: set[uuid.UUID] = set()
    for h in sorted(after):
        new = after[h] - members.get(h, set())
        for case in held.get(h, ()):
            if (h, case.case_id) not in latest:
                copies += [replace(case, child_key=c) for c in sorted(new - {case.child_key})]
                if case.child_key == NO_CHILD and new and not members.get(h):
                    first.add(case.event_id)  # the household's first child: first on a topic
    for (h, _), case in latest.items():
        copies += [replace(case, child_key=c) for c in sorted(after[h] - {case.child_key})]
        if case.child_key == NO_CHILD and after[h]:
            first.add(case.event_id)
    named_children = [e for e in named if e.child_key != NO_CHILD]
    joins = list(dict.fromkeys((e.household_key, e.child_key) for e in named_children))
    return Plan(copies, joins, list(latest.values()), frozenset(first))


def names_household(event: Any) -> bool:
    """True for an enrolment or family case that names a household."""
    return isinstance(event, EnrolmentRecorded | FamilyCaseRecorded) and bool(event.household_key)
