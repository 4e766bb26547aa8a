"""The HTTP port serves its OpenAPI document at /openapi.json, and answers as the document says.

Real calls to a real gateway's HTTP port (Connect, JSON), each answer validated against the schema
the served document gives for that operation and status: success bodies, error bodies and their
HTTP statuses, a server stream's enveloped messages and its end-of-stream message.
"""

from __future__ import annotations

import json
import struct
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from gateway.connect.openapi import openapi_document
from gateway.server.process import Gateway
from tests.conftest import TOKEN

ORIGIN = "http://127.0.0.1:9"
SERVICE = "/sofer.batch.v1.BatchTranscriptionService"
DOC_URI = "urn:sofer-gateway:openapi"
HEADERS = {"authorization": f"Bearer {TOKEN}", "connect-protocol-version": "1"}
JSON_HEADERS = {**HEADERS, "content-type": "application/json"}
CREATE = {
    "requestId": "",
    "info": {"primaryLanguage": "LANGUAGE_HE"},
    "batchTitle": "openapi",
    "processingMode": "PROCESSING_MODE_EXPRESS",
    "audioSources": [{"audioUrl": "https://example.com/a.mp3", "clientItemId": "a"}],
}

pytestmark = pytest.mark.parametrize(
    "gateway_config", [{"http_listen": "127.0.0.1:0", "http_cors_origin": ORIGIN}], indirect=True
)


@pytest.fixture
async def http(gateway: Gateway) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the gateway's HTTP port."""
    base = f"http://127.0.0.1:{gateway.faces[0].port}"
    async with httpx.AsyncClient(base_url=base, timeout=20.0) as client:
        yield client


def document() -> dict[str, Any]:
    """The document the gateway ships."""
    loaded: dict[str, Any] = json.loads(openapi_document())
    return loaded


def validator(pointer: str) -> Draft202012Validator:
    """A validator of the document's schema at JSON pointer `pointer`, $refs resolved."""
    registry: Registry[Any] = Registry().with_resource(
        DOC_URI, Resource.from_contents(document(), default_specification=DRAFT202012)
    )
    return Draft202012Validator({"$ref": f"{DOC_URI}#{pointer}"}, registry=registry)


def check_unary(method: str, response: httpx.Response) -> None:
    """`response` is one the document lists for `method` (by status), with that body schema."""
    operation = document()["paths"][f"{SERVICE}/{method}"]["post"]
    status = str(response.status_code)
    assert status in operation["responses"], f"{method}: status {status} is not documented"
    if status == "200":
        assert response.headers["x-request-id"], "the documented X-Request-Id header"
        pointer = f"/paths/{SERVICE.replace('/', '~1')}~1{method}/post/responses/200"
    else:
        pointer = operation["responses"][status]["$ref"].removeprefix("#")
    validator(f"{pointer}/content/application~1json/schema").validate(response.json())


def envelope(message: dict[str, Any]) -> bytes:
    """One Connect enveloped message (flags 0)."""
    data = json.dumps(message).encode()
    return struct.pack(">BI", 0, len(data)) + data


def unframe(body: bytes) -> list[tuple[int, Any]]:
    """A Connect stream body as its (flags, JSON) messages."""
    messages = []
    while body:
        flags, size = struct.unpack(">BI", body[:5])
        messages.append((flags, json.loads(body[5 : 5 + size])))
        body = body[5 + size :]
    return messages


async def watch(http: httpx.AsyncClient, batch_id: str) -> list[tuple[int, Any]]:
    """WatchBatchStatus to its end, over Connect's streaming JSON."""
    response = await http.post(
        f"{SERVICE}/WatchBatchStatus",
        content=envelope({"batchId": batch_id}),
        headers={**HEADERS, "content-type": "application/connect+json"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/connect+json"
    return unframe(response.content)


async def test_the_http_port_serves_the_document(http: httpx.AsyncClient) -> None:
    """GET /openapi.json answers the OpenAPI document the gateway ships, to a browser of an
    allowed origin too; HEAD answers its headers, another method 405."""
    got = await http.get("/openapi.json", headers={"origin": ORIGIN})
    assert got.status_code == 200
    assert got.headers["content-type"] == "application/json"
    assert got.headers["access-control-allow-origin"] == ORIGIN
    assert got.content == openapi_document()
    assert got.json()["openapi"].startswith("3.1")
    head = await http.head("/openapi.json")
    assert (head.status_code, head.content) == (200, b"")
    assert head.headers["content-length"] == str(len(openapi_document()))
    refused = await http.post("/openapi.json", content=b"{}")
    assert refused.status_code == 405
    assert refused.headers["allow"] == "GET, HEAD"


async def test_unary_answers_and_errors_match_the_document(http: httpx.AsyncClient) -> None:
    """A created batch, its status, and the errors for a malformed and an unknown batch id come
    with the statuses and bodies the document gives for them (Connect's error body with its
    code, message and details)."""
    request = {**CREATE, "requestId": str(uuid.uuid4())}
    created = await http.post(f"{SERVICE}/CreateBatch", json=request, headers=JSON_HEADERS)
    check_unary("CreateBatch", created)
    batch_id = created.json()["batchId"]
    status = await http.post(
        f"{SERVICE}/GetBatchStatus", json={"batchId": batch_id}, headers=JSON_HEADERS
    )
    check_unary("GetBatchStatus", status)
    assert status.json()["batchStatus"]["batchId"] == batch_id
    malformed = await http.post(
        f"{SERVICE}/GetBatchStatus", json={"batchId": "nope"}, headers=JSON_HEADERS
    )
    assert (malformed.status_code, malformed.json()["code"]) == (400, "invalid_argument")
    check_unary("GetBatchStatus", malformed)
    assert {d["type"] for d in malformed.json()["details"]} >= {
        "google.rpc.ErrorInfo",
        "google.rpc.BadRequest",
    }
    unknown = await http.post(
        f"{SERVICE}/GetBatchStatus", json={"batchId": str(uuid.uuid4())}, headers=JSON_HEADERS
    )
    assert (unknown.status_code, unknown.json()["code"]) == (404, "not_found")
    check_unary("GetBatchStatus", unknown)


async def test_get_is_answered_exactly_where_the_document_lists_it(
    http: httpx.AsyncClient,
) -> None:
    """GetBatchStatus called with GET and the request in the query succeeds if and only if the
    document lists a GET for it (the proto marks it side-effect free)."""
    documented = "get" in document()["paths"][f"{SERVICE}/GetBatchStatus"]
    query = {"encoding": "json", "message": json.dumps({"batchId": str(uuid.uuid4())})}
    answer = await http.get(f"{SERVICE}/GetBatchStatus", params=query, headers=HEADERS)
    if documented:
        assert (answer.status_code, answer.json()["code"]) == (404, "not_found")
    else:
        assert answer.status_code in (405, 415), answer.text


async def test_a_stream_is_framed_as_the_document_says(http: httpx.AsyncClient) -> None:
    """WatchBatchStatus over Connect's streaming JSON: enveloped messages that match the response
    schema, up to BATCH_STATE_COMPLETED, then one end-of-stream message (flags 0x02) that matches
    connect.EndStreamResponse; a stream that fails carries its error there, with HTTP 200."""
    created = await http.post(f"{SERVICE}/CreateBatch", json=CREATE, headers=JSON_HEADERS)
    messages = await watch(http, created.json()["batchId"])
    *updates, (end_flags, end) = messages
    assert end_flags == 0x02
    message_schema = validator("/components/schemas/sofer.batch.v1.WatchBatchStatusResponse")
    for flags, update in updates:
        assert flags == 0
        message_schema.validate(update)
    assert updates[-1][1]["batchStatus"]["state"] == "BATCH_STATE_COMPLETED"
    end_schema = validator("/components/schemas/connect.EndStreamResponse")
    end_schema.validate(end)
    assert "error" not in end
    [(failed_flags, failed)] = await watch(http, str(uuid.uuid4()))
    assert failed_flags == 0x02
    end_schema.validate(failed)
    assert failed["error"]["code"] == "not_found"
