"""Synthetic county data model: schools, pupils and the registers their MIS send."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

from flagstream.domain.events import Phase, Session, Sex

Preset = Literal["tiny", "demo", "dorset"]


@dataclass(frozen=True, slots=True)
class School:
    """A fictional school's reference data (GIAS-style)."""

    urn: str
    name: str
    phase: Phase
    pyramid: str
    zone: str
    la_code: int
    establishment: int


@dataclass(frozen=True, slots=True)
class Pupil:
    """A fictional pupil on one school's roll."""

    upn: str
    urn: str
    nc_year: int
    sex: Sex
    month_of_birth: str
    joined_on: dt.date


@dataclass(frozen=True, slots=True)
class RawMark:
    """One register mark exactly as a school's MIS sends it."""

    upn: str
    date: dt.date
    session: Session
    code: str


@dataclass(frozen=True, slots=True, repr=False)
class Register:
    """One submission by a school's MIS; it may also carry corrections of earlier days."""

    urn: str
    day: dt.date
    marks: tuple[RawMark, ...]

    def __repr__(self) -> str:
        # The default repr would print every mark, which swamps test failure output.
        return f"Register(urn={self.urn!r}, day={self.day!r}, marks=<{len(self.marks)}>)"


@dataclass(frozen=True, slots=True, repr=False)
class County:
    """A fictional local authority: its schools and every pupil on their rolls."""

    name: str
    schools: tuple[School, ...]
    pupils: tuple[Pupil, ...]
    _by_urn: dict[str, School] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        # Frozen, so the lookup index has to be set past the frozen __setattr__.
        object.__setattr__(self, "_by_urn", {s.urn: s for s in self.schools})

    def __repr__(self) -> str:
        # Tens of thousands of pupils are no use in a repr.
        return (
            f"County(name={self.name!r}, schools=<{len(self.schools)}>, "
            f"pupils=<{len(self.pupils)}>)"
        )

    def zones(self) -> list[str]:
        """Zone names, sorted."""
        return sorted({s.zone for s in self.schools})

    def school(self, urn: str) -> School:
        """The school with this URN (KeyError if there is none)."""
        return self._by_urn[urn]
