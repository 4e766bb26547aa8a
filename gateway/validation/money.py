"""The rules of the money RPCs' requests (GetBalance, EstimateCost); see their proto comments.

Pure, like the rest of the package: the generated protos and the shared rules only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sofer.batch.v1 import batch_service_pb2 as pb

from gateway.validation.rules import (
    MAX_EXPRESS_ITEMS,
    MAX_MANIFEST_ITEMS,
    Reason,
    Violation,
    Violations,
    _audio_sources,
    _count,
    _enum,
    _info,
    _uuid,
)

_MAX_ITEMS = {
    pb.COSTED_WORK_EXPRESS_BATCH: (MAX_EXPRESS_ITEMS, "an express batch"),
    pb.COSTED_WORK_STANDARD_BATCH: (MAX_MANIFEST_ITEMS, "a standard batch"),
    pb.COSTED_WORK_SINGLE_TRANSCRIPTION: (1, "a single transcription"),
}


def validate_get_balance(request: pb.GetBalanceRequest) -> Violations:
    """No fields, no rules."""
    return []


def validate_estimate_cost(request: pb.EstimateCostRequest) -> Violations:
    """`work` a known kind; `info`'s rules when given; the items' count for the kind and each
    item's rules, or instead of the items a manifest's `batch_file_id` (a standard batch only)."""
    out: Violations = []
    _enum(out, "work", request.work, pb.CostedWork.DESCRIPTOR)
    if request.work == pb.COSTED_WORK_UNSPECIFIED:
        out.append(Violation("work", Reason.REQUIRED, "must say what kind of work to price"))
    if request.HasField("info"):
        _info(out, request.info)
    sources = request.audio_sources
    if request.batch_file_id:
        _uuid(out, "batch_file_id", request.batch_file_id, required=True)
        if request.work not in (pb.COSTED_WORK_STANDARD_BATCH, pb.COSTED_WORK_UNSPECIFIED):
            out.append(
                Violation("batch_file_id", Reason.NOT_ALLOWED, "is only for a standard batch")
            )
        if sources:
            out.append(
                Violation(
                    "audio_sources",
                    Reason.NOT_ALLOWED,
                    "must be empty with batch_file_id (exactly one of the two)",
                )
            )
        return out
    limit = _MAX_ITEMS.get(request.work)
    if limit is not None:
        high, what = limit
        rule = "must have exactly 1 item" if high == 1 else f"must have 1 to {high} items"
        _count(out, "audio_sources", sources, high, f"{rule} for {what}")
    _audio_sources(out, "audio_sources", sources, "request")
    return out


VALIDATORS: Mapping[str, Callable[[Any], Violations]] = {
    "sofer.batch.v1.GetBalanceRequest": validate_get_balance,
    "sofer.batch.v1.EstimateCostRequest": validate_estimate_cost,
}
"""The validators of this module, by request message (gateway.validation.validate)."""
