"""Credentials: which bearer token a call spends, who may spend the gateway's own key, and the
tenant key that scopes shared state.

A gateway that holds a service key (SOFER_API_KEY) spends the organisation's account for whoever
reaches it, so it can require its callers to authenticate first (`CallerAuth`):

- with a caller token: `authorization: Bearer sgw_...`, one of the tokens of
  `--caller-tokens-file` or SOFER_GATEWAY_CALLER_TOKENS. Caller tokens carry the prefix
  `CALLER_TOKEN_PREFIX` so that the gateway can tell them from Sofer.ai tokens: a bearer token with
  the prefix is checked here and never forwarded upstream, whether it is valid or not; any other
  bearer token is the caller's own Sofer.ai credential and goes upstream as it is;
- with a client certificate, when mutual TLS is on (`--tls-client-ca`): the handshake verified it
  (the server's transport names its subject: gateway.server.call_context).

`resolve_credential` makes the decision for every call (docs/security.md has the table). An
authenticated caller spends the configured key, and so shares its tenant: caller tokens and
certificates authenticate, they do not isolate (they all act as the one upstream account).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import grpc
import structlog

from gateway.config import CALLER_TOKENS_ENV, ConfigError, GatewayConfig
from gateway.contract.errors import GatewayError, Reason

_SCHEME = "bearer"
_MAX_TOKEN_LENGTH = 4096
CALLER_TOKEN_PREFIX = "sgw_"  # noqa: S105 (a marker, not a secret)
"""Every caller token starts with this: the gateway never sends a token that starts so, in any
case (`SGW_...` too), upstream."""


def looks_like_caller_token(token: str) -> bool:
    """Whether `token` has the caller-token prefix, compared without regard to case: such a
    bearer is checked as a caller token and never forwarded upstream, valid or not."""
    return token[: len(CALLER_TOKEN_PREFIX)].lower() == CALLER_TOKEN_PREFIX


MIN_CALLER_TOKEN_SECRET = 16
"""Characters a caller token must have after its prefix (e.g. `secrets.token_urlsafe(32)`)."""

log = structlog.get_logger("gateway.access.credentials")


@dataclass(frozen=True)
class Credential:
    """The token a call is made with, and where it came from. `repr` never shows the token.

    `caller` names the authenticated caller that spends the configured key ("token:<hash
    prefix>" or "cert:<subject>"), for the logs; empty when the caller was not authenticated by
    the gateway (its own token, or the configured key of a gateway without caller auth).
    """

    token: str = field(repr=False)
    source: Literal["caller", "configured"]
    caller: str = ""

    @property
    def tenant(self) -> str:
        """A stable, non-reversible key for this credential: keys caches and pollers, never logs."""
        return _tenant_of(self.token)


@functools.lru_cache(maxsize=4096)
def _tenant_of(token: str) -> str:
    """SHA-256 of a token, cut: computed once per token, not on each of a call's several uses."""
    return hashlib.sha256(token.encode()).hexdigest()[:32]


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


class CallerAuth:
    """Who may spend the gateway's configured key: holders of a caller token, and (with mutual
    TLS) clients whose certificate the handshake verified. Keeps only hashes of the tokens."""

    def __init__(self, tokens: Iterable[str] = (), *, mtls: bool = False) -> None:
        self._digests = tuple(dict.fromkeys(_digest(t) for t in tokens))
        self.mtls = mtls

    @classmethod
    def from_config(cls, config: GatewayConfig, *, mtls: bool) -> CallerAuth:
        """The caller tokens of `--caller-tokens-file` and of the environment (config), checked.

        Raises ConfigError, naming the file (or variable) and the line but never a token, when
        the file cannot be read, holds no token, or holds a token that breaks the rules.
        """
        tokens: list[str] = []
        if config.caller_tokens_file:
            tokens += _read_tokens_file(config.caller_tokens_file)
        for number, token in enumerate(config.caller_tokens, 1):
            _check_token(token, f"{CALLER_TOKENS_ENV}: entry {number}")
            tokens.append(token)
        return cls(tokens, mtls=mtls)

    @property
    def tokens(self) -> int:
        """How many distinct caller tokens there are."""
        return len(self._digests)

    @property
    def enabled(self) -> bool:
        """Whether callers can authenticate at all (then unauthenticated ones are refused)."""
        return bool(self._digests) or self.mtls

    def token_identity(self, token: str) -> str | None:
        """ "token:<hash prefix>" when `token` is one of the caller tokens, else None.

        Compares the token's SHA-256 against every known digest with hmac.compare_digest, all
        of them every time: the answer's timing says nothing about which or how much matched.
        """
        presented = _digest(token)
        found = False
        for known in self._digests:
            found |= hmac.compare_digest(presented, known)
        return f"token:{presented.hex()[:12]}" if found else None

    def verified_peer(self, certificate_subject: str | None) -> str | None:
        """ "cert:<subject>" when mutual TLS is on and the handshake verified a client
        certificate (`certificate_subject` not None; "" when the certificate names no
        subject), else None."""
        if not self.mtls or certificate_subject is None:
            return None
        return "cert:" + (certificate_subject or "(no subject)")


def _check_token(token: str, where: str) -> None:
    if not token.startswith(CALLER_TOKEN_PREFIX):
        raise ConfigError(
            f"{where}: a caller token must start with '{CALLER_TOKEN_PREFIX}' "
            "(so that it is never mistaken for a Sofer.ai token and sent upstream)"
        )
    secret = token[len(CALLER_TOKEN_PREFIX) :]
    if len(secret) < MIN_CALLER_TOKEN_SECRET or len(token) > _MAX_TOKEN_LENGTH:
        raise ConfigError(
            f"{where}: a caller token needs {MIN_CALLER_TOKEN_SECRET} to "
            f"{_MAX_TOKEN_LENGTH - len(CALLER_TOKEN_PREFIX)} characters after "
            f"'{CALLER_TOKEN_PREFIX}'"
        )
    if not (token.isascii() and token.isprintable()) or any(c.isspace() for c in token):
        raise ConfigError(f"{where}: a caller token is one word of printable ASCII")


def _read_tokens_file(path: str) -> list[str]:
    """One token per line; blank lines and lines starting with '#' are skipped."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise ConfigError(f"--caller-tokens-file {path}: cannot read it ({reason})") from None
    tokens = []
    for number, line in enumerate(text.splitlines(), 1):
        token = line.strip()
        if token and not token.startswith("#"):
            _check_token(token, f"--caller-tokens-file {path}: line {number}")
            tokens.append(token)
    if not tokens:
        raise ConfigError(f"--caller-tokens-file {path}: no tokens in it")
    return tokens


def is_loopback(listen: str) -> bool:
    """Whether `listen` (host:port, [v6]:port or unix:path) is reachable only from this host:
    127.0.0.0/8, ::1, localhost, or a unix socket. An empty host, 0.0.0.0 and [::] are every
    interface; any other name could be too."""
    if listen.startswith(("unix:", "unix-abstract:")):
        return True
    host = listen.rsplit(":", 1)[0] if ":" in listen else listen
    host = host.strip("[]")
    if host.lower() == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def check_exposure(config: GatewayConfig, callers: CallerAuth) -> None:
    """Refuse to serve the configured key to anyone who reaches a non-loopback address.

    Raises ConfigError when the gateway holds SOFER_API_KEY, listens beyond loopback and
    authenticates nobody (no caller tokens, no mutual TLS), unless
    `--allow-unauthenticated-callers` says that is intended (then it logs a warning).
    """
    if not config.api_key or callers.enabled or is_loopback(config.listen):
        return
    if config.allow_unauthenticated_callers:
        log.warning(
            "serving unauthenticated callers with the configured key on a non-loopback "
            "address (--allow-unauthenticated-callers)",
            listen=config.listen,
        )
        return
    raise ConfigError(
        f"refusing to listen on {config.listen} with SOFER_API_KEY and no caller "
        "authentication: anyone who reaches it would spend the key. Add "
        "--caller-tokens-file (or SOFER_GATEWAY_CALLER_TOKENS) or --tls-client-ca, listen "
        "on loopback, or pass --allow-unauthenticated-callers"
    )


def _bearer_token(metadata: Iterable[tuple[str, str | bytes]] | None) -> str | None:
    """The token of the `authorization: Bearer <token>` metadata; None without the header.

    Raises CREDENTIALS_MALFORMED for a header that is not one bearer token. Never echoes it.
    """
    header: str | None = None
    for key, value in metadata or ():
        if key.lower() == "authorization":
            header = value.decode(errors="replace") if isinstance(value, bytes) else value
            break
    if header is None:
        return None
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != _SCHEME or not token:
        raise GatewayError(
            grpc.StatusCode.UNAUTHENTICATED,
            Reason.CREDENTIALS_MALFORMED,
            "the authorization metadata must be 'Bearer <token>'",
        )
    if len(token) > _MAX_TOKEN_LENGTH or any(c.isspace() for c in token):
        raise GatewayError(
            grpc.StatusCode.UNAUTHENTICATED,
            Reason.CREDENTIALS_MALFORMED,
            f"the bearer token must be one word of at most {_MAX_TOKEN_LENGTH} characters",
        )
    return token


def _configured(configured_key: str | None, caller: str = "") -> Credential:
    if configured_key:
        return Credential(configured_key, "configured", caller)
    raise GatewayError(
        grpc.StatusCode.UNAUTHENTICATED,
        Reason.CREDENTIALS_MISSING,
        "no credentials: send 'authorization: Bearer <token>' metadata with your own Sofer.ai "
        "token (this gateway has no key of its own configured)",
    )


def resolve_credential(
    metadata: Iterable[tuple[str, str | bytes]] | None,
    configured_key: str | None,
    callers: CallerAuth | None = None,
    certificate_subject: str | None = None,
) -> Credential:
    """The credential a call spends (docs/security.md, "Which credential a call spends").

    - `Bearer sgw_...` (the prefix in any case): a caller token. Known: the configured key, for
      that caller. Unknown: UNAUTHENTICATED (CALLER_UNAUTHENTICATED). Either way it never goes
      upstream.
    - `Bearer <other>`: the caller's own Sofer.ai token, forwarded upstream as it is.
    - No authorization header: a client certificate verified by mutual TLS
      (`certificate_subject`, its subject; None: no certificate verified) spends the
      configured key; otherwise, when caller authentication is configured, the call is
      UNAUTHENTICATED (CALLER_UNAUTHENTICATED) and the configured key is not used; without caller
      authentication, the configured key serves the call, as it always did.
    - No credential at all: UNAUTHENTICATED (CREDENTIALS_MISSING). A malformed authorization
      header: UNAUTHENTICATED (CREDENTIALS_MALFORMED), never replaced by the configured key.

    Every refusal happens here, before any upstream call, and no message echoes a token.
    """
    callers = callers or _NOBODY
    token = _bearer_token(metadata)
    if token is not None:
        if not looks_like_caller_token(token):
            return Credential(token, "caller")
        identity = callers.token_identity(token)
        if identity is None:
            raise GatewayError(
                grpc.StatusCode.UNAUTHENTICATED,
                Reason.CALLER_UNAUTHENTICATED,
                f"the '{CALLER_TOKEN_PREFIX}' bearer token is not a caller token of this gateway",
            )
        return _configured(configured_key, identity)
    peer = callers.verified_peer(certificate_subject)
    if peer is not None:
        return _configured(configured_key, peer)
    if callers.enabled and configured_key:
        how = "a caller token of this gateway or your own Sofer.ai token"
        raise GatewayError(
            grpc.StatusCode.UNAUTHENTICATED,
            Reason.CALLER_UNAUTHENTICATED,
            "this gateway spends its own key only for authenticated callers: send "
            f"'authorization: Bearer <token>' metadata with {how}"
            + (", or connect with a client certificate" if callers.mtls else ""),
        )
    return _configured(configured_key)


_NOBODY = CallerAuth()
