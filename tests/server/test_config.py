"""Configuration: flags, environment, the embedded-sandbox default, and refused values."""

from __future__ import annotations

import argparse
import dataclasses
from typing import Any

import pytest

from gateway.config import DEFAULT_UPSTREAM_URL, ConfigError, GatewayConfig, env_name, from_args
from gateway.main import build_parser
from gateway.upstream import UpstreamConfig
from tests.helpers.processes import run_serve


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


def _flagged_fields() -> list[dataclasses.Field[Any]]:
    return [f for f in dataclasses.fields(GatewayConfig) if "help" in f.metadata]


def _sample(f: dataclasses.Field[Any]) -> tuple[str, Any]:
    """A valid non-default value of a setting, as text for the environment and as parsed."""
    if isinstance(f.default, bool):
        return "true", True
    if isinstance(f.default, int):
        return str(f.default + 7), f.default + 7
    if isinstance(f.default, float):
        return str(f.default + 0.5), f.default + 0.5
    return "127.0.0.1:7", "127.0.0.1:7"


@pytest.mark.parametrize("name", [f.name for f in _flagged_fields()])
def test_every_setting_comes_from_its_environment_variable(name: str) -> None:
    """Each `serve` flag also comes from SOFER_GATEWAY_<FLAG IN UPPER SNAKE CASE>."""
    f = next(f for f in _flagged_fields() if f.name == name)
    text, value = _sample(f)
    config = from_args(_serve_args(), environ={env_name(name): text})
    assert getattr(config, name) == value


def test_a_flag_wins_over_its_environment_variable() -> None:
    """The command line beats the environment, which beats the default."""
    env = {"SOFER_GATEWAY_MAX_ATTEMPTS": "9", "SOFER_GATEWAY_DEFAULT_TIMEOUT": "12"}
    config = from_args(_serve_args("--max-attempts", "2"), environ=env)
    assert config.max_attempts == 2
    assert config.default_timeout == 12.0


@pytest.mark.parametrize(
    ("variable", "value", "words"),
    [
        ("SOFER_GATEWAY_MAX_ATTEMPTS", "0", "greater than 0"),
        ("SOFER_GATEWAY_MAX_ATTEMPTS", "two", "not a int"),
        ("SOFER_GATEWAY_DEFAULT_TIMEOUT", "-1", "greater than 0"),
        ("SOFER_GATEWAY_MAX_QUEUED_CALLS", "-1", "at least 0"),
        ("SOFER_GATEWAY_ALLOW_UNAUTHENTICATED_CALLERS", "maybe", "true"),
    ],
)
def test_a_bad_environment_value_is_refused_naming_the_variable(
    variable: str, value: str, words: str
) -> None:
    """An invalid value in the environment fails at start with the variable's name and the
    rule, like a bad flag."""
    with pytest.raises(ConfigError) as info:
        from_args(_serve_args(), environ={variable: value})
    assert variable in str(info.value)
    assert words in str(info.value)


async def test_serve_exits_2_on_a_bad_environment_value() -> None:
    """`serve` with SOFER_GATEWAY_MAX_WATCHES=none exits 2 with one line naming the variable,
    before it serves anything."""
    code, _, err = await run_serve(env={"SOFER_GATEWAY_MAX_WATCHES": "none"})
    assert code == 2
    assert "SOFER_GATEWAY_MAX_WATCHES" in err


def test_upstream_settings_are_defined_once() -> None:
    """The upstream client's settings take their defaults from UpstreamConfig, and the
    gateway's UpstreamConfig carries every one of them."""
    config = GatewayConfig(default_timeout=7.0, retry_budget_tokens=3.0)
    upstream = config.upstream("http://u")
    assert upstream.default_timeout == 7.0
    assert upstream.budget_max_tokens == 3.0
    defaults = UpstreamConfig()
    assert GatewayConfig().max_attempts == defaults.max_attempts
    assert GatewayConfig().backoff_cap == defaults.backoff_cap
