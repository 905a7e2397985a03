"""The one way Flagstream makes an SQLAlchemy engine: SQLite (embedded default) or PostgreSQL.

Database errors must never carry what a row held. Every engine hides bound parameters
(`hide_parameters=True`): SQLAlchemy otherwise puts them in its INFO log lines and in the
text of every StatementError, so a failed identity write would log UPNs and names. And on
PostgreSQL an error's DETAIL ("Failing row contains (...)", "Key (upn)=(...) already
exists") is dropped from its text, which hide_parameters does not touch: a traceback then
shows the statement and the primary message only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.engine import ExceptionContext


def make_engine(url: str, *, durable: bool = True, **options: Any) -> Engine:
    """An engine for `url`. SQLite: its folder is created, WAL lets readers beside the writer,
    and `durable=False` relaxes fsync to NORMAL (a store rebuilt from the log, like the read
    model). Otherwise connections are checked before use."""
    parsed = make_url(url)
    options["hide_parameters"] = True
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(str(parsed.database)).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30}, **options)

        @event.listens_for(engine, "connect")
        def _wal(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.execute("PRAGMA journal_mode=WAL")
            if not durable:
                dbapi_conn.execute("PRAGMA synchronous=NORMAL")

        return engine
    options.setdefault("pool_pre_ping", True)
    engine = create_engine(url, **options)
    if parsed.get_backend_name() == "postgresql":
        event.listen(engine, "handle_error", terse_errors)
    return engine


def terse_errors(context: ExceptionContext) -> None:
    """Keep only the server's primary message in a PostgreSQL error (no DETAIL with values)."""
    orig = context.original_exception
    primary = getattr(getattr(orig, "diag", None), "message_primary", None)
    if not primary:
        return
    orig.args = (primary,)
    wrapped = context.sqlalchemy_exception
    if wrapped is not None:
        wrapped.args = (f"({type(orig).__module__}.{type(orig).__name__}) {primary}",)
