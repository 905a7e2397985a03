"""Build a fictional county: zones of school pyramids, each school with a roll of pupils."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date
from typing import Final

from flagstream.domain.events import Phase, Sex
from flagstream.domain.upn import make_upn
from flagstream_tools.generator.model import County, Preset, Pupil, School

# Dorset's LA number is public; every school and pupil under it here is invented.
LA_CODE: Final = 835
SCHOOL_YEAR: Final = 2025  # rolls are as at 1 September of this year

# Invented syllables; combined they read like West Country places without naming real schools.
_PREFIXES: Final = (
    "Hart",
    "Brindle",
    "Corry",
    "Dimble",
    "Elver",
    "Fennick",
    "Gorrow",
    "Hollin",
    "Ivel",
    "Lidden",
    "Marrow",
    "Orrin",
    "Pellow",
    "Rushen",
    "Sallow",
    "Tansey",
    "Umber",
    "Vellan",
    "Wrenn",
    "Yarrow",
    "Bramble",
    "Cobble",
    "Fallow",
    "Gillow",
    "Quenny",
    "Tollen",
)
_SUFFIXES: Final = (
    "combe",
    "ford",
    "ton",
    "leigh",
    "bury",
    "wick",
    "mere",
    "cott",
    "hay",
    "den",
    "marsh",
)
# Combinations that turned out to be real places with schools.
_REAL: Final = frozenset({"Hartford", "Umberleigh", "Yarrowford"})
_ZONES: Final = (
    "Northvale",
    "Eastmoor",
    "Westdown",
    "Southmere",
    "Chalkridge",
    "Coastway",
    "Heathmoor",
)

# National Curriculum year groups taught, by phase; secondaries may add a sixth form.
_YEARS: Final[dict[Phase, range]] = {
    "PRIMARY": range(0, 7),
    "FIRST": range(0, 4),
    "MIDDLE": range(4, 8),
    "SECONDARY": range(7, 12),
    "UPPER": range(8, 14),
    "SPECIAL": range(0, 14),
}
# (low, high, mode) of a realistic roll; rolls are then scaled to the preset's total.
_ROLL: Final[dict[Phase, tuple[float, float, float]]] = {
    "PRIMARY": (100, 420, 180),
    "FIRST": (80, 300, 150),
    "MIDDLE": (250, 600, 400),
    "SECONDARY": (600, 1500, 850),
    "UPPER": (700, 1500, 1000),
    "SPECIAL": (60, 150, 90),
}
# First establishment number by phase, following the DfE's numbering bands.
_ESTABLISHMENT: Final[dict[Phase, int]] = {
    "PRIMARY": 2000,
    "FIRST": 2000,
    "MIDDLE": 2000,
    "SECONDARY": 4000,
    "UPPER": 4000,
    "SPECIAL": 7000,
}


@dataclass(frozen=True, slots=True)
class _Shape:
    """How a preset's county is laid out."""

    name: str
    zone_pyramids: tuple[int, ...]  # pyramids in each zone, one entry per zone
    feeders: tuple[int, int]  # primaries feeding one secondary (inclusive range)
    specials: int
    three_tier: bool  # one zone runs first/middle/upper schools, as parts of Dorset do
    pupils: tuple[int, int]  # total roll (inclusive range)


_SHAPES: Final[dict[Preset, _Shape]] = {
    "tiny": _Shape("Tiny Synthetic County", (1, 1), (1, 2), 0, False, (180, 270)),
    "demo": _Shape("Demo Synthetic County", (1, 1, 1, 1), (3, 4), 1, True, (4700, 5300)),
    "dorset": _Shape(
        "Dorset-scale Synthetic County", (3, 4, 4, 4, 4, 4, 5), (3, 6), 6, True, (43500, 46500)
    ),
}


@dataclass(frozen=True, slots=True)
class _Plan:
    """A school before it has numbers: its place in the hierarchy and unscaled roll."""

    phase: Phase
    place: str
    pyramid: str
    zone: str
    sixth_form: bool
    raw_roll: float


def _name(rng: random.Random, phase: Phase, place: str) -> str:
    if phase == "SECONDARY":
        return f"{place} {rng.choice(('Academy', 'School', 'Community School'))}"
    if phase == "SPECIAL":
        return f"{place} {rng.choice(('Special School', 'House School'))}"
    church = phase in ("PRIMARY", "FIRST") and rng.random() < 0.25
    return f"{place}{' CE' if church else ''} {phase.title()} School"


def _plans(rng: random.Random, shape: _Shape) -> list[_Plan]:
    places = [p + s for p in _PREFIXES for s in _SUFFIXES if p + s not in _REAL]
    rng.shuffle(places)
    zones = [f"{z} Zone" for z in rng.sample(_ZONES, len(shape.zone_pyramids))]
    sizes = rng.sample(shape.zone_pyramids, len(shape.zone_pyramids))
    three_tier = rng.randrange(len(zones)) if shape.three_tier else -1
    special_zones = [i % len(zones) for i in range(shape.specials)]
    plans: list[_Plan] = []

    def add(phase: Phase, pyramid: str, zone: str, sixth_form: bool = False) -> None:
        low, high, mode = _ROLL[phase]
        raw = rng.triangular(low, high, mode)
        plans.append(_Plan(phase, places.pop(), pyramid, zone, sixth_form, raw))

    for zi, (zone, size) in enumerate(zip(zones, sizes, strict=True)):
        pyramids: list[str] = []
        for _ in range(size):
            # The pyramid takes its name from the town of the school at its top.
            pyramid = f"{places[-1]} Pyramid"
            pyramids.append(pyramid)
            if zi == three_tier:
                add("UPPER", pyramid, zone, True)
                for _ in range(rng.randint(1, 2)):
                    add("MIDDLE", pyramid, zone)
                    for _ in range(rng.randint(2, 3)):
                        add("FIRST", pyramid, zone)
            else:
                add("SECONDARY", pyramid, zone, rng.random() < 0.5)
                for _ in range(rng.randint(*shape.feeders)):
                    add("PRIMARY", pyramid, zone)
        for _ in range(special_zones.count(zi)):
            add("SPECIAL", rng.choice(pyramids), zone)
    return plans


def _roll(rng: random.Random, school: School, roll: int, years: range) -> list[Pupil]:
    """Pupils for one school, spread over its year groups (sixth-form years are smaller)."""
    weights = [0.5 if y >= 12 else 1.0 for y in years]
    total = sum(weights)
    female = 0.3 if school.phase == "SPECIAL" else 0.5  # special schools are mostly boys
    movers = 0.5 if school.phase == "SPECIAL" else 0.08
    pupils: list[Pupil] = []
    serials: dict[int, int] = {}
    for year, weight in zip(years, weights, strict=True):
        count = max(1, round(roll * weight / total * rng.uniform(0.9, 1.1)))
        first_sept = SCHOOL_YEAR - (year - years[0])
        born = SCHOOL_YEAR - 5 - year  # born September of this year to August of the next
        for _ in range(count):
            joined = first_sept if rng.random() >= movers else rng.randint(first_sept, SCHOOL_YEAR)
            serial = serials.get(joined, 0) + 1
            if serial > 999:
                raise ValueError(f"{school.name}: more than 999 UPNs allocated in {joined}")
            serials[joined] = serial
            sex: Sex = "F" if rng.random() < female else "M"
            month = 9 + rng.randrange(12)
            birth = f"{born + (month > 12):04d}-{(month - 1) % 12 + 1:02d}"
            upn = make_upn(school.la_code, school.establishment, joined, serial)
            pupils.append(
                Pupil(upn, school.urn, year, sex, birth, date(joined, 9, 1)),
            )
    return pupils


def make_county(preset: Preset, seed: int) -> County:
    """A deterministic fictional county for the preset; the same seed gives the same county."""
    shape = _SHAPES[preset]
    rng = random.Random(seed)
    plans = _plans(rng, shape)
    scale = rng.randint(*shape.pupils) / sum(p.raw_roll for p in plans)
    urn = 110000 + rng.randrange(20000)
    next_establishment: dict[int, int] = {}  # last number used in each band
    schools: list[School] = []
    pupils: list[Pupil] = []
    for plan in plans:
        urn += rng.randint(1, 9)
        base = _ESTABLISHMENT[plan.phase]
        name = _name(rng, plan.phase, plan.place)
        # Voluntary (church) schools sit in the 3xxx band.
        band = base + 1000 if " CE " in name else base
        establishment = next_establishment.get(band, band) + rng.randint(1, 4)
        next_establishment[band] = establishment
        school = School(
            f"{urn:06d}", name, plan.phase, plan.pyramid, plan.zone, LA_CODE, establishment
        )
        schools.append(school)
        years = _YEARS[plan.phase]
        if plan.phase == "SECONDARY" and plan.sixth_form:
            years = range(7, 14)
        pupils.extend(_roll(rng, school, round(plan.raw_roll * scale), years))
    return County(shape.name, tuple(schools), tuple(pupils))
