"""Reading the gateway's Prometheus metrics in tests (no tests here): `scrape(port)` GETs
/metrics from `--metrics-listen` and parses it with prometheus_client's own parser."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from prometheus_client.parser import text_string_to_metric_families


@dataclass(frozen=True)
class Sample:
    """One sample of a scrape: its series name, labels and value."""

    name: str
    labels: dict[str, str]
    value: float


@dataclass(frozen=True)
class Scrape:
    """One GET /metrics, parsed by prometheus_client's own parser."""

    families: dict[str, str]  # family name -> type
    samples: list[Sample]

    def value(self, name: str, **labels: str) -> float:
        """The sum of the samples named `name` whose labels include `labels` (0 if none)."""
        return sum(
            s.value
            for s in self.samples
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
        )

    def has(self, name: str) -> bool:
        """Whether any sample is named `name`."""
        return any(s.name == name for s in self.samples)

    def exported_names(self) -> set[str]:
        """Every series name a query may use: samples seen, and those each family's type
        implies (a labelled family with no child yet still says what it will export)."""
        suffixes = {
            "counter": ("_total",),
            "histogram": ("_bucket", "_sum", "_count"),
            "summary": ("_sum", "_count", ""),
            "info": ("_info",),
        }
        names = {s.name for s in self.samples}
        for family, kind in self.families.items():
            names.update(family + suffix for suffix in suffixes.get(kind, ("",)))
        return names


async def scrape(port: int) -> Scrape:
    """GET /metrics from the gateway's metrics port."""
    async with httpx.AsyncClient(timeout=10.0) as http:
        response = await http.get(f"http://127.0.0.1:{port}/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    families = list(text_string_to_metric_families(response.text))
    return Scrape(
        {f.name: f.type for f in families},
        [Sample(s.name, dict(s.labels), s.value) for f in families for s in f.samples],
    )
