"""An upstream answer read whole within one bound: `--upstream-max-response-bytes`.

The body is read as a stream, its raw bytes counted, and a gzip or deflate body is inflated
here in steps never larger than what the bound still allows: httpx's decoders inflate a
whole chunk at once (a 64 KiB gzip chunk can become 64 MB), and aiohttp is told not to
decompress at all (gateway.upstream.transport). Past the bound, or with a body that cannot be
decoded, reading stops with `BadAnswer`; the connection is then closed by the transport (it
is never reused with part of an answer left on it).
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from typing import Final

import httpx

FLAG: Final = "--upstream-max-response-bytes"
"""The setting that bounds an answer (named in errors: the operator's way out)."""
_STEP: Final = 256 * 1024
"""Most bytes inflated in one call: the bound's overshoot, and the work between two checks."""
_PLAIN: Final = frozenset({"", "identity"})
_WBITS: Final = {"gzip": zlib.MAX_WBITS | 16, "deflate": zlib.MAX_WBITS}
_SHOWN: Final = re.compile(r"[A-Za-z0-9._ ,-]{1,32}")
"""A Content-Encoding value plain enough to quote in an error."""


class BadAnswer(Exception):
    """The answer is larger than the bound, or its body cannot be decoded; the message says
    which, and never quotes the body."""


@dataclass(frozen=True)
class Reply:
    """An answer read whole: its status, headers and decoded body."""

    status_code: int
    headers: httpx.Headers
    content: bytes

    @property
    def text(self) -> str:
        """The body as text (UTF-8; bytes that are not become U+FFFD)."""
        return self.content.decode("utf-8", errors="replace")


async def read_reply(response: httpx.Response, limit: int) -> Reply:
    """Read `response`'s body (opened with `stream=True`) whole, raw and decoded at most
    `limit` bytes each. The caller closes the response."""
    if response.is_stream_consumed:  # made whole in memory (httpx.MockTransport answers so)
        if len(response.content) > limit:
            raise BadAnswer(_too_large("its body is", limit))
        return Reply(response.status_code, response.headers, response.content)
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BadAnswer(_too_large("its Content-Length says", limit))
    coding = _coding(response.headers)
    body = _Inflated(limit, coding) if coding else _Body(limit)
    received = 0
    async for chunk in response.aiter_raw():
        received += len(chunk)
        if received > limit:
            raise BadAnswer(_too_large("its body is", limit))
        body.feed(chunk)
    return Reply(response.status_code, response.headers, body.finish())


def _coding(headers: httpx.Headers) -> str:
    """The answer's one content coding: "", "gzip" or "deflate"."""
    coding: str = headers.get("content-encoding", "").strip().lower()
    if coding in _PLAIN:
        return ""
    if coding in _WBITS:
        return coding
    shown = f" {coding!r}" if _SHOWN.fullmatch(coding) else ""
    raise BadAnswer(
        f"the upstream's answer has a Content-Encoding{shown} the gateway does not accept "
        "(it asks for gzip or deflate)"
    )


def _too_large(what: str, limit: int) -> str:
    return f"the upstream's answer is too large: {what} more than {limit} bytes ({FLAG})"


class _Body:
    """The body as received, collected in parts, at most `limit` bytes."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._parts: list[bytes] = []
        self._size = 0

    def feed(self, data: bytes) -> None:
        """Take the next raw bytes of the body."""
        self._keep(data, "its body is")

    def finish(self) -> bytes:
        """The whole body."""
        return b"".join(self._parts)

    def _keep(self, piece: bytes, what: str) -> None:
        self._size += len(piece)
        if self._size > self._limit:
            raise BadAnswer(_too_large(what, self._limit))
        if piece:
            self._parts.append(piece)


class _Inflated(_Body):
    """A gzip or deflate body, inflated as it comes in steps the bound still allows."""

    def __init__(self, limit: int, coding: str) -> None:
        super().__init__(limit)
        self._coding = coding
        self._inflate = zlib.decompressobj(_WBITS[coding])
        self._head = b""
        """A deflate body's first bytes, until there are two to tell its form by."""
        self._started = coding == "gzip"
        self._fed = False

    def feed(self, data: bytes) -> None:
        """Take the next raw bytes of the body."""
        self._fed = self._fed or bool(data)
        if not self._started:
            self._head += data
            if len(self._head) < 2:
                return
            data, self._head = self._head, b""
            if not _zlib_wrapped(data):  # raw, as some servers send "deflate" (httpx reads it)
                self._inflate = zlib.decompressobj(-zlib.MAX_WBITS)
            self._started = True
        try:
            self._feed(data)
        except zlib.error as exc:
            raise BadAnswer(f"the upstream's {self._coding} body cannot be decoded") from exc

    def finish(self) -> bytes:
        """The whole decoded body; BadAnswer when it ends before the compressed stream does."""
        if self._head:
            raise BadAnswer(f"the upstream's {self._coding} body ends before its end")
        self.feed(b"")  # what zlib still holds back
        if self._fed and not self._inflate.eof:
            raise BadAnswer(f"the upstream's {self._coding} body ends before its end")
        return super().finish()

    def _feed(self, data: bytes) -> None:
        while True:
            if self._inflate.eof:  # what follows the stream's end: another gzip member
                data = self._inflate.unused_data + data
                if not data:
                    return
                if self._coding != "gzip":
                    raise BadAnswer("the upstream's deflate body has bytes past its end")
                self._inflate = zlib.decompressobj(_WBITS["gzip"])
            step = min(self._limit - self._size + 1, _STEP)  # never 0, which means unbounded
            piece = self._inflate.decompress(data, step)
            self._keep(piece, f"its {self._coding} body inflates to")
            data = self._inflate.unconsumed_tail
            if not data and not self._inflate.eof and len(piece) < step:
                return  # all taken in, and nothing held back for want of room


def _zlib_wrapped(head: bytes) -> bool:
    """Whether a deflate body starts with the zlib header (RFC 1950: method 8, a check sum
    that makes the first two bytes a multiple of 31)."""
    return head[0] & 0x0F == 8 and (head[0] << 8 | head[1]) % 31 == 0
