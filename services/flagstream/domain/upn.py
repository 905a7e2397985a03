"""Unique Pupil Number format and check letter (DfE UPN guide)."""

from __future__ import annotations

import re
from typing import Final, Literal

# Check letters omit I, O and S; index = weighted sum mod 23.
CHECK_LETTERS: Final = "ABCDEFGHJKLMNPQRTUVWXYZ"
_UPN = re.compile(r"[A-HJ-NP-RT-Z][0-9]{11}[0-9A-HJ-NP-RT-Z]")

UpnProblem = Literal["invalid_upn_format", "invalid_upn_check_letter"]


def _value(ch: str) -> int:
    # Temporary UPNs end in a letter, valued by its position in CHECK_LETTERS.
    return int(ch) if ch.isdigit() else CHECK_LETTERS.index(ch)


def check_letter(body: str) -> str:
    """Check letter for the 12 characters that follow it in a UPN."""
    if len(body) != 12:
        raise ValueError("a UPN body has 12 characters")
    total = sum(_value(ch) * weight for weight, ch in enumerate(body, start=2))
    return CHECK_LETTERS[total % 23]


def upn_problem(upn: str) -> UpnProblem | None:
    """None for a well-formed UPN, else the stable reason code."""
    if not _UPN.fullmatch(upn):
        return "invalid_upn_format"
    if check_letter(upn[1:]) != upn[0]:
        return "invalid_upn_check_letter"
    return None


def make_upn(la_code: int, establishment: int, year: int, serial: int) -> str:
    """A permanent UPN: LA (3) + establishment (4) + year of allocation (2) + serial (3)."""
    body = f"{la_code:03d}{establishment:04d}{year % 100:02d}{serial:03d}"
    return check_letter(body) + body
