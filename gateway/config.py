"""The gateway's configuration: flags, environment, and the embedded-sandbox default."""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

DEFAULT_LISTEN = "127.0.0.1:50051"
DEFAULT_UPSTREAM_URL = "https://api.sofer.ai"
# The key the gateway uses against its own embedded sandbox; not a secret, never valid upstream.
SANDBOX_KEY = "sandbox-key"


@dataclass(frozen=True)
class GatewayConfig:
    """Everything `sofer-gateway serve` needs; see `sofer-gateway serve --help`."""

    listen: str = DEFAULT_LISTEN
    upstream_url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    sandbox_item_seconds: float = 5.0
    default_timeout: float = 30.0
    connect_timeout: float = 5.0
    max_attempts: int = 5
    backoff_base: float = 0.1
    backoff_cap: float = 5.0
    retry_budget_tokens: float = 10.0
    retry_budget_ratio: float = 0.1
    max_receive_message_bytes: int = 8 * 1024 * 1024
    max_send_message_bytes: int = 16 * 1024 * 1024
    shutdown_grace: float = 5.0

    @property
    def embedded_sandbox(self) -> bool:
        """With neither an upstream URL nor a key, the gateway runs the sandbox in-process."""
        return self.upstream_url is None and self.api_key is None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The `serve` flags; each also documents its environment variable where it has one."""
    d = GatewayConfig()
    parser.add_argument(
        "--listen", default=d.listen, help=f"address to serve gRPC on (default {d.listen})"
    )
    parser.add_argument(
        "--upstream-url",
        default=None,
        help="Sofer.ai API base URL (env SOFER_API_URL; default "
        f"{DEFAULT_UPSTREAM_URL} when a key is set; with neither URL nor key, the gateway "
        "starts the sandbox in-process)",
    )
    parser.add_argument(
        "--sandbox-item-seconds",
        type=float,
        default=d.sandbox_item_seconds,
        help="embedded sandbox only: seconds an item takes to finish "
        f"(default {d.sandbox_item_seconds})",
    )
    parser.add_argument(
        "--default-timeout",
        type=float,
        default=d.default_timeout,
        help="seconds an RPC may spend upstream when the caller sets no deadline "
        f"(default {d.default_timeout})",
    )
    parser.add_argument(
        "--connect-timeout",
        type=float,
        default=d.connect_timeout,
        help=f"seconds to open an upstream connection (default {d.connect_timeout})",
    )
    parser.add_argument(
        "--max-attempts",
        type=int,
        default=d.max_attempts,
        help=f"upstream attempts per call, first included (default {d.max_attempts})",
    )
    parser.add_argument(
        "--backoff-base",
        type=float,
        default=d.backoff_base,
        help=f"first backoff ceiling in seconds, doubled per retry (default {d.backoff_base})",
    )
    parser.add_argument(
        "--backoff-cap",
        type=float,
        default=d.backoff_cap,
        help=f"largest backoff ceiling in seconds (default {d.backoff_cap})",
    )
    parser.add_argument(
        "--retry-budget-tokens",
        type=float,
        default=d.retry_budget_tokens,
        help="retry throttling (gRFC A6): token bucket size; retries stop at or below half "
        f"(default {d.retry_budget_tokens})",
    )
    parser.add_argument(
        "--retry-budget-ratio",
        type=float,
        default=d.retry_budget_ratio,
        help=f"tokens a success returns to the retry budget (default {d.retry_budget_ratio})",
    )
    parser.add_argument(
        "--max-receive-message-bytes",
        type=int,
        default=d.max_receive_message_bytes,
        help=f"largest request message accepted (default {d.max_receive_message_bytes})",
    )
    parser.add_argument(
        "--max-send-message-bytes",
        type=int,
        default=d.max_send_message_bytes,
        help=f"largest response message sent (default {d.max_send_message_bytes})",
    )
    parser.add_argument(
        "--shutdown-grace",
        type=float,
        default=d.shutdown_grace,
        help=f"seconds in-flight RPCs get to finish on SIGTERM/SIGINT (default {d.shutdown_grace})",
    )


def from_args(args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> GatewayConfig:
    """Flags win over the environment; SOFER_API_KEY comes only from the environment."""
    env = os.environ if environ is None else environ
    api_key = env.get("SOFER_API_KEY") or None
    upstream_url = args.upstream_url or env.get("SOFER_API_URL") or None
    if upstream_url is None and api_key is not None:
        upstream_url = DEFAULT_UPSTREAM_URL
    return GatewayConfig(
        listen=args.listen,
        upstream_url=upstream_url,
        api_key=api_key,
        sandbox_item_seconds=args.sandbox_item_seconds,
        default_timeout=args.default_timeout,
        connect_timeout=args.connect_timeout,
        max_attempts=args.max_attempts,
        backoff_base=args.backoff_base,
        backoff_cap=args.backoff_cap,
        retry_budget_tokens=args.retry_budget_tokens,
        retry_budget_ratio=args.retry_budget_ratio,
        max_receive_message_bytes=args.max_receive_message_bytes,
        max_send_message_bytes=args.max_send_message_bytes,
        shutdown_grace=args.shutdown_grace,
    )
