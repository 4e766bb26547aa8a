import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ProcessingMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PROCESSING_MODE_UNSPECIFIED: _ClassVar[ProcessingMode]
    PROCESSING_MODE_STANDARD: _ClassVar[ProcessingMode]
    PROCESSING_MODE_EXPRESS: _ClassVar[ProcessingMode]

class Language(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LANGUAGE_UNSPECIFIED: _ClassVar[Language]
    LANGUAGE_EN: _ClassVar[Language]
    LANGUAGE_HE: _ClassVar[Language]
    LANGUAGE_YI: _ClassVar[Language]
    LANGUAGE_FR: _ClassVar[Language]

class HebrewWordFormat(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    HEBREW_WORD_FORMAT_UNSPECIFIED: _ClassVar[HebrewWordFormat]
    HEBREW_WORD_FORMAT_EN: _ClassVar[HebrewWordFormat]
    HEBREW_WORD_FORMAT_HE: _ClassVar[HebrewWordFormat]
    HEBREW_WORD_FORMAT_HYBRID: _ClassVar[HebrewWordFormat]

class BatchState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    BATCH_STATE_UNSPECIFIED: _ClassVar[BatchState]
    BATCH_STATE_RECEIVED: _ClassVar[BatchState]
    BATCH_STATE_PROCESSING: _ClassVar[BatchState]
    BATCH_STATE_COMPLETED: _ClassVar[BatchState]
    BATCH_STATE_FAILED: _ClassVar[BatchState]

class TranscriptionState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TRANSCRIPTION_STATE_UNSPECIFIED: _ClassVar[TranscriptionState]
    TRANSCRIPTION_STATE_RECEIVED: _ClassVar[TranscriptionState]
    TRANSCRIPTION_STATE_PENDING: _ClassVar[TranscriptionState]
    TRANSCRIPTION_STATE_PROCESSING: _ClassVar[TranscriptionState]
    TRANSCRIPTION_STATE_COMPLETED: _ClassVar[TranscriptionState]
    TRANSCRIPTION_STATE_CANCELLED: _ClassVar[TranscriptionState]
    TRANSCRIPTION_STATE_FAILED: _ClassVar[TranscriptionState]
    TRANSCRIPTION_STATE_UPLOADED: _ClassVar[TranscriptionState]
    TRANSCRIPTION_STATE_INSUFFICIENT_FUNDS: _ClassVar[TranscriptionState]

class ManifestStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MANIFEST_STATUS_UNSPECIFIED: _ClassVar[ManifestStatus]
    MANIFEST_STATUS_PENDING_VALIDATION: _ClassVar[ManifestStatus]
    MANIFEST_STATUS_VALID: _ClassVar[ManifestStatus]
    MANIFEST_STATUS_INVALID: _ClassVar[ManifestStatus]

class ExportFormat(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EXPORT_FORMAT_UNSPECIFIED: _ClassVar[ExportFormat]
    EXPORT_FORMAT_SRT: _ClassVar[ExportFormat]
    EXPORT_FORMAT_WEBVTT: _ClassVar[ExportFormat]
    EXPORT_FORMAT_TEXT: _ClassVar[ExportFormat]
    EXPORT_FORMAT_MARKDOWN: _ClassVar[ExportFormat]
    EXPORT_FORMAT_DOCX: _ClassVar[ExportFormat]
    EXPORT_FORMAT_JSON: _ClassVar[ExportFormat]

class BatchEventType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    BATCH_EVENT_TYPE_UNSPECIFIED: _ClassVar[BatchEventType]
    BATCH_EVENT_TYPE_BATCH_UPDATED: _ClassVar[BatchEventType]
    BATCH_EVENT_TYPE_TRANSCRIPTION_UPDATED: _ClassVar[BatchEventType]
    BATCH_EVENT_TYPE_TRANSCRIPTION_COMPLETED: _ClassVar[BatchEventType]
PROCESSING_MODE_UNSPECIFIED: ProcessingMode
PROCESSING_MODE_STANDARD: ProcessingMode
PROCESSING_MODE_EXPRESS: ProcessingMode
LANGUAGE_UNSPECIFIED: Language
LANGUAGE_EN: Language
LANGUAGE_HE: Language
LANGUAGE_YI: Language
LANGUAGE_FR: Language
HEBREW_WORD_FORMAT_UNSPECIFIED: HebrewWordFormat
HEBREW_WORD_FORMAT_EN: HebrewWordFormat
HEBREW_WORD_FORMAT_HE: HebrewWordFormat
HEBREW_WORD_FORMAT_HYBRID: HebrewWordFormat
BATCH_STATE_UNSPECIFIED: BatchState
BATCH_STATE_RECEIVED: BatchState
BATCH_STATE_PROCESSING: BatchState
BATCH_STATE_COMPLETED: BatchState
BATCH_STATE_FAILED: BatchState
TRANSCRIPTION_STATE_UNSPECIFIED: TranscriptionState
TRANSCRIPTION_STATE_RECEIVED: TranscriptionState
TRANSCRIPTION_STATE_PENDING: TranscriptionState
TRANSCRIPTION_STATE_PROCESSING: TranscriptionState
TRANSCRIPTION_STATE_COMPLETED: TranscriptionState
TRANSCRIPTION_STATE_CANCELLED: TranscriptionState
TRANSCRIPTION_STATE_FAILED: TranscriptionState
TRANSCRIPTION_STATE_UPLOADED: TranscriptionState
TRANSCRIPTION_STATE_INSUFFICIENT_FUNDS: TranscriptionState
MANIFEST_STATUS_UNSPECIFIED: ManifestStatus
MANIFEST_STATUS_PENDING_VALIDATION: ManifestStatus
MANIFEST_STATUS_VALID: ManifestStatus
MANIFEST_STATUS_INVALID: ManifestStatus
EXPORT_FORMAT_UNSPECIFIED: ExportFormat
EXPORT_FORMAT_SRT: ExportFormat
EXPORT_FORMAT_WEBVTT: ExportFormat
EXPORT_FORMAT_TEXT: ExportFormat
EXPORT_FORMAT_MARKDOWN: ExportFormat
EXPORT_FORMAT_DOCX: ExportFormat
EXPORT_FORMAT_JSON: ExportFormat
BATCH_EVENT_TYPE_UNSPECIFIED: BatchEventType
BATCH_EVENT_TYPE_BATCH_UPDATED: BatchEventType
BATCH_EVENT_TYPE_TRANSCRIPTION_UPDATED: BatchEventType
BATCH_EVENT_TYPE_TRANSCRIPTION_COMPLETED: BatchEventType

class BatchInfo(_message.Message):
    __slots__ = ("model", "title", "primary_language", "hebrew_word_format", "num_speakers", "auto_detect_speakers")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    PRIMARY_LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    HEBREW_WORD_FORMAT_FIELD_NUMBER: _ClassVar[int]
    NUM_SPEAKERS_FIELD_NUMBER: _ClassVar[int]
    AUTO_DETECT_SPEAKERS_FIELD_NUMBER: _ClassVar[int]
    model: str
    title: str
    primary_language: Language
    hebrew_word_format: _containers.RepeatedScalarFieldContainer[HebrewWordFormat]
    num_speakers: int
    auto_detect_speakers: bool
    def __init__(self, model: _Optional[str] = ..., title: _Optional[str] = ..., primary_language: _Optional[_Union[Language, str]] = ..., hebrew_word_format: _Optional[_Iterable[_Union[HebrewWordFormat, str]]] = ..., num_speakers: _Optional[int] = ..., auto_detect_speakers: _Optional[bool] = ...) -> None: ...

class AudioSource(_message.Message):
    __slots__ = ("audio_url", "title", "client_item_id", "num_speakers", "auto_detect_speakers", "page_url")
    AUDIO_URL_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    NUM_SPEAKERS_FIELD_NUMBER: _ClassVar[int]
    AUTO_DETECT_SPEAKERS_FIELD_NUMBER: _ClassVar[int]
    PAGE_URL_FIELD_NUMBER: _ClassVar[int]
    audio_url: str
    title: str
    client_item_id: str
    num_speakers: int
    auto_detect_speakers: bool
    page_url: str
    def __init__(self, audio_url: _Optional[str] = ..., title: _Optional[str] = ..., client_item_id: _Optional[str] = ..., num_speakers: _Optional[int] = ..., auto_detect_speakers: _Optional[bool] = ..., page_url: _Optional[str] = ...) -> None: ...

class BatchStatus(_message.Message):
    __slots__ = ("batch_id", "state", "total_count", "completed_count", "failed_count", "pending_count", "transcriptions", "observed_at", "changed_transcription_ids")
    BATCH_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    TOTAL_COUNT_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_COUNT_FIELD_NUMBER: _ClassVar[int]
    FAILED_COUNT_FIELD_NUMBER: _ClassVar[int]
    PENDING_COUNT_FIELD_NUMBER: _ClassVar[int]
    TRANSCRIPTIONS_FIELD_NUMBER: _ClassVar[int]
    OBSERVED_AT_FIELD_NUMBER: _ClassVar[int]
    CHANGED_TRANSCRIPTION_IDS_FIELD_NUMBER: _ClassVar[int]
    batch_id: str
    state: BatchState
    total_count: int
    completed_count: int
    failed_count: int
    pending_count: int
    transcriptions: _containers.RepeatedCompositeFieldContainer[TranscriptionInfo]
    observed_at: _timestamp_pb2.Timestamp
    changed_transcription_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, batch_id: _Optional[str] = ..., state: _Optional[_Union[BatchState, str]] = ..., total_count: _Optional[int] = ..., completed_count: _Optional[int] = ..., failed_count: _Optional[int] = ..., pending_count: _Optional[int] = ..., transcriptions: _Optional[_Iterable[_Union[TranscriptionInfo, _Mapping]]] = ..., observed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., changed_transcription_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class BatchEvent(_message.Message):
    __slots__ = ("event_id", "type", "batch_id", "observed_at", "batch_state", "total_count", "completed_count", "failed_count", "pending_count", "transcription_id", "client_item_id", "transcription_state")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    BATCH_ID_FIELD_NUMBER: _ClassVar[int]
    OBSERVED_AT_FIELD_NUMBER: _ClassVar[int]
    BATCH_STATE_FIELD_NUMBER: _ClassVar[int]
    TOTAL_COUNT_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_COUNT_FIELD_NUMBER: _ClassVar[int]
    FAILED_COUNT_FIELD_NUMBER: _ClassVar[int]
    PENDING_COUNT_FIELD_NUMBER: _ClassVar[int]
    TRANSCRIPTION_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    TRANSCRIPTION_STATE_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    type: BatchEventType
    batch_id: str
    observed_at: _timestamp_pb2.Timestamp
    batch_state: BatchState
    total_count: int
    completed_count: int
    failed_count: int
    pending_count: int
    transcription_id: str
    client_item_id: str
    transcription_state: TranscriptionState
    def __init__(self, event_id: _Optional[str] = ..., type: _Optional[_Union[BatchEventType, str]] = ..., batch_id: _Optional[str] = ..., observed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., batch_state: _Optional[_Union[BatchState, str]] = ..., total_count: _Optional[int] = ..., completed_count: _Optional[int] = ..., failed_count: _Optional[int] = ..., pending_count: _Optional[int] = ..., transcription_id: _Optional[str] = ..., client_item_id: _Optional[str] = ..., transcription_state: _Optional[_Union[TranscriptionState, str]] = ...) -> None: ...

class TranscriptionInfo(_message.Message):
    __slots__ = ("id", "client_item_id", "title", "created_at", "primary_language", "hebrew_word_format", "num_speakers", "state", "duration", "model")
    ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    PRIMARY_LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    HEBREW_WORD_FORMAT_FIELD_NUMBER: _ClassVar[int]
    NUM_SPEAKERS_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    DURATION_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    id: str
    client_item_id: str
    title: str
    created_at: _timestamp_pb2.Timestamp
    primary_language: Language
    hebrew_word_format: _containers.RepeatedScalarFieldContainer[HebrewWordFormat]
    num_speakers: int
    state: TranscriptionState
    duration: float
    model: str
    def __init__(self, id: _Optional[str] = ..., client_item_id: _Optional[str] = ..., title: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., primary_language: _Optional[_Union[Language, str]] = ..., hebrew_word_format: _Optional[_Iterable[_Union[HebrewWordFormat, str]]] = ..., num_speakers: _Optional[int] = ..., state: _Optional[_Union[TranscriptionState, str]] = ..., duration: _Optional[float] = ..., model: _Optional[str] = ...) -> None: ...

class WordTimestamp(_message.Message):
    __slots__ = ("word", "hebrew_word_format", "start", "end", "speaker")
    WORD_FIELD_NUMBER: _ClassVar[int]
    HEBREW_WORD_FORMAT_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    SPEAKER_FIELD_NUMBER: _ClassVar[int]
    word: str
    hebrew_word_format: _containers.RepeatedScalarFieldContainer[HebrewWordFormat]
    start: float
    end: float
    speaker: str
    def __init__(self, word: _Optional[str] = ..., hebrew_word_format: _Optional[_Iterable[_Union[HebrewWordFormat, str]]] = ..., start: _Optional[float] = ..., end: _Optional[float] = ..., speaker: _Optional[str] = ...) -> None: ...

class Transcription(_message.Message):
    __slots__ = ("text", "timestamps", "info")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMPS_FIELD_NUMBER: _ClassVar[int]
    INFO_FIELD_NUMBER: _ClassVar[int]
    text: str
    timestamps: _containers.RepeatedCompositeFieldContainer[WordTimestamp]
    info: TranscriptionInfo
    def __init__(self, text: _Optional[str] = ..., timestamps: _Optional[_Iterable[_Union[WordTimestamp, _Mapping]]] = ..., info: _Optional[_Union[TranscriptionInfo, _Mapping]] = ...) -> None: ...

class Manifest(_message.Message):
    __slots__ = ("id", "created_at", "item_count", "size_bytes", "status", "checksum", "title", "description", "validation_errors")
    ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    ITEM_COUNT_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CHECKSUM_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    VALIDATION_ERRORS_FIELD_NUMBER: _ClassVar[int]
    id: str
    created_at: _timestamp_pb2.Timestamp
    item_count: int
    size_bytes: int
    status: ManifestStatus
    checksum: str
    title: str
    description: str
    validation_errors: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, id: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., item_count: _Optional[int] = ..., size_bytes: _Optional[int] = ..., status: _Optional[_Union[ManifestStatus, str]] = ..., checksum: _Optional[str] = ..., title: _Optional[str] = ..., description: _Optional[str] = ..., validation_errors: _Optional[_Iterable[str]] = ...) -> None: ...

class ManifestMetadata(_message.Message):
    __slots__ = ("title", "description")
    TITLE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    title: str
    description: str
    def __init__(self, title: _Optional[str] = ..., description: _Optional[str] = ...) -> None: ...
