"""Money: each key's balance, the prices work is charged at, INSUFFICIENT_FUNDS when the balance
cannot pay, the admin API that funds keys, and POST /v1/utils/duration."""

from __future__ import annotations

import base64
import math
from typing import Any

import httpx
import pytest
from sofer_sandbox import SandboxConfig, SandboxServer

from tests.helpers.clock import FakeTime
from tests.helpers.sandbox_http import OTHER_TOKEN, client, create_express, upload_json

ITEM_SECONDS = 10.0
START = 10_000
URL = "https://example.com/money.mp3"


@pytest.fixture
def sandbox_config(sandbox_clock: FakeTime, request: pytest.FixtureRequest) -> SandboxConfig:
    """Items take ITEM_SECONDS on the fake clock; keys start with START cents unless the test
    passes another start (None: no accounts) as an indirect parameter."""
    start = getattr(request, "param", START)
    return SandboxConfig(
        item_seconds=ITEM_SECONDS,
        manifest_validation_seconds=0.0,
        clock=sandbox_clock,
        start_balance_cents=start,
    )


async def balance(http: httpx.AsyncClient) -> dict[str, int]:
    """GET /v1/balance/ (asserting 200)."""
    response = await http.get("/v1/balance/")
    assert response.status_code == 200, response.text
    body: dict[str, int] = response.json()
    return body


async def duration(http: httpx.AsyncClient, **body: Any) -> float:
    """POST /v1/utils/duration (asserting 200)."""
    response = await http.post("/v1/utils/duration", json=body)
    assert response.status_code == 200, response.text
    seconds = response.json()["duration_seconds"]
    assert isinstance(seconds, float)
    return seconds


async def single(http: httpx.AsyncClient, url: str = URL, **info: Any) -> str:
    """Create a single transcription of `url` (asserting 200)."""
    response = await http.post("/v1/transcriptions/", json={"audio_url": url, "info": info})
    assert response.status_code == 200, response.text
    tid: str = response.json()
    return tid


async def status(http: httpx.AsyncClient, tid: str) -> str:
    """The transcription's status."""
    state: str = (await http.get(f"/v1/transcriptions/{tid}/status")).json()["status"]
    return state


def cost(seconds: float, cents_per_hour: int) -> int:
    """The documented price of `seconds` of audio, rounded up to a cent."""
    return math.ceil(seconds * cents_per_hour / 3600)


async def test_a_new_key_has_the_starting_balance(sandbox: SandboxServer) -> None:
    """Every key starts with SandboxConfig.start_balance_cents deposited and nothing spent."""
    async with client(sandbox) as http:
        assert await balance(http) == {
            "total_balance": START,
            "available_balance": START,
            "pending_balance": 0,
            "all_time_deposits": START,
            "all_time_spend": 0,
        }


async def test_work_is_pending_then_spent(sandbox: SandboxServer, sandbox_clock: FakeTime) -> None:
    """A new transcription lowers the available balance by its cost at once (pending); once it
    completes the total balance is lower by it too (spent). Another key's balance is untouched."""
    async with client(sandbox) as http, client(sandbox, OTHER_TOKEN) as other:
        price = cost(await duration(http, audio_url=URL), 120)
        await single(http)
        pending = await balance(http)
        sandbox_clock.advance(ITEM_SECONDS)
        spent = await balance(http)
        theirs = await balance(other)
    assert price > 0
    assert (pending["available_balance"], pending["pending_balance"]) == (START - price, price)
    assert (pending["total_balance"], pending["all_time_spend"]) == (START, 0)
    assert (spent["total_balance"], spent["available_balance"]) == (START - price, START - price)
    assert (spent["pending_balance"], spent["all_time_spend"]) == (0, price)
    assert theirs["available_balance"] == START


@pytest.mark.parametrize(
    ("info", "rate"),
    [
        ({}, 120),
        ({"model": "v0"}, 100),
        ({"num_speakers": 1}, 120),
        ({"num_speakers": 2}, 150),
        ({"auto_detect_speakers": True}, 150),
        ({"model": "v0", "num_speakers": 3}, 130),
    ],
)
async def test_single_prices(sandbox: SandboxServer, info: dict[str, Any], rate: int) -> None:
    """A single costs $1.20/hour (v0: $1.00), $0.30/hour more for speaker labels."""
    async with client(sandbox) as http:
        seconds = await duration(http, audio_url=URL)
        await single(http, **info)
        assert (await balance(http))["pending_balance"] == cost(seconds, rate)


@pytest.mark.parametrize(
    ("mode", "info", "rates"),
    [
        ("express", {}, [120, 120]),
        ("express", {"auto_detect_speakers": True}, [150, 150]),
        ("standard", {}, [90, 90]),
        ("standard", {"num_speakers": 2}, [120, 120]),
    ],
)
async def test_batch_prices(
    sandbox: SandboxServer, mode: str, info: dict[str, Any], rates: list[int]
) -> None:
    """Express items cost $1.20/hour, standard items $0.90/hour, each item rounded up to a cent,
    $0.30/hour more for speaker labels."""
    urls = ["https://example.com/b1.mp3", "https://example.com/b2.mp3"]
    async with client(sandbox) as http:
        seconds = [await duration(http, audio_url=u) for u in urls]
        if mode == "express":
            await create_express(http, *urls, info=info)
        else:
            manifest = await upload_json(http, [{"audio_url": u} for u in urls])
            body = {"batch_file_id": manifest["batch_file_id"], "info": info}
            assert (await http.post("/v1/transcriptions/batch", json=body)).status_code == 200
        charged = (await balance(http))["pending_balance"]
    assert charged == sum(cost(s, r) for s, r in zip(seconds, rates, strict=True))


async def test_an_item_speaker_setting_sets_its_price(sandbox: SandboxServer) -> None:
    """An item's own speaker setting decides its surcharge over the batch's."""
    body = {
        "processing_mode": "express",
        "info": {"num_speakers": 2},
        "audio_sources": [{"audio_url": URL, "num_speakers": 1}],
    }
    async with client(sandbox) as http:
        seconds = await duration(http, audio_url=URL)
        assert (await http.post("/v1/transcriptions/batch", json=body)).status_code == 200
        assert (await balance(http))["pending_balance"] == cost(seconds, 120)


async def test_failing_audio_costs_nothing(sandbox: SandboxServer, sandbox_clock: FakeTime) -> None:
    """An audio that fails has duration 0 and is never charged."""
    url = "https://example.com/fail.mp3"
    async with client(sandbox) as http:
        assert await duration(http, audio_url=url) == 0.0
        tid = await single(http, url)
        assert (await balance(http))["available_balance"] == START
        sandbox_clock.advance(ITEM_SECONDS)
        assert await status(http, tid) == "FAILED"
        assert (await balance(http))["total_balance"] == START


async def test_work_without_funds_is_insufficient_funds(
    sandbox: SandboxServer, sandbox_clock: FakeTime
) -> None:
    """Items the available balance cannot pay are INSUFFICIENT_FUNDS from the start and stay so,
    cost nothing, and count as failed in their batch; items before them are funded in order."""
    urls = [f"https://example.com/f{i}.mp3" for i in range(3)]
    async with client(sandbox) as http:
        prices = [cost(await duration(http, audio_url=u), 120) for u in urls]
        funded = prices[0] + prices[1]
        top = await http.post("/_sandbox/balance", json={"total_balance": funded})
        assert top.json()["available_balance"] == funded
        batch = await create_express(http, *urls)
        early = [await status(http, t) for t in batch["transcription_ids"]]
        after = await balance(http)
        sandbox_clock.advance(2 * ITEM_SECONDS)
        done = (await http.get(f"/v1/transcriptions/batch/{batch['batch_id']}/status")).json()
        text = (await http.get(f"/v1/transcriptions/{batch['transcription_ids'][2]}")).json()
    assert batch["status"] == "RECEIVED"
    assert early == ["RECEIVED", "RECEIVED", "INSUFFICIENT_FUNDS"]
    assert (after["available_balance"], after["pending_balance"]) == (0, funded)
    assert [t["status"] for t in done["transcriptions"]] == [
        "COMPLETED",
        "COMPLETED",
        "INSUFFICIENT_FUNDS",
    ]
    assert (done["status"], done["completed_count"], done["failed_count"]) == ("COMPLETED", 2, 1)
    assert (text["text"], text["info"]["status"], text["info"]["duration"]) == (
        "",
        "INSUFFICIENT_FUNDS",
        None,
    )


async def test_an_empty_balance_stops_singles(sandbox: SandboxServer) -> None:
    """With nothing available a single is INSUFFICIENT_FUNDS; a deposit lets the next one run."""
    async with client(sandbox) as http:
        await http.post("/_sandbox/balance", json={"total_balance": 0})
        refused = await single(http)
        deposited = await http.post("/_sandbox/balance", json={"deposit": START})
        accepted = await single(http)
        states = [await status(http, refused), await status(http, accepted)]
    assert deposited.json()["total_balance"] == START
    assert states == ["INSUFFICIENT_FUNDS", "RECEIVED"]


@pytest.mark.parametrize("sandbox_config", [None], indirect=True)
async def test_without_an_account_balance_is_404_and_work_unfunded(sandbox: SandboxServer) -> None:
    """start_balance_cents=None: a key has no account (404) and its work is INSUFFICIENT_FUNDS
    until a deposit opens one; closing the account brings the 404 back."""
    async with client(sandbox) as http:
        missing = await http.get("/v1/balance/")
        tid = await single(http)
        opened = await http.post("/_sandbox/balance", json={"deposit": 500})
        after = await balance(http)
        closed = await http.delete("/_sandbox/balance")
        gone = await http.get("/v1/balance/")
        assert await status(http, tid) == "INSUFFICIENT_FUNDS"
    assert missing.status_code == gone.status_code == 404
    assert "account" in missing.json()["detail"]
    assert opened.status_code == closed.status_code == 200
    assert after["total_balance"] == 500


@pytest.mark.parametrize(
    ("body", "status_code"),
    [({}, 400), ({"deposit": 1, "total_balance": 1}, 400), ({"deposit": -1}, 422)],
)
async def test_bad_admin_balance_requests(
    sandbox: SandboxServer, body: dict[str, Any], status_code: int
) -> None:
    """The admin balance call takes exactly one of deposit / total_balance, whole cents >= 0."""
    async with client(sandbox) as http:
        assert (await http.post("/_sandbox/balance", json=body)).status_code == status_code
        assert (await balance(http))["all_time_deposits"] == START


async def test_balance_and_duration_need_a_token(sandbox: SandboxServer) -> None:
    """Without a bearer token both are 401, and so is the admin balance call."""
    async with client(sandbox, token=None) as http:
        answers = [
            await http.get("/v1/balance/"),
            await http.post("/v1/utils/duration", json={"audio_url": URL}),
            await http.post("/_sandbox/balance", json={"deposit": 1}),
        ]
    assert [a.status_code for a in answers] == [401, 401, 401]


async def test_durations_match_the_transcriptions(
    sandbox: SandboxServer, sandbox_clock: FakeTime
) -> None:
    """The duration of a URL or of file bytes is the one their completed transcriptions report;
    an empty file's is 0."""
    data = base64.b64encode(b"some audio bytes").decode()
    async with client(sandbox) as http:
        by_url = await duration(http, audio_url=URL)
        by_file = await duration(http, audio_file=data)
        empty = await duration(http, audio_file="")
        url_tid = await single(http)
        created = await http.post("/v1/transcriptions/", json={"audio_file": data, "info": {}})
        sandbox_clock.advance(ITEM_SECONDS)
        infos = [
            (await http.get(f"/v1/transcriptions/{t}/status")).json()
            for t in (url_tid, created.json())
        ]
    assert [i["duration"] for i in infos] == [by_url, by_file]
    assert by_url != by_file
    assert empty == 0.0


@pytest.mark.parametrize(
    ("body", "status_code"),
    [
        ({"audio_url": URL, "audio_file": "QUJD"}, 400),
        ({}, 400),
        ({"audio_url": "not a url"}, 400),
        ({"audio_file": "***"}, 422),
        ({"audio_url": 3}, 422),
    ],
)
async def test_bad_duration_requests(
    sandbox: SandboxServer, body: dict[str, Any], status_code: int
) -> None:
    """Both or neither audio, or a URL that is not absolute http(s), is a 400; bad base64 or a
    wrong type is a 422."""
    async with client(sandbox) as http:
        response = await http.post("/v1/utils/duration", json=body)
    assert response.status_code == status_code, response.text
    assert "detail" in response.json()
