"""The upstream HTTP client: httpx's API over aiohttp's client (httpx-aiohttp), with its limits.

`httpx.AsyncClient` keeps the API (base URL, default headers, per-request timeouts, no
redirects) and the request and response objects tracing and tests see; httpx-aiohttp's
`AiohttpTransport` hands each request to one `aiohttp.ClientSession`, which does the I/O:
pooled HTTP/1.1 keep-alive connections, parsed by llhttp. Chosen over httpx's own transport
(httpcore and h11) because it costs half the instructions per upstream GET (docs/upstream-client.md,
"The transport").

The session is made here, not by httpx-aiohttp, so that what the gateway relies on is said
explicitly: aiohttp never decompresses (the body is inflated in bounded steps by
`gateway.upstream.reply`), no cookie is kept between requests (they are of many tenants), no
proxy is read from the environment, TLS is verified as httpx verifies (certifi, or
SSL_CERT_FILE / SSL_CERT_DIR), and an answer's head is bounded in line length and field count.
"""

from __future__ import annotations

import http.cookiejar
from typing import Final

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport

MAX_LINE_BYTES: Final = 8190
"""Longest status line, and longest header field (name and value), of an answer."""
MAX_HEADERS: Final = 128
"""Most header fields in an answer's head."""
HEAD_LIMITS: Final = (
    f"header lines of at most {MAX_LINE_BYTES} bytes, at most {MAX_HEADERS} header fields"
)
"""The head's limits as errors name them."""
KEEPALIVE_EXPIRY: Final = 5.0
"""Seconds an idle pooled connection is kept (httpx's own default)."""
READ_BUFFER_BYTES: Final = 64 * 1024
"""aiohttp's read buffer: it stops reading a connection's socket once about twice this waits
for the reader, so a fast upstream cannot fill memory ahead of it."""
ACCEPT_ENCODING: Final = "gzip, deflate"
"""What the gateway asks for, and all it accepts (gateway.upstream.reply decodes them)."""


def new_transport(
    max_connections: int, *, keepalive_expiry: float = KEEPALIVE_EXPIRY
) -> httpx.AsyncBaseTransport:
    """httpx-aiohttp's transport over a session made with the gateway's limits; call it in the
    running loop (aiohttp binds the session to it)."""
    tls = httpx.create_ssl_context()
    session = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(
            limit=max_connections, keepalive_timeout=keepalive_expiry, ssl=tls
        ),
        cookie_jar=aiohttp.DummyCookieJar(),
        auto_decompress=False,
        trust_env=False,
        max_line_size=MAX_LINE_BYTES,
        max_field_size=MAX_LINE_BYTES,
        max_headers=MAX_HEADERS,
        read_bufsize=READ_BUFFER_BYTES,
    )
    return AiohttpTransport(verify=tls, client=session)  # the session does the I/O


def new_http_client(
    base_url: str,
    *,
    user_agent: str,
    timeout: float,
    transport: httpx.AsyncBaseTransport,
) -> httpx.AsyncClient:
    """The pooled httpx client over `transport`: the gateway's default headers, no redirects
    followed, and a cookie jar that keeps nothing (httpx's own jar would send one tenant's
    cookies with another's requests)."""
    return httpx.AsyncClient(
        base_url=base_url,
        transport=transport,
        headers={
            "User-Agent": user_agent,
            "Accept": "application/json",
            "Accept-Encoding": ACCEPT_ENCODING,
        },
        cookies=http.cookiejar.CookieJar(http.cookiejar.DefaultCookiePolicy(allowed_domains=[])),
        timeout=timeout,
        follow_redirects=False,
        trust_env=False,
    )
