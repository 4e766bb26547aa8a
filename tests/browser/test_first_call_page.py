"""A real browser calls the gateway: docs/examples/browser/ in headless Chromium.

The page (TypeScript with @connectrpc/connect-web and the generated client of generated/ts/,
bundled by esbuild from node_modules) is served from an origin of its own on loopback, so the
browser makes real cross-origin calls, preflights included, to `make run`'s gateway (the embedded
sandbox, MAKE_RUN) with its HTTP port on and that origin allowed (--http-cors-origin). It holds a
caller token, never the gateway's key. Debian's chromium (make browser-tools) is driven by
Playwright through its executable_path: no browser is downloaded.

The screenshot is kept under the test's tmp_path; with SOFER_GATEWAY_UPDATE_SCREENSHOTS=1 it also
replaces docs/images/browser-first-call.png, which docs/first-call.md shows.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import threading
from collections.abc import AsyncIterator, Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import async_playwright

from gateway.connect.server import faces_of
from gateway.server.process import Gateway
from tests.helpers import REPO
from tests.helpers.gateways import MAKE_RUN
from tests.helpers.node import require_packages
from tests.helpers.processes import run_program

CHROMIUM = Path("/usr/bin/chromium")
PAGE = REPO / "docs" / "examples" / "browser"
SCREENSHOT = REPO / "docs" / "images" / "browser-first-call.png"
CALLER_TOKEN = "sgw_browser-page-demo-token"
WAIT_MS = 30_000

pytestmark = pytest.mark.skipif(
    not CHROMIUM.is_file(), reason="no /usr/bin/chromium: run make browser-tools"
)


async def test_the_page_type_checks_against_the_generated_client() -> None:
    """app.ts compiles under TypeScript's strict checks against generated/ts/ and the pinned
    Connect packages: a renamed field or RPC in the protos breaks the example here."""
    require_packages(["typescript", "@connectrpc/connect-web"])
    status, out, err = await run_program(
        str(REPO / "node_modules" / ".bin" / "tsc"), "-p", str(PAGE / "tsconfig.json"), cwd=REPO
    )
    assert status == 0, out + err


class _Quiet(SimpleHTTPRequestHandler):
    """Static files, without a log line per request."""

    def log_message(self, format: str, *args: Any) -> None:
        """Nothing: the test reads the page, not the server's log."""


@pytest.fixture
async def site(tmp_path: Path) -> Path:
    """The page bundled as a browser loads it: index.html and app.js (esbuild)."""
    require_packages(["esbuild", "@connectrpc/connect-web"])
    out = tmp_path / "site"
    out.mkdir()
    shutil.copy(PAGE / "index.html", out / "index.html")
    status, _, err = await run_program(
        str(REPO / "node_modules" / ".bin" / "esbuild"),
        str(PAGE / "app.ts"),
        "--bundle",
        "--format=esm",
        "--platform=browser",
        "--target=es2022",
        f"--outfile={out / 'app.js'}",
        cwd=REPO,
    )
    assert status == 0, err
    return out


@pytest.fixture
def origin(site: Path) -> Iterator[str]:
    """The page's origin: a static file server on a free loopback port."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
async def gateway_url(origin: str) -> AsyncIterator[str]:
    """`make run`'s gateway with its HTTP port, allowing the page's origin and one caller token:
    the base URL of its HTTP port."""
    config = dataclasses.replace(
        MAKE_RUN,
        http_listen="127.0.0.1:0",
        http_cors_origin=origin,
        caller_tokens=(CALLER_TOKEN,),
    )
    async with Gateway(config, faces_of(config)) as running:
        yield f"http://127.0.0.1:{running.faces[0].port}"


async def test_a_browser_page_creates_a_batch_and_watches_it_to_completed(
    origin: str, gateway_url: str, tmp_path: Path
) -> None:
    """A page in Chromium creates an express batch over Connect and shows each WatchBatchStatus
    message until the stream ends after BATCH_STATE_COMPLETED, calling from another origin with
    a caller token; the screenshot shows the finished page."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM))
        try:
            page = await browser.new_page(viewport={"width": 900, "height": 380})
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            await page.goto(f"{origin}/index.html#gateway={gateway_url}&token={CALLER_TOKEN}")
            await page.wait_for_function(
                "document.getElementById('result').dataset.state !== 'running'", timeout=WAIT_MS
            )
            state = await page.get_attribute("#result", "data-state")
            result = await page.inner_text("#result")
            rows = await page.locator("#updates tr").all_inner_texts()
            batch = await page.inner_text("#batch")
            shot = tmp_path / "browser-first-call.png"
            await page.screenshot(path=str(shot))
        finally:
            await browser.close()
    assert errors == []
    assert state == "BATCH_STATE_COMPLETED", result
    assert len(batch) == 36  # the created batch's UUID
    assert rows, "no WatchBatchStatus message was shown"
    assert "BATCH_STATE_COMPLETED" in rows[-1]
    assert shot.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    if os.environ.get("SOFER_GATEWAY_UPDATE_SCREENSHOTS") == "1":
        SCREENSHOT.parent.mkdir(exist_ok=True)
        shutil.copy(shot, SCREENSHOT)


async def test_a_page_from_an_origin_not_allowed_gets_no_answer(
    origin: str, site: Path, tmp_path: Path
) -> None:
    """The same page served from an origin the gateway does not list in --http-cors-origin: the
    browser refuses the call (the gateway answers its preflight without CORS headers), and the
    page shows an error, not a batch."""
    config = dataclasses.replace(
        MAKE_RUN,
        http_listen="127.0.0.1:0",
        http_cors_origin="https://dashboard.example.com",
        caller_tokens=(CALLER_TOKEN,),
    )
    async with Gateway(config, faces_of(config)) as running, async_playwright() as playwright:
        gateway_url = f"http://127.0.0.1:{running.faces[0].port}"
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM))
        try:
            page = await browser.new_page()
            await page.goto(f"{origin}/index.html#gateway={gateway_url}&token={CALLER_TOKEN}")
            await page.wait_for_function(
                "document.getElementById('result').dataset.state !== 'running'", timeout=WAIT_MS
            )
            state = await page.get_attribute("#result", "data-state")
            batch = await page.inner_text("#batch")
        finally:
            await browser.close()
    assert state == "error"
    assert batch == "…"
