"""The README documents every error reason and every `serve` flag the code has."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from gateway.config import flags_table
from gateway.contract.errors import Reason
from tests.helpers import REPO
from tests.helpers.flags import flags_of

README = (REPO / "README.md").read_text()


@pytest.mark.parametrize("reason", [r.value for r in Reason])
def test_every_error_reason_is_in_the_readme(reason: str) -> None:
    """Each ErrorInfo reason the gateway can send appears in the README's error table."""
    assert f"`{reason}`" in README


@pytest.mark.parametrize("flag", flags_of("serve"))
def test_every_serve_flag_is_in_the_readme(flag: str) -> None:
    """Each `sofer-gateway serve` flag appears in the README."""
    assert f"`{flag}" in README


def _tracked_text_files() -> list[Path]:
    repo = REPO
    listed = subprocess.run(
        ["git", "ls-files", "-z"],  # noqa: S607 (git from PATH, as every developer runs it)
        cwd=repo,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    skip = {"package-lock.json"}
    files = []
    for name in (n.decode() for n in listed if n):
        path = repo / name
        if name in skip or name.startswith("generated/") or not path.is_file():
            continue
        if path.suffix in {".py", ".md", ".mjs", ".json", ".yaml", ".yml", ".toml", ""}:
            files.append(path)
    return files


def test_nothing_refers_to_a_path_outside_the_repository() -> None:
    """A clone anywhere has what it needs: no code, test, script or doc of the project names a
    path beside the clone (the upstream spec is vendored in spec/, the google.rpc protos for
    Node come from npm)."""
    outside = re.compile(r"\.\./shared\b|parents\[2\]|site-packages")
    offenders = [
        f"{path.name}:{number}"
        for path in _tracked_text_files()
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1)
        if outside.search(line) and path != Path(__file__)
    ]
    assert offenders == []


def test_the_vendored_spec_is_the_upstreams_openapi_document() -> None:
    """spec/sofer-openapi.json is an OpenAPI 3 document with the operations the gateway covers,
    and spec/README.md names its source and how to refresh it."""
    repo = REPO
    spec = json.loads((repo / "spec" / "sofer-openapi.json").read_text())
    assert spec["openapi"].startswith("3.")
    operations = {op["operationId"] for item in spec["paths"].values() for op in item.values()}
    assert "batchTranscribe_getBatchStatus" in operations
    readme = (repo / "spec" / "README.md").read_text()
    assert "SoferAi/soferai-openapi" in readme
    assert "4ceb2981" in readme
    assert "Refreshing it" in readme


def test_the_readme_settings_table_is_generated_from_the_config() -> None:
    """The README's table of `serve` settings is exactly what gateway.config.flags_table()
    makes from the one definition of the settings (`.venv/bin/python -m gateway.config`
    rewrites it after a setting is added or changed)."""
    start = README.index("<!-- flags:start")
    body = README[README.index("\n", start) + 1 : README.index("<!-- flags:end -->")]
    assert body == flags_table()


def _retry_block(start: str, end: str) -> set[str]:
    block = README[README.index(start) :]
    block = block[: block.index(end)]
    return set(re.findall(r"\b(?:Get|List|Create|Upload|Export|Estimate|Extract)[A-Za-z]+", block))


@pytest.mark.parametrize(
    ("language", "start", "end"),
    [
        ("go", "func serviceConfig() string {", "names = append"),
        ("java", "List<Map<String, String>> names = Stream.of(", ".map(m ->"),
    ],
)
def test_the_readme_retry_lists_name_what_the_client_package_retries(
    language: str, start: str, end: str
) -> None:
    """The Go and Java examples retry the same RPCs as sofer-gateway-client's service config:
    every read and every create with a request_id, the workflow's new RPCs included."""
    from sofer_gateway_client.channel import CREATES, READS

    assert _retry_block(start, end) == set(READS) | set(CREATES), language
