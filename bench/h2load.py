"""h2load (nghttp2-client) as a gRPC load generator for unary calls.

gRPC over HTTP/2 is a POST with `content-type: application/grpc` and `te: trailers` whose body
is the length-prefixed request message; h2load sends the same body on every stream. h2load
counts an HTTP 200 as success, which a gRPC error also is (its status travels in trailers):
callers check the answers with a real gRPC client (bench/grpc_check.py) and, where there is an
upstream, that every call reached it.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import struct
from dataclasses import dataclass
from pathlib import Path

from google.protobuf.message import Message
from sofer.batch.v1 import batch_service_pb2 as pb

from bench import canned

GRPC_HEADERS = ("content-type: application/grpc", "te: trailers")
STATUS_METHOD = "sofer.batch.v1.BatchTranscriptionService/GetBatchStatus"
_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0}


def h2load_binary() -> str | None:
    """The h2load executable, or None."""
    return shutil.which("h2load")


def grpc_frame(message: Message) -> bytes:
    """`message` as one gRPC length-prefixed message: flag 0 (uncompressed), length, bytes."""
    payload = message.SerializeToString()
    return struct.pack(">BI", 0, len(payload)) + payload


def status_request_file(work_dir: Path) -> Path:
    """The gRPC-framed GetBatchStatusRequest of the canned batch, for every stream (h2load
    sends one body: every call reads the same batch)."""
    path = work_dir / "get_batch_status.bin"
    path.write_bytes(grpc_frame(pb.GetBatchStatusRequest(batch_id=canned.BATCH_ID)))
    return path


@dataclass(frozen=True)
class H2loadResult:
    """What h2load reported for one run."""

    done: int
    succeeded: int
    failed: int
    errored: int
    status_2xx: int
    status_other: int
    """3xx, 4xx and 5xx answers."""
    seconds: float
    requests_per_second: float
    mean_request_seconds: float
    max_request_seconds: float

    @property
    def clean(self) -> bool:
        """No request failed and every answer was HTTP 2xx (gRPC statuses are checked
        elsewhere). With a duration, answers still in flight at the end are counted in the
        status codes but not as done: so no equality between the two."""
        return self.failed == 0 and self.errored == 0 and self.status_other == 0


def _duration(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s)", text)
    if match is None:
        raise ValueError(f"h2load: unreadable duration {text!r}")
    return float(match[1]) * _UNITS[match[2]]


def parse(output: str) -> H2loadResult:
    """h2load's summary into numbers; raise ValueError naming what is missing."""

    def find(pattern: str) -> re.Match[str]:
        match = re.search(pattern, output, re.MULTILINE)
        if match is None:
            raise ValueError(f"h2load output lacks {pattern!r}:\n{output[-2000:]}")
        return match

    finished = find(r"^finished in ([\d.]+(?:us|ms|s)), ([\d.]+) req/s")
    requests = find(
        r"^requests: \d+ total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed, "
        r"(\d+) errored"
    )
    codes = find(r"^status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx")
    timing = find(r"^time for request:\s+(\S+)\s+(\S+)\s+(\S+)")
    return H2loadResult(
        done=int(requests[1]),
        succeeded=int(requests[2]),
        failed=int(requests[3]),
        errored=int(requests[4]),
        status_2xx=int(codes[1]),
        status_other=int(codes[2]) + int(codes[3]) + int(codes[4]),
        seconds=_duration(finished[1]),
        requests_per_second=float(finished[2]),
        mean_request_seconds=_duration(timing[3]),
        max_request_seconds=_duration(timing[2]),
    )


async def run(
    address: str,
    method: str,
    data_file: Path,
    *,
    requests: int | None = None,
    duration: float | None = None,
    connections: int = 1,
    streams: int = 16,
    extra_headers: tuple[str, ...] = (),
) -> H2loadResult:
    """h2load against `http://ADDRESS/METHOD` (h2c, prior knowledge): `requests` calls, or as
    many as fit in `duration` seconds, on `connections` x `streams` concurrent streams."""
    binary = h2load_binary()
    if binary is None:
        raise RuntimeError("h2load not found: run bench/install-tools.sh")
    argv = [binary, "-c", str(connections), "-m", str(streams), "-t", "1", "-d", str(data_file)]
    if duration is not None:
        argv += ["-D", f"{duration:g}"]
    else:
        argv += ["-n", str(requests if requests is not None else 1000)]
    for header in GRPC_HEADERS + extra_headers:
        argv += ["-H", header]
    argv.append(f"http://{address}/{method}")
    process = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await process.communicate()
    text = out.decode(errors="replace")
    if process.returncode != 0:
        raise RuntimeError(f"h2load exited {process.returncode}:\n{text[-2000:]}")
    return parse(text)
