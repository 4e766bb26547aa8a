"""The contract floor: the least a server keeping the gateway's contract can do per call.

GetBatchStatus with only the steps the gateway's contract makes every call pay, each done by
the gateway's own fastest part, and nothing else:

- the request message read by the handler itself under a bound (`--request-message-timeout`:
  a request-streaming handler, `context.read()` within `asyncio.timeout`);
- one upstream GET through the gateway's own HTTP client (`gateway.upstream.transport`: the
  same httpx client over the same transport, the request built by `build_request`, sent with
  `send(..., stream=True)`, the answer read within the gateway's bound by
  `gateway.upstream.reply`), decoded into its msgspec structs and mapped into the proto by
  `gateway.contract.mapping`, `observed_at` set;
- the request id sent in the initial metadata (`x-request-id`, its own batch).

No validation, credential resolution, deadline, concurrency limit, quota, retry policy, rate
budget, error mapping, log line or metrics: what the gateway costs above this figure is all of
those. `python -m bench.floor_server --upstream-url URL --api-key KEY` prints
`{"event": "bench server listening", "address": ...}` and serves until SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import uuid
from collections.abc import AsyncIterable, Sequence
from typing import Any

import grpc
import httpx
from sofer.batch.v1 import batch_service_pb2 as pb

from bench.naive_hop import run_hop, serve
from gateway.contract import mapping
from gateway.upstream.config import UpstreamConfig
from gateway.upstream.models import BatchStatusResponse
from gateway.upstream.reply import read_reply
from gateway.upstream.transport import new_http_client, new_transport

LIMITS = httpx.Timeout(10.0)
MESSAGE_TIMEOUT = 10.0
MAX_RESPONSE_BYTES = UpstreamConfig.max_response_bytes


async def main_async(args: argparse.Namespace) -> int:
    """The floor, with one HTTP client made inside the loop."""
    http = new_http_client(
        args.upstream_url, user_agent="floor", timeout=10.0, transport=new_transport(64)
    )
    headers = {"Authorization": f"Bearer {args.api_key}"}

    async def get_batch_status(
        requests: AsyncIterable[pb.GetBatchStatusRequest],
        context: grpc.aio.ServicerContext[Any, Any],
    ) -> pb.GetBatchStatusResponse:
        async with asyncio.timeout(MESSAGE_TIMEOUT):
            request = await context.read()
        request_id = str(uuid.uuid4())
        outgoing = http.build_request(
            "GET",
            f"/v1/transcriptions/batch/{request.batch_id}/status",
            headers={**headers, "X-Request-Id": request_id},
            timeout=LIMITS,
        )
        response = await http.send(outgoing, stream=True)
        try:
            reply = await read_reply(response, MAX_RESPONSE_BYTES)
        finally:
            await response.aclose()
        answer = BatchStatusResponse.from_json(reply.content)
        message = pb.GetBatchStatusResponse()
        mapping.fill_batch_status(message.batch_status, answer)
        mapping.set_now(message.batch_status.observed_at)
        await context.send_initial_metadata((("x-request-id", request_id),))
        return message

    return await serve(args.listen, get_batch_status, http.aclose, request_streaming=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `python -m bench.floor_server`."""
    return run_hop("floor_server", __doc__, main_async, argv)


if __name__ == "__main__":
    sys.exit(main())
