"""BatchTranscriptionService: each method calls the upstream once and maps the answer.

The methods coordinate and hold no policy: credentials, validation (before any method runs),
deadlines, request ids, logging and error translation are the frame's (gateway.server.frame),
retries the upstream client's, rules the validation package's, shapes the mapping module's.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

import grpc
from sofer.batch.v1 import batch_service_pb2 as pb

from gateway import validation
from gateway.access.caller_quota import CallerQuota
from gateway.access.credentials import CallerAuth
from gateway.contract import listing as listing_mapping
from gateway.contract import mapping
from gateway.contract.errors import GatewayError, Reason
from gateway.events.model import EventLogReader
from gateway.observability.metrics import GatewayMetrics
from gateway.server import (
    cost,
    created,
    exports,
    links,
    listing,
    manifests,
    singles,
    status_replies,
    uploads,
)
from gateway.server.frame import Call, client_stream_rpc, stream_rpc, unary_rpc
from gateway.server.inflight import InFlight
from gateway.server.limiter import ConcurrencyLimiter
from gateway.server.spend_guard import SpendGuard, budget_key
from gateway.state.idempotency import Idempotency, IdempotencyStore, fingerprint
from gateway.state.manifest_items import ManifestItems, MemoryManifestItems
from gateway.state.singleflight import SingleFlight
from gateway.upstream import (
    CallOptions,
    DeadlineExceeded,
    QuotaExhausted,
    RateLimited,
    UpstreamClient,
)
from gateway.upstream import models as upstream_models
from gateway.upstream.singles import TranscriptionRequest
from gateway.watch import resume, transcripts
from gateway.watch.hub import Observation, StatusHub
from gateway.watch.subjects import TRANSCRIPTIONS
from gateway.watch.transcript_cache import TranscriptCache
from gateway.webhooks import service as webhook_service
from gateway.webhooks.service import Webhooks

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
        idempotency: Idempotency | None = None,
        limiter: ConcurrencyLimiter | None = None,
        caller_auth: CallerAuth | None = None,
        in_flight: InFlight | None = None,
        status_max_age: float = 0.0,
        status_reuse: float = 0.0,
        metrics: GatewayMetrics | None = None,
        caller_quota: CallerQuota | None = None,
        max_response_bytes: int = 16 * 1024 * 1024,
        spend_guard: SpendGuard | None = None,
        max_upload_bytes: int = 100 * 1024 * 1024,
        manifest_items: ManifestItems | None = None,
        events: EventLogReader | None = None,
        webhooks: Webhooks | None = None,
    ) -> None:
        self.client = client
        self.hub = hub
        self.idempotency: Idempotency = (
            idempotency if idempotency is not None else IdempotencyStore()
        )
        self.limiter = limiter
        """Bounds the unary RPCs working at once (gateway.server.frame); None: no bound."""
        self.api_key = api_key
        self.caller_auth = caller_auth
        """Who may spend `api_key` (gateway.access.credentials); None: anyone who reaches the
        port."""
        self.default_timeout = default_timeout
        self.in_flight = in_flight if in_flight is not None else InFlight()
        """The unary calls running now, which shutdown ends with their own status."""
        self.status_max_age = status_max_age
        self.status_reuse = status_reuse
        """Seconds a GetBatchStatus answer from the upstream also answers identical reads."""
        self.reads = SingleFlight()
        self.status_replies = status_replies.StatusReplies()
        """GetBatchStatus replies by the upstream answer they were built from (GetBatchStatus)."""
        self.transcripts = TranscriptCache(client, timeout=default_timeout)
        """Completed transcripts, fetched once for every stream, read and export of them."""
        self.metrics = metrics
        """Counts RPCs (gateway.server.frame) and replays; None: no metrics."""
        self.caller_quota = caller_quota if caller_quota is not None else CallerQuota()
        """Each caller's share of calls and watches (gateway.server.frame); by default no limit."""
        self.max_response_bytes = max_response_bytes
        """The largest answer the frame sends (--max-send-message-bytes); RESPONSE_TOO_LARGE
        past it."""
        self.spend_guard = spend_guard if spend_guard is not None else SpendGuard(client)
        """The balance pre-flight and the callers' daily audio budgets on creates; by default
        neither (gateway.server.spend_guard)."""
        self.lists = listing.ListCache()
        """Each tenant's upstream list of transcriptions for a few seconds (ListTranscriptions)."""
        self.max_upload_bytes = max_upload_bytes
        """The largest file UploadTranscription takes (--max-upload-bytes)."""
        self.manifest_items = (
            manifest_items if manifest_items is not None else MemoryManifestItems()
        )
        """The items of the manifests uploaded here, which price standard batches."""
        self.events: EventLogReader = events if events is not None else hub.events
        """The batches' event logs, which resumable streams read (gateway.watch.resume)."""
        self.webhooks = webhooks
        """Webhook endpoints and deliveries (gateway.webhooks.service); None: none."""

    async def _create(
        self,
        call: Call,
        rpc: str,
        request: pb.CreateBatchRequest | pb.UploadManifestRequest | pb.CreateManifestFromRssRequest,
        send: Callable[[CallOptions], Awaitable[T]],
    ) -> T:
        """Run a create once per (credential, request_id): see gateway.state.idempotency.

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
            if self.metrics is not None:
                self.metrics.replayed(rpc)
            call.set_trailing_metadata(((REPLAYED_KEY, "true"),))
        return result

    @unary_rpc("CreateBatch")
    async def CreateBatch(
        self, request: pb.CreateBatchRequest, call: Call
    ) -> pb.CreateBatchResponse:
        mode = validation.resolve_processing_mode(request)
        assert mode is not None  # validation refuses a request whose mode can't be resolved
        call.note(batch_file_id=request.batch_file_id)
        call.not_found = Reason.MANIFEST_NOT_FOUND
        key = budget_key(request)

        async def send(options: CallOptions) -> upstream_models.BatchTranscriptionResponse:
            # Inside the (recorded) create: a retry of one that was made neither resolves its
            # links again nor passes the spending guards again. The guards price the resolved
            # audio, so they come after the links.
            resolved = await links.resolve_sources(self.client, request, call.tracked_options)
            body = mapping.create_batch_body(resolved, mode)
            work = None
            if self.spend_guard.active:  # unguarded, a standard create costs no manifest read
                tenant = call.credential.tenant
                work = await cost.batch_work(resolved, mode, tenant, self.manifest_items)
            return await self.spend_guard.guarded(
                call,
                work,
                key,
                lambda: self.client.create_batch(body, opts=options),
            )

        if request.webhook_url and self.webhooks is not None:  # refused before anything is sent
            await self.webhooks.check_url(request.webhook_url, "webhook_url")
        answer = await self._create(call, "CreateBatch", request, send)
        call.note(batch_id=answer.batch_id)
        response = mapping.create_batch_response(answer, mode)
        response.webhook_id, response.webhook_secret = await self._webhook_created(
            call, request.request_id, request.webhook_url, response.batch_id, "CreateBatch"
        )
        return response

    @unary_rpc("UploadManifest")
    async def UploadManifest(
        self, request: pb.UploadManifestRequest, call: Call
    ) -> pb.UploadManifestResponse:
        body = mapping.upload_manifest_body(request)
        answer = await self._create(
            call, "UploadManifest", request, lambda o: self.client.upload_batch_file(body, opts=o)
        )
        call.note(batch_file_id=answer.batch_file_id)
        # Remembered for pricing its standard batch (the upstream has no read of its items).
        items = cost.manifest_items(request)
        await self.manifest_items.remember(call.credential.tenant, answer.batch_file_id, items)
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

        async def fetch(options: CallOptions) -> pb.GetManifestResponse:
            answer = await self.client.get_batch_file(request.batch_file_id, opts=options)
            return pb.GetManifestResponse(manifest=mapping.manifest(answer))

        return await self._read(call, ("GetManifest", request.batch_file_id), fetch)

    @unary_rpc("ListManifests")
    async def ListManifests(
        self, request: pb.ListManifestsRequest, call: Call
    ) -> pb.ListManifestsResponse:

        async def fetch(options: CallOptions) -> pb.ListManifestsResponse:
            answer = await self.client.list_batch_files(
                cursor=request.page_token or None,
                limit=request.page_size or None,
                opts=options,
            )
            return pb.ListManifestsResponse(
                manifests=[mapping.manifest(f) for f in answer.files],
                next_page_token=answer.next_cursor or "",
            )

        key = ("ListManifests", request.page_token, request.page_size)
        return await self._read(call, key, fetch)

    @unary_rpc("GetBatchStatus")
    async def GetBatchStatus(
        self, request: pb.GetBatchStatusRequest, call: Call
    ) -> pb.GetBatchStatusResponse | bytes:
        """The batch's status: from a watch's poller when it read it within
        `--status-max-age`, else from one upstream read shared by identical reads in flight and
        within `--status-reuse-window` (`_read`), whose answer carries when it arrived
        (`observed_at`).

        The reply is built (decoded, mapped, serialized) once per distinct upstream answer
        (gateway.server.status_replies: keyed by the answer's bytes, bounded), and each upstream
        read sends those bytes with its own observed_at (gateway.server.passthrough): a batch
        read again while it has not changed costs no decoding, mapping or serializing.
        """
        call.note(batch_id=request.batch_id)
        call.not_found = Reason.BATCH_NOT_FOUND
        observation = self.hub.fresh(call.credential, request.batch_id, self.status_max_age)
        if observation is not None:  # a watch's poller read it moments ago: no upstream call
            call.note(from_watch_poller="true")
            return _observed_status(observation)

        async def fetch(options: CallOptions) -> bytes:
            status = await self.client.get_batch_status_as(
                request.batch_id, self.status_replies.reply, opts=options
            )
            return status_replies.with_observed_at(status)  # when the (shared) answer arrived

        return await self._read(
            call, ("GetBatchStatus", request.batch_id), fetch, reuse=self.status_reuse
        )

    @stream_rpc("WatchBatchStatus", watch=True)
    async def WatchBatchStatus(
        self, request: pb.WatchBatchStatusRequest, call: Call
    ) -> AsyncIterator[bytes]:
        # Bytes made once per topic version and passed through as they are (gateway.watch.fanout,
        # gateway.server.passthrough): a change costs one build, not one per watcher.
        # Events and resume tokens: gateway.watch.resume.
        call.note(batch_id=request.batch_id)
        after = resume.start(request.resume_token, request.batch_id)
        stream = resume.WatchStream(self.events, call.credential, request.batch_id, after)
        async for observation in self.hub.watch(call.credential, request.batch_id):
            data = stream.fast(observation)
            if data is None:
                data = await stream.slow(observation)
            if data:
                yield data

    @stream_rpc("StreamBatchTranscripts", watch=True)
    async def StreamBatchTranscripts(
        self, request: pb.StreamBatchTranscriptsRequest, call: Call
    ) -> AsyncIterator[bytes]:
        # Bytes as well (gateway.server.passthrough): a transcript is serialized once for every
        # stream.
        call.note(batch_id=request.batch_id)
        call.not_found = Reason.TRANSCRIPTION_NOT_FOUND  # hub errors come translated already
        async for data in transcripts.batch_transcripts(
            self.hub,
            self.transcripts,
            request,
            call.credential,
            log=self.events,
            request_id=call.request_id,
            note=lambda transcription_id: call.note(transcription_id=transcription_id),
        ):
            yield data

    @unary_rpc("GetBatchItem")
    async def GetBatchItem(
        self, request: pb.GetBatchItemRequest, call: Call
    ) -> pb.GetBatchItemResponse:
        call.note(batch_id=request.batch_id, client_item_id=request.client_item_id)
        call.not_found = Reason.BATCH_ITEM_NOT_FOUND

        async def fetch(options: CallOptions) -> pb.GetBatchItemResponse:
            answer = await self.client.get_batch_item_by_client_item_id(
                request.batch_id, request.client_item_id, opts=options
            )
            return pb.GetBatchItemResponse(transcription_info=mapping.transcription_info(answer))

        key = ("GetBatchItem", request.batch_id, request.client_item_id)
        return await self._read(call, key, fetch)

    @unary_rpc("GetTranscription")
    async def GetTranscription(
        self, request: pb.GetTranscriptionRequest, call: Call
    ) -> pb.GetTranscriptionResponse:
        # Through the transcript cache (gateway.server.exports), as exports and streams read.
        return await exports.get_transcription(self.transcripts, call, request)

    @unary_rpc("ExportTranscription")
    async def ExportTranscription(
        self, request: pb.ExportTranscriptionRequest, call: Call
    ) -> pb.ExportTranscriptionResponse:
        return await exports.export_transcription(self.transcripts, call, request)

    @unary_rpc("GetTranscriptionStatus")
    async def GetTranscriptionStatus(
        self, request: pb.GetTranscriptionStatusRequest, call: Call
    ) -> pb.GetTranscriptionStatusResponse:
        call.note(transcription_id=request.transcription_id)
        call.not_found = Reason.TRANSCRIPTION_NOT_FOUND

        async def fetch(options: CallOptions) -> pb.GetTranscriptionStatusResponse:
            answer = await self.client.get_transcription_status(
                request.transcription_id, opts=options
            )
            return pb.GetTranscriptionStatusResponse(
                transcription_info=mapping.transcription_info(answer)
            )

        key = ("GetTranscriptionStatus", request.transcription_id)
        return await self._read(call, key, fetch)

    # --- issue 22: money ---
    @unary_rpc("GetBalance")
    async def GetBalance(self, request: pb.GetBalanceRequest, call: Call) -> pb.GetBalanceResponse:
        call.not_found = Reason.ACCOUNT_NOT_FOUND

        async def fetch(options: CallOptions) -> pb.GetBalanceResponse:
            answer = await self.client.get_balance(opts=options)
            return pb.GetBalanceResponse(balance=cost.balance(answer))

        return await self._read(call, ("GetBalance",), fetch)

    @unary_rpc("EstimateCost")
    async def EstimateCost(
        self, request: pb.EstimateCostRequest, call: Call
    ) -> pb.EstimateCostResponse:
        call.note(items=str(len(request.audio_sources)), batch_file_id=request.batch_file_id)
        work = await cost.request_work(request, call.credential.tenant, self.manifest_items)
        return await cost.estimate(self.client, work, call.tracked_options)

    # --- issue 22: listing and links ---

    @unary_rpc("ListTranscriptions")
    async def ListTranscriptions(
        self, request: pb.ListTranscriptionsRequest, call: Call
    ) -> pb.ListTranscriptionsResponse:
        """A page cut from the tenant's upstream list: held `listing.LIST_REUSE_SECONDS`, and
        one GET shared by identical reads in flight (gateway.server.listing); the creation-time
        bounds found by binary search, one status read per probe not yet known
        (gateway.server.created)."""
        tenant = call.credential.tenant
        token = listing.start_token(request, tenant)  # a bad token costs nothing upstream
        listed = self.lists.get(tenant)
        if listed is None:
            call.note(list_read="upstream")
            listed = await self._read(
                call,
                ("ListTranscriptions",),
                lambda o: self.client.list_transcriptions(opts=o),
            )
            self.lists.put(tenant, listed)
        bounds = created.Bounds.of(request)
        if bounds is None:
            return listing.page(listed, request, tenant, token)
        reads = 0

        async def created_at(transcription_id: str) -> int:
            nonlocal reads
            reads += 1
            # GetTranscriptionStatus's key and answer: probes share its reads in flight.
            key = ("GetTranscriptionStatus", transcription_id)
            answer = await self._read(
                call, key, created.status_fetch(self.client, transcription_id)
            )
            return answer.transcription_info.created_at.ToNanoseconds()

        try:
            window = await created.window(
                listed.items, bounds, tenant, self.lists.created, created_at
            )
        finally:
            call.note(created_reads=str(reads))
        return listing.page(listed, request, tenant, token, window)

    @unary_rpc("ExtractLink")
    async def ExtractLink(
        self, request: pb.ExtractLinkRequest, call: Call
    ) -> pb.ExtractLinkResponse:
        async def fetch(options: CallOptions) -> pb.ExtractLinkResponse:
            answer = await links.extract(self.client, request.url, options)
            return listing_mapping.extract_link_response(answer)

        return await self._read(call, ("ExtractLink", request.url), fetch)

    @unary_rpc("ListSupportedSites")
    async def ListSupportedSites(
        self, request: pb.ListSupportedSitesRequest, call: Call
    ) -> pb.ListSupportedSitesResponse:
        async def fetch(options: CallOptions) -> pb.ListSupportedSitesResponse:
            answer = await self.client.list_supported_sites(opts=options)
            return listing_mapping.supported_sites(answer)

        return await self._read(call, ("ListSupportedSites",), fetch)

    # --- issue 22: single transcriptions ---

    @unary_rpc("CreateTranscription")
    async def CreateTranscription(
        self, request: pb.CreateTranscriptionRequest, call: Call
    ) -> pb.CreateTranscriptionResponse:
        audio_url, title = request.audio_url, ""
        if request.webhook_url and self.webhooks is not None:  # refused before anything is sent
            await self.webhooks.check_url(request.webhook_url, "webhook_url")
        if request.page_url:  # a read, resolved again on a retry (it has no side effect)
            page = await links.resolve_page(
                self.client, request.page_url, "page_url", call.tracked_options()
            )
            audio_url, title = page.download_url, page.title
        body = TranscriptionRequest(
            singles.settings(request.info, title=title), audio_url=audio_url
        )
        work, key = cost.single_work(request.info, audio_url), budget_key(request)
        transcription_id = await singles.create(
            self.client,
            self.idempotency,
            call,
            "CreateTranscription",
            request.request_id,
            fingerprint(request),
            body,
            create_seconds=self.default_timeout,
            guard=lambda send: self.spend_guard.guarded(call, work, key, send),
        )
        call.note(transcription_id=transcription_id)
        response = pb.CreateTranscriptionResponse(transcription_id=transcription_id)
        response.webhook_id, response.webhook_secret = await self._webhook_created(
            call, request.request_id, request.webhook_url, transcription_id, "CreateTranscription"
        )
        return response

    @client_stream_rpc("UploadTranscription")
    async def UploadTranscription(
        self,
        first: pb.UploadTranscriptionRequest,
        rest: AsyncIterator[pb.UploadTranscriptionRequest],
        call: Call,
    ) -> pb.UploadTranscriptionResponse:
        header = first.header
        received = await uploads.receive(rest, self.max_upload_bytes)
        call.note(upload_bytes=str(received.size), content_type=header.content_type)
        info = singles.settings(header.info, title=header.file_name)
        body = TranscriptionRequest(info, audio_file=received.finish())
        payload = singles.upload_fingerprint(header, received.sha256())
        transcription_id = await singles.create(
            self.client,
            self.idempotency,
            call,
            "UploadTranscription",
            header.request_id,
            payload,
            body,
            create_seconds=self.default_timeout,
            # An uploaded file has no URL the upstream can tell the duration of: with a guard
            # on, it cannot be priced (COST_UNKNOWN), as a standard batch cannot.
            guard=lambda send: self.spend_guard.guarded(call, None, header.request_id, send),
        )
        call.note(transcription_id=transcription_id)
        return pb.UploadTranscriptionResponse(
            transcription_id=transcription_id, size_bytes=received.size
        )

    @stream_rpc("WatchTranscription", watch=True)
    async def WatchTranscription(
        self, request: pb.WatchTranscriptionRequest, call: Call
    ) -> AsyncIterator[pb.WatchTranscriptionResponse]:
        call.note(transcription_id=request.transcription_id)
        previous: Observation | None = None
        watch = self.hub.watch_subject(call.credential, request.transcription_id, TRANSCRIPTIONS)
        async for observation in watch:
            if previous is not None and observation.status == previous.status:
                continue  # a change and its undoing, skipped: nothing new to say
            previous = observation
            response = pb.WatchTranscriptionResponse(
                transcription_info=mapping.transcription_info(observation.status.transcriptions[0])
            )
            response.observed_at.FromDatetime(observation.observed_at)
            yield response

    # --- issue 22: exports and WatchManifest ---

    @stream_rpc("WatchManifest", watch=True)
    async def WatchManifest(
        self, request: pb.WatchManifestRequest, call: Call
    ) -> AsyncIterator[pb.WatchManifestResponse]:
        # On the batch watches' hub (gateway.server.manifests): its errors come translated.
        async for message in manifests.watch_manifest(self.hub, request, call):
            yield message

    # --- webhooks ---
    # The logic is gateway.webhooks.service's; None (no webhooks wired): the RPCs answer
    # UNIMPLEMENTED-free errors from `_hooks`.

    def _hooks(self) -> Webhooks:
        if self.webhooks is None:
            raise GatewayError(
                grpc.StatusCode.FAILED_PRECONDITION,
                Reason.WEBHOOK_NOT_FOUND,
                "this gateway delivers no webhooks",
            )
        return self.webhooks

    @unary_rpc("CreateWebhook")
    async def CreateWebhook(
        self, request: pb.CreateWebhookRequest, call: Call
    ) -> pb.CreateWebhookResponse:
        endpoint = await self._hooks().create(
            call.credential, request.request_id, request.url, tuple(request.event_types)
        )
        call.note(webhook_id=endpoint.id)
        return pb.CreateWebhookResponse(
            webhook=webhook_service.webhook_message(endpoint), secret=endpoint.secret
        )

    @unary_rpc("ListWebhooks")
    async def ListWebhooks(
        self, request: pb.ListWebhooksRequest, call: Call
    ) -> pb.ListWebhooksResponse:
        endpoints = await self._hooks().endpoints(call.credential)
        return pb.ListWebhooksResponse(
            webhooks=[webhook_service.webhook_message(e) for e in endpoints]
        )

    @unary_rpc("DeleteWebhook")
    async def DeleteWebhook(
        self, request: pb.DeleteWebhookRequest, call: Call
    ) -> pb.DeleteWebhookResponse:
        call.note(webhook_id=request.webhook_id)
        await self._hooks().delete(call.credential, request.webhook_id)
        return pb.DeleteWebhookResponse()

    @unary_rpc("RotateWebhookSecret")
    async def RotateWebhookSecret(
        self, request: pb.RotateWebhookSecretRequest, call: Call
    ) -> pb.RotateWebhookSecretResponse:
        call.note(webhook_id=request.webhook_id)
        grace = (
            request.grace_seconds
            if request.HasField("grace_seconds")
            else webhook_service.DEFAULT_GRACE_SECONDS
        )
        endpoint = await self._hooks().rotate(call.credential, request.webhook_id, grace)
        return pb.RotateWebhookSecretResponse(
            webhook=webhook_service.webhook_message(endpoint), secret=endpoint.secret
        )

    @unary_rpc("ListWebhookDeliveries")
    async def ListWebhookDeliveries(
        self, request: pb.ListWebhookDeliveriesRequest, call: Call
    ) -> pb.ListWebhookDeliveriesResponse:
        call.note(webhook_id=request.webhook_id)
        attempts = await self._hooks().attempts(call.credential, request.webhook_id)
        return pb.ListWebhookDeliveriesResponse(
            deliveries=[webhook_service.delivery_message(a) for a in attempts]
        )

    async def _webhook_created(
        self, call: Call, request_id: str, url: str, created_id: str, rpc: str
    ) -> tuple[str, str]:
        """After a create: its `webhook_url`'s endpoint and a watch for webhooks
        (gateway.webhooks.service.Webhooks.created); the endpoint's (id, secret) or ("", "")."""
        if self.webhooks is None:
            return "", ""
        endpoint = await self.webhooks.created(call.credential, request_id, url, created_id, rpc)
        return ("", "") if endpoint is None else (endpoint.id, endpoint.secret)

    async def _read(
        self,
        call: Call,
        key: tuple[str | int, ...],
        fetch: Callable[[CallOptions], Awaitable[T]],
        *,
        reuse: float = 0.0,
    ) -> T:
        """`fetch`'s answer, from one upstream call shared by every identical read in flight
        (gateway.state.singleflight), keyed by the tenant and `key` (operation and parameters).

        The shared call is the leader's: its request id upstream, its attempts on its line, and
        its deadline, so a leader whose deadline is shorter than the wait a 429 asks for still
        gets RESOURCE_EXHAUSTED with that wait at once. A follower that gets an error bound to
        the leader's time (DeadlineExceeded, RateLimited) while it has time of its own left
        makes the call itself, unshared: it never inherits a shorter deadline. Each caller is
        still cut at its own deadline (gateway.server.inflight), and the call is cancelled once none
        waits. A follower's line says `shared_read` and the leader's request id
        (`shared_with`). The answer is one message for all of them: nothing may change it after
        `fetch`.
        """
        led = False

        async def lead() -> T:
            nonlocal led
            led = True
            return await fetch(call.tracked_options())

        group_key = (call.credential.tenant, *key)
        try:
            shared = await self.reads.run(group_key, lead, tag=call.request_id, reuse=reuse)
        except (DeadlineExceeded, RateLimited, QuotaExhausted):
            deadline = call.options.deadline
            if led or deadline is None or deadline <= self.client.deadline_in(0):
                raise
            # The leader's time ran out, not ours: once more, led by one of us this time.
            call.note(shared_read_retried="true")
            shared = await self.reads.run(group_key, lead, tag=call.request_id, reuse=reuse)
        if shared.leader is not None:
            call.note(shared_read="true", shared_with=shared.leader)
        return shared.value


_OBSERVED_STATUS = "GetBatchStatusResponse"
"""The memo key (gateway.watch.hub.Observation.memo) of `_observed_status`'s answer."""


def _observed_status(observation: Observation) -> pb.GetBatchStatusResponse:
    """GetBatchStatus answered from a poller's observation, with its observed_at; made once
    per observation, however many callers read it (nothing may change it afterwards)."""
    cached = observation.memo.get(_OBSERVED_STATUS)
    if isinstance(cached, pb.GetBatchStatusResponse):
        return cached
    status = mapping.batch_status(observation.status)
    status.observed_at.FromDatetime(observation.observed_at)
    answer = observation.memo[_OBSERVED_STATUS] = pb.GetBatchStatusResponse(batch_status=status)
    return answer
