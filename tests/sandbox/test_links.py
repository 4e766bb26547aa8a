"""The Link API: supported sites, page links resolved to audio URLs, and the spec's errors."""

from __future__ import annotations

from typing import Any

import pytest
from sofer_sandbox import SandboxServer

from tests.helpers.sandbox_http import client

MEDIA = "https://media.sandbox.invalid"


async def test_supported_sites_are_listed(sandbox: SandboxServer) -> None:
    """The sites list names each fake site and its URL, with no token needed."""
    async with client(sandbox, token=None) as http:
        response = await http.get("/v1/link/sites")
    assert response.status_code == 200
    assert response.json() == [
        {"name": "YouTube", "url": "https://www.youtube.com"},
        {"name": "Google Drive", "url": "https://drive.google.com"},
        {"name": "YUTorah", "url": "https://www.yutorah.org"},
    ]


@pytest.mark.parametrize(
    ("url", "download_url", "title"),
    [
        ("https://www.youtube.com/watch?v=dQw4w9WgXcQ", "youtube/dQw4w9WgXcQ.m4a", "YouTube video"),
        ("https://youtu.be/dQw4w9WgXcQ", "youtube/dQw4w9WgXcQ.m4a", "YouTube video"),
        ("https://m.youtube.com/watch?v=abc&t=30", "youtube/abc.m4a", "YouTube video"),
        ("https://youtube.com/shorts/abc", "youtube/abc.m4a", "YouTube video"),
        ("https://drive.google.com/file/d/1AbC_x/view", "drive/1AbC_x.mp3", "Google Drive file"),
        ("https://drive.google.com/file/d/1AbC_x", "drive/1AbC_x.mp3", "Google Drive file"),
        ("https://drive.google.com/open?id=1AbC_x", "drive/1AbC_x.mp3", "Google Drive file"),
        ("https://www.yutorah.org/lectures/1116616/", "yutorah/1116616.mp3", "YUTorah lecture"),
        ("http://yutorah.org/lectures/42/a-shiur", "yutorah/42.mp3", "YUTorah lecture"),
    ],
)
async def test_page_links_resolve_to_audio(
    sandbox: SandboxServer, url: str, download_url: str, title: str
) -> None:
    """A page link of a supported site answers the same download URL, title, format and file
    name every time, and that URL is one the sandbox transcribes."""
    async with client(sandbox) as http:
        first = await http.post("/v1/link/extract", json={"url": url})
        again = await http.post("/v1/link/extract", json={"url": url})
        created = await http.post(
            "/v1/transcriptions/", json={"audio_url": first.json()["download_url"], "info": {}}
        )
    assert first.status_code == 200, first.text
    body = first.json()
    assert body == again.json()
    assert body["download_url"] == f"{MEDIA}/{download_url}"
    assert body["title"].startswith(title)
    assert body["file_name"] == download_url.split("/")[1]
    assert body["file_format"] == download_url.rsplit(".", 1)[1]
    assert created.status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        "https://vimeo.com/12345",
        "ftp://www.youtube.com/watch?v=abc",
        "not a url",
        "https://www.youtube.com/",
        "https://www.youtube.com/watch?v=",
        "https://www.youtube.com/watch?v=a%20b",
        "https://drive.google.com/drive/folders/1AbC",
        "https://www.yutorah.org/lectures/abc",
        "https://youtube.com.evil.example/watch?v=abc",
    ],
)
async def test_unsupported_links_are_400(sandbox: SandboxServer, url: str) -> None:
    """A link of no supported site, or no media page of one, is a 400 (LinkNotSupported)."""
    async with client(sandbox) as http:
        response = await http.post("/v1/link/extract", json={"url": url})
    assert response.status_code == 400, response.text
    assert "not supported" in response.json()["detail"]


@pytest.mark.parametrize(
    ("url", "status_code", "words"),
    [
        ("https://youtu.be/missing123", 404, "not found"),
        ("https://drive.google.com/file/d/brokenfile/view", 500, "could not extract"),
    ],
)
async def test_missing_and_broken_pages(
    sandbox: SandboxServer, url: str, status_code: int, words: str
) -> None:
    """An id starting with "missing" is a 404 (LinkNotFound), with "broken" a 500 (LinkError)."""
    async with client(sandbox) as http:
        response = await http.post("/v1/link/extract", json={"url": url})
    assert response.status_code == status_code
    assert words in response.json()["detail"]


@pytest.mark.parametrize("body", [{}, {"url": 5}, {"url": None}])
async def test_a_bad_request_is_422(sandbox: SandboxServer, body: dict[str, Any]) -> None:
    """A missing or non-string `url` is a 422 naming it."""
    async with client(sandbox) as http:
        response = await http.post("/v1/link/extract", json=body)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "url"]
