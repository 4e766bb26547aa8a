"""The README documents every error reason and every `serve` flag the code has."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.cli import build_parser
from gateway.rpc_errors import Reason

README = (Path(__file__).parents[1] / "README.md").read_text()


def _serve_flags() -> list[str]:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")  # the sub-command table
    serve = sub.choices["serve"]  # type: ignore[index]
    return sorted(
        option
        for action in serve._actions
        for option in action.option_strings
        if option.startswith("--") and option != "--help"
    )


@pytest.mark.parametrize("reason", [r.value for r in Reason])
def test_every_error_reason_is_in_the_readme(reason: str) -> None:
    """Each ErrorInfo reason the gateway can send appears in the README's error table."""
    assert f"`{reason}`" in README


@pytest.mark.parametrize("flag", _serve_flags())
def test_every_serve_flag_is_in_the_readme(flag: str) -> None:
    """Each `sofer-gateway serve` flag appears in the README."""
    assert f"`{flag}" in README
