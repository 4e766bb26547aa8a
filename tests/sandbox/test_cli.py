"""`sofer-gateway sandbox`: flags, and a real process that serves until SIGTERM/SIGINT."""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys

import httpx
import pytest
from sofer_sandbox.cli import config_from_args, parse_listen

from gateway.main import build_parser
from tests.helpers.sandbox_http import SSL_CONTEXT


def test_flags_build_the_config() -> None:
    """Every flag lands in SandboxConfig; --api-key repeats."""
    args = build_parser().parse_args(
        [
            "sandbox",
            "--listen",
            "127.0.0.1:0",
            "--item-seconds",
            "0.25",
            "--rate-limit",
            "5",
            "--api-key",
            "k1",
            "--api-key",
            "k2",
            "--manifest-validation-seconds",
            "0",
            "--start-balance-cents",
            "250",
        ]
    )
    config = config_from_args(args)
    assert config.start_balance_cents == 250
    assert args.listen == ("127.0.0.1", 0)
    assert (config.item_seconds, config.rate_limit) == (0.25, 5.0)
    assert config.api_keys == frozenset({"k1", "k2"})
    assert config.manifest_validation_seconds == 0.0


def test_defaults() -> None:
    """Without flags: 127.0.0.1:8001, 5 s items, 0.5 s validation, no limit, any token."""
    args = build_parser().parse_args(["sandbox"])
    config = config_from_args(args)
    assert args.listen == ("127.0.0.1", 8001)
    assert (config.item_seconds, config.manifest_validation_seconds) == (5.0, 0.5)
    assert config.rate_limit is None
    assert config.api_keys == frozenset()
    assert config.start_balance_cents == 100_000_000


def test_start_balance_none_means_no_accounts() -> None:
    """--start-balance-cents none: keys have no account until funded; a bad value is refused."""
    args = build_parser().parse_args(["sandbox", "--start-balance-cents", "none"])
    assert config_from_args(args).start_balance_cents is None
    with pytest.raises(SystemExit):
        build_parser().parse_args(["sandbox", "--start-balance-cents", "-5"])


@pytest.mark.parametrize("value", ["8001", "host:", ":80", "host:port"])
def test_bad_listen_values_are_refused(value: str) -> None:
    """--listen needs HOST:PORT."""
    with pytest.raises(argparse.ArgumentTypeError):
        parse_listen(value)


def test_ipv6_listen() -> None:
    """An IPv6 host is written in brackets."""
    assert parse_listen("[::1]:8001") == ("::1", 8001)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
async def test_process_serves_logs_its_url_and_exits_0_on_signal(sig: signal.Signals) -> None:
    """The command logs the URL it listens on, serves, and exits 0 on SIGTERM or SIGINT."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "gateway.main",
        "sandbox",
        "--listen",
        "127.0.0.1:0",
        "--api-key",
        "cli-secret-token",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stderr is not None
    try:
        url = None
        async with asyncio.timeout(30):
            while url is None:
                line = await process.stderr.readline()
                assert line, "the process ended before logging its URL"
                if line.startswith(b"{") and b"sandbox listening" in line:
                    url = json.loads(line)["url"]
        async with httpx.AsyncClient(base_url=url, verify=SSL_CONTEXT) as http:
            assert (await http.get("/v1/health/")).status_code == 200
            authed = await http.get(
                "/v1/transcriptions/batch-files",
                headers={"Authorization": "Bearer cli-secret-token"},
            )
            assert authed.status_code == 200
        process.send_signal(sig)
        async with asyncio.timeout(30):
            rest = await process.stderr.read()
            code = await process.wait()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert code == 0
    assert b"cli-secret-token" not in rest
