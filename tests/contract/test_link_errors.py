"""Which upstream failures of link extraction are the link's own (gateway.contract.link_errors)."""

from __future__ import annotations

import grpc

from gateway.contract.link_errors import extract_error, link_failure
from gateway.upstream import errors


def test_only_the_documented_answers_are_the_links_fault() -> None:
    """400, 404 and the upstream's own 500 are about the link; a 502, a 422 (our request's
    shape), an unreadable 500 answer and a dropped connection are not."""
    assert link_failure(errors.InvalidArgument("x", status=400)) is not None
    assert link_failure(errors.NotFound("x", status=404)) is not None
    assert link_failure(errors.Unavailable("x", status=500)) is not None
    assert link_failure(errors.Unavailable("x", status=502)) is None
    assert link_failure(errors.InvalidArgument("x", status=422)) is None
    assert link_failure(errors.ProtocolError("x", status=500)) is None
    assert link_failure(errors.Unavailable("connection reset")) is None


def test_extract_errors_carry_their_codes_and_the_field() -> None:
    """ExtractLink answers a bad link INVALID_ARGUMENT with a violation on `url`, a missing page
    NOT_FOUND and a failed extraction FAILED_PRECONDITION, both without violations."""
    bad = extract_error(errors.InvalidArgument("Link not supported", status=400))
    assert bad is not None
    assert bad.code is grpc.StatusCode.INVALID_ARGUMENT
    assert [v.field for v in bad.violations] == ["url"]
    missing = extract_error(errors.NotFound("gone", status=404))
    assert missing is not None
    assert (missing.code, missing.violations) == (grpc.StatusCode.NOT_FOUND, ())
    broken = extract_error(errors.Unavailable("Link error", status=500))
    assert broken is not None
    assert broken.code is grpc.StatusCode.FAILED_PRECONDITION
    assert broken.metadata == {"upstream_status": "500"}
