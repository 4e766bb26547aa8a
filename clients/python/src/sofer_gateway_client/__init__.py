"""sofer-gateway's Python client: the helpers every caller needs beside the generated stubs
(`sofer.batch.v1`).

- `channel` / `aio_channel`: a channel with the retry service config (reads, and creates with a
  `request_id`, retry UNAVAILABLE), keepalive and reconnect options, and typed errors;
- `GatewayError` and its subclasses: a failed call with its ErrorInfo, BadRequest, RetryInfo and
  QuotaFailure decoded (`from_rpc_error` for a `grpc.RpcError`);
- `watch_batch` / `watch_batch_async`: each new status of a batch until it ends, reconnecting;
- `request_id_for`: a stable `request_id` from a caller's own id (uuid5).
"""

from sofer_gateway_client.channel import (
    CHANNEL_OPTIONS,
    SERVICE_CONFIG,
    aio_channel,
    channel,
    channel_options,
)
from sofer_gateway_client.errors import (
    AioErrorInterceptor,
    Cancelled,
    Conflict,
    DeadlineExceeded,
    ErrorInterceptor,
    FieldViolation,
    GatewayError,
    InvalidArgument,
    NotFound,
    OutcomeUnknown,
    PermissionDenied,
    QuotaViolation,
    RateLimited,
    ServerError,
    Unauthenticated,
    Unavailable,
    from_rpc_error,
)
from sofer_gateway_client.ids import request_id_for
from sofer_gateway_client.reconnect import GaveUp, Reconnect, ReconnectPolicy, Reconnects
from sofer_gateway_client.watch import TERMINAL, is_terminal, watch_batch, watch_batch_async

__all__ = [
    "CHANNEL_OPTIONS",
    "SERVICE_CONFIG",
    "TERMINAL",
    "AioErrorInterceptor",
    "Cancelled",
    "Conflict",
    "DeadlineExceeded",
    "ErrorInterceptor",
    "FieldViolation",
    "GatewayError",
    "GaveUp",
    "InvalidArgument",
    "NotFound",
    "OutcomeUnknown",
    "PermissionDenied",
    "QuotaViolation",
    "RateLimited",
    "Reconnect",
    "ReconnectPolicy",
    "Reconnects",
    "ServerError",
    "Unauthenticated",
    "Unavailable",
    "aio_channel",
    "channel",
    "channel_options",
    "from_rpc_error",
    "is_terminal",
    "request_id_for",
    "watch_batch",
    "watch_batch_async",
]
