"""The users file: who may sign in, their role and scope, and where they are emailed.

A JSON file of user name, role, scope, argon2 password hash and an optional email address.
It lives in the kernel because two services read it: the dashboard (sign-in, scope) and the
notifier (who to tell, and where). Password hashing and verifying stay with the dashboard
(dashboard/users.py), the only service that checks a password.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

from .private_files import write_private

Role = Literal["school", "dsl", "zone", "manager", "admin"]
ROLES: tuple[Role, ...] = get_args(Role)
SCOPED: dict[Role, str] = {"school": "urn", "dsl": "urn", "zone": "zone"}
MAX_USERNAME = 64  # Also the sign-in form's limit: a longer name is never looked up.
# One @, no spaces or angle brackets: enough to refuse a typo, not an RFC 5322 parser.
_EMAIL = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")
log = logging.getLogger("flagstream.users")


class UsersFileError(ValueError):
    """The users file is missing, unreadable or has a bad entry."""


@dataclass(frozen=True, slots=True)
class User:
    """One login: role plus scope (a school URN for school/dsl, a zone name for zone), and
    the address the notifier writes to (none: the dashboard inbox only)."""

    username: str
    role: Role
    scope: str | None
    password_hash: str
    email: str | None = None

    def __post_init__(self) -> None:
        if not 0 < len(self.username) <= MAX_USERNAME:
            raise UsersFileError(
                f"{self.username[:20]!r}: a user name has 1-{MAX_USERNAME} characters"
            )
        if self.role not in ROLES:
            raise UsersFileError(f"{self.username}: unknown role {self.role!r}; use {ROLES}")
        if (self.role in SCOPED) != bool(self.scope):
            need = SCOPED.get(self.role)
            raise UsersFileError(
                f"{self.username}: role {self.role} "
                + (f"needs a scope ({need})" if need else "takes no scope")
            )
        if self.email is not None and not _EMAIL.match(self.email):
            raise UsersFileError(f"{self.username}: email is not an address (name@domain)")


def load_users(path: Path) -> dict[str, User]:
    """username -> User from a users file; raises UsersFileError saying what to fix."""
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise UsersFileError(
            f"no users file at {path}: create one with `flagstream dashboard add-user`"
        ) from None
    except (OSError, json.JSONDecodeError) as exc:
        raise UsersFileError(f"cannot read users file {path}: {exc}") from None
    users: dict[str, User] = {}
    for entry in data.get("users", []):
        try:
            user = User(
                entry["username"],
                entry["role"],
                entry.get("scope"),
                entry["password_hash"],
                entry.get("email") or None,
            )
        except KeyError as exc:
            raise UsersFileError(f"{path}: a user entry has no {exc.args[0]}") from None
        users[user.username] = user
    return users


def write_users(path: Path, users: Iterable[User]) -> None:
    """Write the users file (owner-only permissions), replacing it atomically."""
    body = {
        "users": [
            {
                "username": u.username,
                "role": u.role,
                "scope": u.scope,
                "password_hash": u.password_hash,
                **({"email": u.email} if u.email else {}),
            }
            for u in users
        ]
    }
    write_private(path, json.dumps(body, indent=2))


class UsersFile(Mapping[str, User]):
    """The users file, read again whenever it changes on disk, so a login added, removed or
    changed takes effect without a restart. A file that cannot be read counts as empty:
    nobody is signed in (or notified) until it is fixed (the error is logged)."""

    def __init__(self, path: Path, on_change: Callable[[Mapping[str, User]], None] | None = None):
        self.path = path
        self.on_change = on_change
        self._lock = threading.Lock()
        self._stamp = self._stat()
        self._users = load_users(path)  # A bad file at start stops the service instead.

    def _stat(self) -> tuple[int, int, int] | None:
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size, st.st_ino)  # write_users replaces: a new inode

    def _current(self) -> Mapping[str, User]:
        stamp = self._stat()
        if stamp == self._stamp:
            return self._users
        with self._lock:
            if stamp != self._stamp:
                try:
                    users = load_users(self.path)
                except (ValueError, TypeError, AttributeError) as exc:  # any bad content
                    log.error("users file unusable, nobody can sign in until fixed: %s", exc)
                    users = {}
                self._users, self._stamp = users, stamp
                if self.on_change is not None:
                    self.on_change(users)
            return self._users

    def __getitem__(self, username: str) -> User:
        return self._current()[username]

    def __iter__(self) -> Iterator[str]:
        return iter(self._current())

    def __len__(self) -> int:
        return len(self._current())
