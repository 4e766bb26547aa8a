"""The two ways a client reads the sandbox: the official SDK straight to it, or gRPC via the
gateway. The same operations, so a workload runs unchanged on either."""

from __future__ import annotations

import asyncio
import uuid

import httpx
from sofer.batch.v1 import batch_pb2
from sofer.batch.v1 import batch_service_pb2 as pb
from sofer.batch.v1 import batch_service_pb2_grpc as pb_grpc
from soferai import AsyncSoferAI
from soferai.transcribe import BatchAudioSource, TranscriptionRequestInfo

from bench.servers import METADATA

ITEMS_PER_BATCH = 10
CALL_TIMEOUT = 30.0
STATUS_TEMPLATE = "GET /v1/transcriptions/batch/{batch_id}/status"
TERMINAL = frozenset({"COMPLETED", "FAILED"})


def audio_urls(tag: str) -> list[str]:
    """ITEMS_PER_BATCH distinct audio URLs."""
    return [f"https://bench.example.com/{tag}/{i}.mp3" for i in range(ITEMS_PER_BATCH)]


class SdkSide:
    """The official SDK (`AsyncSoferAI`), straight to the sandbox."""

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


async def create_batches(
    http: httpx.AsyncClient, base_url: str, token: str, count: int, tag: str
) -> list[str]:
    """`count` express batches straight at the sandbox (plain HTTP, 8 at a time); their ids."""
    gate = asyncio.Semaphore(8)

    async def one(index: int) -> str:
        body = {
            "processing_mode": "express",
            "info": {},
            "batch_title": f"{tag}-{index}",
            "audio_sources": [{"audio_url": url} for url in audio_urls(f"{tag}-{index}")],
        }
        async with gate:
            answer = await http.post(
                f"{base_url}/v1/transcriptions/batch",
                json=body,
                headers={"authorization": f"Bearer {token}"},
            )
        answer.raise_for_status()
        return str(answer.json()["batch_id"])

    return list(await asyncio.gather(*(one(i) for i in range(count))))
