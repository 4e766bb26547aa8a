"""The `sofer-gateway` command table (gateway.main): each sub-command runs its own runner."""

from __future__ import annotations

import pytest

from gateway.main import build_parser, commands
from tests.helpers.flags import flags_of

ARGUMENTS = {
    "submit": ["https://cdn.example.com/a.mp3"],
    "watch": ["a-batch"],
    "fetch": ["a-batch", "--out", "somewhere"],
    "estimate": ["https://cdn.example.com/a.mp3"],
    "extract": ["https://www.youtube.com/watch?v=abc123"],
    "webhooks": ["listen", "--port", "0"],
}
"""What each sub-command needs besides its name to parse."""
KEPT = ("runner", "client_parser", "client_body", "health_parser")
"""Where the parsed arguments keep what runs them: no flag may have these names."""


@pytest.mark.parametrize("command", sorted(commands()))
def test_each_command_runs_its_own_runner(command: str) -> None:
    """`sofer-gateway COMMAND ...` is run by COMMAND's runner, and no flag of it is named like
    the attributes that carry the runner (a flag of that name would replace it)."""
    args = build_parser().parse_args([command, *ARGUMENTS.get(command, [])])
    assert args.runner is commands()[command][2]
    clashing = {f"--{name.replace('_', '-')}" for name in KEPT} & set(flags_of(command))
    assert clashing == set()
