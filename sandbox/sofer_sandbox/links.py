"""The Link API: fake supported sites whose page links resolve to audio URLs, deterministically.

No page is ever fetched: a link is matched against each site's URL patterns and its media id
becomes a download URL under `https://media.sandbox.invalid/<site>/` (the `.invalid` domain
resolves nowhere), which the sandbox transcribes like any other URL. An id starting with
`missing` is a page that does not exist (404, the SDK's LinkNotFound) and one starting with
`broken` a page whose extraction fails (500, LinkError); a link of no supported site is a 400
(LinkNotSupported). Both endpoints are open: the spec gives them no security.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse

from sofer_sandbox.errors import ApiError, SchemaErrors, bad_request, not_found
from sofer_sandbox.fields import req_str
from sofer_sandbox.inputs import json_object

MEDIA_BASE = "https://media.sandbox.invalid"
_ID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")


@dataclass(frozen=True)
class Site:
    """One supported site: its listing, its hosts, how a page link names its media."""

    slug: str
    name: str
    url: str
    hosts: frozenset[str]
    noun: str
    file_format: str


YOUTUBE = Site(
    "youtube",
    "YouTube",
    "https://www.youtube.com",
    frozenset({"youtube.com", "www.youtube.com", "m.youtube.com", "youtu.be"}),
    "video",
    "m4a",
)
DRIVE = Site(
    "drive",
    "Google Drive",
    "https://drive.google.com",
    frozenset({"drive.google.com"}),
    "file",
    "mp3",
)
YUTORAH = Site(
    "yutorah",
    "YUTorah",
    "https://www.yutorah.org",
    frozenset({"yutorah.org", "www.yutorah.org"}),
    "lecture",
    "mp3",
)
SITES = (YOUTUBE, DRIVE, YUTORAH)


def media_id(site: Site, path: str, query: dict[str, list[str]]) -> str | None:
    """The media id a page link of `site` names, or None when the link is no media page:
    youtube.com/watch?v=ID, youtu.be/ID, youtube.com/shorts/ID; drive.google.com/file/d/ID[/view]
    or /open?id=ID; yutorah.org/lectures/NUMBER[/slug]."""
    parts = [p for p in path.split("/") if p]
    candidate: str | None = None
    if site is YOUTUBE:
        if parts == ["watch"]:
            candidate = query.get("v", [""])[0]
        elif len(parts) == 1:
            candidate = parts[0]
        elif len(parts) == 2 and parts[0] == "shorts":
            candidate = parts[1]
    elif site is DRIVE:
        if len(parts) in (3, 4) and parts[:2] == ["file", "d"] and parts[3:] in ([], ["view"]):
            candidate = parts[2]
        elif parts == ["open"]:
            candidate = query.get("id", [""])[0]
    elif len(parts) >= 2 and parts[0] == "lectures" and parts[1].isdigit():
        candidate = parts[1]
    return candidate if candidate and _ID.match(candidate) else None


def resolve(url: str) -> dict[str, Any]:
    """The LinkResponse of a page link, or the spec's error answer (400, 404, 500)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    site = next((s for s in SITES if host in s.hosts), None)
    if parts.scheme not in ("http", "https") or site is None:
        raise bad_request(f"Link not supported: {url!r} is not a page of a supported site")
    if site is YOUTUBE and host == "youtu.be":
        ident = media_id(site, parts.path, {})
    else:
        ident = media_id(site, parts.path, parse_qs(parts.query))
    if ident is None:
        raise bad_request(f"Link not supported: {url!r} is no {site.name} {site.noun} page")
    if ident.startswith("missing"):
        raise not_found(f"Link not found: {site.name} has no {site.noun} {ident}")
    if ident.startswith("broken"):
        raise ApiError(500, f"Link error: could not extract the audio of {site.name} {ident}")
    file_name = f"{ident}.{site.file_format}"
    return {
        "title": f"{site.name} {site.noun} {ident}",
        "download_url": f"{MEDIA_BASE}/{site.slug}/{file_name}",
        "file_format": site.file_format,
        "file_name": file_name,
    }


async def extract(request: Request) -> JSONResponse:
    """POST /v1/link/extract: a page link of a supported site into a downloadable audio URL."""
    body = await json_object(request)
    errors = SchemaErrors()
    url = req_str(body, "url", ("body",), errors)
    errors.raise_if_any()
    return JSONResponse(resolve(url or ""))


async def supported_sites(_request: Request) -> JSONResponse:
    """GET /v1/link/sites: the fake sites, as the spec's Site list."""
    return JSONResponse([{"name": s.name, "url": s.url} for s in SITES])
