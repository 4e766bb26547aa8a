"""GetBatchStatus replies built once per distinct upstream answer, and sent as bytes.

A status answer's body decides the whole reply but its `observed_at` (when that answer arrived).
So `StatusReplies.reply` decodes a body (`BatchStatusResponse.from_json`), maps it and
serializes the BatchStatus once, keyed by the body's bytes, and hands the same bytes back for
every later answer that is byte for byte the same: a batch polled again while it has not
changed, or every batch of an upstream that answers them all alike. `with_observed_at` then
makes each read's GetBatchStatusResponse from them with that read's own `observed_at`; the
server sends those bytes as they are (gateway.server.passthrough).

- Shared between callers and tenants safely: the key is the answer's whole content, and equal
  bytes make equal replies, so a caller only ever gets what its own answer says.
- Bounded: at most `max_entries` replies and `max_bytes` of bodies and replies together; the
  least recently used go first, and an answer larger than the whole budget is built and not kept.
- The bytes are what protobuf's own serializer makes of the message (fields in number order,
  `observed_at` the last one a GetBatchStatus sets), which the tests hold it to.
"""

from __future__ import annotations

from collections import OrderedDict

from sofer.batch.v1 import batch_pb2

from gateway.contract import mapping
from gateway.upstream.models import BatchStatusResponse

MAX_ENTRIES = 4_096
MAX_BYTES = 32 * 1024 * 1024
"""Bodies and replies kept together, at most (a 10-item answer and its reply are about 4 KB)."""
_BATCH_STATUS = b"\x0a"
"""The key of GetBatchStatusResponse.batch_status: field 1, length-delimited (wire type 2)."""


class StatusReplies:
    """Serialized BatchStatus messages (without observed_at) by the upstream body they came
    from; one instance per server."""

    def __init__(self, *, max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_BYTES) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._built: OrderedDict[bytes, bytes] = OrderedDict()
        self._size = 0

    def __len__(self) -> int:
        """Replies kept now."""
        return len(self._built)

    @property
    def size(self) -> int:
        """Bytes kept now: bodies and replies."""
        return self._size

    def reply(self, body: object) -> bytes:
        """The serialized BatchStatus of the upstream answer `body` (its bytes; a parsed JSON
        value is built and never kept), without observed_at. Raises ProtocolError as
        `BatchStatusResponse.from_json` does."""
        if type(body) is bytes:
            built = self._built.get(body)
            if built is not None:
                self._built.move_to_end(body)
                return built
        status = batch_pb2.BatchStatus()
        mapping.fill_batch_status(status, BatchStatusResponse.from_json(body))
        built = status.SerializeToString()
        if type(body) is bytes:
            self._keep(body, built)
        return built

    def _keep(self, body: bytes, built: bytes) -> None:
        size = len(body) + len(built)
        if size > self.max_bytes:
            return
        self._built[body] = built
        self._size += size
        while len(self._built) > self.max_entries or self._size > self.max_bytes:
            old_body, old_built = self._built.popitem(last=False)
            self._size -= len(old_body) + len(old_built)


def with_observed_at(status: bytes) -> bytes:
    """The serialized GetBatchStatusResponse of the serialized BatchStatus `status` with its
    observed_at set to now: the Timestamp field appended to the status's bytes (a message's
    fields may come in any order; this one comes last, as protobuf would put it), then the
    whole as the response's one field."""
    observed = batch_pb2.BatchStatus()
    mapping.set_now(observed.observed_at)
    inner = status + observed.SerializeToString()
    return _BATCH_STATUS + _varint(len(inner)) + inner


def _varint(value: int) -> bytes:
    """`value` (>= 0) as a protobuf base-128 varint: 7 bits a byte, low bits first, the high bit
    set on every byte but the last."""
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)
