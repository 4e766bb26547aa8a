"""The sandbox upstream: a real HTTP server that stands in for the Sofer.ai batch API.

See docs/sandbox.md. `create_app` builds the Starlette app; `SandboxServer` serves it with
uvicorn inside the running event loop; `SandboxConfig` holds the knobs.
"""

from gateway.sandbox.app import create_app
from gateway.sandbox.config import SandboxConfig
from gateway.sandbox.server import SandboxServer

__all__ = ["SandboxConfig", "SandboxServer", "create_app"]
