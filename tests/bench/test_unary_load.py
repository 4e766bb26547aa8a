"""The unary load of the benchmark: nginx's canned answers (bench/nginx.py) and the distinct-read
client (bench/unary_client.py), against real processes on loopback."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from bench import canned, unary_client
from bench.nginx import OWN_TAG, nginx_binary, nginx_upstream
from bench.servers import bare, floor

STATUS = "/v1/transcriptions/batch/{}/status"


@pytest.mark.skipif(nginx_binary() is None, reason="nginx missing: run bench/install-tools.sh")
async def test_only_own_tagged_ids_get_answers_of_their_own(tmp_path: Path) -> None:
    """nginx answers a batch id tagged OWN_TAG with the canned status naming that id (bytes no
    other id gets), and any other id with the same canned bytes: the distinct reads' answers are
    alike, the distinct answers' differ."""
    own = [unary_client.batch_id(OWN_TAG, unary_client.COUNTED, i) for i in range(2)]
    alike = [unary_client.batch_id("0000beef", unary_client.COUNTED, i) for i in range(2)]
    async with (
        nginx_upstream(tmp_path) as upstream,
        httpx.AsyncClient(base_url=upstream.url) as http,
    ):
        answers = {i: (await http.get(STATUS.format(i))).content for i in own + alike}
    for batch_id in own:
        assert answers[batch_id] == canned.status_bytes(batch_id)
    for batch_id in alike:
        assert answers[batch_id] == canned.status_bytes()


async def test_the_client_makes_every_call_and_checks_every_answer(tmp_path: Path) -> None:
    """The client makes the calls asked for, a batch id of its own each, and reports them; a
    server that answers with an error fails the run (never counted as calls)."""
    async with bare(tmp_path) as server:
        figures = await unary_client.run(server.address, 30, 4, "0000beef")
    assert figures["calls"] == 30
    assert figures["calls_per_second"] > 0
    async with floor(tmp_path, "http://127.0.0.1:9", "key") as failing:  # nothing listens there
        with pytest.raises(RuntimeError, match="unary_client"):
            await unary_client.run(failing.address, 5, 1, "0000beef")
