"""The gateway process and everything that is the same for every call.

- `process`: `Gateway` (the grpc.aio server, its standard services, what it owns and closes)
  and `serve` (the `sofer-gateway serve` command's process);
- `servicer`: `BatchTranscriptionServicer`, one method per RPC; the methods coordinate the
  layers below and hold no policy; `status_replies`: GetBatchStatus replies built once per
  distinct upstream answer;
- `frame`: the per-call frame (`Call`, `unary_rpc`, `stream_rpc`, `client_stream_rpc`):
  request id, credential, validation, deadline, caller share, error translation, one log line;
- `singles`, `uploads`: single transcriptions (CreateTranscription, UploadTranscription): ids
  derived from the request_id, the create found again after a crash, an upload's bytes held as
  the base64 text they are sent as, within --max-upload-bytes;
- `call_context`, `grpc_adapter`: the seam between the RPC logic and its protocol. The frame
  and the servicer see a call's transport only as a `CallContext` (request metadata, deadline,
  verified client certificate, initial and trailing metadata, abort); `grpc_adapter` is its
  grpc.aio implementation and gives the generated registration the servicer's methods in
  grpc.aio's shape (`for_grpc`). A second protocol (Connect) serves the same methods through a
  `CallContext` of its own;
- `inflight`, `limiter`: the time by which each unary call must answer, and the bound on
  unary calls working at once;
- `request_message`, `decoding`, `passthrough`, `handler_cache`: how grpc.aio's method handlers
  are wrapped (bounded request reads, tolerant decoding, pre-serialized answers), each rebuilt
  with grpc's public constructors;
- `health`, `tls`: `--health-listen` and `--tls-*`.

May import every package below it: watch, state, access, contract, observability, config,
upstream, validation, captions. Nothing below imports it.
"""
