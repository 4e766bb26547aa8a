"""JSON shapes of the spec (TranscriptionInfo, BatchStatusResponse, BatchFile*), from state."""

from __future__ import annotations

from typing import Any

from sofer_sandbox.state import Batch, Manifest, Transcription
from sofer_sandbox.timeline import COMPLETED, batch_progress, item_status, manifest_status


def transcription_info(item: Transcription, now: float) -> dict[str, Any]:
    """TranscriptionInfo; `duration` (whole seconds) appears once the item is COMPLETED."""
    status = item_status(item.plan, now)
    return {
        "id": item.id,
        "client_item_id": item.client_item_id,
        "title": item.title,
        "created_at": item.created_at,
        "primary_language": item.primary_language,
        "hebrew_word_format": list(item.hebrew_word_format),
        "num_speakers": item.num_speakers,
        "status": status,
        "duration": item.audio.seconds if status == COMPLETED else None,
        "model": item.model,
    }


def batch_status(batch: Batch, now: float) -> dict[str, Any]:
    """BatchStatusResponse."""
    infos = [transcription_info(item, now) for item in batch.items]
    progress = batch_progress([info["status"] for info in infos])
    return {
        "batch_id": batch.id,
        "status": progress.status,
        "total_count": progress.total,
        "completed_count": progress.completed,
        "failed_count": progress.failed,
        "pending_count": progress.pending,
        "transcriptions": infos,
    }


def batch_created(batch: Batch, now: float) -> dict[str, Any]:
    """BatchTranscriptionResponse."""
    return {
        "batch_id": batch.id,
        "transcription_ids": [item.id for item in batch.items],
        "total_count": len(batch.items),
        "status": batch_status(batch, now)["status"],
    }


def _manifest_common(manifest: Manifest, now: float) -> dict[str, Any]:
    status = manifest_status(manifest.valid_at, bool(manifest.errors), now)
    return {
        "created_at": manifest.created_at,
        "item_count": manifest.item_count,
        "size_bytes": len(manifest.content),
        "checksum": manifest.checksum,
        "status": status,
    }


def _errors(manifest: Manifest, status: str) -> list[str] | None:
    return list(manifest.errors) if status == "INVALID" else None


def batch_file_uploaded(manifest: Manifest, now: float) -> dict[str, Any]:
    """BatchFileUploadResponse (the RSS import adds its paging fields to it)."""
    common = _manifest_common(manifest, now)
    return {
        "batch_file_id": manifest.id,
        **common,
        "validation_errors": _errors(manifest, common["status"]),
    }


def batch_file_summary(manifest: Manifest, now: float) -> dict[str, Any]:
    """BatchFileSummary, one entry of the listing."""
    return {"id": manifest.id, **_manifest_common(manifest, now), "title": manifest.title}


def batch_file_detail(manifest: Manifest, now: float) -> dict[str, Any]:
    """BatchFileDetail."""
    summary = batch_file_summary(manifest, now)
    return {
        **summary,
        "description": manifest.description,
        "validation_errors": _errors(manifest, summary["status"]),
    }
