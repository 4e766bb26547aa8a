"""The README's Python client example ("Clients", Python) runs as printed against a gateway like
`make run`'s: it creates a batch with `request_id_for`, reads it, watches it to COMPLETED, and
reads an invalid request's reason and field violations from the typed error, printing what the
README shows."""

from __future__ import annotations

import re
import sys

from gateway.server.process import Gateway
from tests.helpers import REPO
from tests.helpers.processes import run_program

SECTION = (REPO / "README.md").read_text().split("\n### Python\n", 1)[1].split("\n### ", 1)[0]
EXAMPLE = re.search(r"```python\n(.*?)```", SECTION, re.S).group(1)  # type: ignore[union-attr]
OUTPUT = re.search(r"```text\n(.*?)```", SECTION, re.S).group(1)  # type: ignore[union-attr]
GUARD = 60.0


async def test_the_python_client_example_runs_as_printed(embedded: Gateway) -> None:
    """The example exits 0 and prints the README's output: the first state, the watch's
    updates ending COMPLETED (each state once, in order), then REQUEST_INVALID with the two
    field violations. Run again, it gets the same batch back (the same call id, so the same
    request_id), already COMPLETED, rather than a second one."""
    env = {"SOFER_GATEWAY_TARGET": embedded.address}
    code, out, err = await run_program(sys.executable, "-c", EXAMPLE, env=env, guard=GUARD)
    assert code == 0, err
    lines, printed = out.splitlines(), OUTPUT.splitlines()
    assert lines[0] == printed[0]
    assert lines[-2:] == printed[-2:]
    updates = lines[1:-1]
    assert updates == sorted(set(updates), key=updates.index)  # no repeats
    assert {line.split()[0] for line in updates} <= {line.split()[0] for line in printed[1:-1]}

    again, out_again, err_again = await run_program(
        sys.executable, "-c", EXAMPLE, env=env, guard=GUARD
    )
    assert again == 0, err_again
    assert out_again.splitlines() == [
        "BATCH_STATE_COMPLETED",
        "BATCH_STATE_COMPLETED 1",
        printed[-1],
    ]
