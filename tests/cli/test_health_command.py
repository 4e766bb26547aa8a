"""`sofer-gateway health`: one grpc.health.v1 Check against a real gateway, its one line, and
its exit status (0 SERVING, 1 answered but not serving, 2 unreachable or timed out), in
plaintext, over TLS and over mutual TLS.

Most tests parse a real command line and run it in the test's event loop (`run_async`), since
the gateway they check runs in that loop too; one runs the console entry point as a process.
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
import os
import socket
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from gateway.cli import health
from gateway.cli.commands import TARGET_ENV
from gateway.config import GatewayConfig
from gateway.main import build_parser
from gateway.server.process import SERVICE_NAME, Gateway
from tests.helpers.pki import Pki, make_pki

GUARD = 60.0  # a hang guard, never a speed assertion


@dataclass
class Result:
    """What the command did: its exit status and the lines it wrote."""

    code: int
    out: str
    err: str


async def run_health(*argv: str) -> Result:
    """Parse `sofer-gateway health ARGV` and run it in this event loop."""
    args = build_parser().parse_args(["health", *argv])
    out, err = io.StringIO(), io.StringIO()
    code = await asyncio.wait_for(health.run_async(args, out, err), GUARD)
    return Result(int(code), out.getvalue(), err.getvalue())


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    """A fresh CA, server and client certificates for this test, in tmp_path."""
    return make_pki(tmp_path)


@pytest.fixture
def gateway_config(
    gateway_config: GatewayConfig, pki: Pki, request: pytest.FixtureRequest
) -> GatewayConfig:
    """Plaintext by default; the indirect parameter "tls" or "mtls" turns TLS (and client
    certificates) on, as tests/server/test_security_tls.py does."""
    mode = getattr(request, "param", "plain")
    if mode == "plain":
        return gateway_config
    return dataclasses.replace(
        gateway_config,
        tls_cert=str(pki.server.cert_file),
        tls_key=str(pki.server.key_file),
        tls_client_ca=str(pki.ca.cert_file) if mode == "mtls" else "",
    )


tls = pytest.mark.parametrize("gateway_config", ["tls"], indirect=True, ids=["tls"])
mtls = pytest.mark.parametrize("gateway_config", ["mtls"], indirect=True, ids=["mtls"])


@pytest.fixture
def closed_port() -> str:
    """host:port where nothing listens (a port the kernel gave out and took back)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"127.0.0.1:{port}"


@pytest.fixture
def silent_port() -> Iterator[str]:
    """host:port that accepts connections (the kernel's backlog) but never speaks gRPC."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        yield f"127.0.0.1:{server.getsockname()[1]}"


async def test_a_serving_gateway_exits_0(gateway: Gateway) -> None:
    """Against a running gateway the command prints one line saying SERVING, and exits 0."""
    result = await run_health("--target", gateway.address)
    assert result.code == 0
    assert result.out == f"{gateway.address} overall health: SERVING\n"
    assert result.err == ""


async def test_the_batch_service_is_serving(gateway: Gateway) -> None:
    """--service names the batch service: SERVING, exit 0."""
    result = await run_health("--target", gateway.address, "--service", SERVICE_NAME)
    assert result.code == 0
    assert result.out == f"{gateway.address} service {SERVICE_NAME}: SERVING\n"


async def test_the_target_comes_from_the_environment(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without --target the command checks $SOFER_GATEWAY_TARGET, as the other clients do."""
    monkeypatch.setenv(TARGET_ENV, gateway.address)
    result = await run_health()
    assert result.code == 0
    assert result.out.startswith(f"{gateway.address} ")


async def test_an_unknown_service_exits_1(gateway: Gateway) -> None:
    """A service the gateway does not have: the line says SERVICE_UNKNOWN, exit 1."""
    result = await run_health("--target", gateway.address, "--service", "no.such.Service")
    assert result.code == 1
    assert result.out.startswith(f"{gateway.address} service no.such.Service: SERVICE_UNKNOWN")


async def test_a_draining_gateway_exits_1(gateway: Gateway) -> None:
    """Once the gateway's shutdown has begun (health NOT_SERVING while it drains), the check
    says NOT_SERVING and exits 1, for the overall health and the batch service alike."""
    assert gateway.health is not None
    await gateway.health.enter_graceful_shutdown()
    for service in ("", SERVICE_NAME):
        result = await run_health("--target", gateway.address, "--service", service)
        assert result.code == 1
        assert result.out.endswith(": NOT_SERVING\n")


async def test_nothing_listening_exits_2(closed_port: str) -> None:
    """Nothing listens on the target: the line says UNREACHABLE, exit 2."""
    result = await run_health("--target", closed_port, "--timeout", "10")
    assert result.code == 2
    assert result.out.startswith(f"{closed_port} overall health: UNREACHABLE (")


async def test_no_answer_in_time_exits_2(silent_port: str) -> None:
    """A port that accepts the connection but never answers: after --timeout seconds the line
    says UNREACHABLE (no answer within the timeout), exit 2."""
    result = await run_health("--target", silent_port, "--timeout", "0.5")
    assert result.code == 2
    assert result.out == f"{silent_port} overall health: UNREACHABLE (no answer within 0.5 s)\n"


@tls
async def test_tls_with_the_ca_exits_0(gateway: Gateway, pki: Pki) -> None:
    """Against a TLS gateway, --tls-ca with the CA that signed its certificate: exit 0."""
    result = await run_health("--target", gateway.address, "--tls-ca", str(pki.ca.cert_file))
    assert result.code == 0, result.out
    assert result.out.endswith(": SERVING\n")


@tls
async def test_tls_server_name_checks_another_name(gateway: Gateway, pki: Pki) -> None:
    """--tls-server-name verifies the certificate for that name (localhost) rather than the
    target's host: exit 0."""
    result = await run_health(
        "--target",
        gateway.address,
        "--tls-ca",
        str(pki.ca.cert_file),
        "--tls-server-name",
        "localhost",
    )
    assert result.code == 0, result.out


@tls
async def test_tls_without_the_ca_exits_2(gateway: Gateway, pki: Pki) -> None:
    """A plaintext check of a TLS port, or one trusting another CA, gets no answer: exit 2."""
    plaintext = await run_health("--target", gateway.address, "--timeout", "10")
    assert plaintext.code == 2
    distrusting = await run_health(
        "--target", gateway.address, "--tls-ca", str(pki.other_ca.cert_file), "--timeout", "10"
    )
    assert distrusting.code == 2
    assert "UNREACHABLE" in distrusting.out


@mtls
async def test_mtls_with_a_client_certificate_exits_0(gateway: Gateway, pki: Pki) -> None:
    """Against a gateway that requires client certificates, --tls-cert and --tls-key from its
    CA get in: exit 0; without them the handshake fails: exit 2."""
    ca = str(pki.ca.cert_file)
    result = await run_health(
        "--target",
        gateway.address,
        "--tls-ca",
        ca,
        "--tls-cert",
        str(pki.client.cert_file),
        "--tls-key",
        str(pki.client.key_file),
    )
    assert result.code == 0, result.out
    without = await run_health("--target", gateway.address, "--tls-ca", ca, "--timeout", "10")
    assert without.code == 2


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--tls-cert", "c.pem", "--tls-ca", "ca.pem"], "--tls-cert needs --tls-key"),
        (["--tls-key", "k.pem"], "--tls-key needs --tls-cert"),
        (["--tls-server-name", "gw"], "--tls-server-name needs --tls-ca"),
        (["--tls-ca", "/no/such/ca.pem"], "--tls-ca /no/such/ca.pem: cannot read it"),
    ],
)
async def test_tls_flags_that_cannot_work_exit_2(flags: list[str], message: str) -> None:
    """TLS flags that cannot work print the usage and one line naming the flag, exit 2, and
    send nothing."""
    result = await run_health("--target", "127.0.0.1:1", *flags)
    assert result.code == 2
    assert result.out == ""
    assert f"sofer-gateway health: error: {message}" in result.err


@pytest.mark.parametrize("value", ["0", "-1", "soon"])
def test_a_bad_timeout_is_a_usage_error(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    """--timeout must be a number of seconds above 0; anything else is refused by the parser
    with a message naming the flag."""
    with pytest.raises(SystemExit) as caught:
        build_parser().parse_args(["health", "--timeout", value])
    assert caught.value.code == 2
    assert "--timeout" in capsys.readouterr().err


async def test_the_console_script_exits_with_the_status(gateway: Gateway) -> None:
    """Run as a process (what a Docker HEALTHCHECK or an exec probe does), the command's exit
    status is the check's: 0 and one line on stdout against a serving gateway."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SOFER_")}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "gateway.main",
        "health",
        "--target",
        gateway.address,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=environment,
    )
    out, _ = await asyncio.wait_for(process.communicate(), GUARD)
    assert process.returncode == 0
    assert out.decode() == f"{gateway.address} overall health: SERVING\n"
