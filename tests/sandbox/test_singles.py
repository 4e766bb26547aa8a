"""Single transcriptions: from a URL or a base64 file, a caller-chosen id, the timeline, the
400/409/422 answers, and the list of a caller's transcriptions."""

from __future__ import annotations

import base64
import uuid
from typing import Any

import httpx
import pytest
from sofer_sandbox import SandboxConfig, SandboxServer

from tests.helpers.clock import FakeTime
from tests.helpers.sandbox_http import OTHER_TOKEN, client, create_express

ITEM_SECONDS = 10.0
URL = "https://example.com/single.mp3"
MAX_FILE = 4096


@pytest.fixture
def sandbox_config(sandbox_clock: FakeTime) -> SandboxConfig:
    """Items take ITEM_SECONDS on the fake clock; files are capped at MAX_FILE bytes."""
    return SandboxConfig(
        item_seconds=ITEM_SECONDS,
        manifest_validation_seconds=0.0,
        clock=sandbox_clock,
        max_audio_file_bytes=MAX_FILE,
    )


def b64(data: bytes) -> str:
    """`data` as the spec's base64 `audio_file`."""
    return base64.b64encode(data).decode()


async def create(http: httpx.AsyncClient, **body: Any) -> str:
    """Create a single transcription (asserting 200) and return its id."""
    body.setdefault("info", {})
    response = await http.post("/v1/transcriptions/", json=body)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert isinstance(answer, str)
    return answer


async def info_of(http: httpx.AsyncClient, transcription_id: str) -> dict[str, Any]:
    """The transcription's TranscriptionInfo (asserting 200)."""
    response = await http.get(f"/v1/transcriptions/{transcription_id}/status")
    assert response.status_code == 200, response.text
    info: dict[str, Any] = response.json()
    return info


async def test_a_single_from_a_url_moves_through_its_states(
    sandbox: SandboxServer, sandbox_clock: FakeTime
) -> None:
    """The answer is the new id; the transcription is RECEIVED, PROCESSING, then COMPLETED with
    its duration and transcript, titled "Untitled" with the language defaults."""
    async with client(sandbox) as http:
        tid = await create(http, audio_url=URL)
        first = await info_of(http, tid)
        assert (first["status"], first["title"], first["client_item_id"]) == (
            "RECEIVED",
            "Untitled",
            None,
        )
        assert (first["primary_language"], first["hebrew_word_format"]) == ("en", ["en", "he"])
        assert (first["num_speakers"], first["model"], first["duration"]) == (1, "v1", None)
        sandbox_clock.advance(ITEM_SECONDS / 2)
        assert (await info_of(http, tid))["status"] == "PROCESSING"
        sandbox_clock.advance(ITEM_SECONDS / 2)
        done = await info_of(http, tid)
        transcript = (await http.get(f"/v1/transcriptions/{tid}")).json()
    assert done["status"] == "COMPLETED"
    assert isinstance(done["duration"], int)
    assert done["duration"] > 0
    assert transcript["text"]
    assert transcript["info"] == done


async def test_a_single_from_a_base64_file(sandbox: SandboxServer, sandbox_clock: FakeTime) -> None:
    """A base64 `audio_file` is transcribed like a URL; the same bytes give the same transcript
    and duration, other bytes another one."""
    async with client(sandbox) as http:
        one = await create(http, audio_file=b64(b"RIFF audio one"), info={"title": "Upload"})
        same = await create(http, audio_file=b64(b"RIFF audio one"))
        other = await create(http, audio_file=b64(b"RIFF audio two"))
        sandbox_clock.advance(ITEM_SECONDS)
        texts = [(await http.get(f"/v1/transcriptions/{t}")).json() for t in (one, same, other)]
    assert texts[0]["info"]["title"] == "Upload"
    assert texts[0]["text"] == texts[1]["text"] != texts[2]["text"]
    assert texts[0]["info"]["duration"] == texts[1]["info"]["duration"]


async def test_a_file_starting_with_fail_fails(
    sandbox: SandboxServer, sandbox_clock: FakeTime
) -> None:
    """Bytes that start with "fail" end FAILED, like a URL containing "fail"."""
    async with client(sandbox) as http:
        tid = await create(http, audio_file=b64(b"fail: not audio"))
        sandbox_clock.advance(ITEM_SECONDS)
        assert (await info_of(http, tid))["status"] == "FAILED"


async def test_settings_are_kept(sandbox: SandboxServer) -> None:
    """Language, formats, model and speakers asked for are what the info reports."""
    info = {
        "primary_language": "he",
        "hebrew_word_format": ["he"],
        "model": "v0",
        "num_speakers": 3,
        "title": "Shiur",
    }
    async with client(sandbox) as http:
        got = await info_of(http, await create(http, audio_url=URL, info=info))
    assert {k: got[k] for k in info} == info


async def test_a_caller_chosen_id_is_the_id(sandbox: SandboxServer) -> None:
    """`info.id` becomes the transcription's id (canonical lower-case UUID)."""
    chosen = uuid.uuid4()
    async with client(sandbox) as http:
        tid = await create(http, audio_url=URL, info={"id": str(chosen).upper()})
        assert tid == str(chosen)
        assert (await info_of(http, tid))["id"] == str(chosen)


async def test_creating_again_with_a_taken_id_is_a_409(sandbox: SandboxServer) -> None:
    """A second create with an id that exists (the caller's or another key's) answers 409 and
    makes nothing: the caller's list and the created count stay at one."""
    chosen = str(uuid.uuid4())
    async with client(sandbox) as http, client(sandbox, OTHER_TOKEN) as other:
        await create(http, audio_url=URL, info={"id": chosen})
        again = await http.post(
            "/v1/transcriptions/", json={"audio_url": URL, "info": {"id": chosen}}
        )
        theirs = await other.post(
            "/v1/transcriptions/", json={"audio_url": URL, "info": {"id": chosen}}
        )
        listing = (await http.get("/v1/transcriptions/")).json()
        stats = (await http.get("/_sandbox/stats")).json()
    assert again.status_code == theirs.status_code == 409
    assert chosen in again.json()["detail"]
    assert [t["id"] for t in listing] == [chosen]
    assert stats["created"] == {"transcriptions": 1}


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"audio_url": URL, "audio_file": b64(b"x"), "info": {}}, "not both"),
        ({"info": {}}, "give audio_url or audio_file"),
        ({"audio_url": None, "audio_file": None, "info": {}}, "give audio_url or audio_file"),
        ({"audio_url": "ftp://example.com/a.mp3", "info": {}}, "absolute http(s) URL"),
        ({"audio_file": "", "info": {}}, "audio_file is empty"),
        ({"audio_url": URL, "info": {"num_speakers": 2, "auto_detect_speakers": True}}, "not both"),
        ({"audio_url": URL, "info": {"num_speakers": 0}}, "at least 1"),
    ],
)
async def test_rules_are_400s(sandbox: SandboxServer, body: dict[str, Any], words: str) -> None:
    """A well-formed request that breaks a rule is a 400 naming it, and creates nothing."""
    async with client(sandbox) as http:
        response = await http.post("/v1/transcriptions/", json=body)
        listing = (await http.get("/v1/transcriptions/")).json()
    assert response.status_code == 400, response.text
    assert words in response.json()["detail"]
    assert listing == []


@pytest.mark.parametrize(
    ("body", "loc", "kind"),
    [
        ({"audio_url": URL}, ["body", "info"], "missing"),
        ({"audio_url": URL, "info": {"id": "not-a-uuid"}}, ["body", "info", "id"], "uuid_parsing"),
        ({"audio_url": 5, "info": {}}, ["body", "audio_url"], "string_type"),
        ({"audio_file": "%%%=", "info": {}}, ["body", "audio_file"], "base64_decode"),
        ({"audio_file": "QUJD\n", "info": {}}, ["body", "audio_file"], "base64_decode"),
        ({"audio_file": "QUJ", "info": {}}, ["body", "audio_file"], "base64_decode"),
        ({"audio_file": b64(bytes(MAX_FILE + 1)), "info": {}}, ["body", "audio_file"], "too_large"),
        (
            {"audio_url": URL, "info": {"primary_language": "de"}},
            ["body", "info", "primary_language"],
            "enum",
        ),
    ],
)
async def test_schema_violations_are_422s(
    sandbox: SandboxServer, body: dict[str, Any], loc: list[Any], kind: str
) -> None:
    """Types, a missing `info`, a bad UUID, bad base64 and a file over the limit are 422s whose
    `loc` names the field."""
    async with client(sandbox) as http:
        response = await http.post("/v1/transcriptions/", json=body)
    assert response.status_code == 422, response.text
    assert {"loc": loc, "type": kind} in [
        {"loc": d["loc"], "type": d["type"]} for d in response.json()["detail"]
    ]


async def test_a_file_at_the_limit_is_accepted(sandbox: SandboxServer) -> None:
    """Exactly max_audio_file_bytes decoded is accepted (the limit is inclusive)."""
    async with client(sandbox) as http:
        await create(http, audio_file=b64(b"\x01" * MAX_FILE))


async def test_a_body_past_the_limit_is_refused_unread(sandbox: SandboxServer) -> None:
    """A body far over what the largest file needs is a 422 on its declared length."""
    async with client(sandbox) as http:
        response = await http.post(
            "/v1/transcriptions/",
            content=b"{" + b" " * (2 * 1024 * 1024) + b"}",
            headers={"content-type": "application/json"},
        )
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "too_large"


async def test_without_a_token_is_a_401(sandbox: SandboxServer) -> None:
    """Create and list need the bearer token."""
    async with client(sandbox, token=None) as http:
        created = await http.post("/v1/transcriptions/", json={"audio_url": URL, "info": {}})
        listed = await http.get("/v1/transcriptions/")
    assert created.status_code == listed.status_code == 401


async def test_the_list_holds_batch_items_and_singles_newest_first(
    sandbox: SandboxServer, sandbox_clock: FakeTime
) -> None:
    """The list has every transcription of the caller, newest first, with its title and current
    status; another key's are not in it."""
    async with client(sandbox) as http, client(sandbox, OTHER_TOKEN) as other:
        single = await create(http, audio_url=URL, info={"title": "Solo"})
        batch = await create_express(
            http, "https://example.com/1.mp3", "https://example.com/fail.mp3", batch_title="B"
        )
        await create(other, audio_url=URL)
        sandbox_clock.advance(2 * ITEM_SECONDS)
        listing = (await http.get("/v1/transcriptions/")).json()
    ids = [*reversed(batch["transcription_ids"]), single]
    assert [t["id"] for t in listing] == ids
    assert [(t["title"], t["status"]) for t in listing] == [
        ("B - Item 2", "FAILED"),
        ("B - Item 1", "COMPLETED"),
        ("Solo", "COMPLETED"),
    ]
