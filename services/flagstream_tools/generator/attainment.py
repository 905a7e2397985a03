"""Every year group's assessment results for this school year and the two before: the EYFS
profile, the phonics screening check (and its Year 2 retake), the multiplication tables
check, termly teacher assessments (Years 1-6) and KS3 in-year grades (Years 7-9).

Each pupil's results mix their ability with noise of their own (a random stream seeded by the
pupil, apart from the partners' stream, so adding an assessment moves no other record);
rates are England's: GLD ~67%, phonics 32+ ~80% in Year 1, MTC mean ~20.6 with ~34% full
marks, teacher assessments EXS+ ~70% per subject. KS2 and KS4 stay in partners.py.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import Final

from flagstream_tools.generator.model import AssessmentRecorded, Pupil

# Latent standards on the pupil's mix of ability and noise (mean ~0.1, sd ~1.05).
_GLD: Final = -0.45
_TA_PKS, _TA_EXS, _TA_GDS = -1.9, -0.45, 0.98
_SUBJECTS: Final = ("READING", "WRITING", "MATHS")
School = Callable[[Pupil, int, date, random.Random], str]


def _friday_on_or_before(day: date) -> date:
    return day - timedelta(days=(day.weekday() - 4) % 7)


def term_ends(year: int) -> tuple[date, date, date]:
    """When termly assessments are recorded in the school year starting September `year`:
    the last Friday of the autumn, spring and summer terms (holidays approximated)."""
    return (
        _friday_on_or_before(date(year, 12, 19)),
        _friday_on_or_before(date(year + 1, 3, 28)),
        _friday_on_or_before(date(year + 1, 7, 18)),
    )


def _weekday(first: date, n: int, weekday: int) -> date:
    """The n-th given weekday (Monday 0) on or after `first`."""
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def _phonics(z: float, rng: random.Random) -> int:
    return min(40, max(0, round(31.5 + 5.2 * (z + 0.85) + 1.5 * rng.gauss(0, 1))))


def _mtc(z: float, rng: random.Random) -> int:
    lost = 3.0 * max(0.0, 0.9 - z - 0.3 * rng.gauss(0, 1)) ** 2  # most lose a few, some many
    return max(0, 25 - round(lost))


def _ta(z: float) -> str:
    return "PKS" if z < _TA_PKS else "WTS" if z < _TA_EXS else "GDS" if z > _TA_GDS else "EXS"


def year_results(
    pupil: Pupil, ability: float, current: int, school: School
) -> Iterator[AssessmentRecorded]:
    """The pupil's results in the school year starting September `current` (in which they
    are in Year pupil.nc_year) and the two before - the years Attain counts by default - in
    date order; `school` names where the pupil sat one."""
    rng = random.Random(f"attainment:{pupil.upn}")
    # A standing per subject, and a fresh draw per assessment round around it.
    standing = {s: 0.8 * ability + 0.5 * rng.gauss(0, 1) for s in _SUBJECTS}
    overall = 0.8 * ability + 0.6 * rng.gauss(0, 1)
    phonics_y1 = _phonics(overall, rng)
    out: list[tuple[date, str, str, int]] = []
    for year in range(current - 2, current + 1):
        group = pupil.nc_year - (current - year)
        phonics_week = _weekday(date(year + 1, 6, 1), 2, 0) + timedelta(rng.randrange(5))
        if group == 0:  # EYFS profile: end of June in Reception
            gld = overall + 0.3 * rng.gauss(0, 1) > _GLD
            on = _friday_on_or_before(date(year + 1, 6, 30))
            out.append((on, "EYFS_GLD", "GLD" if gld else "NOT_GLD", group))
        elif group == 1:  # phonics: the week of the second Monday of June
            out.append((phonics_week, "PHONICS", str(phonics_y1), group))
        elif group == 2 and phonics_y1 < 32:  # the retake, for those below the standard
            retake = min(40, max(0, round(phonics_y1 + 3.5 + 4 * rng.gauss(0, 1))))
            out.append((phonics_week, "PHONICS", str(retake), group))
        elif group == 4:  # MTC: a three-week window from the first Monday of June
            window = _weekday(date(year + 1, 6, 1), 1, 0)
            on = window + timedelta(days=7 * rng.randrange(3) + rng.randrange(5))
            out.append((on, "MTC", str(_mtc(standing["MATHS"], rng)), group))
        for term, on in enumerate(term_ends(year)):
            if 1 <= group <= 6 and not (group == 6 and term == 2):  # KS2 is Year 6's summer
                for s in _SUBJECTS:
                    level = _ta(standing[s] + 0.33 * rng.gauss(0, 1))
                    out.append((on, f"TA_{s}", level, group))
            elif 7 <= group <= 9:
                for s in ("ENGLISH", "MATHS"):
                    base = standing["MATHS"] if s == "MATHS" else (
                        standing["READING"] + standing["WRITING"]) / 2  # fmt: skip
                    grade = 4.6 + 1.9 * (base + 0.33 * rng.gauss(0, 1))
                    out.append((on, f"KS3_{s}", str(min(9, max(1, round(grade)))), group))
    for on, kind, result, group in sorted(out, key=lambda x: x[0]):
        yield AssessmentRecorded(pupil.upn, school(pupil, group, on, rng), kind, result, on)
