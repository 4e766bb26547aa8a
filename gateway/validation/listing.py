"""The rules of the listing and link requests (ListTranscriptions, ExtractLink,
ListSupportedSites); pure, as every validator. The page token's meaning is checked where the
credential is known (gateway.server.listing); here only its size."""

from __future__ import annotations

from google.protobuf import timestamp_pb2
from sofer.batch.v1 import batch_pb2, batch_service_pb2

from gateway.validation.rules import (
    MAX_PAGE_TOKEN_CHARS,
    MAX_TITLE_CHARS,
    Reason,
    Violation,
    Violations,
    _enum,
    _max_chars,
    _url,
)

DEFAULT_LIST_PAGE_SIZE = 50
"""ListTranscriptions' page size when the request gives 0."""
MAX_LIST_PAGE_SIZE = 200
"""ListTranscriptions' largest page: a page is cut from a list the gateway holds, so it costs
no more upstream than a small one; the bound keeps one answer small."""
MAX_STATE_FILTERS = len(batch_pb2.TranscriptionState.values()) - 1  # every value but UNSPECIFIED
MIN_TIMESTAMP_SECONDS = -62_135_596_800  # 0001-01-01T00:00:00Z
MAX_TIMESTAMP_SECONDS = 253_402_300_799  # 9999-12-31T23:59:59Z


def _timestamp(out: Violations, path: str, value: timestamp_pb2.Timestamp) -> bool:
    """Whether `value` is a valid Timestamp (years 1 to 9999, nanos 0..999999999)."""
    if not MIN_TIMESTAMP_SECONDS <= value.seconds <= MAX_TIMESTAMP_SECONDS:
        out.append(Violation(path, Reason.OUT_OF_RANGE, "must be within years 1 to 9999"))
        return False
    if not 0 <= value.nanos <= 999_999_999:
        out.append(Violation(path, Reason.OUT_OF_RANGE, "nanos must be 0 to 999999999"))
        return False
    return True


def _created_bounds(out: Violations, request: batch_service_pb2.ListTranscriptionsRequest) -> None:
    valid = [
        _timestamp(out, name, getattr(request, name))
        for name in ("created_after", "created_before")
        if request.HasField(name)
    ]
    both = len(valid) == 2 and all(valid)
    if both and request.created_before.ToNanoseconds() <= request.created_after.ToNanoseconds():
        out.append(
            Violation("created_before", Reason.OUT_OF_RANGE, "must be later than created_after")
        )


def validate_list_transcriptions(
    request: batch_service_pb2.ListTranscriptionsRequest,
) -> Violations:
    """`page_size` 0..MAX_LIST_PAGE_SIZE; `page_token` and `title_contains` bounded; each state a
    known value other than UNSPECIFIED, at most MAX_STATE_FILTERS of them; `created_after` and
    `created_before` valid Timestamps, the second later than the first."""
    out: Violations = []
    if not 0 <= request.page_size <= MAX_LIST_PAGE_SIZE:
        out.append(
            Violation(
                "page_size", Reason.OUT_OF_RANGE, f"must be between 0 and {MAX_LIST_PAGE_SIZE}"
            )
        )
    _max_chars(out, "page_token", request.page_token, MAX_PAGE_TOKEN_CHARS)
    _max_chars(out, "title_contains", request.title_contains, MAX_TITLE_CHARS)
    _created_bounds(out, request)
    states = request.states
    if len(states) > MAX_STATE_FILTERS:
        out.append(
            Violation(
                "states",
                Reason.COUNT_OUT_OF_RANGE,
                f"must have at most {MAX_STATE_FILTERS} entries; got {len(states)}",
            )
        )
        return out
    for index, state in enumerate(states):
        path = f"states[{index}]"
        if state == batch_pb2.TRANSCRIPTION_STATE_UNSPECIFIED:
            out.append(
                Violation(path, Reason.NOT_ALLOWED, "must not be TRANSCRIPTION_STATE_UNSPECIFIED")
            )
        else:
            _enum(out, path, state, batch_pb2.TranscriptionState.DESCRIPTOR)
    return out


def validate_extract_link(request: batch_service_pb2.ExtractLinkRequest) -> Violations:
    """`url` is a required absolute http(s) URL of at most MAX_URL_CHARS."""
    out: Violations = []
    _url(out, "url", request.url)
    return out


def validate_list_supported_sites(
    request: batch_service_pb2.ListSupportedSitesRequest,
) -> Violations:
    """Nothing to check: the request has no fields."""
    return []
