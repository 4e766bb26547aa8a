"""Page links: ExtractLink's call, and the `page_url` of CreateBatch items or of a
CreateTranscription, resolved before the create.

Resolution is all or nothing: every link of the request is resolved (at most
`MAX_CONCURRENT_RESOLVES` at once, each within the deadline it is given) before the create is
sent, and the create is sent only when all of them resolved. A link that fails for its own
reason (gateway.contract.link_errors) becomes a field violation on its item's path, all of them
reported at once; a failure that is not the link's (429, the upstream down, the deadline) ends
the call with its own status. Link extraction has no side effect upstream, so resolving again
on a retry is safe.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from sofer.batch.v1 import batch_service_pb2 as pb

from gateway.contract.link_errors import (
    extract_error,
    link_failure,
    link_violation,
    page_urls_not_resolved,
)
from gateway.upstream import CallOptions, UpstreamClient, UpstreamError
from gateway.upstream.models import LinkResponse
from gateway.validation import Violation

MAX_CONCURRENT_RESOLVES = 4
"""Page links of one CreateBatch resolved at once (an express batch has at most 10 items)."""


async def extract(client: UpstreamClient, url: str, options: CallOptions) -> LinkResponse:
    """ExtractLink's upstream call, its link failures translated (LINK_NOT_SUPPORTED,
    LINK_NOT_FOUND, LINK_EXTRACTION_FAILED); any other error is left to the frame."""
    try:
        return await client.extract_link(url, opts=options)
    except UpstreamError as exc:
        error = extract_error(exc)
        if error is None:
            raise
        raise error from exc


async def resolve_page(
    client: UpstreamClient, url: str, field: str, options: CallOptions
) -> LinkResponse:
    """The page `url` resolved (CreateTranscription's `page_url`): a link that fails for its
    own reason is INVALID_ARGUMENT PAGE_URL_NOT_RESOLVED with a violation on `field`; any other
    failure ends the call with its own status."""
    try:
        return await client.extract_link(url, opts=options)
    except UpstreamError as exc:
        failure = link_failure(exc)
        if failure is None:
            raise
        raise page_urls_not_resolved([link_violation(field, failure, exc)]) from exc


async def resolve_sources(
    client: UpstreamClient,
    request: pb.CreateBatchRequest,
    new_options: Callable[[], CallOptions],
) -> pb.CreateBatchRequest:
    """`request` with every `page_url` item's `audio_url` set to the page's audio (and its empty
    `title` to the page's title), `page_url` cleared; `request` itself when none names a page.
    `new_options` gives each extraction its options (credential, deadline)."""
    pending = [i for i, source in enumerate(request.audio_sources) if source.page_url]
    if not pending:
        return request
    slots = asyncio.Semaphore(MAX_CONCURRENT_RESOLVES)

    async def resolve(index: int) -> LinkResponse:
        async with slots:
            return await client.extract_link(
                request.audio_sources[index].page_url, opts=new_options()
            )

    answers = await asyncio.gather(*(resolve(i) for i in pending), return_exceptions=True)
    violations: list[Violation] = []
    resolved = pb.CreateBatchRequest()
    resolved.CopyFrom(request)
    for index, answer in zip(pending, answers, strict=True):
        if isinstance(answer, UpstreamError):
            failure = link_failure(answer)
            if failure is None:
                raise answer  # not the link's fault: the call ends with its own status
            field = f"audio_sources[{index}].page_url"
            violations.append(link_violation(field, failure, answer))
        elif isinstance(answer, BaseException):
            raise answer
        else:
            source = resolved.audio_sources[index]
            source.audio_url = answer.download_url
            source.page_url = ""
            if not source.title:
                source.title = answer.title
    if violations:
        raise page_urls_not_resolved(violations)
    return resolved
