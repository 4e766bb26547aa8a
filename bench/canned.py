"""The fast upstream's canned answer: one 10-item BatchStatusResponse, checked twice.

The body must be what the real API could send, or the benchmark measures an error path: it is
parsed by the gateway's own decoder (`BatchStatusResponse.from_json`) and validated against the
vendored OpenAPI spec (`spec/sofer-openapi.json`, with openapi-core, as the sandbox conformance
tests do) before nginx serves it.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from gateway.upstream.models import BatchStatusResponse

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "spec" / "sofer-openapi.json"
ITEMS = 10
# Fixed ids: the same bytes every run, so runs compare.
BATCH_ID = "6f1d2c3b-4a5e-4f60-8a7b-9c0d1e2f3a4b"
SPEC_HOST = "http://localhost:8001"  # a server URL the spec lists, so openapi-core finds paths


def _item(index: int) -> dict[str, Any]:
    done = index < 6  # 6 completed, 4 processing: a batch in progress, every field filled
    return {
        "id": str(uuid.UUID(int=0x5EED_0000_0000_4000_8000_0000_0000_0000 + index)),
        "client_item_id": f"shiur-{index}",
        "title": f"Shiur {index}",
        "created_at": "2026-01-15T09:30:00Z",
        "primary_language": "he",
        "hebrew_word_format": ["he"],
        "num_speakers": 2 if done else None,
        "status": "COMPLETED" if done else "PROCESSING",
        "duration": 1800 if done else None,  # the spec says integer
        "model": "sofer-v2",
    }


def status_body(batch_id: str = BATCH_ID) -> dict[str, Any]:
    """The canned BatchStatusResponse: ITEMS items, 6 completed, 4 processing."""
    items = [_item(i) for i in range(ITEMS)]
    done = sum(1 for i in items if i["status"] == "COMPLETED")
    return {
        "batch_id": batch_id,
        "status": "PROCESSING",
        "total_count": ITEMS,
        "completed_count": done,
        "failed_count": 0,
        "pending_count": ITEMS - done,
        "transcriptions": items,
    }


def status_bytes(batch_id: str = BATCH_ID) -> bytes:
    """The body as nginx serves it (compact JSON, as an API would send)."""
    return json.dumps(status_body(batch_id), separators=(",", ":")).encode()


def check(body: bytes, batch_id: str = BATCH_ID) -> BatchStatusResponse:
    """Parse `body` with the gateway's decoder and validate it against the spec; raise on
    anything either refuses."""
    parsed = BatchStatusResponse.from_json(json.loads(body))
    if len(parsed.transcriptions) != ITEMS:
        raise ValueError(f"canned body has {len(parsed.transcriptions)} items, want {ITEMS}")
    # Imported here: openapi-core is a dev dependency and slow to import.
    from openapi_core import Config, OpenAPI
    from openapi_core.testing import MockRequest, MockResponse

    openapi = OpenAPI.from_file_path(str(SPEC), config=Config(spec_validator_cls=None))
    request = MockRequest(
        SPEC_HOST, "get", f"/v1/transcriptions/batch/{batch_id}/status", headers={}
    )
    response = MockResponse(body, status_code=200, content_type="application/json")
    openapi.validate_response(request, response)
    return parsed
