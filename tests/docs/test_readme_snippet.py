"""The README's "Python first call" snippet runs as printed against a gateway like `make run`'s
(embedded sandbox, its own key, loopback); the retry service config of the client package's
channel, which it uses, names every read and create, and gRPC retries an UNAVAILABLE the gateway
itself answers (the gateway sends no response headers before an error, so the call is not
committed)."""

from __future__ import annotations

import re
import sys
from typing import Any

from sofer_gateway_client import SERVICE_CONFIG

from gateway.server.process import Gateway
from tests.helpers import REPO
from tests.helpers.calls import fault, upstream_count
from tests.helpers.processes import run_program

# The snippet exactly as the README prints it (between ```python and ```).
README = REPO / "README.md"
# The README's first ```python block: the snippet exactly as printed there.
SNIPPET = re.search(r"```python\n(.*?)```", README.read_text(), re.S).group(1)  # type: ignore[union-attr]

GUARD = 60.0
CHANNEL = "with channel(target) as ch:"
NO_RETRIES = 'with channel(target, options=[("grpc.enable_retries", 0)]) as ch:'
STATUS_READ = "GET /v1/transcriptions/batch/{batch_id}/status"


async def run_snippet(gateway: Gateway, code: str = SNIPPET) -> tuple[int, str, str]:
    """Run `code` (SNIPPET) in a fresh interpreter, SOFER_GATEWAY_TARGET pointing at `gateway`,
    no token; its exit status, stdout and stderr."""
    env = {"SOFER_GATEWAY_TARGET": gateway.address}
    return await run_program(sys.executable, "-c", code, env=env, guard=GUARD)


async def test_the_snippet_creates_and_watches_a_batch(embedded: Gateway) -> None:
    """The snippet runs as printed: it creates a batch, reads it back and watches it to
    COMPLETED, with no token (the gateway's own sandbox key on loopback)."""
    code, out, err = await run_snippet(embedded)
    assert code == 0, err
    first, *updates = out.splitlines()
    assert first.split()[1] == "1"
    assert updates[-1] == "BATCH_STATE_COMPLETED 1 1"


async def test_the_snippet_retries_a_read_that_fails_unavailable(embedded: Gateway) -> None:
    """With the upstream failing the next two status reads (503: the gateway answers
    UNAVAILABLE, making one attempt), the snippet's GetBatchStatus is retried by gRPC under its
    service config and succeeds on the third attempt; the snippet ends as usual."""
    assert embedded.sandbox is not None
    await fault(embedded.sandbox, status=503, count=2, method="GET", path_prefix="/v1/")
    code, out, err = await run_snippet(embedded)
    assert code == 0, err
    assert out.splitlines()[-1] == "BATCH_STATE_COMPLETED 1 1"
    assert await upstream_count(embedded.sandbox, STATUS_READ) >= 3


async def test_without_the_service_config_the_same_fault_fails(embedded: Gateway) -> None:
    """The counterpart of the retry test above: with gRPC's retries off, the snippet fails on
    the first UNAVAILABLE (raised as the package's typed Unavailable), so only the channel's
    service config can make it pass."""
    assert embedded.sandbox is not None
    await fault(embedded.sandbox, status=503, count=2, method="GET", path_prefix="/v1/")
    assert CHANNEL in SNIPPET
    code, _, err = await run_snippet(embedded, SNIPPET.replace(CHANNEL, NO_RETRIES))
    assert code != 0
    assert "sofer_gateway_client.errors.Unavailable: UNAVAILABLE" in err


def test_the_config_retries_unavailable_for_every_read_and_create() -> None:
    """The client package's service config (the snippet's channel) names the reads and
    the creates, each retrying UNAVAILABLE only (never DEADLINE_EXCEEDED or other codes,
    whose outcome a retry could duplicate)."""
    config: dict[str, Any] = SERVICE_CONFIG
    by_method = {
        name["method"]: entry["retryPolicy"]["retryableStatusCodes"]
        for entry in config["methodConfig"]
        for name in entry["name"]
    }
    reads = ["GetBatchStatus", "GetBatchItem", "GetTranscription", "GetTranscriptionStatus"]
    reads += ["GetManifest", "ListManifests", "ExportTranscription"]
    reads += ["GetBalance", "EstimateCost"]  # --- money ---
    reads += ["ListTranscriptions", "ExtractLink", "ListSupportedSites"]
    creates = ["CreateBatch", "UploadManifest", "CreateManifestFromRss"]
    creates += ["CreateTranscription", "UploadTranscription"]  # issue 22: single transcriptions
    assert by_method == {method: ["UNAVAILABLE"] for method in reads + creates}
