"""CSV cells a spreadsheet will not run: a cell starting with = + - @ (or a tab or carriage
return) is read as a formula, so exports prefix it with an apostrophe (OWASP "CSV
injection"). Every CSV export (the dashboard's, ingest's) writes its cells through here."""

from __future__ import annotations

from typing import Final

FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")


def neutralise(cell: object) -> str:
    """The cell as text a spreadsheet will not evaluate (None: an empty cell)."""
    text = "" if cell is None else str(cell)
    return "'" + text if text.startswith(FORMULA_START) else text
