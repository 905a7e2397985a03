"""Dashboard pages through FastAPI's TestClient on a known SQLite read model: who sees what."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from dashboard.app import create_app
from dashboard.audit import audit_log, create_audit_schema
from dashboard.context import Context
from dashboard.outcomes import HuddleForm, OutcomeForm
from readmodel.db import make_engine
from tests.browser import seed

A1, A2, A3, B1, C1 = (c[0] for c in seed.CHILDREN)


class RecordingSender:
    """Stands in for ingest in these page tests (the browser test uses the real one)."""

    def __init__(self) -> None:
        self.sent: list[OutcomeForm] = []
        self.huddles: list[HuddleForm] = []

    def send(self, outcome: OutcomeForm) -> None:
        self.sent.append(outcome)

    def send_huddle(self, huddle: HuddleForm) -> None:
        self.huddles.append(huddle)


def seeded_context(tmp: Path, **options: Any) -> Context:
    """The seeded read model, identity store and an empty audit log in `tmp`."""
    read_model = make_engine(f"sqlite:///{tmp / 'read.db'}")
    identity_db = make_engine(f"sqlite:///{tmp / 'identity.db'}")
    audit_db = make_engine(f"sqlite:///{tmp / 'audit.db'}")
    seed.seed(read_model, identity_db)
    create_audit_schema(audit_db)
    return Context(
        read_model=read_model,
        audit_db=audit_db,
        users=seed.users(),
        sender=RecordingSender(),
        identity_db=identity_db,
        **options,
    )


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Context]:
    built = seeded_context(tmp_path_factory.mktemp("dash"), clock=lambda: seed.NOW)
    yield built
    for engine in (built.read_model, built.identity_db, built.audit_db):
        if engine is not None:
            engine.dispose()


def client_for(ctx: Context, username: str | None) -> TestClient:
    client = TestClient(create_app(ctx, "s" * 40), base_url="https://testserver")
    if username:
        page = client.get("/login")
        token = csrf_of(page.text)
        reply = client.post(
            "/login",
            data={"username": username, "password": seed.PASSWORD, "csrf_token": token},
            follow_redirects=False,
        )
        assert reply.status_code == 303, reply.text
    return client


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


def audit_rows(engine: Engine) -> list[dict[str, object]]:
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(audit_log).order_by(audit_log.c.id))]


def test_pages_need_a_session(ctx: Context) -> None:
    client = client_for(ctx, None)
    assert client.get("/", follow_redirects=False).headers["location"] == "/login"
    assert client.get(f"/children/{A1}", follow_redirects=False).status_code == 303
    assert client.get("/schools/100001/huddle.csv").status_code == 401


def test_session_cookie_is_secure_httponly_and_strict(ctx: Context) -> None:
    client = TestClient(create_app(ctx, "s" * 40), base_url="https://testserver")
    client.get("/login")
    token = csrf_of(client.get("/login").text)
    reply = client.post(
        "/login",
        data={"username": "staff", "password": seed.PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    cookie = reply.headers["set-cookie"].lower()
    assert "secure" in cookie and "httponly" in cookie and "samesite=strict" in cookie


@pytest.mark.parametrize(
    ("user", "path", "status"),
    [
        ("staff", "/schools/100001", 200),
        ("staff", "/schools/100002", 403),  # same zone, other school
        ("staff", f"/children/{A1}", 200),
        ("staff", f"/children/{C1}", 403),
        ("staff", "/zones/North Zone", 403),
        ("other", f"/children/{A1}", 403),
        ("north", "/zones/North Zone", 200),
        ("north", "/zones/South Zone", 403),
        ("north", "/schools/100002", 200),
        ("north", "/schools/200001", 403),
        ("north", f"/children/{C1}", 403),
        ("north", "/audit", 403),
        ("boss", "/", 200),
        ("boss", "/zones/South Zone", 200),
        ("boss", f"/children/{C1}", 200),
        ("boss", "/audit", 403),
        ("root", "/audit", 200),
        ("staff", "/children/" + "ff" * 32, 403),  # unknown child: same answer as forbidden
        ("staff", "/schools/100002/huddle.csv", 403),
        ("staff", "/schools/100002/table", 403),
        ("north", f"/children/{C1}/outcomes", 403),
    ],
)
def test_every_page_is_scoped_to_the_role(ctx: Context, user: str, path: str, status: int) -> None:
    assert client_for(ctx, user).get(path, follow_redirects=False).status_code == status


def test_non_county_roles_are_sent_to_their_own_page(ctx: Context) -> None:
    reply = client_for(ctx, "north").get("/", follow_redirects=False)
    assert (reply.status_code, reply.headers["location"]) == (303, "/zones/North%20Zone")


def test_names_only_for_the_school_and_upn_only_for_the_dsl(ctx: Context) -> None:
    staff = client_for(ctx, "staff").get("/schools/100001").text
    dsl = client_for(ctx, "dsl").get("/schools/100001").text
    zone = client_for(ctx, "north").get("/schools/100001").text
    county = client_for(ctx, "boss").get("/").text
    assert "Amelia Ashdown" in staff and "A823456789012" not in staff
    assert "Amelia Ashdown" in dsl and "A823456789012" in dsl
    for page in (zone, county, client_for(ctx, "north").get(f"/children/{A1}").text):
        assert "Ashdown" not in page and "A823456789012" not in page
    assert f"Child {A1[:8]}" in zone


def test_zone_user_sees_only_their_zone(ctx: Context) -> None:
    page = client_for(ctx, "north").get("/zones/North Zone").text
    assert "Northvale Primary" in page and "Northvale Academy" in page
    assert "Southmere" not in page


def test_county_page_counts_zones_and_lists_late_registers(ctx: Context) -> None:
    page = client_for(ctx, "boss").get("/").text
    north = re.search(r"North Zone</a></th>(.*?)</tr>", page, re.S)
    assert north is not None
    numbers = re.findall(r'class="num">(\d+)<', north.group(1))
    # children, attain, attend, family, fsm, sen, any
    assert numbers == ["4", "1", "1", "1", "1", "1", "3"]
    late = page[page.index("Registers not arrived") :]
    assert "Southmere First" in late and "Northvale Primary" not in late


def test_notification_details_only_for_the_dsl(ctx: Context) -> None:
    dsl = client_for(ctx, "dsl").get(f"/children/{A2}").text
    assert "safeguarding notification within 28 days" in dsl
    assert seed.POLICE_REFERENCE in dsl and "child upstairs" in dsl
    for other in ("staff", "north", "boss", "root"):
        client = client_for(ctx, other)
        page = client.get(f"/children/{A2}").text + client.get("/schools/100001").text
        assert "SAFEGUARD" not in page.upper() and seed.POLICE_REFERENCE not in page
        assert "notification" not in page.lower()
    table = client_for(ctx, "dsl").get("/schools/100001?flag=safeguard").text
    assert "Ben Barrow" in table and "Amelia" not in table  # the DSL's own filter


def test_the_dsl_view_of_notification_details_is_audited(ctx: Context) -> None:
    client_for(ctx, "dsl").get(f"/children/{A2}")
    rows = [r for r in audit_rows(ctx.audit_db) if r["action"] == "view_safeguarding"]
    assert rows and rows[-1]["child_key"] == A2 and rows[-1]["username"] == "dsl"


def test_each_child_view_and_export_leaves_an_audit_row(ctx: Context) -> None:
    before = len(audit_rows(ctx.audit_db))
    client = client_for(ctx, "staff")
    client.get(f"/children/{A1}")
    client.get("/schools/100001/huddle.csv")
    client.get(f"/children/{C1}")  # refused: no record viewed, a denial row
    rows = audit_rows(ctx.audit_db)[before:]
    assert [(r["username"], r["action"], r["child_key"], r["urn"]) for r in rows] == [
        ("staff", "sign_in", None, None),
        ("staff", "view_child", A1, "100001"),
        ("staff", "export_csv", None, "100001"),
        ("staff", "denied", C1, None),
    ]
    assert rows[1]["page"] == f"/children/{A1}"
    assert rows[2]["rows"] == 2


def test_school_table_sorts_and_filters_on_the_server(ctx: Context) -> None:
    client = client_for(ctx, "staff")
    by_year = client.get("/schools/100001/table?sort=nc_year&dir=asc").text
    order = [by_year.index(n) for n in ("Ben Barrow", "Amelia Ashdown", "=HYPERLINK(1) Cole")]
    assert order == sorted(order)
    family = client.get("/schools/100001/table?flag=family").text
    assert "Ben Barrow" in family and "Amelia Ashdown" not in family
    assert client.get("/schools/100001/table?sort=child_key%3B").status_code == 422


def test_outcome_form_sends_an_event_with_the_upn_server_side(ctx: Context) -> None:
    client = client_for(ctx, "staff")
    page = client.get(f"/children/{A1}").text
    event_id = re.search(r'name="event_id" value="([^"]+)"', page)
    assert event_id
    form = {
        "response": "1:1",
        "status": "Some progress",
        "recorded_on": "2026-10-01",
        "event_id": event_id.group(1),
    }
    assert client.post(f"/children/{A1}/outcomes", data=form).status_code == 403  # no CSRF
    reply = client.post(
        f"/children/{A1}/outcomes",
        data={**form, "csrf_token": csrf_of(page)},
        follow_redirects=False,
    )
    assert reply.status_code == 303
    sent = ctx.sender.sent[-1]  # type: ignore[attr-defined]
    assert (sent.upn, sent.urn, sent.response, sent.recorded_by) == (
        "A823456789012",
        "100001",
        "1:1",
        "staff",
    )


def test_zone_staff_cannot_record_for_another_zone(ctx: Context) -> None:
    client = client_for(ctx, "north")
    token = csrf_of(client.get("/zones/North Zone").text)
    form = {
        "response": "1:1",
        "status": "Some progress",
        "recorded_on": "2026-10-01",
        "event_id": "00000000-0000-4000-8000-000000000009",
        "csrf_token": token,
    }
    assert client.post(f"/children/{C1}/outcomes", data=form).status_code == 403


def test_admin_reads_the_audit_log(ctx: Context, tmp_path: Path) -> None:
    client_for(ctx, "dsl").get(f"/children/{A2}")
    page = client_for(ctx, "root").get("/audit").text
    assert "view_child" in page and "dsl" in page


def huddle_form(page: str, **changes: Any) -> dict[str, Any]:
    event_id = re.search(r'name="event_id" value="([^"]+)"', page)
    assert event_id
    form: dict[str, Any] = {
        "csrf_token": csrf_of(page),
        "event_id": event_id.group(1),
        "held_on": "2026-10-01",
        "attendees": ["DSL", "SENCo", "Not a role"],
        "reviewed": [A1, A2],
        f"response-{A1}": "1:1",
        f"status-{A1}": "Some progress",
        f"response-{A2}": "Referral",
        f"status-{A2}": "Further risk",
    }
    return {**form, **changes}


def test_a_huddle_is_recorded_from_its_list_with_upns_server_side(ctx: Context) -> None:
    client = client_for(ctx, "dsl")
    page = client.get("/schools/100001/huddle").text
    assert "Record this huddle" in page and f'value="{A1}"' in page
    sender = ctx.sender
    before = len(sender.huddles)  # type: ignore[attr-defined]
    reply = client.post("/schools/100001/huddle", data=huddle_form(page), follow_redirects=False)
    assert (reply.status_code, reply.headers["location"]) == (303, "/schools/100001/huddle?sent=1")
    [huddle] = sender.huddles[before:]  # type: ignore[attr-defined]
    assert (huddle.urn, huddle.held_on.isoformat(), huddle.recorded_by) == (
        "100001", "2026-10-01", "dsl")  # fmt: skip
    assert huddle.attendees == ("DSL", "SENCo")  # a role not on the list is dropped
    assert huddle.half_term == "Autumn 1 2026/27"
    assert huddle.reviews == (
        ("A823456789012", "1:1", "Some progress"),
        ("B823456789012", "Referral", "Further risk"),
    )
    [row] = [r for r in audit_rows(ctx.audit_db) if r["action"] == "record_huddle"][-1:]
    assert (row["username"], row["urn"], row["rows"]) == ("dsl", "100001", 2)
    assert "A823456789012" not in str(row["detail"])


@pytest.mark.parametrize(
    ("changes", "status"),
    [
        ({"reviewed": [A1, C1], f"response-{C1}": "1:1", f"status-{C1}": "Resolved"}, 422),
        ({"reviewed": [A1, "f" * 64], f"response-{'f' * 64}": "1:1",
          f"status-{'f' * 64}": "Resolved"}, 422),
        ({f"response-{A1}": "Something else"}, 422),
        ({"attendees": []}, 422),
        ({"held_on": "2026-10-03"}, 422),  # after the dashboard's today
        ({"csrf_token": "forged"}, 403),
    ],
)  # fmt: skip
def test_a_bad_huddle_form_is_refused_and_nothing_sent(
    ctx: Context, changes: dict[str, Any], status: int
) -> None:
    client = client_for(ctx, "staff")
    page = client.get("/schools/100001/huddle").text
    before = len(ctx.sender.huddles)  # type: ignore[attr-defined]
    reply = client.post("/schools/100001/huddle", data=huddle_form(page, **changes))
    assert reply.status_code == status
    assert len(ctx.sender.huddles) == before  # type: ignore[attr-defined]


def test_only_the_school_and_its_zone_may_record_its_huddle(ctx: Context) -> None:
    # (user, a page they may open, whether it offers the form, the answer to posting 100001's)
    cases = (
        ("north", "/schools/100001/huddle", True, 303),
        ("other", "/schools/200001/huddle", True, 403),  # their own school's form only
        ("boss", "/schools/100001/huddle", False, 403),  # a manager reads, does not record
    )
    for user, path, offered, status in cases:
        client = client_for(ctx, user)
        page = client.get(path).text
        assert ("Record this huddle" in page) == offered, user
        fields = 'name="event_id" value="00000000-0000-4000-8000-000000000001"'
        form = huddle_form(page if offered else page + fields)
        reply = client.post("/schools/100001/huddle", data=form, follow_redirects=False)
        assert reply.status_code == status, user
