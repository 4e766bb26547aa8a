"""The Link API's errors (POST /v1/link/extract) as the gateway answers them.

The spec documents 400 (a link of no supported site, or no media page of one: the SDK's
LinkNotSupported), 404 (no such page: LinkNotFound) and 500 (the upstream could not extract the
page's audio: LinkError) for extraction. They say something about the link, not the upstream's
health, so they get reasons of their own; every other failure (429, 502, a timeout, ...) is
translated by the one table, `from_upstream`.
"""

from __future__ import annotations

from dataclasses import dataclass

import grpc

from gateway.contract.errors import GatewayError, Reason, metadata_of
from gateway.upstream import errors
from gateway.validation import Reason as FieldReason
from gateway.validation import Violation


@dataclass(frozen=True)
class LinkFailure:
    """What a failed extraction says about its link: the call's code and reasons."""

    code: grpc.StatusCode
    reason: Reason
    field_reason: FieldReason
    rule: str


_NOT_SUPPORTED = LinkFailure(
    grpc.StatusCode.INVALID_ARGUMENT,
    Reason.LINK_NOT_SUPPORTED,
    FieldReason.LINK_NOT_SUPPORTED,
    "is not a media page of a supported site (ListSupportedSites)",
)
_NOT_FOUND = LinkFailure(
    grpc.StatusCode.NOT_FOUND,
    Reason.LINK_NOT_FOUND,
    FieldReason.LINK_NOT_FOUND,
    "names a page that does not exist",
)
_EXTRACTION_FAILED = LinkFailure(
    grpc.StatusCode.FAILED_PRECONDITION,
    Reason.LINK_EXTRACTION_FAILED,
    FieldReason.LINK_EXTRACTION_FAILED,
    "names a page whose audio the upstream could not extract",
)


def link_failure(exc: errors.UpstreamError) -> LinkFailure | None:
    """The link's own failure behind `exc`, or None when `exc` is not about the link (a 500
    only as the upstream's own answer: a proxy's 502 or a dropped connection is not)."""
    if isinstance(exc, errors.InvalidArgument) and exc.status == 400:
        return _NOT_SUPPORTED
    if isinstance(exc, errors.NotFound):
        return _NOT_FOUND
    if type(exc) is errors.Unavailable and exc.status == 500:
        return _EXTRACTION_FAILED
    return None


def link_violation(field: str, failure: LinkFailure, exc: errors.UpstreamError) -> Violation:
    """The field violation of a link that failed: the rule, then the upstream's words."""
    return Violation(field, failure.field_reason, f"{failure.rule}: {exc.message}")


def extract_error(exc: errors.UpstreamError, field: str = "url") -> GatewayError | None:
    """ExtractLink's status for a failure of the link at `field`; None: not the link's."""
    failure = link_failure(exc)
    if failure is None:
        return None
    violations = (link_violation(field, failure, exc),)
    return GatewayError(
        failure.code,
        failure.reason,
        f"{field} {failure.rule}: {exc.public_message}",
        metadata_of({"upstream_status": str(exc.status) if exc.status is not None else None}),
        violations=violations if failure.code is grpc.StatusCode.INVALID_ARGUMENT else (),
    )


def page_urls_not_resolved(violations: list[Violation]) -> GatewayError:
    """CreateBatch's status when page links of its items failed: INVALID_ARGUMENT, one field
    violation per failed item (`audio_sources[2].page_url`), nothing created."""
    shown = "; ".join(f"{v.field}: {v.description}" for v in violations[:3])
    more = f" (and {len(violations) - 3} more)" if len(violations) > 3 else ""
    return GatewayError(
        grpc.StatusCode.INVALID_ARGUMENT,
        Reason.PAGE_URL_NOT_RESOLVED,
        f"page links that did not resolve, nothing was created: {shown}{more}",
        violations=tuple(violations),
    )
