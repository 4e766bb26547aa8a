"""BatchTranscriptionService: each method calls the upstream once and maps the answer.

The methods coordinate and hold no policy: credentials, validation (before any method runs),
deadlines, request ids, logging and error translation are the frame's (gateway.rpc), retries the
upstream client's, rules the validation package's, shapes the mapping module's.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

from sofer.batch.v1 import batch_service_pb2 as pb

from gateway import mapping, validation
from gateway.credentials import CallerAuth
from gateway.idempotency import IdempotencyStore, fingerprint
from gateway.inflight import InFlight
from gateway.limiter import ConcurrencyLimiter
from gateway.rpc import Call, stream_rpc, unary_rpc
from gateway.rpc_errors import Reason
from gateway.status_hub import StatusHub
from gateway.upstream import BatchStatusResponse, CallOptions, UpstreamClient

T = TypeVar("T")
# Trailing metadata on a create answered from an earlier call with the same request_id.
REPLAYED_KEY = "idempotent-replayed"


class BatchTranscriptionServicer:
    """The gateway's implementation of sofer.batch.v1.BatchTranscriptionService."""

    def __init__(
        self,
        client: UpstreamClient,
        hub: StatusHub,
        *,
        api_key: str | None,
        default_timeout: float,
        idempotency: IdempotencyStore | None = None,
        limiter: ConcurrencyLimiter | None = None,
        caller_auth: CallerAuth | None = None,
        in_flight: InFlight | None = None,
    ) -> None:
        self.client = client
        self.hub = hub
        self.idempotency = idempotency if idempotency is not None else IdempotencyStore()
        self.limiter = limiter
        """Bounds the unary RPCs working at once (gateway.rpc); None: no bound."""
        self.api_key = api_key
        self.caller_auth = caller_auth
        """Who may spend `api_key` (gateway.credentials); None: anyone who reaches the port."""
        self.default_timeout = default_timeout
        self.in_flight = in_flight if in_flight is not None else InFlight()
        """The unary calls running now, which shutdown ends with their own status."""

    async def _create(
        self,
        call: Call,
        rpc: str,
        request: pb.CreateBatchRequest | pb.UploadManifestRequest | pb.CreateManifestFromRssRequest,
        send: Callable[[CallOptions], Awaitable[T]],
    ) -> T:
        """Run a create once per (credential, request_id): see gateway.idempotency.

        Without a request_id the create is sent as it is, bounded by the caller's deadline.
        With one, it runs shielded from the caller with the gateway's own timeout, so that an
        answer that arrives after the caller gave up is still recorded for its retry; it takes
        the caller's concurrency slot over and holds it until its POST has ended. Either way a
        call cut short once the create may have been sent answers OUTCOME_UNKNOWN.
        """
        if not request.request_id:
            call.in_doubt = lambda: call.options.attempts > 0
            return await send(call.options)
        options = CallOptions(
            token=call.options.token,
            deadline=time.monotonic() + self.default_timeout,
            request_id=call.request_id,
        )
        call.tracked.append(options)
        call.in_doubt = lambda: True  # the create runs on (or is in flight) for this request_id
        result, replayed = await self.idempotency.run(
            call.credential.tenant,
            rpc,
            request.request_id,
            fingerprint(request),
            lambda: send(options),
            wait_until=call.options.deadline,
            slot=call.slot,
        )
        if replayed:
            call.note(idempotent_replay="true")
            call.context.set_trailing_metadata(((REPLAYED_KEY, "true"),))
        return result

    @unary_rpc("CreateBatch")
    async def CreateBatch(
        self, request: pb.CreateBatchRequest, call: Call
    ) -> pb.CreateBatchResponse:
        mode = validation.resolve_processing_mode(request)
        assert mode is not None  # validation refuses a request whose mode can't be resolved
        call.note(batch_file_id=request.batch_file_id)
        call.not_found = Reason.MANIFEST_NOT_FOUND
        body = mapping.create_batch_body(request, mode)
        answer = await self._create(
            call, "CreateBatch", request, lambda o: self.client.create_batch(body, opts=o)
        )
        call.note(batch_id=answer.batch_id)
        return mapping.create_batch_response(answer, mode)

    @unary_rpc("UploadManifest")
    async def UploadManifest(
        self, request: pb.UploadManifestRequest, call: Call
    ) -> pb.UploadManifestResponse:
        body = mapping.upload_manifest_body(request)
        answer = await self._create(
            call, "UploadManifest", request, lambda o: self.client.upload_batch_file(body, opts=o)
        )
        call.note(batch_file_id=answer.batch_file_id)
        return pb.UploadManifestResponse(manifest=mapping.manifest(answer))

    @unary_rpc("CreateManifestFromRss")
    async def CreateManifestFromRss(
        self, request: pb.CreateManifestFromRssRequest, call: Call
    ) -> pb.CreateManifestFromRssResponse:
        rss = mapping.rss_body(request)
        answer = await self._create(
            call,
            "CreateManifestFromRss",
            request,
            lambda o: self.client.create_batch_file_from_rss(rss, opts=o),
        )
        call.note(batch_file_id=answer.batch_file_id)
        response = pb.CreateManifestFromRssResponse(
            manifest=mapping.manifest(answer),
            offset=answer.offset,
            limit=answer.limit,
            has_more=answer.has_more,
        )
        if answer.next_offset is not None:
            response.next_offset = answer.next_offset
        return response

    @unary_rpc("GetManifest")
    async def GetManifest(
        self, request: pb.GetManifestRequest, call: Call
    ) -> pb.GetManifestResponse:
        call.note(batch_file_id=request.batch_file_id)
        call.not_found = Reason.MANIFEST_NOT_FOUND
        answer = await self.client.get_batch_file(request.batch_file_id, opts=call.options)
        return pb.GetManifestResponse(manifest=mapping.manifest(answer))

    @unary_rpc("ListManifests")
    async def ListManifests(
        self, request: pb.ListManifestsRequest, call: Call
    ) -> pb.ListManifestsResponse:
        answer = await self.client.list_batch_files(
            cursor=request.page_token or None,
            limit=request.page_size or None,
            opts=call.options,
        )
        return pb.ListManifestsResponse(
            manifests=[mapping.manifest(f) for f in answer.files],
            next_page_token=answer.next_cursor or "",
        )

    @unary_rpc("GetBatchStatus")
    async def GetBatchStatus(
        self, request: pb.GetBatchStatusRequest, call: Call
    ) -> pb.GetBatchStatusResponse:
        call.note(batch_id=request.batch_id)
        call.not_found = Reason.BATCH_NOT_FOUND
        answer = await self.client.get_batch_status(request.batch_id, opts=call.options)
        status = mapping.batch_status(answer)
        status.observed_at.GetCurrentTime()
        return pb.GetBatchStatusResponse(batch_status=status)

    @stream_rpc("WatchBatchStatus")
    async def WatchBatchStatus(
        self, request: pb.WatchBatchStatusRequest, call: Call
    ) -> AsyncIterator[pb.WatchBatchStatusResponse]:
        call.note(batch_id=request.batch_id)
        previous: BatchStatusResponse | None = None
        states: dict[str, str] | None = None
        async for observation in self.hub.watch(call.credential, request.batch_id):
            if observation.status == previous:
                continue  # a watcher that skipped a change and its undoing: nothing new to say
            message, states = mapping.watch_message(
                observation.status, observation.observed_at, states
            )
            previous = observation.status
            yield message

    @unary_rpc("GetBatchItem")
    async def GetBatchItem(
        self, request: pb.GetBatchItemRequest, call: Call
    ) -> pb.GetBatchItemResponse:
        call.note(batch_id=request.batch_id, client_item_id=request.client_item_id)
        call.not_found = Reason.BATCH_ITEM_NOT_FOUND
        answer = await self.client.get_batch_item_by_client_item_id(
            request.batch_id, request.client_item_id, opts=call.options
        )
        return pb.GetBatchItemResponse(transcription_info=mapping.transcription_info(answer))

    @unary_rpc("GetTranscription")
    async def GetTranscription(
        self, request: pb.GetTranscriptionRequest, call: Call
    ) -> pb.GetTranscriptionResponse:
        call.note(transcription_id=request.transcription_id)
        call.not_found = Reason.TRANSCRIPTION_NOT_FOUND
        answer = await self.client.get_transcription(
            request.transcription_id,
            filter_hebrew_word_format=mapping.filter_param(request.filter_hebrew_word_format),
            opts=call.options,
        )
        return pb.GetTranscriptionResponse(transcription=mapping.transcription(answer))

    @unary_rpc("GetTranscriptionStatus")
    async def GetTranscriptionStatus(
        self, request: pb.GetTranscriptionStatusRequest, call: Call
    ) -> pb.GetTranscriptionStatusResponse:
        call.note(transcription_id=request.transcription_id)
        call.not_found = Reason.TRANSCRIPTION_NOT_FOUND
        answer = await self.client.get_transcription_status(
            request.transcription_id, opts=call.options
        )
        return pb.GetTranscriptionStatusResponse(
            transcription_info=mapping.transcription_info(answer)
        )
