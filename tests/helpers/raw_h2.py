"""A raw HTTP/2 client for the hostile-input tests (no tests here): one connection that sends
whatever frames a test asks for (the `h2` package), and what came back on each stream."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import time
from collections.abc import Callable

import h2.config
import h2.connection
import h2.errors
import h2.events
import h2.settings
from google.rpc import error_details_pb2, status_pb2

ANSWER_WITHIN = 20.0  # generous: a stream left unanswered fails the test after this


@dataclasses.dataclass
class Answer:
    """What came back on one stream."""

    headers: dict[str, str] = dataclasses.field(default_factory=dict)
    ended: bool = False
    reset: h2.errors.ErrorCodes | None = None
    at: float = 0.0

    @property
    def done(self) -> bool:
        return self.ended or self.reset is not None

    def status(self) -> status_pb2.Status:
        """The google.rpc.Status of the grpc-status-details-bin trailer (base64, unpadded)."""
        raw = self.headers["grpc-status-details-bin"]
        return status_pb2.Status.FromString(base64.b64decode(raw + "=" * (-len(raw) % 4)))

    def error_info(self) -> error_details_pb2.ErrorInfo:
        """The one ErrorInfo in the rich status."""
        found = []
        for detail in self.status().details:
            info = error_details_pb2.ErrorInfo()
            if detail.Unpack(info):
                found.append(info)
        assert len(found) == 1, self.headers
        return found[0]


class RawConnection:
    """One HTTP/2 connection that sends whatever frames a test asks for."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.h2 = h2.connection.H2Connection(
            h2.config.H2Configuration(client_side=True, header_encoding="utf-8")
        )
        self.answers: dict[int, Answer] = {}
        self.settings: dict[int, int] = {}
        self.terminated: h2.errors.ErrorCodes | None = None
        """The error code of the server's GOAWAY, once it sent one."""
        self.changed = asyncio.Event()
        self.h2.initiate_connection()
        self._flush()
        self._pump = asyncio.create_task(self._read())

    @classmethod
    async def open(cls, address: str) -> RawConnection:
        host, port = address.rsplit(":", 1)
        reader, writer = await asyncio.open_connection(host, int(port))
        return cls(reader, writer)

    def _flush(self) -> None:
        self.writer.write(self.h2.data_to_send())

    async def _read(self) -> None:
        while data := await self.reader.read(65536):
            for event in self.h2.receive_data(data):
                self._record(event)
            self._flush()  # ACKs of SETTINGS and PINGs, window updates
            self.changed.set()

    def _record(self, event: h2.events.Event) -> None:
        if isinstance(event, h2.events.ConnectionTerminated):
            self.terminated = h2.errors.ErrorCodes(event.error_code or 0)
            return
        if isinstance(event, h2.events.RemoteSettingsChanged):
            self.settings.update({k: v.new_value for k, v in event.changed_settings.items()})
            return
        stream_id = getattr(event, "stream_id", None)
        if stream_id not in self.answers:
            return
        answer = self.answers[stream_id]
        if isinstance(event, h2.events.ResponseReceived | h2.events.TrailersReceived):
            answer.headers.update({str(k): str(v) for k, v in event.headers})
        elif isinstance(event, h2.events.StreamEnded):
            answer.ended, answer.at = True, time.monotonic()
        elif isinstance(event, h2.events.StreamReset):
            answer.reset, answer.at = h2.errors.ErrorCodes(event.error_code), time.monotonic()

    async def wait(self, predicate: Callable[[], bool]) -> None:
        """Wait until `predicate()` holds, failing after ANSWER_WITHIN seconds."""
        async with asyncio.timeout(ANSWER_WITHIN):
            while not predicate():
                self.changed.clear()
                await self.changed.wait()

    async def handshake(self) -> None:
        """Wait for the server's SETTINGS (acknowledged by the reader as they arrive)."""
        await self.wait(lambda: bool(self.settings))

    def ignore_stream_limit(self) -> None:
        """Make h2 open streams past the server's advertised limit, as a hostile client
        would (h2 itself refuses to); the server's frame size is kept."""
        codes = h2.settings.SettingCodes
        self.h2.remote_settings = h2.settings.Settings(
            client=False,
            initial_values={
                codes.MAX_CONCURRENT_STREAMS: 2**31 - 1,
                codes.MAX_FRAME_SIZE: self.h2.remote_settings.max_frame_size,
            },
        )

    def all_answered(self) -> bool:
        """Whether every stream opened on this connection was answered."""
        return all(answer.done for answer in self.answers.values())

    def start(
        self,
        path: str,
        body: bytes | None,
        *,
        end: bool,
        content_type: str = "application/grpc",
    ) -> int:
        """Open a stream on `path` (gRPC unless `content_type` says otherwise): HEADERS, then
        `body` as DATA (if any); END_STREAM on the last frame when `end`."""
        stream_id = self.h2.get_next_available_stream_id()
        self.answers[stream_id] = Answer()
        self.h2.send_headers(
            stream_id,
            [
                (":method", "POST"),
                (":scheme", "http"),
                (":path", path),
                (":authority", "gateway"),
                ("content-type", content_type),
                ("te", "trailers"),
                ("authorization", "Bearer tenant-a-token"),
            ],
            end_stream=body is None and end,
        )
        if body is not None:
            self.h2.send_data(stream_id, body, end_stream=end)
        self._flush()
        return stream_id

    async def answer(self, stream_id: int) -> Answer:
        """The stream's answer, once it ended (or was reset)."""
        await self.wait(lambda: self.answers[stream_id].done)
        return self.answers[stream_id]

    async def close(self) -> None:
        self._pump.cancel()
        self.writer.close()
        await self.writer.wait_closed()
