"""Every dashboard route is declared here with what it takes and whether it carries children's
rows. A route that names a school, zone or child answers an out-of-scope viewer exactly as it
answers for one that does not exist, and leaves a `denied` audit row either way; every
in-scope response with children's rows (and every sign-in, sign-out and outcome) leaves its
audit row. A new route missing from the inventory fails the first test."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.routing import BaseRoute, Mount

from dashboard.app import create_app
from dashboard.context import Context
from tests.browser import seed
from tests.unit.test_dashboard import audit_rows, client_for, csrf_of, seeded_context

A1, _A2, _A3, _B1, C1 = (c[0] for c in seed.CHILDREN)
Takes = Literal["urn", "zone", "child", "none"]


@dataclass(frozen=True, slots=True)
class Route:
    takes: Takes
    child_rows: bool  # the response carries children's rows (or one child's record)
    audit: str | None  # the audit action an allowed call writes


INVENTORY: dict[tuple[str, str], Route] = {
    ("GET", "/"): Route("none", False, None),  # counts only
    ("GET", "/zones/{zone}"): Route("zone", False, None),  # counts per school only
    ("GET", "/schools/{urn}"): Route("urn", True, "view_school_list"),
    ("GET", "/schools/{urn}/table"): Route("urn", True, "live_school_list"),
    # The stream's opening is audited; each push of rows writes live_school_rows per page.
    ("GET", "/live/schools/{urn}"): Route("urn", True, "live_school_stream"),
    ("GET", "/live/zones/{zone}"): Route("zone", False, None),  # counts per school only
    ("GET", "/schools/{urn}/huddle"): Route("urn", True, "huddle"),
    ("GET", "/schools/{urn}/huddle.csv"): Route("urn", True, "export_csv"),
    ("GET", "/schools/{urn}/absence"): Route("urn", True, "view_absence_lists"),
    ("POST", "/schools/{urn}/huddle"): Route("urn", False, None),  # record_huddle: its test
    ("GET", "/children/{child_key}"): Route("child", True, "view_child"),
    ("GET", "/children/{child_key}/outcomes"): Route("child", True, "live_outcomes"),
    ("POST", "/children/{child_key}/outcomes"): Route("child", False, "record_outcome"),
    ("GET", "/audit"): Route("none", False, "view_audit"),
    # Case work (DSL of the current school, zone users of its zone): the forms' changes are
    # audited as change_casework (tests/unit/test_casework_pages.py), the lists as below.
    ("POST", "/children/{child_key}/casework/lead"): Route("child", False, None),
    ("POST", "/children/{child_key}/casework/actions"): Route("child", False, None),
    ("POST", "/children/{child_key}/casework/actions/{action_id}"): Route("child", False, None),
    ("POST", "/children/{child_key}/casework/reviews"): Route("child", False, None),
    ("GET", "/zones/{zone}/reviews"): Route("zone", True, "view_casework_reviews"),
    ("GET", "/schools/{urn}/reviews"): Route("urn", True, "view_casework_reviews"),
    # Evidence of outcomes: aggregates only (no child rows), every view audited.
    ("GET", "/evidence"): Route("none", False, "view_evidence"),
    # Children not yet in school (docs/families.md): county roles only.
    ("GET", "/early_years"): Route("none", True, "view_early_years"),
    ("GET", "/evidence/zones/{zone}"): Route("zone", False, "view_evidence"),
    ("GET", "/evidence/schools/{urn}"): Route("urn", False, "view_evidence"),
    # The user's own messages: links to children, never their rows (the child page checks).
    ("GET", "/inbox"): Route("none", False, "view_inbox"),
    ("POST", "/inbox/{message_id}/read"): Route("none", False, None),
    ("GET", "/preferences"): Route("none", False, None),
    ("POST", "/preferences"): Route("none", False, None),
    ("GET", "/login"): Route("none", False, None),
    ("POST", "/login"): Route("none", False, "sign_in"),
    ("POST", "/logout"): Route("none", False, "sign_out"),
    ("GET", "/healthz"): Route("none", False, None),
    ("MOUNT", "/static"): Route("none", False, None),  # the stylesheet and live.js
}

# (viewer, a real thing outside their scope) per kind, and a thing that does not exist.
OUT_OF_SCOPE: dict[Takes, list[tuple[str, str]]] = {
    "urn": [("other", "100001"), ("north", "200001"), ("staff", "100002")],
    "child": [("other", A1), ("north", C1), ("staff", C1)],
    "zone": [("north", "South Zone"), ("staff", "North Zone")],
}
ABSENT: dict[Takes, str] = {"urn": "999999", "child": "ff" * 32, "zone": "Nowhere Zone"}
IN_SCOPE: dict[Takes, tuple[str, str]] = {
    "urn": ("staff", "100001"),
    "child": ("staff", A1),
    "zone": ("north", "North Zone"),
    "none": ("root", ""),
}
# Routes whose in-scope viewer is not the kind's default (case work: the school's DSL).
IN_SCOPE_VIEWER: dict[tuple[str, str], str] = {("GET", "/schools/{urn}/reviews"): "dsl"}
PLACEHOLDER: dict[Takes, str] = {"urn": "{urn}", "child": "{child_key}", "zone": "{zone}"}


def walk(routes: list[BaseRoute], prefix: str = "") -> Iterator[tuple[str, str]]:
    """(method, path) of every route, included routers opened (FastAPI nests them)."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from walk(inner.routes, prefix + route.include_context.prefix)  # type: ignore[attr-defined]
        elif isinstance(route, Mount):
            yield ("MOUNT", prefix + route.path)
        else:
            for method in sorted(getattr(route, "methods", None) or ()):
                yield (method, prefix + route.path)  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Context]:
    # Streams end at once here (the test client reads a response to its end).
    built = seeded_context(
        tmp_path_factory.mktemp("inventory"), clock=lambda: seed.NOW, live_stream_seconds=0.0
    )
    yield built
    for engine in (built.read_model, built.identity_db, built.audit_db):
        if engine is not None:
            engine.dispose()


@pytest.fixture(scope="module")
def app(ctx: Context) -> FastAPI:
    return create_app(ctx, "s" * 40)


def test_every_route_is_in_the_inventory(app: FastAPI) -> None:
    found = set(walk(app.routes))
    assert found - set(INVENTORY) == set(), "add the new route to INVENTORY"
    assert set(INVENTORY) - found == set(), "remove the gone route from INVENTORY"


def test_every_route_with_child_rows_is_audited() -> None:
    assert [key for key, r in INVENTORY.items() if r.child_rows and r.audit is None] == []


def call(client: TestClient, method: str, path: str) -> Any:
    if method == "GET":
        return client.get(path, follow_redirects=False)
    form = {
        "response": "1:1",
        "status": "Some progress",
        "recorded_on": "2026-10-01",
        "event_id": str(uuid.uuid4()),
        "csrf_token": csrf_of(client.get("/login").text),
    }
    return client.post(path, data=form, follow_redirects=False)


SCOPED = [
    (method, path, viewer, thing)
    for (method, path), route in INVENTORY.items()
    if route.takes != "none"
    for viewer, thing in OUT_OF_SCOPE[route.takes]
]


@pytest.mark.parametrize(("method", "path", "viewer", "thing"), SCOPED)
def test_out_of_scope_answers_exactly_like_absent_and_is_audited(
    ctx: Context, method: str, path: str, viewer: str, thing: str
) -> None:
    takes = INVENTORY[(method, path)].takes
    client = client_for(ctx, viewer)
    before = len(audit_rows(ctx.audit_db))
    real = call(client, method, path.replace(PLACEHOLDER[takes], thing))
    absent = call(client, method, path.replace(PLACEHOLDER[takes], ABSENT[takes]))
    assert (real.status_code, absent.status_code) == (403, 403)
    assert real.text == absent.text  # indistinguishable from absent
    assert real.headers.get("content-type") == absent.headers.get("content-type")
    denied = [r for r in audit_rows(ctx.audit_db)[before:] if r["action"] == "denied"]
    assert [r["username"] for r in denied] == [viewer, viewer]
    asked = [r["urn"] if takes == "urn" else r["child_key"] for r in denied]
    if takes != "zone":
        assert asked == [thing, ABSENT[takes]]
    assert denied[0]["page"] == path.replace(PLACEHOLDER[takes], thing)


AUDITED = [(m, p) for (m, p), r in INVENTORY.items() if r.audit and p not in ("/login", "/logout")]


@pytest.mark.parametrize(("method", "path"), AUDITED)
def test_every_allowed_call_with_child_rows_leaves_its_audit_row(
    ctx: Context, method: str, path: str
) -> None:
    route = INVENTORY[(method, path)]
    viewer, thing = IN_SCOPE[route.takes]
    viewer = IN_SCOPE_VIEWER.get((method, path), viewer)
    client = client_for(ctx, viewer)
    before = len(audit_rows(ctx.audit_db))
    target = path.replace(PLACEHOLDER.get(route.takes, "-"), thing)
    assert call(client, method, target).status_code in (200, 303)
    rows = [r for r in audit_rows(ctx.audit_db)[before:] if r["action"] == route.audit]
    assert len(rows) == 1, audit_rows(ctx.audit_db)[before:]
    assert (rows[0]["username"], rows[0]["page"]) == (viewer, target)
    if route.takes == "urn":
        assert rows[0]["urn"] == thing and rows[0]["rows"] is not None
    if route.takes == "child":
        assert (rows[0]["child_key"], rows[0]["urn"]) == (thing, "100001")


def test_sign_in_and_sign_out_leave_audit_rows(ctx: Context) -> None:
    client = TestClient(create_app(ctx, "s" * 40), base_url="https://testserver")
    before = len(audit_rows(ctx.audit_db))
    token = csrf_of(client.get("/login").text)
    data = {"username": "boss", "password": seed.PASSWORD, "csrf_token": token}
    assert client.post("/login", data=data, follow_redirects=False).status_code == 303
    token = csrf_of(client.get("/login").text)
    assert client.post("/logout", data={"csrf_token": token}, follow_redirects=False).is_redirect
    actions = [(r["action"], r["page"]) for r in audit_rows(ctx.audit_db)[before:]]
    assert actions == [("sign_in", "/login"), ("sign_out", "/logout")]
