"""The audit log: who viewed which child's record or exported what, append-only.

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
    select,
)

from flagstream.schema import create_tables

metadata = MetaData()

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
    Column("username", String(128), nullable=False),
    Column("role", String(16), nullable=False),
    Column("action", String(32), nullable=False, comment="view_child, export_csv, huddle"),
    Column("page", Text, nullable=False, comment="Path of the request"),
    Column("child_key", String(64), comment="The child viewed, if one"),
    Column("urn", String(6), comment="The school, if one"),
    Column("rows", Integer, comment="Children in an export"),
    comment="Append-only: every view of a child's record and every export",
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


def create_audit_schema(engine: Engine) -> None:
    """Create the table and its append-only triggers if missing."""
    create_tables(metadata, engine)


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
        )
    )


def recent(conn: Connection, limit: int = 200) -> list[AuditEntry]:
    """Newest entries first."""
    stmt = select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
    return [
        AuditEntry(r.at, r.username, r.role, r.action, r.page, r.child_key, r.urn, r.rows)
        for r in conn.execute(stmt)
    ]
