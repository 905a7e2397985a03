"""Row-level security on the family tables (docs/families.md) on this machine's PostgreSQL: the
dashboard's role sees a household row only when its child is in the viewer's scope, so a
sibling at a school out of scope is not even counted; the sibling query run as the dashboard
returns the same; a child not yet in school (no school) and its place are for county roles
only; a link is seen with its child (the role matrix and its fixture: test_pg_roles.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import insert, text

from dashboard.authz import Principal
from dashboard.context import Context
from dashboard.siblings import sibling_rows
from readmodel import tables

from .test_pg_roles import Cluster, cluster, rows

pytestmark = pytest.mark.postgres
__all__ = ["cluster"]  # the module's own PostgreSQL set, as test_pg_roles makes it

# In the seed: a1, a2 at 100001 and b1 at 100002 (North), c1 at 100003 (South).
HOUSEHOLD = [("h1", "a1"), ("h1", "b1"), ("h1", "c1")]


def test_household_rows_are_seen_only_for_children_in_scope(cluster: Cluster) -> None:
    projector = cluster.as_role("projector", "read_model")
    with projector.begin() as conn:
        conn.execute(
            insert(tables.child_households),
            [{"household_key": h, "child_key": c} for h, c in HOUSEHOLD],
        )
    dashboard = cluster.as_role("dashboard", "read_model")
    ctx = Context(
        read_model=dashboard,
        audit_db=cluster.as_role("dashboard", "audit"),
        users={},
        sender=None,  # type: ignore[arg-type]
    )
    try:
        count = "SELECT count(*) FROM child_households"
        assert rows(dashboard, count) == [(0,)]  # no scope set: nothing
        seen = {
            Principal("s", "school", "100001"): ["a1"],
            Principal("s", "school", "100003"): ["c1"],
            Principal("z", "zone", "North"): ["a1", "b1"],
            Principal("m", "manager", None): ["a1", "b1", "c1"],
        }
        for who, keys in seen.items():
            sql = "SELECT child_key FROM child_households ORDER BY child_key"
            assert [r[0] for r in rows(dashboard, sql, who)] == keys, who
            # Without the page's own check, the database alone lists only siblings in scope.
            with ctx.read_as(who) as conn:
                found = sorted(r["child_key"] for r in sibling_rows(conn, "a1"))
            # (a viewer who cannot see a1 does not see its household either)
            assert found == ([k for k in keys if k != "a1"] if "a1" in keys else []), who
        # c1's school: a count of a1's household rows is zero, as if there were none.
        south = Principal("s", "school", "100003")
        assert rows(dashboard, "SELECT count(*) FROM child_households WHERE household_key = 'h1' "
                    "AND child_key <> 'c1'", south) == [(0,)]  # fmt: skip
    finally:
        with projector.begin() as conn:
            conn.execute(text("DELETE FROM child_households"))


def test_children_not_yet_in_school_are_for_county_roles_and_their_zone(cluster: Cluster) -> None:
    projector = cluster.as_role("projector", "read_model")
    with projector.begin() as conn:
        conn.execute(
            insert(tables.children),
            {"child_key": "ey1", "urn": "", "as_of": date(2026, 9, 25), "possible_sessions": 0,
             "absent_sessions": 0, "indicators": 1, "flags": "EY", "rule_version": "t",
             "updated_at": datetime(2026, 9, 25, tzinfo=UTC)},
        )  # fmt: skip
        conn.execute(
            insert(tables.child_places),
            {"child_key": "ey1", "source": "early_years", "setting": "EY1", "zone": "North",
             "checked_on": date(2026, 9, 1)},
        )  # fmt: skip
        conn.execute(insert(tables.child_links), {"nhs_key": "ey0", "child_key": "a1"})
    dashboard = cluster.as_role("dashboard", "read_model")
    try:
        for table in ("child_places", "children"):
            sql = f"SELECT count(*) FROM {table} WHERE child_key = 'ey1'"
            for who in (Principal("m", "manager", None), Principal("z", "zone", "North")):
                assert rows(dashboard, sql, who) == [(1,)], (table, who)
            for who in (
                Principal("z", "zone", "South"),
                Principal("s", "school", "100001"),
                Principal("d", "dsl", "100001"),
            ):
                assert rows(dashboard, sql, who) == [(0,)], (table, who)
        # The school children of the zone are as before, the child not in school besides.
        north = "SELECT child_key FROM children ORDER BY child_key"
        assert [r[0] for r in rows(dashboard, north, Principal("z", "zone", "North"))] == [
            "a1", "a2", "b1", "ey1",
        ]  # fmt: skip
        links = "SELECT child_key FROM child_links"
        assert rows(dashboard, links, Principal("s", "school", "100001")) == [("a1",)]
        assert rows(dashboard, links, Principal("s", "school", "100003")) == []
    finally:
        with projector.begin() as conn:
            for table in ("child_links", "child_places"):
                conn.execute(text(f"DELETE FROM {table}"))
            conn.execute(text("DELETE FROM children WHERE child_key = 'ey1'"))
