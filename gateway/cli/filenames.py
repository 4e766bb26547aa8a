"""File names for `fetch`: one stem per batch item, safe on every file system, distinct in a batch.

An item is named by its `client_item_id`, else its title, else its transcription id (the first
that is not empty once made safe). Made safe means:

- Unicode NFC (macOS would store decomposed letters; Hebrew letters and points are kept);
- no path separator or character Windows forbids (`/ \\ : * ? " < > |`), no control character:
  each run of them becomes one `_`; invisible format characters (bidi marks, zero-width joiners)
  are dropped, so that a name cannot look like another (U+202E would show `txt.exe` as
  `exe.txt`); whitespace runs become one space;
- no `..` (a run of dots is one dot), no leading dot, space or `_` (no hidden file, no `.`),
  no trailing dot or space (Windows drops them);
- not a reserved Windows device name (CON, PRN, AUX, NUL, COM0-9, LPT0-9, CONIN$, CONOUT$, in
  any case and before any extension: `nul.txt` is the device too): a `_` is appended;
- at most `MAX_STEM_BYTES` bytes of UTF-8, so that the stem, an id suffix, the extension and
  the temporary name fit the 255-byte limit of common file systems.

Distinct: names are compared as case-insensitive file systems do (NFC, case-folded). Every item
whose safe name is shared by another gets `-` and the first 8 characters of its transcription
id appended (the full id if that still clashes), all of them, so the outcome does not depend on
the order the items finish in. The id is made safe too (at most MAX_TAG_BYTES): it is the
upstream's, a UUID from a sound one but anything from a broken or hostile one.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping

MAX_STEM_BYTES = 120
"""Longest stem in UTF-8 bytes (Hebrew letters take two, niqqud two more each)."""
MAX_TAG_BYTES = 40
"""Longest id suffix: a transcription id (a UUID, 36) made safe, however long the upstream's."""
MAX_NAME_BYTES = MAX_STEM_BYTES + MAX_TAG_BYTES + 24
"""Longest stem with its suffix (`-` and the id, `-2`...): what `is_given` accepts."""

_FORBIDDEN = re.compile(r'[\x00-\x1f\x7f-\x9f/\\:*?"<>|]+')
_SPACES = re.compile(r"\s+")
_DOTS = re.compile(r"\.{2,}")
_UNDERSCORES = re.compile(r"_{2,}")
_RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"}
    | {f"{port}{n}" for port in ("COM", "LPT") for n in (*"0123456789", "¹", "²", "³")}
)


def safe_stem(text: str, limit: int = MAX_STEM_BYTES) -> str:
    """`text` as a file name stem safe everywhere (see the module), cut to `limit` bytes; ""
    when nothing is left."""
    name = unicodedata.normalize("NFC", text)
    name = "".join(c for c in name if unicodedata.category(c) not in ("Cf", "Cs", "Co", "Cn"))
    name = _SPACES.sub(" ", name)  # before the controls: a tab or newline is a space
    name = _FORBIDDEN.sub("_", name)
    name = _DOTS.sub(".", name)
    name = _UNDERSCORES.sub("_", name)
    name = _truncate(name.lstrip(" ._"), limit).rstrip(" .")
    if name.split(".", 1)[0].rstrip(" ").upper() in _RESERVED:
        head, dot, tail = name.partition(".")
        name = f"{head}_{dot}{tail}"
    return name


def _truncate(text: str, limit: int) -> str:
    """The longest prefix of `text` that fits `limit` bytes of UTF-8, cut between characters."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    return data[:limit].decode("utf-8", errors="ignore")


def is_given(stem: str) -> bool:
    """Whether `stem` is one `assign_stems` could give: safe (see the module), with an id
    suffix at most. A stem read back from a file (the resume manifest) that is not was not
    written by `fetch`: as a path it could lead anywhere (`../escaped`, `/etc/passwd`)."""
    return bool(stem) and safe_stem(stem, MAX_NAME_BYTES) == stem


def fold(stem: str) -> str:
    """The form two stems share when a case-insensitive file system takes them for one."""
    return unicodedata.normalize("NFC", stem).casefold()


def item_stem(transcription_id: str, client_item_id: str, title: str) -> str:
    """The safe stem of one item: its client_item_id, else its title, else its id."""
    for candidate in (client_item_id, title, transcription_id):
        stem = safe_stem(candidate)
        if stem:
            return stem
    return "item"  # an id that is not even a UUID: the gateway validates them, so never seen


def assign_stems(
    items: Iterable[tuple[str, str, str]], taken: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Stems for `items` (transcription id, client_item_id, title), distinct among themselves and
    from the stems already `taken` (by id): see the module. Returns the new ids' stems."""
    taken = dict(taken or {})
    wanted = {tid: item_stem(tid, cid, title) for tid, cid, title in items if tid not in taken}
    counts = Counter(fold(stem) for stem in (*taken.values(), *wanted.values()))
    used = {fold(stem) for stem in taken.values()}
    out: dict[str, str] = {}
    for tid, stem in wanted.items():
        tag = safe_stem(tid, MAX_TAG_BYTES) or "item"  # the upstream's id: a UUID, or anything
        choices = [stem] if counts[fold(stem)] == 1 else []
        choices += [f"{stem}-{tag[:8]}", f"{stem}-{tag}"]
        chosen = next((c for c in choices if fold(c) not in used), None)
        n = 2
        while chosen is None:  # a client_item_id that is literally another's suffixed name
            candidate = f"{stem}-{tag}-{n}"
            chosen = None if fold(candidate) in used else candidate
            n += 1
        used.add(fold(chosen))
        out[tid] = chosen
    return out
