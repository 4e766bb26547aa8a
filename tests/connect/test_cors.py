"""CORS on the HTTP port (--http-cors-origin): a browser page of an allowed origin may call the
service (its preflight is answered with what Connect and gRPC-Web send, its answers expose the
headers it needs to read); any other origin is refused, and with no origin configured every one
is."""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import AsyncIterator

import httpx
import pytest

from gateway import config
from gateway.config import ConfigError, GatewayConfig
from gateway.connect.http import Guard, Limits, Receive, Scope, Send
from gateway.connect.server import cors_origins
from gateway.server.process import Gateway
from tests.conftest import TOKEN
from tests.helpers.connect import SERVICE

PATH = f"/{SERVICE.full_name}/ListSupportedSites"
APP = "https://app.example.com"
LOCAL = "http://localhost:5173"


@pytest.fixture
def gateway_config(gateway_config: GatewayConfig, request: pytest.FixtureRequest) -> GatewayConfig:
    """The HTTP port on, with the test's allowed origins (APP and a local page by default)."""
    origins = getattr(request, "param", f"{APP}, {LOCAL}")
    return dataclasses.replace(gateway_config, http_listen="127.0.0.1:0", http_cors_origin=origins)


@pytest.fixture
async def client(gateway: Gateway) -> AsyncIterator[httpx.AsyncClient]:
    url = f"http://127.0.0.1:{gateway.faces[0].port}"
    async with httpx.AsyncClient(base_url=url, timeout=10.0) as c:
        yield c


def preflight(origin: str) -> dict[str, str]:
    return {
        "origin": origin,
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type, authorization, connect-protocol-version",
    }


async def test_an_allowed_origins_preflight_is_answered(client: httpx.AsyncClient) -> None:
    """A preflight from an allowed origin: 204, that origin allowed, POST and GET, the headers
    a Connect or gRPC-Web call sends (authorization included), a max age."""
    answer = await client.options(PATH, headers=preflight(APP))
    assert answer.status_code == 204
    assert answer.headers["access-control-allow-origin"] == APP
    assert set(answer.headers["access-control-allow-methods"].split(", ")) == {"POST", "GET"}
    allowed = answer.headers["access-control-allow-headers"]
    for name in ("content-type", "authorization", "connect-protocol-version", "x-grpc-web"):
        assert name in allowed
    assert int(answer.headers["access-control-max-age"]) > 0
    assert "Origin" in answer.headers["vary"]


async def test_another_origins_preflight_is_refused(client: httpx.AsyncClient) -> None:
    """A preflight from an origin not listed: 403, and no CORS header at all (the browser
    refuses the call)."""
    answer = await client.options(PATH, headers=preflight("https://evil.example.net"))
    assert answer.status_code == 403
    assert "access-control-allow-origin" not in answer.headers


async def test_an_allowed_origins_answer_exposes_what_connect_reads(
    client: httpx.AsyncClient,
) -> None:
    """A call from an allowed origin is answered with that origin allowed and the headers
    Connect, gRPC-Web and the gateway send exposed (grpc-status, x-request-id, ...); a call
    from another origin gets no CORS header (the browser hides the answer)."""
    headers = {
        "content-type": "application/json",
        "authorization": f"Bearer {TOKEN}",
        "origin": APP,
    }
    answer = await client.post(PATH, content=b"{}", headers=headers)
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == APP
    exposed = answer.headers["access-control-expose-headers"]
    for name in ("grpc-status", "grpc-message", "grpc-status-details-bin", "x-request-id"):
        assert name in exposed
    answer = await client.post(PATH, content=b"{}", headers={**headers, "origin": "https://x.io"})
    assert "access-control-allow-origin" not in answer.headers


@pytest.mark.parametrize("gateway_config", [""], indirect=True)
async def test_no_origin_is_allowed_unless_configured(client: httpx.AsyncClient) -> None:
    """Without --http-cors-origin every preflight is refused."""
    answer = await client.options(PATH, headers=preflight(APP))
    assert answer.status_code == 403


@pytest.mark.parametrize(
    "flag", ["*", "app.example.com", "https://app.example.com/path", "ftp://files.example.com"]
)
def test_an_origin_that_is_not_an_origin_is_refused_naming_the_flag(flag: str) -> None:
    """A wildcard, a bare host, a path or another scheme in --http-cors-origin stops the start
    with an error naming the flag (a browser sends scheme://host[:port] exactly)."""
    with pytest.raises(ConfigError, match="--http-cors-origin"):
        cors_origins(flag)


def test_the_origin_flag_repeats_and_the_environment_lists_with_commas() -> None:
    """`--http-cors-origin A --http-cors-origin B` allows both, as does
    SOFER_GATEWAY_HTTP_CORS_ORIGIN="A,B"; the flag wins over the variable."""
    parser = argparse.ArgumentParser()
    config.add_arguments(parser)
    args = parser.parse_args(["--http-cors-origin", APP, "--http-cors-origin", LOCAL])
    assert cors_origins(config.from_args(args, {}).http_cors_origin) == [APP, LOCAL]
    environ = {"SOFER_GATEWAY_HTTP_CORS_ORIGIN": f"{LOCAL},{APP}"}
    from_env = config.from_args(parser.parse_args([]), environ)
    assert cors_origins(from_env.http_cors_origin) == [LOCAL, APP]
    assert cors_origins(config.from_args(args, environ).http_cors_origin) == [APP, LOCAL]


async def test_a_route_beside_the_service_answers_with_the_same_cors() -> None:
    """An application at a path of its own (a document the port serves beside the service)
    answers its GET, with the CORS headers of an allowed origin; other paths go to the
    service."""

    async def document(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    async def service(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 418, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    limits = Limits(max_message_bytes=10, max_upload_bytes=10, body_timeout=1.0)
    guard = Guard(service, limits, cors_origins=[APP], routes={"/document.json": document})
    transport = httpx.ASGITransport(app=guard)
    async with httpx.AsyncClient(transport=transport, base_url="http://port") as client:
        answer = await client.get("/document.json", headers={"origin": APP})
        assert (answer.status_code, answer.content) == (200, b"{}")
        assert answer.headers["access-control-allow-origin"] == APP
        assert (await client.get("/elsewhere")).status_code == 418
