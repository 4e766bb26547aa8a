"""Hostile input on the HTTP port, as the gRPC port's tests send it: garbage bodies, wrong content
types, bodies larger than the limit (refused before they are read), bodies that never finish
(refused after --request-message-timeout while other callers are answered), half-finished
streams, and callers that go away. Every answer is a clear Connect error (with ErrorInfo where the
gateway answers), never a 500, a traceback or a hang, and the port keeps serving."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import io
import json
import struct
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from google.rpc import error_details_pb2

from gateway.config import GatewayConfig
from gateway.server.process import Gateway
from tests.conftest import TOKEN
from tests.helpers.connect import SERVICE

PATH = f"/{SERVICE.full_name}"
LIMIT = 64 * 1024
BODY_TIMEOUT = 0.5
ANSWER_WITHIN = 10.0
"""Seconds any answer here must come in (a hang fails the test rather than the suite)."""


@pytest.fixture
def gateway_config(gateway_config: GatewayConfig) -> GatewayConfig:
    """The HTTP port on, a small message limit and a short request-message timeout."""
    return dataclasses.replace(
        gateway_config,
        http_listen="127.0.0.1:0",
        max_receive_message_bytes=LIMIT,
        request_message_timeout=BODY_TIMEOUT,
    )


@pytest.fixture
def port(gateway: Gateway) -> int:
    return gateway.faces[0].port


@pytest.fixture
async def client(port: int) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=ANSWER_WITHIN) as c:
        yield c


def reason_of(error: dict[str, object]) -> str:
    """The ErrorInfo reason in a Connect error body (the first detail)."""
    details = error["details"]
    assert isinstance(details, list)
    first = details[0]
    assert first["type"] == "google.rpc.ErrorInfo"
    value = first["value"] + "=" * (-len(first["value"]) % 4)
    reason: str = error_details_pb2.ErrorInfo.FromString(base64.b64decode(value)).reason
    return reason


async def assert_serving(client: httpx.AsyncClient) -> None:
    """The port still answers a good call (the upstream's list of sites)."""
    answer = await client.post(
        f"{PATH}/ListSupportedSites",
        content=b"{}",
        headers={"content-type": "application/json", "authorization": f"Bearer {TOKEN}"},
    )
    assert answer.status_code == 200, answer.text


class Raw:
    """One HTTP/1.1 connection written by hand: headers and body parts as the test says."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, port: int) -> Raw:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def answer(self) -> tuple[int, dict[str, str], bytes]:
        """The response: status, headers, body (read until the server closes or the length
        it announced is in)."""
        async with asyncio.timeout(ANSWER_WITHIN):
            head = await self.reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            status = int(lines[0].split()[1])
            headers = {
                k.strip().lower(): v.strip()
                for k, _, v in (line.partition(":") for line in lines[1:] if line)
            }
            if "content-length" in headers:
                body = await self.reader.readexactly(int(headers["content-length"]))
            elif headers.get("transfer-encoding") == "chunked":
                body = b""
                while size := int((await self.reader.readline()).strip(), 16):
                    body += await self.reader.readexactly(size)
                    await self.reader.readline()
            else:
                body = await self.reader.read()
        return status, headers, body

    def close(self) -> None:
        self.writer.close()


def head(method: str, length: int | None, content_type: str = "application/json") -> bytes:
    lines = [
        f"POST {PATH}/{method} HTTP/1.1",
        "host: 127.0.0.1",
        f"content-type: {content_type}",
        f"authorization: Bearer {TOKEN}",
    ]
    lines.append("transfer-encoding: chunked" if length is None else f"content-length: {length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


@pytest.mark.parametrize(
    ("content_type", "body", "named"),
    [
        ("application/proto", b"\xff\xff\xff\xff garbage \x00\x01", "GetBatchStatusRequest"),
        ("application/json", b"{not json", "GetBatchStatusRequest"),
        ("application/json", b"\xff\xfe\xfd", "GetBatchStatusRequest"),
        ("application/json", b'{"batch_id": 5}', "GetBatchStatusRequest"),
        ("application/json", b"[]", "GetBatchStatusRequest"),
        ("application/json", b'{"no_such_field": "x"}', "GetBatchStatusRequest"),
        ("application/json", b"", "GetBatchStatusRequest"),
        ("application/json", b"  ", "GetBatchStatusRequest"),
    ],
)
async def test_a_garbage_body_is_invalid_argument_naming_the_message(
    client: httpx.AsyncClient, logs: io.StringIO, content_type: str, body: bytes, named: str
) -> None:
    """Bytes that are not the request message: 400 invalid_argument, REQUEST_INVALID, naming
    the message it should have been (or the field it lacks); never a 500 or a traceback."""
    answer = await client.post(
        f"{PATH}/GetBatchStatus",
        content=body,
        headers={"content-type": content_type, "authorization": f"Bearer {TOKEN}"},
    )
    assert answer.status_code == 400, answer.text
    error = answer.json()
    assert error["code"] == "invalid_argument"
    assert named in error["message"]
    assert reason_of(error) == "REQUEST_INVALID"
    assert "Traceback" not in logs.getvalue()
    await assert_serving(client)


async def test_a_garbage_stream_message_ends_the_stream_invalid_argument(
    client: httpx.AsyncClient,
) -> None:
    """A watch whose one (enveloped) message is garbage ends with invalid_argument in the
    stream's end message, REQUEST_INVALID."""
    garbage = b"{oops"
    answer = await client.post(
        f"{PATH}/WatchBatchStatus",
        content=struct.pack(">BI", 0, len(garbage)) + garbage,
        headers={"content-type": "application/connect+json", "authorization": f"Bearer {TOKEN}"},
    )
    assert answer.status_code == 200
    flags, size = struct.unpack(">BI", answer.content[:5])
    assert flags == 0x02
    error = json.loads(answer.content[5 : 5 + size])["error"]
    assert error["code"] == "invalid_argument"
    assert reason_of(error) == "REQUEST_INVALID"


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", ""])
async def test_a_wrong_content_type_is_refused_unsupported(
    client: httpx.AsyncClient, content_type: str
) -> None:
    """A body in a content type the port does not speak: 415 Unsupported Media Type, naming the
    ones it takes (Accept-Post), and nothing runs."""
    answer = await client.post(
        f"{PATH}/GetBatchStatus", content=b"{}", headers={"content-type": content_type}
    )
    assert answer.status_code == 415
    assert "application/json" in answer.headers["accept-post"]


async def test_an_unknown_path_is_not_found(client: httpx.AsyncClient) -> None:
    """A path that names no RPC: 404."""
    answer = await client.post(
        f"{PATH}/NoSuchMethod", content=b"{}", headers={"content-type": "application/json"}
    )
    assert answer.status_code == 404


async def test_a_huge_announced_body_is_refused_before_it_is_read(port: int) -> None:
    """A body whose content-length is past the limit is refused RESOURCE_EXHAUSTED
    (REQUEST_TOO_LARGE, naming the flag) after its first bytes: the rest is never waited for."""
    raw = await Raw.open(port)
    try:
        await raw.send(head("GetBatchStatus", 100 * 1024 * 1024) + b'{"batch_id": "')
        status, _, body = await raw.answer()
    finally:
        raw.close()
    assert status == 429
    error = json.loads(body)
    assert error["code"] == "resource_exhausted"
    assert "--max-receive-message-bytes" in error["message"]
    assert reason_of(error) == "REQUEST_TOO_LARGE"


async def test_a_huge_chunked_body_is_refused_at_the_limit(port: int) -> None:
    """A body without a length that goes on past the limit is refused once it passes it."""
    raw = await Raw.open(port)
    chunk = b"x" * 16 * 1024
    try:
        await raw.send(head("GetBatchStatus", None))
        for _ in range(LIMIT // len(chunk) + 2):
            await raw.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        status, _, body = await raw.answer()
    finally:
        raw.close()
    assert status == 429
    assert reason_of(json.loads(body)) == "REQUEST_TOO_LARGE"


async def test_a_slow_body_is_cut_off_while_others_are_answered(
    port: int, client: httpx.AsyncClient
) -> None:
    """A body that never finishes is answered DEADLINE_EXCEEDED (REQUEST_MESSAGE_TIMEOUT) once
    --request-message-timeout has passed; meanwhile another caller is answered at once."""
    raw = await Raw.open(port)
    try:
        started = time.monotonic()
        await raw.send(head("GetBatchStatus", 100) + b'{"batch_id": ')
        other = time.monotonic()
        await assert_serving(client)
        assert time.monotonic() - other < BODY_TIMEOUT
        status, _, body = await raw.answer()
        waited = time.monotonic() - started
    finally:
        raw.close()
    assert status == 504
    error = json.loads(body)
    assert error["code"] == "deadline_exceeded"
    assert "--request-message-timeout" in error["message"]
    assert reason_of(error) == "REQUEST_MESSAGE_TIMEOUT"
    assert BODY_TIMEOUT <= waited < ANSWER_WITHIN


async def test_a_half_finished_stream_message_is_a_clear_error(port: int) -> None:
    """A watch whose envelope announces more bytes than the body brings before it ends is
    refused invalid_argument saying so (the runtime's own error: the message never reached the
    gateway), not left waiting nor answered 500."""
    body = struct.pack(">BI", 0, 100) + b'{"batch_id"'
    raw = await Raw.open(port)
    try:
        await raw.send(head("WatchBatchStatus", len(body), "application/connect+json") + body)
        status, _, answer = await raw.answer()
    finally:
        raw.close()
    assert status == 200
    flags, size = struct.unpack(">BI", answer[:5])
    assert flags == 0x02
    error = json.loads(answer[5 : 5 + size])["error"]
    assert error["code"] == "invalid_argument"
    assert "promised 100 bytes" in error["message"]


async def test_callers_that_go_away_mid_body_leave_the_port_serving(
    port: int, client: httpx.AsyncClient, logs: io.StringIO
) -> None:
    """Connections dropped mid-headers and mid-body, many at once, leave no error behind: the
    port answers the next caller."""
    for _ in range(20):
        raw = await Raw.open(port)
        await raw.send(head("GetBatchStatus", 1000) + b'{"batch')
        raw.close()
        raw = await Raw.open(port)
        await raw.send(head("GetBatchStatus", 10)[:40])
        raw.close()
    await assert_serving(client)
    assert "Traceback" not in logs.getvalue()
