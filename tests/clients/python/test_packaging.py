"""sofer-gateway-client is a slim distribution: its wheel depends on grpcio, protobuf and
googleapis-common-protos only, and holds the generated stubs (from generated/sofer, through the
src/sofer link) and the typed helper package; the gateway's own wheel no longer ships the stubs
and depends on the client instead. `request_id_for` is stable across processes."""

from __future__ import annotations

import shutil
import sys
import uuid
import zipfile
from email.parser import HeaderParser
from pathlib import Path

import pytest
from sofer.batch.v1.batch_service_pb2_grpc import BatchTranscriptionServiceStub
from sofer_gateway_client import aio_channel, request_id_for
from sofer_gateway_client.ids import NAMESPACE

from gateway.server.process import Gateway
from tests.conftest import bearer
from tests.helpers import REPO
from tests.helpers.calls import batch_request
from tests.helpers.processes import run_program

GUARD = 120.0
STUBS = {
    f"sofer/batch/v1/{name}"
    for base in ("batch", "batch_service")
    for name in (f"{base}_pb2.py", f"{base}_pb2.pyi", f"{base}_pb2_grpc.py")
}


async def build_wheel(project: Path, out: Path) -> Path:
    """Build the wheel of `project` into the folder `out` (pip, with the venv's setuptools: no
    index needed); `out`."""
    code, _, err = await run_program(
        sys.executable,
        *("-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"),
        *("--wheel-dir", str(out), str(project)),
        guard=GUARD,
    )
    assert code == 0, err
    return out


def metadata(out: Path) -> tuple[list[str], set[str], int]:
    """The Requires-Dist lines, the names of the files and the size of the one wheel in `out`."""
    [wheel] = out.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        [meta] = [n for n in names if n.endswith(".dist-info/METADATA")]
        headers = HeaderParser().parsestr(archive.read(meta).decode())
    return headers.get_all("Requires-Dist") or [], names, wheel.stat().st_size


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of what the wheels are built from, laid out as in the repository (src/sofer stays
    the relative link to generated/sofer), so that no build leaves files in the work tree."""
    root = tmp_path / "repo"
    shutil.copytree(REPO / "clients" / "python", root / "clients" / "python", symlinks=True)
    shutil.copytree(REPO / "generated" / "sofer", root / "generated" / "sofer")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, root / name)
    shutil.copytree(REPO / "gateway", root / "gateway")
    return root


async def test_the_client_wheel_is_the_stubs_and_helpers_on_three_dependencies(
    tree: Path, tmp_path: Path
) -> None:
    """The client's wheel requires exactly grpcio, protobuf and googleapis-common-protos (the
    gateway's ranges), ships the six generated files of sofer/batch/v1 and the typed
    sofer_gateway_client (py.typed), and stays small."""
    wheel = await build_wheel(tree / "clients" / "python", tmp_path / "client")
    requires, names, size = metadata(wheel)
    assert sorted(requires) == [
        "googleapis-common-protos<2,>=1.63",
        "grpcio<2,>=1.85.1",
        "protobuf<8,>=7.35.1",
    ]
    assert names >= STUBS
    assert {
        "sofer_gateway_client/__init__.py",
        "sofer_gateway_client/py.typed",
        "sofer_gateway_client/errors.py",
        "sofer_gateway_client/watch.py",
    } <= names
    assert not any(n.startswith(("gateway/", "sofer_sandbox/")) for n in names)
    assert size < 64 * 1024


async def test_the_gateway_wheel_depends_on_the_client_instead_of_shipping_the_stubs(
    tree: Path, tmp_path: Path
) -> None:
    """The gateway's wheel holds no sofer/ package (one copy of the stubs, the client's) and
    requires sofer-gateway-client."""
    wheel = await build_wheel(tree, tmp_path / "gateway")
    requires, names, _ = metadata(wheel)
    assert "sofer-gateway-client==0.1.0" in requires
    assert not any(n.startswith("sofer/") for n in names)
    assert "gateway/cli/watch.py" in names


def test_request_id_for_is_a_stable_uuid5_of_the_caller_id() -> None:
    """The same caller id gives the same request id, in any process and release (uuid5 in a
    fixed namespace); another id, or another namespace, gives another."""
    call = request_id_for("call-4711")
    assert call == str(uuid.uuid5(NAMESPACE, "call-4711"))
    assert uuid.UUID(call).version == 5
    assert uuid.uuid5(uuid.NAMESPACE_URL, "https://sofer.ai/gateway/request-id") == NAMESPACE
    assert request_id_for("call-4712") != call
    assert request_id_for("call-4711", namespace=uuid.uuid4()) != call


async def test_one_caller_id_creates_one_batch(gateway: Gateway) -> None:
    """Creating twice with `request_id_for` of the same call id gives the same batch (the
    gateway answers the repeated request_id with the first outcome); another call id, another
    batch."""
    async with aio_channel(gateway.address) as ch:
        client = BatchTranscriptionServiceStub(ch)
        ids = [request_id_for(c) for c in ("call-1", "call-1", "call-2")]
        created = [
            await client.CreateBatch(batch_request(i), metadata=bearer(), timeout=10) for i in ids
        ]
    assert created[0].batch_id == created[1].batch_id != created[2].batch_id
