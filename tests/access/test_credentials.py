"""Which credential a call spends (gateway.access.credentials.resolve_credential), as a pure
function of the call's metadata and the client certificate its transport verified."""

from __future__ import annotations

import grpc
import pytest

from gateway.access.credentials import CallerAuth, Credential, resolve_credential
from gateway.contract.errors import GatewayError, Reason

KEY = "organisation-key"
CALLER = "sgw_unit-test-caller-0123456789"


def _bearer(token: str) -> list[tuple[str, str]]:
    return [("authorization", f"Bearer {token}")]


def test_a_verified_certificate_spends_the_configured_key_in_its_subjects_name() -> None:
    """With mutual TLS on, a caller without a token whose certificate was verified spends the
    configured key as "cert:<subject>"; a certificate without a subject says so."""
    mtls = CallerAuth(mtls=True)
    assert resolve_credential([], KEY, mtls, "CN=billing") == Credential(
        KEY, "configured", "cert:CN=billing"
    )
    assert resolve_credential([], KEY, mtls, "").caller == "cert:(no subject)"


def test_without_mutual_tls_a_certificate_authenticates_nobody() -> None:
    """A subject reported while mutual TLS is off is not an authentication: a gateway with
    caller tokens refuses the call; one without any serves it unauthenticated."""
    tokens = CallerAuth([CALLER])
    with pytest.raises(GatewayError) as refused:
        resolve_credential([], KEY, tokens, "CN=billing")
    assert (refused.value.code, refused.value.reason) == (
        grpc.StatusCode.UNAUTHENTICATED,
        Reason.CALLER_UNAUTHENTICATED,
    )
    assert resolve_credential([], KEY, None, "CN=billing") == Credential(KEY, "configured")


def test_no_verified_certificate_and_no_token_is_refused_under_mutual_tls() -> None:
    """Mutual TLS on and no certificate verified (None) nor token: UNAUTHENTICATED, naming the
    certificate as a way in."""
    with pytest.raises(GatewayError) as refused:
        resolve_credential([], KEY, CallerAuth(mtls=True), None)
    assert refused.value.reason is Reason.CALLER_UNAUTHENTICATED
    assert "client certificate" in refused.value.message


def test_a_token_wins_over_a_certificate() -> None:
    """A bearer token decides, whatever the certificate: the caller's own token goes upstream,
    a caller token spends the key in the token's name."""
    mtls = CallerAuth([CALLER], mtls=True)
    own = resolve_credential(_bearer("sofer-token"), KEY, mtls, "CN=billing")
    assert own == Credential("sofer-token", "caller")
    caller = resolve_credential(_bearer(CALLER), KEY, mtls, "CN=billing")
    assert caller.source == "configured"
    assert caller.caller.startswith("token:")
