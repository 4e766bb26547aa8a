"""TLS and mutual TLS on the gRPC port: `--tls-cert`, `--tls-key`, `--tls-client-ca`.

`load_tls` checks the flags and the files once, at start, and says what is wrong in one line that
names the flag (a `ConfigError`: `serve` exits 2), rather than letting gRPC fail later in C with a
message nobody can act on. The files are parsed with the standard library's `ssl` module, which
also checks that the key belongs to the certificate. The material is read once: replacing the
files needs a restart.

With `--tls-client-ca` the server requires a client certificate and verifies it against those CA
certificates during the handshake (gRPC's REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY): a
client without one, or with one another CA signed, never gets as far as an RPC.
"""

from __future__ import annotations

import functools
import ssl
from dataclasses import dataclass, field

import grpc

from gateway.config import ConfigError, GatewayConfig
from gateway.pem import no_password, read_pem


@dataclass(frozen=True)
class TlsMaterial:
    """The PEM bytes the gRPC server is given. `repr` shows none of them."""

    cert_chain: bytes = field(repr=False)
    private_key: bytes = field(repr=False)
    client_ca: bytes | None = field(default=None, repr=False)

    @property
    def mutual(self) -> bool:
        """Whether clients must present a certificate signed by `client_ca`."""
        return self.client_ca is not None

    def server_credentials(self) -> grpc.ServerCredentials:
        """Credentials for `grpc.aio.Server.add_secure_port`."""
        return grpc.ssl_server_credentials(
            [(self.private_key, self.cert_chain)],
            root_certificates=self.client_ca,
            require_client_auth=self.mutual,
        )


def load_tls(config: GatewayConfig) -> TlsMaterial | None:
    """The TLS material the flags name, checked; None when the gateway serves plaintext.

    Raises ConfigError naming the flag: a certificate without its key (or a key without its
    certificate), a client CA without TLS, a file that cannot be read or holds no PEM of the
    right kind, an encrypted key, or a key that does not belong to the certificate.
    """
    cert, key, client_ca = config.tls_cert, config.tls_key, config.tls_client_ca
    if not cert and not key:
        if client_ca:
            raise ConfigError(
                "--tls-client-ca needs --tls-cert and --tls-key: mutual TLS is served over TLS"
            )
        return None
    if not key:
        raise ConfigError("--tls-cert needs --tls-key (the certificate's private key)")
    if not cert:
        raise ConfigError("--tls-key needs --tls-cert (the certificate chain it belongs to)")
    cert_pem = read_pem("--tls-cert", cert, "CERTIFICATE", error=ConfigError)
    key_pem = read_pem("--tls-key", key, "PRIVATE KEY", error=ConfigError)
    if b"ENCRYPTED" in key_pem:
        raise ConfigError(f"--tls-key {key}: the key is encrypted; give it unencrypted")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(
            cert, key, password=functools.partial(no_password, error=ConfigError)
        )
    except ssl.SSLError as exc:
        raise ConfigError(
            f"--tls-cert {cert} / --tls-key {key}: not a usable certificate and key pair "
            f"({_ssl_reason(exc)})"
        ) from None
    ca_pem: bytes | None = None
    if client_ca:
        ca_pem = read_pem("--tls-client-ca", client_ca, "CERTIFICATE", error=ConfigError)
        try:
            context.load_verify_locations(cadata=ca_pem.decode("ascii", errors="replace"))
        except (ssl.SSLError, ValueError) as exc:
            raise ConfigError(
                f"--tls-client-ca {client_ca}: not usable CA certificates ({_ssl_reason(exc)})"
            ) from None
    return TlsMaterial(cert_chain=cert_pem, private_key=key_pem, client_ca=ca_pem)


def _ssl_reason(exc: Exception) -> str:
    reason = getattr(exc, "reason", None)
    return str(reason or exc)
