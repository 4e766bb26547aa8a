"""The rate budget in the upstream client's attempt loop (narrow tests on httpx.MockTransport):
a call refused at once with QuotaExhausted before anything is sent, never retried and free of
retry-budget cost; creates first whatever their options say; a 429 pauses the credential."""

from __future__ import annotations

import asyncio
import time

import grpc
import httpx
import pytest
from google.rpc import error_details_pb2

from gateway.contract.errors import Reason, from_upstream
from gateway.upstream import (
    CallOptions,
    Priority,
    QuotaExhausted,
    RateLimited,
    UpstreamClient,
    UpstreamConfig,
)
from gateway.upstream.bodies import BatchTranscriptionRequest, BatchTranscriptionRequestInfo
from gateway.upstream.rate_budget import RateBudget, tenant_key
from tests.helpers.calls import eventually
from tests.helpers.upstream import FakeTime, Script, reply

TOKEN = "tenant-a-token"
STATUS = {
    "batch_id": "b",
    "status": "PROCESSING",
    "total_count": 0,
    "completed_count": 0,
    "failed_count": 0,
    "pending_count": 0,
    "transcriptions": [],
}
CREATED = {"batch_id": "b", "transcription_ids": [], "total_count": 0, "status": "PENDING"}


def client_for(
    handler: Script | httpx.MockTransport, budget: RateBudget, **kw: object
) -> UpstreamClient:
    transport = handler.transport() if isinstance(handler, Script) else handler
    return UpstreamClient(
        UpstreamConfig(base_url="http://upstream.test", backoff_base=0.0),
        transport=transport,
        rate_budget=budget,
        **kw,  # type: ignore[arg-type]
    )


async def test_a_call_without_a_token_in_time_fails_at_once_and_sends_nothing() -> None:
    """With 1 request/s and the token spent, a read with 0.5 s left fails QuotaExhausted at
    once (no time passes), retry_after about 1 s, request_sent False; the upstream saw only the
    first read, and the retry budget lost nothing."""
    fake = FakeTime()
    script = Script(reply(200, STATUS))
    budget = RateBudget(1.0, 1, clock=fake.clock)
    async with client_for(script, budget, clock=fake.clock, sleep=fake.sleep) as client:
        await client.get_batch_status("b", opts=CallOptions(token=TOKEN))
        tokens = client.budget.tokens
        opts = CallOptions(token=TOKEN, deadline=client.deadline_in(0.5))
        with pytest.raises(QuotaExhausted) as caught:
            await client.get_batch_status("b", opts=opts)
    error = caught.value
    assert error.retry_after == pytest.approx(1.0)
    assert not error.request_sent
    assert not error.outcome_unknown
    assert error.path == "/v1/transcriptions/batch/{batch_id}/status"
    assert "--upstream-rate-limit" in str(error)
    assert TOKEN not in str(error)
    assert len(script.requests) == 1
    assert opts.attempts == 0
    assert fake.sleeps == []
    assert client.budget.tokens == tokens


async def test_a_retry_that_gets_no_token_ends_the_call_with_quota_exhausted() -> None:
    """A read answered 503 would be retried, but its retry has no token before the deadline:
    the call ends QuotaExhausted (chained to the 503) instead of waiting out its time."""
    fake = FakeTime()
    script = Script(reply(503, {"detail": "busy"}), reply(200, STATUS))
    budget = RateBudget(0.5, 1, clock=fake.clock)
    async with client_for(script, budget, clock=fake.clock, sleep=fake.sleep) as client:
        opts = CallOptions(token=TOKEN, deadline=client.deadline_in(1.0))
        with pytest.raises(QuotaExhausted) as caught:
            await client.get_batch_status("b", opts=opts)
    assert caught.value.__cause__ is not None
    assert "503" in str(caught.value)
    assert len(script.requests) == 1


async def test_buckets_are_per_credential_and_keyed_by_a_hash_never_the_token() -> None:
    """One tenant's spent bucket does not stop another's call; the budget holds hashes only."""
    fake = FakeTime()
    budget = RateBudget(1.0, 1, clock=fake.clock)
    async with client_for(Script(reply(200, STATUS)), budget, clock=fake.clock) as client:
        await client.get_batch_status("b", opts=CallOptions(token=TOKEN))
        await client.get_batch_status("b", opts=CallOptions(token="tenant-b-token"))
    assert set(budget._credentials) == {tenant_key(TOKEN), tenant_key("tenant-b-token")}
    assert TOKEN not in repr(budget._credentials)


async def test_creates_go_before_waiting_reads_whatever_their_options_say() -> None:
    """Three reads wait for tokens at 10/s; a create sent after them with priority=POLL in its
    options is still a create, and reaches the upstream right after the first read."""
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.method)
        return httpx.Response(200, json=CREATED if request.method == "POST" else STATUS)

    budget = RateBudget(10.0, 1)
    async with client_for(httpx.MockTransport(handler), budget) as client:
        reads = [
            asyncio.create_task(client.get_batch_status("b", opts=CallOptions(token=TOKEN)))
            for _ in range(4)
        ]
        await eventually(lambda: asyncio.sleep(0, budget.waiting), lambda n: n >= 3, interval=0.001)
        request = BatchTranscriptionRequest(info=BatchTranscriptionRequestInfo(), batch_file_id="f")
        create = client.create_batch(request, opts=CallOptions(token=TOKEN, priority=Priority.POLL))
        await asyncio.gather(create, *reads)
    assert seen == ["GET", "POST", "GET", "GET", "GET"]


async def test_a_429_with_retry_after_pauses_the_credential_for_every_call() -> None:
    """The first read is answered 429 with retry-after-ms 400: a second read of the same
    credential, sent after it, is held until the pause ends, though the bucket had tokens."""
    sent: list[tuple[str, float]] = []
    answers = [httpx.Response(429, headers={"retry-after-ms": "400"}, json={"detail": "slow"})]

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append((request.url.path, time.monotonic()))
        return answers.pop(0) if answers else httpx.Response(200, json=STATUS)

    budget = RateBudget(100.0, 10)
    async with client_for(httpx.MockTransport(handler), budget) as client:
        opts = CallOptions(token=TOKEN, deadline=client.deadline_in(0.1))
        with pytest.raises(RateLimited):  # its own retry would not fit in its deadline
            await client.get_batch_status("first", opts=opts)
        assert budget.paused_for() > 0.2
        assert budget.pauses == 1
        await client.get_batch_status("second", opts=CallOptions(token=TOKEN))
    (_, limited), (path, second) = sent
    assert path.endswith("/second/status")
    assert second - limited >= 0.35


async def test_a_refusal_while_a_429_pauses_the_budget_carries_the_upstreams_whole_wait() -> None:
    """A 429 asking for 120 s pauses the credential's bucket (for at most 60 s); a read refused
    meanwhile says how long the upstream asked to wait (the whole 120 s less what passed, not
    the pause's 60), which a watch takes as the 429 itself. A refusal with no 429 behind it
    says nothing of the kind."""
    fake = FakeTime()
    script = Script(reply(200, STATUS))
    budget = RateBudget(1.0, 1, clock=fake.clock)
    async with client_for(script, budget, clock=fake.clock, sleep=fake.sleep) as client:
        await client.get_batch_status("b", opts=CallOptions(token=TOKEN))
        with pytest.raises(QuotaExhausted) as own:
            await client.get_batch_status("b", opts=CallOptions(TOKEN, client.deadline_in(0.5)))
        await budget.pause(tenant_key(TOKEN), 120.0)
        fake.now += 10.0
        with pytest.raises(QuotaExhausted) as paused:
            await client.get_batch_status("b", opts=CallOptions(TOKEN, client.deadline_in(5.0)))
    assert own.value.upstream_wait is None
    assert paused.value.upstream_wait == pytest.approx(110.0)
    assert budget.paused_for() == pytest.approx(50.0)


def test_quota_exhausted_becomes_resource_exhausted_with_retry_info_and_its_quota() -> None:
    """The gRPC error of a refused call is RESOURCE_EXHAUSTED, UPSTREAM_QUOTA_EXHAUSTED, with
    RetryInfo of the wait and a QuotaFailure naming the gateway's rate budget."""
    error = from_upstream(QuotaExhausted("no token", retry_after=2.5, request_sent=False))
    assert error.code is grpc.StatusCode.RESOURCE_EXHAUSTED
    assert error.reason is Reason.UPSTREAM_QUOTA_EXHAUSTED
    details = {d.type_url.rsplit(".", 1)[-1]: d for d in error.to_status().details}
    retry = error_details_pb2.RetryInfo()
    details["RetryInfo"].Unpack(retry)
    assert retry.retry_delay.ToTimedelta().total_seconds() == pytest.approx(2.5)
    quota = error_details_pb2.QuotaFailure()
    details["QuotaFailure"].Unpack(quota)
    assert quota.violations[0].subject == "upstream rate budget (--upstream-rate-limit)"
