"""`flagstream migrate` and `flagstream db roles|setup`: every database's schema, and the
least-privilege roles and grants of deploy/postgres/ (docs/operations.md#database-roles)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

Add = Callable[[str, Callable[[argparse.Namespace], int], str], Any]


def _plan(args: argparse.Namespace) -> Any:
    from flagstream.settings import Settings
    from flagstream_tools.databases import DATABASES
    from flagstream_tools.pg_roles import Plan

    settings = Settings()
    urls = {db.name: str(getattr(settings, db.setting)) for db in DATABASES}
    return Plan.of(args.admin_url, urls, args.role_prefix)


def cmd_migrate(args: argparse.Namespace) -> int:
    from flagstream.databases import upgrade
    from flagstream.engine import make_engine
    from flagstream.settings import Settings
    from flagstream_tools.databases import DATABASES
    from flagstream_tools.pg_roles import RolesError, migrate_as_owners

    if args.admin_url:
        try:
            migrate_as_owners(_plan(args))
        except RolesError as exc:
            print(f"not migrated: {exc}", file=sys.stderr)
            return 2
        return 0
    settings = Settings()
    for db in DATABASES:
        engine = make_engine(str(getattr(settings, db.setting)))
        try:
            upgrade(db, engine)
        finally:
            engine.dispose()
        print(f"migrated {db.name} ({engine.url.render_as_string()})")
    return 0


def cmd_db(args: argparse.Namespace) -> int:
    from flagstream_tools.pg_roles import RolesError, apply_roles, migrate_as_owners, read_passwords

    try:
        plan = _plan(args)
        passwords = read_passwords(args.password_file, args.passwords_from_env)
        apply_roles(plan, passwords)
        if args.action == "setup":
            migrate_as_owners(plan)
    except RolesError as exc:
        print(f"not done: {exc}", file=sys.stderr)
        return 2
    print(
        f"roles {plan.prefix}_* in place; services log in as {plan.prefix}_ingest, "
        f"{plan.prefix}_projector, {plan.prefix}_dashboard, {plan.prefix}_notifier; BI tools "
        f"as {plan.prefix}_bi"
    )
    return 0


def add_commands(add: Add) -> None:
    """Register `migrate` and `db` on the main parser."""
    admin_help = (
        "SQLAlchemy URL of a PostgreSQL superuser (or a role with CREATEROLE and CREATEDB) on "
        "the server of Flagstream's databases; their names come from FLAGSTREAM_DATABASE_URL, "
        "FLAGSTREAM_INGEST_DATABASE_URL, FLAGSTREAM_IDENTITY_DATABASE_URL, "
        "FLAGSTREAM_DASHBOARD_AUDIT_DATABASE_URL and FLAGSTREAM_ALERTS_DATABASE_URL"
    )
    prefix_help = "role names are PREFIX_owner, PREFIX_ingest, ... (default flagstream)"
    migrate = add(
        "migrate",
        cmd_migrate,
        "Bring every database (read model, ingest's, identity store, audit log, alerts) to its "
        "latest schema: Alembic on PostgreSQL, created from the metadata on SQLite.",
    )
    migrate.add_argument(
        "--admin-url",
        help="migrate as the owner roles through this admin connection, then apply the grants "
        "again (new tables); without it each database is migrated through its own URL. "
        + admin_help,
    )
    migrate.add_argument("--role-prefix", default="flagstream", help=prefix_help)
    db = add(
        "db",
        cmd_db,
        "PostgreSQL least privilege (deploy/postgres/): roles, databases, grants, BI views and "
        "row-level security.",
    )
    db.add_argument(
        "action",
        choices=["roles", "setup"],
        help="roles: create or fix the roles, create missing databases, grant (idempotent; run "
        "again after migrations); setup: roles, then migrate as the owners, then grant again",
    )
    db.add_argument("--admin-url", required=True, help=admin_help)
    db.add_argument(
        "--password-file",
        type=Path,
        help="set login roles' passwords from `role=password` lines (roles: ingest, projector, "
        "dashboard, notifier, bi); sent to the server as SCRAM hashes",
    )
    db.add_argument(
        "--passwords-from-env",
        action="store_true",
        help="also take them from DB_PASSWORD_INGEST, DB_PASSWORD_PROJECTOR, "
        "DB_PASSWORD_DASHBOARD, DB_PASSWORD_NOTIFIER, DB_PASSWORD_BI",
    )
    db.add_argument("--role-prefix", default="flagstream", help=prefix_help)
