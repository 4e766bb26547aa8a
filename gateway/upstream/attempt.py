"""One HTTP attempt: the only code that does I/O, and where its failures become domain errors."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx

from gateway.upstream import attempt_info
from gateway.upstream.backoff import retry_after
from gateway.upstream.errors import (
    TRANSPORT_ERRORS,
    PoolExhausted,
    Unavailable,
    error_for_answer,
    error_for_status,
    error_for_transport,
)
from gateway.upstream.reply import BadAnswer, Reply, read_reply
from gateway.upstream.retry import is_idempotent

POOL_RETRY_AFTER = 0.5
"""Seconds a call shed for want of a pooled connection is told to wait (RetryInfo)."""


@dataclass(frozen=True)
class Route:
    """One upstream operation: its method and path template (what logs and errors name)."""

    method: str
    template: str
    safe: bool = False
    """A POST without side effects (link extraction, a duration): retried and budgeted as a
    read, and its failures never leave an outcome in doubt."""

    @property
    def idempotent(self) -> bool:
        """Whether the upstream may safely see this request twice."""
        return self.safe or is_idempotent(self.method)


@dataclass(frozen=True)
class Request:
    """What one call sends, attempt after attempt: the URL path, query, body and headers."""

    route: Route
    path: str
    token: str
    params: dict[str, str] | None = None
    json: Any = None
    request_id: str | None = None
    content: tuple[bytes, ...] | None = None
    """A JSON body given as pieces (a large upload, gateway.upstream.singles), sent in order
    with its Content-Length; every attempt sends them again. Instead of `json`."""

    def headers(self) -> dict[str, str]:
        """Per-call headers: the credential and the request id."""
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        if self.request_id:
            headers["X-Request-Id"] = self.request_id
        return headers

    def body_headers(self) -> dict[str, str]:
        """The headers of a body given as `content` (none for `json`: httpx sets them)."""
        if self.content is None:
            return {}
        length = sum(len(piece) for piece in self.content)
        return {"Content-Type": "application/json", "Content-Length": str(length)}


async def send_attempt(
    http: httpx.AsyncClient,
    slots: asyncio.Semaphore,
    request: Request,
    *,
    seconds: float,
    connect_timeout: float,
    wall_clock: float,
    max_response_bytes: int,
    pool_timeout: float | None = None,
) -> Reply:
    """Send `request` once within `seconds`; return the 2xx answer, read whole, or raise.

    The request is built by `http.build_request` and sent with `http.send(..., stream=True)`;
    its answer is read by `read_reply`, at most `max_response_bytes` raw and decoded. httpx's
    timeouts bound each phase (connect capped further by `connect_timeout`), and
    `asyncio.timeout` the whole attempt, reading included, since a read timeout bounds each
    read only. `wall_clock` (epoch seconds) is "now" for a Retry-After given as an HTTP-date.

    `slots` holds one place per pooled connection: an attempt that gets none within
    `pool_timeout` (at most `seconds`) fails PoolExhausted, nothing sent. The gate is the
    gateway's because aiohttp counts the wait for a pooled connection in its connect timeout,
    where it cannot be told from a slow connect.
    """
    route = request.route
    _refuse_split_headers(request)
    outgoing = http.build_request(
        route.method,
        request.path,
        params=request.params,
        json=request.json,
        content=None if request.content is None else _Pieces(request.content),
        headers={**request.headers(), **request.body_headers()},
        timeout=httpx.Timeout(seconds, connect=min(connect_timeout, seconds)),
        extensions=attempt_info.extensions(route.template, request.request_id),
    )
    deadline = asyncio.get_running_loop().time() + seconds
    await _take_slot(slots, route, seconds if pool_timeout is None else min(pool_timeout, seconds))
    try:
        async with asyncio.timeout_at(deadline):
            response = await http.send(outgoing, stream=True)
            try:
                reply = await read_reply(response, max_response_bytes)
            finally:
                await response.aclose()  # before the slot is given back: the pool's count holds
    except BadAnswer as exc:
        raise error_for_answer(
            str(exc),
            status=response.status_code,
            method=route.method,
            path=route.template,
            idempotent=route.idempotent,
        ) from exc
    except httpx.PoolTimeout as exc:  # a transport with a pool timeout of its own
        raise _pool_exhausted(route) from exc
    except TRANSPORT_ERRORS as exc:
        raise error_for_transport(
            exc,
            method=route.method,
            path=route.template,
            idempotent=route.idempotent,
            token=request.token,
        ) from exc
    finally:
        slots.release()
    if not 200 <= reply.status_code < 300:
        raise error_for_status(
            reply,
            method=route.method,
            path=route.template,
            idempotent=route.idempotent,
            token=request.token,
            retry_after=retry_after(reply.headers, now=wall_clock),
        )
    return reply


class _Pieces:
    """A body of pieces as the async stream httpx's AsyncClient sends; each attempt iterates
    it afresh (an async generator could be sent once only). No piece is copied."""

    def __init__(self, pieces: tuple[bytes, ...]) -> None:
        self.pieces = pieces

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._each()

    async def _each(self) -> AsyncIterator[bytes]:
        for piece in self.pieces:
            yield piece


async def _take_slot(slots: asyncio.Semaphore, route: Route, seconds: float) -> None:
    """A place for one connection, within `seconds`, or PoolExhausted (nothing sent)."""
    if not slots.locked():  # one free: taken at once
        await slots.acquire()
        return
    try:
        async with asyncio.timeout(seconds):
            await slots.acquire()
    except TimeoutError as exc:
        raise _pool_exhausted(route) from exc


def _refuse_split_headers(request: Request) -> None:
    """A credential or request id holding CR, LF or NUL could split the request's head: it is
    never sent (callers' values are checked where they enter; a configured key is not)."""
    for name, value in request.headers().items():
        if any(bad in value for bad in _FORBIDDEN):
            raise Unavailable(
                f"the {name} header holds a line break or NUL: not sent",
                method=request.route.method,
                path=request.route.template,
                request_sent=False,
            )


_FORBIDDEN = ("\r", "\n", "\0")


def _pool_exhausted(route: Route) -> PoolExhausted:
    return PoolExhausted(
        "no upstream connection came free in time: the gateway is at its connection limit",
        method=route.method,
        path=route.template,
        request_sent=False,
        retry_after=POOL_RETRY_AFTER,
    )
