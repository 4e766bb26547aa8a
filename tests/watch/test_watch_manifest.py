"""WatchManifest: a manifest's validation pushed until it is VALID or INVALID, on the status
hub's shared pollers (subject MANIFESTS), so no client polls GetManifest.

The sandbox validates a manifest `manifest_validation_seconds` after its upload, on its own
clock: the tests move that clock by hand, the gateway's poller finds the change on its next
poll.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator

import grpc
from sofer.batch.v1 import batch_pb2
from sofer.batch.v1 import batch_service_pb2 as pb
from sofer.batch.v1 import batch_service_pb2_grpc as pb_grpc
from sofer_sandbox import SandboxConfig, SandboxServer

from gateway.access.credentials import Credential
from gateway.config import GatewayConfig
from gateway.server.process import Gateway
from gateway.upstream import BatchFileDetail
from gateway.watch.hub import Observed
from gateway.watch.subjects import MANIFESTS
from tests.conftest import BOTH_PROTOCOLS, OTHER_TOKEN, TOKEN, bearer
from tests.helpers.calls import assert_error, field_violations, rpc_error, source
from tests.helpers.clock import FakeTime
from tests.helpers.hub import sandbox_hub
from tests.helpers.sandbox_http import client, upload_json

Stub = pb_grpc.BatchTranscriptionServiceStub
pytestmark = BOTH_PROTOCOLS  # the tests with a `stub`: over gRPC and over Connect
UNKNOWN = "a1b2c3d4-e5f6-7890-abcd-ef1234567890"
PENDING = batch_pb2.MANIFEST_STATUS_PENDING_VALIDATION


async def upload(stub: Stub, *items: batch_pb2.AudioSource, token: str = TOKEN) -> str:
    """The id of a manifest of `items`, uploaded through the gateway."""
    answer: pb.UploadManifestResponse = await stub.UploadManifest(
        pb.UploadManifestRequest(items=pb.ManifestItems(items=list(items))),
        metadata=bearer(token),
    )
    return answer.manifest.id


async def read_all(call: grpc.aio.UnaryStreamCall) -> list[pb.WatchManifestResponse]:  # type: ignore[type-arg]
    """Every message of a WatchManifest call, until it ends."""
    messages: list[pb.WatchManifestResponse] = []
    while (message := await call.read()) is not grpc.aio.EOF:  # type: ignore[attr-defined]
        assert isinstance(message, pb.WatchManifestResponse)
        messages.append(message)
    return messages


async def rest_of(
    watch: AsyncIterator[Observed[BatchFileDetail]],
) -> list[Observed[BatchFileDetail]]:
    """What a hub watch yields until it ends."""
    return [observation async for observation in watch]


def slow_validation(clock: FakeTime) -> SandboxConfig:
    """A sandbox whose manifests stay PENDING_VALIDATION for 30 s of `clock`."""
    return SandboxConfig(item_seconds=1.0, manifest_validation_seconds=30.0, clock=clock)


async def test_a_manifest_is_pushed_from_pending_to_valid(gateway_config: GatewayConfig) -> None:
    """A watch of a manifest being validated gets PENDING_VALIDATION at once, then VALID when
    the upstream has validated it, each with when it was read, and ends OK."""
    clock = FakeTime()
    async with SandboxServer(slow_validation(clock), host="127.0.0.1", port=0) as sandbox:
        config = dataclasses.replace(
            gateway_config, upstream_url=sandbox.url, watch_fast_interval=0.05
        )
        async with Gateway(config) as gateway, grpc.aio.insecure_channel(gateway.address) as ch:
            stub = Stub(ch)
            manifest_id = await upload(stub, source(1), source(2))
            call = stub.WatchManifest(
                pb.WatchManifestRequest(batch_file_id=manifest_id), metadata=bearer()
            )
            first = await call.read()
            assert isinstance(first, pb.WatchManifestResponse)
            assert (first.manifest.id, first.manifest.status) == (manifest_id, PENDING)
            assert first.observed_at.seconds > 0
            clock.advance(31)
            rest = await read_all(call)
            assert await call.code() == grpc.StatusCode.OK
    assert [m.manifest.status for m in rest] == [batch_pb2.MANIFEST_STATUS_VALID]
    assert rest[0].manifest.item_count == 2


async def test_an_invalid_manifest_ends_the_watch_with_its_errors(
    stub: Stub, sandbox: SandboxServer
) -> None:
    """A manifest the upstream rejects (an item without an audio URL, uploaded to the upstream
    directly) ends the watch on INVALID, its validation errors in the last message, the
    stream OK."""
    async with client(sandbox, TOKEN) as http:
        uploaded = await upload_json(http, [{"audio_url": "https://e.com/a.mp3"}, {"title": "x"}])
    call = stub.WatchManifest(
        pb.WatchManifestRequest(batch_file_id=uploaded["batch_file_id"]), metadata=bearer()
    )
    messages = await read_all(call)
    assert await call.code() == grpc.StatusCode.OK
    assert [m.manifest.status for m in messages] == [batch_pb2.MANIFEST_STATUS_INVALID]
    assert messages[-1].manifest.validation_errors


async def test_an_unknown_manifest_is_not_found(stub: Stub) -> None:
    """A manifest that does not exist, or is another credential's, ends the watch NOT_FOUND,
    reason MANIFEST_NOT_FOUND, naming the manifest."""
    mine = await upload(stub, source(3))
    for manifest_id, token in ((UNKNOWN, TOKEN), (mine, OTHER_TOKEN)):
        call = stub.WatchManifest(
            pb.WatchManifestRequest(batch_file_id=manifest_id), metadata=bearer(token)
        )
        error = await rpc_error(read_all(call))
        info = assert_error(error, grpc.StatusCode.NOT_FOUND, "MANIFEST_NOT_FOUND")
        assert info.metadata["batch_file_id"] == manifest_id


async def test_a_bad_id_is_invalid_argument(stub: Stub) -> None:
    """A manifest id that is not a UUID fails INVALID_ARGUMENT on `batch_file_id`."""
    call = stub.WatchManifest(pb.WatchManifestRequest(batch_file_id="nope"), metadata=bearer())
    error = await rpc_error(read_all(call))
    assert_error(error, grpc.StatusCode.INVALID_ARGUMENT, "REQUEST_INVALID")
    assert field_violations(error) == {"batch_file_id": "INVALID_UUID"}


async def test_watchers_of_one_manifest_share_one_poller(sandbox_clock: FakeTime) -> None:
    """Two watchers of one manifest share one upstream poller and see the same statuses;
    a batch watch of the same id would be a topic of its own (subjects never mix)."""
    config = slow_validation(sandbox_clock)
    async with (
        SandboxServer(config, host="127.0.0.1", port=0) as server,
        sandbox_hub(sandbox_clock, server.url) as hub,
        client(server, TOKEN) as http,
    ):
        uploaded = await upload_json(http, [{"audio_url": "https://e.com/a.mp3"}])
        credential = Credential(TOKEN, "caller")
        watches = [
            hub.watch_subject(credential, uploaded["batch_file_id"], MANIFESTS) for _ in range(2)
        ]
        firsts = [await anext(watch) for watch in watches]
        assert hub.active_pollers == 1
        assert hub.open_watches == 2
        seen = await asyncio.gather(*(rest_of(watch) for watch in watches))
    assert [str(o.status.status) for o in firsts] == ["PENDING_VALIDATION"] * 2
    assert [[str(o.status.status) for o in rest] for rest in seen] == [["VALID"], ["VALID"]]
    assert all(rest[-1].terminal for rest in seen)
