"""Shared fixtures: the embedded broker and both read-model databases, all real."""

from __future__ import annotations

import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from flagstream_tools.broker import EmbeddedBroker

PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@pytest.fixture(scope="session")
def broker() -> Iterator[EmbeddedBroker]:
    """One embedded Tansu broker for the session; tests use their own topic prefixes."""
    with EmbeddedBroker() as b:
        yield b


def _ensure_postgres(timeout: float = 30.0) -> None:
    """Connect to this machine's PostgreSQL, starting the cluster once if it is stopped."""
    engine = create_engine(PG_ADMIN_URL)
    deadline = time.monotonic() + timeout
    started = False
    while True:
        try:
            with engine.connect():
                return
        except OperationalError:
            if not started and shutil.which("pg_ctlcluster"):
                versions = subprocess.run(["ls", "/etc/postgresql"], capture_output=True, text=True)
                for version in versions.stdout.split():
                    subprocess.run(
                        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"],
                        check=False,
                    )
                started = True
            if time.monotonic() > deadline:
                raise RuntimeError(
                    "PostgreSQL is not reachable at 127.0.0.1:5432 (user postgres). Start it with "
                    "`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`."
                ) from None
            time.sleep(0.5)
        finally:
            engine.dispose()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    _ensure_postgres()
    name = f"flagstream_t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """Each read-model test runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'flagstream.db'}"
    return str(request.getfixturevalue("postgres_url"))
