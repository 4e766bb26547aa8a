"""PEM files named by flags: read once, refused with an error that names the flag.

Shared by the server's `--tls-*` flags (gateway.server.tls, ConfigError) and the client
commands' (gateway.cli.channel, UsageError): each passes the error type its command reports.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path


def read_pem(flag: str, path: str, kind: str, *, error: Callable[[str], Exception]) -> bytes:
    """The file's bytes, refused (`error` naming the flag: ConfigError for the server, the
    clients' UsageError for theirs) unless they hold a PEM block of `kind`."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise error(f"{flag} {path}: cannot read it ({exc.strerror or exc})") from None
    if f"-----BEGIN {kind}-----".encode() not in data and not (
        kind == "PRIVATE KEY" and b" PRIVATE KEY-----" in data
    ):
        raise error(f"{flag} {path}: no PEM '{kind}' block in it")
    return data


def no_password(*, error: Callable[[str], Exception]) -> bytes:
    """A key that asks for a password is refused (never prompt on the terminal)."""
    raise error("--tls-key: the key is encrypted; give it unencrypted")
