"""The gateway's configuration: flags, environment, and the embedded-sandbox default.

Each tunable setting is a field of `GatewayConfig` whose metadata carries its help text; the
`serve` flags are made from those fields, so a setting and its flag cannot drift apart.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

DEFAULT_LISTEN = "127.0.0.1:50051"
DEFAULT_UPSTREAM_URL = "https://api.sofer.ai"
# The key the gateway uses against its own embedded sandbox; not a secret, never valid upstream.
SANDBOX_KEY = "sandbox-key"
# Caller tokens from the environment, comma-separated (gateway.credentials.CallerAuth).
CALLER_TOKENS_ENV = "SOFER_GATEWAY_CALLER_TOKENS"


class ConfigError(ValueError):
    """Settings that cannot work (a missing or unreadable file, flags that need each other):
    `serve` prints the message, which names the flag, and exits 2."""


def _flag(
    default: Any, help_text: str, *, zero_ok: bool = False, metavar: str | None = None
) -> Any:
    """A setting with a `serve` flag of the same name (`--default-timeout` for default_timeout).

    Numbers must be greater than 0, or at least 0 with `zero_ok` (where 0 means "off"); a
    False default makes an on/off flag; `metavar` names a flag's value in --help."""
    return field(
        default=default, metadata={"help": help_text, "zero_ok": zero_ok, "metavar": metavar}
    )


@dataclass(frozen=True)
class GatewayConfig:
    """Everything `sofer-gateway serve` needs; see `sofer-gateway serve --help`."""

    listen: str = _flag(DEFAULT_LISTEN, "address to serve gRPC on")
    upstream_url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    caller_tokens: tuple[str, ...] = field(default=(), repr=False)
    """Caller tokens from the environment (CALLER_TOKENS_ENV); never a flag, never shown."""
    tls_cert: str = _flag("", "PEM certificate chain: serve TLS (needs --tls-key)", metavar="FILE")
    tls_key: str = _flag("", "PEM private key of --tls-cert (unencrypted)", metavar="FILE")
    tls_client_ca: str = _flag(
        "",
        "PEM CA certificate(s): require client certificates they signed (mutual TLS; a "
        "verified client may spend the gateway's key; needs --tls-cert)",
        metavar="FILE",
    )
    caller_tokens_file: str = _flag(
        "",
        "caller tokens, one per line ('#' comments): a caller sending one as its bearer token "
        f"may spend the gateway's key (also env {CALLER_TOKENS_ENV}, comma-separated)",
        metavar="FILE",
    )
    allow_unauthenticated_callers: bool = _flag(
        False,
        "start even with SOFER_API_KEY, a non-loopback --listen address and no caller "
        "authentication (anyone who reaches the port spends the key)",
    )
    sandbox_item_seconds: float = _flag(
        5.0, "embedded sandbox only: seconds an item takes to finish"
    )
    default_timeout: float = _flag(
        30.0, "seconds an RPC may spend upstream when the caller sets no deadline"
    )
    connect_timeout: float = _flag(5.0, "seconds to open an upstream connection")
    max_attempts: int = _flag(5, "upstream attempts per call, the first included")
    backoff_base: float = _flag(0.1, "first backoff ceiling in seconds, doubled per retry")
    backoff_cap: float = _flag(5.0, "largest backoff ceiling in seconds")
    retry_budget_tokens: float = _flag(
        10.0, "retry throttling (gRFC A6): token bucket size; retries stop at or below half"
    )
    retry_budget_ratio: float = _flag(0.1, "tokens a success returns to the retry budget")
    max_receive_message_bytes: int = _flag(8 * 1024 * 1024, "largest request message accepted")
    max_send_message_bytes: int = _flag(16 * 1024 * 1024, "largest response message sent")
    shutdown_grace: float = _flag(5.0, "seconds in-flight RPCs get to finish on SIGTERM/SIGINT")
    watch_fast_interval: float = _flag(
        1.0, "WatchBatchStatus: seconds between upstream polls at first and after a change"
    )
    watch_slow_interval: float = _flag(
        20.0, "WatchBatchStatus: longest seconds between polls while nothing changes"
    )
    watch_backoff_factor: float = _flag(
        1.5, "WatchBatchStatus: each unchanged poll multiplies the interval by this"
    )
    max_watches: int = _flag(
        10_000, "open WatchBatchStatus streams per process; past it RESOURCE_EXHAUSTED"
    )
    max_concurrent_calls: int = _flag(
        256, "unary RPCs working upstream at once; more wait in a queue (streams not counted)"
    )
    max_queued_calls: int = _flag(
        512,
        "unary RPCs waiting for a slot; past it RESOURCE_EXHAUSTED (GATEWAY_OVERLOADED) at once",
        zero_ok=True,
    )
    max_queue_wait: float = _flag(
        2.0,
        "longest seconds a call waits for a slot (never past its deadline) before it is shed",
        zero_ok=True,
    )
    keepalive_time: float = _flag(
        60.0, "seconds between the server's keepalive pings on idle connections (long streams)"
    )
    keepalive_timeout: float = _flag(
        20.0, "seconds to wait for a keepalive ping's answer before closing the connection"
    )
    max_connection_age: float = _flag(
        0.0,
        "seconds after which a connection is asked to close (GOAWAY) so load spreads; 0 = never",
        zero_ok=True,
    )
    idempotency_ttl: float = _flag(
        24 * 3600.0, "seconds a create's outcome is kept for retries with the same request_id"
    )
    idempotency_max_per_tenant: int = _flag(
        10_000, "request_id records kept per credential (oldest finished go first)"
    )
    idempotency_max_records: int = _flag(100_000, "request_id records kept in all")
    max_connection_age_grace: float = _flag(
        300.0,
        "seconds open streams get after max-connection-age before they end UNAVAILABLE "
        "(a watcher reconnects and gets the current state first)",
    )

    @property
    def embedded_sandbox(self) -> bool:
        """With neither an upstream URL nor a key, the gateway runs the sandbox in-process."""
        return self.upstream_url is None and self.api_key is None


def _flagged() -> list[dataclasses.Field[Any]]:
    return [f for f in dataclasses.fields(GatewayConfig) if "help" in f.metadata]


def _number(kind: type[float] | type[int], *, zero_ok: bool) -> Any:
    def parse(text: str) -> float | int:
        value = kind(text)
        if value < 0 or (value == 0 and not zero_ok):
            rule = "at least 0" if zero_ok else "greater than 0"
            raise argparse.ArgumentTypeError(f"must be {rule}, not {text}")
        return value

    parse.__name__ = kind.__name__  # argparse names the type in its error messages
    return parse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The `serve` flags, one per flagged GatewayConfig field, plus --upstream-url."""
    parser.add_argument(
        "--upstream-url",
        default=None,
        help="Sofer.ai API base URL (env SOFER_API_URL; default "
        f"{DEFAULT_UPSTREAM_URL} when SOFER_API_KEY is set; with neither URL nor key, the "
        "gateway starts the sandbox in-process)",
    )
    for f in _flagged():
        kind: type[Any] = type(f.default)
        flag = "--" + f.name.replace("_", "-")
        if kind is bool:
            parser.add_argument(flag, action="store_true", help=f.metadata["help"])
            continue
        parser.add_argument(
            flag,
            type=str if kind is str else _number(kind, zero_ok=f.metadata["zero_ok"]),
            default=f.default,
            metavar=f.metadata["metavar"],
            help=f.metadata["help"] + (f" (default {f.default})" if f.default != "" else ""),
        )


def from_args(args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> GatewayConfig:
    """Flags win over the environment; SOFER_API_KEY comes only from the environment."""
    env = os.environ if environ is None else environ
    api_key = env.get("SOFER_API_KEY") or None
    upstream_url = args.upstream_url or env.get("SOFER_API_URL") or None
    if upstream_url is None and api_key is not None:
        upstream_url = DEFAULT_UPSTREAM_URL
    settings = {f.name: getattr(args, f.name) for f in _flagged()}
    caller_tokens = tuple(t.strip() for t in env.get(CALLER_TOKENS_ENV, "").split(",") if t.strip())
    return GatewayConfig(
        upstream_url=upstream_url, api_key=api_key, caller_tokens=caller_tokens, **settings
    )
