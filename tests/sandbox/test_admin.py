"""The admin API (/_sandbox/): injected faults, request counts, reset; and the rate limit."""

from __future__ import annotations

import email.utils
from typing import Any

import httpx
import pytest
from sofer_sandbox import SandboxConfig, SandboxServer

from tests.helpers.clock import FakeTime
from tests.helpers.sandbox_http import client, create_express

STATUS_TEMPLATE = "GET /v1/transcriptions/batch/{batch_id}/status"
HEALTH = "/v1/health/"


async def _fault(http: httpx.AsyncClient, **rule: Any) -> httpx.Response:
    response = await http.post("/_sandbox/faults", json=rule)
    assert response.status_code == 200, response.text
    return response


@pytest.mark.parametrize("status", [429, 500, 502, 503])
async def test_fault_fails_the_next_n_requests(sandbox: SandboxServer, status: int) -> None:
    """{"status": S, "count": N}: the next N /v1 requests answer S (JSON detail), then normal."""
    async with client(sandbox) as http:
        await _fault(http, status=status, count=2)
        first, second, third = [await http.get(HEALTH) for _ in range(3)]
    assert first.status_code == second.status_code == status
    assert "detail" in first.json()
    assert third.status_code == 200


async def test_retry_after_formats(sandbox: SandboxServer) -> None:
    """retry_after in seconds (default), as an HTTP-date, as ms only, or both headers."""
    async with client(sandbox) as http:
        await _fault(http, status=429, retry_after=2.5)
        await _fault(http, status=503, retry_after=30, retry_after_format="date")
        await _fault(http, status=429, retry_after=1.5, retry_after_format="ms")
        await _fault(http, status=429, retry_after=2, retry_after_format="both")
        seconds, date, ms, both = [await http.get(HEALTH) for _ in range(4)]
    assert seconds.headers["Retry-After"] == "3"
    assert "retry-after-ms" not in seconds.headers
    when = email.utils.parsedate_to_datetime(date.headers["Retry-After"])
    assert when.tzinfo is not None
    assert "Retry-After" not in ms.headers
    assert ms.headers["retry-after-ms"] == "1500"
    assert (both.headers["Retry-After"], both.headers["retry-after-ms"]) == ("2", "2000")


async def test_fault_without_retry_after_sends_no_header(sandbox: SandboxServer) -> None:
    """A 429 fault without retry_after has no Retry-After (to test a client's default backoff)."""
    async with client(sandbox) as http:
        await _fault(http, status=429)
        response = await http.get(HEALTH)
    assert response.status_code == 429
    assert "Retry-After" not in response.headers


async def test_path_prefix_and_method_select_requests(sandbox: SandboxServer) -> None:
    """A rule applies only to paths under path_prefix and, with `method`, to that method."""
    async with client(sandbox) as http:
        await _fault(http, status=500, path_prefix="/v1/transcriptions/batch", method="POST")
        assert (await http.get(HEALTH)).status_code == 200
        assert (await http.get("/v1/transcriptions/batch-files")).status_code == 200
        failed = await http.post("/v1/transcriptions/batch", json={})
        assert failed.status_code == 500
        assert (await http.post("/v1/transcriptions/batch", json={})).status_code == 422


async def test_rules_queue_and_the_first_match_is_consumed(sandbox: SandboxServer) -> None:
    """Several rules queue; each request consumes one use of the first rule that matches it."""
    async with client(sandbox) as http:
        await _fault(http, status=503, count=1, path_prefix="/v1/transcriptions")
        await _fault(http, status=502, count=2)
        codes = [(await http.get(HEALTH)).status_code for _ in range(3)]
        listed = (await http.get("/_sandbox/faults")).json()["faults"]
        assert listed == [{**listed[0], "status": 503, "count": 1}]
        other = await http.get("/v1/transcriptions/batch-files")
        assert other.status_code == 503
    assert codes == [502, 502, 200]


async def test_delay_only_answers_normally_but_late(sandbox: SandboxServer) -> None:
    """{"delay": s} alone: the request succeeds after at least s seconds."""
    async with client(sandbox) as http:
        await _fault(http, delay=0.3)
        response = await http.get(HEALTH)
    assert response.status_code == 200
    assert response.elapsed.total_seconds() >= 0.3


async def test_status_with_delay_fails_late(sandbox: SandboxServer) -> None:
    """Status and delay together: the failure comes after the delay (a client timeout sees none)."""
    async with client(sandbox) as http:
        await _fault(http, status=503, delay=5.0)
        with pytest.raises(httpx.ReadTimeout):
            await http.get(HEALTH, timeout=0.2)
        await _fault(http, status=503, delay=0.2)
        response = await http.get(HEALTH)
    assert response.status_code == 503
    assert response.elapsed.total_seconds() >= 0.2


async def test_drop_closes_the_connection_without_an_answer(sandbox: SandboxServer) -> None:
    """{"drop": true}: the client sees the connection closed and no response at all."""
    async with client(sandbox) as http:
        await _fault(http, drop=True)
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            await http.get(HEALTH)
        assert (await http.get(HEALTH)).status_code == 200


async def test_raw_body_fault(sandbox: SandboxServer) -> None:
    """{"body": "..."}: that raw body with the given status (default 200), for bad-JSON tests."""
    async with client(sandbox) as http:
        await _fault(http, body="{not json")
        await _fault(http, body="<html>bad gateway</html>", status=502)
        ok, bad = await http.get(HEALTH), await http.get(HEALTH)
    assert (ok.status_code, ok.text) == (200, "{not json")
    assert (bad.status_code, bad.text) == (502, "<html>bad gateway</html>")


async def test_delete_clears_the_faults(sandbox: SandboxServer) -> None:
    """DELETE /_sandbox/faults drops every queued rule."""
    async with client(sandbox) as http:
        await _fault(http, status=500, count=5)
        cleared = await http.delete("/_sandbox/faults")
        response = await http.get(HEALTH)
    assert cleared.json() == {"cleared": 1}
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("rule", "status"),
    [
        ({}, 400),
        ({"status": 500, "count": 0}, 400),
        ({"status": 99}, 400),
        ({"status": 500, "path_prefix": "v1"}, 400),
        ({"status": "500"}, 422),
        ({"delay": -1}, 422),
        ({"status": 429, "retry_after_format": "minutes"}, 422),
    ],
)
async def test_bad_fault_rules_are_refused(
    sandbox: SandboxServer, rule: dict[str, Any], status: int
) -> None:
    """A rule that does nothing or has bad values is refused (400 rules, 422 types)."""
    async with client(sandbox) as http:
        response = await http.post("/_sandbox/faults", json=rule)
    assert response.status_code == status


async def test_stats_count_v1_requests_by_template(sandbox: SandboxServer) -> None:
    """Stats count each /v1 request by method and spec path template, faulted ones included."""
    async with client(sandbox) as http:
        batch = await create_express(http, "https://example.com/a.mp3")
        for _ in range(3):
            await http.get(f"/v1/transcriptions/batch/{batch['batch_id']}/status")
        await _fault(http, status=500)
        await http.get(f"/v1/transcriptions/batch/{batch['batch_id']}/status")
        await http.get(f"/v1/transcriptions/{batch['transcription_ids'][0]}")
        await http.get("/v1/transcriptions/batch-files")
        stats = (await http.get("/_sandbox/stats")).json()
    assert stats["requests"] == {
        "POST /v1/transcriptions/batch": 1,
        STATUS_TEMPLATE: 4,
        "GET /v1/transcriptions/{transcription_id}": 1,
        "GET /v1/transcriptions/batch-files": 1,
    }
    assert stats["total"] == 7


async def test_reset_clears_state_faults_and_stats(sandbox: SandboxServer) -> None:
    """POST /_sandbox/reset forgets batches, faults and counts."""
    async with client(sandbox) as http:
        batch = await create_express(http, "https://example.com/a.mp3")
        await _fault(http, status=500, path_prefix="/v1/transcriptions/batch-files")
        assert (await http.post("/_sandbox/reset")).status_code == 200
        assert (await http.get("/_sandbox/stats")).json() == {"total": 0, "requests": {}}
        gone = await http.get(f"/v1/transcriptions/batch/{batch['batch_id']}/status")
        assert gone.status_code == 404
        assert (await http.get("/v1/transcriptions/batch-files")).status_code == 200


async def test_rate_limit_answers_429_with_retry_after() -> None:
    """Over N requests per second per token: 429, Retry-After >= 1 s, retry-after-ms, a message."""
    clock = FakeTime()
    async with (
        SandboxServer(SandboxConfig(rate_limit=2, clock=clock)) as server,
        client(server, "a") as a,
        client(server, "b") as b,
    ):
        codes = [(await a.get("/v1/transcriptions/batch-files")).status_code for _ in range(3)]
        limited = await a.get("/v1/transcriptions/batch-files")
        other = await b.get("/v1/transcriptions/batch-files")
        clock.advance(1.0)
        later = await a.get("/v1/transcriptions/batch-files")
        stats = (await a.get("/_sandbox/stats")).json()
    assert codes == [200, 200, 429]
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) >= 1
    assert int(limited.headers["retry-after-ms"]) > 0
    assert "Rate limit" in limited.json()["detail"]
    assert other.status_code == 200
    assert later.status_code == 200
    assert stats["requests"]["GET /v1/transcriptions/batch-files"] == 6


async def test_rate_limit_spares_health_and_admin() -> None:
    """Health (public) and the admin API are not rate limited."""
    clock = FakeTime()
    config = SandboxConfig(rate_limit=1, clock=clock)
    async with SandboxServer(config) as server, client(server) as http:
        for _ in range(3):
            assert (await http.get(HEALTH)).status_code == 200
            assert (await http.get("/_sandbox/stats")).status_code == 200


async def test_after_drop_acts_then_loses_the_answer(sandbox: SandboxServer) -> None:
    """{"after": true, "drop": true}: the create happens (the batch exists and is counted as
    created) but its answer never arrives: the connection closes instead."""
    async with client(sandbox) as http:
        await _fault(http, after=True, drop=True, method="POST")
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            await http.post(
                "/v1/transcriptions/batch",
                json={
                    "processing_mode": "express",
                    "info": {},
                    "audio_sources": [{"audio_url": "https://example.com/a.mp3"}],
                },
            )
        stats = (await http.get("/_sandbox/stats")).json()
    assert stats["created"] == {"batches": 1}


async def test_after_delay_acts_at_once_and_answers_late(sandbox: SandboxServer) -> None:
    """{"after": true, "delay": s}: the create is done before the wait (a client that gives up
    during the wait has still created the batch), and the answer comes late."""
    async with client(sandbox) as http:
        await _fault(http, after=True, delay=5.0, method="POST")
        with pytest.raises(httpx.ReadTimeout):
            await http.post(
                "/v1/transcriptions/batch",
                json={
                    "processing_mode": "express",
                    "info": {},
                    "audio_sources": [{"audio_url": "https://example.com/a.mp3"}],
                },
                timeout=0.5,
            )
        stats = (await http.get("/_sandbox/stats")).json()
    assert stats["created"] == {"batches": 1}


async def test_after_delay_alone_answers_normally_late(sandbox: SandboxServer) -> None:
    """{"after": true, "delay": s} with a patient client: the normal answer, s seconds late."""
    async with client(sandbox) as http:
        await _fault(http, after=True, delay=0.3)
        response = await http.get(HEALTH)
    assert response.status_code == 200
    assert response.elapsed.total_seconds() >= 0.3


@pytest.mark.parametrize(
    "rule", [{"after": True}, {"after": True, "status": 500}, {"after": True, "body": "x"}]
)
async def test_after_needs_delay_or_drop_and_no_answer(
    sandbox: SandboxServer, rule: dict[str, Any]
) -> None:
    """ "after" only delays or drops the real answer: alone, or with status/body, it is a 400."""
    async with client(sandbox) as http:
        response = await http.post("/_sandbox/faults", json=rule)
    assert response.status_code == 400
