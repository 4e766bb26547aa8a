"""The upstream client's retry policy, against httpx.MockTransport with a manual clock."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from email.utils import formatdate
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from structlog.testing import capture_logs

from gateway.upstream import (
    BatchTranscriptionRequest,
    BatchTranscriptionRequestInfo,
    BatchTranscriptionResponse,
    CallOptions,
    DeadlineExceeded,
    NotFound,
    PoolExhausted,
    ProtocolError,
    RateLimited,
    Unavailable,
    UpstreamClient,
    UpstreamConfig,
    UpstreamError,
)
from tests.helpers.upstream import Answer, FakeTime, Script, reply

TOKEN = "sk-secret-token-123"
STATUS_BODY: dict[str, Any] = {
    "batch_id": "b1",
    "status": "PROCESSING",
    "total_count": 0,
    "completed_count": 0,
    "failed_count": 0,
    "pending_count": 0,
    "transcriptions": [],
}
CREATED_BODY: dict[str, Any] = {
    "batch_id": "b1",
    "transcription_ids": ["t1"],
    "total_count": 1,
    "status": "RECEIVED",
}
CREATE = BatchTranscriptionRequest(
    info=BatchTranscriptionRequestInfo(num_speakers=1), processing_mode="express"
)


def request_error(cls: type[httpx.RequestError]) -> httpx.RequestError:
    """A transport exception as httpx raises it."""
    return cls(f"simulated {cls.__name__}")


Factory = Callable[..., Awaitable[UpstreamClient]]


@pytest.fixture
def fake_time() -> FakeTime:
    """A manual clock: sleeps are recorded and instant."""
    return FakeTime()


@pytest.fixture
async def make_client(fake_time: FakeTime) -> AsyncIterator[Factory]:
    """Builds started clients over a script, with the manual clock and a fixed jitter."""
    clients: list[UpstreamClient] = []

    async def factory(
        handler: Callable[[httpx.Request], httpx.Response],
        rng: Callable[[], float] = lambda: 0.5,
        **config: Any,
    ) -> UpstreamClient:
        client = UpstreamClient(
            UpstreamConfig(base_url="http://upstream.test", **config),
            transport=httpx.MockTransport(handler),
            sleep=fake_time.sleep,
            clock=fake_time.clock,
            wall_clock=fake_time.wall_clock,
            rng=rng,
        )
        clients.append(client)
        await client.start()
        return client

    yield factory
    for client in clients:
        await client.aclose()


def opts(**kwargs: Any) -> CallOptions:
    """Call options with the test token."""
    return CallOptions(token=TOKEN, **kwargs)


async def get_status(client: UpstreamClient, call: CallOptions | None = None) -> Any:
    """One GET (get_batch_status)."""
    return await client.get_batch_status("b1", opts=call or opts())


async def create(client: UpstreamClient, call: CallOptions | None = None) -> Any:
    """One POST (create_batch)."""
    return await client.create_batch(CREATE, opts=call or opts())


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
async def test_get_retries_retryable_statuses(make_client: Factory, status: int) -> None:
    """A GET answered 408, 429 or 5xx is retried, and the next success is returned."""
    script = Script(reply(status, {"detail": "try again"}), reply(200, STATUS_BODY))
    call = opts()
    result = await get_status(await make_client(script), call)
    assert result.batch_id == "b1"
    assert len(script.requests) == 2
    assert call.attempts == 2


@pytest.mark.parametrize(
    "exc",
    [httpx.ConnectError, httpx.ConnectTimeout, httpx.ReadTimeout, httpx.RemoteProtocolError],
)
async def test_get_retries_transport_failures(
    make_client: Factory, exc: type[httpx.RequestError]
) -> None:
    """A GET that fails to connect, times out reading or loses its connection is retried."""
    script = Script(request_error(exc), reply(200, STATUS_BODY))
    result = await get_status(await make_client(script))
    assert result.status == "PROCESSING"
    assert len(script.requests) == 2


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422])
async def test_get_does_not_retry_client_errors(make_client: Factory, status: int) -> None:
    """A 4xx other than 408/429 is the answer: one attempt, raised at once."""
    script = Script(reply(status, {"detail": "no"}))
    with pytest.raises(UpstreamError, match="no"):
        await get_status(await make_client(script))
    assert len(script.requests) == 1


async def test_post_not_retried_on_500(make_client: Factory) -> None:
    """A POST answered 500 is sent once: Unavailable with outcome_unknown (it may have acted)."""
    script = Script(reply(500, {"detail": "boom"}), reply(200, CREATED_BODY))
    call = opts()
    with pytest.raises(Unavailable) as info:
        await create(await make_client(script), call)
    assert len(script.requests) == 1
    assert call.attempts == 1
    assert info.value.outcome_unknown
    assert info.value.status == 500
    assert "boom" in str(info.value)


@pytest.mark.parametrize(
    ("exc", "error"),
    [
        (httpx.ReadTimeout, DeadlineExceeded),
        (httpx.WriteTimeout, DeadlineExceeded),
        (httpx.ReadError, Unavailable),
        (httpx.RemoteProtocolError, Unavailable),
    ],
)
async def test_post_not_retried_after_sending(
    make_client: Factory, exc: type[httpx.RequestError], error: type[Exception]
) -> None:
    """A POST that timed out or broke after sending is not retried and has outcome_unknown."""
    script = Script(request_error(exc), reply(200, CREATED_BODY))
    with pytest.raises(error) as info:
        await create(await make_client(script))
    assert len(script.requests) == 1
    assert getattr(info.value, "outcome_unknown", None) is True


@pytest.mark.parametrize(
    "answer",
    [
        reply(429, {"detail": "slow down"}),
        request_error(httpx.ConnectError),
        request_error(httpx.ConnectTimeout),
    ],
    ids=["429", "ConnectError", "ConnectTimeout"],
)
async def test_post_retried_where_upstream_cannot_have_acted(
    make_client: Factory, answer: Answer
) -> None:
    """A POST is retried on 429 and on failures before sending (connect)."""
    script = Script(answer, reply(200, CREATED_BODY))
    result = await create(await make_client(script))
    assert isinstance(result, BatchTranscriptionResponse)
    assert len(script.requests) == 2


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_no_free_pooled_connection_sheds_without_a_retry(
    make_client: Factory, method: str
) -> None:
    """A full connection pool (httpx.PoolTimeout) is the gateway's own limit: PoolExhausted at
    once, nothing sent, no retry (it would only wait again), no retry-budget token spent."""
    script = Script(request_error(httpx.PoolTimeout), reply(200, CREATED_BODY))
    client = await make_client(script)
    tokens = client.budget.tokens
    call = create(client) if method == "POST" else get_status(client)
    with pytest.raises(PoolExhausted) as info:
        await call
    assert len(script.requests) == 1
    assert not info.value.request_sent
    assert not info.value.outcome_unknown
    assert info.value.retry_after is not None
    assert client.budget.tokens == tokens


async def test_post_connect_failure_exhausted_is_not_outcome_unknown(
    make_client: Factory,
) -> None:
    """A POST that never connected fails Unavailable, and says the upstream did not act."""
    script = Script(request_error(httpx.ConnectError))
    with pytest.raises(Unavailable) as info:
        await create(await make_client(script, max_attempts=3))
    assert len(script.requests) == 3
    assert not info.value.outcome_unknown
    assert not info.value.request_sent


async def test_retry_after_seconds(make_client: Factory, fake_time: FakeTime) -> None:
    """Retry-After in delta-seconds is the wait before the retry."""
    script = Script(reply(429, headers={"Retry-After": "2"}), reply(200, STATUS_BODY))
    await get_status(await make_client(script))
    assert fake_time.sleeps == [2.0]


async def test_retry_after_http_date(make_client: Factory, fake_time: FakeTime) -> None:
    """Retry-After as an HTTP-date is measured from the wall clock."""
    date = formatdate(fake_time.wall + 3, usegmt=True)
    script = Script(reply(503, headers={"Retry-After": date}), reply(200, STATUS_BODY))
    await get_status(await make_client(script))
    assert fake_time.sleeps == [pytest.approx(3.0)]


async def test_retry_after_ms_wins(make_client: Factory, fake_time: FakeTime) -> None:
    """retry-after-ms is honoured, and preferred to the coarser Retry-After."""
    headers = {"retry-after-ms": "250", "Retry-After": "1"}
    script = Script(reply(429, headers=headers), reply(200, STATUS_BODY))
    await get_status(await make_client(script))
    assert fake_time.sleeps == [0.25]


async def test_backoff_is_full_jitter_and_capped(make_client: Factory, fake_time: FakeTime) -> None:
    """Without Retry-After the waits are rng * min(cap, base * 2**n): doubling, then capped."""
    script = Script(reply(503))
    client = await make_client(script, rng=lambda: 0.5, backoff_base=1.0, backoff_cap=3.0)
    with pytest.raises(Unavailable):
        await get_status(client, opts(deadline=fake_time.now + 100))
    assert len(script.requests) == 5
    assert fake_time.sleeps == [0.5, 1.0, 1.5, 1.5]


async def test_backoff_draws_from_the_rng(make_client: Factory, fake_time: FakeTime) -> None:
    """The jitter is the injected rng's draw: 0 means retry at once."""
    script = Script(reply(502), reply(200, STATUS_BODY))
    await get_status(await make_client(script, rng=lambda: 0.0))
    assert fake_time.sleeps == [0.0]


async def test_max_attempts_then_last_error(make_client: Factory) -> None:
    """After max_attempts failures the last attempt's error is raised."""
    script = Script(reply(503, {"detail": "first"}), reply(503, {"detail": "last"}))
    call = opts()
    with pytest.raises(Unavailable, match="last"):
        await get_status(await make_client(script, max_attempts=3), call)
    assert len(script.requests) == 3
    assert call.attempts == 3


async def test_no_time_left_sends_nothing(make_client: Factory, fake_time: FakeTime) -> None:
    """A deadline already spent fails DeadlineExceeded without a request."""
    script = Script(reply(200, STATUS_BODY))
    call = opts(deadline=fake_time.now)
    with pytest.raises(DeadlineExceeded) as info:
        await get_status(await make_client(script), call)
    assert script.requests == []
    assert call.attempts == 0
    assert not info.value.request_sent
    assert not info.value.outcome_unknown


async def test_timeouts_fit_the_remaining_time(make_client: Factory, fake_time: FakeTime) -> None:
    """Each attempt's httpx timeouts are within the time left; connect also within its cap."""
    script = Script(reply(503))
    remaining: list[float] = []
    deadline = fake_time.now + 4.0

    def slow(request: httpx.Request) -> httpx.Response:
        remaining.append(deadline - fake_time.now)
        fake_time.advance(0.5)  # each attempt takes half a second
        return script(request)

    client = await make_client(slow, connect_timeout=1.0, backoff_base=0.2, backoff_cap=0.2)
    with pytest.raises(Unavailable):
        await get_status(client, opts(deadline=deadline))
    timeouts = script.timeouts()
    assert len(timeouts) == 5
    for left, timeout in zip(remaining, timeouts, strict=True):
        assert timeout["read"] == pytest.approx(left)
        assert timeout["write"] <= left
        assert timeout["pool"] <= left
        assert timeout["connect"] <= min(1.0, left)
    assert remaining == sorted(remaining, reverse=True)


async def test_attempt_timeout_caps_each_attempt(make_client: Factory, fake_time: FakeTime) -> None:
    """With attempt_timeout set, an attempt gets at most that, leaving time for a retry."""
    script = Script(request_error(httpx.ReadTimeout), reply(200, STATUS_BODY))
    client = await make_client(script, attempt_timeout=2.0)
    await get_status(client, opts(deadline=fake_time.now + 10))
    assert [t["read"] for t in script.timeouts()] == [2.0, 2.0]


async def test_wait_longer_than_time_left_gives_up_at_once(
    make_client: Factory, fake_time: FakeTime
) -> None:
    """A backoff wait that would not fit before the deadline is not slept: the error is raised."""
    script = Script(reply(503, {"detail": "down"}), reply(200, STATUS_BODY))
    client = await make_client(script, rng=lambda: 0.9, backoff_base=5.0, backoff_cap=5.0)
    with pytest.raises(Unavailable, match="down"):
        await get_status(client, opts(deadline=fake_time.now + 1.0))
    assert fake_time.sleeps == []
    assert len(script.requests) == 1


async def test_long_retry_after_is_rate_limited_at_once(
    make_client: Factory, fake_time: FakeTime
) -> None:
    """A Retry-After past the deadline raises RateLimited at once, with the asked delay."""
    script = Script(reply(429, {"detail": "quota"}, headers={"Retry-After": "30"}))
    with pytest.raises(RateLimited) as info:
        await get_status(await make_client(script), opts(deadline=fake_time.now + 5))
    assert info.value.retry_after == 30.0
    assert fake_time.sleeps == []
    assert len(script.requests) == 1


async def test_rate_limited_after_attempts_keeps_retry_after(make_client: Factory) -> None:
    """When 429s outlast the attempts, RateLimited carries the last asked delay."""
    script = Script(reply(429, headers={"Retry-After": "0.5"}))
    with pytest.raises(RateLimited) as info:
        await get_status(await make_client(script, max_attempts=2))
    assert info.value.retry_after == 0.5


async def test_budget_exhaustion_stops_retries_then_recovers(make_client: Factory) -> None:
    """After a burst of failures a call makes one attempt; successes earn retries back."""
    ok = reply(200, STATUS_BODY)
    script = Script(*[reply(503)] * 6, *[ok] * 21, reply(503), ok)
    client = await make_client(script, budget_max_tokens=10, budget_token_ratio=0.1)
    with pytest.raises(Unavailable) as first:
        await get_status(client)  # 5 attempts: tokens 10 -> 5
    assert len(script.requests) == 5
    assert not first.value.retries_throttled  # it ran out of attempts, not budget
    assert client.budget.tokens == 5.0

    call = opts()
    with pytest.raises(Unavailable) as info:
        await get_status(client, call)
    assert call.attempts == 1
    assert info.value.retries_throttled
    assert "throttled" in str(info.value)
    assert client.budget.tokens == 4.0

    for _ in range(21):  # 4.0 + 21 * 0.1 = 6.1
        await get_status(client)
    assert client.budget.tokens == pytest.approx(6.1)
    call = opts()
    await get_status(client, call)  # 503 (6.1 -> 5.1 > 5: may retry), then a success
    assert call.attempts == 2


async def test_non_transient_errors_leave_the_budget_alone(make_client: Factory) -> None:
    """A 404 neither costs a token nor is retried."""
    script = Script(reply(404, {"detail": "no such batch"}))
    client = await make_client(script)
    for _ in range(8):
        with pytest.raises(NotFound):
            await get_status(client)
    assert client.budget.tokens == 10.0
    assert len(script.requests) == 8


async def test_post_500_costs_a_token(make_client: Factory) -> None:
    """A failure counts against the budget whether or not its method allows a retry."""
    client = await make_client(Script(reply(500)))
    with pytest.raises(Unavailable):
        await create(client)
    assert client.budget.tokens == 9.0


async def test_unreadable_2xx_is_protocol_error_not_retried(make_client: Factory) -> None:
    """A 200 whose body is not JSON raises ProtocolError after one attempt."""
    script = Script(reply(200, "<html>oops</html>"), reply(200, STATUS_BODY))
    with pytest.raises(ProtocolError) as info:
        await get_status(await make_client(script))
    assert len(script.requests) == 1
    assert info.value.status == 200
    assert info.value.path == "/v1/transcriptions/batch/{batch_id}/status"
    assert not info.value.outcome_unknown


async def test_malformed_created_batch_is_outcome_unknown(make_client: Factory) -> None:
    """A POST's 200 with a missing field is a ProtocolError with outcome_unknown."""
    script = Script(reply(200, {"batch_id": "b1"}))
    with pytest.raises(ProtocolError, match="transcription_ids") as info:
        await create(await make_client(script))
    assert info.value.outcome_unknown
    assert isinstance(info.value, Unavailable)


async def test_redirect_is_protocol_error(make_client: Factory) -> None:
    """A 3xx is not followed: it is a ProtocolError."""
    script = Script(reply(302, headers={"Location": "http://elsewhere.test/"}))
    with pytest.raises(ProtocolError):
        await get_status(await make_client(script))
    assert len(script.requests) == 1


async def test_one_debug_line_per_attempt_without_secrets(make_client: Factory) -> None:
    """Each attempt logs method, path template, status, attempt and wait; never the token."""
    script = Script(reply(503, headers={"Retry-After": "1"}), reply(200, STATUS_BODY))
    with capture_logs() as logs:
        await get_status(await make_client(script), opts(request_id="req-1"))
    attempts = [line for line in logs if line["event"] == "upstream_attempt"]
    assert [(a["status"], a["attempt"], a["wait"]) for a in attempts] == [
        (503, 1, 1.0),
        (200, 2, None),
    ]
    assert all(a["log_level"] == "debug" for a in attempts)
    assert all(a["path"] == "/v1/transcriptions/batch/{batch_id}/status" for a in attempts)
    assert TOKEN not in repr(logs)


OUTCOMES = st.sampled_from(["ok", "429", "429-long", "500", "503", "404", "connect", "read"])


def answer_for(outcome: str) -> Answer:
    """The scripted answer for one outcome name of the property test."""
    return {
        "ok": reply(200, CREATED_BODY | STATUS_BODY),
        "429": reply(429, headers={"Retry-After": "0.3"}),
        "429-long": reply(429, headers={"Retry-After": "50"}),
        "500": reply(500),
        "503": reply(503),
        "404": reply(404),
        "connect": request_error(httpx.ConnectError),
        "read": request_error(httpx.ReadTimeout),
    }[outcome]


@settings(max_examples=60, deadline=None)
@given(
    outcomes=st.lists(OUTCOMES, min_size=1, max_size=8),
    durations=st.lists(st.floats(min_value=0, max_value=3), min_size=8, max_size=8),
    budget=st.floats(min_value=0.05, max_value=8),
    method=st.sampled_from(["GET", "POST"]),
    draw=st.floats(min_value=0, max_value=1, exclude_max=True),
)
def test_policy_invariants(
    outcomes: list[str], durations: list[float], budget: float, method: str, draw: float
) -> None:
    """Whatever the upstream does: no wait or attempt outlives the deadline, attempts stay
    within max_attempts, and a POST is resent only after a 429 or a failure to connect."""
    fake = FakeTime()
    deadline = fake.now + budget
    script = Script(*(answer_for(o) for o in outcomes))
    sent_at: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        timeout = request.extensions["timeout"]["read"]
        left = deadline - fake.now
        assert 0 < timeout <= left
        sent_at.append(fake.now)
        fake.advance(min(durations[len(sent_at) - 1], timeout))  # an attempt ends by its timeout
        return script(request)

    async def run() -> None:
        config = UpstreamConfig(base_url="http://upstream.test", backoff_base=0.5)
        async with UpstreamClient(
            config,
            transport=httpx.MockTransport(handler),
            sleep=fake.sleep,
            clock=fake.clock,
            wall_clock=fake.wall_clock,
            rng=lambda: draw,
        ) as client:
            call = opts(deadline=deadline)
            with contextlib.suppress(UpstreamError):
                if method == "GET":
                    await client.get_batch_status("b1", opts=call)
                else:
                    await client.create_batch(CREATE, opts=call)
            assert call.attempts == len(script.requests) <= config.max_attempts

    asyncio.run(run())
    assert fake.now <= deadline
    if method == "POST":
        for outcome in outcomes[: len(script.requests) - 1]:
            assert outcome in ("429", "connect")
