"""Create batch: express and standard modes, the 400/422 rules, titles and speaker inheritance."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sofer_sandbox import SandboxServer

from tests.helpers.sandbox_http import client, create_express, express_body, upload_json

URL = "https://example.com/shiur.mp3"


async def _post(server: SandboxServer, body: Any) -> httpx.Response:
    async with client(server) as http:
        return await http.post("/v1/transcriptions/batch", json=body)


async def _infos(http: httpx.AsyncClient, batch: dict[str, Any]) -> list[dict[str, Any]]:
    response = await http.get(f"/v1/transcriptions/batch/{batch['batch_id']}/status")
    infos: list[dict[str, Any]] = response.json()["transcriptions"]
    return infos


async def test_express_batch_answers_ids_count_and_received(sandbox: SandboxServer) -> None:
    """An express batch answers its id, one transcription id per item, the count and RECEIVED."""
    async with client(sandbox) as http:
        batch = await create_express(http, URL, "https://example.com/2.mp3")
    assert batch["total_count"] == 2
    assert len(set(batch["transcription_ids"])) == 2
    assert batch["status"] == "RECEIVED"


async def test_standard_batch_from_a_valid_manifest(sandbox: SandboxServer) -> None:
    """processing_mode defaults to standard; a VALID manifest of the tenant starts a batch."""
    items = [
        {"audio_url": f"https://example.com/{i}.mp3", "client_item_id": f"c{i}"} for i in range(3)
    ]
    async with client(sandbox) as http:
        manifest = await upload_json(http, items)
        response = await http.post(
            "/v1/transcriptions/batch",
            json={"batch_file_id": manifest["batch_file_id"], "info": {}},
        )
        assert response.status_code == 200, response.text
        infos = await _infos(http, response.json())
    assert response.json()["total_count"] == 3
    assert [i["client_item_id"] for i in infos] == ["c0", "c1", "c2"]


async def test_standard_batch_takes_up_to_500_items(sandbox: SandboxServer) -> None:
    """A 500-item manifest starts a 500-item standard batch."""
    items = [{"audio_url": f"https://example.com/{i}.mp3"} for i in range(500)]
    async with client(sandbox) as http:
        manifest = await upload_json(http, items)
        response = await http.post(
            "/v1/transcriptions/batch",
            json={
                "processing_mode": "standard",
                "batch_file_id": manifest["batch_file_id"],
                "info": {},
            },
        )
    assert response.status_code == 200
    assert response.json()["total_count"] == 500


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (express_body(URL, info={"num_speakers": 2, "auto_detect_speakers": True}), "not both"),
        (
            {
                "processing_mode": "express",
                "info": {},
                "audio_sources": [
                    {"audio_url": URL, "num_speakers": 2, "auto_detect_speakers": True}
                ],
            },
            "not both",
        ),
        (
            {
                "processing_mode": "express",
                "info": {},
                "audio_sources": [
                    {"audio_url": URL, "client_item_id": "dup"},
                    {"audio_url": URL, "client_item_id": "dup"},
                ],
            },
            "duplicate client_item_id",
        ),
        (express_body(*[URL] * 11), "at most 10"),
        ({"processing_mode": "express", "info": {}, "audio_sources": []}, "audio_sources"),
        ({"processing_mode": "express", "info": {}}, "audio_sources"),
        (
            {**express_body(URL), "batch_file_id": "d5e9c84f-c2b2-4bf4-b4b0-7ffd7a9ffc32"},
            "batch_file_id",
        ),
        ({"info": {}, "audio_sources": [{"audio_url": URL}]}, "standard mode"),
        ({"processing_mode": "standard", "info": {}}, "batch_file_id"),
        (
            {"info": {}, "batch_file_id": "d5e9c84f-c2b2-4bf4-b4b0-7ffd7a9ffc32"},
            "not a manifest of yours",
        ),
        (express_body("ftp://example.com/a.mp3"), "absolute http(s) URL"),
        (express_body("/relative.mp3"), "absolute http(s) URL"),
        (express_body(URL, info={"num_speakers": 0}), "at least 1"),
    ],
)
async def test_rule_violations_answer_400_naming_the_problem(
    sandbox: SandboxServer, body: dict[str, Any], words: str
) -> None:
    """Each broken rule is a 400 whose `detail` message names it."""
    response = await _post(sandbox, body)
    assert response.status_code == 400, response.text
    assert words in response.json()["detail"]


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"processing_mode": "express", "audio_sources": [{"audio_url": URL}]}, ["body", "info"]),
        (express_body(URL, processing_mode="turbo"), ["body", "processing_mode"]),
        (express_body(URL, info={"primary_language": "de"}), ["body", "info", "primary_language"]),
        (
            express_body(URL, info={"hebrew_word_format": ["xx"]}),
            ["body", "info", "hebrew_word_format", 0],
        ),
        (express_body(URL, info={"num_speakers": "two"}), ["body", "info", "num_speakers"]),
        (express_body(URL, info={"num_speakers": True}), ["body", "info", "num_speakers"]),
        (
            express_body(URL, info={"auto_detect_speakers": "yes"}),
            ["body", "info", "auto_detect_speakers"],
        ),
        (
            {"processing_mode": "express", "info": {}, "audio_sources": [{"title": "no url"}]},
            ["body", "audio_sources", 0, "audio_url"],
        ),
        (
            {"processing_mode": "express", "info": {}, "audio_sources": [{"audio_url": 5}]},
            ["body", "audio_sources", 0, "audio_url"],
        ),
        (
            {"processing_mode": "express", "info": {}, "audio_sources": "x"},
            ["body", "audio_sources"],
        ),
        ({"info": {}, "batch_file_id": "not-a-uuid"}, ["body", "batch_file_id"]),
        (express_body(URL, batch_title=7), ["body", "batch_title"]),
        ([1, 2], ["body"]),
    ],
)
async def test_schema_violations_answer_422_with_their_location(
    sandbox: SandboxServer, body: Any, loc: list[Any]
) -> None:
    """Wrong types, unknown enums, missing required fields: 422 with FastAPI-style `loc`s."""
    response = await _post(sandbox, body)
    assert response.status_code == 422, response.text
    assert loc in [d["loc"] for d in response.json()["detail"]]


async def test_malformed_json_answers_422(sandbox: SandboxServer) -> None:
    """A body that is not JSON is a 422 `json_invalid`."""
    async with client(sandbox) as http:
        response = await http.post(
            "/v1/transcriptions/batch",
            content=b"{not json",
            headers={"Content-Type": "application/json"},
        )
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "json_invalid"


async def test_a_pending_or_invalid_manifest_cannot_start_a_batch(sandbox: SandboxServer) -> None:
    """Only a VALID manifest starts a standard batch; an INVALID one is a 400 saying so."""
    async with client(sandbox) as http:
        manifest = await upload_json(http, [{"audio_url": "not a url"}])
        assert manifest["status"] == "INVALID"
        response = await http.post(
            "/v1/transcriptions/batch",
            json={"batch_file_id": manifest["batch_file_id"], "info": {}},
        )
    assert response.status_code == 400
    assert "INVALID" in response.json()["detail"]


async def test_titles_follow_item_then_batch_title_then_item_n(sandbox: SandboxServer) -> None:
    """Own title wins; else "{batch_title} - Item N"; else "Item N" (N is 1-based)."""
    sources = [{"audio_url": URL, "title": "Own"}, {"audio_url": URL}, {"audio_url": URL}]
    async with client(sandbox) as http:
        titled = await create_express(http, audio_sources=sources, batch_title="Series")
        untitled = await create_express(http, URL, URL)
        titled_infos = await _infos(http, titled)
        untitled_infos = await _infos(http, untitled)
    assert [i["title"] for i in titled_infos] == ["Own", "Series - Item 2", "Series - Item 3"]
    assert [i["title"] for i in untitled_infos] == ["Item 1", "Item 2"]


async def test_speaker_settings_are_inherited_per_spec(sandbox: SandboxServer) -> None:
    """Item-level settings override the batch's; an item with neither inherits the batch's."""
    sources = [
        {"audio_url": URL, "num_speakers": 3},
        {"audio_url": URL},
        {"audio_url": "https://example.com/auto.mp3", "auto_detect_speakers": True},
    ]
    async with client(sandbox) as http:
        batch = await create_express(http, audio_sources=sources, info={"num_speakers": 2})
        infos = await _infos(http, batch)
    assert infos[0]["num_speakers"] == 3
    assert infos[1]["num_speakers"] == 2
    assert 1 <= infos[2]["num_speakers"] <= 4


async def test_no_speaker_setting_anywhere_means_one(sandbox: SandboxServer) -> None:
    """With neither level giving a speaker setting, the transcription has one speaker."""
    async with client(sandbox) as http:
        infos = await _infos(http, await create_express(http, URL))
    assert infos[0]["num_speakers"] == 1


async def test_auto_detect_gives_a_deterministic_integer_count(sandbox: SandboxServer) -> None:
    """Auto-detection reports the same integer count for the same URL, in every batch."""
    url = "https://example.com/panel.mp3"
    async with client(sandbox) as http:
        one = await _infos(
            http, await create_express(http, url, info={"auto_detect_speakers": True})
        )
        two = await _infos(
            http, await create_express(http, url, info={"auto_detect_speakers": True})
        )
    assert isinstance(one[0]["num_speakers"], int)
    assert one[0]["num_speakers"] == two[0]["num_speakers"]


async def test_info_defaults_and_echoes(sandbox: SandboxServer) -> None:
    """Defaults: model v1, language en, formats ["en","he"] (["he"] otherwise); given ones echo."""
    async with client(sandbox) as http:
        default = (await _infos(http, await create_express(http, URL)))[0]
        hebrew = (
            await _infos(http, await create_express(http, URL, info={"primary_language": "he"}))
        )[0]
        given = (
            await _infos(
                http,
                await create_express(http, URL, info={"model": "v0", "hebrew_word_format": ["he"]}),
            )
        )[0]
    assert (default["model"], default["primary_language"]) == ("v1", "en")
    assert default["hebrew_word_format"] == ["en", "he"]
    assert default["client_item_id"] is None
    assert hebrew["hebrew_word_format"] == ["he"]
    assert (given["model"], given["hebrew_word_format"]) == ("v0", ["he"])


async def test_lookup_by_client_item_id_is_scoped_by_batch(sandbox: SandboxServer) -> None:
    """The lookup finds the item of that batch; an id of another batch is a 404 with a message."""
    async with client(sandbox) as http:
        one = await create_express(http, audio_sources=[{"audio_url": URL, "client_item_id": "a"}])
        two = await create_express(http, audio_sources=[{"audio_url": URL, "client_item_id": "b"}])
        path = "/v1/transcriptions/batch/{}/items/by-client-item-id"
        found = await http.get(path.format(one["batch_id"]), params={"client_item_id": "a"})
        other = await http.get(path.format(two["batch_id"]), params={"client_item_id": "a"})
        missing_param = await http.get(path.format(one["batch_id"]))
    assert found.status_code == 200
    assert found.json()["id"] == one["transcription_ids"][0]
    assert found.json()["client_item_id"] == "a"
    assert other.status_code == 404
    assert "'a'" in other.json()["detail"]
    assert missing_param.status_code == 422


async def test_unknown_fields_are_ignored(sandbox: SandboxServer) -> None:
    """Fields the spec does not define (such as an older SDK's `batch_id`) are ignored."""
    body = express_body(URL, batch_id="d5e9c84f-c2b2-4bf4-b4b0-7ffd7a9ffc32")
    response = await _post(sandbox, body)
    assert response.status_code == 200
    assert response.json()["batch_id"] != body["batch_id"]
