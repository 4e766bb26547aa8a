"""The price table and its rounding (gateway.upstream.prices), checked against the sandbox's
billing, which charges as the upstream documents."""

from __future__ import annotations

import pytest
from sofer_sandbox import billing

from gateway.upstream import prices

KINDS = {
    prices.Kind.SINGLE: billing.SINGLE,
    prices.Kind.EXPRESS: billing.EXPRESS,
    prices.Kind.STANDARD: billing.STANDARD,
}


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("model", ["v1", "v0", "", "v9"])
@pytest.mark.parametrize("labels", [False, True])
def test_hourly_prices_are_the_documented_ones(kind: prices.Kind, model: str, labels: bool) -> None:
    """Every kind, model (empty: the default; unknown: v1's price) and speaker setting costs
    per hour what the upstream charges."""
    expected = billing.cents_per_hour(KINDS[kind], model or "v1", labels)
    assert prices.cents_per_hour(kind, model, labels) == expected


def test_each_item_is_rounded_up_to_a_whole_cent_exactly() -> None:
    """Every whole number of seconds up to three hours, at every price, costs what the upstream
    charges, with no float rounding error (3600 s at 120 c/h is 120 c, not 121)."""
    for rate in (90, 100, 120, 130, 150):
        for seconds in range(0, 3 * 3600):
            assert prices.cost_cents(float(seconds), rate) == billing.cost_cents(seconds, rate)


def test_speaker_labels() -> None:
    """Labels are paid for with auto-detection or more than one speaker, not for one."""
    assert not prices.speaker_labels(None, False)
    assert not prices.speaker_labels(1, False)
    assert prices.speaker_labels(2, False)
    assert prices.speaker_labels(None, True)
