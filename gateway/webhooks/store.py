"""What the webhooks keep: endpoints, each (endpoint, batch)'s cursor and lease, recent attempts.

`WebhookStore` is the interface; `MemoryWebhookStore` keeps everything in this process (lost on
restart: an endpoint must be registered again, and a batch's deliveries start again from its
log's oldest event, with the same webhook-ids); `gateway.webhooks.store_redis` shares it between
replicas. Secrets are kept as they are: signing needs them (docs/webhooks.md, "What is stored").

A cursor is the id of the last event of a batch the endpoint is done with (delivered, not of its
types, or given up on); the lease says which delivering task may move it.
"""

from __future__ import annotations

import dataclasses
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

MAX_ATTEMPTS_KEPT = 100
"""Attempts kept per endpoint for ListWebhookDeliveries (the newest)."""
MAX_ENDPOINTS_PER_TENANT = 100
"""Endpoints one tenant may register (batch-scoped ones included)."""


@dataclass(frozen=True)
class Endpoint:
    """A registered webhook endpoint."""

    id: str
    url: str
    types: tuple[str, ...]
    """Event type names it receives (gateway.events.model.WEBHOOK_TYPE_NAMES); () = all."""
    secret: str
    created_at: float
    """Wall clock (Unix seconds)."""
    previous_secret: str = ""
    """The secret before the last rotation, still signing until `previous_until`."""
    previous_until: float = 0.0
    batch_id: str = ""
    """Set for an endpoint named on a create: it receives that batch's events only."""
    disabled: str = ""
    """Why deliveries stopped ("" = active): the endpoint answered 410 Gone."""

    def signing_secrets(self, now: float) -> tuple[str, ...]:
        """The secrets that sign a delivery at wall time `now`: the current one, and the
        previous one during its grace period."""
        if self.previous_secret and now < self.previous_until:
            return (self.secret, self.previous_secret)
        return (self.secret,)

    def wants(self, batch_id: str, type_name: str, observed_at: float) -> bool:
        """Whether an event of `type_name` of batch `batch_id`, observed at wall time
        `observed_at`, is for this endpoint: its batch's (when scoped), of its types, and
        observed after it was registered (a new endpoint gets no history)."""
        if self.batch_id and self.batch_id != batch_id:
            return False
        if observed_at < self.created_at:
            return False
        return not self.types or type_name in self.types

    def to_record(self) -> dict[str, object]:
        return dataclasses.asdict(self)

    @classmethod
    def from_record(cls, record: dict[str, object]) -> Endpoint:
        fields = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in record.items() if k in fields}
        values["types"] = tuple(values.get("types", ()))  # type: ignore[arg-type]
        return cls(**values)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Attempt:
    """One delivery attempt, as ListWebhookDeliveries shows it."""

    webhook_id: str
    event_id: str
    event_type: str
    batch_id: str
    at: float
    """Wall clock (Unix seconds)."""
    status_code: int = 0
    """The endpoint's HTTP status (0: no answer)."""
    error: str = ""
    """What went wrong without an answer (timeout, refused address, ...), or "gave up"."""
    next_retry_at: float = 0.0
    """When the next attempt is due (0: none: delivered, given up, or disabled)."""

    def to_record(self) -> dict[str, object]:
        return dataclasses.asdict(self)

    @classmethod
    def from_record(cls, record: dict[str, object]) -> Attempt:
        return cls(**record)  # type: ignore[arg-type]


class StoreUnavailable(Exception):
    """The shared store (Redis) could not be read or written: nothing was changed that the
    caller can rely on; the RPCs answer UNAVAILABLE (WEBHOOK_STORE_UNAVAILABLE)."""


class WebhookStore(Protocol):
    """Endpoints per tenant, cursors and leases per (endpoint, batch), attempts per endpoint.
    A `scope` argument names a tenant (`scope`). Every method may raise StoreUnavailable."""

    def scope(self, tenant: str) -> str:
        """How the store names `tenant`, the argument of every per-tenant method and the first
        of each `active` pair: in Redis its keyed hash (the name in every gateway key, the same
        as the event log's `scope`), never the tenant key itself; in memory the tenant. So any
        replica can deliver from what the store holds, whether or not the tenant called it."""
        ...

    async def add(self, scope: str, endpoint: Endpoint) -> Endpoint:
        """Register `endpoint`, or (its id taken: an idempotent replay) give the one that is."""
        ...

    async def endpoints(self, scope: str) -> list[Endpoint]:
        """The tenant's endpoints, oldest first."""
        ...

    async def put(self, scope: str, endpoint: Endpoint) -> bool:
        """Replace an existing endpoint (rotation, disabling); False when it is gone."""
        ...

    async def remove(self, scope: str, endpoint_id: str) -> bool:
        """Delete an endpoint with its attempts and cursors; False when there was none."""
        ...

    async def attempts(self, endpoint_id: str) -> list[Attempt]:
        """The endpoint's newest attempts, newest first (at most MAX_ATTEMPTS_KEPT)."""
        ...

    async def record(self, endpoint_id: str, attempt: Attempt) -> None: ...

    async def cursor(self, endpoint_id: str, batch_id: str) -> str | None: ...

    async def advance(self, endpoint_id: str, batch_id: str, holder: str, event_id: str) -> bool:
        """Move the cursor to `event_id` if `holder` still holds the lease (else False)."""
        ...

    async def acquire(self, endpoint_id: str, batch_id: str, holder: str, ttl: float) -> bool:
        """Take (or renew, for its holder) the (endpoint, batch) lease for `ttl` seconds."""
        ...

    async def release(self, endpoint_id: str, batch_id: str, holder: str) -> None: ...

    async def mark_active(self, scope: str, batch_id: str) -> None:
        """Note that the batch has events to deliver (any replica's sweep looks at it)."""
        ...

    async def active(self, max_age: float) -> list[tuple[str, str]]:
        """(scope, batch_id) marked within `max_age` seconds; older marks are dropped."""
        ...


class MemoryWebhookStore:
    """Everything in this process (see the module)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._endpoints: dict[str, dict[str, Endpoint]] = {}
        self._attempts: dict[str, deque[Attempt]] = {}
        self._cursors: dict[tuple[str, str], str] = {}
        self._leases: dict[tuple[str, str], tuple[str, float]] = {}
        self._active: dict[tuple[str, str], float] = {}

    def scope(self, tenant: str) -> str:
        return tenant

    async def add(self, scope: str, endpoint: Endpoint) -> Endpoint:
        mine = self._endpoints.setdefault(scope, {})
        return mine.setdefault(endpoint.id, endpoint)

    async def endpoints(self, scope: str) -> list[Endpoint]:
        return sorted(self._endpoints.get(scope, {}).values(), key=lambda e: e.created_at)

    async def put(self, scope: str, endpoint: Endpoint) -> bool:
        mine = self._endpoints.get(scope, {})
        if endpoint.id not in mine:
            return False
        mine[endpoint.id] = endpoint
        return True

    async def remove(self, scope: str, endpoint_id: str) -> bool:
        found = self._endpoints.get(scope, {}).pop(endpoint_id, None)
        self._attempts.pop(endpoint_id, None)
        for key in [k for k in self._cursors if k[0] == endpoint_id]:
            del self._cursors[key]
        return found is not None

    async def attempts(self, endpoint_id: str) -> list[Attempt]:
        return list(reversed(self._attempts.get(endpoint_id, ())))

    async def record(self, endpoint_id: str, attempt: Attempt) -> None:
        kept = self._attempts.setdefault(endpoint_id, deque(maxlen=MAX_ATTEMPTS_KEPT))
        kept.append(attempt)

    async def cursor(self, endpoint_id: str, batch_id: str) -> str | None:
        return self._cursors.get((endpoint_id, batch_id))

    async def advance(self, endpoint_id: str, batch_id: str, holder: str, event_id: str) -> bool:
        lease = self._leases.get((endpoint_id, batch_id))
        if lease is None or lease[0] != holder:
            return False
        self._cursors[endpoint_id, batch_id] = event_id
        return True

    async def acquire(self, endpoint_id: str, batch_id: str, holder: str, ttl: float) -> bool:
        now = self._clock()
        lease = self._leases.get((endpoint_id, batch_id))
        if lease is not None and lease[0] != holder and lease[1] > now:
            return False
        self._leases[endpoint_id, batch_id] = (holder, now + ttl)
        return True

    async def release(self, endpoint_id: str, batch_id: str, holder: str) -> None:
        lease = self._leases.get((endpoint_id, batch_id))
        if lease is not None and lease[0] == holder:
            del self._leases[endpoint_id, batch_id]

    async def mark_active(self, scope: str, batch_id: str) -> None:
        self._active[scope, batch_id] = self._clock()

    async def active(self, max_age: float) -> list[tuple[str, str]]:
        oldest = self._clock() - max_age
        for key in [k for k, at in self._active.items() if at < oldest]:
            del self._active[key]
        return list(self._active)
