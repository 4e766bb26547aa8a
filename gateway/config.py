"""The gateway's configuration: flags, environment, and the embedded-sandbox default.

Each tunable setting is defined once, as a field of `GatewayConfig` whose metadata carries its
help text (and, for the upstream client's settings, the `UpstreamConfig` field whose default it
takes). From that one definition come the `serve` flags, their environment variables
(`SOFER_GATEWAY_` + the flag in upper snake case: `--default-timeout` is
SOFER_GATEWAY_DEFAULT_TIMEOUT; a flag on the command line wins), the `UpstreamConfig` the server
builds (`GatewayConfig.upstream`), and the README's table (`flags_table`, checked by a test).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from gateway.upstream.config import UpstreamConfig

DEFAULT_LISTEN = "127.0.0.1:50051"
DEFAULT_UPSTREAM_URL = "https://api.sofer.ai"
# The key the gateway uses against its own embedded sandbox; not a secret, never valid upstream.
SANDBOX_KEY = "sandbox-key"
# Caller tokens from the environment, comma-separated (gateway.access.credentials.CallerAuth).
CALLER_TOKENS_ENV = "SOFER_GATEWAY_CALLER_TOKENS"
ENV_PREFIX = "SOFER_GATEWAY_"
"""Every `serve` flag can also come from the variable ENV_PREFIX + its name in upper snake case."""
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off", ""})
_UPSTREAM_DEFAULTS = {f.name: f.default for f in dataclasses.fields(UpstreamConfig)}


class ConfigError(ValueError):
    """Settings that cannot work (a missing or unreadable file, flags that need each other):
    `serve` prints the message, which names the flag, and exits 2."""


def _flag(
    default: Any,
    help_text: str,
    *,
    zero_ok: bool = False,
    metavar: str | None = None,
    upstream: str | None = None,
    repeatable: bool = False,
) -> Any:
    """A setting with a `serve` flag of the same name (`--default-timeout` for default_timeout).

    Numbers must be greater than 0, or at least 0 with `zero_ok` (where 0 means "off"); a
    False default makes an on/off flag; `metavar` names a flag's value in --help. `upstream`
    names the UpstreamConfig field the setting feeds; its default is then that field's (pass
    `default=None`), so the two cannot disagree."""
    if upstream is not None:
        default = _UPSTREAM_DEFAULTS[upstream]
    return field(
        default=default,
        metadata={
            "help": help_text,
            "zero_ok": zero_ok,
            "metavar": metavar,
            "upstream": upstream,
            "repeatable": repeatable,
        },
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
        None,
        "seconds an RPC may spend upstream when the caller sets no deadline",
        upstream="default_timeout",
    )
    connect_timeout: float = _flag(
        None, "seconds to open an upstream connection", upstream="connect_timeout"
    )
    max_attempts: int = _flag(
        None, "upstream attempts per call, the first included", upstream="max_attempts"
    )
    backoff_base: float = _flag(
        None, "first backoff ceiling in seconds, doubled per retry", upstream="backoff_base"
    )
    backoff_cap: float = _flag(None, "largest backoff ceiling in seconds", upstream="backoff_cap")
    retry_budget_tokens: float = _flag(
        None,
        "retry throttling (gRFC A6): token bucket size; retries stop at or below half",
        upstream="budget_max_tokens",
    )
    retry_budget_ratio: float = _flag(
        None, "tokens a success returns to the retry budget", upstream="budget_token_ratio"
    )
    upstream_max_response_bytes: int = _flag(
        None,
        "largest upstream answer taken, raw and decompressed each; a larger one ends the call "
        "UNAVAILABLE (UPSTREAM_BAD_RESPONSE; OUTCOME_UNKNOWN for a create)",
        upstream="max_response_bytes",
    )
    max_receive_message_bytes: int = _flag(8 * 1024 * 1024, "largest request message accepted")
    max_upload_bytes: int = _flag(
        100 * 1024 * 1024,
        "largest file UploadTranscription takes (the upstream's own limit); a larger one is "
        "refused RESOURCE_EXHAUSTED (UPLOAD_TOO_LARGE) with nothing sent",
    )
    max_send_message_bytes: int = _flag(
        16 * 1024 * 1024,
        "largest answer sent in one message; a larger one is refused RESOURCE_EXHAUSTED "
        "(RESPONSE_TOO_LARGE)",
    )
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
        10_000,
        "open WatchBatchStatus streams per process; past it RESOURCE_EXHAUSTED "
        "(WATCH_LIMIT_REACHED). grpc's backlog of calls not yet handed to the gateway follows "
        "it: max-watches + max-concurrent-calls + max-queued-calls, hard limit twice that",
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

    watch_max_retry_after: float = _flag(
        30.0,
        "WatchBatchStatus: longest Retry-After (seconds) a poller waits out; a longer one ends "
        "the batch's watches RESOURCE_EXHAUSTED with RetryInfo carrying the upstream's delay; "
        "also the longest a watch with no status yet spends on failed polls",
    )
    upstream_max_connections: int = _flag(
        0,
        "connections in the upstream pool; 0 = --max-concurrent-calls plus 64 for the watch "
        "pollers. A call that finds none free within --max-queue-wait is shed GATEWAY_OVERLOADED",
        zero_ok=True,
    )
    max_concurrent_streams: int = _flag(
        1000,
        "HTTP/2 streams one client connection may have open at once (watches included); a "
        "client needing more opens more channels",
    )
    request_message_timeout: float = _flag(
        10.0,
        "seconds a call may wait for its request message after its headers; then it ends",
    )
    health_listen: str = _flag(
        "",
        "also serve grpc.health.v1 alone, in plaintext, on this HOST:PORT (for kubelet probes "
        "when the gRPC port requires client certificates); empty = off",
        metavar="HOST:PORT",
    )
    metrics_listen: str = _flag(
        "",
        "serve Prometheus metrics (GET /metrics) on this HOST:PORT; empty = off",
        metavar="HOST:PORT",
    )
    status_max_age: float = _flag(
        1.0,
        "GetBatchStatus: answer from a live watch poller's observation when it is at most this "
        "many seconds old (the caller sees its observed_at); 0 = always ask the upstream",
        zero_ok=True,
    )
    redis_url: str = _flag(
        "",
        "shared state on Redis (redis://HOST:PORT/DB, rediss:// for TLS, unix:///path): "
        "idempotency records survive restarts and are shared by replicas; empty = in memory",
        metavar="URL",
    )
    idempotency_fallback: str = _flag(
        "fail",
        "with --redis-url, what a create with a request_id does while Redis cannot be reached: "
        "'fail' (UNAVAILABLE, IDEMPOTENCY_STORE_UNAVAILABLE: never risk a duplicate) or 'local' "
        "(this process's memory)",
        metavar="fail|local",
    )
    status_reuse_window: float = _flag(
        0.05,
        "GetBatchStatus: an upstream answer also answers identical reads (same credential and "
        "batch) for this many seconds after it arrived (its observed_at shows its age); 0 = off",
        zero_ok=True,
    )
    drain_delay: float = _flag(
        0.0,
        "on SIGTERM/SIGINT, seconds to keep serving with health NOT_SERVING (so load balancers "
        "stop sending) before the gateway stops taking calls",
        zero_ok=True,
    )
    poll_lease: float = _flag(
        10.0,
        "with --redis-url: seconds a replica's lease on a watched batch's poller lasts (renewed "
        "while it polls); when the holder dies or stalls, a replica with watchers of the batch "
        "takes over within about this long; webhook deliveries' leases last as long",
    )
    upstream_rate_limit: float = _flag(
        0.0,
        "upstream requests per second per credential (retries and watch polls included), a "
        "token bucket shared by replicas with --redis-url; creates go first, then reads, then "
        "watch polls; 0 = off",
        zero_ok=True,
    )
    upstream_burst: int = _flag(
        0,
        "with --upstream-rate-limit: requests the bucket holds for a burst; 0 = one second's "
        "worth (the rate, rounded up)",
        zero_ok=True,
    )
    max_calls_per_caller: int = _flag(
        0,
        "unary RPCs one caller may have in progress at once; past it RESOURCE_EXHAUSTED "
        "(CALLER_QUOTA_EXCEEDED); 0 = off",
        zero_ok=True,
    )
    max_watches_per_caller: int = _flag(
        0,
        "open WatchBatchStatus streams one caller may hold; past it RESOURCE_EXHAUSTED "
        "(CALLER_QUOTA_EXCEEDED); 0 = off",
        zero_ok=True,
    )
    # --- money ---
    balance_preflight: bool = _flag(
        False,
        "before a create, estimate its cost and read the balance: FAILED_PRECONDITION "
        "(INSUFFICIENT_BALANCE) when the available balance cannot cover it, nothing sent; a read "
        "that fails fails the create (fail closed)",
    )
    caller_daily_audio_hours: float = _flag(
        0.0,
        "hours of audio one caller may create per UTC day (shared by replicas with --redis-url); "
        "past it RESOURCE_EXHAUSTED (CALLER_BUDGET_EXCEEDED), nothing sent; 0 = off",
        zero_ok=True,
        metavar="N",
    )
    # --- issue 23: events ---
    event_log_max_events: int = _flag(
        5000,
        "events kept per batch in its event log (resume tokens and webhook deliveries read it; "
        "older ones are trimmed and a token before them answers RESUME_TOKEN_EXPIRED)",
    )
    event_log_max_age: float = _flag(
        25 * 3600.0,
        "seconds an event is kept in its batch's log (the default covers a day of webhook "
        "retries); on Redis, a batch's stream expires this long after its last event",
    )
    event_log_max_batches: int = _flag(
        500,
        "without --redis-url: batches whose event logs are kept in memory (the least recently "
        "used goes first; the logs are lost on restart)",
    )
    # --- connect ---
    http_listen: str = _flag(
        "",
        "also serve the batch service over HTTP on this HOST:PORT: Connect (JSON and protobuf, "
        "GET for side-effect-free reads), gRPC-Web and gRPC, HTTP/1.1 and HTTP/2, with the gRPC "
        "port's TLS, limits and credentials (docs/connect.md); empty = off",
        metavar="HOST:PORT",
    )
    http_cors_origin: str = _flag(
        "",
        "with --http-listen: a browser origin allowed to call it (CORS), e.g. "
        "https://app.example.com; repeat the flag (or separate with commas) for more; none "
        "by default",
        metavar="ORIGIN",
        repeatable=True,
    )
    # --- webhooks ---
    webhook_retry_for: float = _flag(
        24 * 3600.0,
        "seconds a webhook delivery is retried (exponential backoff, full jitter) before it is "
        "given up and the endpoint's next event goes",
    )
    webhook_allow_http: bool = _flag(
        False,
        "accept http:// webhook URLs (local development; https only by default)",
    )
    webhook_allow_private_addresses: bool = _flag(
        False,
        "deliver webhooks to loopback, private and link-local addresses (local development; "
        "refused by default, as is any cloud metadata address)",
    )

    @property
    def embedded_sandbox(self) -> bool:
        """With neither an upstream URL nor a key, the gateway runs the sandbox in-process."""
        return self.upstream_url is None and self.api_key is None

    def upstream(self, base_url: str, **more: Any) -> UpstreamConfig:
        """The upstream client's settings: every field marked `upstream=`, under its
        UpstreamConfig name, plus `more` (the pool, which the server sizes)."""
        mapped = {
            f.metadata["upstream"]: getattr(self, f.name)
            for f in _flagged()
            if f.metadata["upstream"] is not None
        }
        return UpstreamConfig(base_url=base_url, **mapped, **more)


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


def env_name(field_name: str) -> str:
    """The environment variable of a setting: SOFER_GATEWAY_DEFAULT_TIMEOUT for default_timeout."""
    return ENV_PREFIX + field_name.upper()


def _parser_of(f: dataclasses.Field[Any]) -> Callable[[str], Any]:
    kind: type[Any] = type(f.default)
    if kind is bool:
        return _boolean
    if kind is str:
        return str
    parse: Callable[[str], Any] = _number(kind, zero_ok=f.metadata["zero_ok"])
    return parse


def _boolean(text: str) -> bool:
    value = text.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise argparse.ArgumentTypeError(f"must be one of 1/true/yes/on or 0/false/no/off, not {text}")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The `serve` flags, one per flagged GatewayConfig field, plus --upstream-url. A flag not
    given stays None here, so `from_args` can tell it from one given (the environment, then the
    field's default, fill it in)."""
    parser.add_argument(
        "--upstream-url",
        default=None,
        help="Sofer.ai API base URL (env SOFER_API_URL; default "
        f"{DEFAULT_UPSTREAM_URL} when SOFER_API_KEY is set; with neither URL nor key, the "
        "gateway starts the sandbox in-process)",
    )
    for f in _flagged():
        flag = "--" + f.name.replace("_", "-")
        help_text = f"{f.metadata['help']} (env {env_name(f.name)}"
        help_text += ")" if f.default in ("", False) else f"; default {f.default})"
        if type(f.default) is bool:
            parser.add_argument(flag, action="store_const", const=True, help=help_text)
            continue
        if f.metadata.get("repeatable"):  # --- connect --- each use adds one (comma-joined)
            parser.add_argument(
                flag, action="append", metavar=f.metadata["metavar"], help=help_text
            )
            continue
        parser.add_argument(
            flag, type=_parser_of(f), default=None, metavar=f.metadata["metavar"], help=help_text
        )


def from_args(args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> GatewayConfig:
    """Flags win over the environment, the environment over the defaults; SOFER_API_KEY comes
    only from the environment. Raises ConfigError naming the variable for a bad value in it."""
    env = os.environ if environ is None else environ
    api_key = env.get("SOFER_API_KEY") or None
    upstream_url = args.upstream_url or env.get("SOFER_API_URL") or None
    if upstream_url is None and api_key is not None:
        upstream_url = DEFAULT_UPSTREAM_URL
    settings: dict[str, Any] = {}
    for f in _flagged():
        given = getattr(args, f.name, None)
        if isinstance(given, list):  # a repeatable flag's uses
            given = ",".join(given)
        if given is not None:
            settings[f.name] = given
        elif env_name(f.name) in env:
            settings[f.name] = _from_env(f, env[env_name(f.name)])
    caller_tokens = tuple(t.strip() for t in env.get(CALLER_TOKENS_ENV, "").split(",") if t.strip())
    return GatewayConfig(
        upstream_url=upstream_url, api_key=api_key, caller_tokens=caller_tokens, **settings
    )


def _from_env(f: dataclasses.Field[Any], text: str) -> Any:
    try:
        return _parser_of(f)(text.strip())
    except (argparse.ArgumentTypeError, ValueError) as exc:
        kind = type(f.default).__name__
        detail = str(exc) if isinstance(exc, argparse.ArgumentTypeError) else f"not a {kind}"
        raise ConfigError(f"{env_name(f.name)}={text!r}: {detail}") from None


def flags_table() -> str:
    """The README's table of `serve` settings, made from GatewayConfig (tests/docs/test_docs.py
    checks the README carries exactly this)."""
    rows = [
        "| flag | environment | default | meaning |",
        "| --- | --- | --- | --- |",
        "| `--upstream-url URL` | `SOFER_API_URL` | https://api.sofer.ai with a key, else the "
        "embedded sandbox | the Sofer.ai API base URL |",
    ]
    for f in _flagged():
        flag = "--" + f.name.replace("_", "-")
        if f.metadata["metavar"]:
            flag += " " + f.metadata["metavar"]
        default = "off" if f.default in ("", False) else str(f.default)
        rows.append(f"| `{flag}` | `{env_name(f.name)}` | {default} | {f.metadata['help']} |")
    return "\n".join(rows) + "\n"


def write_readme_table(readme: str = "README.md") -> None:
    """Rewrite the README's settings table (between its flags markers) from flags_table():
    `python -m gateway.config` after adding or changing a setting."""
    from pathlib import Path

    path = Path(readme)
    text = path.read_text()
    start = text.index("\n", text.index("<!-- flags:start")) + 1
    end = text.index("<!-- flags:end -->")
    path.write_text(text[:start] + flags_table() + text[end:])


if __name__ == "__main__":
    write_readme_table()
