"""RSS import: a feed served on loopback becomes a manifest, paged by limit and offset."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import httpx
import pytest
from sofer_sandbox import SandboxConfig, SandboxServer
from sofer_sandbox.rss import is_audio, parse_feed

from tests.helpers.sandbox_http import Routes, client, episode, feed_server, rss


async def _import(server: SandboxServer, body: dict[str, Any]) -> httpx.Response:
    async with client(server) as http:
        return await http.post("/v1/transcriptions/batch-files/from-rss", json=body)


async def _manifest_items(server: SandboxServer, batch_file_id: str) -> list[dict[str, Any]]:
    """The manifest's items, seen through a standard batch started from it."""
    async with client(server) as http:
        batch = await http.post(
            "/v1/transcriptions/batch", json={"batch_file_id": batch_file_id, "info": {}}
        )
        assert batch.status_code == 200, batch.text
        status = await http.get(f"/v1/transcriptions/batch/{batch.json()['batch_id']}/status")
    items: list[dict[str, Any]] = status.json()["transcriptions"]
    return items


async def test_feed_becomes_a_valid_manifest(sandbox: SandboxServer) -> None:
    """Each audio enclosure is one item, titled from its episode, with a guid-based stable id."""
    feed = rss([episode(1), episode(2), episode(3, guid=False)])
    async with feed_server({"/feed.xml": (200, feed)}) as base:
        answer = (await _import(sandbox, {"rss_url": f"{base}/feed.xml"})).json()
        items = await _manifest_items(sandbox, answer["batch_file_id"])
        again = (await _import(sandbox, {"rss_url": f"{base}/feed.xml"})).json()
        again_items = await _manifest_items(sandbox, again["batch_file_id"])
    assert answer["status"] == "VALID"
    assert (answer["item_count"], answer["offset"], answer["limit"]) == (3, 0, 500)
    assert answer["has_more"] is False
    assert "next_offset" not in answer
    assert [i["title"] for i in items] == ["Episode 1", "Episode 2", "Episode 3"]
    ids = [i["client_item_id"] for i in items]
    assert ids[:2] == ["ep-1", "ep-2"]
    assert ids[2].startswith("enclosure-")
    assert [i["client_item_id"] for i in again_items] == ids
    assert answer["checksum"] == again["checksum"]


async def test_metadata_title_defaults_to_the_feed_title(sandbox: SandboxServer) -> None:
    """Without metadata the manifest's title is the feed's; given metadata wins."""
    feed = rss([episode(1)], title="Daf Yomi")
    async with feed_server({"/f": (200, feed)}) as base, client(sandbox) as http:
        plain = (await _import(sandbox, {"rss_url": f"{base}/f"})).json()
        named = (
            await _import(
                sandbox, {"rss_url": f"{base}/f", "metadata": {"title": "Mine", "description": "d"}}
            )
        ).json()
        path = "/v1/transcriptions/batch-files/{}"
        plain_detail = (await http.get(path.format(plain["batch_file_id"]))).json()
        named_detail = (await http.get(path.format(named["batch_file_id"]))).json()
    assert plain_detail["title"] == "Daf Yomi"
    assert (named_detail["title"], named_detail["description"]) == ("Mine", "d")


async def test_limit_offset_has_more_and_next_offset(sandbox: SandboxServer) -> None:
    """Pages of `limit` from `offset`; has_more and next_offset lead through the whole feed."""
    feed = rss([episode(n) for n in range(1, 8)])
    async with feed_server({"/f": (200, feed)}) as base:
        first = (await _import(sandbox, {"rss_url": f"{base}/f", "limit": 3})).json()
        second = (
            await _import(
                sandbox, {"rss_url": f"{base}/f", "limit": 3, "offset": first["next_offset"]}
            )
        ).json()
        last = (
            await _import(
                sandbox, {"rss_url": f"{base}/f", "limit": 3, "offset": second["next_offset"]}
            )
        ).json()
        last_items = await _manifest_items(sandbox, last["batch_file_id"])
    assert (first["item_count"], first["has_more"], first["next_offset"]) == (3, True, 3)
    assert (second["offset"], second["has_more"], second["next_offset"]) == (3, True, 6)
    assert (last["offset"], last["item_count"], last["has_more"]) == (6, 1, False)
    assert "next_offset" not in last
    assert [i["client_item_id"] for i in last_items] == ["ep-7"]


async def test_only_audio_enclosures_count(sandbox: SandboxServer) -> None:
    """Video and image enclosures are skipped; audio/* or an audio extension is kept."""
    feed = rss(
        [
            episode(1, mime="video/mp4", ext="mp4"),
            episode(2, mime="audio/x-m4a", ext="m4a"),
            episode(3, mime="application/octet-stream", ext="mp3"),
            episode(4, mime="image/png", ext="png"),
            "<item><title>No enclosure</title></item>",
        ]
    )
    async with feed_server({"/f": (200, feed)}) as base:
        answer = (await _import(sandbox, {"rss_url": f"{base}/f"})).json()
        items = await _manifest_items(sandbox, answer["batch_file_id"])
    assert [i["client_item_id"] for i in items] == ["ep-2", "ep-3"]


async def test_duplicate_guids_still_get_unique_ids(sandbox: SandboxServer) -> None:
    """Repeated guids are suffixed so that client_item_id stays unique within the manifest."""
    feed = rss([episode(1), episode(1)])
    async with feed_server({"/f": (200, feed)}) as base:
        answer = (await _import(sandbox, {"rss_url": f"{base}/f"})).json()
        items = await _manifest_items(sandbox, answer["batch_file_id"])
    assert [i["client_item_id"] for i in items] == ["ep-1", "ep-1#2"]


@pytest.mark.parametrize(
    ("routes", "path", "words"),
    [
        ({}, "/missing", "HTTP 404"),
        ({"/f": (200, b"<rss><channel>")}, "/f", "well-formed"),
        ({"/f": (200, b"<html><body/></html>")}, "/f", "RSS 2.0"),
        (
            {"/f": (200, b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><rss/>')},
            "/f",
            "DTD",
        ),
        ({"/f": (200, rss(["<item><title>x</title></item>"]))}, "/f", "audio enclosures"),
        ({"/f": (200, b"\xff\xfe\x00garbage")}, "/f", "not"),
    ],
)
async def test_unusable_feeds_are_400(
    sandbox: SandboxServer, routes: Routes, path: str, words: str
) -> None:
    """A feed that can't be fetched, parsed, is hostile, or has no audio: 400 with a message."""
    async with feed_server(routes) as base:
        response = await _import(sandbox, {"rss_url": f"{base}{path}"})
    assert response.status_code == 400, response.text
    assert words in response.json()["detail"]


async def test_unreachable_feed_is_400(sandbox: SandboxServer) -> None:
    """A feed host that refuses connections is a 400, not a 5xx."""
    async with feed_server({}) as base:
        pass  # the server is closed now: its port refuses connections
    response = await _import(sandbox, {"rss_url": f"{base}/f"})
    assert response.status_code == 400
    assert "could not fetch" in response.json()["detail"]


async def test_oversized_feed_is_400() -> None:
    """A feed larger than rss_max_bytes is refused."""
    config = SandboxConfig(rss_max_bytes=100)
    async with (
        SandboxServer(config) as server,
        feed_server({"/f": (200, rss([episode(1)] * 5))}) as base,
    ):
        response = await _import(server, {"rss_url": f"{base}/f"})
    assert response.status_code == 400
    assert "larger" in response.json()["detail"]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"rss_url": "ftp://example.com/f"}, 400),
        ({"rss_url": "http://127.0.0.1:1/f", "limit": 0}, 400),
        ({"rss_url": "http://127.0.0.1:1/f", "limit": 501}, 400),
        ({"rss_url": "http://127.0.0.1:1/f", "offset": -1}, 400),
        ({}, 422),
        ({"rss_url": 5}, 422),
        ({"rss_url": "http://127.0.0.1:1/f", "limit": "ten"}, 422),
    ],
)
async def test_bad_import_requests(
    sandbox: SandboxServer, body: dict[str, Any], status: int
) -> None:
    """Rule violations (scheme, limit 1..500, offset >= 0) are 400; schema violations 422."""
    response = await _import(sandbox, body)
    assert response.status_code == status, response.text


async def test_offset_past_the_end_is_400(sandbox: SandboxServer) -> None:
    """An offset beyond the feed's audio enclosures is a 400 naming the count."""
    async with feed_server({"/f": (200, rss([episode(1)]))}) as base:
        response = await _import(sandbox, {"rss_url": f"{base}/f", "offset": 5})
    assert response.status_code == 400
    assert "1 audio enclosures" in response.json()["detail"]


def test_parse_feed_reads_items_in_order() -> None:
    """parse_feed keeps feed order and the channel title."""
    feed = parse_feed(rss([episode(1), episode(2)], title="T"))
    assert feed.title == "T"
    assert [e.client_item_id for e in feed.episodes] == ["ep-1", "ep-2"]


def test_is_audio() -> None:
    """audio/* types and, without a telling type, audio extensions count as audio."""
    assert is_audio("https://x/a.bin", "audio/mpeg")
    assert is_audio("https://x/a.MP3", None)
    assert not is_audio("https://x/a.mp3", "video/mp4")
    assert not is_audio("https://x/a.txt", None)


async def test_checksum_is_of_the_jsonl_manifest(sandbox: SandboxServer) -> None:
    """The import's size and checksum are those of its items as JSONL, one object per line."""
    async with feed_server({"/f": (200, rss([episode(1), episode(2)]))}) as base:
        answer = (await _import(sandbox, {"rss_url": f"{base}/f"})).json()
    rows = [
        {
            "audio_url": f"https://cdn.example.com/{n}.mp3",
            "title": f"Episode {n}",
            "client_item_id": f"ep-{n}",
        }
        for n in (1, 2)
    ]
    content = "\n".join(json.dumps(row) for row in rows).encode()
    assert answer["size_bytes"] == len(content)
    assert answer["checksum"] == hashlib.sha256(content).hexdigest()
