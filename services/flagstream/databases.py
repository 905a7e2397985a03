"""What a Flagstream database is (which setting names it, where its Alembic migrations are,
which version table records them, which role owns it, which deploy/postgres file grants on
it) and how one is brought up to date. Each owner declares its own `DATABASE` beside its
tables (readmodel.migrate, ingest.database, flagstream.identity_database,
dashboard.audit_database, flagstream.alerts_database); flagstream_tools.databases lists all
five for `flagstream migrate` and `flagstream db roles`.

PostgreSQL is migrated with Alembic; SQLite (the embedded default) is created from the
metadata, as the projector does for the read model.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, MetaData, text
from sqlalchemy.exc import ProgrammingError

Name = Literal["read_model", "ingest", "identity", "audit", "alerts"]
Owner = Literal["owner", "audit_owner"]


@dataclass(frozen=True, slots=True)
class Database:
    """One of Flagstream's databases."""

    name: Name
    setting: str  # the Settings field holding its URL
    migrations: Path  # Alembic script directory
    version_table: str
    owner: Owner  # the NOLOGIN role owning every object in it
    metadata: Callable[[], MetaData]
    # Run after the migrations, in their transaction and as their role (PostgreSQL): what
    # follows configuration rather than a revision, e.g. the read model's flag column views,
    # which follow the flag catalogue.
    after_upgrade: Callable[[Connection], None] | None = None

    @property
    def deploy_sql(self) -> str:
        """Its grants (and, for the read model, BI views and row-level security)."""
        return f"{self.name}.sql"


def alembic_config(db: Database, engine: Engine) -> Config:
    """An Alembic config for this database on this engine (no alembic.ini needed)."""
    config = Config()
    config.set_main_option("script_location", str(db.migrations))
    config.set_main_option("version_table", db.version_table)
    url = engine.url.render_as_string(hide_password=False).replace("%", "%%")
    config.set_main_option("sqlalchemy.url", url)
    return config


def upgrade(db: Database, engine: Engine, as_role: str | None = None) -> None:
    """Bring `db` to its latest revision (idempotent). On PostgreSQL one transaction, holding
    an advisory lock so services starting together migrate once; `as_role` runs it as that
    role (the owner), so what it creates belongs to the owner."""
    if engine.dialect.name != "postgresql":
        db.metadata().create_all(engine)
        return
    config = alembic_config(db, engine)
    try:
        with engine.begin() as conn:
            lock = zlib.crc32(f"flagstream-migrate-{db.name}".encode())
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock})
            if as_role is not None:
                role = conn.dialect.identifier_preparer.quote(as_role)
                conn.execute(text(f"SET LOCAL ROLE {role}"))
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
            if db.after_upgrade is not None:
                db.after_upgrade(conn)
    except ProgrammingError as exc:
        if getattr(exc.orig, "sqlstate", None) != "42501":  # insufficient_privilege
            raise
        raise SystemExit(
            f"the {db.name} database ({engine.url.database}) is not at its latest schema and "
            f"{engine.url.username or 'this role'} may not migrate it. Run `flagstream migrate "
            "--admin-url URL` (docs/operations.md#database-roles), then start this again."
        ) from None
