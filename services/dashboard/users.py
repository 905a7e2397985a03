"""Dashboard users: a JSON file of names, roles, scopes and argon2 password hashes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# The users file's model and loader live in the kernel (the notifier reads it too); the
# same names are re-exported here so `dashboard.users.User` and the rest keep working.
from flagstream.users_file import (
    MAX_USERNAME,
    ROLES,
    SCOPED,
    Role,
    User,
    UsersFile,
    UsersFileError,
    load_users,
    write_users,
)

from .passwords import check_password

__all__ = [
    "MAX_USERNAME",
    "ROLES",
    "SCOPED",
    "DemoUser",
    "Role",
    "User",
    "UsersFile",
    "UsersFileError",
    "add_user",
    "hash_password",
    "load_users",
    "verify_password",
    "write_demo_users",
    "write_users",
]

_hasher = PasswordHasher()
# Verified against when the user name is unknown, so both paths cost the same time.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


@dataclass(frozen=True, slots=True)
class DemoUser:
    """A generated login for a demo county, with its plain password (demo only)."""

    role: Role
    username: str
    password: str
    scope: str | None
    email: str | None = None


def hash_password(password: str) -> str:
    """Argon2id hash of a password."""
    return _hasher.hash(password)


def verify_password(user: User | None, password: str) -> bool:
    """True when the password matches; the same work is done for an unknown user."""
    try:
        return _hasher.verify(user.password_hash if user else _DUMMY_HASH, password) and bool(user)
    except (VerificationError, InvalidHashError):
        return False


def add_user(
    path: Path,
    username: str,
    role: Role,
    scope: str | None,
    password: str,
    email: str | None = None,
) -> User:
    """Add or replace one user in the users file (creating the file if needed); raises
    passwords.WeakPasswordError if the password breaks the rule (see check_password)."""
    check_password(username, password)
    users: Mapping[str, User] = load_users(path) if path.exists() else {}
    user = User(username, role, scope, hash_password(password), email)
    write_users(path, [*(u for u in users.values() if u.username != username), user])
    return user


def write_demo_users(path: Path, users: Iterable[DemoUser]) -> None:
    """Hash demo logins into a users file."""
    write_users(
        path,
        [User(u.username, u.role, u.scope, hash_password(u.password), u.email) for u in users],
    )
