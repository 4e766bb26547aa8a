"""Reading an upstream answer within `--upstream-max-response-bytes` (gateway.upstream.reply):
the raw body counted, gzip and deflate inflated in bounded steps, anything else refused.

Narrow tests of the reader on a response whose body arrives chunk by chunk, as a transport
streams it; tests/upstream/test_hostile_upstream.py has the same limits through the gateway.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import AsyncIterator

import httpx
import pytest

from gateway.upstream.reply import FLAG, BadAnswer, read_reply

LIMIT = 1024 * 1024


class Chunks(httpx.AsyncByteStream):
    """A body in `chunks`, counting how many the reader took."""

    def __init__(self, *chunks: bytes) -> None:
        self.chunks = chunks
        self.taken = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            self.taken += 1
            yield chunk


def response(
    body: Chunks, *, encoding: str | None = None, length: int | None = None
) -> httpx.Response:
    """A 200 streaming `body`, with the headers given."""
    headers = {}
    if encoding is not None:
        headers["Content-Encoding"] = encoding
    if length is not None:
        headers["Content-Length"] = str(length)
    return httpx.Response(200, headers=headers, stream=body)


def pieces(data: bytes, size: int = 16 * 1024) -> list[bytes]:
    """`data` as a transport hands it over: chunks of `size`."""
    return [data[i : i + size] for i in range(0, len(data), size)]


def deflated(data: bytes, wbits: int) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, wbits)
    return packer.compress(data) + packer.flush()


async def test_a_body_up_to_the_limit_is_read_and_one_byte_more_is_refused() -> None:
    """The limit is inclusive: a body of exactly the limit is the answer; one byte more is
    BadAnswer naming the limit and the flag."""
    exact = b"7" * LIMIT
    reply = await read_reply(response(Chunks(*pieces(exact))), LIMIT)
    assert reply.content == exact
    with pytest.raises(BadAnswer, match=f"more than {LIMIT} bytes \\({FLAG}\\)"):
        await read_reply(response(Chunks(*pieces(exact + b"7"))), LIMIT)


async def test_a_body_past_the_limit_stops_the_read_there() -> None:
    """A 400-chunk body past the limit is not read to its end: reading stops at the chunk
    that passes the limit."""
    body = Chunks(*[b"x" * 64 * 1024] * 400)
    with pytest.raises(BadAnswer):
        await read_reply(response(body), LIMIT)
    assert body.taken == LIMIT // (64 * 1024) + 1


async def test_a_declared_length_past_the_limit_is_refused_before_reading() -> None:
    """A Content-Length past the limit is refused before a byte of the body is read."""
    body = Chunks(b"{}")
    with pytest.raises(BadAnswer, match="Content-Length"):
        await read_reply(response(body, length=400_000_000), LIMIT)
    assert body.taken == 0


@pytest.mark.parametrize("wbits", [31, 15, -15], ids=["gzip", "deflate", "raw deflate"])
async def test_a_bomb_is_inflated_no_further_than_the_limit(wbits: int) -> None:
    """1 MB that would inflate to about 1 GB: refused once the inflated body passes the limit,
    after a few of its chunks, naming the coding, the limit and the flag, never the body."""
    bomb = deflated(b"\0" * (64 * 1024 * 1024), wbits)
    chunks = Chunks(*pieces(bomb))
    coding = "gzip" if wbits == 31 else "deflate"
    with pytest.raises(BadAnswer) as info:
        await read_reply(response(chunks, encoding=coding), LIMIT)
    assert str(info.value) == (
        f"the upstream's answer is too large: its {coding} body inflates to more than "
        f"{LIMIT} bytes ({FLAG})"
    )
    assert chunks.taken < len(chunks.chunks)


@pytest.mark.parametrize("wbits", [31, 15, -15], ids=["gzip", "deflate", "raw deflate"])
async def test_a_compressed_body_up_to_the_limit_is_inflated_whole(wbits: int) -> None:
    """A compressed body that inflates to exactly the limit is the answer, whatever its chunks
    (one byte at a time too)."""
    text = bytes(range(256)) * (LIMIT // 256)
    packed = deflated(text, wbits)
    coding = "gzip" if wbits == 31 else "deflate"
    for size in (16 * 1024, 1):
        chunks = Chunks(*pieces(packed[:4096], size), *pieces(packed[4096:]))
        reply = await read_reply(response(chunks, encoding=coding), LIMIT)
        assert reply.content == text


async def test_gzip_members_one_after_another_are_one_body_under_one_limit() -> None:
    """Several gzip members in a row (as `cat a.gz b.gz` makes) are one body, counted as one
    against the limit."""
    member = gzip.compress(b"a" * 1000, mtime=0)
    reply = await read_reply(response(Chunks(member * 3), encoding="gzip"), LIMIT)
    assert reply.content == b"a" * 3000
    with pytest.raises(BadAnswer, match="inflates"):
        await read_reply(response(Chunks(member * 3), encoding="gzip"), 2500)


@pytest.mark.parametrize(
    ("encoding", "body", "problem"),
    [
        ("gzip", gzip.compress(b'{"a": 1}', mtime=0)[:-6], "ends before its end"),
        ("gzip", b"not gzip at all", "cannot be decoded"),
        ("gzip", gzip.compress(b"{}", mtime=0) + b"trailing junk", "cannot be decoded"),
        ("deflate", deflated(b"{}", 15) + b"junk", "bytes past its end"),
        ("br", b"\x0b\x01\x80{}\x03", "Content-Encoding 'br'"),
        (
            "gzip, gzip",
            gzip.compress(gzip.compress(b"{}", mtime=0), mtime=0),
            "Content-Encoding 'gzip, gzip'",
        ),
        ("x\r\ny", b"{}", "a Content-Encoding the gateway"),
    ],
    ids=["truncated", "not-gzip", "junk-after", "deflate-past-end", "br", "twice", "not-text"],
)
async def test_a_body_that_cannot_be_decoded_is_a_bad_answer(
    encoding: str, body: bytes, problem: str
) -> None:
    """A truncated or corrupt compressed body, or a coding the gateway did not ask for, is
    BadAnswer saying which; a coding is quoted only when it is plain text."""
    with pytest.raises(BadAnswer, match=problem):
        await read_reply(response(Chunks(body), encoding=encoding), LIMIT)


@pytest.mark.parametrize("encoding", [None, "", "identity", " Identity "])
async def test_an_unencoded_body_is_the_body_as_it_came(encoding: str | None) -> None:
    """No Content-Encoding, or identity, is the body as received."""
    reply = await read_reply(response(Chunks(b'{"a":', b" 1}"), encoding=encoding), LIMIT)
    assert (reply.status_code, reply.content, reply.text) == (200, b'{"a": 1}', '{"a": 1}')


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
async def test_an_empty_compressed_body_is_empty_and_a_cut_one_is_refused(encoding: str) -> None:
    """An empty body labelled gzip or deflate (a 204's, say) is empty; one cut after its first
    byte, before any output, is BadAnswer."""
    assert (await read_reply(response(Chunks(), encoding=encoding), LIMIT)).content == b""
    first = deflated(b"{}", 31 if encoding == "gzip" else 15)[:1]
    with pytest.raises(BadAnswer, match="ends before its end"):
        await read_reply(response(Chunks(first), encoding=encoding), LIMIT)
