"""At start, the dashboard checks that PostgreSQL will refuse to rewrite the audit log: the
append-only trigger must be on audit_log, enabled, for UPDATE, DELETE and TRUNCATE. Without
it the dashboard refuses to start, saying what to run. SQLite's triggers come with the table."""

from __future__ import annotations

import logging

from sqlalchemy import Engine, text

log = logging.getLogger("flagstream.dashboard")

_DELETE, _UPDATE, _TRUNCATE = 8, 16, 32  # pg_trigger.tgtype bits
_COVERED = text(
    "SELECT coalesce(bit_or(t.tgtype::int), 0) FROM pg_trigger t "
    "WHERE t.tgrelid = to_regclass('public.audit_log') AND NOT t.tgisinternal "
    "AND t.tgenabled IN ('O', 'A') "
    "AND t.tgfoid = to_regprocedure('public.audit_log_append_only()')"
)
_POWERFUL = text(
    "SELECT r.rolsuper OR pg_has_role(current_user, c.relowner, 'MEMBER') "
    "FROM pg_class c, pg_roles r WHERE c.oid = to_regclass('public.audit_log') "
    "AND r.rolname = current_user"
)


def check_append_only(engine: Engine) -> None:
    """Refuse to start (SystemExit) unless the audit log's append-only trigger is in place."""
    if engine.dialect.name != "postgresql":
        return
    with engine.connect() as conn:
        covered = int(conn.scalar(_COVERED) or 0)
        powerful = bool(conn.scalar(_POWERFUL))
    needed = _DELETE | _UPDATE | _TRUNCATE
    if covered & needed != needed:
        raise SystemExit(
            f"the audit log ({engine.url.database}.audit_log) has no enabled append-only "
            "trigger for UPDATE, DELETE and TRUNCATE, so it could be rewritten: the dashboard "
            "will not start. Put it back with `flagstream db roles --admin-url URL` (or "
            "`flagstream migrate --admin-url URL` on a new database); docs/operations.md"
            "#database-roles."
        )
    if powerful:
        log.warning(
            "the dashboard's database role owns audit_log or is a superuser, so it could drop "
            "the append-only trigger: log in as the dashboard role (flagstream db roles, "
            "docs/operations.md#database-roles)"
        )
