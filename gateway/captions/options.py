"""Caption options: what a caller may change of the cue rules (ExportTranscription's
`caption_options`), today's rules as the defaults.

Pure: the values only; their ranges are gateway.validation's, which refuses a request breaking
them before anything is rendered.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_LINE_CHARS = 42
MAX_CUE_SECONDS = 7.0


@dataclass(frozen=True, slots=True)
class CaptionOptions:
    """How cues are cut (characters per line, seconds per cue) and whether speakers are named."""

    line_chars: int = MAX_LINE_CHARS
    cue_seconds: float = MAX_CUE_SECONDS
    speaker_labels: bool = True


DEFAULT_OPTIONS = CaptionOptions()
