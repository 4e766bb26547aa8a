"""What the tests share, once: servers, clients, calls and assertions.

- `calls`: gRPC calls against the gateway and their assertions (errors, details, eventually);
- `sandbox_http`: raw HTTP against the sandbox (its admin API, fixtures for its own tests);
- `upstream`: a manual clock and a scripted upstream for the upstream client's unit tests;
- `redis_server`: a real redis-server on a free loopback port;
- `processes`: `sofer-gateway serve` as a process;
- `pki`: a throw-away CA with server and client certificates;
- `node`: the Node interop clients;
- `golang`: building and running Go programs against the generated Go code;
- `streams`: draining streams and reading their status details;
- `flags`: the flags of a `sofer-gateway` sub-command, for the docs' tests.
"""

from pathlib import Path

REPO = next(p for p in Path(__file__).resolve().parents if (p / "pyproject.toml").is_file())
"""The repository's root: the nearest folder above these helpers with a pyproject.toml."""
