"""A session started by council sign-in carries its role and scope (its user is in no users
file) and ends exactly as a local one: sign-out, idle, absolute lifetime; a users-file
change leaves it alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from dashboard.audit import create_audit_schema
from dashboard.sessions import SessionStore
from dashboard.users import User
from readmodel.db import make_engine

T0 = datetime(2026, 10, 2, 8, 0, tzinfo=UTC)
LOCAL = User("staff", "school", "100001", "$argon2id$fake")
FEDERATED = User("lead@testshire.example", "zone", "North Zone", "")


@pytest.fixture
def store(tmp_path: Path) -> SessionStore:
    engine: Engine = make_engine(f"sqlite:///{tmp_path / 'audit.db'}")
    create_audit_schema(engine)
    return SessionStore(engine, lifetime=timedelta(hours=8), idle=timedelta(minutes=30))


def test_a_federated_session_resumes_with_its_own_role_and_scope(store: SessionStore) -> None:
    token = store.start(FEDERATED, T0, federated=True)
    assert store.resume(token, {}, T0 + timedelta(minutes=5)) == FEDERATED
    # A local user of the same name does not change what the session grants.
    same_name = {FEDERATED.username: User(FEDERATED.username, "admin", None, "$argon2id$x")}
    assert store.resume(token, same_name, T0 + timedelta(minutes=6)) == FEDERATED


def test_it_ends_at_sign_out_idle_and_lifetime(store: SessionStore) -> None:
    signed_out = store.start(FEDERATED, T0, federated=True)
    store.end(signed_out, T0)
    assert store.resume(signed_out, {}, T0) is None
    idle = store.start(FEDERATED, T0, federated=True)
    assert store.resume(idle, {}, T0 + timedelta(minutes=31)) is None
    busy = store.start(FEDERATED, T0, federated=True)
    for minutes in range(20, 8 * 60, 20):  # active every 20 minutes, never idle
        assert store.resume(busy, {}, T0 + timedelta(minutes=minutes)) == FEDERATED
    assert store.resume(busy, {}, T0 + timedelta(hours=8)) is None


def test_a_users_file_change_ends_local_sessions_only(store: SessionStore) -> None:
    local = store.start(LOCAL, T0)
    federated = store.start(FEDERATED, T0, federated=True)
    assert store.end_changed({}, T0) == 1  # the local user was removed
    assert store.resume(local, {}, T0) is None
    assert store.resume(federated, {}, T0) == FEDERATED
