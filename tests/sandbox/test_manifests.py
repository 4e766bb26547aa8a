"""Manifests: upload (JSON and JSONL), validation, PENDING_VALIDATION timing, listing, details."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import httpx
import pytest
from sofer_sandbox import SandboxConfig, SandboxServer

from tests.helpers.clock import FakeTime
from tests.helpers.sandbox_http import client, upload_json

URL = "https://example.com/a.mp3"


async def _upload(server: SandboxServer, body: Any) -> httpx.Response:
    async with client(server) as http:
        return await http.post("/v1/transcriptions/batch-files", json=body)


async def test_valid_json_manifest(sandbox: SandboxServer) -> None:
    """A JSON manifest answers VALID, its item count, size, checksum, and no errors."""
    items = [{"audio_url": URL, "client_item_id": "a"}, {"audio_url": URL, "title": "T"}]
    async with client(sandbox) as http:
        answer = await upload_json(http, items)
    assert answer["status"] == "VALID"
    assert answer["item_count"] == 2
    assert answer["validation_errors"] is None
    content = json.dumps(items, separators=(",", ":")).encode()
    assert answer["size_bytes"] == len(content)
    assert answer["checksum"] == hashlib.sha256(content).hexdigest()


async def test_valid_jsonl_manifest_checksum_is_of_the_content(sandbox: SandboxServer) -> None:
    """For JSONL, size_bytes and the SHA-256 checksum are those of the `jsonl` text itself."""
    jsonl = f'{{"audio_url": "{URL}"}}\n\n{{"audio_url": "{URL}", "client_item_id": "x"}}\n'
    response = await _upload(sandbox, {"content_type": "jsonl", "jsonl": jsonl})
    answer = response.json()
    assert answer["status"] == "VALID"
    assert answer["item_count"] == 2
    assert answer["size_bytes"] == len(jsonl.encode())
    assert answer["checksum"] == hashlib.sha256(jsonl.encode()).hexdigest()


async def test_invalid_jsonl_names_lines_and_rules(sandbox: SandboxServer) -> None:
    """Item problems make the manifest INVALID, each error naming the 1-based line and the rule."""
    lines = [
        json.dumps({"audio_url": URL, "client_item_id": "a"}),
        "{not json",
        json.dumps({"title": "no url"}),
        json.dumps({"audio_url": "ftp://x/a.mp3"}),
        json.dumps({"audio_url": URL, "num_speakers": 2, "auto_detect_speakers": True}),
        json.dumps({"audio_url": URL, "num_speakers": 0}),
        json.dumps({"audio_url": URL, "client_item_id": "a"}),
        json.dumps([1]),
    ]
    response = await _upload(sandbox, {"content_type": "jsonl", "jsonl": "\n".join(lines)})
    assert response.status_code == 200
    answer = response.json()
    assert answer["status"] == "INVALID"
    errors = answer["validation_errors"]
    expected = [
        ("line 2", "not valid JSON"),
        ("line 3", "audio_url: Field required"),
        ("line 4", "absolute http(s) URL"),
        ("line 5", "not both"),
        ("line 6", "at least 1"),
        ("line 7", "duplicate client_item_id 'a' (first at line 1)"),
        ("line 8", "valid object"),
    ]
    assert len(errors) == len(expected)
    for error, (where, words) in zip(errors, expected, strict=True):
        assert error.startswith(f"{where}: ")
        assert words in error


async def test_invalid_json_items_name_their_index(sandbox: SandboxServer) -> None:
    """In a JSON manifest, errors name the item's index in json_items."""
    items = [{"audio_url": URL}, {"audio_url": "nope"}, {"audio_url": URL, "num_speakers": "x"}]
    async with client(sandbox) as http:
        answer = await upload_json(http, items)
        detail = await http.get(f"/v1/transcriptions/batch-files/{answer['batch_file_id']}")
    assert answer["status"] == "INVALID"
    assert answer["validation_errors"][0].startswith("json_items[1]: ")
    assert answer["validation_errors"][1].startswith("json_items[2]: num_speakers")
    assert detail.json()["validation_errors"] == answer["validation_errors"]


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"content_type": "json"}, 400, "json_items"),
        ({"content_type": "jsonl"}, 400, "jsonl"),
        ({"content_type": "json", "jsonl": "{}"}, 400, "json_items"),
        ({"content_type": "jsonl", "json_items": [{"audio_url": URL}]}, 400, "jsonl"),
        (
            {"content_type": "json", "json_items": [{"audio_url": URL}], "jsonl": "{}"},
            400,
            "not both",
        ),
        ({"content_type": "json", "json_items": []}, 400, "no items"),
        ({"content_type": "jsonl", "jsonl": "\n\n"}, 400, "no items"),
        ({"content_type": "json", "json_items": [{"audio_url": URL}] * 501}, 400, "at most 500"),
        ({"content_type": "jsonl", "jsonl": "\n".join(['{"audio_url": "x"}'] * 501)}, 400, "500"),
        ({"json_items": [{"audio_url": URL}]}, 422, "content_type"),
        ({"content_type": "csv", "json_items": [{"audio_url": URL}]}, 422, "content_type"),
        ({"content_type": "json", "json_items": {"audio_url": URL}}, 422, "json_items"),
        ({"content_type": "jsonl", "jsonl": 5}, 422, "jsonl"),
        ({"content_type": "json", "json_items": [], "metadata": "x"}, 422, "metadata"),
    ],
)
async def test_envelope_problems_reject_the_upload(
    sandbox: SandboxServer, body: dict[str, Any], status: int, words: str
) -> None:
    """Payload mismatches, empty or oversized manifests: 400; schema violations: 422."""
    response = await _upload(sandbox, body)
    assert response.status_code == status, response.text
    assert words in json.dumps(response.json()["detail"])


async def test_500_items_is_the_limit(sandbox: SandboxServer) -> None:
    """Exactly 500 items are accepted."""
    items = [{"audio_url": f"https://example.com/{i}.mp3"} for i in range(500)]
    async with client(sandbox) as http:
        answer = await upload_json(http, items)
    assert (answer["status"], answer["item_count"]) == ("VALID", 500)


async def test_manifest_detail_carries_metadata(sandbox: SandboxServer) -> None:
    """GET batch-files/{id} answers BatchFileDetail with the metadata's title and description."""
    async with client(sandbox) as http:
        answer = await upload_json(
            http, [{"audio_url": URL}], metadata={"title": "Series", "description": "Fall"}
        )
        detail = (
            await http.get(f"/v1/transcriptions/batch-files/{answer['batch_file_id']}")
        ).json()
    assert detail["id"] == answer["batch_file_id"]
    assert (detail["title"], detail["description"]) == ("Series", "Fall")
    assert detail["checksum"] == answer["checksum"]
    assert detail["created_at"] == answer["created_at"]
    assert detail["status"] == "VALID"


async def test_pending_validation_then_valid_on_the_clock() -> None:
    """A manifest is PENDING_VALIDATION for manifest_validation_seconds, then VALID (or INVALID)."""
    clock = FakeTime()
    config = SandboxConfig(manifest_validation_seconds=2.0, clock=clock)
    async with SandboxServer(config) as server, client(server) as http:
        good = await upload_json(http, [{"audio_url": URL}])
        bad = await upload_json(http, [{"audio_url": "x"}])
        assert good["status"] == bad["status"] == "PENDING_VALIDATION"
        assert bad["validation_errors"] is None
        start = await http.post(
            "/v1/transcriptions/batch", json={"batch_file_id": good["batch_file_id"], "info": {}}
        )
        assert start.status_code == 400
        assert "PENDING_VALIDATION" in start.json()["detail"]
        clock.advance(2.0)
        path = "/v1/transcriptions/batch-files/{}"
        assert (await http.get(path.format(good["batch_file_id"]))).json()["status"] == "VALID"
        bad_now = (await http.get(path.format(bad["batch_file_id"]))).json()
        assert bad_now["status"] == "INVALID"
        assert bad_now["validation_errors"]
        start = await http.post(
            "/v1/transcriptions/batch", json={"batch_file_id": good["batch_file_id"], "info": {}}
        )
        assert start.status_code == 200


async def test_listing_is_newest_first_and_paged_by_cursor(sandbox: SandboxServer) -> None:
    """The list is newest first; `limit` pages it and `next_cursor` leads to the next page."""
    async with client(sandbox) as http:
        ids = [(await upload_json(http, [{"audio_url": URL}]))["batch_file_id"] for _ in range(5)]
        pages: list[list[str]] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": 2}
            if cursor:
                params["cursor"] = cursor
            body = (await http.get("/v1/transcriptions/batch-files", params=params)).json()
            pages.append([f["id"] for f in body["files"]])
            cursor = body.get("next_cursor")
            if cursor is None:
                break
        whole = (await http.get("/v1/transcriptions/batch-files")).json()
    assert pages == [ids[4:2:-1], ids[2:0:-1], ids[0:1]]
    assert [f["id"] for f in whole["files"]] == ids[::-1]
    assert whole["next_cursor"] is None


async def test_default_page_size_applies() -> None:
    """Without `limit`, pages hold list_page_size manifests."""
    async with SandboxServer(SandboxConfig(list_page_size=2)) as server, client(server) as http:
        for _ in range(3):
            await upload_json(http, [{"audio_url": URL}])
        body = (await http.get("/v1/transcriptions/batch-files")).json()
    assert len(body["files"]) == 2
    assert body["next_cursor"]


@pytest.mark.parametrize(
    "params", [{"limit": "0"}, {"limit": "101"}, {"limit": "x"}, {"cursor": "???"}]
)
async def test_bad_paging_params_are_400(sandbox: SandboxServer, params: dict[str, str]) -> None:
    """limit outside 1..100 or a cursor this API did not make is a 400."""
    async with client(sandbox) as http:
        response = await http.get("/v1/transcriptions/batch-files", params=params)
    assert response.status_code == 400
