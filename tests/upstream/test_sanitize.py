"""The allow-list the upstream's words pass before they reach an error message: every echo of the
call's token and anything credential-like is withheld, ordinary messages read as they were."""

from __future__ import annotations

import base64
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.upstream.sanitize import MARKER, MESSAGE_LIMIT, WINDOW, sanitize

TOKEN = "caller-e2e-7Qm2xK9pR4vT8wZ1n~~"  # its base64 and base64url differ (+ and -)
B64 = base64.b64encode(TOKEN.encode()).decode()
B64URL = base64.urlsafe_b64encode(TOKEN.encode()).decode()
UUID = "3f1c2a4b-9e7d-4abc-8def-5b6a7c8d9e0f"
# RFC 6750's b64token alphabet: what a bearer token is made of.
TOKEN_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/="
RUN = re.compile(r"[A-Za-z0-9_~+=-]+")


def clean(message: str, token: str = TOKEN) -> str:
    """What `message` becomes between "bad token" and "rejected"."""
    return sanitize(f"bad token {message} rejected", token=token)


@pytest.mark.parametrize(
    "echo",
    [
        pytest.param(TOKEN, id="as-sent"),
        pytest.param(TOKEN.upper(), id="upper"),
        pytest.param(TOKEN.lower(), id="lower"),
        pytest.param(TOKEN.swapcase(), id="swapcase"),
        pytest.param(TOKEN[:8], id="prefix-8"),
        pytest.param(TOKEN[:12] + "...", id="prefix-12-ellipsis"),
        pytest.param(TOKEN[:10] + "\u2026", id="prefix-unicode-ellipsis"),
        pytest.param("..." + TOKEN[-9:], id="suffix-9"),
        pytest.param(TOKEN[:8] + "***" + TOKEN[-4:], id="masked-middle"),
        pytest.param(B64, id="base64"),
        pytest.param(B64.rstrip("="), id="base64-unpadded"),
        pytest.param(B64URL, id="base64url"),
        pytest.param(B64.lower(), id="base64-lower"),
        pytest.param(B64.upper(), id="base64-upper"),
        pytest.param(base64.b64encode(b"x" + TOKEN.encode()).decode(), id="base64-shift-1"),
        pytest.param(base64.b64encode(b"xy" + TOKEN.encode()).decode(), id="base64-shift-2"),
        pytest.param(B64[:16], id="base64-prefix"),
        pytest.param(TOKEN.encode().hex(), id="hex"),
        pytest.param(TOKEN.encode().hex().upper(), id="hex-upper"),
        pytest.param(f'"{TOKEN}",', id="quoted"),
        pytest.param(f'{{"token":"{TOKEN}"}}', id="json"),
        pytest.param(f"https://e.com/a.mp3?key={TOKEN}", id="url-query"),
        pytest.param(f"Bearer {TOKEN}", id="bearer"),
        pytest.param(f"authorization:Bearer {TOKEN}", id="header-no-space"),
        pytest.param(f"Authorization: Bearer {TOKEN}", id="header"),
    ],
)
def test_every_echo_of_the_token_is_withheld(echo: str) -> None:
    """However the upstream echoes the caller's token (upper-cased, cut short, base64, hex,
    quoted, in a URL or a header), none of it reaches the message; the words around it do."""
    message = clean(echo)
    assert message.startswith("bad token ")
    assert message.endswith(" rejected")
    assert MARKER in message
    lowered = message.lower()
    for form in (TOKEN, TOKEN[:8], TOKEN[-8:], B64[:8], B64URL[-10:], TOKEN.encode().hex()[:8]):
        assert form.lower() not in lowered


@pytest.mark.parametrize("token", ["t", "a", "at", "Ba", "ch", "e", "ound", "Batc"])
def test_short_tokens_do_not_mangle_messages(token: str) -> None:
    """A token shorter than 8 characters is matched only as a whole word, so it never cuts
    words apart (no more "Ba[redac[redacted]ed]ch"); alone, it is still withheld."""
    text = "Batch not found; retry after 2 s"
    assert sanitize(text, token=token) == text
    assert sanitize(f"token {token} rejected", token=token) == f"token {MARKER} rejected"
    assert sanitize(f"token {token.upper()}, rejected", token=token) == f"token {MARKER} rejected"


def test_short_token_in_base64_is_withheld() -> None:
    """The base64 of a short token, as a word of its own, is withheld too."""
    encoded = base64.b64encode(b"abc").decode()
    assert sanitize(f"token {encoded} rejected", token="abc") == f"token {MARKER} rejected"


@pytest.mark.parametrize(
    "text",
    [
        "Batch not found",
        f"Batch {UUID} not found",
        f"Transcription {UUID} failed: the audio could not be transcribed",
        f"No item with client_item_id 'ep-2024-01-15-part-2' in batch {UUID}",
        "body.audio_sources.0.audio_url: Field required; body.info: Field required",
        "body.info.primary_language: Input should be 'en', 'he', 'yi' or 'fr'",
        "json_items[2]: num_speakers must be at least 1",
        "line 3: audio_url: Field required",
        "Rate limit exceeded; retry after 2 s",
        "Not authenticated: send 'Authorization: Bearer <api key>' with an accepted key",
        "Invalid token: expired",
        "missing bearer token",
        f"batch_file_id {UUID} is PENDING_VALIDATION; only a VALID manifest starts",
        "limit must be an integer from 1 to 100",
        "sandbox fault: injected HTTP 503",
        "the feed is not well-formed XML (not well-formed (invalid token): line 1, column 0)",
        f"GET /v1/transcriptions/batch/{UUID}/status answered late",
        "created at 2024-01-15T10:00:00.123456+00:00",
        '{"unrelated":1}',
        "[Errno 111] Connection refused",
        "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed (_ssl.c:1006)",
        "peer closed connection without sending complete message body",
    ],
)
def test_ordinary_messages_are_kept_intact(text: str) -> None:
    """The messages upstreams really send (FastAPI validation errors, not-found with the
    resource's UUID, rate limits, network errors) read exactly as they were."""
    assert sanitize(text, token=TOKEN) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("leaked sk-live-0123456789abcdef here", "leaked [redacted] here"),
        ("aws AKIAIOSFODNN7EXAMPLE here", "aws [redacted] here"),
        ("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.sflKx here", "jwt [redacted] here"),
        (
            "digest 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 x",
            "digest [redacted] x",
        ),
        ("got api_key=abc123 and token=xyz", "got [redacted] and [redacted]"),
        ('got {"password": "hunter2"} back', 'got {"password": [redacted] back'),
        ("x-api-key: 5up3rs3cr3t please", "x-api-key: [redacted] please"),
        ("Authorization: Basic dXNlcjpwYXNz denied", "Authorization: Basic [redacted] denied"),
        ("Bearer abc.def.ghi denied", "Bearer [redacted] denied"),
        ("url https://e.com/a.mp3?X-Amz-Signature=ab12 bad", "url [redacted] bad"),
    ],
)
def test_other_credentials_are_withheld(text: str, expected: str) -> None:
    """Words that look like a credential are withheld even when they are not this call's token:
    random-looking runs of letters and digits, labelled values, and what follows an auth scheme."""
    assert sanitize(text, token=TOKEN) == expected


def test_unprintable_and_non_ascii_words_are_withheld() -> None:
    """Control characters (terminal escapes, NUL), backslash escapes and non-ASCII words never
    pass; whitespace of any kind collapses to one space."""
    text = "a\x1b[31mb ok\x00 x\\u0041 \u05e9\u05dc\u05d5\u05dd  tab\there\r\nnext"
    assert sanitize(text) == f"{MARKER} tab here next"


def test_withheld_words_become_one_marker_never_nested() -> None:
    """A run of withheld words becomes one marker; replacement is per word, in one pass."""
    text = f"a {TOKEN} {TOKEN.upper()} {B64} b {TOKEN}"
    assert sanitize(text, token=TOKEN) == f"a {MARKER} b {MARKER}"
    assert sanitize(text, token="redacted") == sanitize(text)  # the marker is never re-scanned


def test_bounded_at_a_word_boundary() -> None:
    """Long text is cut at a word boundary to the limit, ending in "..."."""
    text = " ".join(f"word{i}" for i in range(1000))
    out = sanitize(text, limit=50)
    assert len(out) <= 50
    assert out.endswith(" ...")
    assert out.startswith("word0 word1 ")
    assert len(sanitize(text)) <= MESSAGE_LIMIT


def test_huge_input_is_read_only_so_far() -> None:
    """Megabytes of text cost no more than a few kilobytes; a token past the cut never shows."""
    text = "word " * 1_000_000 + TOKEN
    out = sanitize(text, token=TOKEN)
    assert len(out) <= MESSAGE_LIMIT
    assert TOKEN not in out


def test_nothing_to_say() -> None:
    """Empty or blank text, or text that is all withheld, gives nothing or just the marker."""
    assert sanitize("") == ""
    assert sanitize(" \n\t ") == ""
    assert sanitize(TOKEN, token=TOKEN) == MARKER


def test_no_token_changes_nothing_but_the_generic_rules() -> None:
    """Without a token (the call had none) only the generic rules apply."""
    assert sanitize("Batch not found", token="") == "Batch not found"
    assert sanitize("key sk-live-0123456789abcdef", token="") == f"key {MARKER}"


# -- properties -------------------------------------------------------------------------------

long_tokens = st.text(alphabet=TOKEN_ALPHABET, min_size=WINDOW, max_size=64)
short_tokens = st.text(alphabet=TOKEN_ALPHABET, min_size=1, max_size=WINDOW - 1)


def echoes(token: str) -> st.SearchStrategy[str]:
    """The forms in which an upstream might echo `token`."""
    raw = token.encode()
    return st.sampled_from(
        [
            token,
            token.upper(),
            token.lower(),
            token.swapcase(),
            token[: max(WINDOW, len(token) // 2)],
            token[-WINDOW:],
            base64.b64encode(raw).decode(),
            base64.b64encode(raw).decode().rstrip("="),
            base64.urlsafe_b64encode(raw).decode(),
            base64.b64encode(raw).decode().upper(),
            base64.b64encode(b"u:" + raw).decode(),
            base64.b64encode(b"\x00" + raw).decode(),
            raw.hex(),
            f"Bearer {token}",
        ]
    )


@st.composite
def messages(draw: st.DrawFn, token: str) -> str:
    """Arbitrary text (any Unicode, control characters included) with echoes of `token`
    stuck to it or spaced out, in any order."""
    parts = draw(st.lists(st.one_of(st.text(max_size=30), echoes(token)), max_size=12))
    glue = draw(st.sampled_from(["", " ", "\n", "=", ":", '"', "/", "\x00", "\u2028"]))
    return glue.join(parts)


def withheld_forms(token: str) -> list[str]:
    """The forms the output must never contain (lower-cased)."""
    raw = token.encode()
    forms = [token, base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode()]
    forms += [form.rstrip("=") for form in forms[1:]]
    return [form.lower() for form in forms]


def assert_safe_shape(out: str, limit: int) -> None:
    assert len(out) <= limit
    assert all(" " <= char <= "~" for char in out), out
    assert "  " not in out
    assert out == out.strip()


@settings(max_examples=400, deadline=None)
@given(st.data(), long_tokens, st.integers(min_value=16, max_value=400))
def test_output_never_holds_a_long_token(data: st.DataObject, token: str, limit: int) -> None:
    """For any text and any token of 8+ characters: the output holds neither the token nor its
    base64 forms (case-insensitively), only printable ASCII, and at most `limit` characters."""
    out = sanitize(data.draw(messages(token)), token=token, limit=limit)
    assert_safe_shape(out, limit)
    visible = out.replace(MARKER, " ").lower()  # the gateway's own marker is not an echo
    for form in withheld_forms(token):
        assert form not in visible


@settings(max_examples=300, deadline=None)
@given(st.data(), short_tokens, st.integers(min_value=16, max_value=400))
def test_output_never_holds_a_short_token_as_a_word(
    data: st.DataObject, token: str, limit: int
) -> None:
    """For a token shorter than 8 characters: no word of the output is the token, nor any run
    of token characters in it (case-insensitively); the shape rules hold as for long ones."""
    out = sanitize(data.draw(messages(token)), token=token, limit=limit)
    assert_safe_shape(out, limit)
    for word in out.removesuffix(" ...").split():
        if word != MARKER:
            assert token.lower() not in {word.lower(), *RUN.findall(word.lower())}


ORDINARY = st.lists(st.from_regex(r"[A-Za-z][a-z]{0,11}[.,;:]?", fullmatch=True), max_size=20)


@settings(max_examples=200, deadline=None)
@given(ORDINARY)
def test_ordinary_words_pass_unchanged(words: list[str]) -> None:
    """Text made of ordinary words (letters with light punctuation) comes out as it went in,
    whitespace collapsed, whatever the call's token."""
    text = " ".join(words)
    assert sanitize(text, token=TOKEN, limit=10_000) == text
