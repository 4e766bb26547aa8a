"""Binding a gRPC port: one process per port, and a taken port said in one line.

grpc's server sets SO_REUSEPORT by default on Linux, so a second process binds a port another
gateway holds and the kernel then splits the connections between them (half the calls would
reach the other process). Every server of the gateway turns it off (`NO_REUSEPORT`), and a port
that cannot be bound stops the start with a ConfigError naming the flag and the system's reason
("Address already in use"): `serve` prints it and exits 2, as for a taken `--metrics-listen`.
"""

from __future__ import annotations

import socket

import grpc

from gateway.config import ConfigError

NO_REUSEPORT = ("grpc.so_reuseport", 0)
"""The server option that makes a taken port fail the bind instead of sharing it."""


def bind(
    server: grpc.aio.Server,
    listen: str,
    flag: str,
    credentials: grpc.ServerCredentials | None = None,
) -> int:
    """Add `listen` (HOST:PORT, port 0 picks one) to `server` and return the bound port;
    ConfigError naming `flag` and why when it cannot be bound (taken, or an unknown host)."""
    try:
        if credentials is None:
            port = server.add_insecure_port(listen)
        else:
            port = server.add_secure_port(listen, credentials)
    except RuntimeError:  # grpcio raises when it cannot bind; older releases returned 0
        port = 0
    if port == 0:
        raise ConfigError(f"{flag} {listen}: cannot listen there ({_why(listen)})")
    return port


def _why(listen: str) -> str:
    """The system's reason a plain socket cannot bind `listen` either (grpc gives none)."""
    host, _, port = listen.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    try:
        infos = socket.getaddrinfo(
            host, int(port), type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except (OSError, ValueError) as exc:
        return f"unknown host: {exc}"
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        try:
            probe.bind(address)
        except OSError as exc:
            return (exc.strerror or str(exc)).lower()
    return "grpc could not bind it"
