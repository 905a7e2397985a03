"""Names and UPNs from the identity store, only for viewers whose role allows them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from flagstream import identity, restricted

from .authz import Principal
from .context import Context


@dataclass(frozen=True, slots=True)
class Shown:
    """How a child is labelled for one viewer."""

    label: str
    upn: str | None = None


def reference(child_key: str) -> str:
    """A short pseudonymous label for roles that may not see names."""
    return f"Child {child_key[:8]}"


def labels(ctx: Context, who: Principal, child_keys: Sequence[str]) -> Mapping[str, Shown]:
    """child_key -> label: the name for the school's own staff, else a pseudonymous ref."""
    found: Mapping[str, identity.Identity] = {}
    if who.sees_names() and ctx.identity_db is not None and child_keys:
        with ctx.identity_db.connect() as conn:
            found = identity.lookup(conn, list(child_keys))
    shown: dict[str, Shown] = {}
    for key in child_keys:
        person = found.get(key)
        name = " ".join(p for p in (person.forename, person.surname) if p) if person else ""
        upn = person.upn if person and who.sees_upn() else None
        shown[key] = Shown(name or reference(key), upn)
    return shown


def upn_for_sending(ctx: Context, child_key: str) -> str | None:
    """The UPN ingest needs to key an outcome; used server-side only, never shown."""
    if ctx.identity_db is None:
        return None
    with ctx.identity_db.connect() as conn:
        person = identity.lookup(conn, [child_key]).get(child_key)
    return person.upn if person else None


def notifications(ctx: Context, child_key: str) -> list[restricted.Details]:
    """What the police said about a child (the restricted store); the caller must have
    checked Principal.sees_sensitive_at for the child's current school and audits the view."""
    if ctx.identity_db is None:
        return []
    with ctx.identity_db.connect() as conn:
        return restricted.of_child(conn, child_key)
