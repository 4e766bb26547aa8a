"""The README's shell blocks run as printed against a gateway like `make run`'s: `buf curl`
through reflection, the client commands, the sandbox alone with curl. The only change a test
makes is the address: each block's fixed port becomes the test's free one."""

from __future__ import annotations

import json
import re
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from gateway.config import GatewayConfig
from gateway.connect.server import faces_of
from gateway.server.process import Gateway
from tests.helpers import REPO
from tests.helpers.processes import run_program

BLOCKS = re.findall(r"```sh\n(.*?)```", (REPO / "README.md").read_text(), re.S)
GUARD = 90.0


def block(first_line: str) -> str:
    """The README's ```sh block whose first command starts with `first_line`."""
    found: list[str] = [b for b in BLOCKS if b.startswith(first_line)]
    assert len(found) == 1, first_line
    return found[0]


@pytest.fixture
async def embedded() -> AsyncIterator[Gateway]:
    """`make run`'s gateway: embedded sandbox, its own key, loopback, quick items."""
    config = GatewayConfig(
        listen="127.0.0.1:0", upstream_url=None, api_key=None, sandbox_item_seconds=0.3
    )
    async with Gateway(config) as running:
        yield running


async def run_block(script: str, cwd: Path, env: dict[str, str] | None = None) -> str:
    """Run `script` with bash in `cwd` (the repository's .venv and node_modules reachable);
    fail unless it exits 0; its stdout."""
    argv = ("bash", "-euo", "pipefail", "-c", script)
    status, out, err = await run_program(*argv, env=env, cwd=cwd, guard=GUARD)
    assert status == 0, err
    return out


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def test_buf_curl_creates_a_batch_through_reflection(embedded: Gateway) -> None:
    """The `buf curl` block (buf from node_modules, no proto files) creates a batch: its JSON
    answer has a batch id and the item's transcription."""
    script = block("node_modules/.bin/buf curl").replace("127.0.0.1:50051", embedded.address)
    answer = json.loads(await run_block(script, REPO))
    assert answer["batchId"]
    assert len(answer["transcriptionIds"]) == 1


async def test_curl_creates_a_batch_and_reads_it_by_post_and_get(tmp_path: Path) -> None:
    """The `curl` block against `make run`'s HTTP port (Connect): the create answers a batch
    id, and the read answers that batch by POST and by GET alike."""
    config = GatewayConfig(
        listen="127.0.0.1:0",
        upstream_url=None,
        api_key=None,
        sandbox_item_seconds=0.3,
        http_listen="127.0.0.1:0",
    )
    async with Gateway(config, faces_of(config)) as running:
        script = block("curl -sS -H 'content-type: application/json'").replace(
            "127.0.0.1:8080", f"127.0.0.1:{running.faces[0].port}"
        )
        out = await run_block(script, tmp_path)
    created, by_post, by_get = json_values(out)
    assert created["batchId"]
    assert by_post["batchStatus"]["batchId"] == created["batchId"]
    assert by_get["batchStatus"]["batchId"] == created["batchId"]


def json_values(text: str) -> list[Any]:
    """The JSON values printed one after another (curl ends none with a newline)."""
    decoder, values, at = json.JSONDecoder(), [], 0
    while at < len(text):
        value, at = decoder.raw_decode(text, at)
        values.append(value)
        while at < len(text) and text[at].isspace():
            at += 1
    return values


async def test_the_client_commands_submit_watch_and_fetch(
    embedded: Gateway, tmp_path: Path
) -> None:
    """The command-line block (after its `make run &`, which the test's gateway stands for)
    submits two URLs, watches them to COMPLETED and fetches their transcripts as txt and srt."""
    script = block("make run &").split("\n", 1)[1].replace(".venv/bin/", f"{REPO}/.venv/bin/")
    await run_block(script, tmp_path, {"SOFER_GATEWAY_TARGET": embedded.address})
    folder = tmp_path / "transcripts"
    assert (len(list(folder.glob("*.txt"))), len(list(folder.glob("*.srt")))) == (2, 2)


async def test_the_sandbox_alone_answers_curl() -> None:
    """The sandbox block starts `sofer-gateway sandbox` in the background and its curl creates
    an express batch (a JSON answer with a batch id); the sandbox is stopped afterwards."""
    script = block(".venv/bin/sofer-gateway sandbox").replace("8001", str(free_port()))
    # The block leaves the sandbox running, as a user's shell would: stop it with the script.
    out = await run_block(f"{script}\nkill %1\n", REPO)
    assert json.loads(out)["batch_id"]
