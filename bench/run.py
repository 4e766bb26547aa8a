"""The gateway against the official soferai SDK, same workload, same sandbox upstream.

`python -m bench.run [--quick] [--json FILE]` starts, in one process tree, the sandbox upstream
(`sofer-gateway sandbox`) and the gateway (`sofer-gateway serve --upstream-url ...`), each in a
process of its own, so that the client's costs (this process), the gateway's and the upstream's
never share an event loop. It then runs every workload twice, (a) through the official SDK
straight to the sandbox and (b) through a grpc.aio client via the gateway to the same sandbox,
and reports each metric for both sides with the ratio gateway / SDK. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import grpc
import httpx
from sofer.batch.v1 import batch_pb2
from sofer.batch.v1 import batch_service_pb2 as pb
from sofer.batch.v1 import batch_service_pb2_grpc as pb_grpc
from soferai import AsyncSoferAI
from soferai.transcribe import BatchAudioSource, TranscriptionRequestInfo

# One tenant for both sides: any non-empty bearer token is a tenant of the sandbox.
TOKEN = "bench-tenant-token"  # noqa: S105 (a sandbox tenant's name, not a secret)
METADATA = (("authorization", f"Bearer {TOKEN}"),)
STATUS_TEMPLATE = "GET /v1/transcriptions/batch/{batch_id}/status"
TERMINAL = frozenset({"COMPLETED", "FAILED"})
ITEMS_PER_BATCH = 10
CALL_TIMEOUT = 30.0
STARTUP_TIMEOUT = 30.0
SDK = "sdk"
GATEWAY = "gateway"

Call = Callable[[], Awaitable[object]]


@dataclass(frozen=True)
class Settings:
    """Sizes of the workloads (full run, or --quick)."""

    status_calls: int  # N sequential GetBatchStatus, after `warmup` calls
    throughput_calls: int  # GetBatchStatus calls spread over `concurrency` workers
    concurrency: int  # C
    creates: int  # M express creates of ITEMS_PER_BATCH items, sequential
    watchers: int  # W watchers (gateway) or pollers (SDK) of one batch
    warmup: int  # calls before each measured status / create run
    item_seconds: float  # sandbox: each item takes this long (a batch ends within 2x)
    poll_interval: float  # the SDK pollers' interval (the gateway's fast interval is 1 s)


FULL = Settings(
    status_calls=2000,
    throughput_calls=4000,
    concurrency=32,
    creates=300,
    watchers=100,
    warmup=100,
    item_seconds=3.0,
    poll_interval=1.0,
)
QUICK = Settings(
    status_calls=20,
    throughput_calls=40,
    concurrency=4,
    creates=5,
    watchers=3,
    warmup=5,
    item_seconds=1.0,
    poll_interval=1.0,
)


@dataclass(frozen=True)
class Metric:
    """One row of the report: a value per side and their ratio (gateway / SDK)."""

    name: str
    unit: str
    sdk: float
    gateway: float
    better: str  # "lower" or "higher": which way is better for this metric

    @property
    def ratio(self) -> float:
        """gateway / SDK (inf when the SDK side measured 0)."""
        return self.gateway / self.sdk if self.sdk else float("inf")


# ---------------------------------------------------------------------------------------------
# Processes
# ---------------------------------------------------------------------------------------------


class Child:
    """A `sofer-gateway` sub-command run as a process, its log (stderr) going to a file.

    A file rather than a pipe: nothing in this process has to drain it while measuring.
    """

    def __init__(self, name: str, process: asyncio.subprocess.Process, log_path: Path) -> None:
        self.name = name
        self.process = process
        self.log_path = log_path

    @classmethod
    async def start(
        cls, name: str, args: Sequence[str], log_dir: Path, event: str, field: str
    ) -> tuple[Child, str]:
        """Start `python -m gateway.cli ARGS`; return it with `field` of its first log line
        whose event is `event` (the URL or address it serves on)."""
        log_path = log_dir / f"{name}.log"
        environment = {k: v for k, v in os.environ.items() if not k.startswith("SOFER_")}
        with log_path.open("wb") as log_file:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "gateway.cli",
                *args,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log_file,
                stderr=log_file,
                env=environment,
            )
        child = cls(name, process, log_path)
        try:
            value = await child._wait_for(event, field)
        except BaseException:
            await child.stop()
            raise
        return child, value

    async def _wait_for(self, event: str, field: str) -> str:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            for line in self.log_path.read_text(errors="replace").splitlines():
                with contextlib.suppress(ValueError):
                    record = json.loads(line)
                    if isinstance(record, dict) and record.get("event") == event:
                        return str(record[field])
            if self.process.returncode is not None:
                break
            await asyncio.sleep(0.05)
        raise RuntimeError(f"{self.name} did not start ({event!r} not logged):\n{self.tail()}")

    def tail(self, lines: int = 20) -> str:
        """The last lines of the child's log, for error messages."""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    async def stop(self) -> None:
        """SIGTERM, then SIGKILL if it has not exited within 10 s."""
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), 10)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    self.process.kill()
                await self.process.wait()


@dataclass
class Targets:
    """Where the running sandbox and gateway answer."""

    sandbox_url: str
    gateway_address: str


@contextlib.asynccontextmanager
async def servers(settings: Settings) -> AsyncIterator[Targets]:
    """The sandbox and the gateway, each in a process of its own, for the block's duration."""
    with tempfile.TemporaryDirectory(prefix="sofer-bench-") as tmp:
        log_dir = Path(tmp)
        sandbox, url = await Child.start(
            "sandbox",
            [
                "sandbox",
                "--listen",
                "127.0.0.1:0",
                "--item-seconds",
                str(settings.item_seconds),
                "--manifest-validation-seconds",
                "0",
            ],
            log_dir,
            "sandbox listening",
            "url",
        )
        try:
            gateway, address = await Child.start(
                "gateway",
                ["serve", "--listen", "127.0.0.1:0", "--upstream-url", url],
                log_dir,
                "gateway serving",
                "address",
            )
            try:
                yield Targets(sandbox_url=url, gateway_address=address)
            finally:
                await gateway.stop()
        finally:
            await sandbox.stop()


# ---------------------------------------------------------------------------------------------
# The two clients
# ---------------------------------------------------------------------------------------------


def audio_urls(tag: str) -> list[str]:
    """ITEMS_PER_BATCH distinct audio URLs."""
    return [f"https://bench.example.com/{tag}/{i}.mp3" for i in range(ITEMS_PER_BATCH)]


class SdkSide:
    """The official SDK, straight to the sandbox."""

    def __init__(self, sdk: AsyncSoferAI) -> None:
        self.sdk = sdk

    async def create(self, tag: str) -> str:
        """An express batch of ITEMS_PER_BATCH items; its id."""
        created = await self.sdk.batch_transcribe.create_batch_transcription(
            info=TranscriptionRequestInfo(),
            processing_mode="express",
            audio_sources=[BatchAudioSource(audio_url=url) for url in audio_urls(tag)],
            batch_title=tag,
        )
        return str(created.batch_id)

    async def status(self, batch_id: str) -> str:
        """The batch's state, e.g. "PROCESSING"."""
        answer = await self.sdk.batch_transcribe.get_batch_status(batch_id=uuid.UUID(batch_id))
        return str(answer.status)

    async def poll_until_done(self, batch_id: str, interval: float) -> None:
        """What a client without the gateway does: poll every `interval` until terminal."""
        while True:
            if await self.status(batch_id) in TERMINAL:
                return
            await asyncio.sleep(interval)


class GatewaySide:
    """A grpc.aio client through the gateway."""

    def __init__(self, stub: pb_grpc.BatchTranscriptionServiceStub) -> None:
        self.stub = stub

    async def create(self, tag: str) -> str:
        """An express batch of ITEMS_PER_BATCH items; its id."""
        request = pb.CreateBatchRequest(
            info=batch_pb2.BatchInfo(),
            processing_mode=batch_pb2.PROCESSING_MODE_EXPRESS,
            audio_sources=[batch_pb2.AudioSource(audio_url=url) for url in audio_urls(tag)],
            batch_title=tag,
        )
        response: pb.CreateBatchResponse = await self.stub.CreateBatch(
            request, metadata=METADATA, timeout=CALL_TIMEOUT
        )
        return str(response.batch_id)

    async def status(self, batch_id: str) -> int:
        """The batch's state (a BatchState value)."""
        response: pb.GetBatchStatusResponse = await self.stub.GetBatchStatus(
            pb.GetBatchStatusRequest(batch_id=batch_id), metadata=METADATA, timeout=CALL_TIMEOUT
        )
        return int(response.batch_status.state)

    async def watch_until_done(self, batch_id: str) -> int:
        """One WatchBatchStatus stream until the gateway ends it (after the terminal state)."""
        call = self.stub.WatchBatchStatus(
            pb.WatchBatchStatusRequest(batch_id=batch_id), metadata=METADATA
        )
        messages = 0
        async for _message in call:
            messages += 1
        return messages


# ---------------------------------------------------------------------------------------------
# Measurements
# ---------------------------------------------------------------------------------------------


def percentile(samples: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of `samples` (fraction in (0, 1])."""
    ordered = sorted(samples)
    rank = max(1, min(len(ordered), round(fraction * len(ordered) + 0.5)))
    return ordered[rank - 1]


@dataclass(frozen=True)
class Latencies:
    """A sequential run: each call's wall seconds, and this process's CPU seconds per call."""

    samples: list[float]
    client_cpu: float


async def latencies(call: Call, count: int, warmup: int) -> Latencies:
    """`count` sequential calls after `warmup` unmeasured ones."""
    for _ in range(warmup):
        await call()
    samples: list[float] = []
    cpu_started = time.process_time()
    for _ in range(count):
        started = time.perf_counter()
        await call()
        samples.append(time.perf_counter() - started)
    return Latencies(samples, (time.process_time() - cpu_started) / count)


async def throughput(call: Call, count: int, concurrency: int, warmup: int) -> float:
    """Calls per second: `count` calls by `concurrency` workers at once, after a warm-up."""
    await asyncio.gather(*(call() for _ in range(min(warmup, concurrency))))
    remaining = count

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            await call()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return count / (time.perf_counter() - started)


class Admin:
    """The sandbox's admin API (not in the real API): request counts and reset."""

    def __init__(self, http: httpx.AsyncClient, base_url: str) -> None:
        self.http = http
        self.base_url = base_url

    async def reset(self) -> None:
        """Forget tenants, batches and counts."""
        answer = await self.http.post(f"{self.base_url}/_sandbox/reset")
        answer.raise_for_status()

    async def status_requests(self) -> int:
        """GET .../status requests the sandbox received since the last reset."""
        answer = await self.http.get(f"{self.base_url}/_sandbox/stats")
        answer.raise_for_status()
        requests: dict[str, int] = answer.json()["requests"]
        return int(requests.get(STATUS_TEMPLATE, 0))


async def fan_out_sdk(admin: Admin, sdk: SdkSide, settings: Settings) -> tuple[int, float]:
    """W SDK pollers of one fresh batch until it ends: upstream status requests, seconds."""
    await admin.reset()
    batch_id = await sdk.create("fan-out-sdk")
    started = time.perf_counter()
    await asyncio.gather(
        *(sdk.poll_until_done(batch_id, settings.poll_interval) for _ in range(settings.watchers))
    )
    elapsed = time.perf_counter() - started
    return await admin.status_requests(), elapsed


async def fan_out_gateway(
    admin: Admin, sdk: SdkSide, gateway: GatewaySide, settings: Settings
) -> tuple[int, float]:
    """W gateway watchers of one fresh batch for its whole life: upstream status requests,
    seconds. The batch is created the same way as on the SDK side (one POST either way)."""
    await admin.reset()
    batch_id = await sdk.create("fan-out-gateway")
    started = time.perf_counter()
    counts = await asyncio.gather(
        *(gateway.watch_until_done(batch_id) for _ in range(settings.watchers))
    )
    elapsed = time.perf_counter() - started
    if min(counts) < 1:
        raise RuntimeError("a watch ended without a single message")
    return await admin.status_requests(), elapsed


def ms(seconds: float) -> float:
    """Seconds in milliseconds."""
    return seconds * 1000.0


def progress(text: str) -> None:
    """A progress note on stderr (the report goes to stdout)."""
    print(f"[bench] {text}", file=sys.stderr, flush=True)


async def measure(settings: Settings, targets: Targets) -> list[Metric]:
    """Every workload on both sides; the report's rows."""
    limits = httpx.Limits(
        max_connections=max(settings.concurrency, settings.watchers) + 10,
        max_keepalive_connections=max(settings.concurrency, settings.watchers) + 10,
    )
    async with (
        httpx.AsyncClient(timeout=CALL_TIMEOUT, limits=limits) as http,
        httpx.AsyncClient(timeout=CALL_TIMEOUT) as admin_http,
        grpc.aio.insecure_channel(targets.gateway_address) as channel,
    ):
        await asyncio.wait_for(channel.channel_ready(), STARTUP_TIMEOUT)
        sdk = SdkSide(AsyncSoferAI(api_key=TOKEN, base_url=targets.sandbox_url, httpx_client=http))
        gateway = GatewaySide(pb_grpc.BatchTranscriptionServiceStub(channel))
        admin = Admin(admin_http, targets.sandbox_url)
        await admin.reset()
        metrics: list[Metric] = []

        # 1. Status reads of one 10-item batch, the same batch for both sides.
        batch_id = await sdk.create("status-reads")

        async def sdk_status() -> object:
            return await sdk.status(batch_id)

        async def gateway_status() -> object:
            return await gateway.status(batch_id)

        progress(f"status reads: {settings.status_calls} sequential calls per side")
        sdk_lat = await latencies(sdk_status, settings.status_calls, settings.warmup)
        gw_lat = await latencies(gateway_status, settings.status_calls, settings.warmup)
        for label, fraction in (("p50", 0.50), ("p90", 0.90), ("p99", 0.99)):
            metrics.append(
                Metric(
                    f"status_latency_{label}_ms",
                    "ms",
                    ms(percentile(sdk_lat.samples, fraction)),
                    ms(percentile(gw_lat.samples, fraction)),
                    "lower",
                )
            )
        metrics.append(
            Metric(
                "status_client_cpu_ms_per_call",
                "ms",
                ms(sdk_lat.client_cpu),
                ms(gw_lat.client_cpu),
                "lower",
            )
        )
        progress(
            f"status reads: {settings.throughput_calls} calls per side, "
            f"concurrency {settings.concurrency}"
        )
        sdk_rps = await throughput(
            sdk_status, settings.throughput_calls, settings.concurrency, settings.warmup
        )
        gw_rps = await throughput(
            gateway_status, settings.throughput_calls, settings.concurrency, settings.warmup
        )
        metrics.append(Metric("status_throughput_rps", "calls/s", sdk_rps, gw_rps, "higher"))

        # 2. Express creates of 10 items each.
        progress(f"creates: {settings.creates} sequential express batches per side")
        counter = iter(range(1 << 30))

        async def sdk_create() -> object:
            return await sdk.create(f"sdk-{next(counter)}")

        async def gateway_create() -> object:
            return await gateway.create(f"gw-{next(counter)}")

        warmup = max(1, settings.warmup // 10)
        sdk_create_lat = await latencies(sdk_create, settings.creates, warmup)
        gw_create_lat = await latencies(gateway_create, settings.creates, warmup)
        for label, fraction in (("p50", 0.50), ("p99", 0.99)):
            metrics.append(
                Metric(
                    f"create_latency_{label}_ms",
                    "ms",
                    ms(percentile(sdk_create_lat.samples, fraction)),
                    ms(percentile(gw_create_lat.samples, fraction)),
                    "lower",
                )
            )

        # 3. Fan-out: W followers of one batch for its whole life, upstream requests each way.
        progress(
            f"fan-out: {settings.watchers} followers of one batch per side "
            f"(items take {settings.item_seconds} s)"
        )
        sdk_requests, sdk_seconds = await fan_out_sdk(admin, sdk, settings)
        gw_requests, gw_seconds = await fan_out_gateway(admin, sdk, gateway, settings)
        metrics.append(
            Metric(
                "fanout_upstream_status_requests",
                "requests",
                float(sdk_requests),
                float(gw_requests),
                "lower",
            )
        )
        metrics.append(Metric("fanout_follow_seconds", "s", sdk_seconds, gw_seconds, "lower"))
        return metrics


# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------


def table(metrics: Sequence[Metric], settings: Settings) -> str:
    """The report as a fixed-width table."""
    header = f"{'metric':<34} {'unit':>9} {'SDK':>10} {'gateway':>10} {'gw/SDK':>8}  better"
    lines = [header, "-" * len(header)]
    for m in metrics:
        lines.append(
            f"{m.name:<34} {m.unit:>9} {m.sdk:>10.2f} {m.gateway:>10.2f} {m.ratio:>8.3f}"
            f"  {m.better}"
        )
    lines.append("")
    lines.append(
        f"N={settings.status_calls} sequential status reads, {settings.throughput_calls} at "
        f"concurrency C={settings.concurrency}; M={settings.creates} creates of "
        f"{ITEMS_PER_BATCH} items; W={settings.watchers} followers (SDK pollers every "
        f"{settings.poll_interval:g} s, gateway watchers); items take "
        f"{settings.item_seconds:g} s. Ratio = gateway / SDK."
    )
    return "\n".join(lines)


def report(metrics: Sequence[Metric], settings: Settings, quick: bool) -> dict[str, Any]:
    """The JSON form of the report."""
    return {
        "quick": quick,
        "settings": asdict(settings),
        "items_per_batch": ITEMS_PER_BATCH,
        "cpu_count": os.cpu_count(),
        "python": sys.version.split()[0],
        "metrics": {
            m.name: {
                "unit": m.unit,
                "sdk": m.sdk,
                "gateway": m.gateway,
                "ratio": m.ratio,
                "better": m.better,
            }
            for m in metrics
        },
    }


async def run(settings: Settings) -> list[Metric]:
    """Start the servers, measure, stop the servers."""
    progress("starting the sandbox and the gateway (one process each)")
    async with servers(settings) as targets:
        progress(f"sandbox {targets.sandbox_url}, gateway {targets.gateway_address}")
        return await measure(settings, targets)


def build_parser() -> argparse.ArgumentParser:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.run",
        description="The gateway against the official soferai SDK (ratios gateway / SDK).",
    )
    parser.add_argument("--quick", action="store_true", help="tiny workloads (a few seconds)")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the report here")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `python -m bench.run`."""
    args = build_parser().parse_args(argv)
    settings = QUICK if args.quick else FULL
    metrics = asyncio.run(run(settings))
    print(table(metrics, settings))
    if args.json is not None:
        args.json.write_text(json.dumps(report(metrics, settings, args.quick), indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
