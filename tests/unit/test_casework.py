"""Case work: the progress rules, who may see it, and its pages on the seeded read model."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from dashboard.authz import Principal
from dashboard.casework import progress_of
from dashboard.context import Context
from tests.browser import seed
from tests.unit.test_dashboard import audit_rows, client_for, csrf_of, seeded_context

A1, A2, _A3, B1, C1 = (c[0] for c in seed.CHILDREN)
ABSENT = "ff" * 32


@pytest.mark.parametrize(
    ("statuses", "current", "overall"),
    [
        ([], None, "no record"),
        (["Some progress"], "Some progress", "new"),
        (["No progress", "Good progress"], "Good progress", "improving"),
        (["Good progress", "No progress"], "No progress", "worsening"),
        (["Some progress", "Good progress", "Some progress"], "Some progress", "steady"),
        (["No progress", "Resolved"], "Resolved", "resolved"),
        (["Resolved"], "Resolved", "resolved"),
        (["Further risk"], "Further risk", "worsening"),  # a risk is never "new" or steady
        (["Further risk", "Further risk"], "Further risk", "worsening"),
        (["Further risk", "No progress"], "No progress", "improving"),
        (["Resolved", "Good progress"], "Good progress", "worsening"),  # reopened
        (["Made up", "Good progress"], "Good progress", "unknown"),
        ([" good PROGRESS ", "some progress"], "some progress", "worsening"),
    ],
)
def test_progress_rules(statuses: list[str], current: str | None, overall: str) -> None:
    found = progress_of(statuses)
    assert (found.current, found.overall) == (current, overall)


@pytest.mark.parametrize(
    ("role", "scope", "allowed"),
    [
        ("dsl", "100001", True),
        ("zone", "North Zone", True),
        ("school", "100001", False),  # staff of the school who are not its DSL
        ("dsl", "100002", False),  # another school's DSL, same zone
        ("zone", "South Zone", False),
        ("manager", None, False),
        ("admin", None, False),
    ],
)
def test_who_sees_case_work(role: str, scope: str | None, allowed: bool) -> None:
    who = Principal("u", role, scope)  # type: ignore[arg-type]
    assert who.can_see_casework("100001", "North Zone") is allowed
    assert who.sees_zone_casework("North Zone") is (role == "zone" and allowed)


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Context]:
    built = seeded_context(tmp_path_factory.mktemp("casework"), clock=lambda: seed.NOW)
    yield built
    for engine in (built.read_model, built.identity_db, built.audit_db):
        if engine is not None:
            engine.dispose()


def post(client: TestClient, path: str, **form: str) -> int:
    token = csrf_of(client.get("/login").text)
    reply = client.post(path, data={"csrf_token": token, **form}, follow_redirects=False)
    return int(reply.status_code)


@pytest.fixture(scope="module")
def recorded(ctx: Context) -> TestClient:
    """The DSL of 100001 records A1's lead, an overdue action and a past review date."""
    dsl = client_for(ctx, "dsl")
    past = (seed.NOW.date() - timedelta(days=9)).isoformat()
    lead = {"lead_name": "Pat Lee", "lead_role": "Family support worker", "notes": "Seen weekly"}
    assert post(dsl, f"/children/{A1}/casework/lead", next_review_on=past, **lead) == 303
    due = (seed.NOW.date() - timedelta(days=2)).isoformat()
    form = {"text": "Home visit", "owner": "Sam Owen", "due_on": due}
    assert post(dsl, f"/children/{A1}/casework/actions", **form) == 303
    return dsl


def test_the_dsl_sees_and_changes_case_work_audited(ctx: Context, recorded: TestClient) -> None:
    before = len(audit_rows(ctx.audit_db))
    page = recorded.get(f"/children/{A1}").text
    assert "Case work" in page and "Pat Lee" in page and "Home visit" in page
    assert "9 days overdue" in page
    rows = audit_rows(ctx.audit_db)[before:]
    assert [(r["action"], r["child_key"]) for r in rows if r["action"] == "view_casework"] == [
        ("view_casework", A1)
    ]
    changes = [r for r in audit_rows(ctx.audit_db) if r["action"] == "change_casework"]
    assert len(changes) >= 2 and all(r["username"] == "dsl" for r in changes)
    assert all("Pat Lee" not in str(r["detail"]) for r in changes)  # no free text in the log


def test_bad_input_is_a_clear_error(recorded: TestClient) -> None:
    assert post(recorded, f"/children/{A1}/casework/lead", notes="x" * 1001) == 422
    assert post(recorded, f"/children/{A1}/casework/actions", text="", owner="x") == 422
    assert post(recorded, f"/children/{A1}/casework/reviews", held_on="not a date") == 422
    assert post(recorded, f"/children/{A1}/casework/actions/999", done="1") == 422
    token = csrf_of(recorded.get("/login").text)
    reply = recorded.post(f"/children/{A1}/casework/lead", data={"csrf_token": token[:-1] + "x"})
    assert reply.status_code == 403


def test_the_zone_lead_sees_the_overdue_review(ctx: Context, recorded: TestClient) -> None:
    north = client_for(ctx, "north")
    assert "/zones/North%20Zone/reviews" in north.get("/zones/North Zone").text
    page = north.get("/zones/North Zone/reviews")
    assert page.status_code == 200
    assert "Pat Lee" in page.text and "Sam Owen" in page.text and f"/children/{A1}" in page.text
    assert "Amelia" not in page.text  # zone users see no names
    assert "Case work" in north.get(f"/children/{A1}").text
    assert recorded.get("/schools/100001/reviews").status_code == 200
    south_only = client_for(ctx, "boss").get("/zones/North Zone")
    assert "reviews" not in south_only.text


@pytest.mark.parametrize("user", ["staff", "other", "boss", "root"])
def test_everyone_else_gets_what_a_missing_child_gets(
    ctx: Context, recorded: TestClient, user: str
) -> None:
    client = client_for(ctx, user)
    page = client.get(f"/children/{A1}")
    assert "Case work" not in page.text and "casework" not in page.text
    for path in ("/casework/lead", "/casework/actions", "/casework/reviews"):
        real = client.post(f"/children/{A1}{path}", data={"csrf_token": csrf_of(page.text)})
        absent = client.post(f"/children/{ABSENT}{path}", data={"csrf_token": csrf_of(page.text)})
        assert (real.status_code, real.text) == (403, absent.text)
    for path in ("/zones/North Zone/reviews", "/schools/100001/reviews"):
        assert client.get(path).text == client.get("/schools/999999").text


def test_a_review_held_and_an_action_done_clear_the_overdue_list(ctx: Context) -> None:
    """On B1 (the other North Zone school): overdue, then a review held moves it off."""
    north = client_for(ctx, "north")
    past = (seed.NOW.date() - timedelta(days=3)).isoformat()
    assert post(north, f"/children/{B1}/casework/lead", lead_name="Jo", next_review_on=past) == 303
    form = {"text": "Call home", "owner": "Ali Khan", "due_on": past}
    assert post(north, f"/children/{B1}/casework/actions", **form) == 303
    assert "Ali Khan" in north.get("/zones/North Zone/reviews").text
    nxt = (seed.NOW.date() + timedelta(days=30)).isoformat()
    held = seed.NOW.date().isoformat()
    assert post(north, f"/children/{B1}/casework/reviews", held_on=held, next_review_on=nxt) == 303
    page = north.get(f"/children/{B1}").text
    action = re.search(rf'/children/{B1}/casework/actions/(\d+)"', page)
    assert action is not None and f"Reviews held: {held}" in page
    assert post(north, f"/children/{B1}/casework/actions/{action.group(1)}", done="1") == 303
    assert "Mark not done" in north.get(f"/children/{B1}").text
    assert f"/children/{B1}" not in north.get("/zones/North Zone/reviews").text
    future = (seed.NOW.date() + timedelta(days=1)).isoformat()
    assert post(north, f"/children/{B1}/casework/reviews", held_on=future) == 422


def test_a_refused_change_leaves_no_change_row(ctx: Context, recorded: TestClient) -> None:
    def changes() -> int:
        return sum(r["action"] == "change_casework" for r in audit_rows(ctx.audit_db))

    before = changes()
    assert post(recorded, f"/children/{A1}/casework/lead", notes="x" * 1001) == 422
    assert changes() == before  # nothing changed, so nothing is recorded as changed
    assert post(recorded, f"/children/{A1}/casework/lead", lead_name="Pat Lee") == 303
    assert changes() == before + 1
