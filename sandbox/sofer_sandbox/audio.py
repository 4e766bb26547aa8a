"""What the sandbox knows of an audio: its identity, whether it fails, and its duration.

An audio is named by its URL, or for an uploaded base64 `audio_file` by `file:` plus the SHA-256
of its bytes (the bytes themselves are not kept). Transcripts, speaker detection and durations
derive from that name, so the same URL or the same bytes always give the same answers. An audio
"fails" (the upstream could not fetch or decode it) when its URL contains `fail`, or when the
file's bytes start with `fail`; such an audio has no determinable duration (0 s: it costs
nothing, and its transcription ends FAILED).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from sofer_sandbox.errors import Loc, SchemaErrors
from sofer_sandbox.transcripts import duration_seconds


@dataclass(frozen=True)
class Audio:
    """One audio as the sandbox sees it."""

    # The URL, or "file:<sha256 hex>" for uploaded bytes.
    key: str
    fails: bool

    @property
    def seconds(self) -> int:
        """Its duration in whole seconds; 0 when it cannot be determined (a failing audio)."""
        return 0 if self.fails else duration_seconds(self.key)


def url_audio(audio_url: str) -> Audio:
    """The audio at `audio_url`."""
    return Audio(key=audio_url, fails="fail" in audio_url)


def file_audio(data: bytes) -> Audio:
    """The audio of uploaded bytes."""
    return Audio(key="file:" + hashlib.sha256(data).hexdigest(), fails=data.startswith(b"fail"))


def decode_audio_file(text: str, max_bytes: int, loc: Loc, errors: SchemaErrors) -> bytes | None:
    """The bytes of a base64 `audio_file` (standard alphabet, padded, no data-URI prefix), or a
    recorded 422 violation: not base64, or more than `max_bytes` once decoded. The size is
    checked on the text's length before anything is decoded."""
    if len(text) // 4 * 3 > max_bytes + 2:
        errors.add(loc, f"audio_file decodes to more than {max_bytes} bytes", "too_large")
        return None
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        errors.add(loc, "audio_file is not valid base64", "base64_decode")
        return None
    if len(data) > max_bytes:
        errors.add(loc, f"audio_file decodes to more than {max_bytes} bytes", "too_large")
        return None
    return data
