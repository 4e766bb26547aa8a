"""Configuration: flags, environment, the embedded-sandbox default, and refused values."""

from __future__ import annotations

import argparse

import pytest

from gateway.cli import build_parser
from gateway.config import DEFAULT_UPSTREAM_URL, GatewayConfig, from_args


def _serve_args(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(["serve", *argv])


def test_defaults_start_the_embedded_sandbox() -> None:
    """With neither SOFER_API_URL nor SOFER_API_KEY, the gateway runs the sandbox in-process."""
    config = from_args(_serve_args(), environ={})
    assert config.embedded_sandbox
    assert config == GatewayConfig()


def test_key_alone_points_at_the_production_api() -> None:
    """A key without a URL means the real API at its production address."""
    config = from_args(_serve_args(), environ={"SOFER_API_KEY": "k"})
    assert config.upstream_url == DEFAULT_UPSTREAM_URL
    assert not config.embedded_sandbox


def test_flag_wins_over_environment() -> None:
    """--upstream-url overrides SOFER_API_URL; every tunable flag reaches the config."""
    config = from_args(
        _serve_args("--upstream-url", "http://a", "--max-attempts", "2", "--listen", "0.0.0.0:1"),
        environ={"SOFER_API_URL": "http://b"},
    )
    assert config.upstream_url == "http://a"
    assert config.max_attempts == 2
    assert config.listen == "0.0.0.0:1"


def test_key_is_never_shown() -> None:
    """The configured key does not appear in the config's repr (and so in no log of it)."""
    config = from_args(_serve_args(), environ={"SOFER_API_KEY": "very-secret-key"})
    assert "very-secret-key" not in repr(config)


@pytest.mark.parametrize("flag", ["--max-attempts", "--default-timeout", "--shutdown-grace"])
def test_non_positive_values_are_refused(flag: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Zero or negative numbers are refused at start with the flag's name, not at first use."""
    with pytest.raises(SystemExit):
        _serve_args(flag, "0")
    assert flag in capsys.readouterr().err
