"""The OpenAPI document of the Connect JSON endpoints, served at GET /openapi.json.

The document is package data (gateway/connect/openapi.json), generated from the protos by
tools/connect_openapi.py (`make generate`; docs/openapi.md), never edited by hand. `OpenApi` is an
ASGI middleware of the HTTP port that answers GET and HEAD of /openapi.json with it, as it is, and
passes every other request on: a client generator or a person fetches the contract of the very
gateway they call, behind the same CORS rules as the calls themselves.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from functools import cache
from importlib.resources import files
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

OPENAPI_PATH = "/openapi.json"
"""Where the HTTP port serves the document."""

CACHE_SECONDS = 300
"""How long a client or proxy may keep the document: it changes only with the gateway."""


@cache
def openapi_document() -> bytes:
    """The document's bytes (UTF-8 JSON), read from the installed package once."""
    return files(__package__).joinpath("openapi.json").read_bytes()


class OpenApi:
    """ASGI middleware: GET or HEAD /openapi.json answers the document; any other method on it
    405 with `allow`; every other path goes to `app`."""

    def __init__(self, app: App) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != OPENAPI_PATH:
            await self._app(scope, receive, send)
            return
        if scope["method"] not in ("GET", "HEAD"):
            await _answer(send, 405, b"text/plain; charset=utf-8", b"use GET\n", allow=True)
            return
        body = openapi_document()
        await _answer(send, 200, b"application/json", body, head=scope["method"] == "HEAD")


async def _answer(
    send: Send,
    status: int,
    content_type: bytes,
    body: bytes,
    *,
    head: bool = False,
    allow: bool = False,
) -> None:
    headers = [
        (b"content-type", content_type),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", f"public, max-age={CACHE_SECONDS}".encode()),
    ]
    if allow:
        headers.append((b"allow", b"GET, HEAD"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if head else body})
