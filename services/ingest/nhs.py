"""NHS numbers at the edge (docs/families.md): checked (10 digits, the modulus 11 check digit)
and replaced at once by a keyed hash, domain-separated from UPNs and household references.
A partner that knows no UPN (early years, health visiting) keys its records by this hash; an
enrolment that brings both numbers links it to the child's key (store/nhs_links.py)."""

from __future__ import annotations

from collections.abc import Callable

from flagstream import catalogue

from . import fields as f
from .fields import Reject

Key = Callable[[str], str]


def check_digit_ok(digits: str) -> bool:
    """The NHS number's modulus 11 check: weights 10..2 on the first nine digits; 11 minus the
    remainder is the tenth digit (11 counts as 0; 10 means no valid number)."""
    if len(digits) != 10 or not digits.isascii() or not digits.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(digits[9])


def nhs_number(value: object, field: str = "nhs_number") -> str:
    """A valid NHS number's ten digits (spaces and hyphens as written are dropped); raises
    Reject invalid_nhs_number, never echoing the value."""
    digits = f.required(value, field).replace(" ", "").replace("-", "")
    if not check_digit_ok(digits):
        raise Reject("invalid_nhs_number", field, "not a valid NHS number (10 digits, check digit)")
    return digits


def nhs_key(value: object, key: Key, field: str = "nhs_number") -> str:
    """The keyed hash of a valid NHS number: the child_key of a child known only by it."""
    return key(f"nhs:{nhs_number(value, field)}")


def optional_nhs_key(value: object, key: Key) -> str | None:
    """As nhs_key, None when absent or blank."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return nhs_key(value, key)


def nhs_keyed(label: str) -> bool:
    """True for a catalogue stream whose partners name children by NHS number."""
    kind = catalogue.labelled(label)
    return kind is not None and kind.intake is not None and kind.intake.key_by == "nhs_number"
