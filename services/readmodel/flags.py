"""The flags the read model shows, from the flag catalogue (flagstream/domain/rules).

Nothing here lists a flag: a rule registered in the catalogue (built in, or by an extension)
is a row of `child_flags` and a column of every screen, with no migration and no SQL.
"""

from __future__ import annotations

from flagstream.domain.rules import DEFAULT_RULES


def open_flags() -> tuple[str, ...]:
    """Every flag that is not sensitive, in catalogue order (the council's five first)."""
    return tuple(r.flag for r in DEFAULT_RULES.values() if not r.sensitive)


def display_name(flag: str) -> str:
    """The flag as screens spell it (its rule's title), any other name title-cased."""
    rule = DEFAULT_RULES.get(flag.upper())
    return rule.display_name if rule is not None else flag.title()
