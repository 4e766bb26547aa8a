"""GetBatchStatus replies built once per distinct upstream answer (status_replies)."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from sofer.batch.v1 import batch_service_pb2 as pb

from gateway.contract import mapping
from gateway.server.status_replies import StatusReplies, with_observed_at
from gateway.upstream import ProtocolError
from gateway.upstream.models import BatchStatusResponse


def answer(batch_id: str = "b1", items: int = 2, title: str = "Shiur") -> bytes:
    """An upstream BatchStatusResponse body of `items` items."""
    body: dict[str, Any] = {
        "batch_id": batch_id,
        "status": "PROCESSING",
        "total_count": items,
        "completed_count": 0,
        "failed_count": 0,
        "pending_count": items,
        "transcriptions": [
            {
                "id": f"t{i}",
                "title": f"{title} {i}",
                "created_at": "2026-01-15T09:30:00Z",
                "primary_language": "he",
                "hebrew_word_format": ["he"],
                "status": "PROCESSING",
            }
            for i in range(items)
        ],
    }
    return json.dumps(body).encode()


def expected(body: bytes) -> pb.GetBatchStatusResponse:
    """What GetBatchStatus answered for `body` before replies were kept: mapped afresh."""
    response = pb.GetBatchStatusResponse()
    mapping.fill_batch_status(response.batch_status, BatchStatusResponse.from_json(body))
    return response


def test_identical_answers_share_one_built_reply_with_their_own_observed_at() -> None:
    """Two upstream answers with the same bytes get the same built reply (made once); each
    response made from it carries its own observed_at, of the moment it was made, and is
    byte for byte what protobuf makes of the whole message."""
    replies = StatusReplies()
    body = answer()
    first = replies.reply(body)
    second = replies.reply(bytes(body))  # equal bytes, another object: as a new answer is
    assert second is first
    assert len(replies) == 1
    before = time.time_ns() // 1000 * 1000
    sent_first = pb.GetBatchStatusResponse.FromString(with_observed_at(first))
    sent_second = pb.GetBatchStatusResponse.FromString(with_observed_at(second))
    after = time.time_ns()
    for sent in (sent_first, sent_second):
        stamp = sent.batch_status.observed_at.ToNanoseconds()
        assert before <= stamp <= after
        whole = expected(body)
        whole.batch_status.observed_at.CopyFrom(sent.batch_status.observed_at)
        assert sent == whole
        assert sent.SerializeToString() == whole.SerializeToString()


def test_different_answers_never_share_a_reply() -> None:
    """Answers that differ in any byte (another batch, another title, the same JSON spaced
    differently) are built on their own, and each reply says what its own answer says."""
    replies = StatusReplies()
    bodies = [answer("b1"), answer("b2"), answer("b1", title="Other"), answer("b1") + b" "]
    built = [replies.reply(body) for body in bodies]
    assert len(replies) == 4
    for body, reply in zip(bodies, built, strict=True):
        sent = pb.GetBatchStatusResponse.FromString(with_observed_at(reply))
        sent.batch_status.ClearField("observed_at")
        assert sent == expected(body)
    assert len(set(built[:3])) == 3


def test_large_replies_are_framed_as_protobuf_frames_them() -> None:
    """A reply past 127 and 16,383 bytes (lengths of two and three varint bytes) is still
    exactly protobuf's serialization of the message."""
    for items in (3, 100, 600):
        body = answer(items=items)
        sent = with_observed_at(StatusReplies().reply(body))
        whole = expected(body)
        whole.batch_status.observed_at.CopyFrom(
            pb.GetBatchStatusResponse.FromString(sent).batch_status.observed_at
        )
        assert sent == whole.SerializeToString()
    assert len(sent) > 16_384


def test_kept_replies_are_bounded_by_count_and_bytes() -> None:
    """At most `max_entries` replies and `max_bytes` of bodies and replies are kept, the least
    recently used dropped first; an answer larger than the whole budget is built, not kept."""
    replies = StatusReplies(max_entries=2)
    one, two, three = answer("b1"), answer("b2"), answer("b3")
    first, second = replies.reply(one), replies.reply(two)
    assert replies.reply(one) is first  # now the most recently used
    replies.reply(three)  # drops b2, the least recently used
    assert len(replies) == 2
    assert replies.reply(one) is first
    rebuilt = replies.reply(two)  # built again (and drops b3)
    assert rebuilt == second
    assert rebuilt is not second
    assert len(replies) == 2

    size = len(one) + len(replies.reply(one))
    by_bytes = StatusReplies(max_bytes=size * 2)
    for batch in ("b1", "b2", "b3", "b4"):
        by_bytes.reply(answer(batch))
        assert by_bytes.size <= size * 2
    assert len(by_bytes) == 2
    huge = StatusReplies(max_bytes=size - 1)
    assert huge.reply(one) == first
    assert len(huge) == 0
    assert huge.size == 0


def test_a_bad_answer_is_a_protocol_error_and_nothing_is_kept() -> None:
    """An answer that is not a BatchStatusResponse fails as the decoder fails (ProtocolError
    naming the field) and leaves nothing behind."""
    replies = StatusReplies()
    with pytest.raises(ProtocolError, match="completed_count"):
        replies.reply(b'{"batch_id": "b1", "status": "PROCESSING", "total_count": 1}')
    assert len(replies) == 0


def test_a_parsed_answer_is_built_and_not_kept() -> None:
    """An answer given as parsed JSON (not bytes) is built like any other and never kept: only
    bytes key the replies."""
    replies = StatusReplies()
    body = answer()
    assert replies.reply(json.loads(body)) == replies.reply(body)
    assert len(replies) == 1
