"""The dashboard stage's signed-in users, run as their own process so the clients and the
dashboard are measured as two programs sharing the machine's two cores (bench/dashboard.py).

Each user signs in with httpx and keeps one page open: an event stream (`stream` mode,
recording for every row it is sent the time since the projector's commit carrying it) or
the old 3-second poll of the table fragment (`poll` mode, recording each request). It reads
a JSON spec from BENCH_LIVE_SPEC, writes READY beside it once every page is open, stops when
STOP appears (or at its deadline) and writes its samples to the spec's `result` path."""

from __future__ import annotations

import asyncio
import json
import os
import re
import time
from pathlib import Path
from typing import Any

import httpx

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


async def _sign_in(client: httpx.AsyncClient, username: str, password: str) -> None:
    page = await client.get("/login")
    token = _CSRF.search(page.text)
    assert token, "no CSRF field on the login page"
    data = {"username": username, "password": password, "csrf_token": token.group(1)}
    reply = await client.post("/login", data=data)
    if reply.status_code not in (200, 303):
        raise RuntimeError(f"sign-in of {username} answered {reply.status_code}")


async def _stream(client: httpx.AsyncClient, path: str, out: list[Any], opened: Any) -> None:
    async with client.stream("GET", path, timeout=None) as reply:
        if reply.status_code != 200:
            raise RuntimeError(f"{path} answered {reply.status_code}")
        async for line in reply.aiter_lines():
            if line.startswith("retry:"):
                opened.set()
            elif line.startswith("data: "):
                now = time.time()
                data = json.loads(line[6:])
                for key, at in data.get("at", {}).items():
                    out.append([path, key, now - at])


async def _poll(
    client: httpx.AsyncClient, who: str, path: str, out: list[Any], stop: float
) -> None:
    while time.time() < stop:
        started = time.time()
        reply = await client.get(path)
        ended = time.time()
        out.append([who, path, started, ended, reply.status_code])
        await asyncio.sleep(max(0.0, 3.0 - (ended - started)))


async def _user(spec: dict[str, Any], user: dict[str, str], out: list[Any], ready: Any) -> None:
    async with httpx.AsyncClient(base_url=spec["url"], timeout=60) as client:
        async with spec["gate"]:
            await _sign_in(client, user["username"], user["password"])
        if spec["mode"] == "stream":
            opened = asyncio.Event()
            task = asyncio.create_task(_stream(client, user["stream"], out, opened))
            await asyncio.wait_for(opened.wait(), 60)
            ready()
            await task
        else:
            ready()
            await _poll(client, user["username"], user["table"], out, spec["deadline"])


async def _main(spec: dict[str, Any]) -> dict[str, Any]:
    spec["gate"] = asyncio.Semaphore(16)  # sign-ins a few at a time, as staff arrive
    spec["deadline"] = time.time() + float(spec["seconds"])
    folder = Path(spec["result"]).parent
    samples: list[Any] = []
    opened = [0]

    def ready() -> None:
        opened[0] += 1
        if opened[0] == len(spec["users"]):
            (folder / "READY").write_text(str(time.time()))

    tasks = [asyncio.create_task(_user(spec, u, samples, ready)) for u in spec["users"]]
    while time.time() < spec["deadline"] and not (folder / "STOP").exists():
        failed = [t for t in tasks if t.done() and t.exception() is not None]
        if failed:
            raise RuntimeError(f"a bench user failed: {failed[0].exception()!r}")
        await asyncio.sleep(0.1)
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return {"mode": spec["mode"], "opened": opened[0], "samples": samples}


def main() -> None:
    spec_path = Path(os.environ["BENCH_LIVE_SPEC"])
    spec = json.loads(spec_path.read_text())
    result = asyncio.run(_main(spec))
    Path(spec["result"]).write_text(json.dumps(result))


if __name__ == "__main__":
    main()
