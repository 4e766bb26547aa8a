"""Fair shares per caller: `--max-watches-per-caller` and `--max-calls-per-caller` refuse one
caller past its share (RESOURCE_EXHAUSTED, CALLER_QUOTA_EXCEEDED, a QuotaFailure naming its
quota) before anything is done for the call, never stop another caller, and give the share back
however a call ends; over gRPC and over Connect alike (each case runs through both: a caller is
the same caller on either port)."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import uuid
from typing import Any

import grpc
import pytest
import structlog
from google.rpc import error_details_pb2
from sofer.batch.v1 import batch_service_pb2, batch_service_pb2_grpc
from sofer_sandbox import SandboxConfig, SandboxServer

from gateway.access.caller_quota import CallerQuota, Kind, caller_of
from gateway.access.credentials import Credential
from gateway.config import GatewayConfig
from gateway.contract.errors import GatewayError, Reason
from gateway.server.process import Gateway
from tests.conftest import BOTH_PROTOCOLS, OTHER_TOKEN, TOKEN, bearer
from tests.helpers.calls import (
    assert_error,
    assert_secret_free,
    create_express,
    detail,
    eventually,
    fault,
    rpc_error,
    source,
    upstream_count,
)
from tests.helpers.metrics import scrape

Stub = batch_service_pb2_grpc.BatchTranscriptionServiceStub
pytestmark = BOTH_PROTOCOLS  # every case over gRPC and over Connect (the HTTP port)
pb = batch_service_pb2

CONFIGURED_KEY = "organisation-service-key"
A_TOKEN = "sgw_caller-a-0123456789abcdef"
B_TOKEN = "sgw_caller-b-fedcba9876543210"
SECRETS = (CONFIGURED_KEY, A_TOKEN, B_TOKEN, TOKEN, OTHER_TOKEN)
A = "token:" + hashlib.sha256(A_TOKEN.encode()).hexdigest()[:12]
B = "token:" + hashlib.sha256(B_TOKEN.encode()).hexdigest()[:12]
STATUS_PREFIX = "/v1/transcriptions/batch/"
STATUS = "GET /v1/transcriptions/batch/{batch_id}/status"
TRANSCRIPTION = "GET /v1/transcriptions/{transcription_id}"
REFUSALS = "sofer_gateway_caller_quota_refusals_total"


def settings(**changes: Any) -> pytest.MarkDecorator:
    """Run the test with these gateway settings on top of the module's."""
    return pytest.mark.parametrize("gateway_config", [changes], indirect=True, ids=[""])


@pytest.fixture
def sandbox_config(request: pytest.FixtureRequest) -> SandboxConfig:
    """Items that take 10 minutes (or the parameter's seconds): a watch stays open until the
    test ends it."""
    seconds = getattr(request, "param", 600.0)
    return SandboxConfig(item_seconds=seconds, manifest_validation_seconds=0.0)


@pytest.fixture
def gateway_config(gateway_config: GatewayConfig, request: pytest.FixtureRequest) -> GatewayConfig:
    """A configured key, caller tokens A and B, metrics on, and the test's `settings`."""
    changes = {
        "api_key": CONFIGURED_KEY,
        "caller_tokens": (A_TOKEN, B_TOKEN),
        "metrics_listen": "127.0.0.1:0",
        **getattr(request, "param", {}),
    }
    return dataclasses.replace(gateway_config, **changes)


def quota_of(gateway: Gateway) -> CallerQuota:
    assert gateway.caller_quota is not None
    return gateway.caller_quota


def assert_refused(error: grpc.aio.AioRpcError, subject: str, flag: str) -> None:
    """RESOURCE_EXHAUSTED CALLER_QUOTA_EXCEEDED, a QuotaFailure whose subject is `subject` and
    whose description names `flag` with its value, and no secret anywhere."""
    assert_error(error, grpc.StatusCode.RESOURCE_EXHAUSTED, "CALLER_QUOTA_EXCEEDED")
    violation = detail(error, error_details_pb2.QuotaFailure).violations[0]
    assert violation.subject == subject
    assert flag in violation.description
    assert flag in (error.details() or "")
    for secret in SECRETS:
        assert_secret_free(error, secret)


async def open_watch(stub: Stub, batch_id: str, token: str, **kwargs: Any) -> Any:
    """A WatchBatchStatus stream that has sent its first message (so it is open)."""
    call = stub.WatchBatchStatus(
        pb.WatchBatchStatusRequest(batch_id=batch_id), metadata=bearer(token), **kwargs
    )
    first = await call.read()
    assert first is not grpc.aio.EOF  # type: ignore[attr-defined]
    return call


def hold_status_reads(stub: Stub, token: str, n: int, timeout: float = 60.0) -> list[Any]:
    """`n` GetBatchStatus calls of distinct batches (no shared read), in flight until the slow
    upstream answers (404) or the test cancels them."""
    return [
        stub.GetBatchStatus(
            pb.GetBatchStatusRequest(batch_id=str(uuid.uuid4())),
            metadata=bearer(token),
            timeout=timeout,
        )
        for _ in range(n)
    ]


async def drop(calls: list[Any]) -> None:
    """Cancel the calls and wait until each has ended."""
    for call in calls:
        call.cancel()
    await asyncio.gather(*(call.code() for call in calls))


async def refusals(gateway: Gateway, kind: str) -> float:
    return (await scrape(gateway.metrics_port)).value(REFUSALS, kind=kind)


# -- watches ------------------------------------------------------------------------------------


@settings(max_watches_per_caller=3, max_watches=4)
async def test_a_caller_at_its_watch_share_cannot_stop_another_from_watching(
    gateway: Gateway, stub: Stub
) -> None:
    """Caller A holds its 3 watches; its 4th is refused CALLER_QUOTA_EXCEEDED with a
    QuotaFailure naming A's watches, while caller B still opens one (the process has room for
    exactly 4). When A closes one, A can open one again. The refusal is counted by kind."""
    created = await create_express(stub, source(1), token=A_TOKEN)
    held = [await open_watch(stub, created.batch_id, A_TOKEN) for _ in range(3)]

    fourth = stub.WatchBatchStatus(
        pb.WatchBatchStatusRequest(batch_id=created.batch_id), metadata=bearer(A_TOKEN)
    )
    error = await rpc_error(fourth.read())
    assert_refused(error, f"caller {A}: open watches", "--max-watches-per-caller 3")
    assert gateway.hub is not None
    assert gateway.hub.open_watches == 3  # the refused watch never reached the hub

    other = await open_watch(stub, created.batch_id, B_TOKEN)
    assert quota_of(gateway).held(Kind.WATCHES, B) == 1

    held.pop().cancel()
    await eventually(lambda: _held(gateway, Kind.WATCHES, A), lambda n: n == 2)
    held.append(await open_watch(stub, created.batch_id, A_TOKEN))
    assert await refusals(gateway, "watches") == 1
    assert await refusals(gateway, "calls") == 0

    await drop([*held, other])
    await eventually(lambda: _total(gateway, Kind.WATCHES), lambda n: n == 0)


@settings(api_key=None, caller_tokens=(), max_watches_per_caller=2)
async def test_callers_with_their_own_tokens_are_separate_callers(
    gateway: Gateway, stub: Stub
) -> None:
    """Without caller authentication each Sofer.ai token is its own caller: one token at its 2
    watches is refused (its quota named by a hash of the token, never the token) and another
    token still opens its 2."""
    mine = await create_express(stub, source(1), token=TOKEN)
    theirs = await create_express(stub, source(2), token=OTHER_TOKEN)
    held = [await open_watch(stub, mine.batch_id, TOKEN) for _ in range(2)]

    third = stub.WatchBatchStatus(
        pb.WatchBatchStatusRequest(batch_id=mine.batch_id), metadata=bearer(TOKEN)
    )
    error = await rpc_error(third.read())
    me = caller_of(Credential(TOKEN, "caller"))
    assert me.startswith("tenant:")
    assert TOKEN not in me
    assert_refused(error, f"caller {me}: open watches", "--max-watches-per-caller 2")

    held += [await open_watch(stub, theirs.batch_id, OTHER_TOKEN) for _ in range(2)]
    await drop(held)
    await eventually(lambda: _total(gateway, Kind.WATCHES), lambda n: n == 0)


@settings(max_watches_per_caller=1)
async def test_a_watch_gives_its_share_back_however_it_ends(gateway: Gateway, stub: Stub) -> None:
    """With a share of one watch, a watch that ended in an error (unknown batch), at its
    deadline, or by the client's cancel leaves the caller free to open the next one at once."""
    created = await create_express(stub, source(1), token=A_TOKEN)

    unknown = stub.WatchBatchStatus(
        pb.WatchBatchStatusRequest(batch_id=str(uuid.uuid4())), metadata=bearer(A_TOKEN)
    )
    assert (await rpc_error(unknown.read())).code() == grpc.StatusCode.NOT_FOUND
    await eventually(lambda: _held(gateway, Kind.WATCHES, A), lambda n: n == 0)

    timed = await open_watch(stub, created.batch_id, A_TOKEN, timeout=1.0)
    assert (await rpc_error(timed.read())).code() == grpc.StatusCode.DEADLINE_EXCEEDED
    await eventually(lambda: _held(gateway, Kind.WATCHES, A), lambda n: n == 0)

    cancelled = await open_watch(stub, created.batch_id, A_TOKEN)
    cancelled.cancel()
    await eventually(lambda: _held(gateway, Kind.WATCHES, A), lambda n: n == 0)

    last = await open_watch(stub, created.batch_id, A_TOKEN)
    await drop([last])
    assert quota_of(gateway).refused[Kind.WATCHES] == 0


@pytest.mark.parametrize("sandbox_config", [0.2], indirect=True)
@settings(max_watches_per_caller=1)
async def test_a_watch_that_ends_ok_gives_its_share_back(gateway: Gateway, stub: Stub) -> None:
    """A watch that followed its batch to the end (OK) frees the caller's only watch: the
    caller watches the next batch to its end too."""
    for n in range(2):
        created = await create_express(stub, source(n), token=A_TOKEN)
        call = stub.WatchBatchStatus(
            pb.WatchBatchStatusRequest(batch_id=created.batch_id), metadata=bearer(A_TOKEN)
        )
        statuses = [r.batch_status async for r in call]
        assert statuses
        assert await call.code() == grpc.StatusCode.OK
        assert _held_now(gateway, Kind.WATCHES, A) == 0


@settings(max_watches_per_caller=2, max_calls_per_caller=2)
async def test_shutdown_gives_every_share_back(
    gateway: Gateway, stub: Stub, sandbox: SandboxServer
) -> None:
    """Watches and calls in progress when the gateway shuts down end (UNAVAILABLE) and hold
    nothing afterwards."""
    created = await create_express(stub, source(1), token=A_TOKEN)
    watches = [await open_watch(stub, created.batch_id, A_TOKEN) for _ in range(2)]
    await fault(sandbox, delay=30.0, count=2, path_prefix=STATUS_PREFIX)
    calls = hold_status_reads(stub, A_TOKEN, 2)
    await eventually(lambda: _held(gateway, Kind.CALLS, A), lambda n: n == 2)

    await gateway.stop()
    ended = [await rpc_error(w.read()) for w in watches] + [await rpc_error(c) for c in calls]
    assert {e.code() for e in ended} == {grpc.StatusCode.UNAVAILABLE}
    quota = quota_of(gateway)
    assert (quota.total(Kind.WATCHES), quota.total(Kind.CALLS)) == (0, 0)


# -- unary calls --------------------------------------------------------------------------------


@settings(max_calls_per_caller=2, max_concurrent_calls=3, max_queued_calls=0)
async def test_a_caller_at_its_call_share_cannot_stop_another_from_calling(
    gateway: Gateway, stub: Stub, sandbox: SandboxServer
) -> None:
    """Caller A has 2 calls in progress against a slow upstream; its 3rd is refused at once,
    CALLER_QUOTA_EXCEEDED with a QuotaFailure naming A's calls in progress, before it takes a
    concurrency slot or reaches the upstream, so caller B still gets the last slot."""
    created = await create_express(stub, source(1), token=B_TOKEN)
    await fault(sandbox, delay=30.0, count=2, path_prefix=STATUS_PREFIX)
    held = hold_status_reads(stub, A_TOKEN, 2)
    await eventually(lambda: upstream_count(sandbox, STATUS), lambda n: n == 2)
    assert quota_of(gateway).held(Kind.CALLS, A) == 2

    error = await rpc_error(
        stub.GetTranscription(
            pb.GetTranscriptionRequest(transcription_id=str(uuid.uuid4())),
            metadata=bearer(A_TOKEN),
            timeout=10.0,
        )
    )
    assert_refused(error, f"caller {A}: calls in progress", "--max-calls-per-caller 2")
    assert await upstream_count(sandbox, TRANSCRIPTION) == 0
    assert gateway.limiter is not None
    assert (gateway.limiter.active, gateway.limiter.shed) == (2, 0)

    answer = await stub.GetBatchStatus(
        pb.GetBatchStatusRequest(batch_id=created.batch_id), metadata=bearer(B_TOKEN), timeout=10
    )
    assert answer.batch_status.batch_id == created.batch_id
    assert await refusals(gateway, "calls") == 1

    await drop(held)
    await eventually(lambda: _total(gateway, Kind.CALLS), lambda n: n == 0)
    assert gateway.limiter.active == 0


@settings(max_calls_per_caller=1)
async def test_a_call_gives_its_share_back_however_it_ends(
    gateway: Gateway, stub: Stub, sandbox: SandboxServer
) -> None:
    """With a share of one call, a call that answered OK, failed (NOT_FOUND), ran past its
    deadline or was cancelled by the client leaves the caller free to make the next one."""
    created = await create_express(stub, source(1), token=A_TOKEN)
    quota = quota_of(gateway)

    await stub.GetBatchStatus(
        pb.GetBatchStatusRequest(batch_id=created.batch_id), metadata=bearer(A_TOKEN)
    )
    assert _held_now(gateway, Kind.CALLS, A) == 0

    missing = await rpc_error(
        stub.GetBatchStatus(
            pb.GetBatchStatusRequest(batch_id=str(uuid.uuid4())), metadata=bearer(A_TOKEN)
        )
    )
    assert missing.code() == grpc.StatusCode.NOT_FOUND
    assert _held_now(gateway, Kind.CALLS, A) == 0

    await fault(sandbox, delay=30.0, count=1, path_prefix=STATUS_PREFIX)
    (late,) = hold_status_reads(stub, A_TOKEN, 1, timeout=1.0)
    assert (await rpc_error(late)).code() == grpc.StatusCode.DEADLINE_EXCEEDED
    await eventually(lambda: _held(gateway, Kind.CALLS, A), lambda n: n == 0)

    await fault(sandbox, delay=30.0, count=1, path_prefix=STATUS_PREFIX)
    (cancelled,) = hold_status_reads(stub, A_TOKEN, 1)
    await eventually(lambda: _held(gateway, Kind.CALLS, A), lambda n: n == 1)
    await drop([cancelled])
    await eventually(lambda: _held(gateway, Kind.CALLS, A), lambda n: n == 0)

    await stub.GetBatchStatus(
        pb.GetBatchStatusRequest(batch_id=created.batch_id), metadata=bearer(A_TOKEN)
    )
    assert quota.refused[Kind.CALLS] == 0


@settings(max_calls_per_caller=1)
async def test_an_invalid_request_takes_no_share(
    gateway: Gateway, stub: Stub, sandbox: SandboxServer
) -> None:
    """A request refused by validation is not counted: the caller's one call in progress is
    still allowed after it, and with that call in progress a bad request is still answered
    INVALID_ARGUMENT (naming the field), not CALLER_QUOTA_EXCEEDED."""
    bad = await rpc_error(
        stub.GetBatchStatus(pb.GetBatchStatusRequest(batch_id=""), metadata=bearer(A_TOKEN))
    )
    assert bad.code() == grpc.StatusCode.INVALID_ARGUMENT
    await fault(sandbox, delay=30.0, count=1, path_prefix=STATUS_PREFIX)
    (held,) = hold_status_reads(stub, A_TOKEN, 1)
    await eventually(lambda: _held(gateway, Kind.CALLS, A), lambda n: n == 1)
    refused = await rpc_error(
        stub.GetBatchStatus(pb.GetBatchStatusRequest(batch_id=""), metadata=bearer(A_TOKEN))
    )
    assert refused.code() == grpc.StatusCode.INVALID_ARGUMENT  # validation answers first
    await drop([held])
    await eventually(lambda: _total(gateway, Kind.CALLS), lambda n: n == 0)


# -- off ----------------------------------------------------------------------------------------


@settings(max_calls_per_caller=0, max_watches_per_caller=0)
async def test_zero_means_no_share_at_all(
    gateway: Gateway, stub: Stub, sandbox: SandboxServer
) -> None:
    """With both settings 0 (the default) one caller opens as many watches and calls as the
    process allows, and nothing is counted per caller."""
    created = await create_express(stub, source(1), token=A_TOKEN)
    watches = [await open_watch(stub, created.batch_id, A_TOKEN) for _ in range(5)]
    await fault(sandbox, delay=30.0, count=5, path_prefix=STATUS_PREFIX)
    calls = hold_status_reads(stub, A_TOKEN, 5)
    await eventually(lambda: upstream_count(sandbox, STATUS), lambda n: n >= 5)
    quota = quota_of(gateway)
    assert (quota.total(Kind.WATCHES), quota.total(Kind.CALLS)) == (0, 0)
    await drop([*watches, *calls])
    assert quota.refused == {Kind.CALLS: 0, Kind.WATCHES: 0}


# -- the counting on its own --------------------------------------------------------------------


def test_the_count_per_caller_refuses_past_the_share_and_forgets_idle_callers() -> None:
    """One caller past its share is refused (RESOURCE_EXHAUSTED, CALLER_QUOTA_EXCEEDED) and
    takes nothing; another caller is unaffected; a lease released twice gives back one unit;
    a caller holding nothing is no longer tracked."""
    told: list[str] = []
    quota = CallerQuota(max_calls=2, max_watches=0, on_refused=told.append)
    a = Credential(CONFIGURED_KEY, "configured", A)
    b = Credential(CONFIGURED_KEY, "configured", B)
    first, second = quota.acquire(Kind.CALLS, a), quota.acquire(Kind.CALLS, a)
    with pytest.raises(GatewayError) as caught:
        quota.acquire(Kind.CALLS, a)
    assert caught.value.reason is Reason.CALLER_QUOTA_EXCEEDED
    assert caught.value.code is grpc.StatusCode.RESOURCE_EXHAUSTED
    assert quota.held(Kind.CALLS, A) == 2
    other = quota.acquire(Kind.CALLS, b)
    assert first is not None
    assert second is not None
    assert other is not None
    first.release()
    first.release()
    assert quota.held(Kind.CALLS, A) == 1
    second.release()
    other.release()
    assert quota.total(Kind.CALLS) == 0
    assert quota._counts[Kind.CALLS] == {}  # idle callers are forgotten
    assert quota.acquire(Kind.WATCHES, a) is None  # off: not counted
    assert told == ["calls"]


def test_a_share_not_below_its_process_limit_is_warned_about_at_start(
    gateway_config: GatewayConfig,
) -> None:
    """A share at or above the process-wide limit it sits under protects nobody (one caller
    can still fill the process): the gateway says so in a warning naming both flags."""
    config = dataclasses.replace(
        gateway_config,
        max_watches=100,
        max_watches_per_caller=100,
        max_concurrent_calls=8,
        max_calls_per_caller=4,
    )
    with structlog.testing.capture_logs() as logs:
        CallerQuota.from_config(config)
    warnings = [e["event"] for e in logs if e["log_level"] == "warning"]
    assert len(warnings) == 1
    assert "--max-watches-per-caller" in warnings[0]
    assert "--max-watches" in warnings[0]


# -- helpers ------------------------------------------------------------------------------------


def _held_now(gateway: Gateway, kind: Kind, caller: str) -> int:
    return quota_of(gateway).held(kind, caller)


async def _held(gateway: Gateway, kind: Kind, caller: str) -> int:
    return _held_now(gateway, kind, caller)


async def _total(gateway: Gateway, kind: Kind) -> int:
    return quota_of(gateway).total(kind)
