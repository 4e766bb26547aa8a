"""The HTTP port (--http-listen) as a caller without gRPC sees it: the issue's curl command, GET for
side-effect-free reads, JSON and binary protobuf, server streams over HTTP/1.1 and HTTP/2 (h2c
and TLS with ALPN), Connect's JSON error body with the gateway's details, and the protocol named
in the summary line and the metrics."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import io
import json
import ssl
import struct
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from google.protobuf import descriptor_pb2, json_format
from google.rpc import error_details_pb2
from sofer.batch.v1 import batch_pb2, batch_service_pb2
from sofer_sandbox import SandboxConfig

from gateway.config import GatewayConfig
from gateway.connect.server import faces_of
from gateway.server.process import Gateway
from tests.conftest import TOKEN
from tests.helpers.calls import batch_request, eventually, rpc_lines
from tests.helpers.connect import SERVICE, ConnectStub
from tests.helpers.metrics import scrape
from tests.helpers.pki import Pki

pb = batch_service_pb2
PATH = f"/{SERVICE.full_name}"
SIDE_EFFECT_FREE = {
    "GetManifest",
    "ListManifests",
    "GetBatchStatus",
    "GetBatchItem",
    "GetTranscription",
    "ExportTranscription",
    "GetTranscriptionStatus",
    "GetBalance",
    "EstimateCost",
    "ListTranscriptions",
    "ExtractLink",
    "ListSupportedSites",
}


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    """Items that finish in a fraction of a second: a watch reaches COMPLETED quickly."""
    return SandboxConfig(item_seconds=0.3)


@pytest.fixture
def gateway_config(gateway_config: GatewayConfig) -> GatewayConfig:
    """The HTTP port on, and metrics to read the protocol label from."""
    return dataclasses.replace(
        gateway_config, http_listen="127.0.0.1:0", metrics_listen="127.0.0.1:0"
    )


@pytest.fixture
def url(gateway: Gateway) -> str:
    return f"http://127.0.0.1:{gateway.faces[0].port}"


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30.0) as http:
        yield http


async def created(url: str, client: httpx.AsyncClient) -> str:
    """A batch created over Connect: its id."""
    stub = ConnectStub(url, client=client)
    response = await stub.CreateBatch(batch_request(""), metadata=(_auth(),))
    batch_id: str = response.batch_id
    return batch_id


def _auth() -> tuple[str, str]:
    return ("authorization", f"Bearer {TOKEN}")


async def curl(*args: str) -> tuple[int, str]:
    """Run curl (the machine's) with `args`: (exit status, what it printed)."""
    process = await asyncio.create_subprocess_exec(
        "curl", "-sS", *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    out, _ = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode()


async def test_the_issues_curl_command_answers_the_batch_status(
    url: str, client: httpx.AsyncClient
) -> None:
    """The README's first call over HTTP: curl posts JSON with a bearer token to GetBatchStatus
    and gets the batch's status as JSON (proto3 JSON names)."""
    batch_id = await created(url, client)
    status, out = await curl(
        "-H",
        "content-type: application/json",
        "-H",
        f"authorization: Bearer {TOKEN}",
        "-d",
        json.dumps({"batch_id": batch_id}),
        f"{url}{PATH}/GetBatchStatus",
    )
    assert status == 0, out
    answer = json.loads(out)
    assert answer["batchStatus"]["batchId"] == batch_id
    parsed = json_format.Parse(out, pb.GetBatchStatusResponse())
    assert parsed.batch_status.state != batch_pb2.BATCH_STATE_UNSPECIFIED


async def test_curl_sees_the_error_with_its_code_and_details(url: str) -> None:
    """A bad request over curl is HTTP 400 with Connect's JSON error body: the code, the
    gateway's message, and ErrorInfo and BadRequest as typed details, the request id beside."""
    status, out = await curl(
        "-w",
        "\n%{http_code}",
        "-H",
        "content-type: application/json",
        "-H",
        f"authorization: Bearer {TOKEN}",
        "-d",
        '{"batch_id": "not-a-uuid"}',
        f"{url}{PATH}/GetBatchStatus",
    )
    assert status == 0, out
    body, _, http_code = out.rpartition("\n")
    assert http_code == "400"
    error = json.loads(body)
    assert error["code"] == "invalid_argument"
    assert "batch_id" in error["message"]
    types = [d["type"] for d in error["details"]]
    assert types == ["google.rpc.ErrorInfo", "google.rpc.BadRequest"]
    info = error_details_pb2.ErrorInfo.FromString(_unpadded(error["details"][0]["value"]))
    assert (info.reason, info.domain) == ("REQUEST_INVALID", "sofer-gateway")
    assert info.metadata["request_id"]


def _unpadded(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4))


def test_every_side_effect_free_read_is_marked_for_get() -> None:
    """The reads a proxy may cache keep their NO_SIDE_EFFECTS mark (Connect's GET): removing
    one would break the callers that GET it. Nothing that creates is marked."""
    marked = set()
    for method in SERVICE.methods:
        options = descriptor_pb2.MethodOptions.FromString(method.GetOptions().SerializeToString())
        if options.idempotency_level == descriptor_pb2.MethodOptions.NO_SIDE_EFFECTS:
            marked.add(method.name)
    assert marked == SIDE_EFFECT_FREE


async def test_a_side_effect_free_read_answers_get(url: str, client: httpx.AsyncClient) -> None:
    """GetBatchStatus by GET (the message in the query string, as connect-web sends it): the
    same answer as by POST; cacheable by a proxy since nothing changes."""
    batch_id = await created(url, client)
    message = json.dumps({"batch_id": batch_id})
    answer = await client.get(
        f"{url}{PATH}/GetBatchStatus",
        params={"connect": "v1", "encoding": "json", "message": message},
        headers=dict([_auth()]),
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["batchStatus"]["batchId"] == batch_id
    binary = pb.GetBatchStatusRequest(batch_id=batch_id).SerializeToString()
    answer = await client.get(
        f"{url}{PATH}/GetBatchStatus",
        params={
            "connect": "v1",
            "encoding": "proto",
            "base64": "1",
            "message": base64.urlsafe_b64encode(binary).decode().rstrip("="),
        },
        headers=dict([_auth()]),
    )
    assert answer.status_code == 200
    assert pb.GetBatchStatusResponse.FromString(answer.content).batch_status.batch_id == batch_id


async def test_a_create_does_not_answer_get(url: str, client: httpx.AsyncClient) -> None:
    """CreateBatch by GET is refused (405): only side-effect-free reads may be fetched."""
    message = json_format.MessageToJson(batch_request(""))
    answer = await client.get(
        f"{url}{PATH}/CreateBatch",
        params={"connect": "v1", "encoding": "json", "message": message},
        headers=dict([_auth()]),
    )
    assert answer.status_code == 405


async def test_binary_protobuf_answers_as_json_does(url: str, client: httpx.AsyncClient) -> None:
    """application/proto in, application/proto out: the same batch as JSON shows."""
    batch_id = await created(url, client)
    stub = ConnectStub(url, client=client, codec="proto")
    response = await stub.GetBatchStatus(
        pb.GetBatchStatusRequest(batch_id=batch_id), metadata=(_auth(),)
    )
    assert response.batch_status.batch_id == batch_id


async def _watch(client: httpx.AsyncClient, url: str, batch_id: str) -> tuple[list[Any], str]:
    """WatchBatchStatus over Connect's streaming protocol by hand: the statuses, and the HTTP
    version the response came over."""
    payload = json.dumps({"batch_id": batch_id}).encode()
    body = struct.pack(">BI", 0, len(payload)) + payload
    statuses: list[Any] = []
    async with client.stream(
        "POST",
        f"{url}{PATH}/WatchBatchStatus",
        content=body,
        headers={"content-type": "application/connect+json", "authorization": f"Bearer {TOKEN}"},
    ) as answer:
        assert answer.status_code == 200
        data = b"".join([chunk async for chunk in answer.aiter_bytes()])
        version = answer.http_version
    while data:
        flags, size = struct.unpack(">BI", data[:5])
        frame, data = json.loads(data[5 : 5 + size]), data[5 + size :]
        if flags & 0x02:
            assert frame.get("error") is None, frame
            assert not data
            break
        statuses.append(frame["batchStatus"]["state"])
    return statuses, version


@pytest.mark.parametrize("version", ["HTTP/1.1", "HTTP/2"])
async def test_a_watch_streams_to_completed(url: str, version: str) -> None:
    """WatchBatchStatus over Connect streams the batch's progress to COMPLETED and ends OK,
    over HTTP/1.1 and over HTTP/2 (h2c, prior knowledge)."""
    http2 = version == "HTTP/2"
    async with httpx.AsyncClient(http1=not http2, http2=http2, timeout=30.0) as client:
        batch_id = await created(url, client)
        states, used = await _watch(client, url, batch_id)
    assert used == version
    assert states[-1] == "BATCH_STATE_COMPLETED"


async def test_tls_serves_http2_by_alpn(gateway_config: GatewayConfig, pki: Pki) -> None:
    """With the gRPC port's TLS flags the HTTP port serves TLS too, and a client offering h2
    gets HTTP/2 (ALPN); the answer is the same service's."""
    config = dataclasses.replace(
        gateway_config,
        tls_cert=str(pki.server.cert_file),
        tls_key=str(pki.server.key_file),
    )
    context = ssl.create_default_context(cadata=pki.ca.cert_pem.decode())
    async with (
        Gateway(config, faces_of(config)) as running,
        httpx.AsyncClient(http2=True, verify=context, timeout=30.0) as client,
    ):
        url = f"https://localhost:{running.faces[0].port}"
        batch_id = await created(url, client)
        states, used = await _watch(client, url, batch_id)
    assert used == "HTTP/2"
    assert states[-1] == "BATCH_STATE_COMPLETED"


async def test_mutual_tls_refuses_a_client_without_a_certificate(
    gateway_config: GatewayConfig, pki: Pki
) -> None:
    """With --tls-client-ca the HTTP port, like the gRPC one, requires a client certificate
    signed by that CA: without one no request gets through; with one, it does."""
    config = dataclasses.replace(
        gateway_config,
        tls_cert=str(pki.server.cert_file),
        tls_key=str(pki.server.key_file),
        tls_client_ca=str(pki.ca.cert_file),
    )
    anonymous = ssl.create_default_context(cadata=pki.ca.cert_pem.decode())
    known = ssl.create_default_context(cadata=pki.ca.cert_pem.decode())
    known.load_cert_chain(pki.client.cert_file, pki.client.key_file)
    async with Gateway(config, faces_of(config)) as running:
        url = f"https://localhost:{running.faces[0].port}"
        async with httpx.AsyncClient(verify=anonymous, timeout=10.0) as client:
            with pytest.raises((httpx.ConnectError, httpx.ReadError, httpx.RemoteProtocolError)):
                await created(url, client)
        async with httpx.AsyncClient(verify=known, timeout=10.0) as client:
            assert await created(url, client)


async def test_the_protocol_is_named_in_the_log_line_and_the_metrics(
    url: str, client: httpx.AsyncClient, gateway: Gateway, logs: io.StringIO
) -> None:
    """A call over Connect logs its summary line with protocol=connect, and counts in
    sofer_gateway_rpcs_total under protocol="connect"."""
    await created(url, client)
    [line] = [x for x in rpc_lines(logs) if x["rpc"] == "CreateBatch"]
    assert line["protocol"] == "connect"
    seen = await eventually(
        lambda: scrape(gateway.metrics_port),
        lambda s: (
            s.value("sofer_gateway_rpcs_total", method="CreateBatch", protocol="connect") == 1
        ),
    )
    assert seen.value("sofer_gateway_rpcs_total", method="CreateBatch", protocol="grpc") == 0
