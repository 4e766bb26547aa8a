"""The fast upstream: nginx in the foreground serving canned bodies (bench/canned.py).

Its cost per answer (tens of microseconds) is small against any Python server's, so a server's
CPU per call in front of it is the server's own cost. nginx runs with its own prefix under the
run's temporary directory (`nginx -p PREFIX -c ... -e ...`, `daemon off`); its access log
counts the upstream requests a scenario caused.

Every batch id gets the same canned bytes, except ids starting `aaaaaaaa-` (OWN_TAG): their
answer names them as its batch_id, so no two of them are byte for byte the same (what distinct
batches of a real upstream give).
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from bench import canned
from bench.procs import Child, free_port, wait_port

TEMPLATE = Path(__file__).with_name("nginx.conf.template")
OWN_TAG = "aaaaaaaa"
"""The first group of the batch ids whose answer is their own (the id in its batch_id), not the
shared canned bytes."""
_OWN_ID = "$own_id"
"""nginx's variable holding such an id (the location's named capture)."""


def nginx_binary() -> str | None:
    """The nginx executable (often in /usr/sbin, which a user's PATH may lack), or None."""
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")


@dataclass
class Nginx:
    """A running nginx upstream."""

    child: Child
    url: str
    prefix: Path

    @property
    def access_log(self) -> Path:
        """One line per request answered."""
        return self.prefix / "access.log"

    def requests(self) -> int:
        """Requests answered so far (lines of the access log)."""
        with self.access_log.open("rb") as log:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: log.read(1 << 20), b""))

    def status_requests(self) -> int:
        """GET .../status requests answered 200 so far."""
        with self.access_log.open() as log:
            return sum(1 for line in log if line.startswith("GET ") and line.endswith(" 200\n"))


def render(prefix: Path, port: int, status_body: bytes) -> str:
    """The config for `prefix`, `port` and the canned status body."""
    body = status_body.decode()
    # Inside an nginx '...' string: a quote would end it, $ start a variable, \ escape.
    if any(c in body for c in "'$\\"):
        raise ValueError("the canned body must not contain ', $ or \\")
    canned_id = f'"batch_id":"{canned.BATCH_ID}"'
    if body.count(canned_id) != 1:
        raise ValueError(f"the canned body must hold {canned_id} once")
    own_body = body.replace(canned_id, f'"batch_id":"{_OWN_ID}"')
    text = TEMPLATE.read_text()
    for name, value in (
        ("PREFIX", str(prefix)),
        ("PORT", str(port)),
        ("STATUS_BODY", body),
        ("OWN_STATUS_BODY", own_body),
        ("OWN_TAG", OWN_TAG),
    ):
        text = text.replace("{{" + name + "}}", value)
    return text


@contextlib.asynccontextmanager
async def nginx_upstream(work_dir: Path) -> AsyncIterator[Nginx]:
    """nginx on a free loopback port for the block's duration."""
    binary = nginx_binary()
    if binary is None:
        raise RuntimeError("nginx not found: run bench/install-tools.sh")
    prefix = work_dir / "nginx"
    prefix.mkdir(parents=True)
    body = canned.status_bytes()
    canned.check(body)
    port = free_port()
    config = prefix / "nginx.conf"
    config.write_text(render(prefix, port, body))
    # -e: the error log before the config is read (else the compiled-in /var/log path).
    argv = [binary, "-p", str(prefix), "-c", str(config), "-e", str(prefix / "error.log")]
    child = await Child.spawn("nginx", argv, work_dir)
    try:
        await wait_port("127.0.0.1", port, child)
        yield Nginx(child=child, url=f"http://127.0.0.1:{port}", prefix=prefix)
    finally:
        await child.stop()
