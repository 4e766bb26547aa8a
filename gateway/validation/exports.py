"""Rules of ExportTranscription's caption options and of WatchManifest (issue 22, items 5-6).

Pure: imports nothing of the gateway's but its validation rules; no I/O.
"""

from __future__ import annotations

import math

from sofer.batch.v1 import batch_service_pb2

from gateway.validation.rules import Reason, Violation, Violations, _uuid

MIN_LINE_CHARS = 16
MAX_LINE_CHARS = 200
MIN_CUE_SECONDS = 1.0
MAX_CUE_SECONDS = 60.0


def check_caption_options(out: Violations, options: batch_service_pb2.CaptionOptions) -> None:
    """Each set field of `caption_options` within its range (unset fields keep the defaults)."""
    if options.HasField("max_line_characters") and not (
        MIN_LINE_CHARS <= options.max_line_characters <= MAX_LINE_CHARS
    ):
        out.append(
            Violation(
                "caption_options.max_line_characters",
                Reason.OUT_OF_RANGE,
                f"must be between {MIN_LINE_CHARS} and {MAX_LINE_CHARS}",
            )
        )
    seconds = options.max_cue_seconds
    if options.HasField("max_cue_seconds") and not (
        math.isfinite(seconds) and MIN_CUE_SECONDS <= seconds <= MAX_CUE_SECONDS
    ):
        out.append(
            Violation(
                "caption_options.max_cue_seconds",
                Reason.OUT_OF_RANGE,
                f"must be a number from {MIN_CUE_SECONDS:g} to {MAX_CUE_SECONDS:g}",
            )
        )


def validate_watch_manifest(request: batch_service_pb2.WatchManifestRequest) -> Violations:
    """`batch_file_id` is a required UUID."""
    out: Violations = []
    _uuid(out, "batch_file_id", request.batch_file_id, required=True)
    return out
