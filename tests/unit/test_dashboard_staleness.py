"""The banner: on every page and on the live table while the read model is rebuilding, or
when the projector has not checked it for two minutes; gone once it is complete again."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import delete

from dashboard.context import Context
from readmodel.status import write_status as _write
from readmodel.tables import read_model_status
from tests.browser import seed

from .test_dashboard import client_for, seeded_context

PAGES = ("/", "/zones/North Zone", "/schools/100001", "/schools/100001/table")


def _status(ctx: Context, **values: object) -> None:
    with ctx.read_model.begin() as conn:
        conn.execute(delete(read_model_status))
        _write(conn, log_topics={}, **values)


def test_banner_while_rebuilding_or_unchecked_and_not_when_current(tmp_path: Path) -> None:
    ctx = seeded_context(tmp_path, clock=lambda: seed.NOW)
    client = client_for(ctx, "boss")
    pages = [p for p in PAGES if client.get(p).status_code == 200]
    assert "/schools/100001/table" in pages and "/" in pages
    for path in pages:
        assert 'data-stale="true"' not in client.get(path).text  # no status row: as before

    _status(ctx, state="rebuilding", since=seed.NOW, detail="log reset: topics recreated",
            checked_at=seed.NOW)  # fmt: skip
    for path in pages:
        text = client.get(path).text
        assert 'data-stale="true"' in text and "being rebuilt" in text, path
    exported = client.get("/schools/100001/huddle.csv")
    first = exported.text.splitlines()[0]
    assert first.startswith("WARNING: The data is being rebuilt") and "incomplete" in first
    assert exported.headers["X-Flagstream-Data-Warning"] == "stale"
    assert exported.text.splitlines()[1].startswith("Group,")

    _status(ctx, state="current", since=seed.NOW, detail="", checked_at=seed.NOW)
    for path in pages:
        assert 'data-stale="true"' not in client.get(path).text, path
    exported = client.get("/schools/100001/huddle.csv")
    assert (
        exported.text.startswith("Group,") and "X-Flagstream-Data-Warning" not in exported.headers
    )

    _status(ctx, state="current", since=seed.NOW, detail="",
            checked_at=seed.NOW - timedelta(minutes=5))  # fmt: skip
    assert "projector may be down" in client.get("/").text
