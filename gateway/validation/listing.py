"""The rules of the listing and link requests (ListTranscriptions, ExtractLink,
ListSupportedSites); pure, as every validator. The page token's meaning is checked where the
credential is known (gateway.server.listing); here only its size."""

from __future__ import annotations

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


def validate_list_transcriptions(
    request: batch_service_pb2.ListTranscriptionsRequest,
) -> Violations:
    """`page_size` 0..MAX_LIST_PAGE_SIZE; `page_token` and `title_contains` bounded; each state a
    known value other than UNSPECIFIED, at most MAX_STATE_FILTERS of them."""
    out: Violations = []
    if not 0 <= request.page_size <= MAX_LIST_PAGE_SIZE:
        out.append(
            Violation(
                "page_size", Reason.OUT_OF_RANGE, f"must be between 0 and {MAX_LIST_PAGE_SIZE}"
            )
        )
    _max_chars(out, "page_token", request.page_token, MAX_PAGE_TOKEN_CHARS)
    _max_chars(out, "title_contains", request.title_contains, MAX_TITLE_CHARS)
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
