"""The client commands' gRPC channel: plaintext, TLS (`--tls-ca`) or mutual TLS (plus `--tls-cert`
and `--tls-key`), made by the client package (`sofer_gateway_client.aio_channel`): the README's
retry service config (reads, and creates, which always carry a request_id, retry UNAVAILABLE),
and the keepalive and reconnect options a long watch needs. Any command that talks to the gateway
can reuse `add_tls_arguments` and `open_channel`.

The files are checked here, once, before anything is sent, and a problem is a `UsageError` that
names the flag (exit 2), rather than a handshake that fails later with UNAVAILABLE and a message
from C nobody can act on.
"""

from __future__ import annotations

import argparse
import functools
import ssl
from collections.abc import Sequence
from typing import Any

import grpc
from sofer_gateway_client import aio_channel

from gateway.cli.errors import UsageError
from gateway.pem import no_password, read_pem


def add_tls_arguments(parser: argparse.ArgumentParser) -> None:
    """The `--tls-ca`, `--tls-cert` and `--tls-key` flags (read back by `open_channel_for`)."""
    parser.add_argument(
        "--tls-ca",
        metavar="FILE",
        help="PEM CA certificate(s) the gateway's certificate must chain to: connect with TLS "
        "(without it, plaintext)",
    )
    parser.add_argument(
        "--tls-cert",
        metavar="FILE",
        help="PEM client certificate chain for mutual TLS (needs --tls-key and --tls-ca)",
    )
    parser.add_argument(
        "--tls-key",
        metavar="FILE",
        help="the client certificate's unencrypted PEM private key (needs --tls-cert)",
    )


def channel_credentials(
    *, tls_ca: str | None = None, tls_cert: str | None = None, tls_key: str | None = None
) -> grpc.ChannelCredentials | None:
    """TLS credentials from the files the flags name; None (plaintext) without `tls_ca`.

    `UsageError` naming the flag: a certificate without its key or a key without its
    certificate, a client certificate without `tls_ca` (it would go over plaintext), a file that
    cannot be read or holds no PEM block of the right kind, an encrypted key, or a key that does
    not belong to the certificate.
    """
    if tls_cert and not tls_key:
        raise UsageError("--tls-cert needs --tls-key (the client certificate's private key)")
    if tls_key and not tls_cert:
        raise UsageError("--tls-key needs --tls-cert (the client certificate it belongs to)")
    if not tls_ca:
        if tls_cert:
            raise UsageError(
                "--tls-cert and --tls-key need --tls-ca: a client certificate is shown over TLS, "
                "and without --tls-ca the channel is plaintext"
            )
        return None
    root = read_pem("--tls-ca", tls_ca, "CERTIFICATE", error=UsageError)
    try:
        ssl.create_default_context(cadata=root.decode("ascii", errors="replace"))
    except (ssl.SSLError, ValueError) as exc:
        raise UsageError(f"--tls-ca {tls_ca}: not usable CA certificates ({exc})") from None
    if not (tls_cert and tls_key):
        return grpc.ssl_channel_credentials(root_certificates=root)
    chain = read_pem("--tls-cert", tls_cert, "CERTIFICATE", error=UsageError)
    key = read_pem("--tls-key", tls_key, "PRIVATE KEY", error=UsageError)
    if b"ENCRYPTED" in key:
        raise UsageError(f"--tls-key {tls_key}: the key is encrypted; give it unencrypted")
    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_cert_chain(
            tls_cert, tls_key, password=functools.partial(no_password, error=UsageError)
        )
    except ssl.SSLError as exc:
        raise UsageError(
            f"--tls-cert {tls_cert} / --tls-key {tls_key}: not a usable certificate and key "
            f"pair ({getattr(exc, 'reason', None) or exc})"
        ) from None
    return grpc.ssl_channel_credentials(
        root_certificates=root, private_key=key, certificate_chain=chain
    )


def open_channel(
    target: str,
    *,
    tls_ca: str | None = None,
    tls_cert: str | None = None,
    tls_key: str | None = None,
    options: Sequence[tuple[str, Any]] = (),
) -> grpc.aio.Channel:
    """A grpc.aio channel to `target`: TLS with `tls_ca` (mutual with `tls_cert` and `tls_key`),
    plaintext without. Call it inside the running loop; use it as `async with`.

    The files are checked first (`UsageError` naming the flag, see `channel_credentials`).
    `options` are added to (and override) the client package's `CHANNEL_OPTIONS`. Calls raise
    grpc's own `AioRpcError` (the commands turn it into `RpcFailed`, through the package's
    typed errors).
    """
    credentials = channel_credentials(tls_ca=tls_ca, tls_cert=tls_cert, tls_key=tls_key)
    return aio_channel(target, credentials, options=options, typed_errors=False)


def open_channel_for(
    args: argparse.Namespace, target: str, *, options: Sequence[tuple[str, Any]] = ()
) -> grpc.aio.Channel:
    """`open_channel` with the TLS flags of a command line parsed with `add_tls_arguments`."""
    return open_channel(
        target, tls_ca=args.tls_ca, tls_cert=args.tls_cert, tls_key=args.tls_key, options=options
    )
