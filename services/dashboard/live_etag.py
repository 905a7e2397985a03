"""The validator of the live table fragment, so a page or client polling it is answered
304 Not Modified - a few one-row reads instead of the table - while nothing changed."""

from __future__ import annotations

import hashlib

from fastapi import Request

from readmodel import changes

from . import staleness
from .authz import Principal
from .context import Context


def table_etag(ctx: Context, who: Principal, request: Request) -> str:
    """A weak ETag: the read model's version, the viewer (what they may see), the query and
    the staleness banner, hashed so none of it is readable from the tag."""
    with ctx.read() as conn:
        seq = changes.version(conn).seq
        banner = staleness.banner(conn, ctx.clock()) or ""
    parts = (str(seq), who.username, who.role, who.scope or "", request.url.query, banner)
    return 'W/"' + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32] + '"'


def matches(request: Request, tag: str) -> bool:
    """Whether the request's If-None-Match names this tag (or is `*`)."""
    given = request.headers.get("if-none-match", "")
    return any(t.strip() in (tag, "*") for t in given.split(",")) if given else False
