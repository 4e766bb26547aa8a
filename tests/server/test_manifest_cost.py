"""Standard batches priced from the manifests uploaded through the gateway, end to end: the real
gateway in front of the real sandbox, and two gateways on a real redis-server."""

from __future__ import annotations

import json
import uuid
from typing import Any

import grpc
import pytest
from sofer.batch.v1 import batch_pb2
from sofer.batch.v1 import batch_service_pb2 as pb
from sofer_sandbox import SandboxConfig, SandboxServer

from gateway.config import GatewayConfig
from gateway.state.manifest_items import KEY_PREFIX
from tests.conftest import TOKEN, bearer
from tests.helpers.calls import (
    error_info,
    field_violations,
    finished_batch,
    rpc_error,
    source,
    stats,
    validated_manifest,
)
from tests.helpers.clock import FakeTime
from tests.helpers.gateways import Gateways, Stub
from tests.helpers.redis_server import RedisServer
from tests.helpers.sandbox_http import set_balance

CREATE = "POST /v1/transcriptions/batch"
PREFLIGHT = {"balance_preflight": True}


@pytest.fixture
def sandbox_config(sandbox_clock: FakeTime) -> SandboxConfig:
    """Items finish only when the test moves the sandbox's clock."""
    return SandboxConfig(item_seconds=5.0, manifest_validation_seconds=0.0, clock=sandbox_clock)


def _sources() -> list[batch_pb2.AudioSource]:
    """Items whose prices differ: the batch's setting, one speaker of their own, detection."""
    return [
        source("std-a", client_item_id="a"),
        source("std-b", client_item_id="b", num_speakers=1),
        source("std-c", client_item_id="c", auto_detect_speakers=True),
    ]


INFO = batch_pb2.BatchInfo(num_speakers=2)


async def _upload(stub: Any, request: pb.UploadManifestRequest) -> str:
    uploaded = await stub.UploadManifest(request, metadata=bearer())
    manifest = await validated_manifest(stub, uploaded.manifest.id)
    assert manifest.status == batch_pb2.MANIFEST_STATUS_VALID
    return str(manifest.id)


def _standard(batch_file_id: str, **fields: Any) -> pb.CreateBatchRequest:
    return pb.CreateBatchRequest(
        info=INFO,
        processing_mode=batch_pb2.PROCESSING_MODE_STANDARD,
        batch_file_id=batch_file_id,
        **fields,
    )


async def _estimate(stub: Any, **fields: Any) -> pb.EstimateCostResponse:
    request = pb.EstimateCostRequest(work=pb.COSTED_WORK_STANDARD_BATCH, info=INFO, **fields)
    answer: pb.EstimateCostResponse = await stub.EstimateCost(request, metadata=bearer())
    return answer


async def _creates(sandbox: SandboxServer) -> int:
    count: int = (await stats(sandbox))["requests"].get(CREATE, 0)
    return count


@pytest.mark.parametrize("gateway_config", [PREFLIGHT], indirect=True)
async def test_preflight_prices_a_standard_batch_of_a_manifest_uploaded_here(
    stub: Stub, sandbox: SandboxServer, sandbox_clock: FakeTime
) -> None:
    """With --balance-preflight, a standard batch of a manifest uploaded through the gateway is
    priced from its items at the standard price: refused INSUFFICIENT_BALANCE with nothing sent
    while the balance is a cent short, created once it covers the cost, and the sandbox then
    charges exactly what EstimateCost (by batch_file_id) said."""
    manifest = await _upload(
        stub, pb.UploadManifestRequest(items=pb.ManifestItems(items=_sources()))
    )
    estimate = await _estimate(stub, batch_file_id=manifest)
    assert [i.cents_per_hour for i in estimate.items] == [120, 90, 120]  # standard, +30 labels
    assert estimate == await _estimate(stub, audio_sources=_sources())
    await set_balance(sandbox.url, estimate.total_cost_cents - 1)
    error = await rpc_error(stub.CreateBatch(_standard(manifest), metadata=bearer()))
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert error_info(error).reason == "INSUFFICIENT_BALANCE"
    assert await _creates(sandbox) == 0
    await set_balance(sandbox.url, estimate.total_cost_cents)
    created = await stub.CreateBatch(_standard(manifest), metadata=bearer())
    sandbox_clock.advance(3600)
    status = await finished_batch(stub, created.batch_id)
    assert status.completed_count == 3
    after = (await stub.GetBalance(pb.GetBalanceRequest(), metadata=bearer())).balance
    assert after.total_balance_cents == 0  # charged exactly the estimate
    assert after.pending_balance_cents == 0


async def test_a_jsonl_manifest_is_priced_like_its_items(stub: Stub) -> None:
    """A manifest uploaded as JSONL is priced item by item with the speaker settings of its
    lines, as the same items sent as audio_sources are."""
    lines = [
        json.dumps({"audio_url": s.audio_url, "client_item_id": s.client_item_id})
        for s in _sources()
    ]
    lines[1] = json.dumps({"audio_url": _sources()[1].audio_url, "num_speakers": 1})
    lines[2] = json.dumps({"audio_url": _sources()[2].audio_url, "auto_detect_speakers": False})
    manifest = await _upload(stub, pb.UploadManifestRequest(jsonl="\n".join(lines)))
    by_id = await _estimate(stub, batch_file_id=manifest)
    expected = [
        _sources()[0],
        source("std-b", num_speakers=1),
        source("std-c", auto_detect_speakers=False),
    ]
    assert by_id == await _estimate(stub, audio_sources=expected)
    assert [i.speaker_labels for i in by_id.items] == [True, False, False]


@pytest.mark.parametrize("gateway_config", [PREFLIGHT], indirect=True)
async def test_a_manifest_the_gateway_did_not_see_is_still_cost_unknown(
    stub: Stub, sandbox: SandboxServer
) -> None:
    """A standard batch of a manifest not uploaded through this gateway fails
    FAILED_PRECONDITION, COST_UNKNOWN, saying so and how to proceed, with nothing sent;
    EstimateCost of it fails the same way; a batch_file_id beside audio_sources, or with
    another kind of work, is INVALID_ARGUMENT on its field."""
    unknown = str(uuid.uuid4())
    error = await rpc_error(stub.CreateBatch(_standard(unknown), metadata=bearer()))
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert error_info(error).reason == "COST_UNKNOWN"
    assert "not uploaded through this gateway" in (error.details() or "")
    assert "UploadManifest" in (error.details() or "")
    assert (await stats(sandbox))["total"] == 0
    error = await rpc_error(_estimate(stub, batch_file_id=unknown))
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert error_info(error).reason == "COST_UNKNOWN"
    error = await rpc_error(_estimate(stub, batch_file_id=unknown, audio_sources=[source(1)]))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "audio_sources" in field_violations(error)
    request = pb.EstimateCostRequest(work=pb.COSTED_WORK_EXPRESS_BATCH, batch_file_id=unknown)
    error = await rpc_error(stub.EstimateCost(request, metadata=bearer()))
    assert "batch_file_id" in field_violations(error)


async def test_a_manifest_uploaded_on_one_replica_is_priced_on_another(
    gateway_config: GatewayConfig,
    gateways: Gateways,
    sandbox: SandboxServer,
    redis_server: RedisServer,
    key_secret: str,
) -> None:
    """Two gateways with --balance-preflight on one Redis: a manifest uploaded through one is
    priced and created through the other; Redis holds its items under a key without the token;
    while Redis is down an upload still succeeds and a standard create fails closed
    (UNAVAILABLE, BUDGET_STORE_UNAVAILABLE), nothing sent."""
    one, two = [
        await gateways.start(gateway_config, redis_url=redis_server.url, **PREFLIGHT)
        for _ in range(2)
    ]
    manifest = await _upload(
        one.stub, pb.UploadManifestRequest(items=pb.ManifestItems(items=_sources()))
    )
    estimate = await _estimate(two.stub, batch_file_id=manifest)
    assert estimate == await _estimate(one.stub, audio_sources=_sources())
    await set_balance(sandbox.url, estimate.total_cost_cents)
    await two.stub.CreateBatch(_standard(manifest), metadata=bearer())
    assert await _creates(sandbox) == 1
    redis = two.gateway.redis
    assert redis is not None
    keys = [k.decode() async for k in redis.client.scan_iter(match=f"{KEY_PREFIX}*")]
    assert len(keys) == 1
    assert keys[0].endswith(manifest)
    assert TOKEN not in keys[0]
    stored = await redis.client.get(keys[0])
    assert isinstance(stored, bytes)
    assert TOKEN not in stored.decode()

    redis_server.stop()
    another = await one.stub.UploadManifest(
        pb.UploadManifestRequest(items=pb.ManifestItems(items=_sources())), metadata=bearer()
    )
    assert another.manifest.id
    error = await rpc_error(two.stub.CreateBatch(_standard(manifest), metadata=bearer()))
    assert error.code() == grpc.StatusCode.UNAVAILABLE
    assert error_info(error).reason == "BUDGET_STORE_UNAVAILABLE"
    assert await _creates(sandbox) == 1
