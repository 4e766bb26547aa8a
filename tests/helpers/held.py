"""An HTTP proxy in front of the sandbox that holds chosen requests until the test lets them go
(no tests here).

A test of what callers see while upstream calls are in flight (the concurrency limit full, a
shared read still running, a create cut short) needs those calls to stay in flight exactly as
long as the test says, not for a number of real seconds guessed to be enough on a loaded
machine: `held_upstream(sandbox.url, hold)` serves a proxy on 127.0.0.1, port 0, whose requests
that `hold` matches wait until `hold.release()` before they go on to the sandbox (which acts and
answers as usual); every other request passes at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import uvicorn

_HOP_BY_HOP = {"connection", "content-length", "content-encoding", "transfer-encoding", "host"}


class Hold:
    """Which requests the proxy holds, and the test's hand on them: requests of `method` (any
    when None) whose path starts with `path_prefix`, the first `count` of them (all when None),
    while `armed` (a test may arm it after its set-up calls went through)."""

    def __init__(
        self,
        *,
        method: str | None = None,
        path_prefix: str = "/v1/",
        count: int | None = None,
        armed: bool = True,
    ) -> None:
        self.method = method
        self.path_prefix = path_prefix
        self.count = count
        self.armed = armed
        self.held = 0
        """Requests held so far (released ones included)."""
        self._released = asyncio.Event()
        self._arrived = asyncio.Event()

    def takes(self, method: str, path: str) -> bool:
        """Whether a request is to be held (counting it when it is)."""
        if not self.armed or self._released.is_set():
            return False
        if self.method not in (None, method) or not path.startswith(self.path_prefix):
            return False
        if self.count is not None and self.held >= self.count:
            return False
        self.held += 1
        self._arrived.set()
        return True

    async def wait(self) -> None:
        """Hold a request until `release()`."""
        await self._released.wait()

    async def until_held(self, n: int, *, within: float = 20.0) -> None:
        """Wait until `n` requests are held (AssertionError after `within` seconds)."""
        try:
            async with asyncio.timeout(within):
                while self.held < n:
                    self._arrived.clear()
                    await self._arrived.wait()
        except TimeoutError:
            raise AssertionError(f"{self.held} requests held after {within} s, not {n}") from None

    def release(self) -> None:
        """Let every held request (and any later one) go on to the sandbox."""
        self._released.set()


class _Server(uvicorn.Server):
    """uvicorn in the test's event loop, leaving signals to pytest."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _proxy(upstream: httpx.AsyncClient, hold: Hold) -> Any:
    """The ASGI app: forward each request to `upstream`, after `hold` lets it go."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        method, path = scope["method"], scope["path"]
        if hold.takes(method, path):
            await hold.wait()
        query = scope["query_string"].decode("latin-1")
        headers = [
            (k.decode("latin-1"), v.decode("latin-1"))
            for k, v in scope["headers"]
            if k.decode("latin-1").lower() not in _HOP_BY_HOP
        ]
        answer = await upstream.request(
            method, path + (f"?{query}" if query else ""), headers=headers, content=body
        )
        content = answer.content
        out = [
            (k.encode("latin-1"), v.encode("latin-1"))
            for k, v in answer.headers.items()
            if k.lower() not in _HOP_BY_HOP
        ]
        out.append((b"content-length", str(len(content)).encode()))
        await send({"type": "http.response.start", "status": answer.status_code, "headers": out})
        await send({"type": "http.response.body", "body": content})

    return app


@asynccontextmanager
async def held_upstream(url: str, hold: Hold) -> AsyncIterator[str]:
    """A proxy in front of `url` holding what `hold` takes; yields the proxy's base URL. On
    exit the hold is released, so no request is left waiting."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
    async with httpx.AsyncClient(base_url=url, timeout=60.0, limits=limits) as upstream:
        config = uvicorn.Config(
            _proxy(upstream, hold),
            http="h11",
            ws="none",
            lifespan="off",
            log_config=None,
            access_log=False,
            timeout_graceful_shutdown=2,
        )
        server = _Server(config)
        task = asyncio.create_task(server.serve(sockets=[sock]), name="held-upstream")
        try:
            while not server.started:
                if task.done():
                    await task
                    raise RuntimeError("the proxy stopped before it started")
                await asyncio.sleep(0.01)
            yield f"http://127.0.0.1:{port}"
        finally:
            hold.release()
            server.should_exit = True
            await task
            sock.close()
