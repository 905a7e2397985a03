"""The audit log: who saw which children's rows, signed in or out, or recorded what; append-only.

It lives in its own database (`FLAGSTREAM_DASHBOARD_AUDIT_DATABASE_URL`), apart from the
read model the dashboard only reads. The database itself refuses UPDATE and DELETE
(triggers on SQLite and PostgreSQL), so a bug or a compromised app cannot rewrite it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    DDL,
    BigInteger,
    Column,
    Connection,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    event,
    insert,
    inspect,
    select,
    text,
)
from sqlalchemy.exc import ProgrammingError

from flagstream.schema import create_tables

metadata = MetaData()

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
    Column("username", String(128), nullable=False),
    Column("role", String(16), nullable=False),
    Column("action", String(32), nullable=False, comment="view_child, export_csv, sign_in, ..."),
    Column("page", Text, nullable=False, comment="Path of the request"),
    Column("child_key", String(64), comment="The child viewed, if one"),
    Column("urn", String(6), comment="The school, if one"),
    Column("rows", Integer, comment="Children in a list or export"),
    Column("detail", Text, comment="Client address of a sign-in, event id of an outcome, ..."),
    comment="Append-only: every response with children's rows, every sign-in and outcome",
)

# The session store lives here too: the audit database is the dashboard's only writable one.
# Unlike audit_log its rows change (last activity, revocation) and are pruned (sessions.py).
dashboard_sessions = Table(
    "dashboard_sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True, comment="SHA-256 of the id in the cookie"),
    Column("username", String(128), nullable=False, index=True),
    Column(
        "user_digest",
        String(64),
        nullable=False,
        comment="SHA-256 of the user's role, scope and password hash at sign-in",
    ),
    Column("created_at", DateTime(timezone=True), nullable=False, index=True),
    Column(
        "last_active_at",
        DateTime(timezone=True),
        nullable=False,
        comment="Latest request the user made (live polling excluded)",
    ),
    Column("revoked_at", DateTime(timezone=True), comment="NULL while the session holds"),
    Column("ended_by", String(16), comment="sign_out, replaced, expired, idle, user_*"),
    comment="Dashboard sign-ins; a row whose revoked_at is set no longer signs anyone in",
)

# A session started through the council's identity provider (dashboard/oidc.py): its user is
# in no users file, so the role and scope its groups granted at sign-in are kept here.
oidc_sessions = Table(
    "oidc_sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True, comment="dashboard_sessions.id_hash"),
    Column("role", String(16), nullable=False, comment="Granted by the group mapping at sign-in"),
    Column("scope", String(64), comment="School URN or zone, NULL for county-wide roles"),
    comment="Sessions signed in with OpenID Connect: role and scope from the group mapping",
)


_GUARDS = {
    "sqlite": [
        f"CREATE TRIGGER IF NOT EXISTS audit_log_no_{op.lower()} BEFORE {op} ON audit_log "
        "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
        for op in ("UPDATE", "DELETE")
    ],
    "postgresql": [
        "CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$",
        "DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log",
        "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()",
    ],
}

for _dialect, _statements in _GUARDS.items():
    for _sql in _statements:
        event.listen(
            audit_log,
            "after_create",
            DDL(_sql).execute_if(dialect=_dialect),  # type: ignore[no-untyped-call]
        )


@dataclass(frozen=True, slots=True)
class AuditEntry:
    at: datetime
    username: str
    role: str
    action: str
    page: str
    child_key: str | None = None
    urn: str | None = None
    rows: int | None = None
    detail: str | None = None


def create_audit_schema(engine: Engine) -> None:
    """Create the tables and the append-only triggers if missing, and add `detail` to a log
    made before it. Where the dashboard's role may not (least privilege on PostgreSQL), the
    audit migrations do it: `flagstream migrate`."""
    try:
        create_tables(metadata, engine)
        if "detail" not in {c["name"] for c in inspect(engine).get_columns("audit_log")}:
            with engine.begin() as conn:  # ALTER is not an UPDATE: the triggers allow it.
                conn.execute(text("ALTER TABLE audit_log ADD COLUMN detail TEXT"))
    except ProgrammingError as exc:
        if getattr(exc.orig, "sqlstate", None) != "42501":  # insufficient_privilege
            raise
        raise SystemExit(
            f"the audit database ({engine.url.database}) is not at its latest schema and "
            f"{engine.url.username or 'this role'} may not change it: run `flagstream migrate "
            "--admin-url URL` (docs/operations.md#database-roles), then start this again"
        ) from None


def append(conn: Connection, entry: AuditEntry) -> None:
    conn.execute(
        insert(audit_log).values(
            at=entry.at,
            username=entry.username,
            role=entry.role,
            action=entry.action,
            page=entry.page,
            child_key=entry.child_key,
            urn=entry.urn,
            rows=entry.rows,
            detail=entry.detail,
        )
    )


def recent(conn: Connection, limit: int = 200) -> list[AuditEntry]:
    """Newest entries first."""
    stmt = select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
    return [
        AuditEntry(r.at, r.username, r.role, r.action, r.page, r.child_key, r.urn, r.rows, r.detail)
        for r in conn.execute(stmt)
    ]
