"""One HTTP attempt: the only code that does I/O, and where its failures become domain errors."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import Any

import httpx

from gateway.upstream import attempt_info
from gateway.upstream.backoff import retry_after
from gateway.upstream.errors import PoolExhausted, error_for_status, error_for_transport
from gateway.upstream.retry import is_idempotent

POOL_RETRY_AFTER = 0.5
"""Seconds a call shed for want of a pooled connection is told to wait (RetryInfo)."""


@dataclass(frozen=True)
class Route:
    """One upstream operation: its method and path template (what logs and errors name)."""

    method: str
    template: str

    @property
    def idempotent(self) -> bool:
        """Whether the upstream may safely see this request twice."""
        return is_idempotent(self.method)


@dataclass(frozen=True)
class Request:
    """What one call sends, attempt after attempt: the URL path, query, body and headers."""

    route: Route
    path: str
    token: str
    params: dict[str, str] | None = None
    json: Any = None
    request_id: str | None = None

    def headers(self) -> dict[str, str]:
        """Per-call headers: the credential and the request id."""
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        if self.request_id:
            headers["X-Request-Id"] = self.request_id
        return headers


_PLAIN_PATH = re.compile(r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-Fa-f]{2})*")
"""A path httpx would leave as it is: only characters it never escapes, and whole escapes."""
_PLAIN_QUERY = re.compile(r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?]|%[0-9A-Fa-f]{2})*")
"""The same for a query (where "?" is plain too)."""


class RequestFactory:
    """Builds each attempt's `httpx.Request` as `client.build_request` would, for the one
    client it was made from: the base URL parsed once, the default headers copied once, so a
    call pays for its own path, query and headers only. `build_request` re-merges the base URL
    and the defaults, and parses the whole URL, on every call: about half its cost is the
    parse, which a path and query already escaped (as `_expand` and `httpx.QueryParams` make
    them) do not need, since httpx's parse would leave them as they are."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        base = client.base_url
        text = str(base)  # its path ends in "/", shown or not
        self._prefix = text if text.endswith("/") else text + "/"
        self._base_path = base.path if base.path.endswith("/") else base.path + "/"
        # httpx's parsed form of the base (a NamedTuple): a call's URL is it with the path and
        # query replaced. Left unused (every URL parsed) if this httpx has no such attribute.
        reference = getattr(base, "_uri_reference", None)
        plain = isinstance(reference, tuple) and hasattr(reference, "_replace")
        self._reference: Any = reference if plain and not base.query and not base.fragment else None
        self._defaults = client.headers.multi_items()
        # What httpx adds to a request without a body (only Host: no Content-Length for these
        # methods), so that such a request is made with its stream given, unprepared.
        self._bodiless_head = [("Host", base.netloc.decode("ascii")), *self._defaults]

    def url(self, path: str, params: dict[str, str] | None) -> httpx.URL:
        """The URL of `path` (under the base URL's path) with `params` as its query."""
        relative = path.lstrip("/")
        query = str(httpx.QueryParams(params)) if params else None
        joined = self._base_path + relative
        reference = self._reference
        if (
            reference is not None
            and _PLAIN_PATH.fullmatch(joined)
            and (query is None or _PLAIN_QUERY.fullmatch(query))
            and "/." not in joined  # no dot segment for httpx to take out
        ):
            url = httpx.URL.__new__(httpx.URL)
            url._uri_reference = reference._replace(path=joined, query=query)
            return url
        return httpx.URL(self._prefix + relative + ("" if query is None else "?" + query))

    def build(self, request: Request, limits: httpx.Timeout) -> httpx.Request:
        """The httpx request for one attempt of `request`, bounded by `limits`."""
        method = request.route.method
        url = self.url(request.path, request.params)
        extensions = {
            "timeout": limits.as_dict(),
            **attempt_info.extensions(request.route.template, request.request_id),
        }
        if request.json is None and method not in _BODY_METHODS:
            # The same head httpx would make (Host first, then the client's and the call's
            # headers), given whole: httpx's body encoding and header merge are skipped.
            built = httpx.Request(
                method,
                url,
                headers=[*self._bodiless_head, *request.headers().items()],
                stream=_EMPTY,
                extensions=extensions,
            )
            built.read()  # the (empty) body, as httpx reads one it encoded itself
            return built
        return httpx.Request(
            method,
            url,
            headers=[*self._defaults, *request.headers().items()],
            json=request.json,
            extensions=extensions,
        )


_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
"""Methods httpx gives `Content-Length: 0` when they carry no body."""
_EMPTY = httpx.ByteStream(b"")


async def _send(transport: httpx.AsyncBaseTransport, outgoing: httpx.Request) -> httpx.Response:
    """The transport's response to `outgoing`, its body read whole (the connection is free)."""
    response = await transport.handle_async_request(outgoing)
    response.request = outgoing
    if isinstance(response.stream, httpx.ByteStream):  # already whole (gateway.upstream.http1):
        response.read()  # decoded at once, without the async iterator and close it costs
        return response
    try:
        await response.aread()
    finally:
        await response.aclose()
    return response


async def send_attempt(
    factory: RequestFactory,
    transport: httpx.AsyncBaseTransport,
    request: Request,
    *,
    seconds: float,
    connect_timeout: float,
    wall_clock: float,
    pool_timeout: float | None = None,
) -> httpx.Response:
    """Send `request` once within `seconds`; return the 2xx response or raise.

    httpx's timeouts bound each phase (connect capped further by `connect_timeout`);
    `asyncio.timeout` bounds the whole attempt, since a read timeout bounds each read only.
    `wall_clock` (epoch seconds) is "now" for a Retry-After given as an HTTP-date.

    `factory` builds the request (base URL, default headers, query, JSON body); `transport`
    (the client's own, as tracing instrumented it) sends it. That is what the client's `send`
    would do without its auth, redirect and cookie steps, none of which the gateway uses (no
    auth flow, redirects not followed, no cookies kept): 60 to 100 us less per attempt
    (docs/benchmarks.md).
    """
    route = request.route
    pool = seconds if pool_timeout is None else min(pool_timeout, seconds)
    limits = httpx.Timeout(seconds, connect=min(connect_timeout, seconds), pool=pool)
    outgoing = factory.build(request, limits)
    try:
        async with asyncio.timeout(seconds):
            response = await _send(transport, outgoing)
    except httpx.PoolTimeout as exc:
        raise PoolExhausted(
            "no upstream connection came free in time: the gateway is at its connection limit",
            method=route.method,
            path=route.template,
            request_sent=False,
            retry_after=POOL_RETRY_AFTER,
        ) from exc
    except (httpx.RequestError, TimeoutError) as exc:
        raise error_for_transport(
            exc,
            method=route.method,
            path=route.template,
            idempotent=route.idempotent,
            token=request.token,
        ) from exc
    if not response.is_success:
        delay = retry_after(response.headers, now=wall_clock)
        raise error_for_status(
            response,
            method=route.method,
            path=route.template,
            idempotent=route.idempotent,
            token=request.token,
            retry_after=delay,
        )
    return response
