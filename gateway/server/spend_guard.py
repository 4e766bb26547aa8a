"""The two optional guards on creates: the balance pre-flight and each caller's daily budget of
audio hours. `SpendGuard.guarded(call, work, key, create)` is the one entry every create goes
through (CreateBatch; single creates), after validation and before anything is sent upstream:

1. with either guard on, the create is priced (gateway.server.cost: one duration read per URL);
   a create that cannot be priced (an uploaded file; a standard batch of a manifest this
   gateway did not see uploaded: gateway.server.cost) fails FAILED_PRECONDITION, COST_UNKNOWN;
2. `--balance-preflight`: the balance is read (a key without an account has none); when the
   available balance is less than the cost, FAILED_PRECONDITION, INSUFFICIENT_BALANCE, with a
   PreconditionFailure naming both figures. A read that fails fails the create with its error
   (fail closed: the operator asked for the check; a create it cannot check is not sent). The
   check is not a reservation: two creates checked at once may both pass, and the upstream then
   marks what it cannot pay INSUFFICIENT_FUNDS;
3. `--caller-daily-audio-hours`: the create's audio is reserved in the caller's account for the
   UTC day (gateway.state.audio_budget: atomic, shared on Redis); past the limit,
   RESOURCE_EXHAUSTED, CALLER_BUDGET_EXCEEDED, with a QuotaFailure and a RetryInfo until the
   next UTC midnight. The reservation is given back only when the create certainly failed (an
   error that is not OUTCOME_UNKNOWN, or a cut before anything was sent): never under-count.
   A create with a `request_id` reserves under a key made of it (and the request), so a retry is
   not counted twice; without one, every call is a reservation of its own.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import grpc
from google.protobuf.message import Message
from sofer.batch.v1 import batch_service_pb2 as pb

from gateway.access.caller_quota import caller_of
from gateway.contract.errors import GatewayError, Precondition, Reason
from gateway.server import cost
from gateway.server.frame import Call
from gateway.state.audio_budget import AudioBudgets, BudgetStoreUnavailable
from gateway.state.idempotency import fingerprint
from gateway.upstream import NotFound, UpstreamClient, UpstreamError

T = TypeVar("T")
WallClock = Callable[[], float]


class SpendGuard:
    """The guards as configured: `preflight` (--balance-preflight) and `daily_audio_hours`
    (--caller-daily-audio-hours, 0: off) kept in `budgets`; `wall_clock` (epoch seconds) says
    which UTC day it is."""

    def __init__(
        self,
        client: UpstreamClient,
        *,
        preflight: bool = False,
        daily_audio_hours: float = 0.0,
        budgets: AudioBudgets | None = None,
        wall_clock: WallClock = time.time,
    ) -> None:
        if daily_audio_hours < 0:
            raise ValueError("daily_audio_hours must be at least 0")
        if daily_audio_hours and budgets is None:
            raise ValueError("a daily budget needs somewhere to keep it")
        self.client = client
        self.preflight = preflight
        self.daily_audio_hours = daily_audio_hours
        self.budgets = budgets
        self.wall_clock = wall_clock
        self._releases: set[asyncio.Task[None]] = set()

    @property
    def active(self) -> bool:
        """Whether any guard is on (off: creates go straight through, unpriced)."""
        return self.preflight or bool(self.daily_audio_hours)

    async def guarded(
        self,
        call: Call,
        work: cost.Work | None,
        key: str,
        create: Callable[[], Awaitable[T]],
    ) -> T:
        """Run `create` if the guards let it through (see the module's docstring). `work` is
        what it would create (None: it cannot be priced); `key` names it for the budget (the
        request_id and the request's fingerprint; empty: a key of its own)."""
        if not self.active:
            return await create()
        if work is None:
            raise GatewayError(
                grpc.StatusCode.FAILED_PRECONDITION,
                Reason.COST_UNKNOWN,
                "this create cannot be priced (an uploaded file has no duration the gateway can "
                "read upstream) and this gateway checks what creates cost (--balance-preflight "
                "or --caller-daily-audio-hours): create from a URL, or use a gateway without "
                "these guards",
            )
        priced = await cost.estimate(self.client, work, call.tracked_options)
        if self.preflight:
            await self._check_balance(call, priced)
        if not self.daily_audio_hours:
            return await create()
        assert self.budgets is not None  # __init__ makes sure
        caller = caller_of(call.credential)
        day, reserve_key = self._day(), _reservation_key(call.credential.tenant, key)
        await self._reserve(caller, day, reserve_key, priced.total_duration_seconds)
        try:
            return await create()
        except asyncio.CancelledError:
            if not call.in_doubt():  # cut before the create was sent: it certainly failed
                self._release_later(caller, day, reserve_key)
            raise
        except Exception as exc:
            if _certainly_failed(exc):
                await self.budgets.release(caller, day, reserve_key)
            raise

    async def _check_balance(self, call: Call, priced: pb.EstimateCostResponse) -> None:
        try:
            answer = await self.client.get_balance(opts=call.tracked_options())
            available = answer.available_balance
        except NotFound:  # a key without an account can pay for nothing
            available = 0
        need = priced.total_cost_cents
        if need <= available:
            return
        items = len(priced.items)
        raise GatewayError(
            grpc.StatusCode.FAILED_PRECONDITION,
            Reason.INSUFFICIENT_BALANCE,
            f"the available balance ({available} cents) cannot pay for this create (an "
            f"estimated {need} cents for {items} item(s), "
            f"{priced.total_duration_seconds:.0f} s of audio): nothing was sent "
            "(--balance-preflight); add funds, or create less",
            preconditions=(
                Precondition(
                    "BALANCE",
                    "available_balance_cents",
                    f"needs {need} cents (the estimated cost); the available balance is "
                    f"{available} cents",
                ),
            ),
        )

    async def _reserve(self, caller: str, day: str, key: str, seconds: float) -> None:
        assert self.budgets is not None
        limit_ms = round(self.daily_audio_hours * 3_600_000)
        need_ms = math.ceil(seconds * 1000)
        try:
            outcome = await self.budgets.reserve(caller, day, key, need_ms, limit_ms)
        except BudgetStoreUnavailable as exc:
            raise GatewayError(
                grpc.StatusCode.UNAVAILABLE,
                Reason.BUDGET_STORE_UNAVAILABLE,
                "the shared store of the callers' daily audio budgets (Redis) cannot be "
                "reached, so this create cannot be counted: nothing was sent; retry later",
            ) from exc
        if outcome.granted:
            return
        hours = self.daily_audio_hours
        flag = f"--caller-daily-audio-hours {hours:g}"
        raise GatewayError(
            grpc.StatusCode.RESOURCE_EXHAUSTED,
            Reason.CALLER_BUDGET_EXCEEDED,
            f"caller {caller} has created {outcome.total_ms / 3_600_000:.3f} h of audio today "
            f"(UTC) and this create adds {need_ms / 3_600_000:.3f} h, past its {hours:g} h a "
            f"day ({flag}): nothing was sent; retry after midnight UTC",
            retry_after=self._until_midnight(),
            quota_subject=f"caller {caller}: audio hours per UTC day",
            quota_description=f"at most {hours:g} hours of audio per caller per UTC day ({flag})",
        )

    def _day(self) -> str:
        return datetime.fromtimestamp(self.wall_clock(), UTC).date().isoformat()

    def _until_midnight(self) -> float:
        now = datetime.fromtimestamp(self.wall_clock(), UTC)
        midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), UTC)
        return (midnight - now).total_seconds()

    def _release_later(self, caller: str, day: str, key: str) -> None:
        """Give a reservation back from a cancelled call (which can await nothing more)."""
        assert self.budgets is not None
        task = asyncio.create_task(self.budgets.release(caller, day, key))
        self._releases.add(task)
        task.add_done_callback(self._releases.discard)


def budget_key(request: Message) -> str:
    """What names a create in its caller's audio budget: its request_id and its content (a
    retry is the same create; the id reused for another request is not); empty: no request_id."""
    request_id = getattr(request, "request_id", "")
    return f"{request_id}:{fingerprint(request)}" if request_id else ""


def _reservation_key(tenant: str, key: str) -> str:
    """A reservation's name in an account: a digest (never the tenant key), unique per call
    without a request_id."""
    if not key:
        return f"c:{uuid.uuid4().hex}"
    return "r:" + hashlib.sha256(f"{tenant}\n{key}".encode()).hexdigest()[:32]


def _certainly_failed(exc: Exception) -> bool:
    """Whether a create that raised `exc` certainly created nothing: an error the gateway or
    the upstream gave, unless its outcome is unknown. Anything else keeps its audio counted."""
    if isinstance(exc, GatewayError):
        return exc.reason is not Reason.OUTCOME_UNKNOWN
    if isinstance(exc, UpstreamError):
        return not getattr(exc, "outcome_unknown", False)
    return False
