"""The upstream client: typed async calls to the Sofer.ai REST API with the gateway's policy.

    async with UpstreamClient(UpstreamConfig(base_url=url)) as client:
        status = await client.get_batch_status(batch_id, opts=CallOptions(token=token))

See docs/upstream-client.md for the retry table, waits, deadlines and the retry budget, and
`gateway.upstream.errors` for the exception tree.

The bottom layer: imports nothing of the gateway's but `gateway.__version__` (observers and
tracing are handed in as hooks); it knows nothing of gRPC.
"""

from gateway.upstream.bodies import (
    BatchAudioSource,
    BatchFileCreateFromRssRequest,
    BatchFileMetadata,
    BatchFileUploadRequest,
    BatchManifestAudioSource,
    BatchTranscriptionRequest,
    BatchTranscriptionRequestInfo,
)
from gateway.upstream.client import UpstreamClient
from gateway.upstream.config import CallOptions, Priority, UpstreamConfig
from gateway.upstream.enums import (
    BatchFileContentType,
    BatchFileStatus,
    BatchStatus,
    Language,
    LettersLanguage,
    ProcessingMode,
    TranscriptionStatus,
)
from gateway.upstream.errors import (
    Conflict,
    DeadlineExceeded,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    PoolExhausted,
    ProtocolError,
    QuotaExhausted,
    RateLimited,
    Unauthenticated,
    Unavailable,
    UpstreamError,
)
from gateway.upstream.models import (
    BatchFileCreateFromRssResponse,
    BatchFileDetail,
    BatchFileSummary,
    BatchFileUploadResponse,
    BatchStatusResponse,
    BatchTranscriptionResponse,
    HealthResponse,
    ListBatchFilesResponse,
    Timestamp,
    Transcription,
    TranscriptionInfo,
)
from gateway.upstream.retry_budget import RetryBudget

__all__ = [
    "BatchAudioSource",
    "BatchFileContentType",
    "BatchFileCreateFromRssRequest",
    "BatchFileCreateFromRssResponse",
    "BatchFileDetail",
    "BatchFileMetadata",
    "BatchFileStatus",
    "BatchFileSummary",
    "BatchFileUploadRequest",
    "BatchFileUploadResponse",
    "BatchManifestAudioSource",
    "BatchStatus",
    "BatchStatusResponse",
    "BatchTranscriptionRequest",
    "BatchTranscriptionRequestInfo",
    "BatchTranscriptionResponse",
    "CallOptions",
    "Conflict",
    "DeadlineExceeded",
    "FailedPrecondition",
    "HealthResponse",
    "InvalidArgument",
    "Language",
    "LettersLanguage",
    "ListBatchFilesResponse",
    "NotFound",
    "PermissionDenied",
    "PoolExhausted",
    "Priority",
    "ProcessingMode",
    "ProtocolError",
    "QuotaExhausted",
    "RateLimited",
    "RetryBudget",
    "Timestamp",
    "Transcription",
    "TranscriptionInfo",
    "TranscriptionStatus",
    "Unauthenticated",
    "Unavailable",
    "UpstreamClient",
    "UpstreamConfig",
    "UpstreamError",
]
