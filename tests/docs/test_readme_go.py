"""The README's Go example (Clients, Go) runs as printed against a gateway like `make run`'s
(embedded sandbox, its own key, loopback): built against the committed generated/go code in
GOPATH mode, it creates a batch, watches it to COMPLETED and names an invalid request's reason
and fields; its retry service config makes gRPC retry an UNAVAILABLE read; and the README's
build block builds and runs it as printed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gateway.server.process import Gateway
from tests.helpers import REPO
from tests.helpers.calls import fault, upstream_count
from tests.helpers.golang import BUILD_GUARD, go_build, go_cache, go_run, require_go
from tests.helpers.processes import run_program

# One worker builds these programs, so that a cold GOCACHE compiles grpc-go once, not once per
# worker at the same time (make test: --dist loadgroup).
pytestmark = pytest.mark.xdist_group("go")

README = (REPO / "README.md").read_text()
GO_SECTION = README.split("\n### Go\n", 1)[1].split("\n### ", 1)[0]
# The section's ```go block and its ```sh build block, exactly as printed.
EXAMPLE = re.search(r"```go\n(.*?)```", GO_SECTION, re.S).group(1)  # type: ignore[union-attr]
BUILD = re.search(r"```sh\n(.*?)```", GO_SECTION, re.S).group(1)  # type: ignore[union-attr]

RETRYING = {"GRPC_GO_RETRY": "on"}
"""What the README says Debian's grpc-go 1.33 needs to apply a retry policy at all."""
SERVICE_CONFIG = ", grpc.WithDefaultServiceConfig(serviceConfig())"
STATUS_READ = "GET /v1/transcriptions/batch/{batch_id}/status"


async def run_example(
    gateway: Gateway, root: Path, code: str = EXAMPLE, env: dict[str, str] | None = None
) -> tuple[int, str]:
    """Build `code` (EXAMPLE) under `root` and run it, SOFER_GATEWAY_TARGET pointing at
    `gateway`, no token: its exit status and output."""
    source = root / "example" / "main.go"
    source.parent.mkdir()
    source.write_text(code)
    binary = await go_build(source, root)
    return await go_run(binary, env={"SOFER_GATEWAY_TARGET": gateway.address, **(env or {})})


def assert_the_example_ran(out: str) -> None:
    """The example's output: the batch and its count, COMPLETED last, then the invalid request's
    code and reason and its two fields at fault."""
    lines = out.splitlines()
    assert lines[0].split()[1] == "1", out
    assert lines[-4] == "BATCH_STATE_COMPLETED 1 1", out
    assert lines[-3] == "InvalidArgument REQUEST_INVALID", out
    fields = sorted(line.split(":")[0].strip() for line in lines[-2:])
    assert fields == ["audio_sources[0].audio_url", "info"], out


async def test_the_go_example_creates_watches_and_names_the_reason(
    embedded: Gateway, tmp_path: Path
) -> None:
    """The example runs as printed: it creates a batch, reads it back, watches it to COMPLETED,
    then prints an invalid request's REQUEST_INVALID reason and its BadRequest field paths,
    decoded by grpc's status package alone, with no token."""
    code, out = await run_example(embedded, tmp_path, env=RETRYING)
    assert code == 0, out
    assert_the_example_ran(out)


async def test_the_go_example_retries_a_read_that_fails_unavailable(
    embedded: Gateway, tmp_path: Path
) -> None:
    """With the upstream failing the next two status reads (503: the gateway answers
    UNAVAILABLE, making one attempt), grpc-go retries the example's GetBatchStatus under its
    service config and the third attempt succeeds; the example ends as usual."""
    assert embedded.sandbox is not None
    await fault(embedded.sandbox, status=503, count=2, method="GET", path_prefix="/v1/")
    code, out = await run_example(embedded, tmp_path, env=RETRYING)
    assert code == 0, out
    assert_the_example_ran(out)
    assert await upstream_count(embedded.sandbox, STATUS_READ) >= 3


@pytest.mark.parametrize(
    ("code", "env"),
    [
        pytest.param(EXAMPLE.replace(SERVICE_CONFIG, ""), RETRYING, id="no-service-config"),
        pytest.param(EXAMPLE, {}, id="no-GRPC_GO_RETRY"),
    ],
)
async def test_without_retries_the_same_fault_fails(
    embedded: Gateway, tmp_path: Path, code: str, env: dict[str, str]
) -> None:
    """The counterparts of the retry test above: without the service config, or (with Debian's
    grpc-go 1.33) without GRPC_GO_RETRY=on, the example fails on the first UNAVAILABLE, so only
    the two together make it pass."""
    assert SERVICE_CONFIG in EXAMPLE
    assert embedded.sandbox is not None
    await fault(embedded.sandbox, status=503, count=2, method="GET", path_prefix="/v1/")
    status, out = await run_example(embedded, tmp_path, code, env)
    assert status != 0
    assert "code = Unavailable" in out, out


async def test_the_build_block_builds_and_runs_the_example(
    embedded: Gateway, tmp_path: Path
) -> None:
    """The README's build block, run from the clone's root with the example saved where it says
    `path/to/main.go` (the only change), builds the example in a fresh GOPATH and runs it."""
    require_go()
    source = tmp_path / "main.go"
    source.write_text(EXAMPLE)
    script = BUILD.replace("path/to/main.go", str(source))
    env = {
        "SOFER_GATEWAY_TARGET": embedded.address,
        "TMPDIR": str(tmp_path),  # where the block's mktemp makes its GOPATH
        "GOCACHE": str(go_cache()),
        "GOFLAGS": "",
    }
    argv = ("bash", "-euo", "pipefail", "-c", script)
    status, out, err = await run_program(*argv, env=env, cwd=REPO, guard=BUILD_GUARD)
    assert status == 0, err
    assert_the_example_ran(out)
