"""Word times past any recording (1e306 s from a broken or hostile upstream): captions refuse
them as untimed, by name, instead of overflowing the cue clock into an INTERNAL error."""

from __future__ import annotations

import dataclasses
import json

import grpc
import pytest
import srt  # type: ignore[import-untyped]  # the package ships no type hints
from sofer.batch.v1 import batch_pb2, batch_service_pb2, batch_service_pb2_grpc

from gateway import captions
from gateway.captions.cues import MAX_SECONDS
from gateway.config import GatewayConfig
from gateway.server.process import Gateway
from tests.conftest import bearer
from tests.helpers.calls import assert_error, recording_upstream, rpc_error

pb = batch_service_pb2
Stub = batch_service_pb2_grpc.BatchTranscriptionServiceStub
UNKNOWN = "a1b2c3d4-e5f6-7890-abcd-ef1234567890"


def timed(*spans: tuple[str, float, float]) -> batch_pb2.Transcription:
    """A transcript of words with the given (word, start, end)."""
    stamps = [batch_pb2.WordTimestamp(word=w, start=s, end=e) for w, s, e in spans]
    return batch_pb2.Transcription(text=" ".join(w for w, _, _ in spans), timestamps=stamps)


@pytest.mark.parametrize("file_format", [captions.SRT, captions.WEBVTT], ids=["srt", "vtt"])
@pytest.mark.parametrize(("start", "end"), [(0.5, 1e306), (1e306, 1e306), (0.5, MAX_SECONDS + 1)])
def test_a_time_past_a_week_is_not_timed(
    file_format: captions.Format, start: float, end: float
) -> None:
    """A word ending (or starting) past a week cannot be captioned: NotTimed naming the word
    and the limit, never an OverflowError; plain text is still made."""
    shown = timed(("hello", 0.0, 0.4), ("broken", start, end))
    with pytest.raises(captions.NotTimed, match=r"'broken' \(.* s\) is past a week"):
        file_format.render(shown)
    assert captions.TEXT.render(shown).content == "hello broken\n"


def test_a_week_is_still_written() -> None:
    """A word ending exactly a week in is captioned, its hours past 99 written in full."""
    content = captions.SRT.render(timed(("late", MAX_SECONDS - 1, MAX_SECONDS))).content
    (cue,) = srt.parse(content)
    assert cue.end.total_seconds() == MAX_SECONDS
    assert "168:00:00,000" in content


async def test_an_export_with_a_time_past_a_week_is_a_failed_precondition(
    gateway_config: GatewayConfig,
) -> None:
    """An upstream transcript with a word at 1e306 s: SRT export fails FAILED_PRECONDITION
    (TRANSCRIPT_NOT_TIMED) naming the word, not INTERNAL; the TEXT export works."""
    body = {
        "text": "hello broken",
        "timestamps": [
            {"word": "hello", "start": 0.0, "end": 0.4},
            {"word": "broken", "start": 0.5, "end": 1e306},
        ],
        "info": {
            "id": UNKNOWN,
            "title": "Broken times",
            "created_at": "2024-01-15T09:30:00Z",
            "primary_language": "en",
            "hebrew_word_format": ["en"],
            "status": "COMPLETED",
        },
    }
    async with recording_upstream(200, json.dumps(body).encode()) as (url, _record):
        config = dataclasses.replace(gateway_config, upstream_url=url)
        async with Gateway(config) as gateway, grpc.aio.insecure_channel(gateway.address) as ch:
            stub = Stub(ch)
            request = pb.ExportTranscriptionRequest(
                transcription_id=UNKNOWN, format=batch_pb2.EXPORT_FORMAT_SRT
            )
            error = await rpc_error(stub.ExportTranscription(request, metadata=bearer()))
            request.format = batch_pb2.EXPORT_FORMAT_TEXT
            text_file = await stub.ExportTranscription(request, metadata=bearer())
    info = assert_error(error, grpc.StatusCode.FAILED_PRECONDITION, "TRANSCRIPT_NOT_TIMED")
    assert info.metadata["transcription_id"] == UNKNOWN
    assert "'broken' (1e+306 s) is past a week" in (error.details() or "")
    assert text_file.content == "hello broken\n"
