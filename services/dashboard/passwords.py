"""The rule a new dashboard password must meet (NCSC: length, and not a known-common one)."""

from __future__ import annotations

MIN_LENGTH = 12
# Passwords of 12+ characters that still top breach lists; compared case-insensitively.
# fmt: off
COMMON = frozenset({
    "password1234", "password12345", "password123!", "passwordpassword", "123456789012",
    "1234567890123", "12345678901234", "123456123456", "111111111111", "000000000000",
    "qwerty123456", "qwertyuiop12", "qwertyuiopasdf", "1q2w3e4r5t6y", "1qaz2wsx3edc",
    "zaq12wsxcde3", "iloveyou1234", "welcome12345", "welcome123456", "letmein12345",
    "changeme1234", "administrator", "admin1234567", "abc123456789", "abcdefghijkl",
    "football1234", "baseball1234", "monkey123456", "sunshine1234", "princess1234",
    "trustno1trustno1", "correcthorsebatterystaple", "safeguarding", "safeguarding1",
    "flagstream123", "flagstream1234", "dashboard123", "dashboard1234",
})
# fmt: on


class WeakPasswordError(ValueError):
    """A new password breaks the rule; the message says which part and what to do."""


def check_password(username: str, password: str) -> None:
    """Raise WeakPasswordError unless the password may be used for this login."""
    if len(password) < MIN_LENGTH:
        raise WeakPasswordError(
            f"the password has {len(password)} characters; use at least {MIN_LENGTH}"
        )
    if password.casefold() == username.casefold():
        raise WeakPasswordError("the password is the user name; choose another")
    if password.casefold() in COMMON:
        raise WeakPasswordError("the password is on the list of common passwords; choose another")
