"""Polyglot interop: the Java client in tests/interop/java/ (grpc-java, the generated code of
generated/java/) against a real gateway and sandbox."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.server.process import Gateway
from tests.conftest import TOKEN
from tests.helpers import REPO
from tests.helpers.java import JavaBuilder, compile_client, run_java

CLIENT = REPO / "tests" / "interop" / "java" / "Client.java"

# javac of the generated code (once per worker) and a JVM's start outlast the default 120 s on a
# loaded 2-core machine.
# One worker compiles the generated Java code once for these tests (make test: --dist loadgroup).
pytestmark = [pytest.mark.timeout(300), pytest.mark.xdist_group("java")]


async def test_java_client_drives_the_contract_end_to_end(
    gateway: Gateway, java_builder: JavaBuilder, tmp_path: Path
) -> None:
    """A Java (grpc-java, Netty) client built from generated/java/, on a channel with the
    README's retry service config and the bearer token as call credentials, can create an
    express batch with a request_id (the same request again gets the same batch_id), read its
    status, watch it to COMPLETED (the current status first, completed_count never down, OK at
    the end), and read an invalid request's ErrorInfo (REQUEST_INVALID, sofer-gateway) and
    BadRequest field violations with StatusProto: it exits 0, and never prints the token.
    """
    classpath = await compile_client(await java_builder.build(), CLIENT, tmp_path)

    env = {"SOFER_GATEWAY_TOKEN": TOKEN}
    code, out, err = await run_java(classpath, "Client", gateway.address, env=env)

    assert code == 0, f"java client exited {code}:\n{out}{err}"
    assert out.splitlines()[-1].startswith("PASS java interop"), out
    for name in (
        "CreateBatch",
        "CreateBatch(same request_id)",
        "GetBatchStatus",
        "WatchBatchStatus",
        "CreateBatch(invalid)",
        "BadRequest",
    ):
        assert f"\nok   {name}: " in f"\n{out}", out
    assert "bearer token from SOFER_GATEWAY_TOKEN" in out
    assert TOKEN not in out + err
