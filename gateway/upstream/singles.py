"""Single transcriptions upstream (POST /v1/transcriptions/): the request body and the answer.

The body is a `TranscriptionRequest`: `info` (the batch settings plus a caller-chosen `id` and a
`title`) and the audio, as `audio_url` or as a base64 `audio_file`. A file is sent as the pieces
of its base64 text, never joined into one string: the gateway holds the file once (in base64,
4/3 of its size), not again as a JSON text and its bytes (gateway.server.uploads).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from gateway.upstream.bodies import BatchTranscriptionRequestInfo
from gateway.upstream.decode import parse_json
from gateway.upstream.errors import ProtocolError


@dataclass(frozen=True)
class TranscriptionRequestInfo(BatchTranscriptionRequestInfo):
    """A single transcription's settings (spec: TranscriptionRequestInfo): the batch settings
    and the transcription's `id` (a UUID; the upstream makes one up when it is None)."""

    id: str | None = None


@dataclass(frozen=True)
class TranscriptionRequest:
    """Create one transcription (spec: TranscriptionRequest): exactly one of `audio_url` and
    `audio_file` (the base64 text's pieces, in order)."""

    info: TranscriptionRequestInfo
    audio_url: str | None = None
    audio_file: tuple[bytes, ...] | None = None

    def content(self) -> tuple[bytes, ...]:
        """The JSON body as pieces whose concatenation is the body: the settings' JSON around
        the base64 text, which is copied into no larger string."""
        head: dict[str, object] = {"info": self.info.to_json()}
        if self.audio_url is not None:
            head["audio_url"] = self.audio_url
        if self.audio_file is None:
            return (json.dumps(head).encode(),)
        opening = json.dumps(head)[:-1] + ', "audio_file": "'  # base64 needs no JSON escaping
        return (opening.encode(), *self.audio_file, b'"}')


def transcription_id(content: object) -> str:
    """The create's answer (spec: TranscriptionId, a JSON string), or ProtocolError."""
    value = parse_json(content) if isinstance(content, bytes) else content
    if not isinstance(value, str) or not value:
        raise ProtocolError(f"TranscriptionId: expected a non-empty string, got {value!r:.80}")
    return value
