"""`sofer-gateway serve --http-listen` as a process: the HTTP port answers beside the gRPC one,
SIGTERM ends its open watches SHUTTING_DOWN and the process exits 0, and an address or origin
that cannot work stops the start with exit 2 naming the flag."""

from __future__ import annotations

import asyncio
import signal
import socket

import grpc
import httpx
import pytest
from sofer.batch.v1 import batch_service_pb2 as pb

from tests.helpers.calls import assert_error, batch_request, rpc_error
from tests.helpers.connect import ConnectStub
from tests.helpers.processes import run_serve, start_serving


async def test_serve_answers_over_http_and_sigterm_ends_its_watches() -> None:
    """With --http-listen the process serves Connect (a create, then a watch); on SIGTERM the
    open watch ends UNAVAILABLE SHUTTING_DOWN (the client reconnects elsewhere) and the
    process exits 0."""
    process, event = await start_serving(
        "--http-listen", "127.0.0.1:0", "--sandbox-item-seconds", "600", "--shutdown-grace", "1"
    )
    try:
        url = f"http://127.0.0.1:{event['http_port']}"
        async with httpx.AsyncClient(timeout=30.0) as client:
            stub = ConnectStub(url, client=client)
            created = await stub.CreateBatch(batch_request(""))
            watch = stub.WatchBatchStatus(pb.WatchBatchStatusRequest(batch_id=created.batch_id))
            assert (await watch.read()).batch_status.batch_id == created.batch_id
            process.send_signal(signal.SIGTERM)

            async def rest() -> None:
                async for _ in watch:
                    pass

            error = await rpc_error(rest())
            assert_error(error, grpc.StatusCode.UNAVAILABLE, "SHUTTING_DOWN")
    finally:
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 30) == 0


@pytest.mark.parametrize(
    ("flags", "said"),
    [
        (("--http-listen", "nowhere"), "--http-listen nowhere: expected HOST:PORT"),
        (
            ("--http-listen", "127.0.0.1:0", "--http-cors-origin", "*"),
            "--http-cors-origin *: expected an origin",
        ),
    ],
)
async def test_a_setting_that_cannot_work_exits_2_naming_the_flag(
    flags: tuple[str, ...], said: str
) -> None:
    """A malformed --http-listen or --http-cors-origin: exit 2, one line naming the flag, no
    traceback."""
    status, out, err = await run_serve(*flags)
    assert status == 2
    assert said in err
    assert "Traceback" not in out + err


async def test_a_taken_http_port_exits_2() -> None:
    """An HTTP port another program holds: exit 2, "address already in use"."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        address = f"127.0.0.1:{taken.getsockname()[1]}"
        status, out, err = await run_serve("--http-listen", address)
    assert status == 2
    assert f"--http-listen {address}: cannot listen there (address already in use)" in err
    assert "Traceback" not in out + err
