"""Matching recorded sandbox exchanges to the vendored OpenAPI spec's operations (no tests here).

`Recorder` makes httpx clients whose every exchange is kept; `load_operations` reads the spec's
operations of interest (method, path template, documented statuses) and `operation_of` finds the
one an exchange belongs to. tests/sandbox/test_conformance.py validates the exchanges with
openapi-core against the spec file itself.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sofer_sandbox import SandboxServer

from tests.helpers import REPO
from tests.helpers.sandbox_http import SSL_CONTEXT


def spec_path() -> Path:
    """The upstream's OpenAPI spec, vendored in the repository (spec/README.md)."""
    return REPO / "spec" / "sofer-openapi.json"


@dataclass(frozen=True)
class Operation:
    """One spec operation: id, method, path template and documented statuses."""

    operation_id: str
    method: str
    template: str
    pattern: re.Pattern[str]
    statuses: frozenset[int]


@dataclass(frozen=True)
class Exchange:
    """One recorded request and its answer."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    status: int
    response_headers: dict[str, str]
    response_body: bytes


def load_operations(spec: dict[str, Any], wanted: Collection[str]) -> list[Operation]:
    """The `wanted` operations, templates with fewer parameters first (literal segments win)."""
    found = []
    for template, item in spec["paths"].items():
        for method, op in item.items():
            if isinstance(op, dict) and op.get("operationId") in wanted:
                regex = "^" + re.sub(r"\{[^/]+\}", "[^/]+", template) + "$"
                statuses = frozenset(int(code) for code in op["responses"])
                found.append(
                    Operation(
                        op["operationId"], method.upper(), template, re.compile(regex), statuses
                    )
                )
    assert {o.operation_id for o in found} == set(wanted)
    return sorted(found, key=lambda o: o.template.count("{"))


def operation_of(operations: list[Operation], exchange: Exchange) -> Operation:
    """The operation an exchange belongs to."""
    for op in operations:
        if op.method == exchange.method and op.pattern.match(exchange.path):
            return op
    raise AssertionError(f"no spec operation for {exchange.method} {exchange.path}")


class Recorder:
    """Collects every exchange made through clients it creates."""

    def __init__(self, server: SandboxServer) -> None:
        self.server = server
        self.exchanges: list[Exchange] = []

    async def _hook(self, response: httpx.Response) -> None:
        await response.aread()
        request = response.request
        self.exchanges.append(
            Exchange(
                method=request.method,
                path=request.url.path,
                query=dict(request.url.params),
                headers=dict(request.headers),
                body=request.content,
                status=response.status_code,
                response_headers=dict(response.headers),
                response_body=response.content,
            )
        )

    def client(self, token: str | None = "conformance") -> httpx.AsyncClient:
        """A recording client on the sandbox."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.AsyncClient(
            base_url=self.server.url,
            headers=headers,
            verify=SSL_CONTEXT,
            event_hooks={"response": [self._hook]},
        )
