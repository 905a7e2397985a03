"""What the benchmark's services run with: their settings, ports, API key, PostgreSQL database."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.exc import SQLAlchemyError

from flagstream_tools.broker import free_port
from ingest.db import make_engine as make_ingest_engine
from ingest.keys import create_key
from ingest.store import ensure, know_schools

PARTITIONS = 6


class ServiceEnv:
    """FLAGSTREAM_* settings for the services of one broker, one database per projector."""

    def __init__(self, workdir: Path, bootstrap: str, key: str) -> None:
        self.workdir, self.bootstrap, self.key = workdir, bootstrap, key
        self.ports = {n: free_port() for n in ("ingest", "flagger", "projector")}
        self.ingest_db = f"sqlite:///{workdir / 'ingest.db'}"

    def api_key(self, schools: Iterable[str] = ()) -> str:
        """A new ingest API key that may send every kind (the bench plays every partner). The
        schools it sends for are made known to ingest, as if their school records had been
        accepted there: the bench preloads reference data straight onto the topics."""
        engine = make_ingest_engine(self.ingest_db)
        ensure(engine)
        with engine.begin() as conn:
            know_schools(conn, sorted(set(schools)), None, None)
        return create_key(engine, "bench", "all")

    def __call__(self, database_url: str = "", **extra: str) -> dict[str, str]:
        return {
            "FLAGSTREAM_KAFKA_BOOTSTRAP": self.bootstrap,
            "FLAGSTREAM_PARTITIONS": str(PARTITIONS),
            "FLAGSTREAM_DATABASE_URL": database_url or f"sqlite:///{self.workdir / 'read.db'}",
            "FLAGSTREAM_IDENTITY_DATABASE_URL": f"sqlite:///{self.workdir / 'identity.db'}",
            "FLAGSTREAM_INGEST_DATABASE_URL": self.ingest_db,
            "FLAGSTREAM_PSEUDONYM_KEY": self.key,
            "FLAGSTREAM_INGEST_PORT": str(self.ports["ingest"]),
            "FLAGSTREAM_FLAGGER_METRICS_PORT": str(self.ports["flagger"]),
            "FLAGSTREAM_PROJECTOR_METRICS_PORT": str(self.ports["projector"]),
            "FLAGSTREAM_FLAGGER_DATA_DIR": str(self.workdir / "flagger"),
            # One key plays every school at the offered load: no per-key rate limit.
            "FLAGSTREAM_INGEST_RATE_PER_MINUTE": "0",
            **extra,
        }


def check_postgres(admin_url: str) -> None:
    """Fail before minutes of work, not at the PostgreSQL stage."""
    engine = create_engine(admin_url, hide_parameters=True)
    try:
        with engine.connect():
            pass
    except SQLAlchemyError as exc:
        raise SystemExit(
            f"PostgreSQL is not reachable at {admin_url} ({type(exc).__name__}). Start it "
            "(`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`), "
            "point --postgres at a server, or pass --postgres '' to skip that stage."
        ) from None
    finally:
        engine.dispose()


def create_database(admin_url: str) -> tuple[str, str]:
    """A fresh database beside admin_url's: (name, URL)."""
    name = f"flagstream_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT", hide_parameters=True)
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    base = admin_url.rsplit("/", 1)[0]
    return name, f"{base}/{name}"


def drop_database(admin_url: str, name: str) -> None:
    """Drop it, closing any connection still open."""
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT", hide_parameters=True)
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()
