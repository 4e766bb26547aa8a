"""`sofer-gateway balance` and `sofer-gateway estimate`: parsed as a user types them and run in
the test's event loop against the real gateway and sandbox."""

from __future__ import annotations

import json

from sofer.batch.v1 import batch_pb2
from sofer.batch.v1 import batch_service_pb2 as pb
from sofer_sandbox import SandboxServer

from gateway.cli.money import dollars
from gateway.server.process import Gateway
from tests.cli.test_client import AUDIO, assert_one_line_error, cli, to
from tests.conftest import bearer
from tests.helpers.gateways import Stub
from tests.helpers.sandbox_http import set_balance


def test_dollars() -> None:
    """Cents print as dollars with two decimals and thousands separators."""
    assert dollars(12_345_67) == "$12,345.67"
    assert dollars(5) == "$0.05"
    assert dollars(-100) == "-$1.00"


async def test_balance_prints_dollars(gateway: Gateway, sandbox: SandboxServer) -> None:
    """balance prints the available balance in dollars, and --json the proto's fields."""
    await set_balance(sandbox.url, 12_345)
    result = await cli("balance", *to(gateway))
    assert result.code == 0, result.err
    assert result.out.startswith("available $123.45 (total $123.45, pending $0.00;")
    as_json = await cli("balance", "--json", *to(gateway))
    assert json.loads(as_json.out)["availableBalanceCents"] == "12345"


async def test_estimate_prints_each_item_and_the_total(gateway: Gateway) -> None:
    """estimate URL... prints one line per item (cost, duration, price, URL) and the total;
    --mode and the speaker flags change the price."""
    result = await cli("estimate", AUDIO.format(1), AUDIO.format(2), *to(gateway))
    assert result.code == 0, result.err
    lines = result.lines
    assert len(lines) == 3
    assert lines[0].endswith(f"120 c/h\t{AUDIO.format(1)}")
    assert lines[2].startswith("total $")
    labelled = await cli(
        "estimate",
        AUDIO.format(1),
        "--mode",
        "standard",
        "--auto-speakers",
        "--json",
        *to(gateway),
    )
    item, total = (json.loads(line) for line in labelled.lines)
    assert item["centsPerHour"] == 120  # 90 + 30 for speaker labels
    assert total["totalCostCents"] == item["costCents"]


async def test_estimate_of_a_single_needs_one_url(gateway: Gateway) -> None:
    """A single transcription of two URLs is refused on one line naming the field."""
    result = await cli(
        "estimate", AUDIO.format(1), AUDIO.format(2), "--mode", "single", *to(gateway)
    )
    assert result.code != 0
    assert_one_line_error(result, "EstimateCost", "INVALID_ARGUMENT", "audio_sources")


async def test_estimate_of_a_manifest_uploaded_through_the_gateway(
    gateway: Gateway, stub: Stub
) -> None:
    """estimate --manifest ID prices the standard batch of a manifest uploaded through the
    gateway, item by item at the standard price; one it never saw is a one-line
    FAILED_PRECONDITION saying so."""
    items = [batch_pb2.AudioSource(audio_url=AUDIO.format(n)) for n in (1, 2)]
    uploaded = await stub.UploadManifest(
        pb.UploadManifestRequest(items=pb.ManifestItems(items=items)), metadata=bearer()
    )
    result = await cli("estimate", "--manifest", uploaded.manifest.id, *to(gateway))
    assert result.code == 0, result.err
    assert [line.split("\t")[2:] for line in result.lines[:2]] == [
        ["90 c/h", AUDIO.format(1)],
        ["90 c/h", AUDIO.format(2)],
    ]
    unknown = await cli(
        "estimate", "--manifest", "a1b2c3d4-e5f6-7890-abcd-ef1234567890", *to(gateway)
    )
    assert_one_line_error(unknown, "EstimateCost", "FAILED_PRECONDITION", "not uploaded through")
