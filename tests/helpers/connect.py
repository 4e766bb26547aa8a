"""A small Connect client over httpx with the gRPC stub's method surface (no tests here).

`ConnectStub(url)` has one attribute per RPC of the batch service, called as the generated gRPC
stub's are: `await stub.GetBatchStatus(request, metadata=..., timeout=...)` for a unary RPC;
`call = stub.WatchBatchStatus(request, metadata=...)` for a server stream, read with `async for`
or `await call.read()` (grpc.aio.EOF at the end), then `await call.code()`. A failed call raises
a `grpc.aio.AioRpcError` whose code, message and `grpc-status-details-bin` trailer are made from
Connect's JSON error body, so the tests' helpers (rich_status, assert_error, ...) read an error
of either protocol alike: the same cases run over both (the `protocol` fixture, tests/conftest.py).

It speaks Connect as the protocol's specification says, by hand (JSON, or protobuf's binary form
with `codec="proto"`), so that the tests check the wire, not the server's own runtime.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import struct
from collections.abc import AsyncIterator, Coroutine, Generator
from typing import Any

import aiohttp
import grpc
import httpx
from google.protobuf import any_pb2, json_format
from google.protobuf.message import Message
from google.rpc import status_pb2
from sofer.batch.v1 import batch_service_pb2

SERVICE = batch_service_pb2.DESCRIPTOR.services_by_name["BatchTranscriptionService"]
END_STREAM = 0x02


def grpc_code(name: str) -> grpc.StatusCode:
    """The gRPC code of a Connect code name (`canceled` is CANCELLED)."""
    if name == "canceled":
        return grpc.StatusCode.CANCELLED
    return grpc.StatusCode[name.upper()]


def unpadded_b64decode(text: str) -> bytes:
    """Connect sends binary values base64 without padding (standard or URL alphabet)."""
    padded = text + "=" * (-len(text) % 4)
    return base64.b64decode(padded.replace("-", "+").replace("_", "/"))


def error_from(body: dict[str, Any], initial: list[tuple[str, str]], trailing: list[Any]) -> Any:
    """The AioRpcError of a Connect error body, its details as a google.rpc.Status trailer."""
    code = grpc_code(str(body.get("code", "unknown")))
    message = str(body.get("message", ""))
    details = [
        any_pb2.Any(
            type_url="type.googleapis.com/" + d["type"], value=unpadded_b64decode(d["value"])
        )
        for d in body.get("details", [])
    ]
    status = status_pb2.Status(code=code.value[0], message=message, details=details)
    pairs = [*trailing, ("grpc-status-details-bin", status.SerializeToString())]
    return grpc.aio.AioRpcError(
        code,
        grpc.aio.Metadata(*initial),
        grpc.aio.Metadata(*pairs),
        details=message,
        debug_error_string="",
    )


class ConnectStub:
    """The batch service over Connect at `url` (http://host:port), one method per RPC."""

    def __init__(self, url: str, *, codec: str = "json", client: httpx.AsyncClient) -> None:
        self.url = url.rstrip("/")
        self.codec = codec
        self.client = client
        for rpc in SERVICE.methods:
            method: Any = _Stream(self, rpc) if rpc.server_streaming else _Unary(self, rpc)
            if rpc.client_streaming:
                method = _Upload(self, rpc)
            setattr(self, rpc.name, method)

    def __getattr__(self, name: str) -> Any:
        """Only for names that are no RPC (the RPCs are set in __init__)."""
        raise AttributeError(f"{SERVICE.full_name} has no RPC {name}")

    def headers(self, metadata: Any, timeout: float | None, content_type: str) -> dict[str, str]:
        headers = {"content-type": content_type, "connect-protocol-version": "1"}
        for key, value in metadata or ():
            if isinstance(value, bytes):
                value = base64.b64encode(value).decode().rstrip("=")
            headers[key] = value
        if timeout is not None:
            headers["connect-timeout-ms"] = str(max(int(timeout * 1000), 1))
        return headers

    def encode(self, message: Message) -> bytes:
        if self.codec == "json":
            return json_format.MessageToJson(message).encode()
        data: bytes = message.SerializeToString()
        return data

    def decode(self, data: bytes, cls: Any) -> Any:
        message = cls()
        if self.codec == "json":
            json_format.Parse(data, message)
        else:
            message.ParseFromString(data)
        return message


class _Method:
    """One RPC of the stub: its path and answer type."""

    def __init__(self, stub: ConnectStub, rpc: Any) -> None:
        self.stub = stub
        self.path = f"/{SERVICE.full_name}/{rpc.name}"
        self.output = batch_service_pb2.__dict__[rpc.output_type.name]


class _Unary(_Method):
    def __call__(
        self, request: Message, *, metadata: Any = (), timeout: float | None = None
    ) -> UnaryCall:
        """The call, under way: awaited (or cancelled) as grpc.aio's unary calls are."""
        call = UnaryCall()
        call.start(self._call(call, request, metadata, timeout))
        return call

    async def _call(
        self, call: UnaryCall, request: Message, metadata: Any, seconds: float | None
    ) -> Any:
        stub = self.stub
        headers = stub.headers(metadata, seconds, f"application/{stub.codec}")
        answer = await stub.client.post(
            stub.url + self.path,
            content=stub.encode(request),
            headers=headers,
            timeout=None if seconds is None else seconds + 5.0,
        )
        initial = [(k, v) for k, v in answer.headers.items() if not k.startswith("trailer-")]
        trailing = [
            (k.removeprefix("trailer-"), v)
            for k, v in answer.headers.items()
            if k.startswith("trailer-")
        ]
        call.initial, call.trailing = initial, trailing
        if answer.status_code != 200:
            assert answer.headers["content-type"] == "application/json", answer.text
            raise error_from(answer.json(), initial, trailing)
        return stub.decode(answer.content, self.output)


class UnaryCall:
    """A unary call in its own task: awaitable, cancellable, with its code once it ended."""

    def __init__(self) -> None:
        self.initial: list[tuple[str, str]] = []
        self.trailing: list[tuple[str, str]] = []

    def start(self, call: Coroutine[Any, Any, Any]) -> None:
        self._task = asyncio.ensure_future(call)

    async def initial_metadata(self) -> grpc.aio.Metadata:
        await self.code()
        return grpc.aio.Metadata(*self.initial)

    async def trailing_metadata(self) -> grpc.aio.Metadata:
        await self.code()
        return grpc.aio.Metadata(*self.trailing)

    def __await__(self) -> Generator[Any, None, Any]:
        return self._task.__await__()

    def cancel(self) -> bool:
        """Cancel the call: its HTTP request is abandoned (the connection closes)."""
        return self._task.cancel()

    async def code(self) -> grpc.StatusCode:
        try:
            await self._task
        except asyncio.CancelledError:
            return grpc.StatusCode.CANCELLED
        except grpc.aio.AioRpcError as error:
            return error.code()
        return grpc.StatusCode.OK


class _Upload(_Unary):
    """A client-streaming RPC: its messages enveloped in one request body (Connect's
    streaming protocol), its one answer in the streaming response's frames."""

    async def _call(
        self, call: UnaryCall, request: Any, metadata: Any, seconds: float | None
    ) -> Any:
        stub = self.stub

        async def body() -> AsyncIterator[bytes]:  # sent as the messages come
            async for message in request:
                payload = stub.encode(message)
                yield struct.pack(">BI", 0, len(payload)) + payload

        headers = stub.headers(metadata, seconds, f"application/connect+{stub.codec}")
        # aiohttp, not httpx: it writes the body in a task of its own while it reads the
        # answer, so an upload the server refuses midway (a stalled client) gets its answer.
        async with (
            aiohttp.ClientSession() as session,
            session.post(stub.url + self.path, data=body(), headers=headers) as answer,
        ):
            call.initial = list(answer.headers.items())
            content = await answer.read()
            if answer.status != 200:
                raise error_from(json.loads(content), call.initial, [])
        data, response = content, None
        while data:
            flags, size = struct.unpack(">BI", data[:5])
            frame, data = data[5 : 5 + size], data[5 + size :]
            if not flags & END_STREAM:
                response = stub.decode(frame, self.output)
                continue
            end = json.loads(frame)
            for key, values in (end.get("metadata") or {}).items():
                call.trailing.extend((key, v) for v in values)
            if end.get("error") is not None:
                raise error_from(end["error"], call.initial, call.trailing)
        assert response is not None, "the answer carried no message"
        return response


class _Stream(_Method):
    def __call__(
        self, request: Message, *, metadata: Any = (), timeout: float | None = None
    ) -> StreamCall:
        return StreamCall(self, request, metadata, timeout)


_DONE = object()


class StreamCall:
    """One server-streaming call over Connect, read like grpc.aio's: its response is read by a
    task of its own into a queue, so that `cancel()` ends it at once (the connection closes)."""

    def __init__(self, method: _Stream, request: Message, metadata: Any, seconds: float | None):
        self._method = method
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        self._code: grpc.StatusCode | None = None
        self._error: Any = None
        self.initial: list[tuple[str, str]] = []
        self.trailing: list[tuple[str, str]] = []
        self._task = asyncio.ensure_future(self._pump(request, metadata, seconds))

    async def _pump(self, request: Message, metadata: Any, seconds: float | None) -> None:
        try:
            await self._run(request, metadata, seconds)
        except asyncio.CancelledError:
            self._code = grpc.StatusCode.CANCELLED
        except grpc.aio.AioRpcError as error:
            self._error = error
            self._code = error.code()
        finally:
            self._queue.put_nowait(_DONE)

    async def _run(self, request: Message, metadata: Any, seconds: float | None) -> None:
        stub = self._method.stub
        headers = stub.headers(metadata, seconds, f"application/connect+{stub.codec}")
        payload = stub.encode(request)
        body = struct.pack(">BI", 0, len(payload)) + payload
        async with stub.client.stream(
            "POST", stub.url + self._method.path, content=body, headers=headers, timeout=None
        ) as answer:
            self.initial = list(answer.headers.items())
            if answer.status_code != 200:
                await answer.aread()
                raise error_from(answer.json(), self.initial, [])
            buffer = b""
            async for chunk in answer.aiter_bytes():
                buffer += chunk
                while len(buffer) >= 5:
                    flags, size = struct.unpack(">BI", buffer[:5])
                    if len(buffer) < 5 + size:
                        break
                    data, buffer = buffer[5 : 5 + size], buffer[5 + size :]
                    if flags & END_STREAM:
                        self._end(json.loads(data))
                        return
                    self._queue.put_nowait(stub.decode(data, self._method.output))
        raise AssertionError("the stream ended without its end-of-stream message")

    def _end(self, end: dict[str, Any]) -> None:
        for key, values in (end.get("metadata") or {}).items():
            self.trailing.extend((key, v) for v in values)
        error = end.get("error")
        if error is None:
            self._code = grpc.StatusCode.OK
            return
        raise error_from(error, self.initial, self.trailing)

    async def read(self) -> Any:
        """The next message, or grpc.aio.EOF at the end; raises the call's error."""
        item = await self._queue.get()
        if item is _DONE:
            self._queue.put_nowait(_DONE)  # every later read ends too
            if self._error is not None:
                raise self._error
            return grpc.aio.EOF  # type: ignore[attr-defined]
        return item

    async def __aiter__(self) -> AsyncIterator[Any]:
        while (item := await self.read()) is not grpc.aio.EOF:  # type: ignore[attr-defined]
            yield item

    async def code(self) -> grpc.StatusCode:
        """The call's code once it ended."""
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        assert self._code is not None
        return self._code

    async def details(self) -> str:
        await self.code()
        return str(self._error.details()) if self._error is not None else ""

    async def trailing_metadata(self) -> grpc.aio.Metadata:
        await self.code()
        return grpc.aio.Metadata(*self.trailing)

    async def initial_metadata(self) -> grpc.aio.Metadata:
        return grpc.aio.Metadata(*self.initial)

    def cancel(self) -> bool:
        """Cancel the call: the connection closes, the server sees the client go."""
        return self._task.cancel()

    def done(self) -> bool:
        return self._task.done()
