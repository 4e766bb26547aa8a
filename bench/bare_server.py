"""The bare server: grpc.aio answering GetBatchStatus with one prebuilt response.

The floor of any Python gRPC server's cost per call on this machine: no upstream, no parsing,
no building; the same bytes the naive hop would send. `python -m bench.bare_server` prints
`{"event": "bench server listening", "address": ...}` and serves until SIGTERM.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

import grpc
from sofer.batch.v1 import batch_service_pb2 as pb

from bench import canned
from bench.naive_hop import batch_status, run_server, serve


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `python -m bench.bare_server`."""
    parser = argparse.ArgumentParser(prog="python -m bench.bare_server", description=__doc__)
    parser.add_argument("--listen", default="127.0.0.1:0")
    args = parser.parse_args(argv)
    status = batch_status(json.loads(canned.status_bytes()))
    status.observed_at.GetCurrentTime()
    prebuilt = pb.GetBatchStatusResponse(batch_status=status)

    async def get_batch_status(
        request: pb.GetBatchStatusRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.GetBatchStatusResponse:
        return prebuilt

    return run_server(serve(args.listen, get_batch_status))


if __name__ == "__main__":
    sys.exit(main())
