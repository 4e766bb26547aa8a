"""Idempotent creates: the same (credential, RPC, request_id) never reaches the upstream twice.

AIP-155's `request_id`, kept the way Stripe keeps idempotency keys:

- The first call with a request id runs the create as a task of its own, shielded from the
  caller: if the caller gives up (deadline, cancel) while the upstream is answering, the answer is
  still recorded, and a retry with the same request id gets it. The task takes over the first
  caller's concurrency slot (gateway.server.limiter) and gives it back when it ends, so work that
  outlives its caller still counts against `--max-concurrent-calls`.
- Calls with the same key while the first is in flight wait for it: one upstream POST.
- The same key with a different payload is refused (ALREADY_EXISTS, REQUEST_ID_REUSED).
- What is kept: a success, and an outcome in doubt (the POST was sent, then the connection broke
  or timed out), which every retry gets again instead of a blind second create. A definite
  failure (the upstream refused, or the request was never sent) is not kept: a retry tries again.
- Records live `ttl` seconds (24 h by default), at most `max_per_tenant` per tenant and
  `max_records` in all; the oldest finished records go first. Tenants never share records.

`IdempotencyStore` keeps the records in this process's memory (the embedded default);
gateway.state.idempotency_redis keeps them in Redis, shared by replicas and kept across restarts.
Both are an `Idempotency`, which is all the servicer knows of them.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import grpc
from google.protobuf.message import Message

from gateway.contract.errors import GatewayError, Reason

T = TypeVar("T")


@dataclass
class _Record:
    fingerprint: str
    created: float
    task: asyncio.Task[Any]


def fingerprint(request: Message) -> str:
    """A digest of the request's payload: everything but its `request_id`."""
    copy = type(request)()
    copy.CopyFrom(request)
    copy.ClearField("request_id")
    return hashlib.sha256(copy.SerializeToString(deterministic=True)).hexdigest()


class Slot(Protocol):
    """A concurrency slot the caller holds (gateway.server.limiter's): a create that outlives
    its caller takes it over and gives it back when its POST ends."""

    def hand_over(self) -> Callable[[], None]:
        """Keep the slot past the caller's block; the returned function gives it back."""
        ...


class Idempotency(Protocol):
    """A store of creates by (tenant, RPC, request_id): see `IdempotencyStore.run`."""

    async def run(
        self,
        tenant: str,
        rpc: str,
        request_id: str,
        payload: str,
        operation: Callable[[], Awaitable[T]],
        *,
        wait_until: float | None,
        slot: Slot | None = None,
    ) -> tuple[T, bool]:
        """The outcome of `operation` for this key: run once, recorded, shared."""
        ...

    async def close(self) -> None:
        """Cancel the creates still in flight (shutdown, after the server stopped)."""
        ...


def request_id_reused(rpc: str, request_id: str) -> GatewayError:
    """ALREADY_EXISTS: the request_id was first used for a different payload."""
    return GatewayError(
        grpc.StatusCode.ALREADY_EXISTS,
        Reason.REQUEST_ID_REUSED,
        f"request_id {request_id} was already used for a different {rpc} request: "
        "use a new request_id for a new request, or resend the first one unchanged",
        {"request_id": request_id},
    )


def still_in_flight(rpc: str, request_id: str) -> GatewayError:
    """DEADLINE_EXCEEDED, OUTCOME_UNKNOWN: the caller's wait ended before the create did."""
    return GatewayError(
        grpc.StatusCode.DEADLINE_EXCEEDED,
        Reason.OUTCOME_UNKNOWN,
        f"the deadline passed while the {rpc} with request_id {request_id} was still in "
        "flight upstream: retry with the same request_id to get its outcome",
        {"request_id": request_id},
    )


class IdempotencyStore:
    """In-memory records of creates by (tenant, RPC, request_id)."""

    def __init__(
        self,
        *,
        ttl: float = 24 * 3600.0,
        max_per_tenant: int = 10_000,
        max_records: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl
        self.max_per_tenant = max_per_tenant
        self.max_records = max_records
        self._clock = clock
        self._tenants: dict[str, OrderedDict[tuple[str, str], _Record]] = {}
        self._count = 0

    def __len__(self) -> int:
        return self._count

    async def run(
        self,
        tenant: str,
        rpc: str,
        request_id: str,
        payload: str,
        operation: Callable[[], Awaitable[T]],
        *,
        wait_until: float | None,
        slot: Slot | None = None,
    ) -> tuple[T, bool]:
        """The outcome of `operation` for this key: run once, recorded, shared.

        Returns (result, replayed); `replayed` is true when another call made the upstream
        request. Raises what the operation raised, GatewayError(ALREADY_EXISTS) for a payload
        that differs from the first, and GatewayError(DEADLINE_EXCEEDED, OUTCOME_UNKNOWN) when
        `wait_until` (monotonic) passes while the create is still in flight. A `slot` the
        caller holds is handed over to a create this call starts, and released when it ends.
        """
        key = (rpc, request_id.lower())
        table = self._table(tenant)
        record = table.get(key)
        replayed = record is not None
        if record is not None and record.fingerprint != payload:
            raise request_id_reused(rpc, request_id)
        if record is None:
            task: asyncio.Task[T] = asyncio.create_task(_run(operation))
            record = _Record(payload, self._clock(), task)
            table[key] = record
            self._count += 1
            task.add_done_callback(lambda done: self._settle(tenant, key, record, done))
            if slot is not None:
                release = slot.hand_over()
                task.add_done_callback(lambda _: release())
            self._evict(tenant)
        try:
            async with asyncio.timeout(remaining(wait_until)):
                result: T = await asyncio.shield(record.task)
        except TimeoutError:
            raise still_in_flight(rpc, request_id) from None
        return result, replayed

    async def close(self) -> None:
        """Cancel the creates still in flight (shutdown, after the server stopped)."""
        running = [r.task for t in self._tenants.values() for r in t.values() if not r.task.done()]
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)

    def _table(self, tenant: str) -> OrderedDict[tuple[str, str], _Record]:
        table = self._tenants.setdefault(tenant, OrderedDict())
        now = self._clock()
        while table:
            key, oldest = next(iter(table.items()))
            if now - oldest.created < self.ttl or not oldest.task.done():
                break
            del table[key]
            self._count -= 1
        return table

    def _settle(
        self, tenant: str, key: tuple[str, str], record: _Record, task: asyncio.Task[Any]
    ) -> None:
        """Forget a definite failure (the upstream did not act): a retry may try again."""
        keep = not task.cancelled() and (
            task.exception() is None or getattr(task.exception(), "outcome_unknown", False)
        )
        table = self._tenants.get(tenant)
        if not keep and table is not None and table.get(key) is record:
            del table[key]
            self._count -= 1

    def _evict(self, tenant: str) -> None:
        """Keep within the per-tenant and overall bounds, dropping the oldest finished records."""
        table = self._tenants[tenant]
        while len(table) > self.max_per_tenant and self._drop_oldest(table):
            pass
        while self._count > self.max_records:
            largest = max(self._tenants.values(), key=len)
            if not self._drop_oldest(largest):
                break

    def _drop_oldest(self, table: OrderedDict[tuple[str, str], _Record]) -> bool:
        for key, record in table.items():
            if record.task.done():
                del table[key]
                self._count -= 1
                return True
        return False


async def _run(operation: Callable[[], Awaitable[T]]) -> T:
    return await operation()


def remaining(wait_until: float | None) -> float | None:
    """Seconds left until `wait_until` (monotonic), never negative; None: no bound."""
    if wait_until is None:
        return None
    return max(wait_until - time.monotonic(), 0.0)
