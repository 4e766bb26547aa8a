"""The rules of page links on items and of the listing and link requests
(gateway.validation.listing, gateway.validation.rules)."""

from __future__ import annotations

from google.protobuf import timestamp_pb2
from sofer.batch.v1 import batch_pb2, batch_service_pb2

from gateway import validation

pb = batch_service_pb2
PAGE = "https://www.youtube.com/watch?v=abc"


def reasons(violations: list[validation.Violation]) -> dict[str, str]:
    return {v.field: v.reason for v in violations}


def create(*sources: batch_pb2.AudioSource) -> pb.CreateBatchRequest:
    return pb.CreateBatchRequest(info=batch_pb2.BatchInfo(), audio_sources=list(sources))


def test_a_page_url_stands_for_the_audio_url_in_a_batch() -> None:
    """An express item with only a page_url is valid: it will be resolved."""
    assert validation.validate(create(batch_pb2.AudioSource(page_url=PAGE))) == []


def test_an_item_needs_exactly_one_of_audio_url_and_page_url() -> None:
    """Both set: NOT_ALLOWED on page_url; neither: REQUIRED on audio_url; a page_url that is no
    URL: INVALID_URL on it."""
    both = batch_pb2.AudioSource(page_url=PAGE, audio_url="https://e.com/a.mp3")
    neither = batch_pb2.AudioSource(title="x")
    bad = batch_pb2.AudioSource(page_url="ftp://x")
    assert reasons(validation.validate(create(both, neither, bad))) == {
        "audio_sources[0].page_url": "NOT_ALLOWED",
        "audio_sources[1].audio_url": "REQUIRED",
        "audio_sources[2].page_url": "INVALID_URL",
    }


def test_a_manifest_item_may_not_name_a_page() -> None:
    """UploadManifest does not resolve links: page_url is NOT_ALLOWED there, and the item still
    needs its audio_url."""
    request = pb.UploadManifestRequest(
        items=pb.ManifestItems(items=[batch_pb2.AudioSource(page_url=PAGE)])
    )
    assert reasons(validation.validate(request)) == {
        "items.items[0].page_url": "NOT_ALLOWED",
        "items.items[0].audio_url": "REQUIRED",
    }


def test_list_transcriptions_bounds_its_fields() -> None:
    """page_size 0..200 (0 allowed: the default), a known state, at most 8 states."""
    ok = pb.ListTranscriptionsRequest(
        page_size=200, states=[batch_pb2.TRANSCRIPTION_STATE_FAILED], title_contains="x"
    )
    assert validation.validate(ok) == []
    too_many = pb.ListTranscriptionsRequest(states=[batch_pb2.TRANSCRIPTION_STATE_FAILED] * 9)
    assert reasons(validation.validate(too_many)) == {"states": "COUNT_OUT_OF_RANGE"}
    negative = pb.ListTranscriptionsRequest(page_size=-1, page_token="x" * 1025)
    assert reasons(validation.validate(negative)) == {
        "page_size": "OUT_OF_RANGE",
        "page_token": "TOO_LONG",
    }


def test_extract_link_needs_a_url() -> None:
    """ExtractLink's url is required and must be an absolute http(s) URL."""
    assert reasons(validation.validate(pb.ExtractLinkRequest())) == {"url": "REQUIRED"}
    assert validation.validate(pb.ExtractLinkRequest(url=PAGE)) == []


def test_creation_time_bounds_are_real_times_in_order() -> None:
    """A bound outside years 1 to 9999 or with nanos out of range is OUT_OF_RANGE on its own
    field; created_before must be later than created_after (OUT_OF_RANGE on created_before);
    one bound alone, or an ordered pair one nanosecond apart, is valid."""
    stamp = timestamp_pb2.Timestamp

    def listed(
        created_after: timestamp_pb2.Timestamp | None = None,
        created_before: timestamp_pb2.Timestamp | None = None,
    ) -> dict[str, str]:
        request = pb.ListTranscriptionsRequest(
            created_after=created_after, created_before=created_before
        )
        return reasons(validation.validate(request))

    assert listed(created_after=stamp(seconds=5)) == {}
    assert listed(created_after=stamp(seconds=5), created_before=stamp(seconds=5, nanos=1)) == {}
    assert listed(created_after=stamp(seconds=5), created_before=stamp(seconds=5)) == {
        "created_before": "OUT_OF_RANGE"
    }
    assert listed(created_before=stamp(seconds=-62_135_596_801)) == {
        "created_before": "OUT_OF_RANGE"
    }
    assert listed(created_after=stamp(nanos=1_000_000_000), created_before=stamp(seconds=1)) == {
        "created_after": "OUT_OF_RANGE"
    }
