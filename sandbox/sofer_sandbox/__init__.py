"""The sandbox upstream: a real HTTP server that stands in for the Sofer.ai batch API.

See docs/sandbox.md. `create_app` builds the Starlette app; `SandboxServer` serves it with
uvicorn inside the running event loop; `SandboxConfig` holds the knobs.
"""

from sofer_sandbox.app import create_app
from sofer_sandbox.config import SandboxConfig
from sofer_sandbox.server import SandboxServer

__all__ = ["SandboxConfig", "SandboxServer", "create_app"]
