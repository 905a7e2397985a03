"""Who may see what: pure rules over a signed-in user's role and scope (no I/O)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from .users import Role, User


@dataclass(frozen=True, slots=True)
class Principal:
    """The signed-in user as the pages see it (never the password hash)."""

    username: str
    role: Role
    scope: str | None

    @classmethod
    def of(cls, user: User) -> Principal:
        return cls(user.username, user.role, user.scope)

    @property
    def school_role(self) -> bool:
        """School staff and DSLs: one school's pupils, with names."""
        return self.role in ("school", "dsl")

    @property
    def county_wide(self) -> bool:
        """Managers and admins see every zone."""
        return self.role in ("manager", "admin")

    def can_see_county(self) -> bool:
        return self.county_wide

    def can_see_zone(self, zone: str) -> bool:
        return self.county_wide or (self.role == "zone" and self.scope == zone)

    def can_see_school(self, urn: str, zone: str) -> bool:
        return self.can_see_zone(zone) or (self.school_role and self.scope == urn)

    def sees_names(self) -> bool:
        """Names come from the identity store only for the school's own staff."""
        return self.school_role

    def sees_upn(self) -> bool:
        """The UPN is needed by the DSL (referrals, Operation Encompass), not by others."""
        return self.role == "dsl"

    def sees_sensitive_at(self, urn: str) -> bool:
        """Sensitive flags (SAFEGUARD) and the police notification details behind them are
        for the DSL of the child's current school only: `urn` must be that school."""
        return self.role == "dsl" and self.scope == urn

    def can_see_casework(self, urn: str, zone: str) -> bool:
        """Case work (dashboard/casework.py) is for the DSL of the child's current school
        (`urn`) and the zone users of that school's `zone`: nobody else, not even managers."""
        return (self.role == "dsl" and self.scope == urn) or self.sees_zone_casework(zone)

    def sees_zone_casework(self, zone: str) -> bool:
        """The zone's overdue case work reviews: its own zone users only."""
        return self.role == "zone" and self.scope == zone

    def can_record_huddle(self, urn: str, zone: str) -> bool:
        """A huddle is the school's and its zone team's meeting: the school's own staff (and
        DSL) or the zone's users record it."""
        own_school = self.school_role and self.scope == urn
        return own_school or (self.role == "zone" and self.scope == zone)

    def can_record_outcome(self) -> bool:
        return self.role in ("school", "dsl", "zone", "manager")

    def can_read_audit(self) -> bool:
        return self.role == "admin"

    def home(self) -> str:
        """The first page after signing in."""
        if self.school_role:
            return f"/schools/{self.scope}"
        if self.role == "zone":
            return f"/zones/{quote(self.scope or '')}"
        return "/"
