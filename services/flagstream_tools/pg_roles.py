"""Least privilege in PostgreSQL: the roles, databases and grants of deploy/postgres/, applied
by `flagstream db roles`, and migrations run as the owner roles (`flagstream migrate
--admin-url`). The SQL files are the source; this module runs them in the right database, as
the right role, with the role-name prefix set (docs/operations.md#database-roles)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from psycopg import sql
from sqlalchemy import Connection, make_url, text
from sqlalchemy.engine import URL

from flagstream.databases import Database, Name, upgrade
from flagstream.engine import make_engine
from flagstream_tools.databases import DATABASES

DEPLOY_SQL: Final = Path(__file__).resolve().parents[2] / "deploy" / "postgres"
LOGIN_ROLES: Final = ("ingest", "projector", "dashboard", "notifier", "bi")
ROLES: Final = ("owner", "audit_owner", *LOGIN_ROLES)
PASSWORD_ENV: Final = "DB_PASSWORD_"  # DB_PASSWORD_INGEST=... with --passwords-from-env
Say = Callable[[str], None]


class RolesError(Exception):
    """Something the admin must fix first, in words."""


@dataclass(frozen=True, slots=True)
class Plan:
    """Where the admin connects, which database each of Flagstream's is, and the role names."""

    admin_url: URL
    databases: Mapping[Name, str]  # name -> database name on the admin's server
    prefix: str = "flagstream"

    def role(self, short: str) -> str:
        return f"{self.prefix}_{short}"

    def url(self, database: str) -> URL:
        return self.admin_url.set(database=database)

    @classmethod
    def of(cls, admin_url: str, urls: Mapping[Name, str], prefix: str = "flagstream") -> Plan:
        """Check every URL is PostgreSQL and names its own database."""
        admin = make_url(admin_url)
        if admin.get_backend_name() != "postgresql":
            raise RolesError(f"--admin-url must be a PostgreSQL URL, not {admin.drivername}")
        names: dict[Name, str] = {}
        for db in DATABASES:
            url = make_url(urls[db.name])
            if url.get_backend_name() != "postgresql" or not url.database:
                raise RolesError(
                    f"FLAGSTREAM_{db.setting.upper()} is {url.render_as_string()}: roles and "
                    "grants need each database on PostgreSQL"
                )
            names[db.name] = url.database
        shared = {n for n in names.values() if list(names.values()).count(n) > 1}
        if shared:
            raise RolesError(
                f"database {', '.join(sorted(shared))} holds more than one of the read model, "
                "ingest's database, the identity store, the audit log and the alerts database: "
                "give each its own database (least privilege is granted per database)"
            )
        if not prefix.replace("_", "").isalnum() or not prefix[0].isalpha():
            raise RolesError(f"role prefix {prefix!r}: letters, digits and _ only")
        return cls(admin, names, prefix)


def read_passwords(path: Path | None, from_env: bool) -> dict[str, str]:
    """Login role (short name) -> password, from `role=password` lines and/or DB_PASSWORD_*."""
    found: dict[str, str] = {}
    if path is not None:
        for number, line in enumerate(path.read_text().splitlines(), 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            role, sep, password = line.partition("=")
            if not sep or role.strip() not in LOGIN_ROLES or not password:
                raise RolesError(
                    f"{path}:{number}: write `role=password`, role one of {', '.join(LOGIN_ROLES)}"
                )
            found[role.strip()] = password
    if from_env:
        for role in LOGIN_ROLES:
            value = os.environ.get(f"{PASSWORD_ENV}{role.upper()}")
            if value:
                found[role] = value
    return found


def _notice(say: Say, message: str) -> None:
    if not message.endswith(", skipping"):  # the server's own DROP ... IF EXISTS notes
        say(f"  {message}")


@contextmanager
def _session(url: URL, plan: Plan, say: Say) -> Iterator[Connection]:
    """An autocommit admin session with the role prefix set and server notices passed on."""
    engine = make_engine(url.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            driver: Any = conn.connection.driver_connection
            driver.add_notice_handler(lambda d: _notice(say, d.message_primary or ""))
            conn.execute(
                text("SELECT set_config('flagstream.role_prefix', :p, false)"), {"p": plan.prefix}
            )
            yield conn
    finally:
        engine.dispose()


def _run_file(conn: Connection, name: str, as_role: str | None = None) -> None:
    driver: Any = conn.connection.driver_connection
    if as_role is not None:
        driver.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(as_role)))
    try:
        driver.execute((DEPLOY_SQL / name).read_text())
    finally:
        if as_role is not None:
            driver.execute("RESET ROLE")


def apply_roles(plan: Plan, passwords: Mapping[str, str], say: Say = print) -> None:
    """Create the roles and any missing database, then grant, in every database. Idempotent."""
    with _session(plan.admin_url, plan, say) as conn:
        say(f"roles ({plan.prefix}_*):")
        _run_file(conn, "roles.sql")
        driver: Any = conn.connection.driver_connection
        for short, password in passwords.items():
            role = plan.role(short)
            # Hashed here (SCRAM-SHA-256): the password itself never reaches the server's log.
            hashed = driver.pgconn.encrypt_password(
                password.encode(), role.encode(), b"scram-sha-256"
            )
            driver.execute(
                sql.SQL("ALTER ROLE {} PASSWORD {}").format(
                    sql.Identifier(role), sql.Literal(hashed.decode())
                )
            )
            say(f"  password set for {role}")
        for db in DATABASES:
            name = plan.databases[db.name]
            if conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}):
                continue
            driver.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}").format(
                    sql.Identifier(name), sql.Identifier(plan.role(db.owner))
                )
            )
            say(f"  created database {name} ({db.name})")
    for db in DATABASES:
        apply_grants(plan, db, say)


def apply_grants(plan: Plan, db: Database, say: Say = print) -> None:
    """Ownership, then grants (and for the read model BI views and row-level security)."""
    name = plan.databases[db.name]
    say(f"{db.name} ({name}):")
    with _session(plan.url(name), plan, say) as conn:
        conn.execute(
            text("SELECT set_config('flagstream.owner_role', :o, false)"),
            {"o": plan.role(db.owner)},
        )
        _run_file(conn, "database.sql")
        _run_file(conn, db.deploy_sql, as_role=plan.role(db.owner))


def _drop_bi_views(plan: Plan) -> None:
    """So a migration may change a column a BI view reads; the grants put them back."""
    url = plan.url(plan.databases["read_model"]).render_as_string(hide_password=False)
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            views = conn.scalars(
                text(
                    "SELECT viewname FROM pg_views WHERE schemaname = 'public' "
                    "AND viewname LIKE 'bi\\_%'"
                )
            ).all()
            for view in views:
                conn.execute(text(f'DROP VIEW IF EXISTS "{view}"'))
    finally:
        engine.dispose()


def migrate_as_owners(plan: Plan, say: Say = print) -> None:
    """Alembic on every database as its owner role, then the grants again (new tables)."""
    _drop_bi_views(plan)
    for db in DATABASES:
        url = plan.url(plan.databases[db.name]).render_as_string(hide_password=False)
        engine = make_engine(url)
        try:
            upgrade(db, engine, as_role=plan.role(db.owner))
        finally:
            engine.dispose()
        say(f"migrated {db.name} ({plan.databases[db.name]}) as {plan.role(db.owner)}")
    for db in DATABASES:
        apply_grants(plan, db, say)
