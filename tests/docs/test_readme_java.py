"""The README's Java example (Clients, Java) runs as printed, by Java's single-file source launch
(`java -cp CLASSPATH Example.java`), against a gateway like `make run`'s: it creates a batch,
reads it back, watches it to COMPLETED, and handles an invalid request by its ErrorInfo reason
and BadRequest field violations; its service config makes gRPC retry an UNAVAILABLE read."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gateway.config import GatewayConfig
from gateway.server.process import Gateway
from tests.helpers import REPO
from tests.helpers.calls import fault, upstream_count
from tests.helpers.java import JavaBuilder, run_java

# The README's only ```java block: the example exactly as printed.
EXAMPLES = re.findall(r"```java\n(.*?)```", (REPO / "README.md").read_text(), re.S)
STATUS_READ = "GET /v1/transcriptions/batch/{batch_id}/status"
CALLER_TOKEN = "sgw_java-example-caller-0123456789"
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"

# javac of the generated code (once per worker) and a JVM that compiles the example before it
# runs it outlast the default 120 s on a loaded 2-core machine.
# One worker compiles the generated Java code once for these tests (make test: --dist loadgroup).
pytestmark = [pytest.mark.timeout(300), pytest.mark.xdist_group("java")]


async def run_example(
    gateway: Gateway,
    builder: JavaBuilder,
    folder: Path,
    code: str | None = None,
    token: str | None = None,
) -> tuple[int, str, str]:
    """Save `code` (the README's example) as Example.java in `folder` and launch it as a single
    source file, SOFER_GATEWAY_TARGET pointing at `gateway`, SOFER_GATEWAY_TOKEN only when a
    `token` is given; its exit status, stdout and stderr."""
    assert len(EXAMPLES) == 1, "the README has one ```java block"
    (folder / "Example.java").write_text(EXAMPLES[0] if code is None else code)
    build = await builder.build()
    env = {"SOFER_GATEWAY_TARGET": gateway.address}
    if token is not None:
        env["SOFER_GATEWAY_TOKEN"] = token
    return await run_java(build.classpath, "Example.java", env=env, cwd=folder)


def watched(out: str) -> list[str]:
    """The example's watch lines (state, completed, total), between its first line and the
    invalid request's."""
    return [line for line in out.splitlines()[1:] if line.startswith("BATCH_STATE_")]


async def test_the_example_creates_watches_and_reads_a_bad_request(
    embedded: Gateway, java_builder: JavaBuilder, tmp_path: Path
) -> None:
    """The example runs as printed with no token: it prints the new batch's id and its one
    item, every state of the watch up to COMPLETED 1 of 1, then the invalid request's code and
    reason (INVALID_ARGUMENT REQUEST_INVALID) and one line per field violation: `info` and
    `audio_sources[0].audio_url`, each with its description."""
    code, out, err = await run_example(embedded, java_builder, tmp_path)

    assert code == 0, out + err
    lines = out.splitlines()
    assert re.fullmatch(f"{UUID} 1", lines[0]), out
    assert watched(out)[-1] == "BATCH_STATE_COMPLETED 1 1", out
    tail = lines[lines.index("INVALID_ARGUMENT REQUEST_INVALID") :]
    fields = [line.split(": ", 1) for line in tail[1:]]
    assert sorted(field.strip() for field, _ in fields) == ["audio_sources[0].audio_url", "info"]
    assert all(description for _, description in fields), out


async def test_the_example_sends_its_token_to_a_gateway_that_requires_one(
    java_builder: JavaBuilder, tmp_path: Path
) -> None:
    """Against a gateway that admits only callers with a token, the example sends
    SOFER_GATEWAY_TOKEN as its bearer token and runs to the end; the token is not printed."""
    config = GatewayConfig(
        listen="127.0.0.1:0",
        upstream_url=None,
        api_key=None,
        sandbox_item_seconds=0.3,
        caller_tokens=(CALLER_TOKEN,),
        shutdown_grace=0.5,
    )
    async with Gateway(config) as gateway:
        code, out, err = await run_example(gateway, java_builder, tmp_path, token=CALLER_TOKEN)

    assert code == 0, out + err
    assert watched(out)[-1] == "BATCH_STATE_COMPLETED 1 1", out
    assert CALLER_TOKEN not in out + err


async def test_the_example_retries_a_read_that_fails_unavailable(
    embedded: Gateway, java_builder: JavaBuilder, tmp_path: Path
) -> None:
    """With the upstream failing the next two status reads (503: the gateway answers
    UNAVAILABLE, making one attempt), grpc-java retries the example's GetBatchStatus under its
    service config and the third attempt succeeds; the example ends as usual."""
    assert embedded.sandbox is not None
    await fault(embedded.sandbox, status=503, count=2, method="GET", path_prefix="/v1/")

    code, out, err = await run_example(embedded, java_builder, tmp_path)

    assert code == 0, out + err
    assert watched(out)[-1] == "BATCH_STATE_COMPLETED 1 1", out
    assert await upstream_count(embedded.sandbox, STATUS_READ) >= 3


async def test_without_retries_the_same_fault_fails(
    embedded: Gateway, java_builder: JavaBuilder, tmp_path: Path
) -> None:
    """The counterpart of the retry test above: with grpc-java's retries disabled the example
    fails on the first UNAVAILABLE, so only its service config can make it pass."""
    assert embedded.sandbox is not None
    await fault(embedded.sandbox, status=503, count=2, method="GET", path_prefix="/v1/")
    assert EXAMPLES[0].count(".enableRetry()") == 1
    without = EXAMPLES[0].replace(".enableRetry()", ".disableRetry()")

    code, out, err = await run_example(embedded, java_builder, tmp_path, without)

    assert code != 0, out
    assert "UNAVAILABLE" in err
