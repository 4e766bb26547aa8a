"""Where a webhook may be delivered: the URL's scheme, and the addresses its host resolves to.

By default a webhook URL is https, and every address its host resolves to is public: none is
loopback, private (RFC 1918, unique-local fc00::/7), link-local (169.254/16, fe80::/10, which
holds the cloud metadata address 169.254.169.254), multicast, unspecified, reserved, or the
EC2 IPv6 metadata address fd00:ec2::254 (inside fc00::/7). An address that fails makes the
whole URL fail: a host with one private address among public ones is refused, since the
connection could pick it. `--webhook-allow-http` and `--webhook-allow-private-addresses` lift
the two rules (tests and local development on loopback); a metadata address is refused even
then.

The rules are checked when an endpoint is registered (`check`), and again on every delivery by
`CheckedResolver`, the resolver of the delivery's connection pool: the connection goes to the
addresses that were checked, so a name that resolves to a public address at registration and to
a private one later (DNS rebinding) is refused at the delivery. A URL whose host is an address
literal is checked here directly (aiohttp does not resolve literals).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from aiohttp.abc import AbstractResolver, ResolveResult

METADATA_ADDRESSES = frozenset(
    {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
)

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class Policy:
    """What the flags allow (--webhook-allow-http, --webhook-allow-private-addresses)."""

    allow_http: bool = False
    allow_private: bool = False


class RefusedAddress(Exception):
    """The URL breaks a rule: `rule` is a stable name (URL_NOT_HTTPS, ADDRESS_NOT_ALLOWED,
    HOST_NOT_RESOLVED), the message the rule in words."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule


def forbidden(address: Address) -> str | None:
    """Why `address` may not receive webhooks by default (None: it may)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return forbidden(address.ipv4_mapped)
    if address in METADATA_ADDRESSES:
        return "a cloud metadata address"
    for test, name in (
        (address.is_loopback, "a loopback address"),
        (address.is_link_local, "a link-local address"),
        (address.is_multicast, "a multicast address"),
        (address.is_unspecified, "the unspecified address"),
        (address.is_private, "a private address"),
        (address.is_reserved, "a reserved address"),
    ):
        if test:
            return name
    return None


def _metadata(address: Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address in METADATA_ADDRESSES


def check_scheme(url: str, policy: Policy) -> None:
    """Raise RefusedAddress unless the URL is https (or http when allowed)."""
    scheme = urlsplit(url).scheme.lower()
    if scheme == "https" or (scheme == "http" and policy.allow_http):
        return
    raise RefusedAddress(
        "URL_NOT_HTTPS", "must be an https URL (http only with --webhook-allow-http)"
    )


def check_address(text: str, policy: Policy) -> None:
    """Raise RefusedAddress when the address `text` is forbidden under `policy`."""
    address = ipaddress.ip_address(text.split("%", 1)[0])
    if policy.allow_private and not _metadata(address):
        return
    why = forbidden(address)
    if why is not None:
        raise RefusedAddress(
            "ADDRESS_NOT_ALLOWED",
            f"resolves to {why}, which webhooks may not reach "
            "(only with --webhook-allow-private-addresses)",
        )


def literal(host: str) -> bool:
    """The host is an IP address written out (no name to resolve)."""
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


async def check(url: str, policy: Policy) -> None:
    """Every rule for `url` (an absolute http(s) URL with a host): the scheme, then each
    address its host resolves to now. Raises RefusedAddress."""
    check_scheme(url, policy)
    parts = urlsplit(url)
    host = parts.hostname or ""
    if literal(host):
        check_address(host.strip("[]"), policy)
        return
    for found in await _resolve(host, parts.port or 443):
        check_address(found, policy)


RESOLVE_SECONDS = 5.0
"""The longest a name's resolution may take at registration."""


async def _resolve(host: str, port: int) -> list[str]:
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(RESOLVE_SECONDS):
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, TimeoutError) as exc:
        raise RefusedAddress("HOST_NOT_RESOLVED", f"its host {host!r} does not resolve") from exc
    return [str(info[4][0]) for info in infos]


class CheckedResolver(AbstractResolver):
    """aiohttp's resolver for deliveries: resolves as the system does, and refuses (OSError,
    which fails the attempt) a host any of whose addresses `policy` forbids; the connection
    then uses only the addresses it returned."""

    def __init__(self, policy: Policy, timeout: float = 5.0) -> None:
        self.policy = policy
        self.timeout = timeout

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(self.timeout):
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM, family=family)
        results: list[ResolveResult] = []
        for af, _, proto, _, sockaddr in infos:
            address = str(sockaddr[0])
            try:
                check_address(address, self.policy)
            except RefusedAddress as exc:
                raise OSError(f"webhook host {host!r} {exc}") from exc
            results.append(
                ResolveResult(
                    hostname=host,
                    host=address,
                    port=int(sockaddr[1]),
                    family=af,
                    proto=proto,
                    flags=socket.AI_NUMERICHOST,
                )
            )
        if not results:
            raise OSError(f"webhook host {host!r} does not resolve")
        return results

    async def close(self) -> None:
        """Nothing to release."""
