"""The demo's live part: the dashboard with a login per role, and simulated days streaming in."""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from dashboard.users import DemoUser
from flagstream_tools.broker import free_port
from flagstream_tools.demo.dashboard_process import start_dashboard_process
from flagstream_tools.demo.mail_catcher import MailCatcher
from flagstream_tools.demo.stack import Stack
from flagstream_tools.generator import County
from flagstream_tools.processes import ServiceProcess


@dataclass(frozen=True, slots=True)
class Dashboard:
    """The running dashboard and the demo logins it accepts."""

    process: ServiceProcess
    url: str
    logins: Sequence[tuple[str, str, str, str | None]]  # role, user name, password, scope
    mail: str = ""  # where the notifier's emails go, for the console

    def describe(self) -> str:
        """The URL and a login per role, for the console."""
        lines = [f"  dashboard    {self.url}  (demo logins below; passwords change every run)"]
        lines += [
            f"    {role:<10} {user:<22} {password:<18} {scope or 'all'}"
            for role, user, password, scope in self.logins
        ]
        if self.mail:
            lines.append(f"  notifier     emails to {self.mail}; inboxes on the dashboard")
        return "\n".join(lines)


def start_dashboard(
    stack: Stack, county: County, workdir: Path, timeout: float = 60.0
) -> Dashboard:
    """Start `flagstream dashboard` on a free port, with demo users for the county."""
    from dashboard.users import write_demo_users
    from flagstream_tools.demo.users import demo_users

    users = demo_users(county)
    users_file = workdir / "dashboard-users.json"
    write_demo_users(users_file, users)  # owner-only, as every users file
    port = free_port()
    process = start_dashboard_process(
        stack, port, users_file, secrets.token_hex(32), stack.ingest_url, timeout
    )
    logins = [(u.role, u.username, u.password, u.scope) for u in users]
    url = f"http://127.0.0.1:{port}"
    # The notifier: to FLAGSTREAM_SMTP_HOST if set, else to a mail catcher writing mail/.
    _opt_in(stack, users)
    if os.environ.get("FLAGSTREAM_SMTP_HOST"):
        stack.start_notifier(users_file, url)
        mail = f"the SMTP server {os.environ['FLAGSTREAM_SMTP_HOST']} (FLAGSTREAM_SMTP_*)"
    else:
        catcher = MailCatcher(workdir / "mail").start()
        ops = {"FLAGSTREAM_NOTIFIER_OPERATIONS_EMAIL": "operations@council.example.invalid"}
        stack.start_notifier(users_file, url, {**catcher.env(), **ops})
        mail = f"the demo's mail catcher: read them in {workdir / 'mail'}/*.eml"
    return Dashboard(process, url, logins, mail)


def _opt_in(stack: Stack, users: Sequence[DemoUser]) -> None:
    """The demo's logins choose every email their role may (a council's staff choose on
    /preferences), so the mail folder shows digests as the simulated days pass."""
    from flagstream import alerts
    from flagstream.alerts_database import prepare
    from flagstream.engine import make_engine

    engine = make_engine(stack.env()["FLAGSTREAM_ALERTS_DATABASE_URL"])
    try:
        prepare(engine)
        with engine.begin() as conn:
            for u in users:
                chosen = alerts.Prefs(
                    daily_school=u.role in ("school", "dsl"), weekly_zone=u.role == "zone"
                )
                alerts.set_prefs(conn, u.username, chosen, datetime.now(UTC))
    finally:
        engine.dispose()


def stream(
    days: Sequence[tuple[date | None, Callable[[], str]]],
    seconds: float,
    say: Callable[[str], None],
    today: Callable[[], date],
) -> None:
    """Send one more simulated school day every `seconds` until the days run out, the next
    is after today (ingest would refuse its records) or Ctrl-C."""
    for n, (day, send_day) in enumerate(days, 1):
        if day is not None and day > (now := today()):
            say(
                f"live day {n}/{len(days)} is {day}, after today ({now}): ingest would refuse "
                "its records, so no more simulated days; the stack stays up until Ctrl-C"
            )
            return
        started = time.monotonic()
        say(f"live day {n}/{len(days)}: {send_day()}")
        time.sleep(max(0.0, seconds - (time.monotonic() - started)))
    say("no more simulated days; the stack stays up until Ctrl-C")
