"""The README's webhooks block runs as printed (the test's gateway stands for its first line,
`serve` with the two loopback flags; only the ports change): the listener verifies and prints
both items' `transcription.completed` events."""

from __future__ import annotations

import json
from pathlib import Path

from gateway.config import GatewayConfig
from gateway.server.process import Gateway
from tests.docs.test_readme_blocks import block, free_port, run_block
from tests.helpers import REPO

FIRST = ".venv/bin/sofer-gateway serve --webhook-allow-http --webhook-allow-private-addresses &"


async def test_the_webhooks_block_receives_each_items_completion(tmp_path: Path) -> None:
    """CreateWebhook by `buf curl`, `webhooks listen` with its secret, `submit` of two URLs:
    events.jsonl gets one verified line per item, type transcription.completed."""
    config = GatewayConfig(
        listen="127.0.0.1:0",
        upstream_url=None,
        api_key=None,
        sandbox_item_seconds=0.3,
        watch_fast_interval=0.1,
        webhook_allow_http=True,
        webhook_allow_private_addresses=True,
    )
    script = block(FIRST)
    assert script.startswith(FIRST + "\n")
    port = str(free_port())
    async with Gateway(config) as gateway:
        body = script.split("\n", 1)[1].replace("127.0.0.1:50051", gateway.address)
        body = body.replace("8090", port).replace(".venv/bin/", f"{REPO}/.venv/bin/")
        body = body.replace("node_modules/.bin/", f"{REPO}/node_modules/.bin/")
        await run_block(body, tmp_path, {"SOFER_GATEWAY_TARGET": gateway.address})
    lines = [json.loads(x) for x in (tmp_path / "events.jsonl").read_text().splitlines()]
    assert [x["type"] for x in lines] == ["transcription.completed"] * 2
    assert all(x["webhook_id"].startswith("msg_") for x in lines)
    assert len({x["data"]["transcriptionId"] for x in lines}) == 2
