"""RSS import: fetch a podcast feed over HTTP, parse it defensively, list its audio enclosures."""

from __future__ import annotations

import codecs
import hashlib
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from sofer_sandbox.errors import bad_request

AUDIO_EXTENSIONS = (".mp3", ".m4a", ".aac", ".wav", ".ogg", ".oga", ".opus", ".flac", ".mp4a")
_DECLARED_ENCODING = re.compile(rb"""^<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


@dataclass(frozen=True)
class Episode:
    """One audio enclosure of the feed, as a manifest item."""

    audio_url: str
    title: str | None
    client_item_id: str


@dataclass(frozen=True)
class Feed:
    """What the import needs from a feed: its title and its audio enclosures, in feed order."""

    title: str | None
    episodes: tuple[Episode, ...]


class FeedFetcher:
    """Fetches feeds through one AsyncClient, created on first use and closed with the app."""

    def __init__(self, max_bytes: int, timeout: float) -> None:
        self._max_bytes = max_bytes
        self._timeout = timeout
        self._client: httpx.AsyncClient | None = None

    async def fetch(self, url: str) -> bytes:
        """The feed's bytes, or a 400 saying why they could not be had."""
        if self._client is None:
            # trust_env=False: a proxy from the environment must not intercept loopback feeds.
            self._client = httpx.AsyncClient(
                timeout=self._timeout, follow_redirects=True, max_redirects=5, trust_env=False
            )
        try:
            async with self._client.stream("GET", url) as response:
                if response.status_code != 200:
                    raise bad_request(f"could not fetch rss_url: HTTP {response.status_code}")
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > self._max_bytes:
                        raise bad_request(f"the feed is larger than {self._max_bytes} bytes")
                return bytes(body)
        except httpx.HTTPError as exc:
            raise bad_request(f"could not fetch rss_url: {type(exc).__name__}") from exc

    async def aclose(self) -> None:
        """Close the client, if one was made."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def _decode(data: bytes) -> str:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data.decode(encoding)
    declared = _DECLARED_ENCODING.match(data[:200])
    encoding = declared.group(1).decode() if declared else "utf-8"
    return data.decode(encoding)


def parse_feed(data: bytes) -> Feed:
    """Parse RSS 2.0; DTDs and entity declarations are refused (billion laughs, XXE)."""
    try:
        text = _decode(data)
    except (LookupError, UnicodeDecodeError) as exc:
        raise bad_request("the feed is not readable text in its declared encoding") from exc
    lowered = text.lower()
    if "<!doctype" in lowered or "<!entity" in lowered:
        raise bad_request("the feed declares a DTD or entities, which are not accepted")
    try:
        root = ET.fromstring(text)  # noqa: S314 - DTDs and entities are refused just above
    except ET.ParseError as exc:
        raise bad_request(f"the feed is not well-formed XML ({exc})") from exc
    channel = root.find("channel")
    if root.tag != "rss" or channel is None:
        raise bad_request("the feed is not RSS 2.0 (no <rss><channel>)")
    return Feed(title=_text(channel, "title"), episodes=_episodes(channel))


def _text(element: ET.Element, tag: str) -> str | None:
    """The stripped text of a child element; None when absent or blank."""
    value = (element.findtext(tag) or "").strip()
    return value or None


def is_audio(url: str, mime: str | None) -> bool:
    """An audio enclosure: type audio/*, or no telling type and a known audio extension."""
    if mime and mime.strip().lower().startswith("audio/"):
        return True
    if mime and not mime.strip().lower().startswith(("application/octet-stream", "binary/")):
        return False
    return urlsplit(url).path.lower().endswith(AUDIO_EXTENSIONS)


def _episodes(channel: ET.Element) -> tuple[Episode, ...]:
    episodes: list[Episode] = []
    used: set[str] = set()
    for item in channel.iter("item"):
        guid = _text(item, "guid")
        for enclosure in item.findall("enclosure"):
            url = (enclosure.get("url") or "").strip()
            if not url or not is_audio(url, enclosure.get("type")):
                continue
            base = guid or "enclosure-" + hashlib.sha256(url.encode()).hexdigest()[:16]
            cid, n = base, 1
            while cid in used:
                n += 1
                cid = f"{base}#{n}"
            used.add(cid)
            episodes.append(Episode(url, _text(item, "title"), cid))
    return tuple(episodes)
