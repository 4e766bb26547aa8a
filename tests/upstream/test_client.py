"""What the client puts on the wire, and its lifecycle (httpx.MockTransport, no retries)."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from gateway.upstream import (
    BatchFileCreateFromRssRequest,
    BatchFileUploadRequest,
    BatchTranscriptionRequest,
    BatchTranscriptionRequestInfo,
    CallOptions,
    InvalidArgument,
    LettersLanguage,
    NotFound,
    ProtocolError,
    Unavailable,
    UpstreamClient,
    UpstreamConfig,
)
from gateway.upstream.models import BatchStatusResponse
from tests.helpers.upstream import Script, reply

TOKEN = "tenant-a-token"
INFO: dict[str, Any] = {
    "id": "t1",
    "title": "Item 1",
    "created_at": "2024-01-15T09:30:00Z",
    "primary_language": "en",
    "hebrew_word_format": ["en", "he"],
    "status": "RECEIVED",
}
MANIFEST: dict[str, Any] = {
    "batch_file_id": "f1",
    "item_count": 1,
    "size_bytes": 10,
    "created_at": "2024-01-15T09:30:00Z",
    "status": "VALID",
}


def client_for(script: Script, **config: Any) -> UpstreamClient:
    """A client over a scripted upstream."""
    settings = UpstreamConfig(base_url="http://upstream.test/api", **config)
    return UpstreamClient(settings, transport=script.transport())


async def test_headers_auth_request_id_and_user_agent() -> None:
    """Each request carries the bearer token, the request id and the configured User-Agent."""
    script = Script(reply(200, INFO))
    async with client_for(script, user_agent="ua/1") as client:
        await client.get_transcription_status("t1", opts=CallOptions(TOKEN, request_id="rid-9"))
    sent = script.requests[0]
    assert sent.headers["authorization"] == f"Bearer {TOKEN}"
    assert sent.headers["x-request-id"] == "rid-9"
    assert sent.headers["user-agent"] == "ua/1"
    assert sent.url == "http://upstream.test/api/v1/transcriptions/t1/status"


async def test_health_without_token_sends_no_authorization() -> None:
    """get_health with an empty token sends no Authorization header (the endpoint needs none)."""
    script = Script(reply(200, {"status": "ok"}))
    async with client_for(script) as client:
        health = await client.get_health(opts=CallOptions(token=""))
    assert health.status == "ok"
    assert "authorization" not in script.requests[0].headers
    assert script.requests[0].url.path == "/api/v1/health/"


async def test_ids_are_escaped_as_one_path_segment() -> None:
    """An id with slashes or query characters cannot change the path it is sent to."""
    script = Script(reply(404, {"detail": "nope"}))
    async with client_for(script) as client:
        with pytest.raises(NotFound, match="nope"):
            await client.get_batch_status("a/../b?x=1", opts=CallOptions(TOKEN))
    assert script.requests[0].url.raw_path == (
        b"/api/v1/transcriptions/batch/a%2F..%2Fb%3Fx%3D1/status"
    )


@pytest.mark.parametrize("bad", ["", ".", ".."])
async def test_empty_or_dot_ids_fail_without_sending(bad: str) -> None:
    """An id that is empty or a dot segment is InvalidArgument before any request."""
    script = Script(reply(200, INFO))
    async with client_for(script) as client:
        with pytest.raises(InvalidArgument, match="transcription_id") as info:
            await client.get_transcription(bad, opts=CallOptions(TOKEN))
    assert script.requests == []
    assert not info.value.request_sent


async def test_query_parameters() -> None:
    """Query parameters are sent when given and left out when not."""
    listing: dict[str, Any] = {"files": [], "next_cursor": None}
    transcription = {"text": "t", "info": INFO}
    script = Script(
        reply(200, listing), reply(200, listing), reply(200, transcription), reply(200, INFO)
    )
    async with client_for(script) as client:
        await client.list_batch_files(opts=CallOptions(TOKEN))
        await client.list_batch_files(cursor="c1", limit=5, opts=CallOptions(TOKEN))
        await client.get_transcription(
            "t1", filter_hebrew_word_format=LettersLanguage.HYBRID, opts=CallOptions(TOKEN)
        )
        await client.get_batch_item_by_client_item_id("b1", "item one", opts=CallOptions(TOKEN))
    params = [dict(r.url.params) for r in script.requests]
    assert params == [
        {},
        {"cursor": "c1", "limit": "5"},
        {"filter_hebrew_word_format": "hybrid"},
        {"client_item_id": "item one"},
    ]
    assert script.requests[3].url.path == "/api/v1/transcriptions/batch/b1/items/by-client-item-id"


async def test_post_bodies_are_the_requests_json() -> None:
    """Each create sends its body's to_json() as JSON to its route."""
    created = {"batch_id": "b", "transcription_ids": [], "total_count": 0, "status": "RECEIVED"}
    rss = {**MANIFEST, "offset": 0, "limit": 10, "has_more": False}
    script = Script(reply(200, created), reply(200, MANIFEST), reply(200, rss))
    batch = BatchTranscriptionRequest(info=BatchTranscriptionRequestInfo(), batch_file_id="f1")
    upload = BatchFileUploadRequest(content_type="jsonl", jsonl="{}")
    feed = BatchFileCreateFromRssRequest(rss_url="https://feed.test/rss", limit=10)
    async with client_for(script) as client:
        await client.create_batch(batch, opts=CallOptions(TOKEN))
        await client.upload_batch_file(upload, opts=CallOptions(TOKEN))
        await client.create_batch_file_from_rss(feed, opts=CallOptions(TOKEN))
    sent = [(r.method, r.url.path, json.loads(r.content)) for r in script.requests]
    assert sent == [
        ("POST", "/api/v1/transcriptions/batch", batch.to_json()),
        ("POST", "/api/v1/transcriptions/batch-files", upload.to_json()),
        ("POST", "/api/v1/transcriptions/batch-files/from-rss", feed.to_json()),
    ]
    assert all(r.headers["content-type"] == "application/json" for r in script.requests)


async def test_lifecycle() -> None:
    """A client must be started before use, cannot start twice, and closes idempotently."""
    client = client_for(Script(reply(200, {"status": "ok"})))
    with pytest.raises(RuntimeError, match="not started"):
        await client.get_health(opts=CallOptions(""))
    await client.start()
    with pytest.raises(RuntimeError, match="already started"):
        await client.start()
    assert (await client.get_health(opts=CallOptions(""))).status == "ok"
    await client.aclose()
    await client.aclose()
    with pytest.raises(RuntimeError, match="not started"):
        await client.get_health(opts=CallOptions(""))


def test_config_rejects_nonsense() -> None:
    """Settings that cannot work are refused when the config is made."""
    with pytest.raises(ValueError, match="max_attempts"):
        UpstreamConfig(max_attempts=0)
    with pytest.raises(ValueError, match="base_url"):
        UpstreamConfig(base_url="api.sofer.ai")
    with pytest.raises(ValueError, match="attempt_timeout"):
        UpstreamConfig(attempt_timeout=0)


async def test_deadline_in_uses_the_client_clock() -> None:
    """deadline_in gives an absolute deadline on the client's own clock."""
    client = UpstreamClient(UpstreamConfig(), clock=lambda: 100.0)
    assert client.deadline_in(2.5) == 102.5


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A loopback port that is bound but not listening: connecting to it is refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


async def test_refused_connection_is_unavailable(closed_port: int) -> None:
    """A real refused connection, through the gateway's transport, is Unavailable after
    retries, and known not to have reached the upstream."""

    async def no_sleep(_seconds: float) -> None:
        return None

    config = UpstreamConfig(base_url=f"http://127.0.0.1:{closed_port}", max_attempts=2)
    async with UpstreamClient(config, sleep=no_sleep) as client:
        call = CallOptions(TOKEN)
        with pytest.raises(Unavailable) as info:
            await client.get_health(opts=call)
    assert call.attempts == 2
    assert not info.value.request_sent
    assert not info.value.outcome_unknown


async def test_get_batch_status_as_hands_the_body_bytes_to_parse() -> None:
    """`get_batch_status_as` GETs the batch's status and gives `parse` the answer's body as the
    bytes received (what a reply built once per distinct answer is keyed by); a body that
    `parse` refuses with ProtocolError fails the call as a bad answer to that GET."""
    body = {
        "batch_id": "b1",
        "status": "PROCESSING",
        "total_count": 0,
        "completed_count": 0,
        "failed_count": 0,
        "pending_count": 0,
        "transcriptions": [],
    }
    script = Script(reply(200, body), reply(200, "not json"))
    seen: list[object] = []

    def parse(data: object) -> str:
        seen.append(data)
        return BatchStatusResponse.from_json(data).batch_id

    async with client_for(script) as client:
        assert await client.get_batch_status_as("b1", parse, opts=CallOptions(TOKEN)) == "b1"
        with pytest.raises(ProtocolError) as raised:
            await client.get_batch_status_as("b1", parse, opts=CallOptions(TOKEN))
    assert seen == [json.dumps(body).encode(), b"not json"]
    assert script.requests[0].url.path == "/api/v1/transcriptions/batch/b1/status"
    assert raised.value.status == 200
    assert raised.value.path == "/v1/transcriptions/batch/{batch_id}/status"
