"""The flags of a `sofer-gateway` sub-command, read from its usage line (argparse's public
output), for the tests that hold the docs to the command line."""

from __future__ import annotations

import argparse
import re

from gateway.main import commands

_FLAG = re.compile(r"(?<![\w-])--[a-z0-9][a-z0-9-]*")


def flags_of(command: str) -> list[str]:
    """Every `--flag` of `command` (argparse's usage names each option it does not hide)."""
    _, register, _ = commands()[command]
    parser = argparse.ArgumentParser(prog=command)
    register(parser)
    return sorted(set(_FLAG.findall(parser.format_usage())))
