"""The metrics tables of README.md and docs/metrics.md list exactly what a gateway exports."""

from __future__ import annotations

import dataclasses
import re

import pytest

from gateway.config import GatewayConfig
from gateway.observability.metrics import PREFIX
from gateway.server.process import Gateway
from tests.helpers import REPO
from tests.helpers.metrics import scrape

_ROW = re.compile(r"^\| `(sofer_gateway_\w+)` \| (\w+) \|", re.MULTILINE)
ONLY_WITH_REDIS = {"sofer_gateway_redis_up": "gauge"}
"""Exported with --redis-url only (this test's gateway has none)."""


@pytest.fixture
def gateway_config(gateway_config: GatewayConfig) -> GatewayConfig:
    """The shared settings, with metrics on a free loopback port."""
    return dataclasses.replace(gateway_config, metrics_listen="127.0.0.1:0")


def documented(path: str) -> dict[str, str]:
    """Metric name (counters with their `_total`) -> type, from the table rows of `path`."""
    return dict(_ROW.findall((REPO / path).read_text()))


@pytest.mark.parametrize("path", ["README.md", "docs/metrics.md"])
async def test_the_metrics_table_lists_every_metric_the_gateway_exports(
    gateway: Gateway, path: str
) -> None:
    """Every `sofer_gateway_*` family a real gateway exports is in the table with its type, and
    the table names no metric the gateway does not export: a new or renamed metric cannot be
    left out of the docs."""
    exported = (await scrape(gateway.metrics_port)).families
    ours = {
        name + ("_total" if kind == "counter" else ""): kind
        for name, kind in exported.items()
        if name.startswith(PREFIX)
    }
    assert documented(path) == {**ours, **ONLY_WITH_REDIS}
