"""The council's one-column-per-flag shape as views over the flag rows, made from the catalogue.

`child_flag_columns` is `children` with `<flag>`, `<flag>_reason`, `<flag>_tier` and
`<flag>_since` for every open flag in the catalogue (what `children` held before flags became
rows); `school_flag_columns` has, per school, `children`, `<flag>_flagged` per flag,
`any_flagged` and `as_of` (what `school_summary` held). They are made again from the catalogue
whenever its flags differ from the views' columns - by the projector and the dashboard at start
(readmodel.migrate) - so a new flag needs no migration. On PostgreSQL they run as the invoker
(`security_invoker`): the viewer's row-level security on children and child_flags applies.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

from sqlalchemy import DDL, Connection, Engine, event, inspect, text
from sqlalchemy.exc import ProgrammingError

from .flags import open_flags
from .meta import metadata
from .tables import children

log = logging.getLogger("flagstream.readmodel")
_NAME = re.compile(r"^[A-Z][A-Z0-9_]{0,15}$")  # safe as a literal and (lower case) a column


def _checked(flags: Sequence[str]) -> list[str]:
    bad = [f for f in flags if not _NAME.match(f)]
    if bad:
        raise ValueError(f"flag names must be upper-case letters, digits and _: {bad}")
    return list(flags)


def child_columns_sql(flags: Sequence[str]) -> str:
    """child_flag_columns: each children row with four columns per flag."""
    cols = []
    for f in _checked(flags):
        n, when = f.lower(), f"CASE WHEN f.flag = '{f}' THEN"
        cols += [
            f"COUNT({when} 1 END) > 0 AS {n}",
            f"MAX({when} f.reason END) AS {n}_reason",
            f"MAX({when} f.tier END) AS {n}_tier",
            f"MAX({when} f.since END) AS {n}_since",
        ]
    # c.*: the columns children has when the view is made, so a migration before one that
    # adds a column makes it too; refresh() makes it again once columns differ from these.
    own = "c.*"
    # Grouped by the key alone: PostgreSQL takes c's other columns as dependent on it.
    return (
        f"SELECT {own}{''.join(', ' + c for c in cols)} "
        "FROM children c LEFT JOIN child_flags f ON f.child_key = c.child_key "
        "GROUP BY c.child_key"
    )


def school_columns_sql(flags: Sequence[str]) -> str:
    """school_flag_columns: one row per school, a count column per flag."""
    cols = [
        f"COALESCE(SUM(CASE WHEN k.flag = '{f}' THEN k.flagged END), 0) AS {f.lower()}_flagged"
        for f in _checked(flags)
    ]
    return (
        f"SELECT t.urn, t.children, {''.join(c + ', ' for c in cols)}t.any_flagged, t.as_of "
        "FROM school_summary t LEFT JOIN school_flag_counts k ON k.urn = t.urn "
        "GROUP BY t.urn, t.children, t.any_flagged, t.as_of"
    )


def views(flags: Sequence[str]) -> dict[str, str]:
    """View name -> its SELECT, for these flags."""
    return {
        "child_flag_columns": child_columns_sql(flags),
        "school_flag_columns": school_columns_sql(flags),
    }


def expected_columns(flags: Sequence[str]) -> dict[str, list[str]]:
    """View name -> its column names, for these flags."""
    per_flag = [
        c
        for f in flags
        for n in (f.lower(),)
        for c in (n, f"{n}_reason", f"{n}_tier", f"{n}_since")
    ]
    return {
        "child_flag_columns": [*(c.name for c in children.columns), *per_flag],
        "school_flag_columns": [
            "urn",
            "children",
            *(f"{f.lower()}_flagged" for f in flags),
            "any_flagged",
            "as_of",
        ],
    }


def create(conn: Connection, flags: Sequence[str]) -> None:
    """(Re)make both views for these flags in the caller's transaction."""
    invoker = " WITH (security_invoker = true)" if conn.dialect.name == "postgresql" else ""
    for name, select in views(flags).items():
        conn.execute(text(f"DROP VIEW IF EXISTS {name}"))
        conn.execute(text(f"CREATE VIEW {name}{invoker} AS {select}"))


def _current(conn: Connection) -> dict[str, list[str]]:
    found = inspect(conn)
    have = set(found.get_view_names())
    return {n: [c["name"] for c in found.get_columns(n)] for n in expected_columns(()) if n in have}


def refresh(conn: Connection) -> None:
    """Make the views again in the caller's transaction if the catalogue's flags differ from
    their columns (after the migrations, as the owner: `flagstream migrate --admin-url`)."""
    wanted = tuple(open_flags())
    if _current(conn) != expected_columns(wanted):
        create(conn, wanted)


def ensure(engine: Engine, flags: Sequence[str] | None = None) -> bool:
    """Make the views again if the catalogue's flags differ from their columns; False (and a
    warning) where this role may not (a PostgreSQL role that does not own them)."""
    wanted = tuple(open_flags() if flags is None else flags)
    with engine.connect() as conn:
        if _current(conn) == expected_columns(wanted):
            return True
    try:
        with engine.begin() as conn:
            create(conn, wanted)
    except ProgrammingError as exc:
        if getattr(exc.orig, "sqlstate", None) != "42501":  # insufficient_privilege
            raise
        log.warning(
            "the flag column views do not match the flag catalogue and %s may not make them "
            "again: start the projector once as the read model's owner (docs/read-model.md)",
            engine.url.username,
        )
        return False
    return True


def _after_create(_target: object, connection: Connection, **_kw: object) -> None:
    create(connection, open_flags())


# create_all makes the views as the catalogue stands; drop_all drops them first (PostgreSQL
# refuses to drop a table a view reads).
event.listen(metadata, "after_create", _after_create)
for _name in expected_columns(()):
    event.listen(metadata, "before_drop", DDL(f"DROP VIEW IF EXISTS {_name}"))  # type: ignore[no-untyped-call]
