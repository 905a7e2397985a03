"""Server-side sessions: lifetime, idle timeout (polling excluded), revocation at sign-out,
users-file changes without a restart, and what sign-ins leave in the audit log."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from dashboard.app import create_app
from dashboard.audit import create_audit_schema
from dashboard.context import Context
from dashboard.sessions import SessionStore, sessions
from dashboard.users import User, UsersFile, add_user, hash_password, load_users, write_users
from readmodel.db import make_engine
from tests.browser import seed
from tests.unit.test_dashboard import audit_rows, client_for, csrf_of, seeded_context

START = datetime(2026, 10, 2, 8, 0, tzinfo=UTC)


class Clock:
    """An injected wall clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def ctx(tmp_path: Path, clock: Clock) -> Iterator[Context]:
    built = seeded_context(tmp_path, clock=clock)
    built.sessions = SessionStore(
        built.audit_db, lifetime=timedelta(hours=8), idle=timedelta(minutes=30)
    )
    yield built
    for engine in (built.read_model, built.identity_db, built.audit_db):
        if engine is not None:
            engine.dispose()


def session_rows(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(sessions))]


def signed_out(client: TestClient, path: str = "/schools/100001") -> bool:
    reply = client.get(path, follow_redirects=False)
    return reply.status_code == 303 and reply.headers["location"] == "/login"


def test_a_session_ends_at_its_lifetime_however_active(ctx: Context, clock: Clock) -> None:
    client = client_for(ctx, "staff")
    for _ in range(7 * 4 + 3):  # a request every 15 minutes for 7 h 45 min
        clock.advance(minutes=15)
        assert client.get("/schools/100001").status_code == 200
    clock.advance(minutes=15)  # 8 hours after signing in
    assert signed_out(client)
    assert [r["ended_by"] for r in session_rows(ctx.audit_db)] == ["expired"]


def test_live_polling_does_not_keep_an_idle_session_alive(ctx: Context, clock: Clock) -> None:
    client = client_for(ctx, "staff")
    for _ in range(29):  # the open page polls its table (and a child's outcomes) for 29 min
        clock.advance(minutes=1)
        assert client.get("/schools/100001/table").status_code == 200
        assert client.get(f"/children/{seed.CHILDREN[0][0]}/outcomes").status_code == 200
    clock.advance(minutes=1)  # 30 minutes since the user last did anything
    assert client.get("/schools/100001/table").status_code == 401
    assert signed_out(client)
    assert [r["ended_by"] for r in session_rows(ctx.audit_db)] == ["idle"]


def test_the_users_own_requests_keep_a_session_alive(ctx: Context, clock: Clock) -> None:
    client = client_for(ctx, "staff")
    for _ in range(6):  # two hours, one click every 20 minutes
        clock.advance(minutes=20)
        assert client.get("/schools/100001").status_code == 200
    clock.advance(minutes=29)
    assert client.get("/schools/100001/table").status_code == 200
    (row,) = session_rows(ctx.audit_db)
    assert row["revoked_at"] is None


def test_a_copied_cookie_stops_working_once_its_user_signs_out(ctx: Context) -> None:
    client = client_for(ctx, "staff")
    copy = TestClient(create_app(ctx, "s" * 40), base_url="https://testserver")
    copy.cookies.set("flagstream_session", client.cookies.get("flagstream_session") or "")
    assert copy.get("/schools/100001").status_code == 200  # the copy works while signed in
    token = csrf_of(client.get("/schools/100001").text)
    assert client.post("/logout", data={"csrf_token": token}, follow_redirects=False).is_redirect
    assert signed_out(copy) and signed_out(client)
    assert copy.get("/schools/100001/huddle.csv").status_code == 401
    assert [r["ended_by"] for r in session_rows(ctx.audit_db)] == ["sign_out"]


def test_the_cookie_carries_a_random_id_stored_only_hashed(ctx: Context) -> None:
    ids = []
    for client in (client_for(ctx, "staff"), client_for(ctx, "staff")):
        payload = (client.cookies.get("flagstream_session") or "").split(".")[0]
        ids.append(json.loads(base64.b64decode(payload + "==")).get("sid"))
    assert all(isinstance(i, str) and len(i) >= 43 for i in ids) and ids[0] != ids[1]
    stored = {r["id_hash"] for r in session_rows(ctx.audit_db)}
    assert stored == {hashlib.sha256(i.encode()).hexdigest() for i in ids}
    assert not any(i in h for i in ids for h in stored)


def test_signing_in_again_ends_the_previous_session(ctx: Context) -> None:
    client = client_for(ctx, "staff")
    old = client.cookies.get("flagstream_session") or ""
    token = csrf_of(client.get("/schools/100001").text)
    client.post(
        "/login",
        data={"username": "dsl", "password": seed.PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    stale = TestClient(create_app(ctx, "s" * 40), base_url="https://testserver")
    stale.cookies.set("flagstream_session", old)
    assert signed_out(stale)
    assert sorted(str(r["ended_by"]) for r in session_rows(ctx.audit_db)) == ["None", "replaced"]


@pytest.fixture
def file_ctx(ctx: Context, tmp_path: Path) -> Context:
    """The context reading its users from a file, as `flagstream dashboard` does."""
    store = ctx.session_store
    users = UsersFile(seed.users_file(tmp_path / "users.json"))
    users.on_change = lambda now_users: store.end_changed(now_users, ctx.clock())
    ctx.users = users
    return ctx


def _rewrite(path: Path, change: dict[str, User | None]) -> None:
    users = dict(load_users(path))
    for name, user in change.items():
        if user is None:
            users.pop(name)
        else:
            users[name] = user
    write_users(path, users.values())


def test_removing_a_user_takes_effect_without_a_restart(file_ctx: Context, tmp_path: Path) -> None:
    staff, dsl = client_for(file_ctx, "staff"), client_for(file_ctx, "dsl")
    _rewrite(tmp_path / "users.json", {"staff": None})
    # Ended as soon as the file changed (the first request after it), not only when used.
    assert dsl.get("/schools/100001").status_code == 200
    ended = {r["username"]: r["ended_by"] for r in session_rows(file_ctx.audit_db)}
    assert ended == {"staff": "user_removed", "dsl": None}
    assert signed_out(staff)
    again = TestClient(create_app(file_ctx, "s" * 40), base_url="https://testserver")
    token = csrf_of(again.get("/login").text)
    data = {"username": "staff", "password": seed.PASSWORD, "csrf_token": token}
    assert again.post("/login", data=data).status_code == 401


@pytest.mark.parametrize(
    ("change", "sees"),
    [
        (User("staff", "school", "100002", "h"), "/schools/100002"),  # scope
        (User("staff", "zone", "North Zone", "h"), "/zones/North Zone"),  # role
        (None, "/schools/100001"),  # password (a new hash)
    ],
)
def test_changing_a_users_role_scope_or_password_ends_their_session(
    file_ctx: Context, tmp_path: Path, change: User | None, sees: str
) -> None:
    client = client_for(file_ctx, "staff")
    new_password = "a brand new passphrase"
    hashed = hash_password(new_password if change is None else seed.PASSWORD)
    base = change or User("staff", "school", "100001", "h")
    _rewrite(tmp_path / "users.json", {"staff": User(base.username, base.role, base.scope, hashed)})
    assert signed_out(client)
    assert [r["ended_by"] for r in session_rows(file_ctx.audit_db)] == ["user_changed"]
    token = csrf_of(client.get("/login").text)
    password = new_password if change is None else seed.PASSWORD
    data = {"username": "staff", "password": password, "csrf_token": token}
    assert client.post("/login", data=data, follow_redirects=False).status_code == 303
    assert client.get(sees).status_code == 200


def test_an_added_user_can_sign_in_without_a_restart(file_ctx: Context, tmp_path: Path) -> None:
    add_user(tmp_path / "users.json", "newcomer", "dsl", "100001", "a long enough secret")
    client = TestClient(create_app(file_ctx, "s" * 40), base_url="https://testserver")
    token = csrf_of(client.get("/login").text)
    data = {"username": "newcomer", "password": "a long enough secret", "csrf_token": token}
    assert client.post("/login", data=data, follow_redirects=False).status_code == 303


def test_an_unreadable_users_file_signs_nobody_in(file_ctx: Context, tmp_path: Path) -> None:
    client = client_for(file_ctx, "staff")
    (tmp_path / "users.json").write_text("{not json")
    assert signed_out(client)  # fail closed, logged
    seed.users_file(tmp_path / "users.json")
    assert client_for(file_ctx, "staff").get("/schools/100001").status_code == 200


def test_sign_ins_failures_and_sign_outs_are_audited_without_passwords(ctx: Context) -> None:
    client = TestClient(create_app(ctx, "s" * 40), base_url="https://testserver")
    token = csrf_of(client.get("/login").text)
    long_name = "x" * 200
    for name, password in (("staff", "wrong password 1"), (long_name, "wrong password 2")):
        data = {"username": name, "password": password, "csrf_token": token}
        assert client.post("/login", data=data).status_code == 401
    data = {"username": "staff", "password": seed.PASSWORD, "csrf_token": token}
    assert client.post("/login", data=data, follow_redirects=False).status_code == 303
    token = csrf_of(client.get("/schools/100001").text)
    client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    rows = audit_rows(ctx.audit_db)
    assert [(r["action"], r["username"], r["role"]) for r in rows] == [
        ("sign_in_failed", "staff", ""),
        ("sign_in_failed", "x" * 64, ""),  # truncated to the longest name there can be
        ("sign_in", "staff", "school"),
        ("view_school_list", "staff", "school"),
        ("sign_out", "staff", "school"),
    ]
    assert rows[0]["detail"] == "client testclient" and rows[0]["page"] == "/login"
    text = repr(rows)
    assert "wrong password" not in text and seed.PASSWORD not in text


def test_the_login_form_caps_the_user_name(ctx: Context) -> None:
    page = TestClient(create_app(ctx, "s" * 40), base_url="https://testserver").get("/login")
    assert 'maxlength="64"' in page.text


def test_the_session_store_on_each_backend(database_url: str) -> None:
    engine = make_engine(database_url)
    create_audit_schema(engine)
    store = SessionStore(engine, lifetime=timedelta(hours=8), idle=timedelta(minutes=30))
    user = User("dsl", "dsl", "100001", hash_password("a long enough secret"))
    users = {"dsl": user}
    token = store.start(user, START)
    assert store.resume(token, users, START + timedelta(minutes=29), active=False) == user
    assert store.resume(token, users, START + timedelta(minutes=29)) == user  # active: touched
    assert store.resume(token, users, START + timedelta(minutes=58)) == user
    assert store.resume("not-a-session", users, START) is None
    with engine.connect() as conn:
        (row,) = conn.execute(select(sessions)).all()
    assert row.id_hash == hashlib.sha256(token.encode()).hexdigest()
    other = store.start(user, START)
    moved = {"dsl": User("dsl", "dsl", "100002", user.password_hash)}
    assert store.end_changed(users, START) == 0
    assert store.end_changed(moved, START + timedelta(minutes=59)) == 2
    assert store.resume(other, moved, START + timedelta(minutes=59)) is None
    third = store.start(moved["dsl"], START + timedelta(hours=1))
    store.end(third, START + timedelta(hours=2))
    assert store.resume(third, moved, START + timedelta(hours=2)) is None
    engine.dispose()


def test_the_dashboard_command_wires_sessions_and_a_live_users_file(tmp_path: Path) -> None:
    from dashboard.main import build
    from flagstream.settings import Settings

    users = seed.users_file(tmp_path / "users.json")
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'read.db'}",
        identity_database_url=f"sqlite:///{tmp_path / 'identity.db'}",
        dashboard_audit_database_url=f"sqlite:///{tmp_path / 'audit.db'}",
        alerts_database_url=f"sqlite:///{tmp_path / 'alerts.db'}",
        dashboard_users_file=users,
        dashboard_secret="k" * 40,
        dashboard_idle_minutes=5,
        dashboard_leaver_school_days=3,
    )
    app = build(settings)
    ctx: Context = app.state.ctx
    assert ctx.session_store.idle == timedelta(minutes=5) and ctx.leaver_school_days == 3
    client = TestClient(app, base_url="https://testserver")
    token = csrf_of(client.get("/login").text)
    data = {"username": "boss", "password": seed.PASSWORD, "csrf_token": token}
    assert client.post("/login", data=data, follow_redirects=False).status_code == 303
    assert client.get("/").status_code == 200
    _rewrite(users, {"boss": None})
    assert signed_out(client, "/")
    ended = [r["ended_by"] for r in session_rows(ctx.audit_db)]
    assert ended == ["user_removed"]


def test_an_admin_ends_every_session_of_one_user_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`flagstream dashboard end-sessions NAME`: a council (identity provider) session and a
    local one of the same user end; another user's does not."""
    from flagstream_tools.cli import main

    url = f"sqlite:///{tmp_path / 'audit.db'}"
    engine = make_engine(url)
    create_audit_schema(engine)
    store = SessionStore(engine, lifetime=timedelta(hours=8), idle=timedelta(minutes=30))
    now = datetime.now(UTC)
    council = User("jo.bloggs", "zone", "North Zone", "")
    local = User("jo.bloggs", "school", "100001", hash_password("a long enough secret"))
    other = User("sam", "dsl", "100001", hash_password("another long secret"))
    tokens = [store.start(council, now, federated=True), store.start(local, now)]
    kept = store.start(other, now)
    users = {"jo.bloggs": local, "sam": other}
    assert store.resume(tokens[0], users, now) == council
    monkeypatch.setenv("FLAGSTREAM_DASHBOARD_AUDIT_DATABASE_URL", url)
    assert main(["dashboard", "end-sessions", "jo.bloggs"]) == 0
    assert "2 open session(s) of jo.bloggs ended" in capsys.readouterr().out
    later = now + timedelta(seconds=1)
    assert [store.resume(t, users, later) for t in tokens] == [None, None]
    assert store.resume(kept, users, later) == other
    with engine.connect() as conn:
        ended = {r.username: r.ended_by for r in conn.execute(select(sessions)) if r.revoked_at}
    assert ended == {"jo.bloggs": "admin"}
    [row] = [r for r in audit_rows(engine) if r["action"] == "end_sessions"]
    assert row["role"] == "admin" and row["detail"] == "ended 2 session(s) of jo.bloggs"
    assert main(["dashboard", "end-sessions"]) == 2
    engine.dispose()
