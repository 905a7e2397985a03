"""The real stack (broker, ingest, flagger, projector) with a generated county, the dashboard
served by uvicorn in a thread, and Debian's chromium driven headless by Playwright."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from dashboard.app import create_app
from dashboard.audit import create_audit_schema
from dashboard.context import Context
from dashboard.outcomes import IngestOutcomeSender
from dashboard.users import DemoUser, load_users, write_demo_users
from flagstream_tools.broker import free_port, wait_for_port
from flagstream_tools.demo.sender import send_child_events, send_reference, send_registers
from flagstream_tools.demo.stack import Stack
from flagstream_tools.demo.users import demo_users
from flagstream_tools.generator import make_county
from flagstream_tools.generator.model import County, Register
from flagstream_tools.generator.sources import timeline
from projector.writer import stored_offsets
from readmodel.db import make_engine

CHROMIUM = Path("/usr/bin/chromium")
START = date(2025, 9, 8)  # in the past: ingest refuses dates after tomorrow


@dataclass
class Dashboard:
    url: str
    county: County
    logins: dict[str, DemoUser]  # by role
    ctx: Context
    stack: Stack


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    if not CHROMIUM.exists():
        pytest.skip(
            "browser tests skipped: Debian's chromium is not at /usr/bin/chromium - install it "
            "with `apt-get install -y chromium` (`make test` does this)"
        )
    return CHROMIUM


@pytest.fixture(scope="module")
def dashboard(chromium_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    workdir = tmp_path_factory.mktemp("dashstack")
    county = make_county("tiny", seed=11)
    items = list(timeline(county, START, 12, seed=11))
    with Stack(workdir, partitions=2) as stack:
        with httpx.Client(base_url=stack.ingest_url, timeout=60) as client:
            assert send_reference(client, county)[1] == 0
            send_child_events(client, items)
            send_registers(client, [i for i in items if isinstance(i, Register)])
        read_model = make_engine(stack.database_url)

        def projected() -> dict[tuple[str, int], int]:
            with read_model.connect() as conn:
                return stored_offsets(conn)

        stack.wait_caught_up(projected, timeout=120)
        logins = demo_users(county, seed=1)
        write_demo_users(workdir / "users.json", logins)
        audit_db = make_engine(f"sqlite:///{workdir / 'audit.db'}")
        create_audit_schema(audit_db)
        sender = IngestOutcomeSender(stack.ingest_url)
        ctx = Context(
            read_model=read_model,
            audit_db=audit_db,
            users=load_users(workdir / "users.json"),
            sender=sender,
            identity_db=make_engine(stack.env()["FLAGSTREAM_IDENTITY_DATABASE_URL"]),
            live_interval_ms=1000,
        )
        port = free_port()
        server = uvicorn.Server(
            uvicorn.Config(
                create_app(ctx, "k" * 40, secure_cookies=False),
                host="127.0.0.1",
                port=port,
                log_level="warning",
            )
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        try:
            wait_for_port("127.0.0.1", port, 20, "dashboard")
            yield Dashboard(
                f"http://127.0.0.1:{port}", county, {u.role: u for u in logins}, ctx, stack
            )
        finally:
            server.should_exit = True
            thread.join(10)
            sender.close()


@pytest.fixture(scope="module")
def browser(chromium_path: Path) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(chromium_path), args=["--no-sandbox"])
        yield b
        b.close()


def shot(page: Any, name: str, full_page: bool = True) -> None:
    """Save a screenshot for the docs when FLAGSTREAM_SCREENSHOTS_DIR is set."""
    folder = os.environ.get("FLAGSTREAM_SCREENSHOTS_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=full_page)
