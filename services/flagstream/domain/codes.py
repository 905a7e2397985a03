"""DfE attendance codes, their statistical categories, the dates each code is valid on and
stable one-byte ids."""

from __future__ import annotations

from datetime import date
from typing import Final, Literal

Category = Literal["present", "approved", "authorised", "unauthorised", "not_possible"]

# School Attendance (Pupil Registration) (England) Regulations 2024, reg. 10.
CATEGORY_OF: Final[dict[str, Category]] = {
    "/": "present",
    "\\": "present",
    "L": "present",
    "B": "approved",
    "K": "approved",
    "P": "approved",
    "V": "approved",
    "W": "approved",
    "C": "authorised",
    "C1": "authorised",
    "C2": "authorised",
    "E": "authorised",
    "I": "authorised",
    "J1": "authorised",
    "M": "authorised",
    "R": "authorised",
    "S": "authorised",
    "T": "authorised",
    "G": "unauthorised",
    "N": "unauthorised",
    "O": "unauthorised",
    "U": "unauthorised",
    "X": "not_possible",
    "Y1": "not_possible",
    "Y2": "not_possible",
    "Y3": "not_possible",
    "Y4": "not_possible",
    "Y5": "not_possible",
    "Y6": "not_possible",
    "Y7": "not_possible",
    "Q": "not_possible",
    "D": "not_possible",
    "Z": "not_possible",
    "#": "not_possible",
    # Retired codes, kept so that old registers count as they did (see VALID_FROM/VALID_UNTIL).
    "H": "authorised",  # holiday agreed by the school
    "F": "authorised",  # extended family holiday agreed
    "J": "approved",  # interview: approved educational activity until 2024 (J1 is an absence)
    "Y": "not_possible",  # unable to attend due to exceptional circumstances
}

# When the codes changed (England):
# * 1 Sep 2006: the national codes, with The Education (Pupil Registration) (England)
#   Regulations 2006; no register mark is checked against an older set.
# * 1 Sep 2013: F (extended family holiday) withdrawn by the 2013 amendment of those regulations
#   (term-time leave only in exceptional circumstances, recorded as H).
# * 19 Aug 2024: The School Attendance (Pupil Registration) (England) Regulations 2024 (SI
#   2024/208, reg. 10) and the DfE guidance "Working together to improve school attendance"
#   (August 2024): H, J and Y removed; C1, C2, J1, K, Q and Y1-Y7 added; the other codes kept.
CODES_FROM: Final = date(2006, 9, 1)
F_WITHDRAWN: Final = date(2013, 9, 1)
CODES_2024: Final = date(2024, 8, 19)
NEW_IN_2024: Final[frozenset[str]] = frozenset(
    ("C1", "C2", "J1", "K", "Q", "Y1", "Y2", "Y3", "Y4", "Y5", "Y6", "Y7")
)
VALID_UNTIL: Final[dict[str, date]] = {  # first day a retired code is no longer valid
    "F": F_WITHDRAWN,
    "H": CODES_2024,
    "J": CODES_2024,
    "Y": CODES_2024,
}
REPLACED_BY: Final[dict[str, str]] = {"F": "H", "H": "C", "J": "J1", "Y": "Y1-Y7"}
Validity = Literal["valid", "unknown", "retired", "not_yet_valid"]

# Persisted in flagger state as one byte per session: append only, never reorder.
# Id 0 means "no mark recorded for this session".
CODE_IDS: Final[tuple[str, ...]] = (
    "", "/", "\\", "L", "B", "K", "P", "V", "W",
    "C", "C1", "C2", "E", "I", "J1", "M", "R", "S", "T",
    "G", "N", "O", "U",
    "X", "Y1", "Y2", "Y3", "Y4", "Y5", "Y6", "Y7", "Q", "D", "Z", "#",
    "H", "F", "J", "Y",
)  # fmt: skip
ID_OF: Final[dict[str, int]] = {code: i for i, code in enumerate(CODE_IDS) if code}

ABSENT: Final[frozenset[str]] = frozenset(
    c for c, cat in CATEGORY_OF.items() if cat in ("authorised", "unauthorised")
)
ATTENDED: Final[frozenset[str]] = frozenset(
    c for c, cat in CATEGORY_OF.items() if cat in ("present", "approved")
)
UNAUTHORISED: Final[frozenset[str]] = frozenset(
    c for c, cat in CATEGORY_OF.items() if cat == "unauthorised"
)
UNAUTHORISED_IDS: Final[frozenset[int]] = frozenset(ID_OF[c] for c in UNAUTHORISED)
ABSENT_IDS: Final[frozenset[int]] = frozenset(ID_OF[c] for c in ABSENT)
ATTENDED_IDS: Final[frozenset[int]] = frozenset(ID_OF[c] for c in ATTENDED)


def is_known(code: str) -> bool:
    """True for a DfE attendance code, current or retired."""
    return code in CATEGORY_OF


def validity(code: str, on: date) -> Validity:
    """Whether a register may carry this code for a session on this day."""
    if code not in CATEGORY_OF:
        return "unknown"
    if code in NEW_IN_2024 and on < CODES_2024:
        return "not_yet_valid"
    until = VALID_UNTIL.get(code)
    if until is not None and on >= until:
        return "retired"
    return "valid"


def valid_on(on: date) -> frozenset[str]:
    """Every code a register may carry for a session on this day."""
    return frozenset(c for c in CATEGORY_OF if validity(c, on) == "valid")
