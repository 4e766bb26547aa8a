"""`sofer-gateway list --created-after/--created-before`, run against the real gateway and a
sandbox that stamps `created_at` from the test's wall clock."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sofer.batch.v1 import batch_pb2, batch_service_pb2, batch_service_pb2_grpc
from sofer_sandbox import SandboxConfig

from gateway.main import build_parser
from gateway.server.process import Gateway
from tests.cli.test_listing_commands import cli
from tests.conftest import bearer
from tests.helpers.clock import FakeTime

Stub = batch_service_pb2_grpc.BatchTranscriptionServiceStub
pb = batch_service_pb2


@pytest.fixture
def sandbox_config(sandbox_clock: FakeTime) -> SandboxConfig:
    """The sandbox stamps `created_at` from the test's wall clock."""
    return SandboxConfig(
        item_seconds=0.5, manifest_validation_seconds=0.0, wall_clock=sandbox_clock.wall_clock
    )


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat()


async def test_list_keeps_the_creation_time_range(
    gateway: Gateway, stub: Stub, sandbox_clock: FakeTime
) -> None:
    """`list --created-after A --created-before B` prints exactly the transcriptions made
    strictly between A and B (ISO 8601, with or without an offset), across pages."""
    times = []
    for n in range(6):
        times.append(sandbox_clock.wall)
        request = pb.CreateTranscriptionRequest(
            audio_url=f"https://media.example.org/{n}.mp3", info=batch_pb2.BatchInfo(title=f"t{n}")
        )
        await stub.CreateTranscription(request, metadata=bearer())
        sandbox_clock.advance(3600)
    naive_b = datetime.fromtimestamp(times[5], UTC).replace(tzinfo=None).isoformat()
    code, out, err = await cli(
        gateway,
        "list",
        "--json",
        "--page-size",
        "1",
        "--created-after",
        _iso(times[1]),
        "--created-before",
        naive_b,
    )
    assert code == 0, err
    assert [json.loads(line)["title"] for line in out.splitlines()] == ["t4", "t3", "t2"]


async def test_list_refuses_a_bad_time_or_range_naming_it(gateway: Gateway) -> None:
    """A time that is not ISO 8601 is a usage error naming the flag; a range whose end is not
    after its start is refused by the gateway naming `created_before` (exit 3)."""
    with pytest.raises(SystemExit) as usage:
        build_parser().parse_args(["list", "--created-after", "yesterday"])
    assert usage.value.code == 2
    code, _, err = await cli(
        gateway,
        "list",
        "--created-after",
        "2026-03-02",
        "--created-before",
        "2026-03-01T00:00:00Z",
    )
    assert code == 3
    assert "INVALID_ARGUMENT" in err
    assert "created_before" in err
