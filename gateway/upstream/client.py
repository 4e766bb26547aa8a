"""`UpstreamClient`: one typed async method per upstream operation, over one pooled httpx client.

The layers, top to bottom: a method names its route and builds the request; `RetryPolicy`
(deadline, rate budget, retry table, retry budget, waits) runs attempts; `send_attempt` does
the I/O through the pooled httpx client (`transport`), reads the answer within its bound
(`reply`) and turns its failures into `errors`; the 2xx body is then parsed into a `models` type.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, Final, Self, TypeVar
from urllib.parse import quote

import httpx

from gateway.upstream.attempt import Request, Route, send_attempt
from gateway.upstream.bodies import (
    BatchFileCreateFromRssRequest,
    BatchFileUploadRequest,
    BatchTranscriptionRequest,
)
from gateway.upstream.config import CallOptions, UpstreamConfig
from gateway.upstream.enums import LettersLanguage
from gateway.upstream.errors import InvalidArgument, ProtocolError
from gateway.upstream.models import (
    BatchFileCreateFromRssResponse,
    BatchFileDetail,
    BatchFileUploadResponse,
    BatchStatusResponse,
    BatchTranscriptionResponse,
    HealthResponse,
    LinkResponse,
    ListBatchFilesResponse,
    SiteList,
    Transcription,
    TranscriptionInfo,
    TranscriptionList,
)
from gateway.upstream.money_models import Balance, DurationResponse
from gateway.upstream.policy import AttemptObserver, Clock, RetryPolicy, Rng, Sleep
from gateway.upstream.rate_budget import RateBudget
from gateway.upstream.reply import Reply
from gateway.upstream.retry_budget import RetryBudget
from gateway.upstream.singles import TranscriptionRequest, transcription_id
from gateway.upstream.transport import new_http_client, new_transport

M = TypeVar("M")

CREATE_BATCH: Final = Route("POST", "/v1/transcriptions/batch")
UPLOAD_BATCH_FILE: Final = Route("POST", "/v1/transcriptions/batch-files")
LIST_BATCH_FILES: Final = Route("GET", "/v1/transcriptions/batch-files")
CREATE_BATCH_FILE_FROM_RSS: Final = Route("POST", "/v1/transcriptions/batch-files/from-rss")
GET_BATCH_FILE: Final = Route("GET", "/v1/transcriptions/batch-files/{batch_file_id}")
GET_BATCH_STATUS: Final = Route("GET", "/v1/transcriptions/batch/{batch_id}/status")
GET_BATCH_ITEM: Final = Route("GET", "/v1/transcriptions/batch/{batch_id}/items/by-client-item-id")
GET_TRANSCRIPTION_STATUS: Final = Route("GET", "/v1/transcriptions/{transcription_id}/status")
GET_TRANSCRIPTION: Final = Route("GET", "/v1/transcriptions/{transcription_id}")
GET_HEALTH: Final = Route("GET", "/v1/health/")
# --- money ---
GET_BALANCE: Final = Route("GET", "/v1/balance/")
GET_DURATION: Final = Route("POST", "/v1/utils/duration", safe=True)
LIST_TRANSCRIPTIONS: Final = Route("GET", "/v1/transcriptions/")
EXTRACT_LINK: Final = Route("POST", "/v1/link/extract", safe=True)
LIST_SITES: Final = Route("GET", "/v1/link/sites")
CREATE_TRANSCRIPTION: Final = Route("POST", "/v1/transcriptions/")


class UpstreamClient:
    """The Sofer.ai REST API, typed. Create it in async code; use it as an async context manager.

    `transport` replaces the network transport (gateway.upstream.transport's; tests pass
    `httpx.MockTransport` or httpx's own);
    `sleep`, `clock` (monotonic, the clock deadlines are on), `wall_clock` (epoch seconds, for
    HTTP-date Retry-After) and `rng` (uniform in [0, 1), for jitter) make the policy testable;
    `observer` is told of every attempt (gateway.observability.metrics; None: no one is);
    `rate_budget` (gateway.upstream.rate_budget, on the same clock) gives every attempt its token
    first (None: no rate budget); `instrument` is given the pooled httpx client once it is made
    (the server passes tracing's, gateway.observability.tracing.instrument_client).
    """

    def __init__(
        self,
        config: UpstreamConfig,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep = asyncio.sleep,
        clock: Clock = time.monotonic,
        wall_clock: Clock = time.time,
        rng: Rng = random.random,
        observer: AttemptObserver | None = None,
        rate_budget: RateBudget | None = None,
        instrument: Callable[[httpx.AsyncClient], None] | None = None,
    ) -> None:
        self.config = config
        self.budget = RetryBudget(config.budget_max_tokens, config.budget_token_ratio)
        self.rate_budget = rate_budget
        self._transport = transport
        self._clock = clock
        self._wall_clock = wall_clock
        self._policy = RetryPolicy(
            config,
            self.budget,
            sleep=sleep,
            clock=clock,
            rng=rng,
            observer=observer,
            rate_budget=rate_budget,
        )
        self._instrument = instrument
        self._http: httpx.AsyncClient | None = None
        self._slots: asyncio.Semaphore | None = None
        """One place per pooled connection (gateway.upstream.attempt)."""

    async def start(self) -> None:
        """Create the pooled httpx client, in the running event loop."""
        if self._http is not None:
            raise RuntimeError("UpstreamClient already started")
        config = self.config
        self._http = new_http_client(
            config.base_url,
            user_agent=config.user_agent,
            timeout=config.default_timeout,
            transport=self._transport or new_transport(config.max_connections),
        )
        self._slots = asyncio.Semaphore(config.max_connections)
        if self._instrument is not None:
            self._instrument(self._http)

    async def aclose(self) -> None:
        """Close the pool; the client cannot be used again. Closing twice is harmless."""
        http, self._http, self._slots = self._http, None, None
        if http is not None:
            await http.aclose()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def deadline_in(self, seconds: float) -> float:
        """An absolute deadline `seconds` from now on this client's clock (for CallOptions)."""
        return self._clock() + seconds

    async def create_batch(
        self, request: BatchTranscriptionRequest, *, opts: CallOptions
    ) -> BatchTranscriptionResponse:
        """POST /v1/transcriptions/batch. Never retried once the upstream may have acted."""
        return await self._call(
            CREATE_BATCH, opts, BatchTranscriptionResponse.from_json, json=request.to_json()
        )

    async def upload_batch_file(
        self, request: BatchFileUploadRequest, *, opts: CallOptions
    ) -> BatchFileUploadResponse:
        """POST /v1/transcriptions/batch-files: upload a manifest."""
        return await self._call(
            UPLOAD_BATCH_FILE, opts, BatchFileUploadResponse.from_json, json=request.to_json()
        )

    async def list_batch_files(
        self, *, cursor: str | None = None, limit: int | None = None, opts: CallOptions
    ) -> ListBatchFilesResponse:
        """GET /v1/transcriptions/batch-files: one page of manifests, from `cursor` if given."""
        params = {"cursor": cursor, "limit": None if limit is None else str(limit)}
        return await self._call(
            LIST_BATCH_FILES, opts, ListBatchFilesResponse.from_json, params=params
        )

    async def create_batch_file_from_rss(
        self, request: BatchFileCreateFromRssRequest, *, opts: CallOptions
    ) -> BatchFileCreateFromRssResponse:
        """POST /v1/transcriptions/batch-files/from-rss: a manifest from a podcast feed."""
        return await self._call(
            CREATE_BATCH_FILE_FROM_RSS,
            opts,
            BatchFileCreateFromRssResponse.from_json,
            json=request.to_json(),
        )

    async def get_batch_file(self, batch_file_id: str, *, opts: CallOptions) -> BatchFileDetail:
        """GET /v1/transcriptions/batch-files/{batch_file_id}."""
        return await self._call(
            GET_BATCH_FILE,
            opts,
            BatchFileDetail.from_json,
            path_params={"batch_file_id": batch_file_id},
        )

    async def get_batch_status(self, batch_id: str, *, opts: CallOptions) -> BatchStatusResponse:
        """GET /v1/transcriptions/batch/{batch_id}/status."""
        return await self._call(
            GET_BATCH_STATUS,
            opts,
            BatchStatusResponse.from_json,
            path_params={"batch_id": batch_id},
        )

    async def get_batch_status_as(
        self, batch_id: str, parse: Callable[[object], M], *, opts: CallOptions
    ) -> M:
        """GET /v1/transcriptions/batch/{batch_id}/status, its body (bytes) handed to `parse`
        instead of `BatchStatusResponse.from_json`: `parse` decodes it with that (a bad body
        raises ProtocolError, which is reported as for `get_batch_status`) and may keep what it
        makes of the body's bytes (the server builds its reply once per distinct answer)."""
        return await self._call(GET_BATCH_STATUS, opts, parse, path_params={"batch_id": batch_id})

    async def get_batch_item_by_client_item_id(
        self, batch_id: str, client_item_id: str, *, opts: CallOptions
    ) -> TranscriptionInfo:
        """GET /v1/transcriptions/batch/{batch_id}/items/by-client-item-id?client_item_id=..."""
        return await self._call(
            GET_BATCH_ITEM,
            opts,
            TranscriptionInfo.from_json,
            path_params={"batch_id": batch_id},
            params={"client_item_id": client_item_id},
        )

    async def get_transcription_status(
        self, transcription_id: str, *, opts: CallOptions
    ) -> TranscriptionInfo:
        """GET /v1/transcriptions/{transcription_id}/status."""
        return await self._call(
            GET_TRANSCRIPTION_STATUS,
            opts,
            TranscriptionInfo.from_json,
            path_params={"transcription_id": transcription_id},
        )

    async def get_transcription(
        self,
        transcription_id: str,
        *,
        filter_hebrew_word_format: LettersLanguage | str | None = None,
        opts: CallOptions,
    ) -> Transcription:
        """GET /v1/transcriptions/{transcription_id}, optionally filtered to one word format."""
        return await self._call(
            GET_TRANSCRIPTION,
            opts,
            Transcription.from_json,
            path_params={"transcription_id": transcription_id},
            params={"filter_hebrew_word_format": filter_hebrew_word_format},
        )

    async def create_transcription(
        self, request: TranscriptionRequest, *, opts: CallOptions
    ) -> str:
        """POST /v1/transcriptions/: one transcription; answers its id. Never retried once the
        upstream may have acted (a caller-chosen `info.id` makes the caller's retry safe)."""
        return await self._call(
            CREATE_TRANSCRIPTION, opts, transcription_id, content=request.content()
        )

    async def get_health(self, *, opts: CallOptions) -> HealthResponse:
        """GET /v1/health/ (the only operation without auth: an empty token sends none)."""
        return await self._call(GET_HEALTH, opts, HealthResponse.from_json)

    # --- money ---
    async def get_balance(self, *, opts: CallOptions) -> Balance:
        """GET /v1/balance/: the key's balance in cents (404: the key has no account)."""
        return await self._call(GET_BALANCE, opts, Balance.from_json)

    async def get_duration(self, audio_url: str, *, opts: CallOptions) -> DurationResponse:
        """POST /v1/utils/duration of one URL: a read (retried as one), whatever its method."""
        return await self._call(
            GET_DURATION, opts, DurationResponse.from_json, json={"audio_url": audio_url}
        )

    # --- listing and links ---

    async def list_transcriptions(self, *, opts: CallOptions) -> TranscriptionList:
        """GET /v1/transcriptions/: every transcription of the caller, unpaged (the spec has no
        parameters); bounded by --upstream-max-response-bytes like every answer."""
        return await self._call(LIST_TRANSCRIPTIONS, opts, TranscriptionList.from_json)

    async def extract_link(self, url: str, *, opts: CallOptions) -> LinkResponse:
        """POST /v1/link/extract: a page link to its audio's download URL. No side effect, so
        retried as a read (`Route.safe`)."""
        return await self._call(EXTRACT_LINK, opts, LinkResponse.from_json, json={"url": url})

    async def list_supported_sites(self, *, opts: CallOptions) -> SiteList:
        """GET /v1/link/sites: the sites whose page links `extract_link` resolves."""
        return await self._call(LIST_SITES, opts, SiteList.from_json)

    async def _call(
        self,
        route: Route,
        opts: CallOptions,
        parse: Callable[[object], M],
        *,
        path_params: dict[str, str] | None = None,
        params: dict[str, str | None] | None = None,
        json: Any = None,
        content: tuple[bytes, ...] | None = None,
    ) -> M:
        http, slots = self._http, self._slots
        if http is None or slots is None:
            raise RuntimeError("UpstreamClient is not started: use `async with` or start()")
        request = Request(
            route=route,
            path=_expand(route, path_params or {}),
            token=opts.token,
            params={k: str(v) for k, v in (params or {}).items() if v is not None} or None,
            json=json,
            request_id=opts.request_id,
            content=content,
        )

        async def attempt(seconds: float) -> Reply:
            return await send_attempt(
                http,
                slots,
                request,
                seconds=seconds,
                connect_timeout=self.config.connect_timeout,
                wall_clock=self._wall_clock(),
                max_response_bytes=self.config.max_response_bytes,
                pool_timeout=self.config.pool_timeout,
            )

        response = await self._policy.run(route, opts, attempt)
        try:
            return parse(response.content)  # each model's from_json decodes the bytes
        except ProtocolError as exc:
            raise ProtocolError(
                exc.message,
                status=response.status_code,
                method=route.method,
                path=route.template,
                outcome_unknown=not route.idempotent,
            ) from exc


def _expand(route: Route, values: dict[str, str]) -> str:
    """The route's path with each {name} filled by its value, as one escaped path segment."""
    segments: dict[str, str] = {}
    for name, value in values.items():
        if value in ("", ".", ".."):
            raise InvalidArgument(
                f"{name} must be a non-empty id, got {value!r}",
                method=route.method,
                path=route.template,
                request_sent=False,
            )
        segments[name] = quote(value, safe="")
    return route.template.format(**segments)
