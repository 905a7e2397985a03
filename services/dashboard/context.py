"""What every route needs, built once by the composition root and passed to create_app."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import HTTPException, Request
from fastapi.templating import Jinja2Templates
from sqlalchemy import Connection, Engine

from flagstream.domain.rules import DEFAULT_RULES
from flagstream.domain.rules.attend import AttendSettings
from flagstream.term_calendar import TermCalendar, england

from . import audit, marker, staleness
from .authz import Principal
from .evidence_cache import EvidenceCache
from .outcomes import OutcomeSender
from .scope import set_scope
from .security import LoginLimiter, csrf_token
from .sessions import SessionStore
from .users import User

if TYPE_CHECKING:
    from .oidc import OidcSignIn

HERE = Path(__file__).resolve().parent


def _utc_now() -> datetime:
    return datetime.now(UTC)


def flag_label(flag: str) -> str:
    """ATTEND -> Attend, fsm -> FSM: each flag as its rule spells it (the flag catalogue,
    flagstream/domain/rules), any other name title-cased."""
    rule = DEFAULT_RULES.get(flag.upper())
    return rule.display_name if rule is not None else flag.title()


class NotSignedIn(Exception):
    """Raised by `principal` so pages redirect to the login form."""


@dataclass
class Context:
    """Engines, users, sessions, the outcome sender and the templates."""

    read_model: Engine
    audit_db: Engine
    users: Mapping[str, User]
    sender: OutcomeSender
    identity_db: Engine | None = None
    limiter: LoginLimiter = field(default_factory=LoginLimiter)
    clock: Callable[[], datetime] = _utc_now
    live_interval_ms: int = 3000
    live_poll_ms: int = 100  # how often the live hub reads the read model's version
    live_stream_seconds: float = 300.0  # a stream then ends; the browser reconnects and catches up
    live_recheck_seconds: float = 10.0  # an open stream checks its session this often
    live_retry_ms: int = 2000  # the browser's wait before reconnecting a stream
    sessions: SessionStore | None = None  # None: the default policy, in the audit database
    leaver_school_days: int = 20
    alerts_db: Engine | None = None  # the notifier's inbox, preferences, visits; None: off
    oidc: OidcSignIn | None = None  # council sign-in (OpenID Connect); None: users file only
    term_calendar: TermCalendar = field(default_factory=england)  # half terms for huddles
    reflag_after_days: int = 0  # FLAGSTREAM_REFLAG_AFTER_DAYS: as the projector counts re-flags
    attend: AttendSettings = field(default_factory=AttendSettings)  # absence lists' bands
    evidence_cache: EvidenceCache = field(default_factory=EvidenceCache)  # figures kept a while
    templates: Jinja2Templates = field(
        default_factory=lambda: Jinja2Templates(directory=str(HERE / "templates"))
    )

    def __post_init__(self) -> None:
        self.templates.env.filters["flag"] = flag_label
        if self.sessions is None:
            self.sessions = SessionStore(self.audit_db)

    @property
    def session_store(self) -> SessionStore:
        assert self.sessions is not None  # set in __post_init__
        return self.sessions

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-model connection with no viewer: on PostgreSQL, under the dashboard role,
        it sees no child rows (row-level security); use read_as for anything about children."""
        with self.read_model.connect() as conn:
            yield conn

    @contextmanager
    def read_as(self, who: Principal) -> Iterator[Connection]:
        """A read-model connection whose transaction carries `who`'s scope, so PostgreSQL's
        row-level security shows only rows `who` may see, behind the page's own checks."""
        with self.read_model.connect() as conn:
            set_scope(conn, who)
            yield conn

    def principal(self, request: Request, active: bool = True) -> Principal:
        """The signed-in user: the session checked in the store and its user in the users
        file on every request. `active=False` for requests the page makes by itself (live
        polling), which must not keep an idle session alive."""
        token = request.session.get("sid")
        if not isinstance(token, str):
            raise NotSignedIn
        user = self.session_store.resume(token, self.users, self.clock(), active)
        if user is None:
            raise NotSignedIn
        return Principal.of(user)

    def record(
        self,
        who: Principal | None,
        request: Request,
        action: str,
        username: str | None = None,
        conn: Connection | None = None,
        **what: Any,
    ) -> None:
        """Append an audit row before the page is shown (no row, no page); `username` names
        who tried when nobody is signed in (a failed sign-in). With `conn` (a transaction on
        the audit database), the row is written in it, so it stands or falls with the change
        it records."""
        entry = audit.AuditEntry(
            at=self.clock(),
            username=who.username if who else (username or ""),
            role=who.role if who else "",
            action=action,
            page=request.url.path,
            **what,
        )
        if conn is not None:
            audit.append(conn, entry)
            return
        with self.audit_db.begin() as own:
            audit.append(own, entry)

    def render(
        self, request: Request, template: str, who: Principal | None, status: int = 200, **data: Any
    ) -> Any:
        stale = None
        new: dict[str, Any] = {}
        if who is not None:
            with self.read() as conn:
                stale = staleness.banner(conn, self.clock())
            new = marker.marks(self, request, who)  # "new since your last visit"
        return self.templates.TemplateResponse(
            request,
            template,
            {
                "who": who,
                "stale": stale,
                "csrf": csrf_token(request.session),
                "live_ms": self.live_interval_ms,
                "alerts_on": self.alerts_db is not None,
                "oidc_label": self.oidc.label if self.oidc is not None else None,
                **new,
                **data,
            },
            status_code=status,
        )


def forbid(allowed: bool) -> None:
    """403 unless allowed; the same answer whether or not the thing exists."""
    if not allowed:
        raise HTTPException(403, "You do not have access to this page.")
