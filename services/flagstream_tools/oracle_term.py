"""The batch oracle's term to date: a child's sessions from the first day of the as-of date's
term to the as-of date, counted mark by mark (docs/flags.md, "Term to date").

The term's first day is the term calendar's (`TermCalendar.term_start_of`, the pure function
the flagger is given); the counting is plain code over the marks the oracle gathered, never
the flagger's register. Possible and absent sessions are the DfE's categories (`codes.py`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import NamedTuple

from flagstream.domain.codes import ABSENT, ATTENDED


@dataclass(frozen=True, slots=True)
class TermToDate:
    """A child's term to date: the term's first day (None: no term in the calendar) and its
    possible and absent sessions up to `as_of` (a read-model row's term_* columns and as_of).
    Two are equal when their figures are; `as_of` says which day they were counted to."""

    start: date | None
    possible: int
    absent: int
    as_of: date | None = field(default=None, compare=False)


def term_to_date(
    marks: Mapping[tuple[date, str], str], as_of: date, term_start: date | None
) -> TermToDate:
    """Sessions marked from `term_start` to `as_of` inclusive (one mark per (day, session),
    the last recorded): possible = attended or absent, absent = authorised or unauthorised.
    A term starting after `as_of` (1 September before the autumn term) has counted nothing."""
    if term_start is None:
        return TermToDate(None, 0, 0, as_of)
    possible = absent = 0
    for (day, _session), code in marks.items():
        if term_start <= day <= as_of:
            if code in ABSENT:
                possible += 1
                absent += 1
            elif code in ATTENDED:
                possible += 1
    return TermToDate(term_start, possible, absent, as_of)


class TermField(NamedTuple):
    """One term-to-date figure on which the oracle and the read model differ (None: that
    side has no figures for the child)."""

    name: str
    oracle: date | int | None
    projected: date | int | None


_FIELDS = (
    ("term_start", "start"),
    ("term_possible_sessions", "possible"),
    ("term_absent_sessions", "absent"),
)


def comparable(oracle: TermToDate, projected: TermToDate) -> bool:
    """Whether a row's figures can be held to the oracle's: counted to the same day, or to an
    earlier day of the same term. A row is the child's last snapshot, and a day's tick writes
    a new one only for a child whose flags change, so a child with no marks since (not yet in
    school, or gone) keeps figures as of its own day; any mark would have written a new row,
    so within the term they are still the oracle's. A row of an earlier term, or counted past
    the oracle's day (`--as-of` before the log's end), is not compared."""
    if oracle.as_of is None or projected.as_of is None or oracle.as_of == projected.as_of:
        return True
    return projected.as_of < oracle.as_of and projected.start == oracle.start


def term_fields_differing(
    oracle: TermToDate | None, projected: TermToDate | None
) -> tuple[TermField, ...]:
    """The read-model columns whose value is not the oracle's, for figures that are
    `comparable`. A side with no figures (no read-model row; a caller that gives none)
    differs only if the other counted a possible session: a child with nothing dated has no
    snapshot, so no row, and nothing to count."""
    if oracle is not None and projected is not None and not comparable(oracle, projected):
        return ()
    if oracle is None or projected is None:
        known = oracle or projected
        if known is None or known.possible == 0:
            return ()
    return tuple(
        TermField(name, o, p)
        for name, attr in _FIELDS
        if (o := getattr(oracle, attr, None)) != (p := getattr(projected, attr, None))
    )
