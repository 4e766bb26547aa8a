"""SandboxServer: the sandbox app served by uvicorn inside the running event loop."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterator
from types import TracebackType
from typing import Self

import uvicorn
from starlette.applications import Starlette
from starlette.types import Scope

from sofer_sandbox.app import create_app
from sofer_sandbox.config import SandboxConfig
from sofer_sandbox.runtime import runtime_of_app


class _EmbeddedServer(uvicorn.Server):
    """A uvicorn server that leaves signal handling to whoever embeds it and stops at once.

    uvicorn's own main loop polls `should_exit` every 0.1 s; this one wakes on `exit()`,
    which keeps a test suite that starts hundreds of servers quick.
    """

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self._exit = asyncio.Event()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    async def main_loop(self) -> None:
        ticks = 0
        while not await self.on_tick(ticks):
            ticks += 10  # on_tick refreshes the Date header when ticks % 10 == 0
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(1.0):
                    await self._exit.wait()

    def exit(self) -> None:
        """Ask the server to shut down gracefully."""
        self.should_exit = True
        self._exit.set()


class SandboxServer:
    """`async with SandboxServer(config) as server:` serves on `server.url` until the block ends.

    The socket is bound before uvicorn starts (port 0 picks a free port), so `url` carries the
    real port. On exit the server closes its connections and its serve task ends: nothing leaks.
    """

    def __init__(self, config: SandboxConfig, host: str = "127.0.0.1", port: int = 0) -> None:
        self.config = config
        self.host = host
        self.port = port
        self.app: Starlette = create_app(config)
        self._server: _EmbeddedServer | None = None
        self._task: asyncio.Task[None] | None = None
        self._socket: socket.socket | None = None

    @property
    def url(self) -> str:
        """The base URL, e.g. "http://127.0.0.1:54321" (valid once started)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    async def start(self) -> None:
        """Bind, start uvicorn as a task, and wait until it accepts connections."""
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        # proto=IPPROTO_TCP makes asyncio set TCP_NODELAY on accepted connections; without it
        # every answer written in two parts waits ~40 ms for a delayed ACK (Nagle).
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        sock.setblocking(False)
        self._socket = sock
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            http="h11",
            ws="none",
            lifespan="on",
            log_config=None,
            access_log=False,
            timeout_graceful_shutdown=2,
        )
        server = _EmbeddedServer(config)
        self._server = server
        runtime = runtime_of_app(self.app)
        runtime.closing.clear()
        runtime.dropper = self._drop_connection
        self._task = asyncio.create_task(server.serve(sockets=[sock]), name="sandbox-server")
        while not server.started:
            if self._task.done():
                await self._task  # raises whatever stopped it
                raise RuntimeError("the sandbox server stopped before it started")
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        """Shut down gracefully and wait for the serve task to finish."""
        if self._server is not None and self._task is not None:
            runtime_of_app(self.app).closing.set()
            self._server.exit()
            await self._task
        if self._socket is not None:
            self._socket.close()
        self._server = self._task = self._socket = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def _drop_connection(self, scope: Scope) -> bool:
        """Close the TCP connection a request came on, without answering (a fault rule's drop)."""
        server = self._server
        client = scope.get("client")
        if server is None or client is None:
            return False
        for connection in list(server.server_state.connections):
            if getattr(connection, "client", None) == tuple(client):
                transport = getattr(connection, "transport", None)
                if transport is not None:
                    transport.close()
                    return True
        return False
