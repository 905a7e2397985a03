"""Composition root of the dashboard: settings -> engines, users, sender -> app -> uvicorn."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from flagstream import identity
from flagstream.alerts_database import prepare as prepare_alerts
from flagstream.domain.rules.attend import AttendSettings
from flagstream.engine import make_engine as kernel_engine
from flagstream.rules_file import RulesFileError, load_rules
from flagstream.schema import create_tables
from flagstream.settings import DashboardSettings
from readmodel.db import create_schema, make_engine

from .app import create_app
from .audit import create_audit_schema
from .audit_guard import check_append_only
from .context import Context
from .oidc import configured as oidc_sign_in
from .outcomes import IngestOutcomeSender
from .security import LoginLimiter
from .sessions import SessionStore
from .users import UsersFile, UsersFileError

log = logging.getLogger("flagstream.dashboard")


def build(settings: DashboardSettings) -> FastAPI:
    """The app wired to the configured databases, users file and ingest."""
    if settings.dashboard_secret is None or len(settings.dashboard_secret.get_secret_value()) < 32:
        raise SystemExit(
            "FLAGSTREAM_DASHBOARD_SECRET is not set (or shorter than 32 characters): it signs "
            "session cookies. Generate one with "
            "`python -c 'import secrets; print(secrets.token_hex(32))'`."
        )
    try:
        users = UsersFile(settings.dashboard_users_file)  # Re-read whenever it changes.
    except UsersFileError as exc:
        raise SystemExit(str(exc)) from None
    if not users:
        raise SystemExit(
            f"{settings.dashboard_users_file} has no users: add one with "
            "`flagstream dashboard add-user NAME --role ROLE`"
        )
    read_model = make_engine(settings.database_url)
    create_schema(read_model)  # The dashboard may start before the projector.
    identity_db = make_engine(settings.identity_database_url)
    create_tables(identity.metadata, identity_db)
    audit_db = make_engine(settings.dashboard_audit_database_url)
    create_audit_schema(audit_db)
    check_append_only(audit_db)  # refuses to start if the log could be rewritten
    alerts_db = kernel_engine(settings.alerts_database_url)  # durable: the sent ledger
    prepare_alerts(alerts_db)  # inbox, preferences, visits (the notifier writes the inbox)
    sessions = SessionStore(
        audit_db,
        lifetime=timedelta(hours=settings.dashboard_session_hours),
        idle=timedelta(minutes=settings.dashboard_idle_minutes),
    )
    # Removing a login or changing its role, scope or password ends its sessions at once,
    # including those opened before a restart.
    users.on_change = lambda now_users: _ended(sessions.end_changed(now_users, _now()))
    _ended(sessions.end_changed(users, _now()))
    ctx = Context(
        read_model=read_model,
        audit_db=audit_db,
        users=users,
        sender=IngestOutcomeSender(settings.dashboard_ingest_url),
        identity_db=identity_db,
        limiter=LoginLimiter(settings.dashboard_login_max_failures),
        sessions=sessions,
        leaver_school_days=settings.dashboard_leaver_school_days,
        live_poll_ms=settings.dashboard_live_poll_ms,
        live_stream_seconds=settings.dashboard_live_stream_seconds,
        oidc=oidc_sign_in(settings, settings.dashboard_secret.get_secret_value()),
        alerts_db=alerts_db,
        term_calendar=settings.calendar(),
        reflag_after_days=settings.reflag_after_days,
        attend=_attend(settings.rules_file),
    )
    return create_app(
        ctx, settings.dashboard_secret.get_secret_value(), settings.dashboard_secure_cookies
    )


def _attend(rules_file: Path) -> AttendSettings:
    """The rules file's Attend settings: the absence lists band pupils by its thresholds."""
    try:
        attend = load_rules(rules_file).flags["ATTEND"]
    except RulesFileError as exc:
        raise SystemExit(f"{exc}\nCheck it with `flagstream rules check FILE`.") from None
    assert isinstance(attend, AttendSettings)
    return attend


def _now() -> datetime:
    return datetime.now(UTC)


def _ended(count: int) -> None:
    if count:
        log.warning("users file changed: %d session(s) of removed or changed users ended", count)


def run(settings: DashboardSettings) -> None:
    """Serve the dashboard until interrupted."""
    app = build(settings)
    url = f"http://{settings.dashboard_host}:{settings.dashboard_port}"
    print(f"dashboard on {url} ({len(app.state.ctx.users)} users)", flush=True)
    uvicorn.run(
        app, host=settings.dashboard_host, port=settings.dashboard_port, log_level="warning"
    )
