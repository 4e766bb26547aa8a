"""The folder `fetch` writes into: its files, written atomically, and its manifest.

The manifest, `.sofer-fetch.json` in the folder, says which batch the folder holds and, per
transcription id, the item's file name stem, its state once it arrived, the files written for
it and its info (for the final table). It is rewritten (atomically) after each item, so a run
cut short at any point leaves a folder the next run resumes: an item counts as fetched only
once its files are on disk and the manifest says so. A folder whose manifest names another
batch is refused, and so is a manifest whose names `fetch` would never have given (a stem of
`../escaped` or `/etc/x`, two items named alike): its names become paths, and every file
`fetch` writes stays inside the folder.

Every file is written to a temporary name in the folder (`.NAME.XXXXXXXX.sofer-tmp`: hidden,
never a name `fetch` gives an item), flushed to disk and renamed over its name (`os.replace`,
atomic on POSIX and Windows), so a reader never sees half a file; temporary files left by a
process that was killed are removed by the next run.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gateway.cli.errors import ClientError, UsageError
from gateway.cli.filenames import fold, is_given

MANIFEST_NAME = ".sofer-fetch.json"
MANIFEST_KIND = "sofer-gateway fetch"
TEMP_SUFFIX = ".sofer-tmp"
NOT_COMPLETED = frozenset({"FAILED", "CANCELLED", "INSUFFICIENT_FUNDS"})
"""Terminal states without a transcript (short TranscriptionState names)."""
CAPTIONS = frozenset({"srt", "vtt"})
"""Formats made from word timestamps: none for a transcript that has none."""


@dataclass
class Entry:
    """One item of the batch as the folder knows it."""

    stem: str
    """The item's file name without extension (gateway.cli.filenames)."""
    info: dict[str, Any]
    """Its `TranscriptionInfo` as JSON (proto field names), the latest seen."""
    state: str = ""
    """Its short TranscriptionState name once it arrived ("COMPLETED", "FAILED"); "" before."""
    files: list[str] = field(default_factory=list)
    """The files written for it, by name."""
    untimed: bool = False
    """It completed without word timestamps: its captions (srt, vtt) cannot be made."""


class Folder:
    """The output folder of one batch: see the module."""

    def __init__(self, path: Path, batch_id: str, entries: dict[str, Entry]) -> None:
        self.path = path
        self.batch_id = batch_id
        self.entries = entries
        """By transcription id, in the batch's order."""

    @classmethod
    def open(cls, path: Path, batch_id: str | None) -> Folder | None:
        """The folder's manifest, None when it has none (or does not exist yet).

        `UsageError` naming `--out`: the path is not a folder, its manifest cannot be read or
        is not one, or it names a batch other than `batch_id` (None: any batch is another, for
        a batch not created yet).
        """
        if path.exists() and not path.is_dir():
            raise UsageError(f"--out {path}: not a folder")
        manifest = path / MANIFEST_NAME
        if not manifest.exists():
            return None
        try:
            data = json.loads(manifest.read_text(encoding="utf-8"))
            if data.get("kind") != MANIFEST_KIND:
                raise ValueError(f'"kind" is not {MANIFEST_KIND!r}')
            owner = str(data["batch_id"])
            entries = {str(tid): _entry(str(tid), raw) for tid, raw in data["items"].items()}
            _distinct(entries)
        except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError) as e:
            raise UsageError(
                f"--out {path}: {manifest.name} is not a readable fetch manifest ({e}); "
                "remove it to fetch into this folder afresh"
            ) from None
        if owner != batch_id:
            raise UsageError(
                f"--out {path} holds the files of batch {owner} ({manifest.name}), not of "
                f"{batch_id or 'a new batch'}: give another folder"
            )
        return cls(path, owner, entries)

    def create(self) -> None:
        """Make the folder (and its parents) if needed; remove temporary files left behind."""
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            for leftover in self.path.glob(f".*{TEMP_SUFFIX}"):
                leftover.unlink(missing_ok=True)
        except OSError as error:
            raise ClientError(f"cannot create --out {self.path}: {error}") from None

    def done(self, tid: str, formats: Sequence[str]) -> bool:
        """Whether the item needs nothing more: not completed and terminal, or completed with
        a file of each format on disk (captions excepted for an untimed transcript)."""
        entry = self.entries.get(tid)
        if entry is None or not entry.state:
            return False
        if entry.state in NOT_COMPLETED:
            return True
        return entry.state == "COMPLETED" and not self.missing(entry, formats)

    def missing(self, entry: Entry, formats: Sequence[str]) -> list[str]:
        """The formats the item has no file of yet, in the order asked."""
        return [
            fmt
            for fmt in formats
            if not (entry.untimed and fmt in CAPTIONS)
            and not (
                f"{entry.stem}.{fmt}" in entry.files
                and (self.path / f"{entry.stem}.{fmt}").is_file()
            )
        ]

    def write(self, name: str, content: str | bytes) -> None:
        """Write the file `name` atomically (see the module), text as UTF-8; `ClientError`
        when it cannot."""
        data = content if isinstance(content, bytes) else content.encode("utf-8")
        _write_atomic(self.path / name, data)

    def save(self) -> None:
        """Write the manifest atomically."""
        data = {
            "kind": MANIFEST_KIND,
            "version": 1,
            "batch_id": self.batch_id,
            "items": {
                tid: {
                    "stem": e.stem,
                    "state": e.state,
                    "files": e.files,
                    "untimed": e.untimed,
                    "info": e.info,
                }
                for tid, e in self.entries.items()
            },
        }
        text = json.dumps(data, ensure_ascii=False, indent=1) + "\n"
        _write_atomic(self.path / MANIFEST_NAME, text.encode("utf-8"))


def _entry(tid: str, raw: dict[str, Any]) -> Entry:
    """One item of a manifest read back, its names checked: the manifest is a file in a folder
    anyone may have written to, and its stems become paths (see `_safe`)."""
    files = raw.get("files", [])
    if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
        raise ValueError("an item's files are not a list of names")
    info = raw.get("info", {})
    if not isinstance(info, dict):
        raise ValueError("an item's info is not an object")
    stem = str(raw["stem"])
    _safe(tid, stem)
    for name in files:
        extension = name.removeprefix(f"{stem}.")
        parts = extension.split(".")  # "txt", or "words.json"
        if extension == name or not all(p.isalpha() and p.isascii() for p in parts):
            raise ValueError(f"item {tid} lists the file {name!r}, not one of its stem {stem!r}")
    return Entry(
        stem=stem,
        info=info,
        state=str(raw.get("state", "")),
        files=files,
        untimed=bool(raw.get("untimed", False)),
    )


def _safe(tid: str, name: str) -> None:
    """ValueError unless `name` is a stem `fetch` itself would give (gateway.cli.filenames): a
    manifest with `../escaped`, `/etc/passwd` or a device name was not written by `fetch`, and
    its names would lead writes outside --out."""
    if not is_given(name):
        raise ValueError(
            f"item {tid} has the file name {name!r}, which fetch never gives (a path, or a "
            "name unsafe on some file system): the manifest was not written by fetch"
        )


def _distinct(entries: dict[str, Entry]) -> None:
    """ValueError when two items share a stem (as a case-insensitive file system sees it):
    `fetch` never names two items alike, and one item's files would overwrite the other's."""
    owners: dict[str, str] = {}
    for tid, entry in entries.items():
        other = owners.setdefault(fold(entry.stem), tid)
        if other != tid:
            raise ValueError(f"items {other} and {tid} have the same file name {entry.stem!r}")


def _write_atomic(target: Path, data: bytes) -> None:
    temp = target.with_name(f".{target.name}.{secrets.token_hex(4)}{TEMP_SUFFIX}")
    try:
        with temp.open("xb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())  # on disk before the rename makes it visible
        os.replace(temp, target)
    except OSError as error:
        temp.unlink(missing_ok=True)
        raise ClientError(f"cannot write {target}: {error}") from None
