"""The rules of the single-transcription requests (gateway.validation.singles)."""

from __future__ import annotations

from sofer.batch.v1 import batch_pb2
from sofer.batch.v1 import batch_service_pb2 as pb

from gateway import validation


def fields(request: object) -> set[str]:
    """The field paths of every violation of `request`."""
    return {v.field for v in validation.validate(request)}  # type: ignore[arg-type]


def test_a_create_needs_a_url_and_takes_batch_info_rules() -> None:
    """CreateTranscription: `audio_url` required and http(s), `request_id` a UUID when given,
    `info` checked as BatchInfo is."""
    assert fields(pb.CreateTranscriptionRequest()) == {"audio_url"}
    bad = pb.CreateTranscriptionRequest(
        request_id="x",
        audio_url="file:///etc/passwd",
        info=batch_pb2.BatchInfo(
            title="t" * 513, hebrew_word_format=[batch_pb2.HEBREW_WORD_FORMAT_UNSPECIFIED]
        ),
    )
    assert fields(bad) == {
        "request_id",
        "audio_url",
        "info.title",
        "info.hebrew_word_format[0]",
    }
    assert fields(pb.CreateTranscriptionRequest(audio_url="https://e.com/a.mp3")) == set()


def test_an_upload_starts_with_a_valid_header() -> None:
    """UploadTranscription's first message: a header, its paths under `header.`."""
    assert fields(pb.UploadTranscriptionRequest(chunk=b"abc")) == {"header"}
    header = pb.UploadTranscriptionHeader(
        request_id="nope",
        info=batch_pb2.BatchInfo(num_speakers=40),
        file_name="f" * 513,
        content_type="not a type",
    )
    assert fields(pb.UploadTranscriptionRequest(header=header)) == {
        "header.request_id",
        "header.info.num_speakers",
        "header.file_name",
        "header.content_type",
    }
    good = pb.UploadTranscriptionHeader(file_name="a.mp3", content_type="audio/mpeg")
    assert fields(pb.UploadTranscriptionRequest(header=good)) == set()


def test_a_watch_needs_a_transcription_id() -> None:
    """WatchTranscription: `transcription_id` required, a UUID."""
    assert fields(pb.WatchTranscriptionRequest()) == {"transcription_id"}
    assert fields(pb.WatchTranscriptionRequest(transcription_id="x")) == {"transcription_id"}
