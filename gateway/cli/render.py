"""What the client commands print: the live progress line, the final table, the JSON lines."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from collections.abc import Sequence
from typing import Any, TextIO

from google.protobuf import json_format
from google.protobuf.message import Message
from sofer.batch.v1 import batch_pb2

_BAR_WIDTH = 20
_TITLE_WIDTH = 50


def _enum_name(
    enum: Any,  # a generated EnumTypeWrapper
    value: int,
    prefix: str,
) -> str:
    """`BATCH_STATE_COMPLETED` -> `COMPLETED`; an unknown number stays a number."""
    try:
        name: str = enum.Name(value)
    except ValueError:
        return str(value)
    return name.removeprefix(prefix)


def batch_state_name(state: int) -> str:
    """The short name of a `BatchState` (`COMPLETED`)."""
    return _enum_name(batch_pb2.BatchState, state, "BATCH_STATE_")


def item_state_name(state: int) -> str:
    """The short name of a `TranscriptionState` (`PROCESSING`)."""
    return _enum_name(batch_pb2.TranscriptionState, state, "TRANSCRIPTION_STATE_")


def format_seconds(seconds: float) -> str:
    """Elapsed time for people: `7s`, `3m05s`, `1h02m03s`."""
    whole = max(0, int(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m{secs:02d}s"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"


def format_duration(info: batch_pb2.TranscriptionInfo) -> str:
    """An item's audio duration as `m:ss` or `h:mm:ss`; `-` while unknown."""
    if not info.HasField("duration"):
        return "-"
    whole = max(0, round(info.duration))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _bar(done: int, total: int) -> str:
    filled = _BAR_WIDTH if total <= 0 else min(_BAR_WIDTH, done * _BAR_WIDTH // total)
    return "[" + "#" * filled + "-" * (_BAR_WIDTH - filled) + "]"


def state_counts(status: batch_pb2.BatchStatus) -> str:
    """Items per state, in the enum's order (`received 1, processing 2, completed 3`).

    Without a transcription list, the batch's own counts (completed, failed, pending).
    """
    if not status.transcriptions:
        return (
            f"completed {status.completed_count}, failed {status.failed_count}, "
            f"pending {status.pending_count}"
        )
    counts = Counter(info.state for info in status.transcriptions)
    return ", ".join(
        f"{item_state_name(state).lower()} {counts[state]}" for state in sorted(counts)
    )


def progress_line(status: batch_pb2.BatchStatus, elapsed: float) -> str:
    """One line of progress: state, bar, done/total, items per state, time since the watch began."""
    done = status.completed_count + status.failed_count
    total = status.total_count
    return (
        f"{batch_state_name(status.state):<10} {_bar(done, total)} {done}/{total} done"
        f" | {state_counts(status)} | {format_seconds(elapsed)}"
    )


def summary_line(status: batch_pb2.BatchStatus, elapsed: float) -> str:
    """The line above the final table."""
    return (
        f"batch {status.batch_id} {batch_state_name(status.state)}: "
        f"{status.completed_count} completed, {status.failed_count} failed, "
        f"{status.pending_count} pending of {status.total_count} "
        f"(watched {format_seconds(elapsed)})"
    )


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def items_table(
    items: Sequence[batch_pb2.TranscriptionInfo],
    extra: tuple[str, Sequence[str]] | None = None,
) -> str:
    """The final table: client_item_id, title, status, duration; one row per item, in order.

    `extra` adds a last column: its header and one cell per item (`fetch`'s files).
    """
    header: tuple[str, ...] = ("CLIENT_ITEM_ID", "TITLE", "STATUS", "DURATION")
    rows = [header] + [
        (
            info.client_item_id or "-",
            _clip(" ".join(info.title.split()) or "-", _TITLE_WIDTH),
            item_state_name(info.state),
            format_duration(info),
        )
        for info in items
    ]
    if extra is not None:
        name, cells = extra
        rows = [(*row, cell) for row, cell in zip(rows, (name, *cells), strict=True)]
        header = rows[0]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    return "\n".join(lines) + "\n"


def message_dict(message: Message) -> dict[str, Any]:
    """A message as the JSON lines print it: proto field names, enum names, zeros included."""
    return json_format.MessageToDict(
        message, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
    )


def write_json_line(out: TextIO, value: dict[str, Any]) -> None:
    """One JSON object on one line, flushed at once (scripts read it as it comes)."""
    out.write(json.dumps(value, ensure_ascii=False) + "\n")
    out.flush()


class LiveLine:
    """The progress line: redrawn in place (\\r) on a terminal, one line per update elsewhere."""

    def __init__(self, stream: TextIO, *, tty: bool) -> None:
        self.stream = stream
        self.tty = tty
        self._drawn = 0  # length of the line on screen (terminal only)
        self._line = ""  # the line on screen (terminal only)

    def show(self, line: str) -> None:
        """Show `line`: redrawn in place on a terminal, a line of its own off one."""
        if self.tty:
            width = max(20, shutil.get_terminal_size().columns - 1)
            line = _clip(line, width)
            self.stream.write("\r" + line.ljust(self._drawn))
            self._drawn, self._line = len(line), line
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def interject(self, stream: TextIO, text: str) -> None:
        """Write the line `text` to `stream` (stdout or this line's own) without breaking the
        progress line: on a terminal the line is wiped first and drawn again below the text."""
        drawn = self._drawn
        if self.tty and drawn:
            self.stream.write("\r" + " " * drawn + "\r")
            self.stream.flush()
            self._drawn = 0
        stream.write(text + "\n")
        stream.flush()
        if self.tty and drawn:
            self.show(self._line)

    def end(self) -> None:
        """Leave the progress line (a newline on a terminal, so what follows starts clean)."""
        if self.tty and self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = 0


def reconnect_note(
    rpc: str, code: str, reason: str, details: str, *, wait: float, attempt: int
) -> str:
    """The line a watch prints on stderr before it reconnects (people's output)."""
    cause = f"{code} ({reason})" if reason else code
    said = ": " + " ".join(details.split()) if details else ""
    return f"{rpc} {cause}{said}; reconnecting in {wait:.1f} s (attempt {attempt})"


def reconnect_event(
    batch_id: str, code: str, reason: str, details: str, *, wait: float, attempt: int
) -> dict[str, Any]:
    """The JSON object a watch prints on stderr before it reconnects (`--json`)."""
    return {
        "event": "reconnecting",
        "batch_id": batch_id,
        "attempt": attempt,
        "wait": round(wait, 3),
        "code": code,
        "reason": reason,
        "message": " ".join(details.split()),
    }
