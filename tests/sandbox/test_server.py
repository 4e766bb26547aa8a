"""The sandbox server's life cycle, health, authentication and tenancy."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from sofer_sandbox import SandboxConfig, SandboxServer, create_app

from tests.helpers.sandbox_http import OTHER_TOKEN, TOKEN, client, create_express, upload_json


async def test_server_binds_a_free_port_and_reports_it(sandbox: SandboxServer) -> None:
    """`url` carries the real port chosen for port 0, and the server answers on it."""
    assert sandbox.url.startswith("http://127.0.0.1:")
    assert sandbox.port > 0
    async with httpx.AsyncClient(base_url=sandbox.url) as http:
        response = await http.get("/v1/health/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_server_exposes_its_app() -> None:
    """`.app` is the Starlette app `create_app` builds, with its state reachable."""
    async with SandboxServer(SandboxConfig()) as server:
        assert server.app.state.sandbox.config == SandboxConfig()


async def test_exit_stops_serving_and_leaks_no_task() -> None:
    """After the block the port refuses connections and no server task is left running."""
    before = asyncio.all_tasks()
    async with SandboxServer(SandboxConfig(item_seconds=0.1)) as server:
        url = server.url
        async with client(server) as http:
            await create_express(http, "https://example.com/a.mp3")
    assert asyncio.all_tasks() <= before
    async with httpx.AsyncClient() as http:
        with pytest.raises(httpx.ConnectError):
            await http.get(f"{url}/v1/health/")


async def test_two_servers_run_side_by_side() -> None:
    """Each server has its own port and its own state."""
    async with (
        SandboxServer(SandboxConfig()) as one,
        SandboxServer(SandboxConfig()) as two,
    ):
        assert one.url != two.url
        async with client(one) as a, client(two) as b:
            batch = await create_express(a, "https://example.com/a.mp3")
            missing = await b.get(f"/v1/transcriptions/batch/{batch['batch_id']}/status")
        assert missing.status_code == 404


def test_create_app_returns_a_starlette_app() -> None:
    """create_app builds an app without needing a running loop."""
    app = create_app(SandboxConfig())
    assert {"/v1/transcriptions/batch", "/_sandbox/faults"} <= {
        getattr(r, "path", "") for r in app.routes
    }


async def test_health_needs_no_token(sandbox: SandboxServer) -> None:
    """GET /v1/health/ answers 200 without Authorization."""
    async with client(sandbox, token=None) as http:
        response = await http.get("/v1/health/")
    assert response.status_code == 200


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer"}, {"Authorization": "Basic dTpw"}, {"Authorization": "x"}],
)
async def test_missing_or_malformed_authorization_is_401(
    sandbox: SandboxServer, headers: dict[str, str]
) -> None:
    """Without a usable `Bearer <token>` every /v1 operation but health answers 401 JSON."""
    async with httpx.AsyncClient(base_url=sandbox.url, headers=headers) as http:
        response = await http.get("/v1/transcriptions/batch-files")
    assert response.status_code == 401
    assert "Bearer" in response.json()["detail"]


async def test_401_never_echoes_the_token(sandbox: SandboxServer) -> None:
    """A rejected token does not appear in the answer."""
    config = SandboxConfig(api_keys=frozenset({"good-key"}))
    async with SandboxServer(config) as server, client(server, "secret-bad-key") as http:
        response = await http.get("/v1/transcriptions/batch-files")
    assert response.status_code == 401
    assert "secret-bad-key" not in response.text


async def test_api_keys_limit_the_accepted_tokens() -> None:
    """With api_keys set, listed tokens work and any other answers 401."""
    config = SandboxConfig(api_keys=frozenset({"good-key"}))
    async with SandboxServer(config) as server:
        async with client(server, "good-key") as http:
            assert (await http.get("/v1/transcriptions/batch-files")).status_code == 200
        async with client(server, "other-key") as http:
            assert (await http.get("/v1/transcriptions/batch-files")).status_code == 401


async def test_tenants_see_only_their_own_resources(sandbox: SandboxServer) -> None:
    """Another tenant's batch, transcription and manifest ids answer 404, like unknown ids."""
    async with client(sandbox, TOKEN) as a, client(sandbox, OTHER_TOKEN) as b:
        source = {"audio_url": "https://example.com/a.mp3", "client_item_id": "x"}
        batch = await create_express(a, audio_sources=[source])
        manifest = await upload_json(a, [{"audio_url": "https://example.com/m.mp3"}])
        tid = batch["transcription_ids"][0]
        bid = batch["batch_id"]
        paths = [
            f"/v1/transcriptions/batch/{bid}/status",
            f"/v1/transcriptions/batch/{bid}/items/by-client-item-id?client_item_id=x",
            f"/v1/transcriptions/{tid}/status",
            f"/v1/transcriptions/{tid}",
            f"/v1/transcriptions/batch-files/{manifest['batch_file_id']}",
        ]
        for path in paths:
            assert (await b.get(path)).status_code == 404, path
        assert (await b.get("/v1/transcriptions/batch-files")).json()["files"] == []
        for path in paths:
            assert (await a.get(path)).status_code == 200, path
        foreign = await b.post(
            "/v1/transcriptions/batch",
            json={"batch_file_id": manifest["batch_file_id"], "info": {}},
        )
        assert foreign.status_code == 400


async def test_unknown_ids_answer_404_with_a_message(sandbox: SandboxServer) -> None:
    """A well-formed but unknown UUID is a 404 with a JSON detail."""
    unknown = "d5e9c84f-c2b2-4bf4-b4b0-7ffd7a9ffc32"
    async with client(sandbox) as http:
        for path in (
            f"/v1/transcriptions/batch/{unknown}/status",
            f"/v1/transcriptions/{unknown}/status",
            f"/v1/transcriptions/{unknown}",
            f"/v1/transcriptions/batch-files/{unknown}",
        ):
            response = await http.get(path)
            assert response.status_code == 404, path
            assert unknown in response.json()["detail"]


async def test_malformed_uuids_in_paths_answer_422(sandbox: SandboxServer) -> None:
    """A path id that is not a UUID is a schema error: 422, FastAPI-style detail list."""
    async with client(sandbox) as http:
        for path in (
            "/v1/transcriptions/batch/not-a-uuid/status",
            "/v1/transcriptions/batch/not-a-uuid/items/by-client-item-id?client_item_id=x",
            "/v1/transcriptions/not-a-uuid/status",
            "/v1/transcriptions/not-a-uuid",
            "/v1/transcriptions/batch-files/not-a-uuid",
        ):
            response = await http.get(path)
            assert response.status_code == 422, path
            assert response.json()["detail"][0]["type"] == "uuid_parsing"


async def test_unknown_routes_answer_json_404(sandbox: SandboxServer) -> None:
    """A path the API does not have answers 404 with a JSON body."""
    async with client(sandbox) as http:
        response = await http.get("/v1/nothing/here")
    assert response.status_code == 404
    assert "detail" in response.json()
