"""Every sandbox answer of every covered operation validates against the upstream OpenAPI spec.

The spec file itself is the reference (openapi-core resolves its components): no hand copy of
its schemas. Each exchange is recorded by an httpx event hook, matched to its operation, and its
answer validated for every status the spec documents for that operation (200, 401, 404, 429);
statuses the spec does not document (400, 422) are checked to carry a JSON `detail`. The last
assertion demands that every documented (operation, status) pair was exercised.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from openapi_core import Config, OpenAPI
from openapi_core.testing import MockRequest, MockResponse
from sofer_sandbox import SandboxConfig, SandboxServer

from tests.helpers import REPO
from tests.helpers.clock import FakeTime
from tests.helpers.sandbox_http import (
    SSL_CONTEXT,
    episode,
    feed_server,
    rss,
)

OPERATIONS = (
    "batchTranscribe_createBatchTranscription",
    "batchTranscribe_uploadBatchFile",
    "batchTranscribe_listBatchFiles",
    "batchTranscribe_createBatchFileFromRss",
    "batchTranscribe_getBatchFile",
    "batchTranscribe_getBatchStatus",
    "batchTranscribe_getBatchTranscriptionByClientItemId",
    "transcribe_getTranscriptionStatus",
    "transcribe_getTranscription",
    "health_getHealth",
)
# A server URL listed in the spec (its "Development" server), so that openapi-core finds paths.
SPEC_HOST = "http://localhost:8001"
UNKNOWN = "d5e9c84f-c2b2-4bf4-b4b0-7ffd7a9ffc32"


def spec_path() -> Path:
    """The upstream's OpenAPI spec, vendored in the repository (spec/README.md)."""
    return REPO / "spec" / "sofer-openapi.json"


@dataclass(frozen=True)
class Operation:
    """One spec operation: id, method, path template and documented statuses."""

    operation_id: str
    method: str
    template: str
    pattern: re.Pattern[str]
    statuses: frozenset[int]


@dataclass(frozen=True)
class Exchange:
    """One recorded request and its answer."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    status: int
    response_headers: dict[str, str]
    response_body: bytes


def load_operations(spec: dict[str, Any]) -> list[Operation]:
    """The covered operations, templates with fewer parameters first (literal segments win)."""
    found = []
    for template, item in spec["paths"].items():
        for method, op in item.items():
            if isinstance(op, dict) and op.get("operationId") in OPERATIONS:
                regex = "^" + re.sub(r"\{[^/]+\}", "[^/]+", template) + "$"
                statuses = frozenset(int(code) for code in op["responses"])
                found.append(
                    Operation(
                        op["operationId"], method.upper(), template, re.compile(regex), statuses
                    )
                )
    assert {o.operation_id for o in found} == set(OPERATIONS)
    return sorted(found, key=lambda o: o.template.count("{"))


def operation_of(operations: list[Operation], exchange: Exchange) -> Operation:
    """The operation an exchange belongs to."""
    for op in operations:
        if op.method == exchange.method and op.pattern.match(exchange.path):
            return op
    raise AssertionError(f"no spec operation for {exchange.method} {exchange.path}")


class Recorder:
    """Collects every exchange made through clients it creates."""

    def __init__(self, server: SandboxServer) -> None:
        self.server = server
        self.exchanges: list[Exchange] = []

    async def _hook(self, response: httpx.Response) -> None:
        await response.aread()
        request = response.request
        self.exchanges.append(
            Exchange(
                method=request.method,
                path=request.url.path,
                query=dict(request.url.params),
                headers=dict(request.headers),
                body=request.content,
                status=response.status_code,
                response_headers=dict(response.headers),
                response_body=response.content,
            )
        )

    def client(self, token: str | None = "conformance") -> httpx.AsyncClient:
        """A recording client on the sandbox."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.AsyncClient(
            base_url=self.server.url,
            headers=headers,
            verify=SSL_CONTEXT,
            event_hooks={"response": [self._hook]},
        )


@pytest.fixture
def sandbox_config(sandbox_clock: FakeTime) -> SandboxConfig:
    """Items take 10 s and manifests validate in 1 s, on the fake clock."""
    return SandboxConfig(item_seconds=10.0, manifest_validation_seconds=1.0, clock=sandbox_clock)


@pytest.fixture
async def feed_url() -> AsyncIterator[str]:
    """A 3-episode podcast feed on loopback."""
    feed = rss([episode(1), episode(2), episode(3, guid=False)])
    async with feed_server({"/feed.xml": (200, feed)}) as base:
        yield f"{base}/feed.xml"


async def _exercise(rec: Recorder, sandbox_clock: FakeTime, feed_url: str) -> None:
    """Call every operation in the states and error cases the spec documents."""
    async with rec.client() as http, rec.client(token=None) as anonymous:
        await http.get("/v1/health/")
        jsonl = '{"audio_url": "https://e.com/1.mp3", "client_item_id": "a", "num_speakers": 2}'
        pending = (
            await http.post(
                "/v1/transcriptions/batch-files",
                json={
                    "content_type": "json",
                    "json_items": [
                        {"audio_url": "https://e.com/a.mp3", "title": "A", "client_item_id": "a"},
                        {"audio_url": "https://e.com/fail.mp3", "auto_detect_speakers": True},
                    ],
                    "metadata": {"title": "Series", "description": "Fall"},
                },
            )
        ).json()
        await http.get(f"/v1/transcriptions/batch-files/{pending['batch_file_id']}")
        await http.post(
            "/v1/transcriptions/batch-files",
            json={"content_type": "jsonl", "jsonl": jsonl + "\nnot json\n{}"},
        )
        await http.post("/v1/transcriptions/batch-files/from-rss", json={"rss_url": feed_url})
        await http.post(
            "/v1/transcriptions/batch-files/from-rss",
            json={"rss_url": feed_url, "limit": 2, "offset": 0, "metadata": {"title": "P"}},
        )
        sandbox_clock.advance(1.0)
        listing = (await http.get("/v1/transcriptions/batch-files", params={"limit": 2})).json()
        await http.get(
            "/v1/transcriptions/batch-files", params={"limit": 2, "cursor": listing["next_cursor"]}
        )
        for summary in listing["files"]:
            await http.get(f"/v1/transcriptions/batch-files/{summary['id']}")
        await http.get(f"/v1/transcriptions/batch-files/{pending['batch_file_id']}")

        standard = (
            await http.post(
                "/v1/transcriptions/batch",
                json={
                    "batch_file_id": pending["batch_file_id"],
                    "info": {"model": "v1", "primary_language": "en", "num_speakers": 1},
                    "batch_title": "Standard",
                    "processing_mode": "standard",
                },
            )
        ).json()
        express = (
            await http.post(
                "/v1/transcriptions/batch",
                json={
                    "processing_mode": "express",
                    "info": {"hebrew_word_format": ["en"], "auto_detect_speakers": True},
                    "audio_sources": [
                        {"audio_url": "https://e.com/x.mp3", "client_item_id": "x"},
                        {"audio_url": "https://e.com/y.mp3", "num_speakers": 3},
                    ],
                },
            )
        ).json()
        for _ in range(3):  # RECEIVED, PROCESSING, then terminal (COMPLETED and FAILED items)
            for batch in (standard, express):
                await http.get(f"/v1/transcriptions/batch/{batch['batch_id']}/status")
                await http.get(
                    f"/v1/transcriptions/batch/{batch['batch_id']}/items/by-client-item-id",
                    params={"client_item_id": "a" if batch is standard else "x"},
                )
                for tid in batch["transcription_ids"]:
                    await http.get(f"/v1/transcriptions/{tid}/status")
                    await http.get(f"/v1/transcriptions/{tid}")
            sandbox_clock.advance(5.0)
        sandbox_clock.advance(20.0)
        tid = express["transcription_ids"][0]
        for flt in ("en", "he", "hybrid"):
            await http.get(f"/v1/transcriptions/{tid}", params={"filter_hebrew_word_format": flt})

        # 404s: unknown ids, and a client_item_id absent from the batch.
        await http.get(f"/v1/transcriptions/batch-files/{UNKNOWN}")
        await http.get(f"/v1/transcriptions/batch/{UNKNOWN}/status")
        await http.get(
            f"/v1/transcriptions/batch/{express['batch_id']}/items/by-client-item-id",
            params={"client_item_id": "nope"},
        )
        await http.get(f"/v1/transcriptions/{UNKNOWN}/status")
        await http.get(f"/v1/transcriptions/{UNKNOWN}")

        # 400 and 422 (undocumented by the spec; checked for a JSON detail).
        await http.post("/v1/transcriptions/batch", json={"info": {}, "audio_sources": []})
        await http.post("/v1/transcriptions/batch", json={"audio_sources": 1})

        calls = [
            ("POST", "/v1/transcriptions/batch", {"processing_mode": "express", "info": {}}),
            ("POST", "/v1/transcriptions/batch-files", {"content_type": "jsonl", "jsonl": "{}"}),
            ("GET", "/v1/transcriptions/batch-files", None),
            ("POST", "/v1/transcriptions/batch-files/from-rss", {"rss_url": feed_url}),
            ("GET", f"/v1/transcriptions/batch-files/{pending['batch_file_id']}", None),
            ("GET", f"/v1/transcriptions/batch/{express['batch_id']}/status", None),
            (
                "GET",
                f"/v1/transcriptions/batch/{express['batch_id']}/items/by-client-item-id"
                "?client_item_id=x",
                None,
            ),
            ("GET", f"/v1/transcriptions/{tid}/status", None),
            ("GET", f"/v1/transcriptions/{tid}", None),
        ]
        for method, path, body in calls:
            await anonymous.request(method, path, json=body)  # 401
            rule = {"status": 429, "retry_after": 1, "path_prefix": path.split("?")[0]}
            await http.post("/_sandbox/faults", json={**rule, "method": method})
            await http.request(method, path, json=body)  # 429


async def test_every_answer_conforms_to_the_spec(
    sandbox: SandboxServer, sandbox_clock: FakeTime, feed_url: str
) -> None:
    """Each documented status of each operation is exercised, and each answer matches the spec."""
    path = spec_path()
    spec = json.loads(path.read_text())
    operations = load_operations(spec)
    # The published spec gives some parameters both `example` and `examples`, which strict spec
    # validation rejects; the schemas themselves are sound, so only that check is skipped.
    openapi = OpenAPI.from_file_path(str(path), config=Config(spec_validator_cls=None))
    recorder = Recorder(sandbox)
    await _exercise(recorder, sandbox_clock, feed_url)

    covered: set[tuple[str, int]] = set()
    exchanges = [e for e in recorder.exchanges if e.path.startswith("/v1/")]
    for exchange in exchanges:
        op = operation_of(operations, exchange)
        content_type = exchange.response_headers.get("content-type", "")
        assert content_type.startswith("application/json"), exchange
        parsed = json.loads(exchange.response_body)
        if exchange.status not in op.statuses:
            assert exchange.status in (400, 422), (op.operation_id, exchange.status)
            assert "detail" in parsed
            continue
        request = MockRequest(
            SPEC_HOST,
            exchange.method,
            exchange.path,
            args=exchange.query,
            headers=exchange.headers,
            data=exchange.body,
        )
        response = MockResponse(
            exchange.response_body,
            status_code=exchange.status,
            headers=exchange.response_headers,
            content_type="application/json",
        )
        openapi.validate_response(request, response)
        if exchange.status == 200:
            openapi.validate_request(request)
        else:
            assert isinstance(parsed.get("detail"), str), exchange
        covered.add((op.operation_id, exchange.status))

    documented = {(op.operation_id, status) for op in operations for status in op.statuses}
    assert documented - covered == set()


def test_spec_documents_what_the_sandbox_assumes() -> None:
    """The spec still has the shapes the sandbox relies on (a drift alarm for spec syncs)."""
    spec = json.loads(spec_path().read_text())
    schemas = spec["components"]["schemas"]
    assert schemas["TranscriptionInfo"]["properties"]["duration"]["type"] == "integer"
    assert schemas["BatchFileStatus"]["enum"] == ["PENDING_VALIDATION", "VALID", "INVALID"]
    assert schemas["BatchStatus"]["enum"] == ["RECEIVED", "PROCESSING", "COMPLETED", "FAILED"]
    assert "next_offset" not in schemas["BatchFileCreateFromRssResponse"]["required"]
    listing = spec["paths"]["/v1/transcriptions/batch-files"]["get"]
    assert listing["parameters"] == []  # cursor/limit are the sandbox's documented assumption
