"""The evidence queries on PostgreSQL 15 as the dashboard runs them: the read model made by
its migrations under the production roles, read as the dashboard's role through
`ctx.read_as(who)`'s scope, so row-level security applies. A manager gets the same hand
computed figures as on SQLite; a zone user's transaction sees only their zone's rows."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from dashboard.authz import Principal
from dashboard.scope import set_scope
from flagstream.engine import make_engine
from flagstream.term_calendar import england
from flagstream_tools.databases import BY_NAME, DATABASES
from flagstream_tools.pg_roles import ROLES, Plan, apply_grants, apply_roles, migrate_as_owners
from readmodel import evidence
from tests.unit.test_evidence import build, check_figures

from ..conftest import PG_ADMIN_URL

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def dashboard_url() -> Iterator[str]:
    prefix = f"fse{uuid.uuid4().hex[:8]}"
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    urls = {d.name: f"{base}/{prefix}_{d.name}" for d in DATABASES}
    plan = Plan.of(PG_ADMIN_URL, urls, prefix)
    db = plan.databases["read_model"]  # type: ignore[index]
    try:
        apply_roles(plan, {}, lambda _line: None)
        migrate_as_owners(plan, lambda _line: None)
        apply_grants(plan, BY_NAME["read_model"], lambda _line: None)
        admin = make_engine(f"{base}/{db}")
        build(admin, create=False)  # as postgres: the projector's rows, RLS not in the way
        admin.dispose()
        yield f"postgresql+psycopg://{plan.role('dashboard')}@127.0.0.1:5432/{db}"
    finally:
        cleanup = make_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with cleanup.connect() as conn:
            for name in plan.databases.values():
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            for short in ROLES:
                conn.execute(text(f'DROP ROLE IF EXISTS "{plan.role(short)}"'))
        cleanup.dispose()


def test_the_figures_read_as_a_manager_match_the_hand_computed_ones(dashboard_url: str) -> None:
    engine = make_engine(dashboard_url)
    try:
        with engine.connect() as conn:
            set_scope(conn, Principal("boss", "manager", None))
            check_figures(conn)
    finally:
        engine.dispose()


def test_a_zone_users_transaction_sees_only_their_zone(dashboard_url: str) -> None:
    engine = make_engine(dashboard_url)
    try:
        with engine.connect() as conn:
            set_scope(conn, Principal("north", "zone", "North"))
            groups = {r.group for r in evidence.rereferrals(conn, england())}
            terms = england().terms()
            flow = evidence.response_flow(conn, terms[0].starts, terms[-1].ends)
        assert groups == {"North"}  # South's rows are not visible, even unfiltered
        assert [f.urn for f in flow] == ["100001"]
    finally:
        engine.dispose()
