"""The role matrix on this machine's PostgreSQL: a fresh database set with random names,
migrated as the owners, roles applied (`flagstream db roles` / `migrate --admin-url`, with a
prefix of their own: roles are cluster-wide, and dropped afterwards). Each role then tries
what it must not do - each refused by a permission or row-level-security error, or by seeing
no rows - and what it must do, which works."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pytest
from kafka import KafkaProducer
from prometheus_client import CollectorRegistry
from sqlalchemy import Connection, Engine, insert, text
from sqlalchemy.exc import DBAPIError

from dashboard import queries
from dashboard.audit_guard import check_append_only
from dashboard.authz import Principal
from dashboard.context import Context
from dashboard.scope import set_scope
from flagstream import alerts, identity
from flagstream.alerts_database import prepare as prepare_alerts
from flagstream.codec import Codec
from flagstream.domain.events import FlagChanged
from flagstream.engine import make_engine
from flagstream.term_calendar import england
from flagstream.topics import Topics, create_topics
from flagstream.users_file import User
from flagstream_tools.broker import EmbeddedBroker
from flagstream_tools.databases import BY_NAME, DATABASES
from flagstream_tools.pg_roles import Plan, apply_grants, apply_roles, migrate_as_owners
from notifier import rules, schedule
from notifier.runner import Notifier, notifier_metrics
from readmodel import tables
from readmodel.db import create_schema
from tests.extensions import asb_loaded

from ..conftest import PG_ADMIN_URL

pytestmark = pytest.mark.postgres
AT = datetime(2026, 9, 25, 12, tzinfo=UTC)
# School A and B are in North, C in South.
SCHOOLS = {"100001": "North", "100002": "North", "100003": "South"}
CHILDREN = {"a1": "100001", "a2": "100001", "b1": "100002", "c1": "100003"}
LOGIN = ("ingest", "projector", "dashboard", "notifier", "bi")


@dataclass
class Cluster:
    plan: Plan
    engines: dict[tuple[str, str], Engine]

    def db(self, name: str) -> str:
        return self.plan.databases[name]  # type: ignore[index]

    def as_role(self, role: str, database: str) -> Engine:
        """An engine logging in as `role` (trust auth here) to one of the databases."""
        key = (role, database)
        if key not in self.engines:
            user = self.plan.role(role) if role != "admin" else "postgres"
            url = f"postgresql+psycopg://{user}@127.0.0.1:5432/{self.db(database)}"
            self.engines[key] = make_engine(url)
        return self.engines[key]


def _children_row(key: str, urn: str) -> dict[str, Any]:
    return {
        "child_key": key, "urn": urn, "as_of": date(2026, 9, 25), "possible_sessions": 20,
        "absent_sessions": 2, "indicators": 1,
        "flags": "ATTEND", "rule_version": "t", "updated_at": AT,
    }  # fmt: skip


def _seed(conn: Connection) -> None:
    """As the admin (a superuser: row-level security does not apply to it)."""
    conn.execute(
        insert(tables.schools),
        [
            {"urn": u, "name": f"School {u}", "phase": "primary", "pyramid": z, "zone": z,
             "updated_at": AT}
            for u, z in SCHOOLS.items()
        ],
    )  # fmt: skip
    conn.execute(insert(tables.children), [_children_row(k, u) for k, u in CHILDREN.items()])
    conn.execute(
        insert(tables.child_flags),
        [{"child_key": k, "flag": "ATTEND", "urn": u, "reason": "r", "tier": "",
          "since": date(2026, 9, 25)} for k, u in CHILDREN.items()],
    )  # fmt: skip
    conn.execute(
        insert(tables.school_summary),
        [{"urn": u, "children": n, "any_flagged": n, "as_of": date(2026, 9, 25)}
         for u, n in (("100001", 2), ("100002", 1), ("100003", 1))],
    )  # fmt: skip
    conn.execute(
        insert(tables.school_flag_counts),
        [{"urn": u, "flag": "ATTEND", "flagged": n}
         for u, n in (("100001", 2), ("100002", 1), ("100003", 1))],
    )  # fmt: skip
    conn.execute(
        insert(tables.flag_changes),
        [
            {"event_id": f"e-{k}", "child_key": k, "urn": u, "flag": "ATTEND", "change": "RAISED",
             "reason": "r", "rule_version": "t", "as_of": date(2026, 9, 25), "recorded_at": AT,
             "kafka_partition": 0, "kafka_offset": i}
            for i, (k, u) in enumerate(CHILDREN.items())
        ],
    )  # fmt: skip
    conn.execute(
        insert(tables.child_sources),
        [{"child_key": k, "source": "register", "last_received_at": AT,
          "data_as_of": date(2026, 9, 25)} for k in CHILDREN],
    )  # fmt: skip
    conn.execute(
        text(
            "INSERT INTO restricted_flags (child_key, flag, urn, reason, tier, raised_on, as_of, "
            "updated_at) VALUES ('a1', 'SAFEGUARD', '100001', 'r', '', '2026-09-20', "
            "'2026-09-25', now()), ('b1', 'SAFEGUARD', '100002', 'r', '', '2026-09-20', "
            "'2026-09-25', now())"
        )
    )


_STAND_IN = (
    "CREATE TABLE IF NOT EXISTS restricted_flags (child_key varchar(64) NOT NULL, "
    "flag varchar(16) NOT NULL, urn varchar(6) NOT NULL, reason text NOT NULL, "
    "tier varchar(32) NOT NULL, raised_on date NOT NULL, as_of date NOT NULL, "
    "updated_at timestamptz NOT NULL, PRIMARY KEY (child_key, flag))"
)


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    prefix = f"fst{uuid.uuid4().hex[:8]}"
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    urls = {db.name: f"{base}/{prefix}_{db.name}" for db in DATABASES}
    plan = Plan.of(PG_ADMIN_URL, urls, prefix)
    found = Cluster(plan, {})
    lines: list[str] = []
    try:
        apply_roles(plan, {}, lines.append)
        migrate_as_owners(plan, lines.append)
        admin = found.as_role("admin", "read_model")
        with admin.begin() as conn:
            # The sensitive-flag table, until its migration is there (as its owner would).
            conn.execute(text(f'SET LOCAL ROLE "{plan.role("owner")}"'))
            conn.execute(text(_STAND_IN))
        apply_grants(plan, BY_NAME["read_model"], lines.append)
        with admin.begin() as conn:
            _seed(conn)
        yield found
    finally:
        for engine in found.engines.values():
            engine.dispose()
        admin_engine = make_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin_engine.connect() as conn:
            for name in plan.databases.values():
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            for short in ("owner", "audit_owner", *LOGIN):
                conn.execute(text(f'DROP ROLE IF EXISTS "{plan.role(short)}"'))
        admin_engine.dispose()


def refused(engine: Engine, sql: str, scope: Principal | None = None) -> str:
    """The error `sql` ends with (it must end with one): permission, RLS or connection."""
    with pytest.raises(DBAPIError) as caught, engine.begin() as conn:
        if scope is not None:
            set_scope(conn, scope)
        conn.execute(text(sql))
    return str(caught.value.orig)


def rows(engine: Engine, sql: str, scope: Principal | None = None) -> list[Any]:
    with engine.begin() as conn:
        if scope is not None:
            set_scope(conn, scope)
        return [tuple(r) for r in conn.execute(text(sql))]


def test_no_role_is_superuser_or_bypasses_row_level_security(cluster: Cluster) -> None:
    admin = cluster.as_role("admin", "read_model")
    found = {
        r[0]: r[1:]
        for r in rows(
            admin,
            "SELECT rolname, rolsuper, rolbypassrls, rolcreaterole, rolcreatedb, rolreplication, "
            f"rolcanlogin FROM pg_roles WHERE rolname LIKE '{cluster.plan.prefix}\\_%'",
        )
    }
    assert set(found) == {cluster.plan.role(r) for r in ("owner", "audit_owner", *LOGIN)}
    for name, (superuser, bypass, createrole, createdb, replication, login) in found.items():
        assert not (superuser or bypass or createrole or createdb or replication), name
        assert login == (not name.endswith("owner")), name
    for role in LOGIN:
        for owner in ("owner", "audit_owner"):
            member = rows(
                admin,
                f"SELECT pg_has_role('{cluster.plan.role(role)}', '{cluster.plan.role(owner)}', "
                "'MEMBER')",
            )
            assert member == [(False,)], (role, owner)


def test_the_owners_own_everything(cluster: Cluster) -> None:
    for db in DATABASES:
        owners = rows(
            cluster.as_role("admin", db.name),
            "SELECT DISTINCT pg_get_userbyid(relowner) FROM pg_class c JOIN pg_namespace n "
            "ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND relkind IN ('r', 'v')",
        )
        assert owners == [(cluster.plan.role(db.owner),)], db.name


def test_the_dashboard_cannot_write_the_read_model(cluster: Cluster) -> None:
    dashboard = cluster.as_role("dashboard", "read_model")
    manager = Principal("m", "manager", None)
    for sql in (
        "UPDATE children SET indicators = 0 WHERE child_key = 'a1'",
        "DELETE FROM children",
        "INSERT INTO schools (urn, name, phase, pyramid, zone, updated_at) "
        "VALUES ('999999', 'x', 'x', 'x', 'x', now())",
        "TRUNCATE flag_changes",
        "DROP TABLE children",
    ):
        assert "permission denied" in refused(dashboard, sql, manager) or "must be owner" in (
            refused(dashboard, sql, manager)
        ), sql


def test_no_login_role_can_rewrite_the_audit_log(cluster: Cluster) -> None:
    dashboard = cluster.as_role("dashboard", "audit")
    with dashboard.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO audit_log (at, username, role, action, page) "
                "VALUES (now(), 'u', 'admin', 'view_child', '/')"
            )
        )
    for role in LOGIN:
        for sql in ("UPDATE audit_log SET username = 'x'", "DELETE FROM audit_log",
                    "TRUNCATE audit_log"):  # fmt: skip
            error = refused(cluster.as_role(role, "audit"), sql)
            assert "permission denied" in error, (role, sql, error)
    assert rows(dashboard, "SELECT count(*) FROM audit_log")[0][0] >= 1


def test_the_dashboard_cannot_drop_or_disable_the_append_only_trigger(cluster: Cluster) -> None:
    dashboard = cluster.as_role("dashboard", "audit")
    for sql in (
        "DROP TRIGGER audit_log_append_only ON audit_log",
        "ALTER TABLE audit_log DISABLE TRIGGER ALL",
        "DROP FUNCTION audit_log_append_only() CASCADE",
        "DROP TABLE audit_log",
    ):
        assert "must be owner" in refused(dashboard, sql), sql
    check_append_only(dashboard)  # in place: the dashboard starts


def test_the_dashboard_refuses_to_start_without_the_trigger(cluster: Cluster) -> None:
    admin = cluster.as_role("admin", "audit")
    with admin.begin() as conn:
        conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"))
    with pytest.raises(SystemExit, match="flagstream db roles"):
        check_append_only(cluster.as_role("dashboard", "audit"))
    with admin.begin() as conn:
        conn.execute(text("DROP TRIGGER audit_log_append_only ON audit_log"))
    with pytest.raises(SystemExit, match="append-only"):
        check_append_only(cluster.as_role("dashboard", "audit"))
    apply_grants(cluster.plan, BY_NAME["audit"], lambda _line: None)  # puts it back
    check_append_only(cluster.as_role("dashboard", "audit"))


def test_bi_reads_only_the_bi_views(cluster: Cluster) -> None:
    bi = cluster.as_role("bi", "read_model")
    for database in ("identity", "audit", "ingest"):
        assert "permission denied" in refused(cluster.as_role("bi", database), "SELECT 1")
    for table in ("children", "flag_changes", "flag_history", "schools", "school_summary",
                  "restricted_flags", "outcomes", "daily_counts", "zone_daily_counts",
                  "child_flags", "school_flag_counts", "child_flag_columns",
                  "school_flag_columns"):  # fmt: skip
        assert "permission denied" in refused(bi, f"SELECT * FROM {table}"), table
    views = [r[0] for r in rows(bi, "SELECT viewname FROM pg_views WHERE viewname LIKE 'bi\\_%'")]
    assert set(views) >= {"bi_schools", "bi_school_summary", "bi_flag_counts", "bi_daily_counts",
                          "bi_reflagged", "bi_read_model_status"}  # fmt: skip
    for view in views:
        rows(bi, f"SELECT * FROM {view}")  # readable
        columns = rows(
            bi,
            f"SELECT column_name FROM information_schema.columns WHERE table_name = '{view}'",
        )
        assert ("child_key",) not in columns, view
    counts = rows(bi, "SELECT urn, flag, children FROM bi_flag_counts ORDER BY urn")
    assert counts == [("100001", "ATTEND", 2), ("100002", "ATTEND", 1), ("100003", "ATTEND", 1)]
    # bi_school_summary keeps a column per flag of the catalogue, from the flag rows.
    summary = rows(bi, "SELECT urn, children, attend_flagged, sen_flagged, any_flagged "
                   "FROM bi_school_summary ORDER BY urn")  # fmt: skip
    assert summary == [("100001", 2, 2, 0, 2), ("100002", 1, 1, 0, 1), ("100003", 1, 1, 0, 1)]


def test_the_dashboard_sees_child_rows_only_in_the_viewers_scope(cluster: Cluster) -> None:
    dashboard = cluster.as_role("dashboard", "read_model")
    everyone = "SELECT child_key FROM children ORDER BY child_key"
    assert rows(dashboard, everyone) == []  # no scope set: nothing
    scopes = {
        Principal("s", "school", "100001"): ["a1", "a2"],
        Principal("d", "dsl", "100002"): ["b1"],
        Principal("z", "zone", "North"): ["a1", "a2", "b1"],
        Principal("z", "zone", "South"): ["c1"],
        Principal("m", "manager", None): ["a1", "a2", "b1", "c1"],
        Principal("a", "admin", None): ["a1", "a2", "b1", "c1"],
    }
    for who, keys in scopes.items():
        # child_flag_columns is the invoker's view: the same scope as the tables it reads.
        for table in ("children", "child_flags", "child_flag_columns", "flag_changes",
                      "child_sources"):  # fmt: skip
            sql = f"SELECT DISTINCT child_key FROM {table} ORDER BY child_key"
            assert [r[0] for r in rows(dashboard, sql, who)] == keys, (who, table)
    # A query naming another school's child directly still sees nothing.
    school_a = Principal("s", "school", "100001")
    assert rows(dashboard, "SELECT * FROM children WHERE child_key = 'c1'", school_a) == []
    assert rows(dashboard, "SELECT * FROM child_flags WHERE child_key = 'c1'", school_a) == []
    # Counts not per child are not filtered: the zone and school screens read them.
    assert rows(dashboard, "SELECT count(*) FROM schools", school_a) == [(3,)]


def test_restricted_flags_are_for_the_dsl_of_the_school_only(cluster: Cluster) -> None:
    dashboard = cluster.as_role("dashboard", "read_model")
    sql = "SELECT child_key FROM restricted_flags ORDER BY child_key"
    for who in (
        Principal("s", "school", "100001"),
        Principal("z", "zone", "North"),
        Principal("m", "manager", None),
        Principal("a", "admin", None),
        Principal("d", "dsl", "100003"),
    ):
        assert rows(dashboard, sql, who) == [], who
    assert rows(dashboard, sql, Principal("d", "dsl", "100001")) == [("a1",)]
    assert rows(dashboard, sql, Principal("d", "dsl", "100002")) == [("b1",)]


def test_each_role_can_do_its_job(cluster: Cluster) -> None:
    projector = cluster.as_role("projector", "read_model")
    with projector.begin() as conn:
        conn.execute(insert(tables.children), [_children_row("p1", "100003")])
        conn.execute(text("UPDATE children SET indicators = 2 WHERE child_key = 'p1'"))
        assert conn.scalar(text("SELECT count(*) FROM children")) == len(CHILDREN) + 1
        conn.execute(text("DELETE FROM children WHERE child_key = 'p1'"))
    ingest = cluster.as_role("ingest", "ingest")
    with ingest.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO ingest_ledger (source, day, kind, received, accepted, rejected, "
                "published) VALUES ('s', '2026-09-25', 'k', 1, 1, 0, 0)"
            )
        )
        conn.execute(text("DELETE FROM ingest_ledger"))
    person = identity.Identity("k" * 64, "100001", "A123", "Ada", "Lovelace", AT)
    with cluster.as_role("ingest", "identity").begin() as conn:
        identity.record(conn, [person])
        identity.record(conn, [person])  # the upsert: INSERT ... ON CONFLICT DO UPDATE
    with cluster.as_role("dashboard", "identity").begin() as conn:
        assert identity.lookup(conn, ["k" * 64])["k" * 64].surname == "Lovelace"
    assert "permission denied" in refused(
        cluster.as_role("dashboard", "identity"), "DELETE FROM identities"
    )
    for role, database in (("projector", "identity"), ("projector", "audit"),
                           ("projector", "ingest"), ("ingest", "read_model"),
                           ("ingest", "audit"), ("dashboard", "ingest")):  # fmt: skip
        assert "permission denied" in refused(cluster.as_role(role, database), "SELECT 1"), (
            role,
            database,
        )


def _message(message_id: str, recipient: str, address: str | None) -> alerts.Message:
    return alerts.Message(message_id, recipient, "safeguarding", "s", "b", "/children/a1", address)


def test_the_notifier_can_do_its_job(cluster: Cluster) -> None:
    """Its start, a batch recorded with its position, an email sent, a digest run: the reads
    and writes of notifier/runner.py, delivery.py and schedule.py, as its own role."""
    read_model = cluster.as_role("notifier", "read_model")
    alerts_db = cluster.as_role("notifier", "alerts")
    create_schema(read_model)
    prepare_alerts(alerts_db)
    with alerts_db.begin() as conn:
        fresh = alerts.record(
            conn, [_message("n-1", "dsl1", "dsl1@school.example"), _message("n-1", "dsl2", None)],
            AT,
        )  # fmt: skip
        alerts.store_offsets(conn, {("t", 0): 5})
    assert [m.recipient for m in fresh] == ["dsl1"]
    with alerts_db.begin() as conn:  # a replay: nothing new, the position moves on (upsert)
        assert alerts.record(conn, [_message("n-1", "dsl1", "dsl1@school.example")], AT) == []
        alerts.store_offsets(conn, {("t", 0): 6})
        assert alerts.stored_offsets(conn) == {("t", 0): 6}
        assert alerts.all_prefs(conn) == {}
        [mail] = alerts.pending(conn)
        alerts.mark_failed(conn, mail, "TimeoutError", give_up=False)
        alerts.mark_sent(conn, mail, AT)
        assert alerts.pending(conn) == []
    # Every child row of what it reads, whatever the viewer scope (none is set here).
    with read_model.begin() as conn:
        keys = conn.execute(text("SELECT child_key, urn FROM children ORDER BY child_key"))
        assert dict(keys.all()) == CHILDREN
        assert conn.scalar(text("SELECT count(*) FROM flag_changes")) == len(CHILDREN)
    with cluster.as_role("admin", "read_model").begin() as conn:
        conn.execute(text("INSERT INTO school_days (day) VALUES ('2026-09-28')"))
    users = {"s": User("s", "school", "100001", "x", "s@school.example")}
    to = rules.Recipients(users, {"s": alerts.Prefs(daily_school=True)})
    plan = schedule.Schedule(operations_email="ops@council.example")
    with read_model.connect() as conn:
        due = schedule.due_messages(conn, AT, plan, england(), to, "http://d")
    assert {m.message_id for m in due} == {"daily:100001:2026-09-25", "late:2026-09-25"}


def test_the_notifier_tells_the_dsl_under_its_own_role(
    cluster: Cluster, broker: EmbeddedBroker
) -> None:
    """Its own loop on the real broker, logged in as its role to both databases: a
    safeguarding flag raised reaches the inbox of the DSL of the child's CURRENT school (read
    from children under row-level security), with the position stored beside it."""
    topics = Topics(f"pgn{uuid.uuid4().hex[:8]}")
    create_topics(broker.bootstrap, topics, partitions=2)
    codec = Codec()
    raised = FlagChanged(
        event_id=uuid.uuid4(), source="flagger", occurred_at=AT, recorded_at=AT,
        child_key="a1", urn="100002", flag="SAFEGUARD", change="RAISED", reason="r",
        rule_version="t", as_of=date(2026, 9, 25),
    )  # fmt: skip
    producer = KafkaProducer(bootstrap_servers=broker.bootstrap)
    try:
        sent = producer.send(topics.flag_changes, key=b"a1", value=codec.encode(raised))
        partition = sent.get(timeout=10).partition
    finally:
        producer.close()
    users = {
        "dsl-a": User("dsl-a", "dsl", "100001", "x", "dsl-a@school.example"),
        "dsl-b": User("dsl-b", "dsl", "100002", "x", "dsl-b@school.example"),
    }
    alerts_db = cluster.as_role("notifier", "alerts")
    notifier = Notifier(
        broker.bootstrap, topics.flag_changes, alerts_db, cluster.as_role("notifier", "read_model"),
        codec, users, None, notifier_metrics(CollectorRegistry()), "http://dashboard.invalid",
    )  # fmt: skip
    try:
        notifier.assign(timeout=30)
        deadline = time.monotonic() + 30
        while notifier.poll_once(timeout_ms=200) == 0:
            assert time.monotonic() < deadline, "the flag change was not read in 30 s"
    finally:
        notifier._consumer.close()
    with cluster.as_role("admin", "alerts").connect() as conn:
        told = conn.execute(
            text("SELECT recipient FROM alert_inbox WHERE message_id = :m"),
            {"m": str(raised.event_id)},
        )
        assert told.all() == [("dsl-a",)]  # a1 is at 100001 now, whatever the event said
        assert alerts.stored_offsets(conn)[(topics.flag_changes, partition)] == 1


def test_the_notifier_reads_nothing_else_and_writes_no_read_model(cluster: Cluster) -> None:
    read_model = cluster.as_role("notifier", "read_model")
    for table in ("restricted_flags", "outcomes", "huddles", "huddle_reviews", "child_flags",
                  "flag_history", "child_sources", "rolls", "child_households",
                  "school_summary", "child_flag_columns", "bi_flag_counts"):  # fmt: skip
        if rows(cluster.as_role("admin", "read_model"), f"SELECT to_regclass('{table}')")[0][0]:
            assert "permission denied" in refused(read_model, f"SELECT * FROM {table}"), table
    for sql in (
        "UPDATE children SET indicators = 0",
        "DELETE FROM flag_changes",
        "INSERT INTO schools (urn, name, phase, pyramid, zone, updated_at) "
        "VALUES ('999999', 'x', 'x', 'x', 'x', now())",
        "INSERT INTO school_days (day) VALUES ('2026-10-01')",
        "UPDATE alembic_version SET version_num = version_num",
        "CREATE TABLE notifier_own (x int)",
    ):
        assert "permission denied" in refused(read_model, sql), sql
    alerts_db = cluster.as_role("notifier", "alerts")
    for sql in (
        "DELETE FROM alert_ledger",
        "UPDATE alert_inbox SET read_at = now()",
        "SELECT * FROM alert_visits",
        "INSERT INTO alert_preferences (username, safeguarding_email, daily_school, "
        "weekly_zone, updated_at) VALUES ('x', false, false, false, now())",
        "UPDATE alembic_version_alerts SET version_num = version_num",
    ):
        assert "permission denied" in refused(alerts_db, sql), sql
    for database in ("identity", "audit", "ingest"):
        error = refused(cluster.as_role("notifier", database), "SELECT 1")
        assert "permission denied" in error, database


def test_the_dashboard_reads_the_alerts_and_writes_only_its_own_rows(cluster: Cluster) -> None:
    with cluster.as_role("notifier", "alerts").begin() as conn:
        alerts.record(conn, [_message("d-1", "dsl1", None)], AT)
    dashboard = cluster.as_role("dashboard", "alerts")
    prepare_alerts(dashboard)
    later = datetime(2026, 9, 26, 9, tzinfo=UTC)
    with dashboard.begin() as conn:
        assert "d-1" in [m.message_id for m in alerts.inbox_of(conn, "dsl1")]
        assert alerts.mark_read(conn, "dsl1", "d-1", later)
        chosen = alerts.Prefs(safeguarding_email=False, daily_school=True)
        alerts.set_prefs(conn, "dsl1", alerts.Prefs(), AT)
        alerts.set_prefs(conn, "dsl1", chosen, later)  # the upsert's UPDATE
        assert alerts.prefs_of(conn, "dsl1") == chosen
        assert alerts.visit(conn, "dsl1", "/schools/100001", AT) is None
        assert alerts.visit(conn, "dsl1", "/schools/100001", later) == AT
        assert conn.scalar(text("SELECT count(*) FROM alert_ledger")) >= 1  # it may read
    for sql in (
        "INSERT INTO alert_ledger (message_id, recipient, channel, kind, subject, body, status, "
        "attempts, created_at) VALUES ('x', 'x', 'email', 'k', 's', 'b', 'pending', 0, now())",
        "UPDATE alert_ledger SET status = 'pending'",
        "INSERT INTO alert_offsets (topic, kafka_partition, next_offset) VALUES ('t', 9, 0)",
        "UPDATE alert_offsets SET next_offset = 0",
        "UPDATE alert_inbox SET subject = 'x'",  # only read_at
        "INSERT INTO alert_inbox (message_id, recipient, kind, subject, link, created_at) "
        "VALUES ('x', 'x', 'k', 's', '/', now())",
        "DELETE FROM alert_inbox",
        "DELETE FROM alert_preferences",
        "UPDATE alembic_version_alerts SET version_num = version_num",
    ):
        assert "permission denied" in refused(dashboard, sql), sql
    for role in ("ingest", "projector", "bi"):
        assert "permission denied" in refused(cluster.as_role(role, "alerts"), "SELECT 1"), role


def test_no_login_role_writes_a_version_table(cluster: Cluster) -> None:
    for db in DATABASES:
        for role in LOGIN:
            sql = f"UPDATE {db.version_table} SET version_num = version_num"
            error = refused(cluster.as_role(role, db.name), sql)
            assert "permission denied" in error, (role, db.name, error)


def test_tables_a_later_migration_adds_are_granted(cluster: Cluster) -> None:
    with cluster.as_role("admin", "read_model").begin() as conn:
        conn.execute(text(f'SET LOCAL ROLE "{cluster.plan.role("owner")}"'))
        conn.execute(text("CREATE TABLE later_table (urn varchar(6))"))
    with cluster.as_role("projector", "read_model").begin() as conn:
        conn.execute(text("INSERT INTO later_table VALUES ('100001')"))
    assert rows(cluster.as_role("dashboard", "read_model"), "SELECT * FROM later_table") == [
        ("100001",)
    ]
    for role in ("bi", "notifier"):  # the notifier reads only what read_model.sql lists
        assert "permission denied" in refused(
            cluster.as_role(role, "read_model"), "SELECT * FROM later_table"
        ), role


def test_applying_the_roles_again_changes_nothing(cluster: Cluster) -> None:
    apply_roles(cluster.plan, {"bi": "a-long-bi-password"}, lambda _line: None)
    test_no_role_is_superuser_or_bypasses_row_level_security(cluster)
    test_the_dashboard_sees_child_rows_only_in_the_viewers_scope(cluster)


def test_the_dashboards_read_as_carries_the_viewers_scope(cluster: Cluster) -> None:
    ctx = Context(
        read_model=cluster.as_role("dashboard", "read_model"),
        audit_db=cluster.as_role("dashboard", "audit"),
        users={},
        sender=None,  # type: ignore[arg-type]
    )
    school_a = Principal("s", "school", "100001")
    with ctx.read_as(school_a) as conn:
        assert [r["child_key"] for r in queries.school_children(conn, "100001")] == ["a1", "a2"]
        # Without the page's own check, the second wall: another school's children are not there.
        assert queries.school_children(conn, "100003") == []
        assert queries.child(conn, "c1") is None
    with ctx.read() as conn:  # no viewer: no child rows
        assert queries.school_children(conn, "100001") == []


def test_every_service_starts_under_its_own_role(cluster: Cluster) -> None:
    """What each service does to its databases at start passes as its own role once
    `flagstream migrate --admin-url` has run: no DDL is left for it to do."""
    from dashboard.audit import create_audit_schema
    from flagstream.schema import create_tables
    from ingest import db as ingest_db
    from ingest.keys import create_key
    from ingest.store import Store

    create_schema(cluster.as_role("projector", "read_model"))
    Store(cluster.as_role("ingest", "ingest"))
    create_key(cluster.as_role("ingest", "ingest"), "test", "all")
    ingest_db.identity_writer(cluster.as_role("ingest", "identity"))
    restricted = getattr(ingest_db, "restricted_writer", None)
    if restricted is not None:
        restricted(cluster.as_role("ingest", "identity"))
    create_schema(cluster.as_role("dashboard", "read_model"))
    create_tables(identity.metadata, cluster.as_role("dashboard", "identity"))
    create_audit_schema(cluster.as_role("dashboard", "audit"))
    check_append_only(cluster.as_role("dashboard", "audit"))
    prepare_alerts(cluster.as_role("dashboard", "alerts"))
    create_schema(cluster.as_role("notifier", "read_model"))  # notifier.main.build's start
    prepare_alerts(cluster.as_role("notifier", "alerts"))


def test_migrating_as_the_owners_makes_the_flag_views_follow_the_catalogue(
    cluster: Cluster,
) -> None:
    """A flag an extension adds needs no migration, but its view columns are made by
    `flagstream migrate --admin-url` (the owner), since the projector's role may not."""

    def columns() -> set[str]:
        found = rows(
            cluster.as_role("admin", "read_model"),
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_name = 'child_flag_columns'",
        )
        return {c for (c,) in found}

    assert "asb" not in columns()
    with asb_loaded():
        # A service starting before that (here the notifier: after_upgrade would remake the
        # views, which only the owner may) stops and says what to run.
        with pytest.raises(SystemExit, match="flagstream migrate --admin-url"):
            create_schema(cluster.as_role("notifier", "read_model"))
        migrate_as_owners(cluster.plan, lambda _line: None)
        assert {"asb", "asb_reason"} <= columns()
        owner = rows(
            cluster.as_role("admin", "read_model"),
            "SELECT viewowner FROM pg_views WHERE viewname = 'child_flag_columns'",
        )
        assert owner == [(cluster.plan.role("owner"),)]
        # The dashboard reads it, row-level security applying through it.
        assert rows(cluster.as_role("dashboard", "read_model"),
                    "SELECT count(*) FROM child_flag_columns") == [(0,)]  # fmt: skip
    migrate_as_owners(cluster.plan, lambda _line: None)
    assert "asb" not in columns()


def test_huddles_and_their_reviews_are_scoped_like_outcomes(cluster: Cluster) -> None:
    projector = cluster.as_role("projector", "read_model")
    with projector.begin() as conn:
        conn.execute(
            insert(tables.huddles),
            {"event_id": "h-100001", "urn": "100001", "half_term": "Autumn 1 2026/27",
             "held_on": date(2026, 9, 25), "attendees": "DSL, SENCo", "recorded_by": "d",
             "reviewed": 1, "recorded_at": AT},
        )  # fmt: skip
        conn.execute(
            insert(tables.huddle_reviews),
            {"huddle_event_id": "h-100001", "child_key": "a1", "urn": "100001",
             "held_on": date(2026, 9, 25), "response": "1:1", "status": "Some progress"},
        )  # fmt: skip
    dashboard = cluster.as_role("dashboard", "read_model")
    try:
        for table, key in (("huddles", "event_id"), ("huddle_reviews", "child_key")):
            sql = f"SELECT {key} FROM {table}"
            assert rows(dashboard, sql) == [], table  # no scope set: nothing
            for who in (Principal("s", "school", "100002"), Principal("z", "zone", "South")):
                assert rows(dashboard, sql, who) == [], (table, who)
            for who in (Principal("s", "school", "100001"), Principal("z", "zone", "North"),
                        Principal("m", "manager", None)):  # fmt: skip
                assert len(rows(dashboard, sql, who)) == 1, (table, who)
    finally:
        with projector.begin() as conn:
            conn.execute(text("DELETE FROM huddle_reviews"))
            conn.execute(text("DELETE FROM huddles"))
