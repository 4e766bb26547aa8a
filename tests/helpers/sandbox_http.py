"""Helpers shared by the sandbox tests (no tests here): small clients and a feed server (the
hand-driven clock is tests.helpers.clock.FakeTime)."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from sofer_sandbox import SandboxServer

# Built once: a default httpx client loads the CA bundle each time (~80 ms), and these clients
# only ever speak plain HTTP to loopback.
SSL_CONTEXT = ssl.create_default_context()
TOKEN = "tenant-a-token"
OTHER_TOKEN = "tenant-b-token"


def client(server: SandboxServer, token: str | None = TOKEN) -> httpx.AsyncClient:
    """An AsyncClient on the sandbox, authenticated as `token` (None: no Authorization)."""
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return httpx.AsyncClient(base_url=server.url, headers=headers, timeout=10.0, verify=SSL_CONTEXT)


def express_body(*urls: str, **extra: Any) -> dict[str, Any]:
    """An express create-batch body for `urls` (extra top-level fields merged in)."""
    return {
        "processing_mode": "express",
        "info": extra.pop("info", {}),
        "audio_sources": [{"audio_url": url} for url in urls],
        **extra,
    }


async def create_express(http: httpx.AsyncClient, *urls: str, **extra: Any) -> dict[str, Any]:
    """Create an express batch and return its JSON answer (asserting 200)."""
    response = await http.post("/v1/transcriptions/batch", json=express_body(*urls, **extra))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def upload_json(http: httpx.AsyncClient, items: list[Any], **extra: Any) -> dict[str, Any]:
    """Upload a JSON manifest and return its JSON answer (asserting 200)."""
    body = {"content_type": "json", "json_items": items, **extra}
    response = await http.post("/v1/transcriptions/batch-files", json=body)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


Routes = dict[str, tuple[int, bytes]]


@asynccontextmanager
async def feed_server(routes: Routes) -> AsyncIterator[str]:
    """A minimal HTTP/1.0 server on 127.0.0.1, port 0, answering `routes`; yields its base URL."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = await reader.readuntil(b"\r\n\r\n")
        path = request.split(b" ", 2)[1].decode()
        status, body = routes.get(path, (404, b"not found"))
        head = f"HTTP/1.0 {status} X\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        writer.write(head.encode() + body)
        await writer.drain()
        writer.close()
        await writer.wait_closed()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()
        await server.wait_closed()


def rss(items: list[str], title: str = "Weekly Parsha") -> bytes:
    """An RSS 2.0 document with `items` (raw <item> XML) in its channel."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
        f"<title>{title}</title>{''.join(items)}</channel></rss>"
    ).encode()


def episode(n: int, *, guid: bool = True, mime: str = "audio/mpeg", ext: str = "mp3") -> str:
    """One <item> with an enclosure."""
    return (
        f"<item><title>Episode {n}</title>"
        + (f"<guid>ep-{n}</guid>" if guid else "")
        + f'<enclosure url="https://cdn.example.com/{n}.{ext}" type="{mime}" length="1"/></item>'
    )


async def set_balance(url: str, cents: int, token: str = TOKEN) -> None:
    """Set the total balance of `token`'s account on the sandbox at `url` (its admin API)."""
    async with httpx.AsyncClient(base_url=url, timeout=10.0, verify=SSL_CONTEXT) as http:
        response = await http.post(
            "/_sandbox/balance",
            json={"total_balance": cents},
            headers={"authorization": f"Bearer {token}"},
        )
    response.raise_for_status()


async def audio_seconds(url: str, audio_url: str, token: str = TOKEN) -> float:
    """What the sandbox at `url` says the audio at `audio_url` lasts (POST /v1/utils/duration)."""
    async with httpx.AsyncClient(base_url=url, timeout=10.0, verify=SSL_CONTEXT) as http:
        response = await http.post(
            "/v1/utils/duration",
            json={"audio_url": audio_url},
            headers={"authorization": f"Bearer {token}"},
        )
    response.raise_for_status()
    seconds: float = response.json()["duration_seconds"]
    return seconds
