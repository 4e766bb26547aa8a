"""The client commands over TLS: `--tls-ca` reaches a TLS gateway, `--tls-cert`/`--tls-key` add a
client certificate for mutual TLS, and flags that cannot work are usage errors naming the flag
(exit 2) before anything is sent. Certificates come from tests/helpers/pki.py, as in
tests/server/test_security_tls.py."""

from __future__ import annotations

import dataclasses
import uuid
from pathlib import Path

import grpc
import pytest

from gateway.cli.channel import channel_credentials, open_channel
from gateway.cli.errors import ExitCode, UsageError
from gateway.config import GatewayConfig
from gateway.server.process import Gateway
from tests.cli.test_client import AUDIO, UUID, cli, to
from tests.helpers.pki import Pki, make_pki

MUTUAL = "mtls"


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    """A fresh CA, server and client certificates for this test, in tmp_path."""
    return make_pki(tmp_path / "pki")


@pytest.fixture
def gateway_config(
    gateway_config: GatewayConfig, pki: Pki, request: pytest.FixtureRequest
) -> GatewayConfig:
    """The shared settings with TLS on; the indirect parameter "mtls" requires client
    certificates from the test CA."""
    mode = getattr(request, "param", "tls")
    return dataclasses.replace(
        gateway_config,
        tls_cert=str(pki.server.cert_file),
        tls_key=str(pki.server.key_file),
        tls_client_ca=str(pki.ca.cert_file) if mode == MUTUAL else "",
    )


def tls_flags(pki: Pki, *, client: bool) -> tuple[str, ...]:
    """--tls-ca for the test CA, plus the good client certificate and key when `client`."""
    flags: tuple[str, ...] = ("--tls-ca", str(pki.ca.cert_file))
    if client:
        flags += ("--tls-cert", str(pki.client.cert_file), "--tls-key", str(pki.client.key_file))
    return flags


@pytest.mark.parametrize("gateway_config", ["tls", MUTUAL], indirect=True)
async def test_submit_and_watch_over_tls(gateway: Gateway, pki: Pki) -> None:
    """Against a TLS gateway, submit and watch work with --tls-ca; against one that requires
    client certificates, with --tls-cert and --tls-key as well: the batch is created, watched to
    COMPLETED (exit 0), and `submit --watch` does both on one channel."""
    flags = tls_flags(pki, client=bool(gateway.config.tls_client_ca))
    created = await cli("submit", AUDIO.format(1), *flags, *to(gateway))
    assert created.code == ExitCode.OK, created.err
    [batch_id] = created.lines
    assert UUID.match(batch_id)
    watched = await cli("watch", batch_id, *flags, *to(gateway))
    assert watched.code == ExitCode.OK, watched.err
    assert watched.lines[0].startswith(f"batch {batch_id} COMPLETED")
    both = await cli("submit", AUDIO.format(2), "--watch", "--json", *flags, *to(gateway))
    assert both.code == ExitCode.OK, both.err


@pytest.mark.parametrize("gateway_config", [MUTUAL], indirect=True)
@pytest.mark.parametrize("command", ["submit", "watch"])
async def test_mtls_without_a_client_certificate_is_refused(
    gateway: Gateway, pki: Pki, command: str
) -> None:
    """A gateway that requires client certificates refuses a client with only --tls-ca: the
    handshake fails, UNAVAILABLE, exit 3 (the watch told not to reconnect)."""
    argv = [AUDIO.format(1)] if command == "submit" else [str(uuid.uuid4())]
    result = await cli(
        command, *argv, *tls_flags(pki, client=False), *to(gateway), "--reconnect-timeout", "0"
    )
    assert result.code == ExitCode.RPC_ERROR
    assert "failed: UNAVAILABLE" in result.err


async def test_plaintext_client_cannot_reach_a_tls_gateway(gateway: Gateway) -> None:
    """Without --tls-ca the channel is plaintext, as before: a TLS gateway does not answer it."""
    result = await cli("submit", AUDIO.format(1), *to(gateway))
    assert result.code == ExitCode.RPC_ERROR
    assert "CreateBatch failed: UNAVAILABLE" in result.err


def _bad_flags(pki: Pki, tmp_path: Path, case: str) -> list[str]:
    ca, cert, key = str(pki.ca.cert_file), str(pki.client.cert_file), str(pki.client.key_file)
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate\n")
    encrypted = tmp_path / "encrypted.key"
    encrypted.write_text("-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n")
    return {
        "cert without key": ["--tls-ca", ca, "--tls-cert", cert],
        "key without cert": ["--tls-ca", ca, "--tls-key", key],
        "cert and key without ca": ["--tls-cert", cert, "--tls-key", key],
        "missing ca": ["--tls-ca", str(tmp_path / "missing.pem")],
        "garbage ca": ["--tls-ca", str(garbage)],
        "encrypted key": ["--tls-ca", ca, "--tls-cert", cert, "--tls-key", str(encrypted)],
        "key of another cert": [
            "--tls-ca",
            ca,
            "--tls-cert",
            cert,
            "--tls-key",
            str(pki.stranger.key_file),
        ],
    }[case]


BAD_TLS = {
    "cert without key": "--tls-cert needs --tls-key",
    "key without cert": "--tls-key needs --tls-cert",
    "cert and key without ca": "need --tls-ca",
    "missing ca": "missing.pem: cannot read it",
    "garbage ca": "no PEM 'CERTIFICATE' block",
    "encrypted key": "the key is encrypted",
    "key of another cert": "not a usable certificate and key pair",
}


@pytest.mark.parametrize("command", ["submit", "watch"])
@pytest.mark.parametrize("case", list(BAD_TLS))
async def test_tls_flags_that_cannot_work_are_usage_errors(
    pki: Pki, tmp_path: Path, case: str, command: str
) -> None:
    """TLS flags that cannot work (a certificate without its key or the reverse, a client
    certificate without --tls-ca, an unreadable or non-PEM file, an encrypted key, a key that is
    not the certificate's) exit 2 with the usage and a reason naming the flag; nothing is sent
    (the target is not even a gateway)."""
    argv = [AUDIO.format(1)] if command == "submit" else [str(uuid.uuid4())]
    result = await cli(command, *argv, *_bad_flags(pki, tmp_path, case), "--target", "x.invalid:1")
    assert result.code == ExitCode.USAGE
    assert result.out == ""
    assert result.err.startswith(f"usage: sofer-gateway {command}")
    assert BAD_TLS[case] in result.err
    assert "Traceback" not in result.err


async def test_open_channel_is_plaintext_without_a_ca(pki: Pki) -> None:
    """`open_channel` without `tls_ca` gives a plaintext channel (no credentials); with it,
    TLS credentials; other commands reuse it as is."""
    assert channel_credentials() is None
    assert isinstance(channel_credentials(tls_ca=str(pki.ca.cert_file)), grpc.ChannelCredentials)
    with pytest.raises(UsageError, match="--tls-cert needs --tls-key"):
        open_channel("127.0.0.1:1", tls_ca=str(pki.ca.cert_file), tls_cert="c.pem")
    async with open_channel("127.0.0.1:1") as channel:
        assert isinstance(channel, grpc.aio.Channel)
