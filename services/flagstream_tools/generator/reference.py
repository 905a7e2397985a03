"""The dated national figures the generator is calibrated against (reference/*.toml).

Each figure names its source, or says it is assumed; a missing or malformed entry is a
ReferenceTableError naming the file and the entry.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Final

DEFAULT_PATH: Final = Path(__file__).resolve().parent / "reference" / "absence_autumn_2024_25.toml"
# The table's absence groups, in the order reports list them.
ABSENCE_GROUPS: Final = (
    "overall",
    "primary",
    "secondary",
    "special",
    "fsm",
    "not_fsm",
    "sen_support",
    "ehc_plan",
    "no_sen",
)
PHASES: Final = ("primary", "secondary", "special")


class ReferenceTableError(ValueError):
    """The reference table is missing or an entry is incomplete; the message says where."""


@dataclass(frozen=True, slots=True)
class Source:
    """A publication figures are taken from."""

    title: str
    url: str
    published: str  # a date, or words where the page gives none


@dataclass(frozen=True, slots=True)
class AbsenceFigure:
    """A group's absence and persistent-absence rates, in percent."""

    absence: float
    persistent: float
    source: str  # a key of Reference.sources
    absence_assumed: bool
    persistent_assumed: bool
    unauthorised: float | None  # unauthorised absence, where the table has it


@dataclass(frozen=True, slots=True)
class PhaseShares:
    """Shares of a phase's pupils eligible for FSM, on SEN support, with an EHC plan (%)."""

    fsm: float
    sen_support: float
    ehc_plan: float
    fsm_assumed: bool
    sen_assumed: bool


@dataclass(frozen=True, slots=True)
class Reference:
    """One reference table."""

    path: Path
    entered: date
    sources: dict[str, Source]
    absence: dict[str, AbsenceFigure]
    shares: dict[str, PhaseShares]
    phase_mix: dict[str, float]  # percent of pupils by phase (assumed)


def _get(table: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    value = table.get(key)
    if isinstance(value, bool) or not isinstance(value, kind):
        kinds = (kind,) if isinstance(kind, type) else kind
        wanted = " or ".join(k.__name__ for k in kinds)
        raise ReferenceTableError(f"{where}: '{key}' is missing or not {wanted}")
    return value


def _number(table: dict[str, Any], key: str, where: str) -> float:
    return float(_get(table, key, (int, float), where))


def load_reference(path: Path = DEFAULT_PATH) -> Reference:
    """Read and check a reference table."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise ReferenceTableError(f"{path}: cannot read the reference table: {e}") from e
    sources = {
        key: Source(
            _get(s, "title", str, f"{path} [source.{key}]"),
            _get(s, "url", str, f"{path} [source.{key}]"),
            str(_get(s, "published", (str, date), f"{path} [source.{key}]")),
        )
        for key, s in _get(raw, "source", dict, str(path)).items()
    }
    absence: dict[str, AbsenceFigure] = {}
    table = _get(raw, "absence", dict, str(path))
    for group in ABSENCE_GROUPS:
        where = f"{path} [absence.{group}]"
        a = _get(table, group, dict, str(path))
        source = _get(a, "source", str, where)
        named = [source] + (
            [_get(a, "unauthorised_source", str, where)] if "unauthorised" in a else []
        )
        for key in named:
            if key not in sources:
                raise ReferenceTableError(f"{where}: source '{key}' has no [source.{key}]")
        absence[group] = AbsenceFigure(
            _number(a, "absence", where),
            _number(a, "persistent", where),
            source,
            bool(a.get("absence_assumed", False)),
            bool(a.get("persistent_assumed", False)),
            _number(a, "unauthorised", where) if "unauthorised" in a else None,
        )
    shares: dict[str, PhaseShares] = {}
    table = _get(raw, "groups", dict, str(path))
    for phase in PHASES:
        where = f"{path} [groups.{phase}]"
        g = _get(table, phase, dict, str(path))
        shares[phase] = PhaseShares(
            _number(g, "fsm", where),
            _number(g, "sen_support", where),
            _number(g, "ehc_plan", where),
            bool(g.get("fsm_assumed", False)),
            bool(g.get("sen_assumed", False)),
        )
    mix = _get(raw, "phase_mix", dict, str(path))
    phase_mix = {phase: _number(mix, phase, f"{path} [phase_mix]") for phase in PHASES}
    entered = _get(raw, "entered", date, str(path))
    return Reference(path, entered, sources, absence, shares, phase_mix)
