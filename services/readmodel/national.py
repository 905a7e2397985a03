"""Published national figures (DfE) that the evidence charts draw as dashed reference
lines, read from a dated, hand-entered TOML file that names each figure's source.

Why a file: the figures change once a year and must be traceable to a publication; a
screen that compares a school's rate with "England" has to say which release it used.
The file ships in the package (reference/national.toml); `load_reference(path)` reads
another, but no setting points the dashboard at one yet. A missing or malformed file is a
clear error naming the file and the entry, never a chart silently without its line.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

DEFAULT_PATH = Path(__file__).resolve().parent / "reference" / "national.toml"
_FIELDS = ("key", "flag", "label", "term", "percent", "source", "url", "published")


class ReferenceDataError(ValueError):
    """The reference file is missing or an entry is incomplete; the message says where."""


@dataclass(frozen=True, slots=True)
class Figure:
    """One published national figure: a percentage of pupils, against one flag."""

    key: str
    flag: str
    label: str
    term: str  # "" for the whole school year, else "Autumn", "Spring" or "Summer"
    percent: float
    source: str
    url: str
    published: date | str  # a date, or the month as text where the release gives no day
    group: str = ""  # "" for all pupils, else a pupil group as the evidence screen names it


@dataclass(frozen=True, slots=True)
class ReferenceData:
    """Every figure of one file, with the file's entry date and check status."""

    path: Path
    entered: date
    checked: str
    figures: tuple[Figure, ...]

    def for_flag(self, flag: str, term: str = "") -> Figure | None:
        """The all-pupils figure for `flag` in `term` if the file has one, else the
        whole-year one."""
        return self._best(flag, "", term, any_term=False)

    def for_group(self, flag: str, group: str, term: str = "") -> Figure | None:
        """The figure for `flag` within a pupil group (e.g. persistent absence of FSM-eligible
        pupils): the term's, else the whole year's, else one of another term (its label
        names the term)."""
        return self._best(flag, group, term, any_term=True)

    def _best(self, flag: str, group: str, term: str, any_term: bool) -> Figure | None:
        matches = [f for f in self.figures if f.flag == flag.upper() and f.group == group]
        exact = [f for f in matches if term and f.term == term]
        whole = [f for f in matches if not f.term]
        found = exact or whole or (matches if any_term else [])
        return found[0] if found else None


def _figure(raw: Any, where: str) -> Figure:
    if not isinstance(raw, dict):
        raise ReferenceDataError(f"{where}: each [[figure]] must be a table")
    missing = [f for f in _FIELDS if f not in raw]
    if missing:
        raise ReferenceDataError(f"{where}: missing {', '.join(missing)}")
    percent = raw["percent"]
    if isinstance(percent, bool) or not isinstance(percent, int | float) or not 0 <= percent <= 100:
        raise ReferenceDataError(
            f"{where}: percent must be a number from 0 to 100, not {percent!r}"
        )
    published = raw["published"]
    if not isinstance(published, date) and not (isinstance(published, str) and published):
        raise ReferenceDataError(
            f"{where}: published must be a date (YYYY-MM-DD), or the month as text"
        )
    group = raw.get("group", "")
    for name, value in [(n, raw[n]) for n in ("key", "flag", "label", "term", "source", "url")] + [
        ("group", group)
    ]:
        if not isinstance(value, str):
            raise ReferenceDataError(f"{where}: {name} must be text")
    return Figure(
        raw["key"], raw["flag"].upper(), raw["label"], raw["term"], float(percent),
        raw["source"], raw["url"], published, group,
    )  # fmt: skip


def load_reference(path: Path | None = None) -> ReferenceData:
    """Read and check the file (the packaged one when `path` is None)."""
    path = path or DEFAULT_PATH
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReferenceDataError(f"national reference file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ReferenceDataError(f"national reference file {path} is unreadable: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ReferenceDataError(
            f"national reference file {path} is not valid TOML: {exc}"
        ) from exc
    entered = data.get("entered")
    if not isinstance(entered, date):
        raise ReferenceDataError(f"{path}: 'entered' must be the date the figures were typed in")
    raw = data.get("figure")
    if not isinstance(raw, list) or not raw:
        raise ReferenceDataError(f"{path}: no [[figure]] entries")
    figures = tuple(_figure(r, f"{path} figure {i + 1}") for i, r in enumerate(raw))
    keys = [f.key for f in figures]
    if len(set(keys)) != len(keys):
        raise ReferenceDataError(f"{path}: a figure key appears twice")
    return ReferenceData(path, entered, str(data.get("checked", "")), figures)
