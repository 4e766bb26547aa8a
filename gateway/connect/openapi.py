"""The OpenAPI document of the Connect JSON endpoints, as the HTTP port serves it.

The document is package data (gateway/connect/openapi.json), generated from the protos by
tools/connect_openapi.py (`make generate`; docs/openapi.md), never edited by hand. It is read
once and served as it is at GET /openapi.json, so that a client generator or a person can fetch
the contract of the very gateway they call.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

OPENAPI_PATH = "/openapi.json"
"""Where the HTTP port serves the document."""

CONTENT_TYPE = "application/json"


@cache
def openapi_document() -> bytes:
    """The document's bytes (UTF-8 JSON), read from the installed package once."""
    return files(__package__).joinpath("openapi.json").read_bytes()
