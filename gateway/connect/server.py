"""The HTTP port (--http-listen): the batch service over Connect, served by Hypercorn.

`start_http(servicer, service, config, tls)` builds the ASGI application (connectrpc's
`ConnectASGIApplication` over the servicer's methods, behind gateway.connect.http's `Guard`) and
serves it with Hypercorn on its own socket: HTTP/1.1 and HTTP/2 (h2c with prior knowledge in
plaintext, ALPN h2/http/1.1 with TLS), with the gRPC port's TLS flags, message size limits,
request-message timeout and HTTP/2 stream limit. The returned `HttpFace` is what the gateway
process stops (gateway.server.process: `Face`).

connectrpc also answers gRPC and gRPC-Web requests on the same paths (it picks the protocol from
the content type), so a browser can use gRPC-Web as well as Connect; docs/connect.md.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import socket
import ssl
from collections.abc import Mapping
from typing import Any, cast

import structlog
from connectrpc.server import ConnectASGIApplication
from google.protobuf.descriptor import ServiceDescriptor
from hypercorn.asyncio import serve
from hypercorn.config import Config

from gateway.config import ConfigError, GatewayConfig
from gateway.connect.adapter import CODECS, endpoints
from gateway.connect.http import App, Guard, Limits, call_context
from gateway.connect.openapi import OpenApi
from gateway.server.process import FaceStarter
from gateway.server.tls import TlsMaterial

log = structlog.get_logger("gateway.connect.server")

KEEP_ALIVE_SECONDS = 75.0
"""Seconds an idle HTTP/1.1 connection is kept (longer than common proxies' 60 s)."""
NO_REQUEST_LIMIT = 2**62
"""Requests a connection may carry: no limit."""


class ServiceApplication(ConnectASGIApplication[object]):
    """connectrpc's ASGI application over the servicer's methods (`endpoints`), without the
    code its generator would write: the paths and method descriptions come from the service
    descriptor, as grpc.aio's registration does."""

    def __init__(self, servicer: object, service: ServiceDescriptor, read_max_bytes: int) -> None:
        self._service_path = f"/{service.full_name}"
        mapped = endpoints(servicer, service, call_context)

        def resolve(_: object) -> Mapping[str, Any]:
            return mapped

        super().__init__(
            service=servicer,
            endpoints=resolve,
            read_max_bytes=read_max_bytes,
            codecs=CODECS,
        )

    @property
    def path(self) -> str:
        return self._service_path


class HttpFace:
    """The running HTTP port: `port` is the bound one; `stop(grace)` ends it."""

    def __init__(self, task: asyncio.Task[None], stopping: asyncio.Event, port: int) -> None:
        self._task = task
        self._stopping = stopping
        self.port = port

    async def stop(self, grace: float) -> None:
        """Stop taking connections; in-flight requests get `grace` seconds (Hypercorn's
        graceful timeout), then the rest are cancelled."""
        self._stopping.set()
        try:
            await asyncio.wait_for(asyncio.shield(self._task), grace + 1.0)
        except TimeoutError:
            self._task.cancel()


def build_app(
    servicer: object,
    service: ServiceDescriptor,
    config: GatewayConfig,
    routes: Mapping[str, App] | None = None,
) -> Guard:
    """The ASGI application of the HTTP port: the Guard in front of the Connect service, and
    `routes` (other ASGI applications by path, e.g. a document) beside it."""
    # --- openapi --- GET /openapi.json: the document of these endpoints.
    app = OpenApi(ServiceApplication(servicer, service, config.max_receive_message_bytes))
    uploads = [f"/{service.full_name}/{m.name}" for m in service.methods if m.client_streaming]
    return Guard(
        app,
        Limits(
            max_message_bytes=config.max_receive_message_bytes,
            max_upload_bytes=config.max_upload_bytes,
            body_timeout=config.request_message_timeout,
        ),
        streaming_uploads=uploads,
        cors_origins=cors_origins(config.http_cors_origin),
        routes=routes,
    )


def cors_origins(flag: str) -> list[str]:
    """The origins of --http-cors-origin (comma-separated); ConfigError for one that is not
    `scheme://host[:port]` (a browser sends exactly that, never a path or a wildcard)."""
    origins = [o.strip() for o in flag.split(",") if o.strip()]
    for origin in origins:
        scheme, sep, rest = origin.partition("://")
        if not sep or scheme not in ("http", "https") or not rest or "/" in rest or "*" in rest:
            raise ConfigError(
                f"--http-cors-origin {origin}: expected an origin such as "
                "https://app.example.com (scheme and host, no path, no wildcard)"
            )
    return origins


async def start_http(
    servicer: object,
    service: ServiceDescriptor,
    config: GatewayConfig,
    tls: TlsMaterial | None,
) -> HttpFace:
    """Serve `servicer` over Connect on --http-listen; ConfigError naming the flag when the
    address cannot be bound or an origin is malformed."""
    app = build_app(servicer, service, config)
    sock = _bind(config.http_listen)
    port = sock.getsockname()[1]
    hyper = Config()
    hyper.bind = [f"fd://{sock.detach()}"]
    hyper.alpn_protocols = ["h2", "http/1.1"]
    hyper.h2_max_concurrent_streams = config.max_concurrent_streams
    hyper.keep_alive_timeout = KEEP_ALIVE_SECONDS
    # Hypercorn closes a connection after 1,000 requests by default: an HTTP/2 client's
    # requests in flight then fail on the GOAWAY. The gRPC port never does (max-connection-age
    # off), and neither does this one.
    hyper.keep_alive_max_requests = NO_REQUEST_LIMIT
    hyper.graceful_timeout = config.shutdown_grace
    hyper.errorlog = logging.getLogger("gateway.connect.hypercorn")
    hyper.accesslog = None
    hyper.include_server_header = False
    if tls is not None:  # the files load_tls checked; Hypercorn loads them by path
        hyper.certfile = config.tls_cert
        hyper.keyfile = config.tls_key
        if tls.mutual:
            hyper.ca_certs = config.tls_client_ca
            hyper.verify_mode = ssl.CERT_REQUIRED
    stopping = asyncio.Event()
    task = asyncio.create_task(
        # Guard is an ASGI application; its message types are looser than hypercorn's.
        serve(cast(Any, app), hyper, shutdown_trigger=stopping.wait, mode="asgi"),
        name="http port",
    )
    # The socket listens already: a connection that comes before Hypercorn serves waits in its
    # backlog. Should Hypercorn stop before it was asked to, the log says so at once.
    task.add_done_callback(functools.partial(_ended, stopping))
    log.info(
        "http port serving",
        address=f"{config.http_listen.rpartition(':')[0]}:{port}",
        protocols="connect, grpc-web, grpc",
        tls="mutual" if tls is not None and tls.mutual else ("on" if tls else "off"),
        cors_origins=len(cors_origins(config.http_cors_origin)),
    )
    return HttpFace(task, stopping, port)


def _ended(stopping: asyncio.Event, task: asyncio.Task[None]) -> None:
    if stopping.is_set() or task.cancelled():
        return
    log.error("http port stopped by itself", error=repr(task.exception()))


def faces_of(config: GatewayConfig) -> list[FaceStarter]:
    """The ports the gateway serves beside gRPC: the HTTP port when --http-listen is set."""
    return [start_http] if config.http_listen else []


def _bind(listen: str) -> socket.socket:
    """A listening socket on HOST:PORT (port 0 picks one); ConfigError naming --http-listen."""
    host, _, port_text = listen.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    try:
        port = int(port_text)
        if not host or not 0 <= port <= 65535:
            raise ValueError(listen)
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except (OSError, ValueError):
        raise ConfigError(
            f"--http-listen {listen}: expected HOST:PORT with a port from 0 to 65535"
        ) from None
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(1024)
    except OSError as exc:
        sock.close()
        raise ConfigError(
            f"--http-listen {listen}: cannot listen there ({(exc.strerror or str(exc)).lower()})"
        ) from None
    sock.setblocking(False)
    return sock
