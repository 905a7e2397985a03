"""A real OpenID provider for the council sign-in tests: tests/oidc/provider.js (the npm
package oidc-provider) in a child process, and a way through its sign-in form without a
browser (its own development login form, posted as a browser would)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import pytest

HERE = Path(__file__).resolve().parent
SECRET = "flagstream-test-client-secret-0123456789"


@dataclass(frozen=True)
class Provider:
    issuer: str


def require_provider() -> str:
    """The node binary, or skip saying how to install what is missing."""
    node = shutil.which("node")
    if node is None or not (HERE / "node_modules" / "oidc-provider").is_dir():
        pytest.skip(
            "council sign-in tests skipped: the OpenID provider is not installed - run "
            "`make oidc` (npm ci in tests/oidc; needs node >= 20 and npm)"
        )
    return node


@contextmanager
def provider(
    workdir: Path, clients: list[dict[str, Any]], accounts: dict[str, dict[str, Any]]
) -> Iterator[Provider]:
    """Start provider.js with these clients and accounts; stopped on exit."""
    node = require_provider()
    config = workdir / "oidc-provider.json"
    config.write_text(json.dumps({"clients": clients, "accounts": accounts}))
    proc = subprocess.Popen(
        [node, str(HERE / "provider.js"), str(config)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=HERE,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the OpenID provider did not start (exit {proc.wait(5)})")
        yield Provider(json.loads(line)["issuer"])
    finally:
        if proc.stdin is not None:
            proc.stdin.close()  # provider.js exits when its stdin closes
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def client(client_id: str, redirect: str) -> dict[str, Any]:
    return {"client_id": client_id, "client_secret": SECRET, "redirect_uris": [redirect]}


def sign_in_at_provider(authorize_url: str, login: str, redirect_prefix: str) -> str:
    """Fill the provider's login form as a browser would; returns the URL it sends the
    browser back to (the relying party's callback with code and state)."""
    with httpx.Client(timeout=10) as browser:
        url = authorize_url
        for _ in range(12):
            reply = browser.get(url)
            if reply.status_code in (302, 303):
                url = urljoin(url, reply.headers["location"])
                if url.startswith(redirect_prefix):
                    return url
                continue
            form = re.search(r'<form[^>]*action="([^"]+)"', reply.text)
            assert form, f"no form at the provider: {reply.status_code} {reply.text[:300]}"
            posted = browser.post(
                urljoin(url, form.group(1)),
                data={"prompt": "login", "login": login, "password": "any"},
            )
            assert posted.status_code in (302, 303), posted.text[:300]
            url = urljoin(url, posted.headers["location"])
            if url.startswith(redirect_prefix):
                return url
        raise AssertionError("the provider never sent the browser back")


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
