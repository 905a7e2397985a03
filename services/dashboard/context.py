"""What every route needs, built once by the composition root and passed to create_app."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import HTTPException, Request
from fastapi.templating import Jinja2Templates
from sqlalchemy import Connection, Engine

from . import audit, staleness
from .authz import Principal
from .outcomes import OutcomeSender
from .scope import set_scope
from .security import LoginLimiter, csrf_token
from .users import User

HERE = Path(__file__).resolve().parent


def _utc_now() -> datetime:
    return datetime.now(UTC)


def flag_label(flag: str) -> str:
    """ATTEND -> Attend, fsm -> FSM: the council's spelling of each flag."""
    return flag.upper() if flag.upper() in ("FSM", "SEN") else flag.title()


class NotSignedIn(Exception):
    """Raised by `principal` so pages redirect to the login form."""


@dataclass
class Context:
    """Engines, users, the outcome sender and the templates."""

    read_model: Engine
    audit_db: Engine
    users: Mapping[str, User]
    sender: OutcomeSender
    identity_db: Engine | None = None
    limiter: LoginLimiter = field(default_factory=LoginLimiter)
    clock: Callable[[], datetime] = _utc_now
    live_interval_ms: int = 3000
    templates: Jinja2Templates = field(
        default_factory=lambda: Jinja2Templates(directory=str(HERE / "templates"))
    )

    def __post_init__(self) -> None:
        self.templates.env.filters["flag"] = flag_label

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

    def principal(self, request: Request) -> Principal:
        """The signed-in user, re-read from the users file's entries on every request."""
        user = self.users.get(request.session.get("user", ""))
        if user is None:
            raise NotSignedIn
        return Principal.of(user)

    def record(self, who: Principal, request: Request, action: str, **what: Any) -> None:
        """Append an audit row before the page is shown (no row, no page)."""
        entry = audit.AuditEntry(
            at=self.clock(),
            username=who.username,
            role=who.role,
            action=action,
            page=request.url.path,
            **what,
        )
        with self.audit_db.begin() as conn:
            audit.append(conn, entry)

    def render(
        self, request: Request, template: str, who: Principal | None, status: int = 200, **data: Any
    ) -> Any:
        stale = None
        if who is not None:
            with self.read() as conn:
                stale = staleness.banner(conn, self.clock())
        return self.templates.TemplateResponse(
            request,
            template,
            {
                "who": who,
                "stale": stale,
                "csrf": csrf_token(request.session),
                "live_ms": self.live_interval_ms,
                **data,
            },
            status_code=status,
        )


def forbid(allowed: bool) -> None:
    """403 unless allowed; the same answer whether or not the thing exists."""
    if not allowed:
        raise HTTPException(403, "You do not have access to this page.")
