"""TLS and mutual TLS on the gRPC port, with certificates the tests make (tests/helpers/pki.py): a
trusting client is served, a plaintext or distrusting one is not; with --tls-client-ca only a
client certificate from that CA gets in; and flags that cannot work stop the start with exit 2."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from sofer.batch.v1 import batch_service_pb2, batch_service_pb2_grpc
from sofer_sandbox import SandboxServer

from gateway.config import ConfigError, GatewayConfig
from gateway.server.process import Gateway
from gateway.server.tls import load_tls
from tests.conftest import bearer
from tests.helpers.calls import create_express, rpc_error, source, upstream_total
from tests.helpers.pki import Pki, credentials
from tests.helpers.processes import run_serve

Stub = batch_service_pb2_grpc.BatchTranscriptionServiceStub
pb = batch_service_pb2


@pytest.fixture
def gateway_config(
    gateway_config: GatewayConfig, pki: Pki, request: pytest.FixtureRequest
) -> GatewayConfig:
    """The shared settings with TLS on; the indirect parameter "mtls" adds --tls-client-ca."""
    mode = getattr(request, "param", "tls")
    return dataclasses.replace(
        gateway_config,
        tls_cert=str(pki.server.cert_file),
        tls_key=str(pki.server.key_file),
        tls_client_ca=str(pki.ca.cert_file) if mode == "mtls" else "",
    )


mutual = pytest.mark.parametrize("gateway_config", ["mtls"], indirect=True, ids=["mtls"])


@pytest.fixture
async def tls_stub(gateway: Gateway, pki: Pki) -> AsyncIterator[Stub]:
    """A stub on a TLS channel that trusts the test CA (and, for mTLS, shows the good client
    certificate)."""
    client = pki.client if gateway.config.tls_client_ca else None
    async with grpc.aio.secure_channel(gateway.address, credentials(pki, client)) as channel:
        yield Stub(channel)


async def test_tls_serves_a_client_that_trusts_the_ca(tls_stub: Stub) -> None:
    """With --tls-cert and --tls-key, a client that trusts the CA creates a batch and reads it
    back over TLS."""
    created = await create_express(tls_stub, source(1))
    status = await tls_stub.GetBatchStatus(
        pb.GetBatchStatusRequest(batch_id=created.batch_id), metadata=bearer(), timeout=10
    )
    assert status.batch_status.total_count == 1


async def test_the_certificate_names_localhost_too(gateway: Gateway, pki: Pki) -> None:
    """The server certificate's DNS name (localhost) verifies as well as its IP address, and
    the health service answers over TLS."""
    async with grpc.aio.secure_channel(
        gateway.address,
        credentials(pki),
        options=[("grpc.ssl_target_name_override", "localhost")],
    ) as channel:
        answer = await health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(), timeout=10
        )
    assert answer.status == health_pb2.HealthCheckResponse.SERVING


async def test_plaintext_client_is_refused(gateway: Gateway, sandbox: SandboxServer) -> None:
    """A plaintext client cannot talk to a TLS port: UNAVAILABLE, and nothing goes upstream."""
    async with grpc.aio.insecure_channel(gateway.address) as channel:
        error = await rpc_error(create_express(Stub(channel), source(1)))
    assert error.code() == grpc.StatusCode.UNAVAILABLE
    assert await upstream_total(sandbox) == 0


async def test_client_that_does_not_trust_the_server_fails(
    gateway: Gateway, pki: Pki, sandbox: SandboxServer
) -> None:
    """A client trusting only another CA refuses the server's certificate: UNAVAILABLE."""
    async with grpc.aio.secure_channel(
        gateway.address, credentials(pki, trust=pki.other_ca)
    ) as channel:
        error = await rpc_error(create_express(Stub(channel), source(1)))
    assert error.code() == grpc.StatusCode.UNAVAILABLE
    assert await upstream_total(sandbox) == 0


@mutual
async def test_mtls_accepts_a_client_certificate_from_the_ca(tls_stub: Stub) -> None:
    """With --tls-client-ca, a client presenting a certificate that CA signed is served."""
    created = await create_express(tls_stub, source(1))
    assert created.batch_id


@mutual
@pytest.mark.parametrize("who", ["no certificate", "another CA's certificate"])
async def test_mtls_refuses_other_clients(
    gateway: Gateway, pki: Pki, sandbox: SandboxServer, who: str
) -> None:
    """With --tls-client-ca, a client with no certificate, or with one another CA signed, fails
    the handshake (UNAVAILABLE) even with a bearer token, and nothing goes upstream."""
    client = None if who == "no certificate" else pki.stranger
    async with grpc.aio.secure_channel(gateway.address, credentials(pki, client)) as channel:
        error = await rpc_error(create_express(Stub(channel), source(1)))
    assert error.code() == grpc.StatusCode.UNAVAILABLE
    assert await upstream_total(sandbox) == 0


# -- refused settings ---------------------------------------------------------------------------


def _tls_flags(pki: Pki, tmp_path: Path, case: str) -> dict[str, Any]:
    """The TLS settings of one refused case."""
    cert, key, ca = str(pki.server.cert_file), str(pki.server.key_file), str(pki.ca.cert_file)
    missing = str(tmp_path / "missing.pem")
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate\n")
    encrypted = tmp_path / "encrypted.key"
    encrypted.write_text("-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n")
    return {
        "cert without key": {"tls_cert": cert},
        "key without cert": {"tls_key": key},
        "client CA without cert": {"tls_client_ca": ca},
        "unreadable cert": {"tls_cert": missing, "tls_key": key},
        "unreadable key": {"tls_cert": cert, "tls_key": missing},
        "unreadable client CA": {"tls_cert": cert, "tls_key": key, "tls_client_ca": missing},
        "cert not PEM": {"tls_cert": str(garbage), "tls_key": key},
        "CA not PEM": {"tls_cert": cert, "tls_key": key, "tls_client_ca": str(garbage)},
        "key of another cert": {"tls_cert": cert, "tls_key": str(pki.client.key_file)},
        "encrypted key": {"tls_cert": cert, "tls_key": str(encrypted)},
    }[case]


REFUSED = {
    "cert without key": "--tls-key",
    "key without cert": "--tls-cert",
    "client CA without cert": "--tls-client-ca",
    "unreadable cert": "--tls-cert",
    "unreadable key": "--tls-key",
    "unreadable client CA": "--tls-client-ca",
    "cert not PEM": "--tls-cert",
    "CA not PEM": "--tls-client-ca",
    "key of another cert": "--tls-key",
    "encrypted key": "--tls-key",
}


@pytest.mark.parametrize(("case", "flag"), REFUSED.items(), ids=list(REFUSED))
def test_tls_settings_that_cannot_work_are_refused(
    pki: Pki, tmp_path: Path, case: str, flag: str
) -> None:
    """Each TLS setting that cannot work is a ConfigError whose one-line message names the
    flag at fault, and never shows the private key."""
    config = GatewayConfig(**_tls_flags(pki, tmp_path, case))
    with pytest.raises(ConfigError) as raised:
        load_tls(config)
    message = str(raised.value)
    assert flag in message
    assert "\n" not in message
    assert "PRIVATE KEY-----" not in message


async def test_gateway_start_with_bad_tls_starts_nothing(pki: Pki, tmp_path: Path) -> None:
    """Gateway.start raises the ConfigError before anything (the embedded sandbox included)
    is started."""
    gateway = Gateway(GatewayConfig(listen="127.0.0.1:0", tls_cert=str(pki.server.cert_file)))
    with pytest.raises(ConfigError):
        await gateway.start()
    assert gateway.sandbox is None
    assert gateway.server is None


@pytest.mark.parametrize(
    ("case", "flag"),
    [
        ("cert without key", "--tls-key"),
        ("client CA without cert", "--tls-client-ca"),
        ("unreadable key", "--tls-key"),
    ],
)
async def test_serve_exits_2_on_tls_flags_that_cannot_work(
    pki: Pki, tmp_path: Path, case: str, flag: str
) -> None:
    """`serve` with TLS flags that cannot work exits 2 with one line on stderr naming the flag,
    not a traceback."""
    argv: list[str] = []
    for name, value in _tls_flags(pki, tmp_path, case).items():
        argv += ["--" + name.replace("_", "-"), value]
    status, out, err = await run_serve(*argv)
    assert status == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("sofer-gateway serve: error: ")
    assert flag in lines[0]
    assert "Traceback" not in out + err
