"""Server-side sessions: the cookie carries a random id, the store decides whether it still holds.

A session ends at its absolute lifetime, after an idle spell (requests the live table makes by
itself do not count as activity), at sign-out (so a copied cookie stops working everywhere),
or when its user is removed from the users file or their role, scope or password changes.
A session signed in through the council's identity provider (oidc.py) has no users-file
entry: the role and scope its groups granted are kept beside it (`oidc_sessions`) and hold
until it ends, by the same sign-out, idle and absolute limits.
Only a SHA-256 of the id is stored, so the table's rows cannot be replayed as cookies.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from sqlalchemy import Engine, delete, insert, select, update

from .audit import dashboard_sessions as sessions
from .audit import oidc_sessions
from .users import User

EndedBy = Literal[
    "sign_out", "replaced", "expired", "idle", "user_removed", "user_changed", "admin"
]
KEEP_FOR = timedelta(days=30)  # Ended sessions' rows are pruned after this.


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def user_digest(user: User) -> str:
    """Changes whenever the user's role, scope or password hash does."""
    parts = (user.role, user.scope or "", user.password_hash)
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def _utc(at: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything stored here is UTC.
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


@dataclass
class SessionStore:
    """Sessions in the audit database's `dashboard_sessions`, checked on every request."""

    engine: Engine
    lifetime: timedelta = timedelta(hours=8)
    idle: timedelta = timedelta(minutes=30)

    def start(self, user: User, now: datetime, federated: bool = False) -> str:
        """A new session for this user; returns the id for the cookie (never stored).
        `federated`: signed in through the identity provider, so its role and scope are
        kept with the session instead of being looked up in the users file."""
        token = secrets.token_urlsafe(32)
        with self.engine.begin() as conn:
            conn.execute(delete(sessions).where(sessions.c.created_at < _utc(now) - KEEP_FOR))
            conn.execute(
                delete(oidc_sessions).where(
                    oidc_sessions.c.id_hash.not_in(select(sessions.c.id_hash))
                )
            )
            conn.execute(
                insert(sessions).values(
                    id_hash=_hash(token),
                    username=user.username,
                    user_digest=user_digest(user),
                    created_at=_utc(now),
                    last_active_at=_utc(now),
                )
            )
            if federated:
                conn.execute(
                    insert(oidc_sessions).values(
                        id_hash=_hash(token), role=user.role, scope=user.scope
                    )
                )
        return token

    def resume(
        self, token: str, users: Mapping[str, User], now: datetime, active: bool = True
    ) -> User | None:
        """The session's user if it still holds (ending it if not); `active` marks the
        request as the user's own, which restarts the idle clock."""
        now = _utc(now)
        with self.engine.connect() as conn:
            row = conn.execute(
                select(sessions, oidc_sessions.c.role, oidc_sessions.c.scope)
                .outerjoin(oidc_sessions, oidc_sessions.c.id_hash == sessions.c.id_hash)
                .where(sessions.c.id_hash == _hash(token))
            ).first()
        if row is None or row.revoked_at is not None:
            return None
        user = (
            User(row.username, row.role, row.scope, "")
            if row.role is not None
            else users.get(row.username)
        )
        why: EndedBy | None = None
        if user is None:
            why = "user_removed"
        elif user_digest(user) != row.user_digest:
            why = "user_changed"
        elif now - _utc(row.created_at) >= self.lifetime:
            why = "expired"
        elif now - _utc(row.last_active_at) >= self.idle:
            why = "idle"
        if why is not None:
            self.end(token, now, why)
            return None
        if active:
            with self.engine.begin() as conn:
                conn.execute(
                    update(sessions)
                    .where(sessions.c.id_hash == row.id_hash, sessions.c.revoked_at.is_(None))
                    .values(last_active_at=now)
                )
        return user

    def end(self, token: str, now: datetime, why: EndedBy = "sign_out") -> None:
        """Revoke one session: its cookie, wherever it was copied, signs nobody in again."""
        with self.engine.begin() as conn:
            conn.execute(
                update(sessions)
                .where(sessions.c.id_hash == _hash(token), sessions.c.revoked_at.is_(None))
                .values(revoked_at=_utc(now), ended_by=why)
            )

    def end_user(self, username: str, now: datetime) -> int:
        """End every open session of one user at once, local or signed in through the
        council's identity provider (`flagstream dashboard end-sessions`); returns how many.
        The next request of each is sent to the sign-in page."""
        with self.engine.begin() as conn:
            result = conn.execute(
                update(sessions)
                .where(sessions.c.username == username, sessions.c.revoked_at.is_(None))
                .values(revoked_at=_utc(now), ended_by="admin")
            )
        return int(result.rowcount or 0)

    def end_changed(self, users: Mapping[str, User], now: datetime) -> int:
        """End every open session whose user is gone or changed; returns how many."""
        digests = {name: user_digest(u) for name, u in users.items()}
        ended = 0
        with self.engine.begin() as conn:
            open_ = conn.execute(
                select(sessions.c.id_hash, sessions.c.username, sessions.c.user_digest).where(
                    sessions.c.revoked_at.is_(None),
                    sessions.c.id_hash.not_in(select(oidc_sessions.c.id_hash)),  # no users file
                )
            ).all()
            for id_hash, username, digest in open_:
                if digests.get(username) == digest:
                    continue
                why = "user_removed" if username not in digests else "user_changed"
                conn.execute(
                    update(sessions)
                    .where(sessions.c.id_hash == id_hash, sessions.c.revoked_at.is_(None))
                    .values(revoked_at=_utc(now), ended_by=why)
                )
                ended += 1
        return ended
