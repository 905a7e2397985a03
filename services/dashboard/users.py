"""Dashboard users: a JSON file of names, roles, scopes and argon2 password hashes."""

from __future__ import annotations

import json
import os
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, get_args

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

if TYPE_CHECKING:
    from flagstream.generator.model import County

Role = Literal["school", "dsl", "zone", "manager", "admin"]
ROLES: tuple[Role, ...] = get_args(Role)
SCOPED: dict[Role, str] = {"school": "urn", "dsl": "urn", "zone": "zone"}

_hasher = PasswordHasher()
# Verified against when the user name is unknown, so both paths cost the same time.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


class UsersFileError(ValueError):
    """The users file is missing, unreadable or has a bad entry."""


@dataclass(frozen=True, slots=True)
class User:
    """One login: role plus scope (a school URN for school/dsl, a zone name for zone)."""

    username: str
    role: Role
    scope: str | None
    password_hash: str

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise UsersFileError(f"{self.username}: unknown role {self.role!r}; use {ROLES}")
        if (self.role in SCOPED) != bool(self.scope):
            need = SCOPED.get(self.role)
            raise UsersFileError(
                f"{self.username}: role {self.role} "
                + (f"needs a scope ({need})" if need else "takes no scope")
            )


@dataclass(frozen=True, slots=True)
class DemoUser:
    """A generated login for a demo county, with its plain password (demo only)."""

    role: Role
    username: str
    password: str
    scope: str | None


def hash_password(password: str) -> str:
    """Argon2id hash of a password."""
    return _hasher.hash(password)


def verify_password(user: User | None, password: str) -> bool:
    """True when the password matches; the same work is done for an unknown user."""
    try:
        return _hasher.verify(user.password_hash if user else _DUMMY_HASH, password) and bool(user)
    except (VerificationError, InvalidHashError):
        return False


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
                entry["username"], entry["role"], entry.get("scope"), entry["password_hash"]
            )
        except KeyError as exc:
            raise UsersFileError(f"{path}: a user entry has no {exc.args[0]}") from None
        users[user.username] = user
    return users


def write_users(path: Path, users: Iterable[User]) -> None:
    """Write the users file (owner-only permissions), replacing it atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {
        "users": [
            {
                "username": u.username,
                "role": u.role,
                "scope": u.scope,
                "password_hash": u.password_hash,
            }
            for u in users
        ]
    }
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(body, f, indent=2)
    tmp.replace(path)


def add_user(path: Path, username: str, role: Role, scope: str | None, password: str) -> User:
    """Add or replace one user in the users file (creating the file if needed)."""
    users: Mapping[str, User] = load_users(path) if path.exists() else {}
    user = User(username, role, scope, hash_password(password))
    write_users(path, [*(u for u in users.values() if u.username != username), user])
    return user


def demo_users(county: County, seed: int | None = None) -> list[DemoUser]:
    """One login per role for a generated county: the first school and first zone are scopes."""
    rng = random.SystemRandom() if seed is None else random.Random(seed)

    def password() -> str:
        return "".join(rng.choice("abcdefghjkmnpqrstuvwxyz23456789") for _ in range(12))

    school = county.schools[0]
    return [
        DemoUser("school", "school.staff", password(), school.urn),
        DemoUser("dsl", "school.dsl", password(), school.urn),
        DemoUser("zone", "zone.staff", password(), school.zone),
        DemoUser("manager", "manager", password(), None),
        DemoUser("admin", "admin", password(), None),
    ]


def write_demo_users(path: Path, users: Iterable[DemoUser]) -> None:
    """Hash demo logins into a users file."""
    write_users(path, [User(u.username, u.role, u.scope, hash_password(u.password)) for u in users])
