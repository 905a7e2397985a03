"""The dashboard as a process beside the stack's services, for the demo and `flagstream up`."""

from __future__ import annotations

from pathlib import Path

from flagstream_tools.broker import wait_for_port
from flagstream_tools.demo.stack import Stack
from flagstream_tools.processes import ServiceProcess


def start_dashboard_process(
    stack: Stack,
    port: int,
    users_file: Path,
    secret: str,
    ingest_url: str,
    timeout: float,
    secure_cookies: str = "false",  # plain HTTP on loopback
    supervised: bool = False,
) -> ServiceProcess:
    """Start `flagstream dashboard` on `port` with the stack's settings, its users file, the
    session-signing secret, the ingest URL it sends outcomes to and the work folder's audit
    database; wait until it answers (else RuntimeError with its log's end). Supervised, it
    is among the stack's services from the start (restarted if it crashes, stopped with the
    rest); else it is stopped if it never answers."""
    env = {
        **stack.env(),
        "FLAGSTREAM_DASHBOARD_PORT": str(port),
        "FLAGSTREAM_DASHBOARD_USERS_FILE": str(users_file),
        "FLAGSTREAM_DASHBOARD_SECRET": secret,
        "FLAGSTREAM_DASHBOARD_INGEST_URL": ingest_url,
        "FLAGSTREAM_DASHBOARD_AUDIT_DATABASE_URL": f"sqlite:///{stack.workdir / 'audit.db'}",
        "FLAGSTREAM_DASHBOARD_SECURE_COOKIES": secure_cookies,
    }
    log = stack.workdir / "logs" / "dashboard.log"
    process = ServiceProcess(["dashboard"], env, log).start()
    if supervised:
        stack.services["dashboard"] = process
    try:
        wait_for_port("127.0.0.1", port, timeout, "dashboard")
    except TimeoutError as exc:
        if not supervised:
            process.stop()
        raise RuntimeError(f"{exc}\n{process.tail()}") from exc
    return process
