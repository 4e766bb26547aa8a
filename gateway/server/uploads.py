"""An uploaded file, received as a stream of chunks and kept in the form it is sent in.

The upstream takes a file only inside one JSON body, as base64 (`audio_file`), so the gateway
must hold all of it before sending. `Base64File` encodes each chunk as it arrives (carrying the
0 to 2 bytes that do not fill a base64 quantum to the next one) and keeps only the encoded
pieces: what the gateway holds is the file's base64 text, 4/3 of the bytes received, never more
than 4/3 of `--max-upload-bytes` plus a chunk, and nothing is joined or copied again to send it
(gateway.upstream.singles). Past the limit the stream is refused at once (RESOURCE_EXHAUSTED,
UPLOAD_TOO_LARGE), nothing sent upstream.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterator

import grpc
from sofer.batch.v1 import batch_service_pb2 as pb

from gateway.contract.errors import GatewayError, Reason, invalid_argument
from gateway.validation.rules import Reason as Rule
from gateway.validation.rules import Violation


class Base64File:
    """The base64 text of the bytes fed so far, in pieces, at most `limit` bytes of file."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.size = 0
        self.pieces: list[bytes] = []
        self._carry = b""
        self._digest = hashlib.sha256()

    def feed(self, chunk: bytes) -> None:
        """Take the file's next bytes; UPLOAD_TOO_LARGE once the file passes `limit`."""
        self.size += len(chunk)
        if self.size > self.limit:
            raise too_large(self.limit)
        self._digest.update(chunk)
        data = self._carry + chunk
        whole = len(data) - len(data) % 3  # base64 of whole 3-byte groups needs no padding
        if whole:
            self.pieces.append(base64.b64encode(data[:whole]))
        self._carry = data[whole:]

    def finish(self) -> tuple[bytes, ...]:
        """The base64 text's pieces, the last one padded."""
        if self._carry:
            self.pieces.append(base64.b64encode(self._carry))
            self._carry = b""
        return tuple(self.pieces)

    def sha256(self) -> bytes:
        """The digest of the bytes fed (the idempotency fingerprint's part for the file)."""
        return self._digest.digest()


def too_large(limit: int) -> GatewayError:
    """RESOURCE_EXHAUSTED, UPLOAD_TOO_LARGE: the chunks passed --max-upload-bytes."""
    return GatewayError(
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        Reason.UPLOAD_TOO_LARGE,
        f"the uploaded file (the `chunk` messages together) is larger than {limit} bytes, the "
        "gateway's --max-upload-bytes: nothing was sent upstream. Send a smaller file, or give "
        "its URL to CreateTranscription",
        quota_subject="upload size",
        quota_description=f"--max-upload-bytes {limit}",
    )


async def receive(rest: AsyncIterator[pb.UploadTranscriptionRequest], limit: int) -> Base64File:
    """The file of an upload stream's later messages: each a `chunk` (INVALID_ARGUMENT on
    `header` for a second header, on `chunk` for a message with neither or an empty file)."""
    received = Base64File(limit)
    async for message in rest:
        part = message.WhichOneof("part")
        if part == "header":
            raise invalid_argument(
                [Violation("header", Rule.NOT_ALLOWED, "only the stream's first message")]
            )
        if part != "chunk":
            raise invalid_argument([Violation("chunk", Rule.REQUIRED, "is required")])
        received.feed(message.chunk)
    if received.size == 0:
        raise invalid_argument(
            [Violation("chunk", Rule.REQUIRED, "the file is empty: send its bytes as chunks")]
        )
    return received
