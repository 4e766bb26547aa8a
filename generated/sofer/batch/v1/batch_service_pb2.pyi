import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from sofer.batch.v1 import batch_pb2 as _batch_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CostedWork(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    COSTED_WORK_UNSPECIFIED: _ClassVar[CostedWork]
    COSTED_WORK_EXPRESS_BATCH: _ClassVar[CostedWork]
    COSTED_WORK_STANDARD_BATCH: _ClassVar[CostedWork]
    COSTED_WORK_SINGLE_TRANSCRIPTION: _ClassVar[CostedWork]
COSTED_WORK_UNSPECIFIED: CostedWork
COSTED_WORK_EXPRESS_BATCH: CostedWork
COSTED_WORK_STANDARD_BATCH: CostedWork
COSTED_WORK_SINGLE_TRANSCRIPTION: CostedWork

class CreateBatchRequest(_message.Message):
    __slots__ = ("request_id", "info", "batch_title", "processing_mode", "batch_file_id", "audio_sources", "webhook_url")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    INFO_FIELD_NUMBER: _ClassVar[int]
    BATCH_TITLE_FIELD_NUMBER: _ClassVar[int]
    PROCESSING_MODE_FIELD_NUMBER: _ClassVar[int]
    BATCH_FILE_ID_FIELD_NUMBER: _ClassVar[int]
    AUDIO_SOURCES_FIELD_NUMBER: _ClassVar[int]
    WEBHOOK_URL_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    info: _batch_pb2.BatchInfo
    batch_title: str
    processing_mode: _batch_pb2.ProcessingMode
    batch_file_id: str
    audio_sources: _containers.RepeatedCompositeFieldContainer[_batch_pb2.AudioSource]
    webhook_url: str
    def __init__(self, request_id: _Optional[str] = ..., info: _Optional[_Union[_batch_pb2.BatchInfo, _Mapping]] = ..., batch_title: _Optional[str] = ..., processing_mode: _Optional[_Union[_batch_pb2.ProcessingMode, str]] = ..., batch_file_id: _Optional[str] = ..., audio_sources: _Optional[_Iterable[_Union[_batch_pb2.AudioSource, _Mapping]]] = ..., webhook_url: _Optional[str] = ...) -> None: ...

class CreateBatchResponse(_message.Message):
    __slots__ = ("batch_id", "transcription_ids", "total_count", "state", "processing_mode", "webhook_id", "webhook_secret")
    BATCH_ID_FIELD_NUMBER: _ClassVar[int]
    TRANSCRIPTION_IDS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_COUNT_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    PROCESSING_MODE_FIELD_NUMBER: _ClassVar[int]
    WEBHOOK_ID_FIELD_NUMBER: _ClassVar[int]
    WEBHOOK_SECRET_FIELD_NUMBER: _ClassVar[int]
    batch_id: str
    transcription_ids: _containers.RepeatedScalarFieldContainer[str]
    total_count: int
    state: _batch_pb2.BatchState
    processing_mode: _batch_pb2.ProcessingMode
    webhook_id: str
    webhook_secret: str
    def __init__(self, batch_id: _Optional[str] = ..., transcription_ids: _Optional[_Iterable[str]] = ..., total_count: _Optional[int] = ..., state: _Optional[_Union[_batch_pb2.BatchState, str]] = ..., processing_mode: _Optional[_Union[_batch_pb2.ProcessingMode, str]] = ..., webhook_id: _Optional[str] = ..., webhook_secret: _Optional[str] = ...) -> None: ...

class ManifestItems(_message.Message):
    __slots__ = ("items",)
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[_batch_pb2.AudioSource]
    def __init__(self, items: _Optional[_Iterable[_Union[_batch_pb2.AudioSource, _Mapping]]] = ...) -> None: ...

class UploadManifestRequest(_message.Message):
    __slots__ = ("request_id", "items", "jsonl", "metadata")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    JSONL_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    items: ManifestItems
    jsonl: str
    metadata: _batch_pb2.ManifestMetadata
    def __init__(self, request_id: _Optional[str] = ..., items: _Optional[_Union[ManifestItems, _Mapping]] = ..., jsonl: _Optional[str] = ..., metadata: _Optional[_Union[_batch_pb2.ManifestMetadata, _Mapping]] = ...) -> None: ...

class UploadManifestResponse(_message.Message):
    __slots__ = ("manifest",)
    MANIFEST_FIELD_NUMBER: _ClassVar[int]
    manifest: _batch_pb2.Manifest
    def __init__(self, manifest: _Optional[_Union[_batch_pb2.Manifest, _Mapping]] = ...) -> None: ...

class CreateManifestFromRssRequest(_message.Message):
    __slots__ = ("request_id", "rss_url", "limit", "offset", "metadata")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    RSS_URL_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    rss_url: str
    limit: int
    offset: int
    metadata: _batch_pb2.ManifestMetadata
    def __init__(self, request_id: _Optional[str] = ..., rss_url: _Optional[str] = ..., limit: _Optional[int] = ..., offset: _Optional[int] = ..., metadata: _Optional[_Union[_batch_pb2.ManifestMetadata, _Mapping]] = ...) -> None: ...

class CreateManifestFromRssResponse(_message.Message):
    __slots__ = ("manifest", "offset", "limit", "has_more", "next_offset")
    MANIFEST_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    HAS_MORE_FIELD_NUMBER: _ClassVar[int]
    NEXT_OFFSET_FIELD_NUMBER: _ClassVar[int]
    manifest: _batch_pb2.Manifest
    offset: int
    limit: int
    has_more: bool
    next_offset: int
    def __init__(self, manifest: _Optional[_Union[_batch_pb2.Manifest, _Mapping]] = ..., offset: _Optional[int] = ..., limit: _Optional[int] = ..., has_more: _Optional[bool] = ..., next_offset: _Optional[int] = ...) -> None: ...

class GetManifestRequest(_message.Message):
    __slots__ = ("batch_file_id",)
    BATCH_FILE_ID_FIELD_NUMBER: _ClassVar[int]
    batch_file_id: str
    def __init__(self, batch_file_id: _Optional[str] = ...) -> None: ...

class GetManifestResponse(_message.Message):
    __slots__ = ("manifest",)
    MANIFEST_FIELD_NUMBER: _ClassVar[int]
    manifest: _batch_pb2.Manifest
    def __init__(self, manifest: _Optional[_Union[_batch_pb2.Manifest, _Mapping]] = ...) -> None: ...

class ListManifestsRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListManifestsResponse(_message.Message):
    __slots__ = ("manifests", "next_page_token")
    MANIFESTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    manifests: _containers.RepeatedCompositeFieldContainer[_batch_pb2.Manifest]
    next_page_token: str
    def __init__(self, manifests: _Optional[_Iterable[_Union[_batch_pb2.Manifest, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetBatchStatusRequest(_message.Message):
    __slots__ = ("batch_id",)
    BATCH_ID_FIELD_NUMBER: _ClassVar[int]
    batch_id: str
    def __init__(self, batch_id: _Optional[str] = ...) -> None: ...

class GetBatchStatusResponse(_message.Message):
    __slots__ = ("batch_status",)
    BATCH_STATUS_FIELD_NUMBER: _ClassVar[int]
    batch_status: _batch_pb2.BatchStatus
    def __init__(self, batch_status: _Optional[_Union[_batch_pb2.BatchStatus, _Mapping]] = ...) -> None: ...

class WatchBatchStatusRequest(_message.Message):
    __slots__ = ("batch_id", "resume_token")
    BATCH_ID_FIELD_NUMBER: _ClassVar[int]
    RESUME_TOKEN_FIELD_NUMBER: _ClassVar[int]
    batch_id: str
    resume_token: str
    def __init__(self, batch_id: _Optional[str] = ..., resume_token: _Optional[str] = ...) -> None: ...

class WatchBatchStatusResponse(_message.Message):
    __slots__ = ("batch_status", "resume_token", "events")
    BATCH_STATUS_FIELD_NUMBER: _ClassVar[int]
    RESUME_TOKEN_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    batch_status: _batch_pb2.BatchStatus
    resume_token: str
    events: _containers.RepeatedCompositeFieldContainer[_batch_pb2.BatchEvent]
    def __init__(self, batch_status: _Optional[_Union[_batch_pb2.BatchStatus, _Mapping]] = ..., resume_token: _Optional[str] = ..., events: _Optional[_Iterable[_Union[_batch_pb2.BatchEvent, _Mapping]]] = ...) -> None: ...

class StreamBatchTranscriptsRequest(_message.Message):
    __slots__ = ("batch_id", "filter_hebrew_word_format", "skip_transcription_ids", "resume_token")
    BATCH_ID_FIELD_NUMBER: _ClassVar[int]
    FILTER_HEBREW_WORD_FORMAT_FIELD_NUMBER: _ClassVar[int]
    SKIP_TRANSCRIPTION_IDS_FIELD_NUMBER: _ClassVar[int]
    RESUME_TOKEN_FIELD_NUMBER: _ClassVar[int]
    batch_id: str
    filter_hebrew_word_format: _batch_pb2.HebrewWordFormat
    skip_transcription_ids: _containers.RepeatedScalarFieldContainer[str]
    resume_token: str
    def __init__(self, batch_id: _Optional[str] = ..., filter_hebrew_word_format: _Optional[_Union[_batch_pb2.HebrewWordFormat, str]] = ..., skip_transcription_ids: _Optional[_Iterable[str]] = ..., resume_token: _Optional[str] = ...) -> None: ...

class StreamBatchTranscriptsResponse(_message.Message):
    __slots__ = ("info", "transcription", "finished_count", "total_count", "resume_token")
    INFO_FIELD_NUMBER: _ClassVar[int]
    TRANSCRIPTION_FIELD_NUMBER: _ClassVar[int]
    FINISHED_COUNT_FIELD_NUMBER: _ClassVar[int]
    TOTAL_COUNT_FIELD_NUMBER: _ClassVar[int]
    RESUME_TOKEN_FIELD_NUMBER: _ClassVar[int]
    info: _batch_pb2.TranscriptionInfo
    transcription: _batch_pb2.Transcription
    finished_count: int
    total_count: int
    resume_token: str
    def __init__(self, info: _Optional[_Union[_batch_pb2.TranscriptionInfo, _Mapping]] = ..., transcription: _Optional[_Union[_batch_pb2.Transcription, _Mapping]] = ..., finished_count: _Optional[int] = ..., total_count: _Optional[int] = ..., resume_token: _Optional[str] = ...) -> None: ...

class GetBatchItemRequest(_message.Message):
    __slots__ = ("batch_id", "client_item_id")
    BATCH_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    batch_id: str
    client_item_id: str
    def __init__(self, batch_id: _Optional[str] = ..., client_item_id: _Optional[str] = ...) -> None: ...

class GetBatchItemResponse(_message.Message):
    __slots__ = ("transcription_info",)
    TRANSCRIPTION_INFO_FIELD_NUMBER: _ClassVar[int]
    transcription_info: _batch_pb2.TranscriptionInfo
    def __init__(self, transcription_info: _Optional[_Union[_batch_pb2.TranscriptionInfo, _Mapping]] = ...) -> None: ...

class GetTranscriptionRequest(_message.Message):
    __slots__ = ("transcription_id", "filter_hebrew_word_format")
    TRANSCRIPTION_ID_FIELD_NUMBER: _ClassVar[int]
    FILTER_HEBREW_WORD_FORMAT_FIELD_NUMBER: _ClassVar[int]
    transcription_id: str
    filter_hebrew_word_format: _batch_pb2.HebrewWordFormat
    def __init__(self, transcription_id: _Optional[str] = ..., filter_hebrew_word_format: _Optional[_Union[_batch_pb2.HebrewWordFormat, str]] = ...) -> None: ...

class GetTranscriptionResponse(_message.Message):
    __slots__ = ("transcription",)
    TRANSCRIPTION_FIELD_NUMBER: _ClassVar[int]
    transcription: _batch_pb2.Transcription
    def __init__(self, transcription: _Optional[_Union[_batch_pb2.Transcription, _Mapping]] = ...) -> None: ...

class ExportTranscriptionRequest(_message.Message):
    __slots__ = ("transcription_id", "format", "filter_hebrew_word_format", "caption_options")
    TRANSCRIPTION_ID_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    FILTER_HEBREW_WORD_FORMAT_FIELD_NUMBER: _ClassVar[int]
    CAPTION_OPTIONS_FIELD_NUMBER: _ClassVar[int]
    transcription_id: str
    format: _batch_pb2.ExportFormat
    filter_hebrew_word_format: _batch_pb2.HebrewWordFormat
    caption_options: CaptionOptions
    def __init__(self, transcription_id: _Optional[str] = ..., format: _Optional[_Union[_batch_pb2.ExportFormat, str]] = ..., filter_hebrew_word_format: _Optional[_Union[_batch_pb2.HebrewWordFormat, str]] = ..., caption_options: _Optional[_Union[CaptionOptions, _Mapping]] = ...) -> None: ...

class ExportTranscriptionResponse(_message.Message):
    __slots__ = ("content", "media_type", "file_extension", "info", "cue_count", "binary_content")
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    MEDIA_TYPE_FIELD_NUMBER: _ClassVar[int]
    FILE_EXTENSION_FIELD_NUMBER: _ClassVar[int]
    INFO_FIELD_NUMBER: _ClassVar[int]
    CUE_COUNT_FIELD_NUMBER: _ClassVar[int]
    BINARY_CONTENT_FIELD_NUMBER: _ClassVar[int]
    content: str
    media_type: str
    file_extension: str
    info: _batch_pb2.TranscriptionInfo
    cue_count: int
    binary_content: bytes
    def __init__(self, content: _Optional[str] = ..., media_type: _Optional[str] = ..., file_extension: _Optional[str] = ..., info: _Optional[_Union[_batch_pb2.TranscriptionInfo, _Mapping]] = ..., cue_count: _Optional[int] = ..., binary_content: _Optional[bytes] = ...) -> None: ...

class GetTranscriptionStatusRequest(_message.Message):
    __slots__ = ("transcription_id",)
    TRANSCRIPTION_ID_FIELD_NUMBER: _ClassVar[int]
    transcription_id: str
    def __init__(self, transcription_id: _Optional[str] = ...) -> None: ...

class GetTranscriptionStatusResponse(_message.Message):
    __slots__ = ("transcription_info",)
    TRANSCRIPTION_INFO_FIELD_NUMBER: _ClassVar[int]
    transcription_info: _batch_pb2.TranscriptionInfo
    def __init__(self, transcription_info: _Optional[_Union[_batch_pb2.TranscriptionInfo, _Mapping]] = ...) -> None: ...

class GetBalanceRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetBalanceResponse(_message.Message):
    __slots__ = ("balance",)
    BALANCE_FIELD_NUMBER: _ClassVar[int]
    balance: Balance
    def __init__(self, balance: _Optional[_Union[Balance, _Mapping]] = ...) -> None: ...

class Balance(_message.Message):
    __slots__ = ("total_balance_cents", "available_balance_cents", "pending_balance_cents", "all_time_deposits_cents", "all_time_spend_cents")
    TOTAL_BALANCE_CENTS_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_BALANCE_CENTS_FIELD_NUMBER: _ClassVar[int]
    PENDING_BALANCE_CENTS_FIELD_NUMBER: _ClassVar[int]
    ALL_TIME_DEPOSITS_CENTS_FIELD_NUMBER: _ClassVar[int]
    ALL_TIME_SPEND_CENTS_FIELD_NUMBER: _ClassVar[int]
    total_balance_cents: int
    available_balance_cents: int
    pending_balance_cents: int
    all_time_deposits_cents: int
    all_time_spend_cents: int
    def __init__(self, total_balance_cents: _Optional[int] = ..., available_balance_cents: _Optional[int] = ..., pending_balance_cents: _Optional[int] = ..., all_time_deposits_cents: _Optional[int] = ..., all_time_spend_cents: _Optional[int] = ...) -> None: ...

class EstimateCostRequest(_message.Message):
    __slots__ = ("work", "info", "audio_sources", "batch_file_id")
    WORK_FIELD_NUMBER: _ClassVar[int]
    INFO_FIELD_NUMBER: _ClassVar[int]
    AUDIO_SOURCES_FIELD_NUMBER: _ClassVar[int]
    BATCH_FILE_ID_FIELD_NUMBER: _ClassVar[int]
    work: CostedWork
    info: _batch_pb2.BatchInfo
    audio_sources: _containers.RepeatedCompositeFieldContainer[_batch_pb2.AudioSource]
    batch_file_id: str
    def __init__(self, work: _Optional[_Union[CostedWork, str]] = ..., info: _Optional[_Union[_batch_pb2.BatchInfo, _Mapping]] = ..., audio_sources: _Optional[_Iterable[_Union[_batch_pb2.AudioSource, _Mapping]]] = ..., batch_file_id: _Optional[str] = ...) -> None: ...

class ItemCost(_message.Message):
    __slots__ = ("audio_url", "client_item_id", "duration_seconds", "cents_per_hour", "cost_cents", "speaker_labels")
    AUDIO_URL_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    DURATION_SECONDS_FIELD_NUMBER: _ClassVar[int]
    CENTS_PER_HOUR_FIELD_NUMBER: _ClassVar[int]
    COST_CENTS_FIELD_NUMBER: _ClassVar[int]
    SPEAKER_LABELS_FIELD_NUMBER: _ClassVar[int]
    audio_url: str
    client_item_id: str
    duration_seconds: float
    cents_per_hour: int
    cost_cents: int
    speaker_labels: bool
    def __init__(self, audio_url: _Optional[str] = ..., client_item_id: _Optional[str] = ..., duration_seconds: _Optional[float] = ..., cents_per_hour: _Optional[int] = ..., cost_cents: _Optional[int] = ..., speaker_labels: _Optional[bool] = ...) -> None: ...

class EstimateCostResponse(_message.Message):
    __slots__ = ("items", "total_cost_cents", "total_duration_seconds")
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_COST_CENTS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_DURATION_SECONDS_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[ItemCost]
    total_cost_cents: int
    total_duration_seconds: float
    def __init__(self, items: _Optional[_Iterable[_Union[ItemCost, _Mapping]]] = ..., total_cost_cents: _Optional[int] = ..., total_duration_seconds: _Optional[float] = ...) -> None: ...

class ListTranscriptionsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "states", "title_contains", "created_after", "created_before")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    STATES_FIELD_NUMBER: _ClassVar[int]
    TITLE_CONTAINS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AFTER_FIELD_NUMBER: _ClassVar[int]
    CREATED_BEFORE_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    states: _containers.RepeatedScalarFieldContainer[_batch_pb2.TranscriptionState]
    title_contains: str
    created_after: _timestamp_pb2.Timestamp
    created_before: _timestamp_pb2.Timestamp
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., states: _Optional[_Iterable[_Union[_batch_pb2.TranscriptionState, str]]] = ..., title_contains: _Optional[str] = ..., created_after: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., created_before: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class TranscriptionSummary(_message.Message):
    __slots__ = ("transcription_id", "title", "state")
    TRANSCRIPTION_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    transcription_id: str
    title: str
    state: _batch_pb2.TranscriptionState
    def __init__(self, transcription_id: _Optional[str] = ..., title: _Optional[str] = ..., state: _Optional[_Union[_batch_pb2.TranscriptionState, str]] = ...) -> None: ...

class ListTranscriptionsResponse(_message.Message):
    __slots__ = ("transcriptions", "next_page_token")
    TRANSCRIPTIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    transcriptions: _containers.RepeatedCompositeFieldContainer[TranscriptionSummary]
    next_page_token: str
    def __init__(self, transcriptions: _Optional[_Iterable[_Union[TranscriptionSummary, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ExtractLinkRequest(_message.Message):
    __slots__ = ("url",)
    URL_FIELD_NUMBER: _ClassVar[int]
    url: str
    def __init__(self, url: _Optional[str] = ...) -> None: ...

class ExtractLinkResponse(_message.Message):
    __slots__ = ("audio_url", "title", "file_format", "file_name")
    AUDIO_URL_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    FILE_FORMAT_FIELD_NUMBER: _ClassVar[int]
    FILE_NAME_FIELD_NUMBER: _ClassVar[int]
    audio_url: str
    title: str
    file_format: str
    file_name: str
    def __init__(self, audio_url: _Optional[str] = ..., title: _Optional[str] = ..., file_format: _Optional[str] = ..., file_name: _Optional[str] = ...) -> None: ...

class ListSupportedSitesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class SupportedSite(_message.Message):
    __slots__ = ("name", "url")
    NAME_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    name: str
    url: str
    def __init__(self, name: _Optional[str] = ..., url: _Optional[str] = ...) -> None: ...

class ListSupportedSitesResponse(_message.Message):
    __slots__ = ("sites",)
    SITES_FIELD_NUMBER: _ClassVar[int]
    sites: _containers.RepeatedCompositeFieldContainer[SupportedSite]
    def __init__(self, sites: _Optional[_Iterable[_Union[SupportedSite, _Mapping]]] = ...) -> None: ...

class CreateTranscriptionRequest(_message.Message):
    __slots__ = ("request_id", "info", "audio_url", "page_url", "webhook_url")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    INFO_FIELD_NUMBER: _ClassVar[int]
    AUDIO_URL_FIELD_NUMBER: _ClassVar[int]
    PAGE_URL_FIELD_NUMBER: _ClassVar[int]
    WEBHOOK_URL_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    info: _batch_pb2.BatchInfo
    audio_url: str
    page_url: str
    webhook_url: str
    def __init__(self, request_id: _Optional[str] = ..., info: _Optional[_Union[_batch_pb2.BatchInfo, _Mapping]] = ..., audio_url: _Optional[str] = ..., page_url: _Optional[str] = ..., webhook_url: _Optional[str] = ...) -> None: ...

class CreateTranscriptionResponse(_message.Message):
    __slots__ = ("transcription_id", "webhook_id", "webhook_secret")
    TRANSCRIPTION_ID_FIELD_NUMBER: _ClassVar[int]
    WEBHOOK_ID_FIELD_NUMBER: _ClassVar[int]
    WEBHOOK_SECRET_FIELD_NUMBER: _ClassVar[int]
    transcription_id: str
    webhook_id: str
    webhook_secret: str
    def __init__(self, transcription_id: _Optional[str] = ..., webhook_id: _Optional[str] = ..., webhook_secret: _Optional[str] = ...) -> None: ...

class UploadTranscriptionRequest(_message.Message):
    __slots__ = ("header", "chunk")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    header: UploadTranscriptionHeader
    chunk: bytes
    def __init__(self, header: _Optional[_Union[UploadTranscriptionHeader, _Mapping]] = ..., chunk: _Optional[bytes] = ...) -> None: ...

class UploadTranscriptionHeader(_message.Message):
    __slots__ = ("request_id", "info", "file_name", "content_type")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    INFO_FIELD_NUMBER: _ClassVar[int]
    FILE_NAME_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    info: _batch_pb2.BatchInfo
    file_name: str
    content_type: str
    def __init__(self, request_id: _Optional[str] = ..., info: _Optional[_Union[_batch_pb2.BatchInfo, _Mapping]] = ..., file_name: _Optional[str] = ..., content_type: _Optional[str] = ...) -> None: ...

class UploadTranscriptionResponse(_message.Message):
    __slots__ = ("transcription_id", "size_bytes")
    TRANSCRIPTION_ID_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    transcription_id: str
    size_bytes: int
    def __init__(self, transcription_id: _Optional[str] = ..., size_bytes: _Optional[int] = ...) -> None: ...

class WatchTranscriptionRequest(_message.Message):
    __slots__ = ("transcription_id",)
    TRANSCRIPTION_ID_FIELD_NUMBER: _ClassVar[int]
    transcription_id: str
    def __init__(self, transcription_id: _Optional[str] = ...) -> None: ...

class WatchTranscriptionResponse(_message.Message):
    __slots__ = ("transcription_info", "observed_at")
    TRANSCRIPTION_INFO_FIELD_NUMBER: _ClassVar[int]
    OBSERVED_AT_FIELD_NUMBER: _ClassVar[int]
    transcription_info: _batch_pb2.TranscriptionInfo
    observed_at: _timestamp_pb2.Timestamp
    def __init__(self, transcription_info: _Optional[_Union[_batch_pb2.TranscriptionInfo, _Mapping]] = ..., observed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CaptionOptions(_message.Message):
    __slots__ = ("max_line_characters", "max_cue_seconds", "speaker_labels")
    MAX_LINE_CHARACTERS_FIELD_NUMBER: _ClassVar[int]
    MAX_CUE_SECONDS_FIELD_NUMBER: _ClassVar[int]
    SPEAKER_LABELS_FIELD_NUMBER: _ClassVar[int]
    max_line_characters: int
    max_cue_seconds: float
    speaker_labels: bool
    def __init__(self, max_line_characters: _Optional[int] = ..., max_cue_seconds: _Optional[float] = ..., speaker_labels: _Optional[bool] = ...) -> None: ...

class WatchManifestRequest(_message.Message):
    __slots__ = ("batch_file_id",)
    BATCH_FILE_ID_FIELD_NUMBER: _ClassVar[int]
    batch_file_id: str
    def __init__(self, batch_file_id: _Optional[str] = ...) -> None: ...

class WatchManifestResponse(_message.Message):
    __slots__ = ("manifest", "observed_at")
    MANIFEST_FIELD_NUMBER: _ClassVar[int]
    OBSERVED_AT_FIELD_NUMBER: _ClassVar[int]
    manifest: _batch_pb2.Manifest
    observed_at: _timestamp_pb2.Timestamp
    def __init__(self, manifest: _Optional[_Union[_batch_pb2.Manifest, _Mapping]] = ..., observed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Webhook(_message.Message):
    __slots__ = ("webhook_id", "url", "event_types", "batch_id", "create_time", "disabled_reason", "previous_secret_expire_time")
    WEBHOOK_ID_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    EVENT_TYPES_FIELD_NUMBER: _ClassVar[int]
    BATCH_ID_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    DISABLED_REASON_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_SECRET_EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    webhook_id: str
    url: str
    event_types: _containers.RepeatedScalarFieldContainer[str]
    batch_id: str
    create_time: _timestamp_pb2.Timestamp
    disabled_reason: str
    previous_secret_expire_time: _timestamp_pb2.Timestamp
    def __init__(self, webhook_id: _Optional[str] = ..., url: _Optional[str] = ..., event_types: _Optional[_Iterable[str]] = ..., batch_id: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., disabled_reason: _Optional[str] = ..., previous_secret_expire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CreateWebhookRequest(_message.Message):
    __slots__ = ("request_id", "url", "event_types")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    EVENT_TYPES_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    url: str
    event_types: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, request_id: _Optional[str] = ..., url: _Optional[str] = ..., event_types: _Optional[_Iterable[str]] = ...) -> None: ...

class CreateWebhookResponse(_message.Message):
    __slots__ = ("webhook", "secret")
    WEBHOOK_FIELD_NUMBER: _ClassVar[int]
    SECRET_FIELD_NUMBER: _ClassVar[int]
    webhook: Webhook
    secret: str
    def __init__(self, webhook: _Optional[_Union[Webhook, _Mapping]] = ..., secret: _Optional[str] = ...) -> None: ...

class ListWebhooksRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListWebhooksResponse(_message.Message):
    __slots__ = ("webhooks",)
    WEBHOOKS_FIELD_NUMBER: _ClassVar[int]
    webhooks: _containers.RepeatedCompositeFieldContainer[Webhook]
    def __init__(self, webhooks: _Optional[_Iterable[_Union[Webhook, _Mapping]]] = ...) -> None: ...

class DeleteWebhookRequest(_message.Message):
    __slots__ = ("webhook_id",)
    WEBHOOK_ID_FIELD_NUMBER: _ClassVar[int]
    webhook_id: str
    def __init__(self, webhook_id: _Optional[str] = ...) -> None: ...

class DeleteWebhookResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RotateWebhookSecretRequest(_message.Message):
    __slots__ = ("webhook_id", "grace_seconds")
    WEBHOOK_ID_FIELD_NUMBER: _ClassVar[int]
    GRACE_SECONDS_FIELD_NUMBER: _ClassVar[int]
    webhook_id: str
    grace_seconds: int
    def __init__(self, webhook_id: _Optional[str] = ..., grace_seconds: _Optional[int] = ...) -> None: ...

class RotateWebhookSecretResponse(_message.Message):
    __slots__ = ("webhook", "secret")
    WEBHOOK_FIELD_NUMBER: _ClassVar[int]
    SECRET_FIELD_NUMBER: _ClassVar[int]
    webhook: Webhook
    secret: str
    def __init__(self, webhook: _Optional[_Union[Webhook, _Mapping]] = ..., secret: _Optional[str] = ...) -> None: ...

class ListWebhookDeliveriesRequest(_message.Message):
    __slots__ = ("webhook_id",)
    WEBHOOK_ID_FIELD_NUMBER: _ClassVar[int]
    webhook_id: str
    def __init__(self, webhook_id: _Optional[str] = ...) -> None: ...

class WebhookDelivery(_message.Message):
    __slots__ = ("message_id", "event_id", "event_type", "batch_id", "attempt_time", "status_code", "error", "next_retry_time")
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    BATCH_ID_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_TIME_FIELD_NUMBER: _ClassVar[int]
    STATUS_CODE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    NEXT_RETRY_TIME_FIELD_NUMBER: _ClassVar[int]
    message_id: str
    event_id: str
    event_type: str
    batch_id: str
    attempt_time: _timestamp_pb2.Timestamp
    status_code: int
    error: str
    next_retry_time: _timestamp_pb2.Timestamp
    def __init__(self, message_id: _Optional[str] = ..., event_id: _Optional[str] = ..., event_type: _Optional[str] = ..., batch_id: _Optional[str] = ..., attempt_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., status_code: _Optional[int] = ..., error: _Optional[str] = ..., next_retry_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListWebhookDeliveriesResponse(_message.Message):
    __slots__ = ("deliveries",)
    DELIVERIES_FIELD_NUMBER: _ClassVar[int]
    deliveries: _containers.RepeatedCompositeFieldContainer[WebhookDelivery]
    def __init__(self, deliveries: _Optional[_Iterable[_Union[WebhookDelivery, _Mapping]]] = ...) -> None: ...
