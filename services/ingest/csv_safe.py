"""CSV export safety: a cell starting with = + - @ (or a tab/CR) is read as a formula by
spreadsheets, so exports prefix it with an apostrophe (OWASP "CSV injection")."""

from __future__ import annotations

from typing import Final

_TRIGGERS: Final = ("=", "+", "-", "@", "\t", "\r")


def neutralise(cell: object) -> str:
    """The cell as text a spreadsheet will not evaluate."""
    text = "" if cell is None else str(cell)
    return "'" + text if text.startswith(_TRIGGERS) else text
