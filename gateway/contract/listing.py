"""Pure translation of the listing and Link API answers into the contract (sofer.batch.v1)."""

from __future__ import annotations

from sofer.batch.v1 import batch_service_pb2 as pb

from gateway.contract.mapping import transcription_state
from gateway.upstream.models import LinkResponse, SiteList, TranscriptionSummary


def transcription_summary(item: TranscriptionSummary) -> pb.TranscriptionSummary:
    """Upstream TranscriptionSummary -> proto TranscriptionSummary."""
    return pb.TranscriptionSummary(
        transcription_id=item.id, title=item.title, state=transcription_state(item.status)
    )


def extract_link_response(answer: LinkResponse) -> pb.ExtractLinkResponse:
    """Upstream LinkResponse -> ExtractLinkResponse (its `download_url` is the `audio_url`)."""
    return pb.ExtractLinkResponse(
        audio_url=answer.download_url,
        title=answer.title,
        file_format=answer.file_format,
        file_name=answer.file_name,
    )


def supported_sites(answer: SiteList) -> pb.ListSupportedSitesResponse:
    """Upstream list of Site -> ListSupportedSitesResponse, in the upstream's order."""
    return pb.ListSupportedSitesResponse(
        sites=[pb.SupportedSite(name=site.name, url=site.url) for site in answer.sites]
    )
