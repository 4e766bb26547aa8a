"""One delivery attempt: a signed POST of one event to one endpoint, bounded every way.

The session's connector resolves through `CheckedResolver` (gateway.webhooks.addresses), so the
connection goes only to addresses the rules allow, checked at that moment; an address literal is
checked before the request. Redirects are not followed (a 3xx is a failed attempt). Connecting
and reading each have a timeout, the whole attempt one more; of the answer only the status and at
most `MAX_RESPONSE_BYTES` of its body are read (aiohttp bounds its headers), and a global bound on
connections keeps a storm of deliveries from taking the process's sockets.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

import aiohttp
from google.protobuf import json_format
from sofer.batch.v1 import batch_pb2

from gateway.events.model import WEBHOOK_TYPE_NAMES
from gateway.webhooks import addresses, signing

MAX_RESPONSE_BYTES = 4096
"""Of an endpoint's answer, the body bytes read (and dropped): the status is what counts."""
MAX_PAYLOAD_BYTES = 64 * 1024
"""The largest payload sent; an event is a few hundred bytes, so only a broken one is larger."""
USER_AGENT = "sofer-gateway-webhooks/1"


@dataclass(frozen=True)
class Timeouts:
    """Seconds an attempt may spend connecting, waiting for each read, and in all."""

    connect: float = 5.0
    read: float = 10.0
    total: float = 15.0


@dataclass(frozen=True)
class Outcome:
    """How one attempt ended: an HTTP status, or an error without one."""

    status: int = 0
    error: str = ""

    @property
    def delivered(self) -> bool:
        return 200 <= self.status < 300

    @property
    def gone(self) -> bool:
        """410 Gone: the endpoint asks never to be called again."""
        return self.status == 410

    @property
    def label(self) -> str:
        """The metrics' outcome label: 2xx, 3xx, 4xx, 5xx, or error."""
        return f"{self.status // 100}xx" if self.status else "error"


def webhook_id(endpoint_id: str, event_id: str) -> str:
    """The `webhook-id` of an event's delivery to an endpoint: the same on every attempt,
    replica and restart, so receivers deduplicate redeliveries by it."""
    return f"msg_{endpoint_id}_{event_id}"


def payload(event: batch_pb2.BatchEvent) -> bytes:
    """The body: {"type", "timestamp" (when the change was observed, RFC 3339), "data" (the
    BatchEvent as proto JSON)}. An event holds ids and counts only: never a token, credential or
    caller."""
    body = {
        "type": WEBHOOK_TYPE_NAMES[event.type],
        "timestamp": event.observed_at.ToJsonString(),
        "data": json_format.MessageToDict(event),
    }
    data = json.dumps(body, separators=(",", ":"), sort_keys=True).encode()
    if len(data) > MAX_PAYLOAD_BYTES:
        raise ValueError(f"a webhook payload of {len(data)} bytes is past {MAX_PAYLOAD_BYTES}")
    return data


class Sender:
    """Sends attempts over one aiohttp session made in the running loop (`start`)."""

    def __init__(
        self,
        policy: addresses.Policy,
        *,
        timeouts: Timeouts | None = None,
        max_connections: int = 256,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.policy = policy
        self.timeouts = timeouts or Timeouts()
        self.max_connections = max_connections
        self._wall = wall_clock
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        connector = aiohttp.TCPConnector(
            resolver=addresses.CheckedResolver(self.policy, self.timeouts.connect),
            use_dns_cache=False,  # every connection is resolved (and checked) afresh
            limit=self.max_connections,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(
                total=self.timeouts.total,
                sock_connect=self.timeouts.connect,
                sock_read=self.timeouts.read,
            ),
            auto_decompress=False,
            headers={"user-agent": USER_AGENT},
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def send(
        self, url: str, secrets_: tuple[str, ...], message_id: str, body: bytes
    ) -> Outcome:
        """POST `body` to `url`, signed with each secret; the outcome, never an exception."""
        assert self._session is not None, "Sender.start() first"
        try:
            addresses.check_scheme(url, self.policy)
            host = urlsplit(url).hostname or ""
            if addresses.literal(host):
                addresses.check_address(host.strip("[]"), self.policy)
        except addresses.RefusedAddress as exc:
            return Outcome(error=f"{exc.rule}: {exc}")
        timestamp = int(self._wall())
        headers = signing.headers(secrets_, message_id, timestamp, body)
        headers["content-type"] = "application/json"
        try:
            async with self._session.post(
                url, data=body, headers=headers, allow_redirects=False
            ) as response:
                await response.content.read(MAX_RESPONSE_BYTES)
                return Outcome(status=response.status)
        except TimeoutError:
            return Outcome(error="timed out")
        except aiohttp.ClientConnectorError as exc:  # the resolver's refusal is its os_error
            return Outcome(error=f"{type(exc).__name__}: {exc.os_error}"[:200])
        except (aiohttp.ClientError, OSError) as exc:
            return Outcome(error=f"{type(exc).__name__}: {exc}"[:200])


def now_rfc3339(wall: float) -> str:
    """`wall` (Unix seconds) as RFC 3339 UTC, for logs."""
    return datetime.fromtimestamp(wall, UTC).isoformat()
