"""A real `redis-server` process for tests (no tests here): loopback, a free port, no
persistence; stopped and started again on the same port for outage tests.

`make redis-server` installs it (Debian's package); elsewhere see docs/redis.md. A machine
without it fails the Redis tests with that advice: they never skip.

Fixtures (offered to every module through tests/conftest.py): `redis_server`, one server for
one test; `redis_connections`, the gateway's own Redis connections to it, one per replica a test
plays (`await redis_connections.connect()`); `key_secret`, the one Redis key secret that
replicas must share (a module that starts gateways on Redis says
`pytestmark = pytest.mark.usefixtures("key_secret")`).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import TracebackType
from typing import Self

import pytest

from gateway.state.redis_client import KEY_SECRET_ENV, RedisConnection, RedisSettings

SECRET = "redis-key-secret-for-the-tests-0123"
"""The Redis key secret of the tests' replicas (SOFER_GATEWAY_REDIS_KEY_SECRET)."""
START_TIMEOUT = 20.0
"""Seconds redis-server gets to answer PING on a noisy 2-core machine."""


def free_port() -> int:
    """A TCP port nobody listens on now (redis-server has no port 0: it must be told one)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def ping(port: int) -> bool:
    """Whether a Redis on 127.0.0.1:`port` answers PING."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer:
    """`with RedisServer(tmp_path) as server:` a redis-server on `server.url` until the block
    ends; `stop()` and `start()` take it down and bring it back (empty) on the same port."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        """The redis:// URL of this server (database 0)."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start redis-server and wait until it answers PING; fail the test (never skip) when
        it cannot be had."""
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail(
                "redis-server is not installed: run `make redis-server` (Debian/Ubuntu: "
                "apt-get install redis-server; macOS: brew install redis; docs/redis.md)",
                pytrace=False,
            )
        self.starts += 1
        log = self.directory / f"redis-{self.starts}.log"
        self.process = subprocess.Popen(  # noqa: S603 (our own arguments, no shell)
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
                "--logfile",
                str(log),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + START_TIMEOUT
        while not ping(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                text = log.read_text() if log.exists() else "(no log)"
                pytest.fail(
                    f"redis-server did not start on 127.0.0.1:{self.port}:\n{text[-2000:]}",
                    pytrace=False,
                )
            time.sleep(0.02)

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL) and wait until its port is closed."""
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A real redis-server on a free loopback port, for one test."""
    with RedisServer(tmp_path) as server:
        yield server


@pytest.fixture
def key_secret(monkeypatch: pytest.MonkeyPatch) -> str:
    """Every gateway of the test (in-process or `serve`, which inherits the environment) shares
    one Redis key secret, as replicas must; the secret."""
    monkeypatch.setenv(KEY_SECRET_ENV, SECRET)
    return SECRET


class RedisConnections:
    """The gateway's Redis connections (gateway.state.redis_client) that one test opened to its
    server, each standing for a replica; all closed together."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.made: list[RedisConnection] = []

    async def connect(self) -> RedisConnection:
        """A started connection to the test's Redis, with the tests' key secret."""
        connection = RedisConnection(RedisSettings(self.url, SECRET.encode(), fallback_local=False))
        await connection.start()
        self.made.append(connection)
        return connection

    async def close_all(self) -> None:
        for connection in self.made:
            await connection.aclose()


@pytest.fixture
async def redis_connections(redis_server: RedisServer) -> AsyncIterator[RedisConnections]:
    """Connections to the test's Redis (`await redis_connections.connect()`), closed at its
    end, after whatever the test built on them."""
    connections = RedisConnections(redis_server.url)
    try:
        yield connections
    finally:
        await connections.close_all()
