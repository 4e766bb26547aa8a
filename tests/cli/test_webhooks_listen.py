"""`sofer-gateway webhooks listen`: verifies each delivery and prints each event once."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime

import aiohttp
from standardwebhooks import Webhook

from gateway.webhooks import signing
from tests.helpers.processes import clean_environment, gateway_argv


def signed(secret: str, message_id: str, body: bytes) -> dict[str, str]:
    """Headers made by the standardwebhooks package (an independent signer)."""
    now = datetime.now(UTC)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, now, body),
        "content-type": "application/json",
    }


async def test_listen_prints_genuine_events_once_and_refuses_forged_ones() -> None:
    """Two genuine deliveries (one sent twice) are printed as two JSON lines with their
    webhook-id; a delivery signed with another secret is answered 400 and not printed; with
    --count 2 the listener then exits 0."""
    secret = signing.new_secret()
    process = await asyncio.create_subprocess_exec(
        *gateway_argv("webhooks", "listen", "--port", "0", "--secret", secret, "--count", "2"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=clean_environment(),
    )
    try:
        assert process.stderr is not None
        async with asyncio.timeout(20):
            line = (await process.stderr.readline()).decode()
        found = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        assert found, line
        url = found.group(0) + "hook"
        first = b'{"type":"batch.updated","timestamp":"2026-01-01T00:00:00Z","data":{"n":1}}'
        second = b'{"type":"batch.updated","timestamp":"2026-01-01T00:00:01Z","data":{"n":2}}'
        async with aiohttp.ClientSession() as session:
            statuses = []
            for headers, body in [
                (signed(signing.new_secret(), "msg_forged", first), first),
                (signed(secret, "msg_1", first), first),
                (signed(secret, "msg_1", first), first),
                (signed(secret, "msg_2", second), second),
            ]:
                async with session.post(url, data=body, headers=headers) as response:
                    statuses.append(response.status)
        async with asyncio.timeout(20):
            out, _ = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert statuses == [400, 204, 204, 204]
    assert process.returncode == 0
    lines = [json.loads(x) for x in out.decode().splitlines()]
    assert [(x["webhook_id"], x["data"]["n"]) for x in lines] == [("msg_1", 1), ("msg_2", 2)]
