"""`sofer-gateway watch` reconnects: across a gateway restart on the same port, the watch goes on
and ends as if nothing happened (progress never backwards, one final table); with no gateway
coming back it gives up after --reconnect-timeout; a final error (NOT_FOUND, ...) never
reconnects; a RESOURCE_EXHAUSTED with RetryInfo waits at least its delay. The restart tests run
the real gateway and sandbox in this process; the policy tests use fake calls and clocks.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import io
import itertools
import json
import re
import time
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any, cast

import grpc
import pytest
from google.protobuf import any_pb2, duration_pb2
from google.rpc import error_details_pb2, status_pb2
from sofer.batch.v1 import batch_pb2, batch_service_pb2
from sofer_gateway_client import from_rpc_error
from sofer_sandbox import SandboxConfig

from gateway.cli import commands
from gateway.cli.errors import ExitCode, RpcFailed
from gateway.cli.reconnect import GaveUp, Reconnector, ReconnectPolicy
from gateway.cli.watch import Stub, watch
from gateway.config import GatewayConfig
from gateway.main import build_parser
from gateway.server.process import Gateway
from tests.cli.test_client import AUDIO, GUARD, Result, cli, create, to
from tests.conftest import TOKEN

pb = batch_service_pb2
PROGRESS = re.compile(r"^(\w+)\s+\[[#-]+\] (\d+)/(\d+) done")


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    """Items that take long enough (about 3 s, staggered) for a restart to fall mid-batch."""
    return SandboxConfig(item_seconds=3.0, manifest_validation_seconds=0.0)


@pytest.fixture
def gateway_config(gateway_config: GatewayConfig) -> GatewayConfig:
    """The shared settings, polling the sandbox often so that progress shows between restarts."""
    return dataclasses.replace(gateway_config, watch_fast_interval=0.2, watch_slow_interval=0.5)


class Running:
    """A client command running in this loop as a task, with its output readable as it comes."""

    def __init__(self, *argv: str) -> None:
        self.out, self.err = io.StringIO(), io.StringIO()
        args = build_parser().parse_args(argv)
        self.task = asyncio.create_task(commands.run_async(args, self.out, self.err))

    async def until(self, seen: Callable[[], bool]) -> None:
        """Wait (at most GUARD seconds) until `seen()` holds, failing early if the command ended."""
        async with asyncio.timeout(GUARD):
            while not seen():
                assert not self.task.done(), (self.out.getvalue(), self.err.getvalue())
                await asyncio.sleep(0.02)

    async def result(self) -> Result:
        """The command's exit status and output, once it ends (within GUARD seconds)."""
        code = await asyncio.wait_for(self.task, GUARD)
        return Result(int(code), self.out.getvalue(), self.err.getvalue())


@pytest.fixture
async def gateways() -> AsyncIterator[list[Gateway]]:
    """The gateways a test starts itself; any still running is stopped at teardown."""
    started: list[Gateway] = []
    yield started
    for gateway in reversed(started):
        await gateway.stop(0)


async def start(gateways: list[Gateway], config: GatewayConfig) -> Gateway:
    """A new gateway with `config`, stopped at the end of the test."""
    gateway = Gateway(config)
    await gateway.start()
    gateways.append(gateway)
    return gateway


def reconnect_events(err: str) -> list[dict[str, Any]]:
    """The --json reconnect objects among stderr's lines."""
    return [json.loads(line) for line in err.splitlines() if line.startswith("{")]


@pytest.mark.parametrize("mode", ["people", "json"])
async def test_watch_goes_on_across_a_gateway_restart(
    gateway_config: GatewayConfig, gateways: list[Gateway], mode: str
) -> None:
    """The gateway stops mid-watch (its watches end UNAVAILABLE SHUTTING_DOWN), is gone for a
    while (connections refused), then a new one starts on the same port: the watch reconnects,
    says so on stderr each time (a JSON object in --json mode), follows the batch to COMPLETED
    and exits 0, with progress that never goes backwards, no status printed twice in a row, and
    the final table exactly once."""
    first = await start(gateways, gateway_config)
    address = first.address
    async with grpc.aio.insecure_channel(address) as channel:
        batch_id = await create(Stub(channel), AUDIO.format(1), AUDIO.format(2), AUDIO.format(3))
    json_flag = ("--json",) if mode == "json" else ()
    running = Running("watch", batch_id, *json_flag, *to(first))
    shows_status = running.out if mode == "json" else running.err
    await running.until(lambda: shows_status.getvalue() != "")
    await first.stop()
    # Let at least one reconnect find the port closed before the new gateway takes it.
    await running.until(lambda: running.err.getvalue().count("reconnecting") >= 2)
    await start(gateways, dataclasses.replace(gateway_config, listen=address))
    result = await running.result()

    assert result.code == ExitCode.OK, result.err
    assert "Traceback" not in result.err
    if mode == "json":
        statuses = [json.loads(line) for line in result.lines]
        events = reconnect_events(result.err)
        assert len(events) == len(result.err.splitlines()) >= 2
        assert all(e["event"] == "reconnecting" and e["batch_id"] == batch_id for e in events)
        assert events[0]["code"] == "UNAVAILABLE"
        assert events[0]["reason"] == "SHUTTING_DOWN"
        assert all(isinstance(e["wait"], float | int) and e["attempt"] >= 2 for e in events)
        done = [s["completed_count"] + s["failed_count"] for s in statuses]
        assert statuses[-1]["state"] == "BATCH_STATE_COMPLETED"
        assert [s["state"] for s in statuses].count("BATCH_STATE_COMPLETED") == 1
        unstamped = [
            {k: v for k, v in s.items() if k not in ("observed_at", "changed_transcription_ids")}
            for s in statuses
        ]
        assert all(a != b for a, b in itertools.pairwise(unstamped))
    else:
        lines = result.err.splitlines()
        progress = [m for line in lines if (m := PROGRESS.match(line))]
        notes = [line for line in lines if "reconnecting in" in line]
        assert len(progress) + len(notes) == len(lines)
        assert "UNAVAILABLE (SHUTTING_DOWN)" in notes[0]
        assert all(re.search(r"reconnecting in \d+\.\d s \(attempt \d+\)$", n) for n in notes)
        done = [int(m[2]) for m in progress]
        assert progress[-1][1] == "COMPLETED"
        assert [m[1] for m in progress].count("COMPLETED") == 1
        shown = [m.string.rsplit(" | ", 1)[0] for m in progress]  # without the elapsed time
        assert all(a != b for a, b in itertools.pairwise(shown))
        assert result.out.count("CLIENT_ITEM_ID") == 1
        assert result.out.count(f"batch {batch_id} COMPLETED") == 1
        assert result.lines[0].startswith(f"batch {batch_id} COMPLETED: 3 completed")
    assert done == sorted(done)
    assert done[-1] == 3


async def test_watch_gives_up_when_no_gateway_comes_back(
    gateway_config: GatewayConfig, gateways: list[Gateway]
) -> None:
    """With the gateway gone for good, the watch reconnects for --reconnect-timeout seconds,
    then exits 3 with one line saying it gave up, why, and the last error; in --json mode each
    reconnect before it was one JSON object on stderr, and stdout held only statuses."""
    gateway = await start(gateways, gateway_config)
    async with grpc.aio.insecure_channel(gateway.address) as channel:
        batch_id = await create(Stub(channel), AUDIO.format(1))
    running = Running("watch", batch_id, "--json", "--reconnect-timeout", "1.5", *to(gateway))
    await running.until(lambda: running.out.getvalue() != "")
    stopped = time.monotonic()
    await gateway.stop()
    result = await running.result()
    waited = time.monotonic() - stopped

    assert result.code == ExitCode.RPC_ERROR
    assert waited >= 1.5  # a lower bound: it did not give up before its timeout
    *events, last = result.err.splitlines()
    assert len(events) >= 2
    assert all(json.loads(e)["event"] == "reconnecting" for e in events)
    assert last.startswith("sofer-gateway watch: error: WatchBatchStatus failed: UNAVAILABLE")
    assert "gave up reconnecting: no stream for" in last
    assert "--reconnect-timeout 1.5" in last
    assert all(json.loads(line)["batch_id"] == batch_id for line in result.lines)
    assert all(json.loads(line)["state"] != "BATCH_STATE_COMPLETED" for line in result.lines)


@pytest.mark.parametrize(
    ("batch", "token", "needle"),
    [
        ("unknown", TOKEN, "NOT_FOUND"),
        ("not-a-uuid", TOKEN, "INVALID_ARGUMENT"),
        ("unknown", "", "UNAUTHENTICATED"),
    ],
    ids=["not-found", "invalid-argument", "unauthenticated"],
)
async def test_a_final_error_is_never_reconnected(
    gateway: Gateway, batch: str, token: str, needle: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """NOT_FOUND, INVALID_ARGUMENT and UNAUTHENTICATED end the watch at once, with the long
    default --reconnect-timeout: exit 3, one error line, no reconnect note."""
    monkeypatch.delenv(commands.TOKEN_ENV, raising=False)
    batch_id = str(uuid.uuid4()) if batch == "unknown" else batch
    flags = ("--token", token) if token else ()
    for json_flag in ((), ("--json",)):
        result = await cli("watch", batch_id, *json_flag, "--target", gateway.address, *flags)
        assert result.code == ExitCode.RPC_ERROR
        [line] = result.err.splitlines()
        assert f"WatchBatchStatus failed: {needle}" in line
        assert "reconnecting" not in result.err


# -- the policy, with fake calls and clocks -------------------------------------------------------


def rpc_error(
    code: grpc.StatusCode, details: str = "", *, reason: str = "", retry_delay: float | None = None
) -> grpc.aio.AioRpcError:
    """An AioRpcError as the gateway sends it: a google.rpc.Status trailer with an ErrorInfo and,
    when `retry_delay` is given, a RetryInfo."""
    packed = []
    if reason:
        info = any_pb2.Any()
        info.Pack(error_details_pb2.ErrorInfo(reason=reason, domain="sofer-gateway"))
        packed.append(info)
    if retry_delay is not None:
        retry = any_pb2.Any()
        delay = duration_pb2.Duration()
        delay.FromTimedelta(datetime.timedelta(seconds=retry_delay))
        retry.Pack(error_details_pb2.RetryInfo(retry_delay=delay))
        packed.append(retry)
    status = status_pb2.Status(code=code.value[0], message=details, details=packed)
    trailer = grpc.aio.Metadata(("grpc-status-details-bin", status.SerializeToString()))
    return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), trailer, details, None)


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


UNAVAILABLE = rpc_error(grpc.StatusCode.UNAVAILABLE, "gone", reason="SHUTTING_DOWN")


def test_the_cli_reads_the_reason_and_the_retry_delay_through_the_client_package() -> None:
    """The ErrorInfo reason and the RetryInfo delay come out of the trailer (the client
    package's from_rpc_error, which the reconnect policy reads); an error without one (from
    gRPC itself) has neither."""
    error = rpc_error(grpc.StatusCode.RESOURCE_EXHAUSTED, reason="RATE_LIMITED", retry_delay=2.5)
    assert from_rpc_error(error).reason == "RATE_LIMITED"
    assert from_rpc_error(error).retry_after == 2.5
    bare = grpc.aio.AioRpcError(
        grpc.StatusCode.UNAVAILABLE, grpc.aio.Metadata(), grpc.aio.Metadata(), "refused", None
    )
    assert from_rpc_error(bare).reason == ""
    assert from_rpc_error(bare).retry_after is None


def test_backoff_grows_is_capped_and_restarts_after_a_stream() -> None:
    """Waits are full-jitter ceilings doubling from the base up to the cap; a stream that
    delivers a message starts the next run of failures from the base again."""
    clock = Clock()
    policy = ReconnectPolicy(timeout=1000, base=0.5, cap=4.0)
    reconnector = Reconnector(policy, clock=clock, rng=lambda: 0.999999)
    waits = [round(reconnector.failed(UNAVAILABLE).wait, 2) for _ in range(6)]
    assert waits == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    reconnector.connected()
    step = reconnector.failed(UNAVAILABLE)
    assert (step.attempt, round(step.wait, 2)) == (2, 0.5)
    assert step.reason == "SHUTTING_DOWN"
    low = Reconnector(policy, clock=clock, rng=lambda: 0.0)
    assert low.failed(UNAVAILABLE).wait == policy.floor


def test_the_timeout_bounds_a_run_of_failures() -> None:
    """The reconnect timeout counts from the first failure after the last stream: the last wait
    ends at the timeout, a failure after it gives up naming the time and the attempts, and
    `connected()` starts the clock afresh."""
    clock = Clock()
    reconnector = Reconnector(ReconnectPolicy(timeout=5, base=10, cap=10), clock=clock)
    assert reconnector.failed(UNAVAILABLE).wait <= 5
    clock.now += 4
    assert reconnector.failed(UNAVAILABLE).wait <= 1
    clock.now += 1
    with pytest.raises(GaveUp, match=r"no stream for 5\.0 s, 3 attempt\(s\)") as raised:
        reconnector.failed(UNAVAILABLE)
    assert raised.value.exit_code == ExitCode.RPC_ERROR
    assert str(raised.value).startswith("WatchBatchStatus failed: UNAVAILABLE: gone; gave up")
    reconnector.connected()
    assert reconnector.failed(UNAVAILABLE).attempt == 2


@pytest.mark.parametrize(
    "error",
    [
        rpc_error(grpc.StatusCode.NOT_FOUND, "no such batch", reason="BATCH_NOT_FOUND"),
        rpc_error(grpc.StatusCode.PERMISSION_DENIED, "no", reason="UPSTREAM_PERMISSION_DENIED"),
        rpc_error(grpc.StatusCode.RESOURCE_EXHAUSTED, "full", reason="WATCH_LIMIT_REACHED"),
        rpc_error(grpc.StatusCode.INTERNAL, "bug", reason="INTERNAL_ERROR"),
    ],
    ids=["not-found", "permission-denied", "exhausted-without-retry-info", "internal"],
)
def test_final_errors_and_disabled_reconnects_raise_the_rpc_error(
    error: grpc.aio.AioRpcError,
) -> None:
    """A final code, and RESOURCE_EXHAUSTED without a RetryInfo, raise the plain RPC error (the
    existing message, exit 3); so does UNAVAILABLE when --reconnect-timeout is 0."""
    with pytest.raises(RpcFailed) as raised:
        Reconnector(ReconnectPolicy()).failed(error)
    assert not isinstance(raised.value, GaveUp)
    assert str(raised.value).startswith(f"WatchBatchStatus failed: {error.code().name}")
    with pytest.raises(RpcFailed) as off:
        Reconnector(ReconnectPolicy(timeout=0)).failed(UNAVAILABLE)
    assert not isinstance(off.value, GaveUp)


def test_retry_info_sets_the_shortest_wait_within_the_timeout() -> None:
    """RESOURCE_EXHAUSTED with RetryInfo reconnects no sooner than its delay; a delay past what
    is left of the reconnect timeout gives up at once, saying so."""
    clock = Clock()
    reconnector = Reconnector(ReconnectPolicy(timeout=10), clock=clock, rng=lambda: 0.0)
    limited = rpc_error(grpc.StatusCode.RESOURCE_EXHAUSTED, "slow down", retry_delay=3.0)
    step = reconnector.failed(limited)
    assert step.wait == 3.0
    assert step.code is grpc.StatusCode.RESOURCE_EXHAUSTED
    too_long = rpc_error(grpc.StatusCode.RESOURCE_EXHAUSTED, "later", retry_delay=60.0)
    with pytest.raises(GaveUp, match="the gateway asked to wait 60 s, past the --reconnect"):
        reconnector.failed(too_long)


class FailingCall:
    """A WatchBatchStatus call whose first read raises `error`."""

    def __init__(self, error: grpc.aio.AioRpcError) -> None:
        self.error = error

    async def read(self) -> Any:
        raise self.error

    def cancel(self) -> bool:
        return True


class ListCall:
    """A WatchBatchStatus call answering `statuses` in turn, then `error` (or EOF)."""

    def __init__(
        self, statuses: Sequence[batch_pb2.BatchStatus], error: grpc.aio.AioRpcError | None = None
    ) -> None:
        self.statuses = list(statuses)
        self.error = error

    async def read(self) -> Any:
        if self.statuses:
            return pb.WatchBatchStatusResponse(batch_status=self.statuses.pop(0))
        if self.error is not None:
            raise self.error
        return grpc.aio.EOF  # type: ignore[attr-defined]

    def cancel(self) -> bool:
        return True


class Calls:
    """A stub whose WatchBatchStatus answers the given calls in turn."""

    def __init__(self, *calls: Any) -> None:
        self.calls = list(calls)
        self.opened = 0

    def WatchBatchStatus(self, request: Any, **_: Any) -> Any:
        self.opened += 1
        return self.calls.pop(0)


def status(state: int, done: int, total: int = 2, **extra: Any) -> batch_pb2.BatchStatus:
    """A BatchStatus of batch "b" with `done` items completed."""
    return batch_pb2.BatchStatus(
        batch_id="b",
        state=cast(Any, state),
        total_count=total,
        completed_count=done,
        pending_count=total - done,
        **extra,
    )


async def test_watch_waits_out_retry_info_then_reconnects() -> None:
    """A watch ended RESOURCE_EXHAUSTED with RetryInfo (the gateway's upstream rate limit) waits
    at least the delay, reconnects, and finishes; the JSON note names the code and the wait."""
    processing = status(batch_pb2.BATCH_STATE_PROCESSING, 0)
    limited = rpc_error(
        grpc.StatusCode.RESOURCE_EXHAUSTED, "rate limited", reason="RATE_LIMITED", retry_delay=4
    )
    stub = Calls(
        ListCall([processing], limited),
        ListCall([processing, status(batch_pb2.BATCH_STATE_COMPLETED, 2)]),
    )
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    out, err = io.StringIO(), io.StringIO()
    code = await watch(cast(Stub, stub), "b", out, err=err, json=True, sleep=sleep, rng=lambda: 0.0)
    assert code == ExitCode.OK
    assert slept == [4.0]
    [event] = [json.loads(line) for line in err.getvalue().splitlines()]
    assert event == {
        "event": "reconnecting",
        "batch_id": "b",
        "attempt": 2,
        "wait": 4.0,
        "code": "RESOURCE_EXHAUSTED",
        "reason": "RATE_LIMITED",
        "message": "rate limited",
    }
    states = [json.loads(line)["state"] for line in out.getvalue().splitlines()]
    assert states == ["BATCH_STATE_PROCESSING", "BATCH_STATE_COMPLETED"]


async def test_a_stale_or_repeated_status_after_a_reconnect_is_not_shown() -> None:
    """After a reconnect, a status equal to the last one shown (but for its time stamp), or one
    that is behind it (fewer items done, an earlier state), is not shown: the progress never
    repeats itself or goes backwards, and the table comes once at the end."""
    first = status(batch_pb2.BATCH_STATE_PROCESSING, 1)
    again = status(batch_pb2.BATCH_STATE_PROCESSING, 1, changed_transcription_ids=["x"])
    again.observed_at.GetCurrentTime()
    behind = status(batch_pb2.BATCH_STATE_RECEIVED, 0)
    stub = Calls(
        ListCall([first], UNAVAILABLE),
        FailingCall(UNAVAILABLE),
        ListCall([again, behind, status(batch_pb2.BATCH_STATE_COMPLETED, 2)]),
    )

    async def sleep(seconds: float) -> None:
        pass

    out, err = io.StringIO(), io.StringIO()
    code = await watch(cast(Stub, stub), "b", out, err=err, tty=False, sleep=sleep)
    assert code == ExitCode.OK
    assert stub.opened == 3
    lines = err.getvalue().splitlines()
    assert [line.split()[0] for line in lines] == [
        "PROCESSING",
        "WatchBatchStatus",
        "WatchBatchStatus",
        "COMPLETED",
    ]
    assert "(attempt 2)" in lines[1]
    assert "(attempt 3)" in lines[2]
    assert out.getvalue().count("CLIENT_ITEM_ID") == 1


def test_reconnect_timeout_flag() -> None:
    """--reconnect-timeout defaults to 300 s on watch and submit, takes 0 (never reconnect), and
    refuses negative numbers and words (exit 2)."""
    for argv in (["watch", "b"], ["submit", "u"]):
        assert build_parser().parse_args(argv).reconnect_timeout == 300
        assert build_parser().parse_args([*argv, "--reconnect-timeout", "0"]).reconnect_timeout == 0
    for bad in ("-1", "soon", "inf"):
        with pytest.raises(SystemExit) as exited:
            build_parser().parse_args(["watch", "b", "--reconnect-timeout", bad])
        assert exited.value.code == ExitCode.USAGE


async def test_submit_watch_of_a_file_goes_on_across_a_gateway_restart(
    gateway_config: GatewayConfig, gateways: list[Gateway], tmp_path: Path
) -> None:
    """`submit FILE --watch`: the gateway stops mid-watch and a new one starts on the same
    port; the transcription's watch reconnects (saying so on stderr), follows it to COMPLETED
    and exits 0, no state printed twice in a row (before: exit 3 at the first break)."""
    first = await start(gateways, gateway_config)
    address = first.address
    audio = tmp_path / "shiur.mp3"
    audio.write_bytes(b"\x01\x02\x03" * 1000)
    running = Running("submit", str(audio), "--watch", *to(first))
    await running.until(lambda: len(running.out.getvalue().splitlines()) >= 2)  # id, a state
    await first.stop()
    await running.until(lambda: "reconnecting in" in running.err.getvalue())
    await start(gateways, dataclasses.replace(gateway_config, listen=address))
    result = await running.result()

    assert result.code == ExitCode.OK, result.err
    transcription_id, *states = result.lines
    assert states[-1] == f"{transcription_id} COMPLETED"
    assert all(a != b for a, b in itertools.pairwise(states))
    notes = result.err.splitlines()
    assert notes
    assert all(n.startswith(f"{transcription_id}: WatchTranscription ") for n in notes)
    assert "UNAVAILABLE (SHUTTING_DOWN)" in notes[0]
