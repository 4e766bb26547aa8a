"""Each attempt's request is the one `httpx.AsyncClient.build_request` would make.

`RequestFactory` joins the base URL once and skips httpx's URL parse for a path and query
already escaped; these tests hold it to httpx's own answer for plain and awkward paths, queries
and base URLs, so the short cut can never send another URL than httpx would.
"""

from __future__ import annotations

from urllib.parse import quote

import httpx
import pytest

from gateway.upstream.attempt import Request, RequestFactory, Route

BASES = [
    "http://127.0.0.1:8080",
    "http://127.0.0.1:8080/",
    "http://h.test/api",
    "https://h.test/a/b/",
]
IDS = [
    "0f8fad5b-d9cb-469f-a165-70867728950e",
    "id with spaces",
    "a/b",
    "100%",
    "%41",
    "%zz",
    "שיעור",
    "x?y#z",
    ".hidden",
    "a;b=c,d",
    "~tilde_",
]
PARAMS: list[dict[str, str] | None] = [
    None,
    {},
    {"page": "2"},
    {"q": "a b&c=d", "h": "שלום"},
    {"raw": "%41?/@:"},
]
LIMITS = httpx.Timeout(5.0, connect=1.0, pool=5.0)


def expected(base: str, path: str, params: dict[str, str] | None) -> httpx.Request:
    client = httpx.AsyncClient(base_url=base, headers={"User-Agent": "t/1"})
    return client.build_request(
        "GET", path, params=params, headers={"Authorization": "Bearer tok", "X-Request-Id": "r"}
    )


def lowered(headers: httpx.Headers) -> list[tuple[bytes, bytes]]:
    return [(name.lower(), value) for name, value in headers.raw]


@pytest.mark.parametrize("base", BASES)
@pytest.mark.parametrize("value", IDS)
def test_the_url_of_an_escaped_path_is_httpx_own(base: str, value: str) -> None:
    """A path as the client builds it (each id one escaped segment): the same URL, in every
    part, as httpx's own parse of it."""
    path = "/v1/transcriptions/batch/" + quote(value, safe="") + "/status"
    factory = RequestFactory(httpx.AsyncClient(base_url=base, headers={"User-Agent": "t/1"}))
    request = Request(Route("GET", "/v1/x"), path, "tok", request_id="r")
    built = factory.build(request, LIMITS)
    want = expected(base, path, None)
    assert str(built.url) == str(want.url)
    assert built.url.raw_path == want.url.raw_path
    assert (built.url.scheme, built.url.raw_host, built.url.port) == (
        want.url.scheme,
        want.url.raw_host,
        want.url.port,
    )
    assert lowered(built.headers) == lowered(want.headers)  # names are case-insensitive


@pytest.mark.parametrize("base", BASES)
@pytest.mark.parametrize("params", PARAMS)
@pytest.mark.parametrize(
    "path", ["/v1/transcriptions", "v1/manifests/", "/v1/a b", "/v1/./x", "/v1/../x", "/v1/%7E"]
)
def test_the_url_with_a_query_or_an_unescaped_path_is_httpx_own(
    base: str, params: dict[str, str] | None, path: str
) -> None:
    """Queries, and paths the short cut must leave to httpx (a space, dot segments): still
    httpx's own URL."""
    factory = RequestFactory(httpx.AsyncClient(base_url=base))
    built = factory.url(path, params)
    want = expected(base, path, params).url
    assert str(built) == str(want)
    assert built.raw_path == want.raw_path
    assert built.query == want.query


def test_the_url_is_the_base_url_joined_once() -> None:
    """The factory's URL for an escaped path is not parsed again: building it costs no call
    to httpx's parser (what it is there for), yet it is a whole httpx.URL."""
    factory = RequestFactory(httpx.AsyncClient(base_url="http://h.test/api"))
    calls = 0
    real = httpx._urls.urlparse  # type: ignore[attr-defined]

    def counting(*args: object, **kwargs: object) -> object:
        nonlocal calls
        calls += 1
        return real(*args, **kwargs)  # type: ignore[arg-type]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(httpx._urls, "urlparse", counting)
        url = factory.url("/v1/transcriptions/batch/abc-123/status", {"page": "2"})
        assert calls == 0
        slow = factory.url("/v1/a b", None)
        assert calls == 1  # left to httpx
    assert isinstance(url, httpx.URL)
    assert str(url) == "http://h.test/api/v1/transcriptions/batch/abc-123/status?page=2"
    assert url.host == "h.test"
    assert str(slow) == "http://h.test/api/v1/a%20b"


@pytest.mark.parametrize(
    ("method", "body"),
    [
        ("GET", None),
        ("DELETE", None),
        ("POST", None),
        ("POST", {"audio_url": "https://a.test/1.mp3", "title": "שיעור"}),
        ("PUT", {"n": 1}),
    ],
)
@pytest.mark.parametrize("base", ["http://127.0.0.1:8080", "https://h.test:8443/api/"])
def test_the_whole_request_is_httpx_own(
    method: str, body: dict[str, object] | None, base: str
) -> None:
    """Method, URL, every header in order (Host, Content-Length and Content-Type included)
    and the body bytes: what build_request makes, with a body or without one."""
    client = httpx.AsyncClient(base_url=base, headers={"User-Agent": "t/1"})
    factory = RequestFactory(client)
    request = Request(Route(method, "/v1/x"), "/v1/batches/abc", "tok", json=body, request_id="r")
    built = factory.build(request, LIMITS)
    want = client.build_request(
        method,
        "/v1/batches/abc",
        json=body,
        headers={"Authorization": "Bearer tok", "X-Request-Id": "r"},
    )
    assert built.method == want.method
    assert str(built.url) == str(want.url)
    assert lowered(built.headers) == lowered(want.headers)
    assert built.content == want.content
    assert built.extensions["timeout"] == LIMITS.as_dict()
