"""Dashboard security parts: CSV neutralising, login rate limit, CSRF, users file, audit log."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, text, update
from sqlalchemy.exc import DBAPIError

from dashboard.app import create_app
from dashboard.audit import AuditEntry, append, audit_log, create_audit_schema, recent
from dashboard.context import Context
from dashboard.security import LoginLimiter, neutralise
from dashboard.users import (
    ROLES,
    User,
    UsersFileError,
    add_user,
    load_users,
    verify_password,
    write_demo_users,
)
from flagstream_tools.demo.users import demo_users
from flagstream_tools.generator import make_county
from readmodel.db import make_engine
from tests.browser import seed
from tests.unit.test_dashboard import client_for, csrf_of, seeded_context


@pytest.fixture
def ctx(tmp_path: Path) -> Context:
    return seeded_context(tmp_path)


@pytest.mark.parametrize("value", ["=1+1", "+1", "-2", "@SUM(A1)", "\tx", "\rx"])
def test_formula_starts_are_neutralised(value: str) -> None:
    assert neutralise(value) == "'" + value


@pytest.mark.parametrize(("value", "shown"), [("Ben", "Ben"), (None, ""), (3, "3"), ("a=b", "a=b")])
def test_other_cells_are_unchanged(value: object, shown: str) -> None:
    assert neutralise(value) == shown


def test_huddle_csv_neutralises_a_formula_in_a_pupil_name(ctx: Context) -> None:
    # Seed child a3 has no flag, so give the huddle a flagged child with a formula name.
    from flagstream import identity

    with ctx.identity_db.begin() as conn:  # type: ignore[union-attr]
        identity.record(
            conn,
            [
                identity.Identity(
                    seed.CHILDREN[0][0],
                    "100001",
                    "A823456789012",
                    "=cmd|' /C calc'!A0",
                    "",
                    seed.NOW,
                )
            ],
        )
    client = client_for(ctx, "staff")
    reply = client.get("/schools/100001/huddle.csv")
    assert reply.headers["content-disposition"] == 'attachment; filename="huddle-100001.csv"'
    rows = list(csv.reader(io.StringIO(reply.text)))
    assert rows[0][:6] == ["Group", "Flags in group", "Child", "Year Group", "Gender", "Indicators"]
    names = [r[2] for r in rows[1:]]
    assert "'=cmd|' /C calc'!A0" in names
    assert all(not cell.startswith(("=", "+", "-", "@")) for r in rows for cell in r)


def test_login_is_rate_limited_per_user_name() -> None:
    now = [1000.0]
    limiter = LoginLimiter(max_failures=3, window_s=60, clock=lambda: now[0])
    for _ in range(3):
        assert limiter.retry_after("user:a") == 0
        limiter.failed("user:a", "ip:1")
    assert limiter.retry_after("user:a") == 61
    assert limiter.retry_after("user:b", "ip:1") == 61  # the same client is blocked too
    assert limiter.retry_after("user:b", "ip:2") == 0
    now[0] += 61
    assert limiter.retry_after("user:a", "ip:1") == 0


def test_too_many_failed_sign_ins_get_429_even_with_the_right_password(ctx: Context) -> None:
    ctx.limiter = LoginLimiter(max_failures=3)
    client = TestClient(create_app(ctx, "s" * 40), base_url="https://testserver")
    token = csrf_of(client.get("/login").text)
    for _ in range(3):
        wrong = client.post(
            "/login", data={"username": "staff", "password": "nope", "csrf_token": token}
        )
        assert wrong.status_code == 401 and "User name or password is wrong" in wrong.text
    right = client.post(
        "/login", data={"username": "staff", "password": seed.PASSWORD, "csrf_token": token}
    )
    assert right.status_code == 429
    assert int(right.headers["retry-after"]) > 0
    assert "Too many failed sign-ins" in right.text


def test_login_and_logout_need_the_session_csrf_token(ctx: Context) -> None:
    client = TestClient(create_app(ctx, "s" * 40), base_url="https://testserver")
    client.get("/login")
    data = {"username": "staff", "password": seed.PASSWORD}
    assert client.post("/login", data=data).status_code == 403
    other = TestClient(create_app(ctx, "s" * 40), base_url="https://testserver")
    foreign = csrf_of(other.get("/login").text)
    assert client.post("/login", data={**data, "csrf_token": foreign}).status_code == 403
    signed_in = client_for(ctx, "staff")
    assert signed_in.post("/logout", follow_redirects=False).status_code == 403
    token = csrf_of(signed_in.get("/schools/100001").text)
    out = signed_in.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert out.status_code == 303
    assert signed_in.get("/schools/100001", follow_redirects=False).status_code == 303


def test_a_session_signed_with_another_secret_is_not_accepted(ctx: Context) -> None:
    client = client_for(ctx, "staff")
    stolen = client.cookies.get("flagstream_session")
    other = TestClient(create_app(ctx, "t" * 40), base_url="https://testserver")
    other.cookies.set("flagstream_session", stolen or "")
    assert other.get("/schools/100001", follow_redirects=False).status_code == 303


def test_pages_are_not_cached_and_have_a_strict_csp(ctx: Context) -> None:
    reply = client_for(ctx, "staff").get("/schools/100001")
    assert reply.headers["cache-control"] == "no-store"
    assert "default-src 'self'" in reply.headers["content-security-policy"]


def test_users_file_round_trip_and_mistakes(tmp_path: Path) -> None:
    path = tmp_path / "users.json"
    add_user(path, "z", "zone", "North Zone", "a long password")
    add_user(path, "z", "zone", "South Zone", "another password")  # replaces
    users = load_users(path)
    assert list(users) == ["z"] and users["z"].scope == "South Zone"
    assert verify_password(users["z"], "another password")
    assert not verify_password(users["z"], "a long password")
    assert not verify_password(None, "another password")
    assert path.stat().st_mode & 0o077 == 0
    with pytest.raises(UsersFileError, match="needs a scope"):
        User("x", "school", None, "h")
    with pytest.raises(UsersFileError, match="unknown role"):
        User("x", "boss", None, "h")  # type: ignore[arg-type]
    with pytest.raises(UsersFileError, match="flagstream dashboard add-user"):
        load_users(tmp_path / "missing.json")


def test_demo_users_cover_every_role_of_a_generated_county(tmp_path: Path) -> None:
    county = make_county("tiny", seed=3)
    logins = demo_users(county, seed=1)
    assert sorted(u.role for u in logins) == sorted(ROLES)
    by_role = {u.role: u for u in logins}
    assert by_role["school"].scope == county.schools[0].urn
    assert by_role["zone"].scope == county.schools[0].zone
    path = tmp_path / "users.json"
    write_demo_users(path, logins)
    users = load_users(path)
    assert all(verify_password(users[u.username], u.password) for u in logins)


def test_audit_log_is_append_only(database_url: str) -> None:
    engine = make_engine(database_url)
    create_audit_schema(engine)
    create_audit_schema(engine)  # idempotent, triggers included
    entry = AuditEntry(datetime(2026, 10, 1, tzinfo=UTC), "dsl", "dsl", "view_child", "/c/x", "x")
    with engine.begin() as conn:
        append(conn, entry)
    for statement in (update(audit_log).values(username="someone"), delete(audit_log)):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(statement)
    if engine.dialect.name == "postgresql":
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text("TRUNCATE audit_log"))
    with engine.connect() as conn:
        assert [e.username for e in recent(conn)] == ["dsl"]
    engine.dispose()
