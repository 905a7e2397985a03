"""Council sign-in: which Flagstream role and scope an identity provider's groups grant.

Entra ID names a user's security groups by object id in the `groups` claim, and app roles
in `roles`. The council keeps a TOML file mapping them to a role and scope:

    contact = "the Flagstream service desk (flagstream@council.example)"
    [[map]]
    group = "6f1c...-object-id"   # or: app_role = "Flagstream.Manager"
    role = "dsl"
    scope = "123456"

Nothing is guessed: a user matching no entry is refused, and so is one whose entries grant
different roles or scopes (a DSL of one school who is also a zone lead must be given one
account's worth of access on purpose, not whichever entry came first). Refusals say whom to
ask (`contact`), never which groups the user is in.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .users import ROLES, SCOPED, Role


class MappingFileError(ValueError):
    """The mapping file is missing, unreadable or has a bad entry."""


@dataclass(frozen=True, slots=True)
class Grant:
    """What one entry grants: a role, and its scope (URN or zone) where the role has one."""

    role: Role
    scope: str | None


@dataclass(frozen=True, slots=True)
class Refused:
    """Why a signed-in identity gets no access; `reason` is for the audit row."""

    reason: str  # "no_mapping", "ambiguous", "groups_overage"
    message: str  # for the user: what happened and whom to ask


@dataclass(frozen=True, slots=True)
class GroupMapping:
    """The parsed file: group object id -> grant, app role value -> grant, and the contact."""

    groups: Mapping[str, Grant]
    app_roles: Mapping[str, Grant]
    contact: str

    def grant_for(
        self, claims: Mapping[str, Any], groups_claim: str, roles_claim: str
    ) -> Grant | Refused:
        """The one grant the ID token's groups and app roles give, or why there is none."""
        names = claims.get("_claim_names")
        if isinstance(names, Mapping) and groups_claim in names and groups_claim not in claims:
            # Entra ID's "overage": too many groups to put in a token.
            return Refused(
                "groups_overage",
                "Your account is in too many groups for the sign-in to list them. "
                f"Ask {self.contact} to have the Flagstream app send only the groups "
                "assigned to it.",
            )
        found = {self.groups[g] for g in _strings(claims.get(groups_claim)) if g in self.groups}
        found |= {
            self.app_roles[r] for r in _strings(claims.get(roles_claim)) if r in self.app_roles
        }
        if not found:
            return Refused(
                "no_mapping",
                "Your council account signed in, but it has not been given access to "
                f"Flagstream. Ask {self.contact} to add you to the right group.",
            )
        if len(found) > 1:
            return Refused(
                "ambiguous",
                "Your council account is in groups giving different Flagstream access, "
                f"so none is given. Ask {self.contact} to leave you in one of them.",
            )
        return next(iter(found))


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, Sequence):
        return [v for v in value if isinstance(v, str)]
    return []


def parse_mapping(data: Mapping[str, Any], where: str = "mapping") -> GroupMapping:
    """Check every entry; raises MappingFileError naming the entry and what to fix."""
    contact = data.get("contact", "your council's Flagstream administrator")
    if not isinstance(contact, str) or not contact.strip():
        raise MappingFileError(f"{where}: contact must be a non-empty string (whom users ask)")
    groups: dict[str, Grant] = {}
    app_roles: dict[str, Grant] = {}
    entries = data.get("map", [])
    if not isinstance(entries, list):
        raise MappingFileError(f"{where}: `map` must be a list of [[map]] tables")
    for n, entry in enumerate(entries, 1):
        here = f"{where}: [[map]] entry {n}"
        if not isinstance(entry, Mapping):
            raise MappingFileError(f"{here} is not a table")
        unknown = set(entry) - {"group", "app_role", "role", "scope"}
        if unknown:
            raise MappingFileError(f"{here}: unknown key(s) {sorted(unknown)}")
        role, scope = entry.get("role"), entry.get("scope")
        if role not in ROLES:
            raise MappingFileError(f"{here}: role {role!r} is not one of {list(ROLES)}")
        if scope is not None and (not isinstance(scope, str) or not scope.strip()):
            raise MappingFileError(f"{here}: scope must be a non-empty string")
        if (role in SCOPED) != (scope is not None):
            need = SCOPED.get(role)
            raise MappingFileError(
                f"{here}: role {role} " + (f"needs a scope ({need})" if need else "takes no scope")
            )
        if role in ("school", "dsl") and not (len(scope or "") == 6 and (scope or "").isdigit()):
            raise MappingFileError(f"{here}: a school scope is its 6-digit URN, not {scope!r}")
        keys = [k for k in ("group", "app_role") if k in entry]
        if len(keys) != 1 or not isinstance(entry[keys[0]], str) or not entry[keys[0]]:
            raise MappingFileError(f'{here}: give exactly one of group = "<object id>" or app_role')
        table = groups if keys[0] == "group" else app_roles
        key = entry[keys[0]]
        if key in table:
            raise MappingFileError(f"{here}: {keys[0]} {key!r} is mapped twice")
        table[key] = Grant(role, scope)
    if not groups and not app_roles:
        raise MappingFileError(f"{where}: no [[map]] entries, so nobody could sign in")
    return GroupMapping(groups, app_roles, contact.strip())


def load_mapping(path: Path) -> GroupMapping:
    """The mapping file at `path`; raises MappingFileError saying what to fix."""
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise MappingFileError(f"no OpenID group mapping file at {path}") from None
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise MappingFileError(f"cannot read {path}: {exc}") from None
    return parse_mapping(data, str(path))
