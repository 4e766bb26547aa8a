"""ListTranscriptions' pure parts: page tokens, where the next page starts while the list
grows, and the per-tenant list cache (gateway.server.listing)."""

from __future__ import annotations

import pytest
from sofer.batch.v1 import batch_pb2, batch_service_pb2

from gateway.contract.errors import GatewayError
from gateway.server.listing import ListCache, PageToken, page, start_token
from gateway.upstream.models import TranscriptionList, TranscriptionSummary

pb = batch_service_pb2


def listed(*ids: str, status: str = "COMPLETED") -> TranscriptionList:
    """A list of transcriptions with these ids, in this (newest first) order."""
    return TranscriptionList(
        items=tuple(TranscriptionSummary(id=i, title=f"title {i}", status=status) for i in ids)
    )


def ids(response: pb.ListTranscriptionsResponse) -> list[str]:
    return [t.transcription_id for t in response.transcriptions]


def test_a_token_survives_its_round_trip_and_nothing_else_decodes() -> None:
    """A token decodes to what it encoded; truncated, foreign or mistyped tokens decode to
    None (the RPC answers INVALID_ARGUMENT on `page_token`)."""
    token = PageToken("t", "f", "id-9", 3)
    assert PageToken.decode(token.encode()) == token
    text = token.encode()
    for bad in (text[:-3], "!!", "", "bnVsbA", "eyJ2IjoxLCJ0IjoxfQ"):  # null; {"v":1,"t":1}
        assert PageToken.decode(bad) is None


def test_new_transcriptions_between_pages_neither_repeat_nor_hide_an_item() -> None:
    """After page one, two transcriptions are created (they come first in a newest-first
    list): page two starts right after page one's last item, wherever it now is."""
    first_list = listed("e", "d", "c", "b", "a")
    first = page(first_list, pb.ListTranscriptionsRequest(page_size=2), "tenant", None)
    assert ids(first) == ["e", "d"]
    grown = listed("g", "f", "e", "d", "c", "b", "a")
    request = pb.ListTranscriptionsRequest(page_size=2, page_token=first.next_page_token)
    second = page(grown, request, "tenant", start_token(request, "tenant"))
    assert ids(second) == ["c", "b"]
    request.page_token = second.next_page_token
    third = page(grown, request, "tenant", start_token(request, "tenant"))
    assert ids(third) == ["a"]
    assert not third.next_page_token


def test_a_vanished_last_item_resumes_at_its_former_position() -> None:
    """When the token's last transcription is no longer listed, the next page starts at the
    position it had."""
    token = PageToken("x", "y", "gone", 1)
    response = page(listed("a", "b", "c"), pb.ListTranscriptionsRequest(), "t", token)
    assert ids(response) == ["b", "c"]


def test_the_last_page_has_no_token_even_when_it_is_full() -> None:
    """A page that ends exactly at the last match says so: no next_page_token, so a caller
    never fetches an empty page."""
    request = pb.ListTranscriptionsRequest(
        page_size=2, states=[batch_pb2.TRANSCRIPTION_STATE_COMPLETED]
    )
    items = listed("a", "b").items + listed("c", status="FAILED").items
    response = page(TranscriptionList(items=items), request, "t", None)
    assert ids(response) == ["a", "b"]
    assert not response.next_page_token


def test_a_token_is_good_only_for_its_credential_and_filters() -> None:
    """Another tenant's token, or one sent with other filters, is refused."""
    request = pb.ListTranscriptionsRequest(page_size=1, title_contains="Title")
    token = page(listed("a", "b"), request, "mine", None).next_page_token
    same_filters = pb.ListTranscriptionsRequest(title_contains="title", page_token=token)
    assert start_token(same_filters, "mine") is not None  # the text filter ignores case
    with pytest.raises(GatewayError, match="another credential"):
        start_token(same_filters, "theirs")
    other = pb.ListTranscriptionsRequest(page_token=token)
    with pytest.raises(GatewayError, match="other filters"):
        start_token(other, "mine")


def test_the_list_cache_expires_and_stays_bounded() -> None:
    """A tenant's list answers for `seconds` on the injected clock, then is read again; at
    most `max_lists` tenants are held, the least recently stored dropped first."""
    now = [0.0]
    cache = ListCache(seconds=10.0, max_lists=2, clock=lambda: now[0])
    cache.put("a", listed("1"))
    now[0] = 9.9
    assert cache.get("a") == listed("1")
    now[0] = 10.0
    assert cache.get("a") is None
    cache.put("a", listed("1"))
    cache.put("b", listed("2"))
    cache.put("c", listed("3"))
    assert cache.get("a") is None
    assert cache.get("b") == listed("2")
