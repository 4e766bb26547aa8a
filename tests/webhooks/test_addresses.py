"""Where webhooks may go: https only, public addresses only, unless the flags allow it."""

from __future__ import annotations

import ipaddress

import pytest

from gateway.webhooks import addresses
from gateway.webhooks.addresses import Policy, RefusedAddress

STRICT = Policy()
LOOSE = Policy(allow_http=True, allow_private=True)


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("192.168.0.1", "private"),
        ("172.16.5.5", "private"),
        ("fd12::1", "private"),
        ("169.254.169.254", "metadata"),
        ("fd00:ec2::254", "metadata"),
        ("169.254.10.10", "link-local"),
        ("fe80::1", "link-local"),
        ("224.0.0.1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("::ffff:127.0.0.1", "loopback"),
    ],
)
def test_non_public_addresses_are_forbidden(address: str, why: str) -> None:
    """Loopback, private, link-local, multicast, unspecified and metadata addresses (IPv4,
    IPv6, and IPv4 mapped into IPv6) may not receive webhooks by default."""
    reason = addresses.forbidden(ipaddress.ip_address(address))
    assert reason is not None
    assert why in reason


def test_a_public_address_is_allowed() -> None:
    """A public address may receive webhooks."""
    assert addresses.forbidden(ipaddress.ip_address("93.184.215.14")) is None
    assert addresses.forbidden(ipaddress.ip_address("2606:4700::1111")) is None


async def test_http_and_loopback_urls_are_refused_by_default_naming_the_rule() -> None:
    """An http URL fails URL_NOT_HTTPS; an https URL whose host is (or resolves to) loopback
    fails ADDRESS_NOT_ALLOWED; a host that does not resolve fails HOST_NOT_RESOLVED."""
    cases = [
        ("http://example.com/hook", "URL_NOT_HTTPS"),
        ("https://127.0.0.1/hook", "ADDRESS_NOT_ALLOWED"),
        ("https://[::1]:8443/hook", "ADDRESS_NOT_ALLOWED"),
        ("https://localhost/hook", "ADDRESS_NOT_ALLOWED"),
        ("https://no-such-host.invalid/hook", "HOST_NOT_RESOLVED"),
    ]
    for url, rule in cases:
        with pytest.raises(RefusedAddress) as refused:
            await addresses.check(url, STRICT)
        assert refused.value.rule == rule, url


async def test_the_flags_allow_http_on_loopback_but_never_a_metadata_address() -> None:
    """With --webhook-allow-http and --webhook-allow-private-addresses a loopback http URL is
    accepted; the cloud metadata address is still refused."""
    await addresses.check("http://127.0.0.1:8080/hook", LOOSE)
    await addresses.check("http://localhost:8080/hook", LOOSE)
    with pytest.raises(RefusedAddress, match="metadata"):
        await addresses.check("http://169.254.169.254/latest/meta-data", LOOSE)


async def test_the_delivery_resolver_refuses_a_name_that_now_resolves_to_loopback() -> None:
    """At delivery time the connection's resolver checks the addresses it connects to: a name
    resolving to loopback is refused (OSError fails the attempt), so DNS rebinding after
    registration cannot reach internal addresses; with the flag it resolves."""
    with pytest.raises(OSError, match="loopback"):
        await addresses.CheckedResolver(STRICT).resolve("localhost", 443)
    found = await addresses.CheckedResolver(LOOSE).resolve("localhost", 443)
    assert found
    assert all(ipaddress.ip_address(r["host"]).is_loopback for r in found)
