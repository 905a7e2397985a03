"""What an accepted batch writes: its events and dead letters into the outbox, the roll's
changes, new event ids and the ledger's counts (in the batch's transaction), and beside them
the stores of what never goes on a topic - names and UPNs (the identity store), police
references and circumstances (the restricted store) - and confirmed transfers' moves."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from flagstream.identity import Identity
from flagstream.restricted import Details

from .. import fields as f
from ..households import HOUSEHOLD_KINDS, NO_CHILD
from ..kinds import RecordKind
from ..nhs import nhs_keyed
from ..routing import DeadLetter, Router
from ..store import Transaction
from ..validation_partners import notification_details
from .checks import Checked
from .household_copies import publish_copies
from .roll import Move


def queue_checked(
    tx: Transaction,
    router: Router,
    kind: RecordKind,
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
    if nhs_keyed(kind.name):
        events = tx.nhs_route(router.codec, events, stamp.recorded_at)
    # A case on a household naming no child reaches a topic only as the household's copies.
    named = [e for e in events if getattr(e, "child_key", None) != NO_CHILD]
    tx.publish(kind.route(router, named), stamp.source, day, kind.name, key_id=key_id)
    # An enrolment held as a pending transfer names the child's household and NHS number as
    # well: they are facts about the child, not the school (docs/families.md).
    family = events + [h.event for h in checked.held]
    if kind.name == "enrolment":
        # Records sent by NHS number before this enrolment linked it, now the child's.
        linked = router.child_events(tx.nhs_link(router.codec, family, stamp.recorded_at))
        tx.publish([replace(m, records=0) for m in linked], stamp.source, day, "nhs_link")
    if kind.name in HOUSEHOLD_KINDS:
        # Copies of household cases: the ledger counts each case once (household_copies.py).
        shared = tx.household_copies(family, stamp.recorded_at)
        publish_copies(tx, router, shared, stamp.source, day, key_id)
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
    tx.count(
        stamp.source,
        day,
        kind.name,
        received=checked.received,
        accepted=len(checked.accepted) + len(checked.held),
        rejected=len(checked.rejections),
    )


@dataclass(frozen=True, slots=True)
class Beside:
    """The stores written beside the outbox, each before the batch's transaction commits (a
    failed commit leaves at most a row the retry writes again): the identity store, the
    restricted store, and the identity rows of confirmed transfers. None: not kept here."""

    identities: Callable[[list[Identity]], None] | None = None
    restricted: Callable[[list[Details]], None] | None = None
    moves: Callable[[list[Move]], None] | None = None

    def keep(self, kind: str, checked: Checked) -> None:
        """Write what the batch's accepted records keep beside the outbox."""
        if kind == "enrolment" and self.identities is not None and checked.accepted:
            # The only place a UPN (and name) is kept: the identity store, never a topic.
            self.identities(identities_of(checked.accepted))
        if self.restricted is not None:
            # Likewise a notification's police reference and circumstances: the event carries
            # neither.
            keep_restricted(self.restricted, kind, checked.accepted)
        if self.moves is not None and checked.moves:
            self.moves(checked.moves)  # after the names: a leaver's row, then the move


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
