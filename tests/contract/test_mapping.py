"""The answer mapping's fast paths give what protobuf's and the enum tables' own would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from google.protobuf import timestamp_pb2
from sofer.batch.v1 import batch_pb2

from bench import canned
from gateway.contract import mapping
from gateway.upstream.models import BatchStatusResponse

TIMES = [
    datetime(2026, 1, 15, 9, 30, tzinfo=UTC),
    datetime(2026, 1, 15, 9, 30, 1, 123456, tzinfo=timezone(timedelta(hours=-5, minutes=-30))),
    datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    datetime(1, 1, 1, 0, 0, 0, 1),
    datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    datetime(2026, 3, 29, 2, 30),
]


@pytest.mark.parametrize("when", TIMES, ids=str)
def test_times_map_as_protobuf_maps_them(when: datetime) -> None:
    """A time reaches the caller with the seconds and nanos protobuf's FromDatetime gives it,
    naive (UTC) or with any offset, at either end of Timestamp's range."""
    expected = timestamp_pb2.Timestamp()
    expected.FromDatetime(when)
    assert mapping._timestamp(when) == expected


def test_a_time_outside_timestamps_range_is_refused_as_before() -> None:
    """A time that leaves Timestamp's range once moved to UTC fails as protobuf fails it."""
    early = datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=1)))
    with pytest.raises((ValueError, OverflowError)):
        timestamp_pb2.Timestamp().FromDatetime(early)
    with pytest.raises((ValueError, OverflowError)):
        mapping._timestamp(early)


@pytest.mark.parametrize(
    "value", ["he", "HE", "He", "en", "yi", "unspecified", "klingon", "", None, 3]
)
def test_enum_values_map_as_the_long_way_maps_them(value: object) -> None:
    """Known values in any case, unknown values and non-strings map to the same number as
    the name-building look-up (unknown ones to UNSPECIFIED)."""
    expected = mapping._from_wire(batch_pb2.Language, "LANGUAGE_", value)
    assert mapping._LANGUAGE(value) == expected


def test_batch_status_is_the_field_by_field_mapping() -> None:
    """The canned 10-item status maps to the message the field-by-field construction makes,
    and filling a response's field in place gives the same message as building it apart."""
    answer = BatchStatusResponse.from_json(canned.status_bytes())
    status = mapping.batch_status(answer)
    assert status.batch_id == canned.BATCH_ID
    assert status.state == batch_pb2.BATCH_STATE_PROCESSING
    assert len(status.transcriptions) == canned.ITEMS
    first = status.transcriptions[0]
    assert first.primary_language == batch_pb2.LANGUAGE_HE
    assert list(first.hebrew_word_format) == [batch_pb2.HEBREW_WORD_FORMAT_HE]
    assert first.state == batch_pb2.TRANSCRIPTION_STATE_COMPLETED
    assert first.created_at.ToDatetime(tzinfo=UTC) == answer.transcriptions[0].created_at
    assert first.HasField("num_speakers")
    assert first.duration == 1800.0
    assert not status.transcriptions[9].HasField("num_speakers")
    assert not status.transcriptions[9].HasField("duration")
    filled = batch_pb2.BatchStatus()
    mapping.fill_batch_status(filled, answer)
    assert filled == status


def test_now_is_the_current_time_in_microseconds() -> None:
    """`set_now` stamps the current UTC time, to the microsecond like GetCurrentTime."""
    before = datetime.now(UTC)
    stamp = timestamp_pb2.Timestamp()
    mapping.set_now(stamp)
    after = datetime.now(UTC)
    assert stamp.nanos % 1000 == 0
    assert before - timedelta(seconds=1) <= stamp.ToDatetime(tzinfo=UTC) <= after
