"""A production install: `pip install sofer-gateway` without the `sandbox` extra.

The sandbox upstream (and with it starlette and uvicorn) is an extra. Without it, `serve` with
SOFER_API_KEY/SOFER_API_URL works as ever, and whatever would need the sandbox (`serve` with
neither, `sofer-gateway sandbox`) stops with exit 2 and says what to install, never a traceback.
The processes here run the gateway with those modules made unimportable (WITHOUT_SANDBOX).
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import os
import signal
import subprocess

import grpc
from packaging.requirements import Requirement
from sofer.batch.v1 import batch_pb2
from sofer.batch.v1 import batch_service_pb2 as pb
from sofer.batch.v1 import batch_service_pb2_grpc as pb_grpc
from sofer_sandbox import SandboxServer

from tests.helpers.processes import gateway_argv, run_serve, start_serving

INSTALL_HINT = "pip install 'sofer-gateway[sandbox]'"
SANDBOX_ONLY = {"sofer-gateway-sandbox", "starlette", "uvicorn"}


async def test_serve_without_credentials_says_to_install_the_sandbox() -> None:
    """`serve` with no SOFER_API_KEY and no SOFER_API_URL, where the sandbox extra is not
    installed, exits 2 with one line naming the extra to install (and the real-API variables),
    not a traceback."""
    status, out, err = await run_serve(without_sandbox=True)
    assert status == 2, out + err
    assert INSTALL_HINT in err
    assert "SOFER_API_KEY" in err
    assert "Traceback" not in err


def test_the_sandbox_command_says_to_install_the_sandbox() -> None:
    """`sofer-gateway sandbox` where the sandbox extra is not installed exits 2 naming the
    extra to install, whatever flags it was given."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SOFER_")}
    result = subprocess.run(  # noqa: S603 (this interpreter running the gateway, no shell)
        gateway_argv("sandbox", "--listen", "127.0.0.1:0", without_sandbox=True),
        capture_output=True,
        text=True,
        timeout=30,
        env=environment,
        check=False,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert INSTALL_HINT in result.stderr
    assert "Traceback" not in result.stderr


async def test_serve_with_credentials_needs_no_sandbox(sandbox: SandboxServer) -> None:
    """With SOFER_API_KEY and SOFER_API_URL, a gateway that cannot import the sandbox, starlette
    or uvicorn starts, creates a batch upstream and reads it back: the production install has
    everything it needs."""
    process, serving = await start_serving(
        env={"SOFER_API_KEY": "production-key", "SOFER_API_URL": sandbox.url},
        without_sandbox=True,
    )
    try:
        async with grpc.aio.insecure_channel(str(serving["address"])) as channel:
            stub = pb_grpc.BatchTranscriptionServiceStub(channel)
            created = await stub.CreateBatch(
                pb.CreateBatchRequest(
                    info=batch_pb2.BatchInfo(),
                    audio_sources=[batch_pb2.AudioSource(audio_url="https://e.com/a.mp3")],
                ),
                timeout=10,
            )
            status = await stub.GetBatchStatus(
                pb.GetBatchStatusRequest(batch_id=created.batch_id), timeout=10
            )
            assert status.batch_status.total_count == 1
    finally:
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 30) == 0


def test_the_distribution_needs_the_sandbox_only_behind_its_extra() -> None:
    """The installed gateway's metadata (what `pip install sofer-gateway` resolves) names the
    sandbox only under the `sandbox` extra, and starlette and uvicorn not at all: a production
    install brings neither."""
    requirements = [Requirement(r) for r in importlib.metadata.requires("sofer-gateway") or []]
    assert requirements, "sofer-gateway's metadata lists no requirement at all"
    by_name = {r.name.lower(): r for r in requirements}
    assert not {"starlette", "uvicorn"} & by_name.keys()
    sandbox = by_name["sofer-gateway-sandbox"]
    assert sandbox.marker is not None
    assert sandbox.marker.evaluate({"extra": "sandbox"})
    assert not sandbox.marker.evaluate({"extra": ""})
    unconditional = {
        r.name.lower() for r in requirements if r.marker is None or r.marker.evaluate({"extra": ""})
    }
    assert not SANDBOX_ONLY & unconditional
