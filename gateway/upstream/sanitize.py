"""The allow-list the upstream's words pass, once, before they can reach a caller or a log line.

An upstream error body or a transport error's text is untrusted: it may echo the caller's token
(as sent, upper-cased, cut short, base64-encoded), carry another credential, control characters,
or megabytes. `sanitize` does not look for what to remove; it builds a new message from the words
it may keep. The text is split on whitespace and each word is kept only if

- it is 1..`WORD_LIMIT` characters of printable ASCII (no backslash or backtick: no escapes);
- it holds no form of the call's token: the token itself, its hex, standard and URL-safe base64
  (at every byte alignment), compared case-insensitively, and a piece of any of these
  `WINDOW` characters long (so a prefix, a suffix or a middle cut of 8+ characters); a token
  shorter than `WINDOW` is matched only as a whole word or run, never inside other words;
- it has no run of token-alphabet characters (letters, digits, `_~+=-`) that looks random:
  `MIXED_RUN`+ characters with letters and digits mixed inside one piece between separators
  (`sk-live-0123456789abcdef`, not `ep-2024-01-15-part-2`), or `LONG_RUN`+ of any kind. A
  canonical UUID is the one exception: it is how the upstream names the resource the caller
  asked about, which the caller already knows, and the token rules above still apply to it;
- it is not a labelled value (`token=...`, `api_key:...`), nor the word after an auth scheme
  (`Bearer xyz`, `Basic xyz`) or a credential label (`Authorization: xyz`, `"password": xyz`),
  unless that word is plain prose: a short word of letters (`bearer token`, `<api key>`).

Every run of withheld words becomes one `MARKER`: replacement happens per word, in one pass, so
markers never nest and never cut a kept word. Whitespace collapses to single spaces, and the
result is cut at a word boundary to `limit` characters (ending in "...").
"""

from __future__ import annotations

import base64
import itertools
import re
from collections.abc import Iterable
from typing import Final

MARKER: Final = "[redacted]"
MESSAGE_LIMIT: Final = 300
"""Upstream words beyond this many characters are cut (at a word boundary, ending "...")."""
INPUT_LIMIT: Final = 8 * MESSAGE_LIMIT
"""Only this much of the upstream's text is read at all; a huge body costs no more."""
WORD_LIMIT: Final = 80
WINDOW: Final = 8
MIXED_RUN: Final = 20
LONG_RUN: Final = 48
MIXED_PIECE: Final = 12
_ELLIPSIS: Final = "..."

# Printable ASCII without space, backslash (escapes) and backtick: the characters of
# ordinary messages, field paths ("body.audio_sources.0.audio_url:"), URLs and JSON.
_WORD: Final = re.compile(rf"[!-\[\]-_a-~]{{1,{WORD_LIMIT}}}")
# The alphabet of tokens, hex, base64 and base64url; "." and "/" separate runs, so dotted
# field paths and URL paths are judged segment by segment.
_RUN: Final = re.compile(r"[A-Za-z0-9_~+=-]+")
_UUID: Final = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
_LETTER: Final = re.compile(r"[A-Za-z]")
_DIGIT: Final = re.compile(r"[0-9]")
_SEPARATORS: Final = re.compile(r"[-_~+=]")
# A credential's label: "token", "api_key", "x-api-key", "Authorization", "password", ...
_LABEL: Final = (
    r"(?:^|[^a-z0-9_-])[a-z_-]*"
    r"(?:authorization|key|token|secret|password|passwd|cookie|signature|sig|credentials?)"
    r"[\"']?[:=][\"']?"
)
# A word that ends with a label: the value is the next word.
_LABEL_END: Final = re.compile(_LABEL + "$", re.I)
# A word that carries a labelled value itself ("token=abc", '"api_key":"abc"', "?sig=abc").
_LABELLED: Final = re.compile(_LABEL + r"[^\"',;}\])]", re.I)
# An auth scheme: the credential is the next word.
_SCHEME: Final = re.compile(r"(?:^|[^a-z])(?:bearer|basic)[\"']?:?$", re.I)
# What may follow a scheme or label and still be kept: a short word of letters, as in prose.
_PROSE: Final = re.compile(r"[\"'(<\[]*[A-Za-z][a-z]{0,15}[\"')>\].,;:]*")
_STRIP: Final = "\"'()<>[]{}.,;:!?"


def sanitize(text: str, *, token: str = "", limit: int = MESSAGE_LIMIT) -> str:
    """The words of `text` that may reach a caller (see the module docstring), at most `limit`
    characters of printable ASCII; "" when nothing is left."""
    words = text[:INPUT_LIMIT].split()
    if len(text) > INPUT_LIMIT and words:
        words.pop()  # possibly cut in the middle: a token's stub is not a word to judge
    forms = _TokenForms(token)
    out: list[str] = []
    value_expected = False
    for word in words:
        hidden = (value_expected and not _is_prose(word)) or not _allowed(word, forms)
        value_expected = bool(_SCHEME.search(word) or _LABEL_END.search(word))
        if not hidden:
            out.append(word)
        elif not out or out[-1] != MARKER:
            out.append(MARKER)
    return _bounded(out, limit)


class _TokenForms:
    """Every form of one token an upstream might echo, ready to look for in a word."""

    def __init__(self, token: str) -> None:
        windows: set[str] = set()
        whole: set[str] = set()
        for form in _forms(token):
            lowered = form.lower()
            if len(lowered) >= WINDOW:
                windows |= _windows(lowered)
            elif lowered:
                whole.add(lowered)
        self._windows = frozenset(windows)
        self._whole = frozenset(whole)

    def __repr__(self) -> str:
        return "_TokenForms(...)"  # never the token

    def found_in(self, word: str) -> bool:
        """Whether `word` holds the token in any form (case-insensitively)."""
        lowered = word.lower()
        if self._windows and not self._windows.isdisjoint(_windows(lowered)):
            return True
        if not self._whole:
            return False
        pieces = {lowered, lowered.strip(_STRIP), *_RUN.findall(lowered)}
        return not self._whole.isdisjoint(pieces)


def _forms(token: str) -> Iterable[str]:
    """The token, its hex, and its base64 and base64url at each of the three byte alignments.

    Base64 of the token embedded in longer data depends on where the token starts: of
    `pad + token` for 0, 1 and 2 bytes of pad, the characters that carry no pad bits and no
    bits of what follows are the same wherever the token sits.
    """
    if not token:
        return
    raw = token.encode()
    yield token
    if len(token) < WINDOW:
        # A short token is only matched whole: its pieces would match ordinary words.
        yield base64.b64encode(raw).decode()
        yield base64.b64encode(raw).decode().rstrip("=")
        yield base64.urlsafe_b64encode(raw).decode().rstrip("=")
        return
    yield raw.hex()
    for shift in range(3):
        size = shift + len(raw)
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            encoded = encode(b"\0" * shift + raw).decode().rstrip("=")
            start = (4 * shift + 2) // 3  # characters holding pad bits
            end = len(encoded) - (1 if size % 3 else 0)  # the last one holds the next bits
            yield encoded[start:end]


def _windows(text: str) -> set[str]:
    return {text[i : i + WINDOW] for i in range(len(text) - WINDOW + 1)}


def _allowed(word: str, forms: _TokenForms) -> bool:
    if not _WORD.fullmatch(word) or forms.found_in(word) or _LABELLED.search(word):
        return False
    return not any(_looks_random(run) for run in _RUN.findall(word))


def _looks_random(run: str) -> bool:
    """Whether a run of token-alphabet characters looks like a key rather than a word or id.

    Letters and digits mixed within one piece (between separators) is what random strings
    have and names do not: "sk-live-0123456789abcdef" and "a8Fk2pQ9zX3m..." are keys,
    "ep-2024-01-15-part-2" and "audio_sources" are not.
    """
    if len(run) >= LONG_RUN:
        return True
    if len(run) < MIXED_RUN or _UUID.fullmatch(run):
        return False
    switches = 0
    for piece in _SEPARATORS.split(run):
        if len(piece) >= MIXED_PIECE and _LETTER.search(piece) and _DIGIT.search(piece):
            return True
        switches += sum(a.isdigit() != b.isdigit() for a, b in itertools.pairwise(piece))
    return switches >= 3


def _is_prose(word: str) -> bool:
    """A word after a scheme or label that is plain prose ("bearer token"), or a scheme itself
    ("Authorization: Bearer ..."), so the message stays readable."""
    return bool(_PROSE.fullmatch(word) or _SCHEME.search(word))


def _bounded(words: list[str], limit: int) -> str:
    text = " ".join(words)
    if len(text) <= limit:
        return text
    kept: list[str] = []
    size = len(_ELLIPSIS)
    for word in words:
        if size + len(word) + 1 > limit:
            break
        kept.append(word)
        size += len(word) + 1
    return " ".join([*kept, _ELLIPSIS])
