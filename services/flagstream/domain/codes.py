"""DfE attendance codes, their statistical categories and stable one-byte ids."""

from __future__ import annotations

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
}

# Persisted in flagger state as one byte per session: append only, never reorder.
# Id 0 means "no mark recorded for this session".
CODE_IDS: Final[tuple[str, ...]] = (
    "", "/", "\\", "L", "B", "K", "P", "V", "W",
    "C", "C1", "C2", "E", "I", "J1", "M", "R", "S", "T",
    "G", "N", "O", "U",
    "X", "Y1", "Y2", "Y3", "Y4", "Y5", "Y6", "Y7", "Q", "D", "Z", "#",
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
    """True for a current DfE attendance code."""
    return code in CATEGORY_OF
