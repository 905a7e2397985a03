"""Synthetic pupil names, derived from the UPN so a county needs no extra state or seed."""

from __future__ import annotations

import hashlib
from typing import Final

from flagstream.domain.events import Sex

# Common English given names and surnames: fictional pupils only.
_GIRLS: Final = (
    "Olivia", "Amelia", "Isla", "Ava", "Ivy", "Freya", "Lily", "Florence", "Mia", "Willow",
    "Rosie", "Sophia", "Isabella", "Grace", "Daisy", "Sienna", "Poppy", "Elsie", "Emily", "Ella",
)  # fmt: skip
_BOYS: Final = (
    "Noah", "Oliver", "George", "Arthur", "Muhammad", "Leo", "Harry", "Oscar", "Archie", "Henry",
    "Theodore", "Freddie", "Jack", "Charlie", "Theo", "Alfie", "Jacob", "Thomas", "Finley", "Lucas",
)  # fmt: skip
_SURNAMES: Final = (
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel",
    "Robinson", "Wright", "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall",
    "Wood", "Jackson", "Clarke", "Khan", "Hughes", "Edwards", "Hill", "Moore", "Turner", "Cooper",
)  # fmt: skip


def pupil_name(upn: str, sex: Sex) -> tuple[str, str]:
    """(forename, surname) for a fictional pupil; the same UPN always gets the same name."""
    digest = hashlib.sha256(f"flagstream.generator.names/{upn}".encode()).digest()
    forenames = _GIRLS if sex == "F" else _BOYS if sex == "M" else _GIRLS + _BOYS
    return forenames[digest[0] % len(forenames)], _SURNAMES[digest[1] % len(_SURNAMES)]
