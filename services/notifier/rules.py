"""Who is told what: pure functions from a flag change or a period's counts to messages.

No I/O. Every subject and body here is written to carry no child detail: no name, no UPN,
no flag reason, no police reference - for the safeguarding notification not even the word
"police" or the flag's name. A link to the dashboard, which checks who is signing in,
carries the rest (tests/unit/test_notifier_rules.py reads every body for such detail).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from flagstream.alerts import Message, Prefs
from flagstream.domain.events import FlagChanged
from flagstream.domain.rules import SENSITIVE
from flagstream.users_file import User

SAFEGUARD_SUBJECT = "A new safeguarding notification needs your attention"


@dataclass(frozen=True, slots=True)
class Recipients:
    """The users file and each user's choices, as the rules read them."""

    users: Mapping[str, User]
    prefs: Mapping[str, Prefs]

    def choice(self, user: User) -> Prefs:
        return self.prefs.get(user.username, Prefs())

    def at_school(self, urn: str, roles: Iterable[str]) -> list[User]:
        wanted = set(roles)
        return [u for u in self.users.values() if u.role in wanted and u.scope == urn]

    def in_zone(self, zone: str) -> list[User]:
        return [u for u in self.users.values() if u.role == "zone" and u.scope == zone]


def safeguarding(
    change: FlagChanged, school: str, to: Recipients, dashboard_url: str
) -> list[Message]:
    """A sensitive flag newly raised: the DSLs of the child's current school, at once - an
    inbox row each, and an email to those with an address who have not turned it off."""
    if change.change != "RAISED" or change.flag not in SENSITIVE:
        return []
    link = f"/children/{change.child_key}"
    body = (
        f"{SAFEGUARD_SUBJECT}.\n\n"
        f"Sign in to the dashboard to read it:\n{dashboard_url.rstrip('/')}{link}\n\n"
        "This email carries no details on purpose; they are on the dashboard only.\n"
    )
    out = []
    for dsl in to.at_school(school, ("dsl",)):
        email = dsl.email if to.choice(dsl).safeguarding_email else None
        out.append(
            Message(
                str(change.event_id), dsl.username, "safeguarding", SAFEGUARD_SUBJECT, body,
                link, email,
            )
        )  # fmt: skip
    return out


def _table(counts: Mapping[str, int], titles: Mapping[str, str]) -> str:
    lines = [f"  {titles.get(flag, flag)}: {n}" for flag, n in sorted(counts.items()) if n]
    return "\n".join(lines) if lines else "  none"


def _visible(counts: Mapping[str, int]) -> dict[str, int]:
    """Never a sensitive flag in a digest: the counts come from non-sensitive tables
    already; this is the second lock."""
    return {f: n for f, n in counts.items() if f not in SENSITIVE}


def daily_school(
    urn: str,
    school_name: str,
    day: date,
    counts: Mapping[str, int],
    titles: Mapping[str, str],
    to: Recipients,
    dashboard_url: str,
) -> list[Message]:
    """Flags newly raised at one school on one (event-time) day, to its staff and DSLs who
    chose the daily digest; nothing when nothing was raised."""
    shown = _visible(counts)
    if not any(shown.values()):
        return []
    subject = f"Daily digest: {sum(shown.values())} new flag(s) at {school_name}"
    link = f"/schools/{urn}"
    body = (
        f"Flags newly raised at {school_name} ({urn}) on {day:%A %d %B %Y}:\n"
        f"{_table(shown, titles)}\n\nThe children are on the dashboard:\n"
        f"{dashboard_url.rstrip('/')}{link}\n"
    )
    return [
        Message(f"daily:{urn}:{day.isoformat()}", u.username, "daily_school", subject, body,
                link, u.email)
        for u in to.at_school(urn, ("school", "dsl"))
        if u.email and to.choice(u).daily_school
    ]  # fmt: skip


def weekly_zone(
    zone: str,
    week_of: date,
    counts: Mapping[str, int],
    titles: Mapping[str, str],
    to: Recipients,
    dashboard_url: str,
    zone_path: str,
) -> list[Message]:
    """Flags newly raised in a zone in the week starting `week_of` (a Monday), to the zone's
    staff who chose the weekly digest."""
    shown = _visible(counts)
    if not any(shown.values()):
        return []
    subject = f"Weekly digest: {sum(shown.values())} new flag(s) in {zone}"
    body = (
        f"Flags newly raised in {zone} in the week of {week_of:%d %B %Y}:\n"
        f"{_table(shown, titles)}\n\nThe schools are on the dashboard:\n"
        f"{dashboard_url.rstrip('/')}{zone_path}\n"
    )
    return [
        Message(f"weekly:{zone}:{week_of.isoformat()}", u.username, "weekly_zone", subject,
                body, zone_path, u.email)
        for u in to.in_zone(zone)
        if u.email and to.choice(u).weekly_zone
    ]  # fmt: skip


def late_registers(
    day: date, cutoff: str, late: Iterable[tuple[str, str]], address: str, dashboard_url: str
) -> list[Message]:
    """Schools (URN, name) whose register for `day` had not arrived by the cut-off, to the
    operations address; nothing when every register is in or there is no address."""
    schools = sorted(late)
    if not schools or not address:
        return []
    subject = f"Registers not received by {cutoff} on {day:%d %b %Y}: {len(schools)} school(s)"
    rows = "\n".join(f"  {urn} {name}" for urn, name in schools)
    body = f"{subject}.\n\n{rows}\n\nThe county page lists them:\n{dashboard_url.rstrip('/')}/\n"
    return [
        Message(f"late:{day.isoformat()}", address, "late_registers", subject, body, "/",
                address, to_inbox=False)
    ]  # fmt: skip
