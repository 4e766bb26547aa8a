"""Completed transcripts, fetched from the upstream once however many calls want them.

StreamBatchTranscripts sends each completed item's transcript to every subscriber of its batch;
GetTranscription and ExportTranscription (gateway.server.exports) read the same transcripts, an
export once per format. A transcript is large (its words with their timestamps) and, once its
item has completed, it does not change, so the gateway fetches it once per (tenant,
transcription, word filter) and keeps the message it makes of it, serialized, for the next call:

- in flight: concurrent wants of one key share one upstream GET (gateway.state.singleflight); the
  fetch is bounded by the gateway's own timeout and cancelled only when nobody wants it any more;
- kept: the serialized response, in an LRU bounded by `max_bytes` in all (the oldest go
  first); a failed fetch is not kept, so the next want tries again, and neither is a transcript
  not completed yet (it will change);
- built off the event loop (`build` maps every word: seconds for a transcript of hundreds of
  thousands of words, which other calls must not wait for);
- keyed by the tenant hash, never the token, so tenants never share (a foreign credential
  fetches for itself, and gets the upstream's NOT_FOUND).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable

from gateway.access.credentials import Credential
from gateway.observability.metrics import Reading
from gateway.state.singleflight import SingleFlight
from gateway.upstream import (
    CallOptions,
    DeadlineExceeded,
    QuotaExhausted,
    RateLimited,
    Transcription,
    UpstreamClient,
)

DEFAULT_MAX_BYTES = 64 * 1024 * 1024
"""Serialized transcripts kept at most, in bytes (a one-hour shiur is a few hundred KB)."""

Key = tuple[str, str, str]
"""(tenant, transcription id, word filter or "")."""


class TranscriptCache:
    """Serialized transcript messages by (tenant, transcription, filter): see the module."""

    def __init__(
        self, client: UpstreamClient, *, timeout: float, max_bytes: int = DEFAULT_MAX_BYTES
    ) -> None:
        self._client = client
        self._timeout = timeout
        self.max_bytes = max_bytes
        self._flights = SingleFlight()
        self._kept: OrderedDict[Key, bytes] = OrderedDict()
        self.kept_bytes = 0
        self.fetches = 0
        """Upstream fetches started (a metric, and what the tests count)."""

    def readings(self) -> list[Reading]:
        """The cache's live values, for the metrics (GatewayMetrics.track)."""
        return [
            Reading(
                "transcript_fetches",
                "Transcripts fetched from the upstream for StreamBatchTranscripts, "
                "GetTranscription and ExportTranscription (once per credential, transcription "
                "and filter while kept, however many calls)",
                self.fetches,
                counter=True,
            ),
            Reading(
                "transcript_cache_bytes",
                "Bytes of serialized transcripts kept for StreamBatchTranscripts, "
                "GetTranscription and ExportTranscription",
                self.kept_bytes,
            ),
        ]

    def __len__(self) -> int:
        """Transcripts kept now."""
        return len(self._kept)

    async def message(
        self,
        credential: Credential,
        transcription_id: str,
        word_format: str | None,
        build: Callable[[Transcription], bytes],
        *,
        request_id: str,
        deadline: float | None = None,
    ) -> bytes:
        """The serialized message `build` makes of the transcript, fetched at most once per key
        while it is kept. Raises the upstream's error (NotFound, ...) when the fetch fails.

        `deadline` (the client's clock) is the caller's, for a unary call: a fetch it leads
        ends by then, so the rate budget refuses at once what it cannot send in time
        (QuotaExhausted) as for any read. A call that joined a fetch led by a caller with less
        time, and got that leader's DeadlineExceeded, RateLimited or QuotaExhausted while it
        has time of its own left, fetches once more itself (as the servicer's shared reads do).
        None (a stream): the cache's own timeout."""
        key: Key = (credential.tenant, transcription_id, word_format or "")
        kept = self._kept.get(key)
        if kept is not None:
            self._kept.move_to_end(key)
            return kept

        led = False

        async def fetch() -> bytes:
            nonlocal led
            led = True
            self.fetches += 1
            own = self._client.deadline_in(self._timeout)
            options = CallOptions(
                token=credential.token,
                deadline=own if deadline is None else min(own, deadline),
                request_id=request_id,
            )
            answer = await self._client.get_transcription(
                transcription_id, filter_hebrew_word_format=word_format, opts=options
            )
            data = await asyncio.to_thread(build, answer)
            if str(answer.info.status) == "COMPLETED":
                self._keep(key, data)
            return data

        try:
            shared = await self._flights.run(key, fetch, tag=request_id)
        except (DeadlineExceeded, RateLimited, QuotaExhausted):
            if led or deadline is None or deadline <= self._client.deadline_in(0):
                raise
            shared = await self._flights.run(key, fetch, tag=request_id)  # led by us this time
        return shared.value

    def _keep(self, key: Key, data: bytes) -> None:
        if len(data) > self.max_bytes:
            return  # larger than the whole cache: served, not kept
        old = self._kept.pop(key, None)
        if old is not None:
            self.kept_bytes -= len(old)
        self._kept[key] = data
        self.kept_bytes += len(data)
        while self.kept_bytes > self.max_bytes:
            _, dropped = self._kept.popitem(last=False)
            self.kept_bytes -= len(dropped)
