package ai.sofer.batch.v1;

import static io.grpc.MethodDescriptor.generateFullMethodName;

/**
 * <pre>
 * Batch transcription through the Sofer.ai API: create batches (express, inline items; or
 * standard, from an uploaded manifest), manage manifests, and follow a batch's progress, one
 * poll or a live stream.
 * Credentials: the caller's `authorization: Bearer &lt;token&gt;` metadata is forwarded upstream; without
 * one the gateway uses its configured key; without either the call fails UNAUTHENTICATED before
 * any upstream call. A gateway that authenticates its callers (caller tokens, which start with
 * `sgw_` in any case and are never sent upstream, or a client certificate under mutual TLS)
 * spends its key
 * only for them: any other caller without a token of its own fails UNAUTHENTICATED (reason
 * CALLER_UNAUTHENTICATED). Everything the gateway shares between calls is scoped to the
 * credential.
 * Request ids: `x-request-id` metadata (generated when absent) is sent upstream, logged, and
 * returned in the response's initial metadata. Mutating RPCs also take a `request_id` field that
 * makes retries safe (see `CreateBatchRequest.request_id`).
 * Errors (google.rpc.Status in the `grpc-status-details-bin` trailer; AIP-193): every error
 * carries a google.rpc.ErrorInfo with an UPPER_SNAKE_CASE `reason`, the domain "sofer-gateway",
 * and metadata with only these keys, each when it applies: `batch_id`, `batch_file_id`,
 * `transcription_id`, `client_item_id`, `request_id`, `upstream_status`. Beside it, by code:
 * - INVALID_ARGUMENT (the request broke a rule in these comments, or the upstream answered 400 or
 *   422): a google.rpc.BadRequest with one field violation per broken rule, all of them at once,
 *   each naming the field path as in `audio_sources[3].audio_url` or `info.num_speakers`.
 * - UNAUTHENTICATED (no credential, or upstream 401); PERMISSION_DENIED (upstream 403).
 * - NOT_FOUND (upstream 404: no such batch, manifest, transcription or client_item_id for this
 *   credential).
 * - ALREADY_EXISTS (a `request_id` reused with a different request: reason REQUEST_ID_REUSED);
 *   ABORTED (upstream 409).
 * - FAILED_PRECONDITION (`ExportTranscription` as SRT or WebVTT of a transcript with text but
 *   no word timestamps to time the captions by: reason TRANSCRIPT_NOT_TIMED).
 * - RESOURCE_EXHAUSTED (upstream 429 after the gateway's own retries, reason RATE_LIMITED; or the
 *   gateway itself is at its concurrency limit or out of upstream connections, reason
 *   GATEWAY_OVERLOADED; or the gateway's upstream rate budget, --upstream-rate-limit, has no
 *   request for the credential before the call's deadline, reason UPSTREAM_QUOTA_EXHAUSTED,
 *   nothing sent): a google.rpc.RetryInfo with the delay to wait and a google.rpc.QuotaFailure
 *   naming the limit. A caller past its own share (--max-calls-per-caller,
 *   --max-watches-per-caller) is refused RESOURCE_EXHAUSTED, reason CALLER_QUOTA_EXCEEDED, with a
 *   QuotaFailure naming the caller's quota. An answer larger than the gateway sends in one
 *   message (--max-send-message-bytes: a very long transcript) is refused RESOURCE_EXHAUSTED,
 *   reason RESPONSE_TOO_LARGE, its ErrorInfo naming what it answered (`transcription_id`: a
 *   StreamBatchTranscripts caller may skip it); ExportTranscription and `sofer-gateway fetch`
 *   write such a transcript as a file. Requests are validated before the limit applies,
 *   so bad input is always answered INVALID_ARGUMENT, and so are request bytes that do not
 *   decode as the method's request message.
 * - UNAVAILABLE (upstream 5xx or unreachable; or the gateway shut down while the call ran,
 *   reason SHUTTING_DOWN; safe to retry with the same `request_id`); DEADLINE_EXCEEDED (the
 *   caller's deadline passed; the gateway never retries past it and answers just before it,
 *   reason UPSTREAM_TIMEOUT).
 * - A create (CreateBatch, UploadManifest, CreateManifestFromRss) that was sent upstream and then
 *   cut short (a 5xx, a lost connection, the caller's deadline, a shutdown) fails with reason
 *   OUTCOME_UNKNOWN (UNAVAILABLE or DEADLINE_EXCEEDED): the upstream may have acted. Retry with
 *   the same `request_id` to get its outcome, or check before creating again. The same answer
 *   when the gateway's record of the `request_id` in its shared idempotency store (Redis)
 *   cannot be read, or vanished while the create ran on another replica. A create with a
 *   `request_id` while that store cannot be reached fails UNAVAILABLE, reason
 *   IDEMPOTENCY_STORE_UNAVAILABLE, before anything is sent.
 * - A call whose request message is not complete within the gateway's request-message timeout
 *   ends DEADLINE_EXCEEDED (reason REQUEST_MESSAGE_TIMEOUT); bytes that are not the method's
 *   request message, or a stream that ends without one, INVALID_ARGUMENT (REQUEST_INVALID).
 * </pre>
 */
@javax.annotation.Generated(
    value = "by gRPC proto compiler",
    comments = "Source: sofer/batch/v1/batch_service.proto")
@io.grpc.stub.annotations.GrpcGenerated
public final class BatchTranscriptionServiceGrpc {

  private BatchTranscriptionServiceGrpc() {}

  public static final String SERVICE_NAME = "sofer.batch.v1.BatchTranscriptionService";

  // Static method descriptors that strictly reflect the proto.
  private static volatile io.grpc.MethodDescriptor<ai.sofer.batch.v1.CreateBatchRequest,
      ai.sofer.batch.v1.CreateBatchResponse> getCreateBatchMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "CreateBatch",
      requestType = ai.sofer.batch.v1.CreateBatchRequest.class,
      responseType = ai.sofer.batch.v1.CreateBatchResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<ai.sofer.batch.v1.CreateBatchRequest,
      ai.sofer.batch.v1.CreateBatchResponse> getCreateBatchMethod() {
    io.grpc.MethodDescriptor<ai.sofer.batch.v1.CreateBatchRequest, ai.sofer.batch.v1.CreateBatchResponse> getCreateBatchMethod;
    if ((getCreateBatchMethod = BatchTranscriptionServiceGrpc.getCreateBatchMethod) == null) {
      synchronized (BatchTranscriptionServiceGrpc.class) {
        if ((getCreateBatchMethod = BatchTranscriptionServiceGrpc.getCreateBatchMethod) == null) {
          BatchTranscriptionServiceGrpc.getCreateBatchMethod = getCreateBatchMethod =
              io.grpc.MethodDescriptor.<ai.sofer.batch.v1.CreateBatchRequest, ai.sofer.batch.v1.CreateBatchResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "CreateBatch"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  ai.sofer.batch.v1.CreateBatchRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  ai.sofer.batch.v1.CreateBatchResponse.getDefaultInstance()))
              .setSchemaDescriptor(new BatchTranscriptionServiceMethodDescriptorSupplier("CreateBatch"))
              .build();
        }
      }
    }
    return getCreateBatchMethod;
  }

  private static volatile io.grpc.MethodDescriptor<ai.sofer.batch.v1.UploadManifestRequest,
      ai.sofer.batch.v1.UploadManifestResponse> getUploadManifestMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "UploadManifest",
      requestType = ai.sofer.batch.v1.UploadManifestRequest.class,
      responseType = ai.sofer.batch.v1.UploadManifestResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<ai.sofer.batch.v1.UploadManifestRequest,
      ai.sofer.batch.v1.UploadManifestResponse> getUploadManifestMethod() {
    io.grpc.MethodDescriptor<ai.sofer.batch.v1.UploadManifestRequest, ai.sofer.batch.v1.UploadManifestResponse> getUploadManifestMethod;
    if ((getUploadManifestMethod = BatchTranscriptionServiceGrpc.getUploadManifestMethod) == null) {
      synchronized (BatchTranscriptionServiceGrpc.class) {
        if ((getUploadManifestMethod = BatchTranscriptionServiceGrpc.getUploadManifestMethod) == null) {
          BatchTranscriptionServiceGrpc.getUploadManifestMethod = getUploadManifestMethod =
              io.grpc.MethodDescriptor.<ai.sofer.batch.v1.UploadManifestRequest, ai.sofer.batch.v1.UploadManifestResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "UploadManifest"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  ai.sofer.batch.v1.UploadManifestRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  ai.sofer.batch.v1.UploadManifestResponse.getDefaultInstance()))
              .setSchemaDescriptor(new BatchTranscriptionServiceMethodDescriptorSupplier("UploadManifest"))
              .build();
        }
      }
    }
    return getUploadManifestMethod;
  }

  private static volatile io.grpc.MethodDescriptor<ai.sofer.batch.v1.CreateManifestFromRssRequest,
      ai.sofer.batch.v1.CreateManifestFromRssResponse> getCreateManifestFromRssMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "CreateManifestFromRss",
      requestType = ai.sofer.batch.v1.CreateManifestFromRssRequest.class,
      responseType = ai.sofer.batch.v1.CreateManifestFromRssResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<ai.sofer.batch.v1.CreateManifestFromRssRequest,
      ai.sofer.batch.v1.CreateManifestFromRssResponse> getCreateManifestFromRssMethod() {
    io.grpc.MethodDescriptor<ai.sofer.batch.v1.CreateManifestFromRssRequest, ai.sofer.batch.v1.CreateManifestFromRssResponse> getCreateManifestFromRssMethod;
    if ((getCreateManifestFromRssMethod = BatchTranscriptionServiceGrpc.getCreateManifestFromRssMethod) == null) {
      synchronized (BatchTranscriptionServiceGrpc.class) {
        if ((getCreateManifestFromRssMethod = BatchTranscriptionServiceGrpc.getCreateManifestFromRssMethod) == null) {
          BatchTranscriptionServiceGrpc.getCreateManifestFromRssMethod = getCreateManifestFromRssMethod =
              io.grpc.MethodDescriptor.<ai.sofer.batch.v1.CreateManifestFromRssRequest, ai.sofer.batch.v1.CreateManifestFromRssResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "CreateManifestFromRss"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  ai.sofer.batch.v1.CreateManifestFromRssRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  ai.sofer.batch.v1.CreateManifestFromRssResponse.getDefaultInstance()))
              .setSchemaDescriptor(new BatchTranscriptionServiceMethodDescriptorSupplier("CreateManifestFromRss"))
              .build();
        }
      }
    }
    return getCreateManifestFromRssMethod;
  }

  private static volatile io.grpc.MethodDescriptor<ai.sofer.batch.v1.GetManifestRequest,
      ai.sofer.batch.v1.GetManifestResponse> getGetManifestMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "GetManifest",
      requestType = ai.sofer.batch.v1.GetManifestRequest.class,
      responseType = ai.sofer.batch.v1.GetManifestResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<ai.sofer.batch.v1.GetManifestRequest,
      ai.sofer.batch.v1.GetManifestResponse> getGetManifestMethod() {
    io.grpc.MethodDescriptor<ai.sofer.batch.v1.GetManifestRequest, ai.sofer.batch.v1.GetManifestResponse> getGetManifestMethod;
    if ((getGetManifestMethod = BatchTranscriptionServiceGrpc.getGetManifestMethod) == null) {
      synchronized (BatchTranscriptionServiceGrpc.class) {
        if ((getGetManifestMethod = BatchTranscriptionServiceGrpc.getGetManifestMethod) == null) {
          BatchTranscriptionServiceGrpc.getGetManifestMethod = getGetManifestMethod =
              io.grpc.MethodDescriptor.<ai.sofer.batch.v1.GetManifestRequest, ai.sofer.batch.v1.GetManifestResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "GetManifest"))
              .setSafe(true)
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  ai.sofer.batch.v1.GetManifestRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  ai.sofer.batch.v1.GetManifestResponse.getDefaultInstance()))
              .setSchemaDescriptor(new BatchTranscriptionServiceMethodDescriptorSupplier("GetManifest"))
              .build();
        }
      }
    }
    return getGetManifestMethod;
  }

  private static volatile io.grpc.MethodDescriptor<ai.sofer.batch.v1.ListManifestsRequest,
      ai.sofer.batch.v1.ListManifestsResponse> getListManifestsMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ListManifests",
      requestType = ai.sofer.batch.v1.ListManifestsRequest.class,
      responseType = ai.sofer.batch.v1.ListManifestsResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<ai.sofer.batch.v1.ListManifestsRequest,
      ai.sofer.batch.v1.ListManifestsResponse> getListManifestsMethod() {
    io.grpc.MethodDescriptor<ai.sofer.batch.v1.ListManifestsRequest, ai.sofer.batch.v1.ListManifestsResponse> getListManifestsMethod;
    if ((getListManifestsMethod = BatchTranscriptionServiceGrpc.getListManifestsMethod) == null) {
      synchronized (BatchTranscriptionServiceGrpc.class) {
        if ((getListManifestsMethod = BatchTranscriptionServiceGrpc.getListManifestsMethod) == null) {
          BatchTranscriptionServiceGrpc.getListManifestsMethod = getListManifestsMethod =
              io.grpc.MethodDescriptor.<ai.sofer.batch.v1.ListManifestsRequest, ai.sofer.batch.v1.ListManifestsResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ListManifests"))
              .setSafe(true)
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  ai.sofer.batch.v1.ListManifestsRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  ai.sofer.batch.v1.ListManifestsResponse.getDefaultInstance()))
              .setSchemaDescriptor(new BatchTranscriptionServiceMethodDescriptorSupplier("ListManifests"))
              .build();
        }
      }
    }
    return getListManifestsMethod;
  }

  private static volatile io.grpc.MethodDescriptor<ai.sofer.batch.v1.GetBatchStatusRequest,
      ai.sofer.batch.v1.GetBatchStatusResponse> getGetBatchStatusMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "GetBatchStatus",
      requestType = ai.sofer.batch.v1.GetBatchStatusRequest.class,
      responseType = ai.sofer.batch.v1.GetBatchStatusResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<ai.sofer.batch.v1.GetBatchStatusRequest,
      ai.sofer.batch.v1.GetBatchStatusResponse> getGetBatchStatusMethod() {
    io.grpc.MethodDescriptor<ai.sofer.batch.v1.GetBatchStatusRequest, ai.sofer.batch.v1.GetBatchStatusResponse> getGetBatchStatusMethod;
    if ((getGetBatchStatusMethod = BatchTranscriptionServiceGrpc.getGetBatchStatusMethod) == null) {
      synchronized (BatchTranscriptionServiceGrpc.class) {
        if ((getGetBatchStatusMethod = BatchTranscriptionServiceGrpc.getGetBatchStatusMethod) == null) {
          BatchTranscriptionServiceGrpc.getGetBatchStatusMethod = getGetBatchStatusMethod =
              io.grpc.MethodDescriptor.<ai.sofer.batch.v1.GetBatchStatusRequest, ai.sofer.batch.v1.GetBatchStatusResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "GetBatchStatus"))
              .setSafe(true)
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  ai.sofer.batch.v1.GetBatchStatusRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  ai.sofer.batch.v1.GetBatchStatusResponse.getDefaultInstance()))
              .setSchemaDescriptor(new BatchTranscriptionServiceMethodDescriptorSupplier("GetBatchStatus"))
              .build();
        }
      }
    }
    return getGetBatchStatusMethod;
  }

  private static volatile io.grpc.MethodDescriptor<ai.sofer.batch.v1.WatchBatchStatusRequest,
      ai.sofer.batch.v1.WatchBatchStatusResponse> getWatchBatchStatusMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "WatchBatchStatus",
      requestType = ai.sofer.batch.v1.WatchBatchStatusRequest.class,
      responseType = ai.sofer.batch.v1.WatchBatchStatusResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.SERVER_STREAMING)
  public static io.grpc.MethodDescriptor<ai.sofer.batch.v1.WatchBatchStatusRequest,
      ai.sofer.batch.v1.WatchBatchStatusResponse> getWatchBatchStatusMethod() {
    io.grpc.MethodDescriptor<ai.sofer.batch.v1.WatchBatchStatusRequest, ai.sofer.batch.v1.WatchBatchStatusResponse> getWatchBatchStatusMethod;
    if ((getWatchBatchStatusMethod = BatchTranscriptionServiceGrpc.getWatchBatchStatusMethod) == null) {
      synchronized (BatchTranscriptionServiceGrpc.class) {
        if ((getWatchBatchStatusMethod = BatchTranscriptionServiceGrpc.getWatchBatchStatusMethod) == null) {
          BatchTranscriptionServiceGrpc.getWatchBatchStatusMethod = getWatchBatchStatusMethod =
              io.grpc.MethodDescriptor.<ai.sofer.batch.v1.WatchBatchStatusRequest, ai.sofer.batch.v1.WatchBatchStatusResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.SERVER_STREAMING)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "WatchBatchStatus"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  ai.sofer.batch.v1.WatchBatchStatusRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  ai.sofer.batch.v1.WatchBatchStatusResponse.getDefaultInstance()))
              .setSchemaDescriptor(new BatchTranscriptionServiceMethodDescriptorSupplier("WatchBatchStatus"))
              .build();
        }
      }
    }
    return getWatchBatchStatusMethod;
  }

  private static volatile io.grpc.MethodDescriptor<ai.sofer.batch.v1.StreamBatchTranscriptsRequest,
      ai.sofer.batch.v1.StreamBatchTranscriptsResponse> getStreamBatchTranscriptsMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "StreamBatchTranscripts",
      requestType = ai.sofer.batch.v1.StreamBatchTranscriptsRequest.class,
      responseType = ai.sofer.batch.v1.StreamBatchTranscriptsResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.SERVER_STREAMING)
  public static io.grpc.MethodDescriptor<ai.sofer.batch.v1.StreamBatchTranscriptsRequest,
      ai.sofer.batch.v1.StreamBatchTranscriptsResponse> getStreamBatchTranscriptsMethod() {
    io.grpc.MethodDescriptor<ai.sofer.batch.v1.StreamBatchTranscriptsRequest, ai.sofer.batch.v1.StreamBatchTranscriptsResponse> getStreamBatchTranscriptsMethod;
    if ((getStreamBatchTranscriptsMethod = BatchTranscriptionServiceGrpc.getStreamBatchTranscriptsMethod) == null) {
      synchronized (BatchTranscriptionServiceGrpc.class) {
        if ((getStreamBatchTranscriptsMethod = BatchTranscriptionServiceGrpc.getStreamBatchTranscriptsMethod) == null) {
          BatchTranscriptionServiceGrpc.getStreamBatchTranscriptsMethod = getStreamBatchTranscriptsMethod =
              io.grpc.MethodDescriptor.<ai.sofer.batch.v1.StreamBatchTranscriptsRequest, ai.sofer.batch.v1.StreamBatchTranscriptsResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.SERVER_STREAMING)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "StreamBatchTranscripts"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  ai.sofer.batch.v1.StreamBatchTranscriptsRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  ai.sofer.batch.v1.StreamBatchTranscriptsResponse.getDefaultInstance()))
              .setSchemaDescriptor(new BatchTranscriptionServiceMethodDescriptorSupplier("StreamBatchTranscripts"))
              .build();
        }
      }
    }
    return getStreamBatchTranscriptsMethod;
  }

  private static volatile io.grpc.MethodDescriptor<ai.sofer.batch.v1.GetBatchItemRequest,
      ai.sofer.batch.v1.GetBatchItemResponse> getGetBatchItemMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "GetBatchItem",
      requestType = ai.sofer.batch.v1.GetBatchItemRequest.class,
      responseType = ai.sofer.batch.v1.GetBatchItemResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<ai.sofer.batch.v1.GetBatchItemRequest,
      ai.sofer.batch.v1.GetBatchItemResponse> getGetBatchItemMethod() {
    io.grpc.MethodDescriptor<ai.sofer.batch.v1.GetBatchItemRequest, ai.sofer.batch.v1.GetBatchItemResponse> getGetBatchItemMethod;
    if ((getGetBatchItemMethod = BatchTranscriptionServiceGrpc.getGetBatchItemMethod) == null) {
      synchronized (BatchTranscriptionServiceGrpc.class) {
        if ((getGetBatchItemMethod = BatchTranscriptionServiceGrpc.getGetBatchItemMethod) == null) {
          BatchTranscriptionServiceGrpc.getGetBatchItemMethod = getGetBatchItemMethod =
              io.grpc.MethodDescriptor.<ai.sofer.batch.v1.GetBatchItemRequest, ai.sofer.batch.v1.GetBatchItemResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "GetBatchItem"))
              .setSafe(true)
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  ai.sofer.batch.v1.GetBatchItemRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  ai.sofer.batch.v1.GetBatchItemResponse.getDefaultInstance()))
              .setSchemaDescriptor(new BatchTranscriptionServiceMethodDescriptorSupplier("GetBatchItem"))
              .build();
        }
      }
    }
    return getGetBatchItemMethod;
  }

  private static volatile io.grpc.MethodDescriptor<ai.sofer.batch.v1.GetTranscriptionRequest,
      ai.sofer.batch.v1.GetTranscriptionResponse> getGetTranscriptionMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "GetTranscription",
      requestType = ai.sofer.batch.v1.GetTranscriptionRequest.class,
      responseType = ai.sofer.batch.v1.GetTranscriptionResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<ai.sofer.batch.v1.GetTranscriptionRequest,
      ai.sofer.batch.v1.GetTranscriptionResponse> getGetTranscriptionMethod() {
    io.grpc.MethodDescriptor<ai.sofer.batch.v1.GetTranscriptionRequest, ai.sofer.batch.v1.GetTranscriptionResponse> getGetTranscriptionMethod;
    if ((getGetTranscriptionMethod = BatchTranscriptionServiceGrpc.getGetTranscriptionMethod) == null) {
      synchronized (BatchTranscriptionServiceGrpc.class) {
        if ((getGetTranscriptionMethod = BatchTranscriptionServiceGrpc.getGetTranscriptionMethod) == null) {
          BatchTranscriptionServiceGrpc.getGetTranscriptionMethod = getGetTranscriptionMethod =
              io.grpc.MethodDescriptor.<ai.sofer.batch.v1.GetTranscriptionRequest, ai.sofer.batch.v1.GetTranscriptionResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "GetTranscription"))
              .setSafe(true)
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  ai.sofer.batch.v1.GetTranscriptionRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  ai.sofer.batch.v1.GetTranscriptionResponse.getDefaultInstance()))
              .setSchemaDescriptor(new BatchTranscriptionServiceMethodDescriptorSupplier("GetTranscription"))
              .build();
        }
      }
    }
    return getGetTranscriptionMethod;
  }

  private static volatile io.grpc.MethodDescriptor<ai.sofer.batch.v1.ExportTranscriptionRequest,
      ai.sofer.batch.v1.ExportTranscriptionResponse> getExportTranscriptionMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ExportTranscription",
      requestType = ai.sofer.batch.v1.ExportTranscriptionRequest.class,
      responseType = ai.sofer.batch.v1.ExportTranscriptionResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<ai.sofer.batch.v1.ExportTranscriptionRequest,
      ai.sofer.batch.v1.ExportTranscriptionResponse> getExportTranscriptionMethod() {
    io.grpc.MethodDescriptor<ai.sofer.batch.v1.ExportTranscriptionRequest, ai.sofer.batch.v1.ExportTranscriptionResponse> getExportTranscriptionMethod;
    if ((getExportTranscriptionMethod = BatchTranscriptionServiceGrpc.getExportTranscriptionMethod) == null) {
      synchronized (BatchTranscriptionServiceGrpc.class) {
        if ((getExportTranscriptionMethod = BatchTranscriptionServiceGrpc.getExportTranscriptionMethod) == null) {
          BatchTranscriptionServiceGrpc.getExportTranscriptionMethod = getExportTranscriptionMethod =
              io.grpc.MethodDescriptor.<ai.sofer.batch.v1.ExportTranscriptionRequest, ai.sofer.batch.v1.ExportTranscriptionResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ExportTranscription"))
              .setSafe(true)
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  ai.sofer.batch.v1.ExportTranscriptionRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  ai.sofer.batch.v1.ExportTranscriptionResponse.getDefaultInstance()))
              .setSchemaDescriptor(new BatchTranscriptionServiceMethodDescriptorSupplier("ExportTranscription"))
              .build();
        }
      }
    }
    return getExportTranscriptionMethod;
  }

  private static volatile io.grpc.MethodDescriptor<ai.sofer.batch.v1.GetTranscriptionStatusRequest,
      ai.sofer.batch.v1.GetTranscriptionStatusResponse> getGetTranscriptionStatusMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "GetTranscriptionStatus",
      requestType = ai.sofer.batch.v1.GetTranscriptionStatusRequest.class,
      responseType = ai.sofer.batch.v1.GetTranscriptionStatusResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<ai.sofer.batch.v1.GetTranscriptionStatusRequest,
      ai.sofer.batch.v1.GetTranscriptionStatusResponse> getGetTranscriptionStatusMethod() {
    io.grpc.MethodDescriptor<ai.sofer.batch.v1.GetTranscriptionStatusRequest, ai.sofer.batch.v1.GetTranscriptionStatusResponse> getGetTranscriptionStatusMethod;
    if ((getGetTranscriptionStatusMethod = BatchTranscriptionServiceGrpc.getGetTranscriptionStatusMethod) == null) {
      synchronized (BatchTranscriptionServiceGrpc.class) {
        if ((getGetTranscriptionStatusMethod = BatchTranscriptionServiceGrpc.getGetTranscriptionStatusMethod) == null) {
          BatchTranscriptionServiceGrpc.getGetTranscriptionStatusMethod = getGetTranscriptionStatusMethod =
              io.grpc.MethodDescriptor.<ai.sofer.batch.v1.GetTranscriptionStatusRequest, ai.sofer.batch.v1.GetTranscriptionStatusResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "GetTranscriptionStatus"))
              .setSafe(true)
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  ai.sofer.batch.v1.GetTranscriptionStatusRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  ai.sofer.batch.v1.GetTranscriptionStatusResponse.getDefaultInstance()))
              .setSchemaDescriptor(new BatchTranscriptionServiceMethodDescriptorSupplier("GetTranscriptionStatus"))
              .build();
        }
      }
    }
    return getGetTranscriptionStatusMethod;
  }

  private static volatile io.grpc.MethodDescriptor<ai.sofer.batch.v1.GetBalanceRequest,
      ai.sofer.batch.v1.GetBalanceResponse> getGetBalanceMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "GetBalance",
      requestType = ai.sofer.batch.v1.GetBalanceRequest.class,
      responseType = ai.sofer.batch.v1.GetBalanceResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<ai.sofer.batch.v1.GetBalanceRequest,
      ai.sofer.batch.v1.GetBalanceResponse> getGetBalanceMethod() {
    io.grpc.MethodDescriptor<ai.sofer.batch.v1.GetBalanceRequest, ai.sofer.batch.v1.GetBalanceResponse> getGetBalanceMethod;
    if ((getGetBalanceMethod = BatchTranscriptionServiceGrpc.getGetBalanceMethod) == null) {
      synchronized (BatchTranscriptionServiceGrpc.class) {
        if ((getGetBalanceMethod = BatchTranscriptionServiceGrpc.getGetBalanceMethod) == null) {
          BatchTranscriptionServiceGrpc.getGetBalanceMethod = getGetBalanceMethod =
              io.grpc.MethodDescriptor.<ai.sofer.batch.v1.GetBalanceRequest, ai.sofer.batch.v1.GetBalanceResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "GetBalance"))
              .setSafe(true)
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  ai.sofer.batch.v1.GetBalanceRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  ai.sofer.batch.v1.GetBalanceResponse.getDefaultInstance()))
              .setSchemaDescriptor(new BatchTranscriptionServiceMethodDescriptorSupplier("GetBalance"))
              .build();
        }
      }
    }
    return getGetBalanceMethod;
  }

  private static volatile io.grpc.MethodDescriptor<ai.sofer.batch.v1.EstimateCostRequest,
      ai.sofer.batch.v1.EstimateCostResponse> getEstimateCostMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "EstimateCost",
      requestType = ai.sofer.batch.v1.EstimateCostRequest.class,
      responseType = ai.sofer.batch.v1.EstimateCostResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<ai.sofer.batch.v1.EstimateCostRequest,
      ai.sofer.batch.v1.EstimateCostResponse> getEstimateCostMethod() {
    io.grpc.MethodDescriptor<ai.sofer.batch.v1.EstimateCostRequest, ai.sofer.batch.v1.EstimateCostResponse> getEstimateCostMethod;
    if ((getEstimateCostMethod = BatchTranscriptionServiceGrpc.getEstimateCostMethod) == null) {
      synchronized (BatchTranscriptionServiceGrpc.class) {
        if ((getEstimateCostMethod = BatchTranscriptionServiceGrpc.getEstimateCostMethod) == null) {
          BatchTranscriptionServiceGrpc.getEstimateCostMethod = getEstimateCostMethod =
              io.grpc.MethodDescriptor.<ai.sofer.batch.v1.EstimateCostRequest, ai.sofer.batch.v1.EstimateCostResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "EstimateCost"))
              .setSafe(true)
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  ai.sofer.batch.v1.EstimateCostRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  ai.sofer.batch.v1.EstimateCostResponse.getDefaultInstance()))
              .setSchemaDescriptor(new BatchTranscriptionServiceMethodDescriptorSupplier("EstimateCost"))
              .build();
        }
      }
    }
    return getEstimateCostMethod;
  }

  private static volatile io.grpc.MethodDescriptor<ai.sofer.batch.v1.ListTranscriptionsRequest,
      ai.sofer.batch.v1.ListTranscriptionsResponse> getListTranscriptionsMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ListTranscriptions",
      requestType = ai.sofer.batch.v1.ListTranscriptionsRequest.class,
      responseType = ai.sofer.batch.v1.ListTranscriptionsResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<ai.sofer.batch.v1.ListTranscriptionsRequest,
      ai.sofer.batch.v1.ListTranscriptionsResponse> getListTranscriptionsMethod() {
    io.grpc.MethodDescriptor<ai.sofer.batch.v1.ListTranscriptionsRequest, ai.sofer.batch.v1.ListTranscriptionsResponse> getListTranscriptionsMethod;
    if ((getListTranscriptionsMethod = BatchTranscriptionServiceGrpc.getListTranscriptionsMethod) == null) {
      synchronized (BatchTranscriptionServiceGrpc.class) {
        if ((getListTranscriptionsMethod = BatchTranscriptionServiceGrpc.getListTranscriptionsMethod) == null) {
          BatchTranscriptionServiceGrpc.getListTranscriptionsMethod = getListTranscriptionsMethod =
              io.grpc.MethodDescriptor.<ai.sofer.batch.v1.ListTranscriptionsRequest, ai.sofer.batch.v1.ListTranscriptionsResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ListTranscriptions"))
              .setSafe(true)
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  ai.sofer.batch.v1.ListTranscriptionsRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  ai.sofer.batch.v1.ListTranscriptionsResponse.getDefaultInstance()))
              .setSchemaDescriptor(new BatchTranscriptionServiceMethodDescriptorSupplier("ListTranscriptions"))
              .build();
        }
      }
    }
    return getListTranscriptionsMethod;
  }

  private static volatile io.grpc.MethodDescriptor<ai.sofer.batch.v1.ExtractLinkRequest,
      ai.sofer.batch.v1.ExtractLinkResponse> getExtractLinkMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ExtractLink",
      requestType = ai.sofer.batch.v1.ExtractLinkRequest.class,
      responseType = ai.sofer.batch.v1.ExtractLinkResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<ai.sofer.batch.v1.ExtractLinkRequest,
      ai.sofer.batch.v1.ExtractLinkResponse> getExtractLinkMethod() {
    io.grpc.MethodDescriptor<ai.sofer.batch.v1.ExtractLinkRequest, ai.sofer.batch.v1.ExtractLinkResponse> getExtractLinkMethod;
    if ((getExtractLinkMethod = BatchTranscriptionServiceGrpc.getExtractLinkMethod) == null) {
      synchronized (BatchTranscriptionServiceGrpc.class) {
        if ((getExtractLinkMethod = BatchTranscriptionServiceGrpc.getExtractLinkMethod) == null) {
          BatchTranscriptionServiceGrpc.getExtractLinkMethod = getExtractLinkMethod =
              io.grpc.MethodDescriptor.<ai.sofer.batch.v1.ExtractLinkRequest, ai.sofer.batch.v1.ExtractLinkResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ExtractLink"))
              .setSafe(true)
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  ai.sofer.batch.v1.ExtractLinkRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  ai.sofer.batch.v1.ExtractLinkResponse.getDefaultInstance()))
              .setSchemaDescriptor(new BatchTranscriptionServiceMethodDescriptorSupplier("ExtractLink"))
              .build();
        }
      }
    }
    return getExtractLinkMethod;
  }

  private static volatile io.grpc.MethodDescriptor<ai.sofer.batch.v1.ListSupportedSitesRequest,
      ai.sofer.batch.v1.ListSupportedSitesResponse> getListSupportedSitesMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ListSupportedSites",
      requestType = ai.sofer.batch.v1.ListSupportedSitesRequest.class,
      responseType = ai.sofer.batch.v1.ListSupportedSitesResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<ai.sofer.batch.v1.ListSupportedSitesRequest,
      ai.sofer.batch.v1.ListSupportedSitesResponse> getListSupportedSitesMethod() {
    io.grpc.MethodDescriptor<ai.sofer.batch.v1.ListSupportedSitesRequest, ai.sofer.batch.v1.ListSupportedSitesResponse> getListSupportedSitesMethod;
    if ((getListSupportedSitesMethod = BatchTranscriptionServiceGrpc.getListSupportedSitesMethod) == null) {
      synchronized (BatchTranscriptionServiceGrpc.class) {
        if ((getListSupportedSitesMethod = BatchTranscriptionServiceGrpc.getListSupportedSitesMethod) == null) {
          BatchTranscriptionServiceGrpc.getListSupportedSitesMethod = getListSupportedSitesMethod =
              io.grpc.MethodDescriptor.<ai.sofer.batch.v1.ListSupportedSitesRequest, ai.sofer.batch.v1.ListSupportedSitesResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ListSupportedSites"))
              .setSafe(true)
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  ai.sofer.batch.v1.ListSupportedSitesRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  ai.sofer.batch.v1.ListSupportedSitesResponse.getDefaultInstance()))
              .setSchemaDescriptor(new BatchTranscriptionServiceMethodDescriptorSupplier("ListSupportedSites"))
              .build();
        }
      }
    }
    return getListSupportedSitesMethod;
  }

  private static volatile io.grpc.MethodDescriptor<ai.sofer.batch.v1.CreateTranscriptionRequest,
      ai.sofer.batch.v1.CreateTranscriptionResponse> getCreateTranscriptionMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "CreateTranscription",
      requestType = ai.sofer.batch.v1.CreateTranscriptionRequest.class,
      responseType = ai.sofer.batch.v1.CreateTranscriptionResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<ai.sofer.batch.v1.CreateTranscriptionRequest,
      ai.sofer.batch.v1.CreateTranscriptionResponse> getCreateTranscriptionMethod() {
    io.grpc.MethodDescriptor<ai.sofer.batch.v1.CreateTranscriptionRequest, ai.sofer.batch.v1.CreateTranscriptionResponse> getCreateTranscriptionMethod;
    if ((getCreateTranscriptionMethod = BatchTranscriptionServiceGrpc.getCreateTranscriptionMethod) == null) {
      synchronized (BatchTranscriptionServiceGrpc.class) {
        if ((getCreateTranscriptionMethod = BatchTranscriptionServiceGrpc.getCreateTranscriptionMethod) == null) {
          BatchTranscriptionServiceGrpc.getCreateTranscriptionMethod = getCreateTranscriptionMethod =
              io.grpc.MethodDescriptor.<ai.sofer.batch.v1.CreateTranscriptionRequest, ai.sofer.batch.v1.CreateTranscriptionResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "CreateTranscription"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  ai.sofer.batch.v1.CreateTranscriptionRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  ai.sofer.batch.v1.CreateTranscriptionResponse.getDefaultInstance()))
              .setSchemaDescriptor(new BatchTranscriptionServiceMethodDescriptorSupplier("CreateTranscription"))
              .build();
        }
      }
    }
    return getCreateTranscriptionMethod;
  }

  private static volatile io.grpc.MethodDescriptor<ai.sofer.batch.v1.UploadTranscriptionRequest,
      ai.sofer.batch.v1.UploadTranscriptionResponse> getUploadTranscriptionMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "UploadTranscription",
      requestType = ai.sofer.batch.v1.UploadTranscriptionRequest.class,
      responseType = ai.sofer.batch.v1.UploadTranscriptionResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.CLIENT_STREAMING)
  public static io.grpc.MethodDescriptor<ai.sofer.batch.v1.UploadTranscriptionRequest,
      ai.sofer.batch.v1.UploadTranscriptionResponse> getUploadTranscriptionMethod() {
    io.grpc.MethodDescriptor<ai.sofer.batch.v1.UploadTranscriptionRequest, ai.sofer.batch.v1.UploadTranscriptionResponse> getUploadTranscriptionMethod;
    if ((getUploadTranscriptionMethod = BatchTranscriptionServiceGrpc.getUploadTranscriptionMethod) == null) {
      synchronized (BatchTranscriptionServiceGrpc.class) {
        if ((getUploadTranscriptionMethod = BatchTranscriptionServiceGrpc.getUploadTranscriptionMethod) == null) {
          BatchTranscriptionServiceGrpc.getUploadTranscriptionMethod = getUploadTranscriptionMethod =
              io.grpc.MethodDescriptor.<ai.sofer.batch.v1.UploadTranscriptionRequest, ai.sofer.batch.v1.UploadTranscriptionResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.CLIENT_STREAMING)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "UploadTranscription"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  ai.sofer.batch.v1.UploadTranscriptionRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  ai.sofer.batch.v1.UploadTranscriptionResponse.getDefaultInstance()))
              .setSchemaDescriptor(new BatchTranscriptionServiceMethodDescriptorSupplier("UploadTranscription"))
              .build();
        }
      }
    }
    return getUploadTranscriptionMethod;
  }

  private static volatile io.grpc.MethodDescriptor<ai.sofer.batch.v1.WatchTranscriptionRequest,
      ai.sofer.batch.v1.WatchTranscriptionResponse> getWatchTranscriptionMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "WatchTranscription",
      requestType = ai.sofer.batch.v1.WatchTranscriptionRequest.class,
      responseType = ai.sofer.batch.v1.WatchTranscriptionResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.SERVER_STREAMING)
  public static io.grpc.MethodDescriptor<ai.sofer.batch.v1.WatchTranscriptionRequest,
      ai.sofer.batch.v1.WatchTranscriptionResponse> getWatchTranscriptionMethod() {
    io.grpc.MethodDescriptor<ai.sofer.batch.v1.WatchTranscriptionRequest, ai.sofer.batch.v1.WatchTranscriptionResponse> getWatchTranscriptionMethod;
    if ((getWatchTranscriptionMethod = BatchTranscriptionServiceGrpc.getWatchTranscriptionMethod) == null) {
      synchronized (BatchTranscriptionServiceGrpc.class) {
        if ((getWatchTranscriptionMethod = BatchTranscriptionServiceGrpc.getWatchTranscriptionMethod) == null) {
          BatchTranscriptionServiceGrpc.getWatchTranscriptionMethod = getWatchTranscriptionMethod =
              io.grpc.MethodDescriptor.<ai.sofer.batch.v1.WatchTranscriptionRequest, ai.sofer.batch.v1.WatchTranscriptionResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.SERVER_STREAMING)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "WatchTranscription"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  ai.sofer.batch.v1.WatchTranscriptionRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  ai.sofer.batch.v1.WatchTranscriptionResponse.getDefaultInstance()))
              .setSchemaDescriptor(new BatchTranscriptionServiceMethodDescriptorSupplier("WatchTranscription"))
              .build();
        }
      }
    }
    return getWatchTranscriptionMethod;
  }

  private static volatile io.grpc.MethodDescriptor<ai.sofer.batch.v1.WatchManifestRequest,
      ai.sofer.batch.v1.WatchManifestResponse> getWatchManifestMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "WatchManifest",
      requestType = ai.sofer.batch.v1.WatchManifestRequest.class,
      responseType = ai.sofer.batch.v1.WatchManifestResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.SERVER_STREAMING)
  public static io.grpc.MethodDescriptor<ai.sofer.batch.v1.WatchManifestRequest,
      ai.sofer.batch.v1.WatchManifestResponse> getWatchManifestMethod() {
    io.grpc.MethodDescriptor<ai.sofer.batch.v1.WatchManifestRequest, ai.sofer.batch.v1.WatchManifestResponse> getWatchManifestMethod;
    if ((getWatchManifestMethod = BatchTranscriptionServiceGrpc.getWatchManifestMethod) == null) {
      synchronized (BatchTranscriptionServiceGrpc.class) {
        if ((getWatchManifestMethod = BatchTranscriptionServiceGrpc.getWatchManifestMethod) == null) {
          BatchTranscriptionServiceGrpc.getWatchManifestMethod = getWatchManifestMethod =
              io.grpc.MethodDescriptor.<ai.sofer.batch.v1.WatchManifestRequest, ai.sofer.batch.v1.WatchManifestResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.SERVER_STREAMING)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "WatchManifest"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  ai.sofer.batch.v1.WatchManifestRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  ai.sofer.batch.v1.WatchManifestResponse.getDefaultInstance()))
              .setSchemaDescriptor(new BatchTranscriptionServiceMethodDescriptorSupplier("WatchManifest"))
              .build();
        }
      }
    }
    return getWatchManifestMethod;
  }

  private static volatile io.grpc.MethodDescriptor<ai.sofer.batch.v1.CreateWebhookRequest,
      ai.sofer.batch.v1.CreateWebhookResponse> getCreateWebhookMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "CreateWebhook",
      requestType = ai.sofer.batch.v1.CreateWebhookRequest.class,
      responseType = ai.sofer.batch.v1.CreateWebhookResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<ai.sofer.batch.v1.CreateWebhookRequest,
      ai.sofer.batch.v1.CreateWebhookResponse> getCreateWebhookMethod() {
    io.grpc.MethodDescriptor<ai.sofer.batch.v1.CreateWebhookRequest, ai.sofer.batch.v1.CreateWebhookResponse> getCreateWebhookMethod;
    if ((getCreateWebhookMethod = BatchTranscriptionServiceGrpc.getCreateWebhookMethod) == null) {
      synchronized (BatchTranscriptionServiceGrpc.class) {
        if ((getCreateWebhookMethod = BatchTranscriptionServiceGrpc.getCreateWebhookMethod) == null) {
          BatchTranscriptionServiceGrpc.getCreateWebhookMethod = getCreateWebhookMethod =
              io.grpc.MethodDescriptor.<ai.sofer.batch.v1.CreateWebhookRequest, ai.sofer.batch.v1.CreateWebhookResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "CreateWebhook"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  ai.sofer.batch.v1.CreateWebhookRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  ai.sofer.batch.v1.CreateWebhookResponse.getDefaultInstance()))
              .setSchemaDescriptor(new BatchTranscriptionServiceMethodDescriptorSupplier("CreateWebhook"))
              .build();
        }
      }
    }
    return getCreateWebhookMethod;
  }

  private static volatile io.grpc.MethodDescriptor<ai.sofer.batch.v1.ListWebhooksRequest,
      ai.sofer.batch.v1.ListWebhooksResponse> getListWebhooksMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ListWebhooks",
      requestType = ai.sofer.batch.v1.ListWebhooksRequest.class,
      responseType = ai.sofer.batch.v1.ListWebhooksResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<ai.sofer.batch.v1.ListWebhooksRequest,
      ai.sofer.batch.v1.ListWebhooksResponse> getListWebhooksMethod() {
    io.grpc.MethodDescriptor<ai.sofer.batch.v1.ListWebhooksRequest, ai.sofer.batch.v1.ListWebhooksResponse> getListWebhooksMethod;
    if ((getListWebhooksMethod = BatchTranscriptionServiceGrpc.getListWebhooksMethod) == null) {
      synchronized (BatchTranscriptionServiceGrpc.class) {
        if ((getListWebhooksMethod = BatchTranscriptionServiceGrpc.getListWebhooksMethod) == null) {
          BatchTranscriptionServiceGrpc.getListWebhooksMethod = getListWebhooksMethod =
              io.grpc.MethodDescriptor.<ai.sofer.batch.v1.ListWebhooksRequest, ai.sofer.batch.v1.ListWebhooksResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ListWebhooks"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  ai.sofer.batch.v1.ListWebhooksRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  ai.sofer.batch.v1.ListWebhooksResponse.getDefaultInstance()))
              .setSchemaDescriptor(new BatchTranscriptionServiceMethodDescriptorSupplier("ListWebhooks"))
              .build();
        }
      }
    }
    return getListWebhooksMethod;
  }

  private static volatile io.grpc.MethodDescriptor<ai.sofer.batch.v1.DeleteWebhookRequest,
      ai.sofer.batch.v1.DeleteWebhookResponse> getDeleteWebhookMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "DeleteWebhook",
      requestType = ai.sofer.batch.v1.DeleteWebhookRequest.class,
      responseType = ai.sofer.batch.v1.DeleteWebhookResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<ai.sofer.batch.v1.DeleteWebhookRequest,
      ai.sofer.batch.v1.DeleteWebhookResponse> getDeleteWebhookMethod() {
    io.grpc.MethodDescriptor<ai.sofer.batch.v1.DeleteWebhookRequest, ai.sofer.batch.v1.DeleteWebhookResponse> getDeleteWebhookMethod;
    if ((getDeleteWebhookMethod = BatchTranscriptionServiceGrpc.getDeleteWebhookMethod) == null) {
      synchronized (BatchTranscriptionServiceGrpc.class) {
        if ((getDeleteWebhookMethod = BatchTranscriptionServiceGrpc.getDeleteWebhookMethod) == null) {
          BatchTranscriptionServiceGrpc.getDeleteWebhookMethod = getDeleteWebhookMethod =
              io.grpc.MethodDescriptor.<ai.sofer.batch.v1.DeleteWebhookRequest, ai.sofer.batch.v1.DeleteWebhookResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "DeleteWebhook"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  ai.sofer.batch.v1.DeleteWebhookRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  ai.sofer.batch.v1.DeleteWebhookResponse.getDefaultInstance()))
              .setSchemaDescriptor(new BatchTranscriptionServiceMethodDescriptorSupplier("DeleteWebhook"))
              .build();
        }
      }
    }
    return getDeleteWebhookMethod;
  }

  private static volatile io.grpc.MethodDescriptor<ai.sofer.batch.v1.RotateWebhookSecretRequest,
      ai.sofer.batch.v1.RotateWebhookSecretResponse> getRotateWebhookSecretMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "RotateWebhookSecret",
      requestType = ai.sofer.batch.v1.RotateWebhookSecretRequest.class,
      responseType = ai.sofer.batch.v1.RotateWebhookSecretResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<ai.sofer.batch.v1.RotateWebhookSecretRequest,
      ai.sofer.batch.v1.RotateWebhookSecretResponse> getRotateWebhookSecretMethod() {
    io.grpc.MethodDescriptor<ai.sofer.batch.v1.RotateWebhookSecretRequest, ai.sofer.batch.v1.RotateWebhookSecretResponse> getRotateWebhookSecretMethod;
    if ((getRotateWebhookSecretMethod = BatchTranscriptionServiceGrpc.getRotateWebhookSecretMethod) == null) {
      synchronized (BatchTranscriptionServiceGrpc.class) {
        if ((getRotateWebhookSecretMethod = BatchTranscriptionServiceGrpc.getRotateWebhookSecretMethod) == null) {
          BatchTranscriptionServiceGrpc.getRotateWebhookSecretMethod = getRotateWebhookSecretMethod =
              io.grpc.MethodDescriptor.<ai.sofer.batch.v1.RotateWebhookSecretRequest, ai.sofer.batch.v1.RotateWebhookSecretResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "RotateWebhookSecret"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  ai.sofer.batch.v1.RotateWebhookSecretRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  ai.sofer.batch.v1.RotateWebhookSecretResponse.getDefaultInstance()))
              .setSchemaDescriptor(new BatchTranscriptionServiceMethodDescriptorSupplier("RotateWebhookSecret"))
              .build();
        }
      }
    }
    return getRotateWebhookSecretMethod;
  }

  private static volatile io.grpc.MethodDescriptor<ai.sofer.batch.v1.ListWebhookDeliveriesRequest,
      ai.sofer.batch.v1.ListWebhookDeliveriesResponse> getListWebhookDeliveriesMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ListWebhookDeliveries",
      requestType = ai.sofer.batch.v1.ListWebhookDeliveriesRequest.class,
      responseType = ai.sofer.batch.v1.ListWebhookDeliveriesResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<ai.sofer.batch.v1.ListWebhookDeliveriesRequest,
      ai.sofer.batch.v1.ListWebhookDeliveriesResponse> getListWebhookDeliveriesMethod() {
    io.grpc.MethodDescriptor<ai.sofer.batch.v1.ListWebhookDeliveriesRequest, ai.sofer.batch.v1.ListWebhookDeliveriesResponse> getListWebhookDeliveriesMethod;
    if ((getListWebhookDeliveriesMethod = BatchTranscriptionServiceGrpc.getListWebhookDeliveriesMethod) == null) {
      synchronized (BatchTranscriptionServiceGrpc.class) {
        if ((getListWebhookDeliveriesMethod = BatchTranscriptionServiceGrpc.getListWebhookDeliveriesMethod) == null) {
          BatchTranscriptionServiceGrpc.getListWebhookDeliveriesMethod = getListWebhookDeliveriesMethod =
              io.grpc.MethodDescriptor.<ai.sofer.batch.v1.ListWebhookDeliveriesRequest, ai.sofer.batch.v1.ListWebhookDeliveriesResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ListWebhookDeliveries"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  ai.sofer.batch.v1.ListWebhookDeliveriesRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  ai.sofer.batch.v1.ListWebhookDeliveriesResponse.getDefaultInstance()))
              .setSchemaDescriptor(new BatchTranscriptionServiceMethodDescriptorSupplier("ListWebhookDeliveries"))
              .build();
        }
      }
    }
    return getListWebhookDeliveriesMethod;
  }

  /**
   * Creates a new async stub that supports all call types for the service
   */
  public static BatchTranscriptionServiceStub newStub(io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<BatchTranscriptionServiceStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<BatchTranscriptionServiceStub>() {
        @java.lang.Override
        public BatchTranscriptionServiceStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new BatchTranscriptionServiceStub(channel, callOptions);
        }
      };
    return BatchTranscriptionServiceStub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports unary and streaming output calls on the service
   */
  public static BatchTranscriptionServiceBlockingStub newBlockingStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<BatchTranscriptionServiceBlockingStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<BatchTranscriptionServiceBlockingStub>() {
        @java.lang.Override
        public BatchTranscriptionServiceBlockingStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new BatchTranscriptionServiceBlockingStub(channel, callOptions);
        }
      };
    return BatchTranscriptionServiceBlockingStub.newStub(factory, channel);
  }

  /**
   * Creates a new ListenableFuture-style stub that supports unary calls on the service
   */
  public static BatchTranscriptionServiceFutureStub newFutureStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<BatchTranscriptionServiceFutureStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<BatchTranscriptionServiceFutureStub>() {
        @java.lang.Override
        public BatchTranscriptionServiceFutureStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new BatchTranscriptionServiceFutureStub(channel, callOptions);
        }
      };
    return BatchTranscriptionServiceFutureStub.newStub(factory, channel);
  }

  /**
   * <pre>
   * Batch transcription through the Sofer.ai API: create batches (express, inline items; or
   * standard, from an uploaded manifest), manage manifests, and follow a batch's progress, one
   * poll or a live stream.
   * Credentials: the caller's `authorization: Bearer &lt;token&gt;` metadata is forwarded upstream; without
   * one the gateway uses its configured key; without either the call fails UNAUTHENTICATED before
   * any upstream call. A gateway that authenticates its callers (caller tokens, which start with
   * `sgw_` in any case and are never sent upstream, or a client certificate under mutual TLS)
   * spends its key
   * only for them: any other caller without a token of its own fails UNAUTHENTICATED (reason
   * CALLER_UNAUTHENTICATED). Everything the gateway shares between calls is scoped to the
   * credential.
   * Request ids: `x-request-id` metadata (generated when absent) is sent upstream, logged, and
   * returned in the response's initial metadata. Mutating RPCs also take a `request_id` field that
   * makes retries safe (see `CreateBatchRequest.request_id`).
   * Errors (google.rpc.Status in the `grpc-status-details-bin` trailer; AIP-193): every error
   * carries a google.rpc.ErrorInfo with an UPPER_SNAKE_CASE `reason`, the domain "sofer-gateway",
   * and metadata with only these keys, each when it applies: `batch_id`, `batch_file_id`,
   * `transcription_id`, `client_item_id`, `request_id`, `upstream_status`. Beside it, by code:
   * - INVALID_ARGUMENT (the request broke a rule in these comments, or the upstream answered 400 or
   *   422): a google.rpc.BadRequest with one field violation per broken rule, all of them at once,
   *   each naming the field path as in `audio_sources[3].audio_url` or `info.num_speakers`.
   * - UNAUTHENTICATED (no credential, or upstream 401); PERMISSION_DENIED (upstream 403).
   * - NOT_FOUND (upstream 404: no such batch, manifest, transcription or client_item_id for this
   *   credential).
   * - ALREADY_EXISTS (a `request_id` reused with a different request: reason REQUEST_ID_REUSED);
   *   ABORTED (upstream 409).
   * - FAILED_PRECONDITION (`ExportTranscription` as SRT or WebVTT of a transcript with text but
   *   no word timestamps to time the captions by: reason TRANSCRIPT_NOT_TIMED).
   * - RESOURCE_EXHAUSTED (upstream 429 after the gateway's own retries, reason RATE_LIMITED; or the
   *   gateway itself is at its concurrency limit or out of upstream connections, reason
   *   GATEWAY_OVERLOADED; or the gateway's upstream rate budget, --upstream-rate-limit, has no
   *   request for the credential before the call's deadline, reason UPSTREAM_QUOTA_EXHAUSTED,
   *   nothing sent): a google.rpc.RetryInfo with the delay to wait and a google.rpc.QuotaFailure
   *   naming the limit. A caller past its own share (--max-calls-per-caller,
   *   --max-watches-per-caller) is refused RESOURCE_EXHAUSTED, reason CALLER_QUOTA_EXCEEDED, with a
   *   QuotaFailure naming the caller's quota. An answer larger than the gateway sends in one
   *   message (--max-send-message-bytes: a very long transcript) is refused RESOURCE_EXHAUSTED,
   *   reason RESPONSE_TOO_LARGE, its ErrorInfo naming what it answered (`transcription_id`: a
   *   StreamBatchTranscripts caller may skip it); ExportTranscription and `sofer-gateway fetch`
   *   write such a transcript as a file. Requests are validated before the limit applies,
   *   so bad input is always answered INVALID_ARGUMENT, and so are request bytes that do not
   *   decode as the method's request message.
   * - UNAVAILABLE (upstream 5xx or unreachable; or the gateway shut down while the call ran,
   *   reason SHUTTING_DOWN; safe to retry with the same `request_id`); DEADLINE_EXCEEDED (the
   *   caller's deadline passed; the gateway never retries past it and answers just before it,
   *   reason UPSTREAM_TIMEOUT).
   * - A create (CreateBatch, UploadManifest, CreateManifestFromRss) that was sent upstream and then
   *   cut short (a 5xx, a lost connection, the caller's deadline, a shutdown) fails with reason
   *   OUTCOME_UNKNOWN (UNAVAILABLE or DEADLINE_EXCEEDED): the upstream may have acted. Retry with
   *   the same `request_id` to get its outcome, or check before creating again. The same answer
   *   when the gateway's record of the `request_id` in its shared idempotency store (Redis)
   *   cannot be read, or vanished while the create ran on another replica. A create with a
   *   `request_id` while that store cannot be reached fails UNAVAILABLE, reason
   *   IDEMPOTENCY_STORE_UNAVAILABLE, before anything is sent.
   * - A call whose request message is not complete within the gateway's request-message timeout
   *   ends DEADLINE_EXCEEDED (reason REQUEST_MESSAGE_TIMEOUT); bytes that are not the method's
   *   request message, or a stream that ends without one, INVALID_ARGUMENT (REQUEST_INVALID).
   * </pre>
   */
  public static abstract class BatchTranscriptionServiceImplBase implements io.grpc.BindableService {

    /**
     * <pre>
     * Creates a batch of transcriptions (upstream POST /v1/transcriptions/batch), express from
     * `audio_sources` or standard from a manifest's `batch_file_id`. Validated as described on
     * `CreateBatchRequest`; INVALID_ARGUMENT lists every violation. A standard batch whose manifest
     * does not exist, belongs to another credential or is not MANIFEST_STATUS_VALID is refused by
     * the upstream with 400: INVALID_ARGUMENT, reason UPSTREAM_REJECTED_REQUEST, with its message.
     * A retry with the same `request_id` returns the first call's response. A create sent upstream
     * whose answer did not come before the caller's deadline (or a shutdown) fails with reason
     * OUTCOME_UNKNOWN: it may exist; the same `request_id` gets its outcome.
     * </pre>
     */
    public void createBatch(ai.sofer.batch.v1.CreateBatchRequest request,
        io.grpc.stub.StreamObserver<ai.sofer.batch.v1.CreateBatchResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getCreateBatchMethod(), responseObserver);
    }

    /**
     * <pre>
     * Uploads a manifest for a standard batch (upstream POST /v1/transcriptions/batch-files), given
     * as typed items or as JSONL. The upstream validates it asynchronously: poll `GetManifest` until
     * MANIFEST_STATUS_VALID. INVALID_ARGUMENT lists every violation in the items or JSONL lines.
     * </pre>
     */
    public void uploadManifest(ai.sofer.batch.v1.UploadManifestRequest request,
        io.grpc.stub.StreamObserver<ai.sofer.batch.v1.UploadManifestResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getUploadManifestMethod(), responseObserver);
    }

    /**
     * <pre>
     * Creates a manifest from a podcast RSS feed's audio enclosures (upstream POST
     * /v1/transcriptions/batch-files/from-rss), one page at a time (`offset`, `limit`).
     * INVALID_ARGUMENT for a bad `rss_url` or range, or when the upstream cannot use the feed.
     * </pre>
     */
    public void createManifestFromRss(ai.sofer.batch.v1.CreateManifestFromRssRequest request,
        io.grpc.stub.StreamObserver<ai.sofer.batch.v1.CreateManifestFromRssResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getCreateManifestFromRssMethod(), responseObserver);
    }

    /**
     * <pre>
     * Returns one manifest with its validation status (upstream GET
     * /v1/transcriptions/batch-files/{batch_file_id}). NOT_FOUND when it does not exist.
     * </pre>
     */
    public void getManifest(ai.sofer.batch.v1.GetManifestRequest request,
        io.grpc.stub.StreamObserver<ai.sofer.batch.v1.GetManifestResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getGetManifestMethod(), responseObserver);
    }

    /**
     * <pre>
     * Lists the caller's manifests, newest first as the upstream orders them, in pages (AIP-158;
     * upstream GET /v1/transcriptions/batch-files with its `cursor`).
     * </pre>
     */
    public void listManifests(ai.sofer.batch.v1.ListManifestsRequest request,
        io.grpc.stub.StreamObserver<ai.sofer.batch.v1.ListManifestsResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getListManifestsMethod(), responseObserver);
    }

    /**
     * <pre>
     * Returns the current progress of a batch (upstream GET
     * /v1/transcriptions/batch/{batch_id}/status). NOT_FOUND when the batch does not exist.
     * </pre>
     */
    public void getBatchStatus(ai.sofer.batch.v1.GetBatchStatusRequest request,
        io.grpc.stub.StreamObserver<ai.sofer.batch.v1.GetBatchStatusResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getGetBatchStatusMethod(), responseObserver);
    }

    /**
     * <pre>
     * Streams a batch's progress: the current status at once, then a message whenever anything in
     * it changes (state, counts, any transcription's state), and ends OK after a terminal state
     * (BATCH_STATE_COMPLETED or BATCH_STATE_FAILED). All watchers of one batch and credential share
     * one upstream poller; a slow reader gets the latest status, not a backlog, and a watcher that
     * joins gets the current status at once, whatever the poller is waiting for. NOT_FOUND when the
     * batch does not exist; RESOURCE_EXHAUSTED (reason WATCH_LIMIT_REACHED) when the gateway already
     * serves its maximum of open watches; RESOURCE_EXHAUSTED (reason RATE_LIMITED, with RetryInfo
     * carrying the upstream's delay) when the upstream rate-limits the batch's status polls for
     * longer than the gateway's cap (--watch-max-retry-after, 30 s by default), or while a watch has
     * had no status at all for that long; UNAVAILABLE when the upstream fails every poll for that
     * long before any status; UNAVAILABLE (reason SHUTTING_DOWN) when the gateway shuts down.
     * Reconnect to resume (after the RetryInfo delay, if any): the first message is always the full
     * current status, and a new watch after an error polls afresh.
     * </pre>
     */
    public void watchBatchStatus(ai.sofer.batch.v1.WatchBatchStatusRequest request,
        io.grpc.stub.StreamObserver<ai.sofer.batch.v1.WatchBatchStatusResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getWatchBatchStatusMethod(), responseObserver);
    }

    /**
     * <pre>
     * Streams a batch's results: one message per item as it reaches a terminal state
     * (TRANSCRIPTION_STATE_COMPLETED, FAILED, CANCELLED, or the upstream's INSUFFICIENT_FUNDS),
     * items already terminal first, and ends OK after the last item once the batch is terminal.
     * A completed item's message carries its transcript (`transcription`: text, word timestamps,
     * info); any other terminal item's carries only its `info`, with its state. It rides on the
     * batch's status poller (the one `WatchBatchStatus` uses: no extra status polling), and each
     * transcript is fetched from the upstream once per (credential, transcription, filter) however
     * many streams want it, then kept in a bounded cache. Items named in `skip_transcription_ids`
     * are neither fetched nor sent, so a client that reconnects after an interruption gets only
     * what it lacks. Errors are `WatchBatchStatus`'s (NOT_FOUND, reason BATCH_NOT_FOUND, when the
     * batch does not exist for this credential; RESOURCE_EXHAUSTED WATCH_LIMIT_REACHED; RATE_LIMITED;
     * SHUTTING_DOWN: the stream counts as a watch), and a transcript fetch that fails ends the
     * stream with its error (e.g. NOT_FOUND, TRANSCRIPTION_NOT_FOUND): reconnect with the ids you
     * have in `skip_transcription_ids`.
     * </pre>
     */
    public void streamBatchTranscripts(ai.sofer.batch.v1.StreamBatchTranscriptsRequest request,
        io.grpc.stub.StreamObserver<ai.sofer.batch.v1.StreamBatchTranscriptsResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getStreamBatchTranscriptsMethod(), responseObserver);
    }

    /**
     * <pre>
     * Resolves a batch item's `client_item_id` to its transcription (upstream GET
     * /v1/transcriptions/batch/{batch_id}/items/by-client-item-id). NOT_FOUND when the batch or the
     * id within it does not exist.
     * </pre>
     */
    public void getBatchItem(ai.sofer.batch.v1.GetBatchItemRequest request,
        io.grpc.stub.StreamObserver<ai.sofer.batch.v1.GetBatchItemResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getGetBatchItemMethod(), responseObserver);
    }

    /**
     * <pre>
     * Returns a transcript with word timestamps (upstream GET
     * /v1/transcriptions/{transcription_id}). NOT_FOUND when the transcription does not exist.
     * Meaningful once `GetTranscriptionStatus` says TRANSCRIPTION_STATE_COMPLETED.
     * </pre>
     */
    public void getTranscription(ai.sofer.batch.v1.GetTranscriptionRequest request,
        io.grpc.stub.StreamObserver<ai.sofer.batch.v1.GetTranscriptionResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getGetTranscriptionMethod(), responseObserver);
    }

    /**
     * <pre>
     * Renders a transcript as a file (`format`): SRT or WebVTT captions, plain text, Markdown, a
     * Word document (DOCX, in `binary_content`) or JSON with the words. The transcript is read from
     * the upstream exactly as `GetTranscription` reads it (GET /v1/transcriptions/{transcription_id},
     * with the same `filter_hebrew_word_format`), through the gateway's transcript cache: a
     * completed transcript is fetched once per (credential, transcription, filter) while it is
     * kept (the cache `StreamBatchTranscripts` and `GetTranscription` read through as well), so N
     * formats of one transcript cost one upstream GET. The errors are `GetTranscription`'s: NOT_FOUND (reason TRANSCRIPTION_NOT_FOUND) when the transcription does
     * not exist for this credential, INVALID_ARGUMENT (UPSTREAM_REJECTED_REQUEST) for a FAILED one.
     * A transcription not completed yet is answered as `GetTranscription` answers it: OK, with its
     * `info.state`, no cues and an empty transcript (an SRT or text `content` of "", a WebVTT one of
     * just the header).
     * Caption cues are built from the word timestamps, in order: a cue starts at its first word's
     * `start` and ends at its last word's `end`, and the next cue begins at the first word that
     * would break one of these rules: a different `speaker`; a pause of more than 1 s since the
     * cue's last word ended; a cue longer than 7 s; text that no longer fits 2 lines of 42
     * characters (code points, speaker label included in SRT). The 42 and the 7 s are the
     * defaults of `caption_options`, which may change them, and leave speaker labels out. Lines break between words, at the
     * point that makes the longer line shortest; a single word too long for a line, or for 7 s,
     * gets a cue of its own. Words that overlap in time (the two forms of a Hebrew term when both
     * are asked for, or crosstalk) stay in one cue, so cues do not overlap, up to what one cue can
     * hold: overlapping words past 2 full lines go on in the next cue, which then overlaps it (a
     * transcript with thousands of words at one instant, only a broken one). A cue's text is its
     * words joined by spaces, with the punctuation of the transcript `text` when that text has
     * exactly one token per word (the word, with punctuation around it); transliteration markup
     * (`&lt;i&gt;`) is dropped. Hebrew and other right-to-left text is written in logical order, as the
     * transcript has it: no reversal, and no bidi control character except one U+200F
     * RIGHT-TO-LEFT MARK before an SRT speaker label whose cue text starts with a right-to-left
     * letter (so the line keeps the direction its text gives it). A transcript with text but no
     * word timestamps (or a time that is not a number, or is past a week: 604800 s) cannot be
     * timed: SRT and WebVTT fail FAILED_PRECONDITION (reason TRANSCRIPT_NOT_TIMED); TEXT, which
     * needs no timestamps, works.
     * </pre>
     */
    public void exportTranscription(ai.sofer.batch.v1.ExportTranscriptionRequest request,
        io.grpc.stub.StreamObserver<ai.sofer.batch.v1.ExportTranscriptionResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getExportTranscriptionMethod(), responseObserver);
    }

    /**
     * <pre>
     * Returns a transcription's settings and state (upstream GET
     * /v1/transcriptions/{transcription_id}/status). NOT_FOUND when it does not exist.
     * </pre>
     */
    public void getTranscriptionStatus(ai.sofer.batch.v1.GetTranscriptionStatusRequest request,
        io.grpc.stub.StreamObserver<ai.sofer.batch.v1.GetTranscriptionStatusResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getGetTranscriptionStatusMethod(), responseObserver);
    }

    /**
     * <pre>
     * Returns the account balance of the credential's key, in US cents (upstream GET
     * /v1/balance/). NOT_FOUND (reason ACCOUNT_NOT_FOUND) when the key has no account: nothing was
     * ever deposited.
     * </pre>
     */
    public void getBalance(ai.sofer.batch.v1.GetBalanceRequest request,
        io.grpc.stub.StreamObserver<ai.sofer.batch.v1.GetBalanceResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getGetBalanceMethod(), responseObserver);
    }

    /**
     * <pre>
     * Estimates what a would-be batch or single transcription costs, before creating it: each
     * item's duration from the upstream (POST /v1/utils/duration, one request per distinct URL, a
     * few at once, all within the call's deadline) priced by the documented table (see
     * `EstimateCostResponse`). Creates nothing and costs nothing upstream but those reads. A
     * duration that cannot be read fails the call with that read's error (UNAVAILABLE,
     * RESOURCE_EXHAUSTED, ...). A manifest (`EstimateCostRequest.batch_file_id`) is priced from
     * its items as the gateway remembered them at `UploadManifest` (see the guards above); one it
     * does not know fails FAILED_PRECONDITION, reason COST_UNKNOWN (send its items as
     * `audio_sources` with COSTED_WORK_STANDARD_BATCH instead), and one it cannot read from Redis
     * UNAVAILABLE, reason BUDGET_STORE_UNAVAILABLE.
     * </pre>
     */
    public void estimateCost(ai.sofer.batch.v1.EstimateCostRequest request,
        io.grpc.stub.StreamObserver<ai.sofer.batch.v1.EstimateCostResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getEstimateCostMethod(), responseObserver);
    }

    /**
     * <pre>
     * Lists the caller's transcriptions (batch items and single ones), newest first as the upstream
     * orders them, in pages (AIP-158) with optional filters, over the upstream's unpaged list (GET
     * /v1/transcriptions/). Cost upstream: a page is cut from one list GET, shared by identical
     * reads in flight and reused for the same credential for 10 seconds, so a caller walking every
     * page within that window costs one list GET in all, and at most one per 10 seconds however
     * slowly it walks; `states` and `title_contains` cost nothing upstream, `created_after` and
     * `created_before` a few status reads (see them). The list may thus be up to 10 seconds old.
     * INVALID_ARGUMENT on `page_size`, `title_contains`, `states`, `created_after`,
     * `created_before` or `page_token` (malformed, from another credential, or from a request with
     * other filters); FAILED_PRECONDITION (reason LIST_NOT_ORDERED) when a creation-time filter
     * finds the upstream's list out of creation order.
     * </pre>
     */
    public void listTranscriptions(ai.sofer.batch.v1.ListTranscriptionsRequest request,
        io.grpc.stub.StreamObserver<ai.sofer.batch.v1.ListTranscriptionsResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getListTranscriptionsMethod(), responseObserver);
    }

    /**
     * <pre>
     * Resolves a page link of a supported site (a YouTube video, a Google Drive file, ...) to the
     * URL of its audio, with what the upstream says of it (upstream POST /v1/link/extract; it has
     * no side effect, so the gateway retries it like a read). Errors: a link of no supported site,
     * or no media page of one, INVALID_ARGUMENT (reason LINK_NOT_SUPPORTED, a field violation on
     * `url`); a page that does not exist NOT_FOUND (LINK_NOT_FOUND); a page whose audio the upstream
     * could not extract (its HTTP 500) FAILED_PRECONDITION (LINK_EXTRACTION_FAILED).
     * </pre>
     */
    public void extractLink(ai.sofer.batch.v1.ExtractLinkRequest request,
        io.grpc.stub.StreamObserver<ai.sofer.batch.v1.ExtractLinkResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getExtractLinkMethod(), responseObserver);
    }

    /**
     * <pre>
     * Lists the sites whose page links `ExtractLink` and `AudioSource.page_url` accept (upstream GET
     * /v1/link/sites).
     * </pre>
     */
    public void listSupportedSites(ai.sofer.batch.v1.ListSupportedSitesRequest request,
        io.grpc.stub.StreamObserver<ai.sofer.batch.v1.ListSupportedSitesResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getListSupportedSitesMethod(), responseObserver);
    }

    /**
     * <pre>
     * Creates one transcription of the audio at `audio_url` (upstream POST /v1/transcriptions/,
     * priced as a single transcription). With a `request_id` the transcription's id is derived from
     * it and the credential (a UUIDv5), and sent upstream as `info.id`: a retry with the same
     * `request_id` (after a lost answer, a deadline, a crash of the gateway, with or without Redis)
     * finds the transcription made the first time instead of paying for a second one, and answers
     * its id with the trailer `idempotent-replayed: true`. When the transcription found has another
     * title or language than the retry asks for, the call fails ALREADY_EXISTS (reason
     * REQUEST_ID_REUSED). Without a `request_id` the upstream picks the id and a retry creates (and
     * bills) a second transcription. Validated as described on `CreateTranscriptionRequest`;
     * INVALID_ARGUMENT lists every violation; the upstream's own refusals (a 400 or 422) are
     * INVALID_ARGUMENT, reason UPSTREAM_REJECTED_REQUEST. Other errors as for `CreateBatch`
     * (OUTCOME_UNKNOWN when the answer was lost: retry with the same `request_id`).
     * </pre>
     */
    public void createTranscription(ai.sofer.batch.v1.CreateTranscriptionRequest request,
        io.grpc.stub.StreamObserver<ai.sofer.batch.v1.CreateTranscriptionResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getCreateTranscriptionMethod(), responseObserver);
    }

    /**
     * <pre>
     * Creates one transcription of a local file, sent as a client stream: the first message carries
     * `header` (settings, `request_id`, file name), every later one a `chunk` of the file's bytes,
     * in order. The gateway holds the file (its base64 form: 4/3 of its size) until the stream ends,
     * then sends it upstream as `audio_file` in one request (POST /v1/transcriptions/), with the id
     * derived from `request_id` exactly as `CreateTranscription` does (retries are safe the same
     * way). Limits: the file is at most the gateway's --max-upload-bytes (100 MiB by default, the
     * upstream's own limit), else RESOURCE_EXHAUSTED (reason UPLOAD_TOO_LARGE, a QuotaFailure naming
     * the flag) as soon as the stream passes it, nothing sent upstream; each message is at most the
     * gateway's --max-receive-message-bytes (8 MiB by default; send chunks of 1 MiB or less). A
     * stream whose first message is not a `header`, with a second `header`, or that ends without any
     * byte fails INVALID_ARGUMENT naming the field; a pause of more than the gateway's
     * --request-message-timeout between messages ends it DEADLINE_EXCEEDED (reason
     * REQUEST_MESSAGE_TIMEOUT). The call counts against the caller's quotas and the gateway's
     * concurrency limit like a unary call.
     * </pre>
     */
    public io.grpc.stub.StreamObserver<ai.sofer.batch.v1.UploadTranscriptionRequest> uploadTranscription(
        io.grpc.stub.StreamObserver<ai.sofer.batch.v1.UploadTranscriptionResponse> responseObserver) {
      return io.grpc.stub.ServerCalls.asyncUnimplementedStreamingCall(getUploadTranscriptionMethod(), responseObserver);
    }

    /**
     * <pre>
     * Streams a transcription's state: its current `TranscriptionInfo` at once, then a message
     * whenever it changes, and ends OK after a terminal state (TRANSCRIPTION_STATE_COMPLETED, FAILED,
     * CANCELLED or INSUFFICIENT_FUNDS). Every watcher of one transcription and credential shares one
     * upstream poller (GET /v1/transcriptions/{transcription_id}/status), the one `WatchBatchStatus`
     * uses for batches, with its cadence, limits and errors: NOT_FOUND (reason
     * TRANSCRIPTION_NOT_FOUND) when it does not exist for this credential; RESOURCE_EXHAUSTED
     * (WATCH_LIMIT_REACHED, or RATE_LIMITED with RetryInfo); UNAVAILABLE (SHUTTING_DOWN). Reconnect to
     * resume: the first message is always the current state.
     * </pre>
     */
    public void watchTranscription(ai.sofer.batch.v1.WatchTranscriptionRequest request,
        io.grpc.stub.StreamObserver<ai.sofer.batch.v1.WatchTranscriptionResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getWatchTranscriptionMethod(), responseObserver);
    }

    /**
     * <pre>
     * Streams a manifest's validation: its status at once (the `GetManifest` answer), then a
     * message whenever it changes (status, item count, validation errors), and ends OK after
     * MANIFEST_STATUS_VALID or MANIFEST_STATUS_INVALID, so no client polls `GetManifest`. All
     * watchers of one manifest and credential share one upstream poller (GET
     * /v1/transcriptions/batch-files/{batch_file_id}), with `WatchBatchStatus`'s cadence, limits
     * and errors: NOT_FOUND (reason MANIFEST_NOT_FOUND) when the manifest does not exist for this
     * credential; RESOURCE_EXHAUSTED (WATCH_LIMIT_REACHED) at the gateway's maximum of open
     * watches, or (CALLER_QUOTA_EXCEEDED) past the caller's; RESOURCE_EXHAUSTED (RATE_LIMITED, with
     * RetryInfo) when the upstream rate-limits the polls for longer than --watch-max-retry-after;
     * UNAVAILABLE when every poll fails for that long before any status, or (SHUTTING_DOWN) when the
     * gateway shuts down. Reconnect to resume: the first message is always the current status.
     * </pre>
     */
    public void watchManifest(ai.sofer.batch.v1.WatchManifestRequest request,
        io.grpc.stub.StreamObserver<ai.sofer.batch.v1.WatchManifestResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getWatchManifestMethod(), responseObserver);
    }

    /**
     * <pre>
     * Registers an endpoint for the tenant's events; answers its id and its secret (the only time
     * the secret is shown). A retry with the same `request_id` answers the same endpoint and
     * secret. FAILED_PRECONDITION (reason WEBHOOK_LIMIT_REACHED) past 100 endpoints per tenant.
     * </pre>
     */
    public void createWebhook(ai.sofer.batch.v1.CreateWebhookRequest request,
        io.grpc.stub.StreamObserver<ai.sofer.batch.v1.CreateWebhookResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getCreateWebhookMethod(), responseObserver);
    }

    /**
     * <pre>
     * Lists the tenant's endpoints (without secrets), oldest first.
     * </pre>
     */
    public void listWebhooks(ai.sofer.batch.v1.ListWebhooksRequest request,
        io.grpc.stub.StreamObserver<ai.sofer.batch.v1.ListWebhooksResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getListWebhooksMethod(), responseObserver);
    }

    /**
     * <pre>
     * Deletes an endpoint: no more deliveries. NOT_FOUND (reason WEBHOOK_NOT_FOUND) when the tenant
     * has no such endpoint.
     * </pre>
     */
    public void deleteWebhook(ai.sofer.batch.v1.DeleteWebhookRequest request,
        io.grpc.stub.StreamObserver<ai.sofer.batch.v1.DeleteWebhookResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getDeleteWebhookMethod(), responseObserver);
    }

    /**
     * <pre>
     * Replaces an endpoint's secret; the old one goes on signing beside it (two signatures in
     * `webhook-signature`) for `grace_seconds`, so receivers can switch without losing deliveries.
     * NOT_FOUND (WEBHOOK_NOT_FOUND) for an unknown endpoint.
     * </pre>
     */
    public void rotateWebhookSecret(ai.sofer.batch.v1.RotateWebhookSecretRequest request,
        io.grpc.stub.StreamObserver<ai.sofer.batch.v1.RotateWebhookSecretResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getRotateWebhookSecretMethod(), responseObserver);
    }

    /**
     * <pre>
     * An endpoint's recent delivery attempts, newest first (at most the last 100): each with its
     * event, time, HTTP status or error, and when the next attempt is due. NOT_FOUND
     * (WEBHOOK_NOT_FOUND) for an unknown endpoint.
     * </pre>
     */
    public void listWebhookDeliveries(ai.sofer.batch.v1.ListWebhookDeliveriesRequest request,
        io.grpc.stub.StreamObserver<ai.sofer.batch.v1.ListWebhookDeliveriesResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getListWebhookDeliveriesMethod(), responseObserver);
    }

    @java.lang.Override public final io.grpc.ServerServiceDefinition bindService() {
      return io.grpc.ServerServiceDefinition.builder(getServiceDescriptor())
          .addMethod(
            getCreateBatchMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                ai.sofer.batch.v1.CreateBatchRequest,
                ai.sofer.batch.v1.CreateBatchResponse>(
                  this, METHODID_CREATE_BATCH)))
          .addMethod(
            getUploadManifestMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                ai.sofer.batch.v1.UploadManifestRequest,
                ai.sofer.batch.v1.UploadManifestResponse>(
                  this, METHODID_UPLOAD_MANIFEST)))
          .addMethod(
            getCreateManifestFromRssMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                ai.sofer.batch.v1.CreateManifestFromRssRequest,
                ai.sofer.batch.v1.CreateManifestFromRssResponse>(
                  this, METHODID_CREATE_MANIFEST_FROM_RSS)))
          .addMethod(
            getGetManifestMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                ai.sofer.batch.v1.GetManifestRequest,
                ai.sofer.batch.v1.GetManifestResponse>(
                  this, METHODID_GET_MANIFEST)))
          .addMethod(
            getListManifestsMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                ai.sofer.batch.v1.ListManifestsRequest,
                ai.sofer.batch.v1.ListManifestsResponse>(
                  this, METHODID_LIST_MANIFESTS)))
          .addMethod(
            getGetBatchStatusMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                ai.sofer.batch.v1.GetBatchStatusRequest,
                ai.sofer.batch.v1.GetBatchStatusResponse>(
                  this, METHODID_GET_BATCH_STATUS)))
          .addMethod(
            getWatchBatchStatusMethod(),
            io.grpc.stub.ServerCalls.asyncServerStreamingCall(
              new MethodHandlers<
                ai.sofer.batch.v1.WatchBatchStatusRequest,
                ai.sofer.batch.v1.WatchBatchStatusResponse>(
                  this, METHODID_WATCH_BATCH_STATUS)))
          .addMethod(
            getStreamBatchTranscriptsMethod(),
            io.grpc.stub.ServerCalls.asyncServerStreamingCall(
              new MethodHandlers<
                ai.sofer.batch.v1.StreamBatchTranscriptsRequest,
                ai.sofer.batch.v1.StreamBatchTranscriptsResponse>(
                  this, METHODID_STREAM_BATCH_TRANSCRIPTS)))
          .addMethod(
            getGetBatchItemMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                ai.sofer.batch.v1.GetBatchItemRequest,
                ai.sofer.batch.v1.GetBatchItemResponse>(
                  this, METHODID_GET_BATCH_ITEM)))
          .addMethod(
            getGetTranscriptionMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                ai.sofer.batch.v1.GetTranscriptionRequest,
                ai.sofer.batch.v1.GetTranscriptionResponse>(
                  this, METHODID_GET_TRANSCRIPTION)))
          .addMethod(
            getExportTranscriptionMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                ai.sofer.batch.v1.ExportTranscriptionRequest,
                ai.sofer.batch.v1.ExportTranscriptionResponse>(
                  this, METHODID_EXPORT_TRANSCRIPTION)))
          .addMethod(
            getGetTranscriptionStatusMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                ai.sofer.batch.v1.GetTranscriptionStatusRequest,
                ai.sofer.batch.v1.GetTranscriptionStatusResponse>(
                  this, METHODID_GET_TRANSCRIPTION_STATUS)))
          .addMethod(
            getGetBalanceMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                ai.sofer.batch.v1.GetBalanceRequest,
                ai.sofer.batch.v1.GetBalanceResponse>(
                  this, METHODID_GET_BALANCE)))
          .addMethod(
            getEstimateCostMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                ai.sofer.batch.v1.EstimateCostRequest,
                ai.sofer.batch.v1.EstimateCostResponse>(
                  this, METHODID_ESTIMATE_COST)))
          .addMethod(
            getListTranscriptionsMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                ai.sofer.batch.v1.ListTranscriptionsRequest,
                ai.sofer.batch.v1.ListTranscriptionsResponse>(
                  this, METHODID_LIST_TRANSCRIPTIONS)))
          .addMethod(
            getExtractLinkMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                ai.sofer.batch.v1.ExtractLinkRequest,
                ai.sofer.batch.v1.ExtractLinkResponse>(
                  this, METHODID_EXTRACT_LINK)))
          .addMethod(
            getListSupportedSitesMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                ai.sofer.batch.v1.ListSupportedSitesRequest,
                ai.sofer.batch.v1.ListSupportedSitesResponse>(
                  this, METHODID_LIST_SUPPORTED_SITES)))
          .addMethod(
            getCreateTranscriptionMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                ai.sofer.batch.v1.CreateTranscriptionRequest,
                ai.sofer.batch.v1.CreateTranscriptionResponse>(
                  this, METHODID_CREATE_TRANSCRIPTION)))
          .addMethod(
            getUploadTranscriptionMethod(),
            io.grpc.stub.ServerCalls.asyncClientStreamingCall(
              new MethodHandlers<
                ai.sofer.batch.v1.UploadTranscriptionRequest,
                ai.sofer.batch.v1.UploadTranscriptionResponse>(
                  this, METHODID_UPLOAD_TRANSCRIPTION)))
          .addMethod(
            getWatchTranscriptionMethod(),
            io.grpc.stub.ServerCalls.asyncServerStreamingCall(
              new MethodHandlers<
                ai.sofer.batch.v1.WatchTranscriptionRequest,
                ai.sofer.batch.v1.WatchTranscriptionResponse>(
                  this, METHODID_WATCH_TRANSCRIPTION)))
          .addMethod(
            getWatchManifestMethod(),
            io.grpc.stub.ServerCalls.asyncServerStreamingCall(
              new MethodHandlers<
                ai.sofer.batch.v1.WatchManifestRequest,
                ai.sofer.batch.v1.WatchManifestResponse>(
                  this, METHODID_WATCH_MANIFEST)))
          .addMethod(
            getCreateWebhookMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                ai.sofer.batch.v1.CreateWebhookRequest,
                ai.sofer.batch.v1.CreateWebhookResponse>(
                  this, METHODID_CREATE_WEBHOOK)))
          .addMethod(
            getListWebhooksMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                ai.sofer.batch.v1.ListWebhooksRequest,
                ai.sofer.batch.v1.ListWebhooksResponse>(
                  this, METHODID_LIST_WEBHOOKS)))
          .addMethod(
            getDeleteWebhookMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                ai.sofer.batch.v1.DeleteWebhookRequest,
                ai.sofer.batch.v1.DeleteWebhookResponse>(
                  this, METHODID_DELETE_WEBHOOK)))
          .addMethod(
            getRotateWebhookSecretMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                ai.sofer.batch.v1.RotateWebhookSecretRequest,
                ai.sofer.batch.v1.RotateWebhookSecretResponse>(
                  this, METHODID_ROTATE_WEBHOOK_SECRET)))
          .addMethod(
            getListWebhookDeliveriesMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                ai.sofer.batch.v1.ListWebhookDeliveriesRequest,
                ai.sofer.batch.v1.ListWebhookDeliveriesResponse>(
                  this, METHODID_LIST_WEBHOOK_DELIVERIES)))
          .build();
    }
  }

  /**
   * <pre>
   * Batch transcription through the Sofer.ai API: create batches (express, inline items; or
   * standard, from an uploaded manifest), manage manifests, and follow a batch's progress, one
   * poll or a live stream.
   * Credentials: the caller's `authorization: Bearer &lt;token&gt;` metadata is forwarded upstream; without
   * one the gateway uses its configured key; without either the call fails UNAUTHENTICATED before
   * any upstream call. A gateway that authenticates its callers (caller tokens, which start with
   * `sgw_` in any case and are never sent upstream, or a client certificate under mutual TLS)
   * spends its key
   * only for them: any other caller without a token of its own fails UNAUTHENTICATED (reason
   * CALLER_UNAUTHENTICATED). Everything the gateway shares between calls is scoped to the
   * credential.
   * Request ids: `x-request-id` metadata (generated when absent) is sent upstream, logged, and
   * returned in the response's initial metadata. Mutating RPCs also take a `request_id` field that
   * makes retries safe (see `CreateBatchRequest.request_id`).
   * Errors (google.rpc.Status in the `grpc-status-details-bin` trailer; AIP-193): every error
   * carries a google.rpc.ErrorInfo with an UPPER_SNAKE_CASE `reason`, the domain "sofer-gateway",
   * and metadata with only these keys, each when it applies: `batch_id`, `batch_file_id`,
   * `transcription_id`, `client_item_id`, `request_id`, `upstream_status`. Beside it, by code:
   * - INVALID_ARGUMENT (the request broke a rule in these comments, or the upstream answered 400 or
   *   422): a google.rpc.BadRequest with one field violation per broken rule, all of them at once,
   *   each naming the field path as in `audio_sources[3].audio_url` or `info.num_speakers`.
   * - UNAUTHENTICATED (no credential, or upstream 401); PERMISSION_DENIED (upstream 403).
   * - NOT_FOUND (upstream 404: no such batch, manifest, transcription or client_item_id for this
   *   credential).
   * - ALREADY_EXISTS (a `request_id` reused with a different request: reason REQUEST_ID_REUSED);
   *   ABORTED (upstream 409).
   * - FAILED_PRECONDITION (`ExportTranscription` as SRT or WebVTT of a transcript with text but
   *   no word timestamps to time the captions by: reason TRANSCRIPT_NOT_TIMED).
   * - RESOURCE_EXHAUSTED (upstream 429 after the gateway's own retries, reason RATE_LIMITED; or the
   *   gateway itself is at its concurrency limit or out of upstream connections, reason
   *   GATEWAY_OVERLOADED; or the gateway's upstream rate budget, --upstream-rate-limit, has no
   *   request for the credential before the call's deadline, reason UPSTREAM_QUOTA_EXHAUSTED,
   *   nothing sent): a google.rpc.RetryInfo with the delay to wait and a google.rpc.QuotaFailure
   *   naming the limit. A caller past its own share (--max-calls-per-caller,
   *   --max-watches-per-caller) is refused RESOURCE_EXHAUSTED, reason CALLER_QUOTA_EXCEEDED, with a
   *   QuotaFailure naming the caller's quota. An answer larger than the gateway sends in one
   *   message (--max-send-message-bytes: a very long transcript) is refused RESOURCE_EXHAUSTED,
   *   reason RESPONSE_TOO_LARGE, its ErrorInfo naming what it answered (`transcription_id`: a
   *   StreamBatchTranscripts caller may skip it); ExportTranscription and `sofer-gateway fetch`
   *   write such a transcript as a file. Requests are validated before the limit applies,
   *   so bad input is always answered INVALID_ARGUMENT, and so are request bytes that do not
   *   decode as the method's request message.
   * - UNAVAILABLE (upstream 5xx or unreachable; or the gateway shut down while the call ran,
   *   reason SHUTTING_DOWN; safe to retry with the same `request_id`); DEADLINE_EXCEEDED (the
   *   caller's deadline passed; the gateway never retries past it and answers just before it,
   *   reason UPSTREAM_TIMEOUT).
   * - A create (CreateBatch, UploadManifest, CreateManifestFromRss) that was sent upstream and then
   *   cut short (a 5xx, a lost connection, the caller's deadline, a shutdown) fails with reason
   *   OUTCOME_UNKNOWN (UNAVAILABLE or DEADLINE_EXCEEDED): the upstream may have acted. Retry with
   *   the same `request_id` to get its outcome, or check before creating again. The same answer
   *   when the gateway's record of the `request_id` in its shared idempotency store (Redis)
   *   cannot be read, or vanished while the create ran on another replica. A create with a
   *   `request_id` while that store cannot be reached fails UNAVAILABLE, reason
   *   IDEMPOTENCY_STORE_UNAVAILABLE, before anything is sent.
   * - A call whose request message is not complete within the gateway's request-message timeout
   *   ends DEADLINE_EXCEEDED (reason REQUEST_MESSAGE_TIMEOUT); bytes that are not the method's
   *   request message, or a stream that ends without one, INVALID_ARGUMENT (REQUEST_INVALID).
   * </pre>
   */
  public static final class BatchTranscriptionServiceStub extends io.grpc.stub.AbstractAsyncStub<BatchTranscriptionServiceStub> {
    private BatchTranscriptionServiceStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected BatchTranscriptionServiceStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new BatchTranscriptionServiceStub(channel, callOptions);
    }

    /**
     * <pre>
     * Creates a batch of transcriptions (upstream POST /v1/transcriptions/batch), express from
     * `audio_sources` or standard from a manifest's `batch_file_id`. Validated as described on
     * `CreateBatchRequest`; INVALID_ARGUMENT lists every violation. A standard batch whose manifest
     * does not exist, belongs to another credential or is not MANIFEST_STATUS_VALID is refused by
     * the upstream with 400: INVALID_ARGUMENT, reason UPSTREAM_REJECTED_REQUEST, with its message.
     * A retry with the same `request_id` returns the first call's response. A create sent upstream
     * whose answer did not come before the caller's deadline (or a shutdown) fails with reason
     * OUTCOME_UNKNOWN: it may exist; the same `request_id` gets its outcome.
     * </pre>
     */
    public void createBatch(ai.sofer.batch.v1.CreateBatchRequest request,
        io.grpc.stub.StreamObserver<ai.sofer.batch.v1.CreateBatchResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getCreateBatchMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Uploads a manifest for a standard batch (upstream POST /v1/transcriptions/batch-files), given
     * as typed items or as JSONL. The upstream validates it asynchronously: poll `GetManifest` until
     * MANIFEST_STATUS_VALID. INVALID_ARGUMENT lists every violation in the items or JSONL lines.
     * </pre>
     */
    public void uploadManifest(ai.sofer.batch.v1.UploadManifestRequest request,
        io.grpc.stub.StreamObserver<ai.sofer.batch.v1.UploadManifestResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getUploadManifestMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Creates a manifest from a podcast RSS feed's audio enclosures (upstream POST
     * /v1/transcriptions/batch-files/from-rss), one page at a time (`offset`, `limit`).
     * INVALID_ARGUMENT for a bad `rss_url` or range, or when the upstream cannot use the feed.
     * </pre>
     */
    public void createManifestFromRss(ai.sofer.batch.v1.CreateManifestFromRssRequest request,
        io.grpc.stub.StreamObserver<ai.sofer.batch.v1.CreateManifestFromRssResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getCreateManifestFromRssMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Returns one manifest with its validation status (upstream GET
     * /v1/transcriptions/batch-files/{batch_file_id}). NOT_FOUND when it does not exist.
     * </pre>
     */
    public void getManifest(ai.sofer.batch.v1.GetManifestRequest request,
        io.grpc.stub.StreamObserver<ai.sofer.batch.v1.GetManifestResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getGetManifestMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Lists the caller's manifests, newest first as the upstream orders them, in pages (AIP-158;
     * upstream GET /v1/transcriptions/batch-files with its `cursor`).
     * </pre>
     */
    public void listManifests(ai.sofer.batch.v1.ListManifestsRequest request,
        io.grpc.stub.StreamObserver<ai.sofer.batch.v1.ListManifestsResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getListManifestsMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Returns the current progress of a batch (upstream GET
     * /v1/transcriptions/batch/{batch_id}/status). NOT_FOUND when the batch does not exist.
     * </pre>
     */
    public void getBatchStatus(ai.sofer.batch.v1.GetBatchStatusRequest request,
        io.grpc.stub.StreamObserver<ai.sofer.batch.v1.GetBatchStatusResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getGetBatchStatusMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Streams a batch's progress: the current status at once, then a message whenever anything in
     * it changes (state, counts, any transcription's state), and ends OK after a terminal state
     * (BATCH_STATE_COMPLETED or BATCH_STATE_FAILED). All watchers of one batch and credential share
     * one upstream poller; a slow reader gets the latest status, not a backlog, and a watcher that
     * joins gets the current status at once, whatever the poller is waiting for. NOT_FOUND when the
     * batch does not exist; RESOURCE_EXHAUSTED (reason WATCH_LIMIT_REACHED) when the gateway already
     * serves its maximum of open watches; RESOURCE_EXHAUSTED (reason RATE_LIMITED, with RetryInfo
     * carrying the upstream's delay) when the upstream rate-limits the batch's status polls for
     * longer than the gateway's cap (--watch-max-retry-after, 30 s by default), or while a watch has
     * had no status at all for that long; UNAVAILABLE when the upstream fails every poll for that
     * long before any status; UNAVAILABLE (reason SHUTTING_DOWN) when the gateway shuts down.
     * Reconnect to resume (after the RetryInfo delay, if any): the first message is always the full
     * current status, and a new watch after an error polls afresh.
     * </pre>
     */
    public void watchBatchStatus(ai.sofer.batch.v1.WatchBatchStatusRequest request,
        io.grpc.stub.StreamObserver<ai.sofer.batch.v1.WatchBatchStatusResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncServerStreamingCall(
          getChannel().newCall(getWatchBatchStatusMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Streams a batch's results: one message per item as it reaches a terminal state
     * (TRANSCRIPTION_STATE_COMPLETED, FAILED, CANCELLED, or the upstream's INSUFFICIENT_FUNDS),
     * items already terminal first, and ends OK after the last item once the batch is terminal.
     * A completed item's message carries its transcript (`transcription`: text, word timestamps,
     * info); any other terminal item's carries only its `info`, with its state. It rides on the
     * batch's status poller (the one `WatchBatchStatus` uses: no extra status polling), and each
     * transcript is fetched from the upstream once per (credential, transcription, filter) however
     * many streams want it, then kept in a bounded cache. Items named in `skip_transcription_ids`
     * are neither fetched nor sent, so a client that reconnects after an interruption gets only
     * what it lacks. Errors are `WatchBatchStatus`'s (NOT_FOUND, reason BATCH_NOT_FOUND, when the
     * batch does not exist for this credential; RESOURCE_EXHAUSTED WATCH_LIMIT_REACHED; RATE_LIMITED;
     * SHUTTING_DOWN: the stream counts as a watch), and a transcript fetch that fails ends the
     * stream with its error (e.g. NOT_FOUND, TRANSCRIPTION_NOT_FOUND): reconnect with the ids you
     * have in `skip_transcription_ids`.
     * </pre>
     */
    public void streamBatchTranscripts(ai.sofer.batch.v1.StreamBatchTranscriptsRequest request,
        io.grpc.stub.StreamObserver<ai.sofer.batch.v1.StreamBatchTranscriptsResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncServerStreamingCall(
          getChannel().newCall(getStreamBatchTranscriptsMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Resolves a batch item's `client_item_id` to its transcription (upstream GET
     * /v1/transcriptions/batch/{batch_id}/items/by-client-item-id). NOT_FOUND when the batch or the
     * id within it does not exist.
     * </pre>
     */
    public void getBatchItem(ai.sofer.batch.v1.GetBatchItemRequest request,
        io.grpc.stub.StreamObserver<ai.sofer.batch.v1.GetBatchItemResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getGetBatchItemMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Returns a transcript with word timestamps (upstream GET
     * /v1/transcriptions/{transcription_id}). NOT_FOUND when the transcription does not exist.
     * Meaningful once `GetTranscriptionStatus` says TRANSCRIPTION_STATE_COMPLETED.
     * </pre>
     */
    public void getTranscription(ai.sofer.batch.v1.GetTranscriptionRequest request,
        io.grpc.stub.StreamObserver<ai.sofer.batch.v1.GetTranscriptionResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getGetTranscriptionMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Renders a transcript as a file (`format`): SRT or WebVTT captions, plain text, Markdown, a
     * Word document (DOCX, in `binary_content`) or JSON with the words. The transcript is read from
     * the upstream exactly as `GetTranscription` reads it (GET /v1/transcriptions/{transcription_id},
     * with the same `filter_hebrew_word_format`), through the gateway's transcript cache: a
     * completed transcript is fetched once per (credential, transcription, filter) while it is
     * kept (the cache `StreamBatchTranscripts` and `GetTranscription` read through as well), so N
     * formats of one transcript cost one upstream GET. The errors are `GetTranscription`'s: NOT_FOUND (reason TRANSCRIPTION_NOT_FOUND) when the transcription does
     * not exist for this credential, INVALID_ARGUMENT (UPSTREAM_REJECTED_REQUEST) for a FAILED one.
     * A transcription not completed yet is answered as `GetTranscription` answers it: OK, with its
     * `info.state`, no cues and an empty transcript (an SRT or text `content` of "", a WebVTT one of
     * just the header).
     * Caption cues are built from the word timestamps, in order: a cue starts at its first word's
     * `start` and ends at its last word's `end`, and the next cue begins at the first word that
     * would break one of these rules: a different `speaker`; a pause of more than 1 s since the
     * cue's last word ended; a cue longer than 7 s; text that no longer fits 2 lines of 42
     * characters (code points, speaker label included in SRT). The 42 and the 7 s are the
     * defaults of `caption_options`, which may change them, and leave speaker labels out. Lines break between words, at the
     * point that makes the longer line shortest; a single word too long for a line, or for 7 s,
     * gets a cue of its own. Words that overlap in time (the two forms of a Hebrew term when both
     * are asked for, or crosstalk) stay in one cue, so cues do not overlap, up to what one cue can
     * hold: overlapping words past 2 full lines go on in the next cue, which then overlaps it (a
     * transcript with thousands of words at one instant, only a broken one). A cue's text is its
     * words joined by spaces, with the punctuation of the transcript `text` when that text has
     * exactly one token per word (the word, with punctuation around it); transliteration markup
     * (`&lt;i&gt;`) is dropped. Hebrew and other right-to-left text is written in logical order, as the
     * transcript has it: no reversal, and no bidi control character except one U+200F
     * RIGHT-TO-LEFT MARK before an SRT speaker label whose cue text starts with a right-to-left
     * letter (so the line keeps the direction its text gives it). A transcript with text but no
     * word timestamps (or a time that is not a number, or is past a week: 604800 s) cannot be
     * timed: SRT and WebVTT fail FAILED_PRECONDITION (reason TRANSCRIPT_NOT_TIMED); TEXT, which
     * needs no timestamps, works.
     * </pre>
     */
    public void exportTranscription(ai.sofer.batch.v1.ExportTranscriptionRequest request,
        io.grpc.stub.StreamObserver<ai.sofer.batch.v1.ExportTranscriptionResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getExportTranscriptionMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Returns a transcription's settings and state (upstream GET
     * /v1/transcriptions/{transcription_id}/status). NOT_FOUND when it does not exist.
     * </pre>
     */
    public void getTranscriptionStatus(ai.sofer.batch.v1.GetTranscriptionStatusRequest request,
        io.grpc.stub.StreamObserver<ai.sofer.batch.v1.GetTranscriptionStatusResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getGetTranscriptionStatusMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Returns the account balance of the credential's key, in US cents (upstream GET
     * /v1/balance/). NOT_FOUND (reason ACCOUNT_NOT_FOUND) when the key has no account: nothing was
     * ever deposited.
     * </pre>
     */
    public void getBalance(ai.sofer.batch.v1.GetBalanceRequest request,
        io.grpc.stub.StreamObserver<ai.sofer.batch.v1.GetBalanceResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getGetBalanceMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Estimates what a would-be batch or single transcription costs, before creating it: each
     * item's duration from the upstream (POST /v1/utils/duration, one request per distinct URL, a
     * few at once, all within the call's deadline) priced by the documented table (see
     * `EstimateCostResponse`). Creates nothing and costs nothing upstream but those reads. A
     * duration that cannot be read fails the call with that read's error (UNAVAILABLE,
     * RESOURCE_EXHAUSTED, ...). A manifest (`EstimateCostRequest.batch_file_id`) is priced from
     * its items as the gateway remembered them at `UploadManifest` (see the guards above); one it
     * does not know fails FAILED_PRECONDITION, reason COST_UNKNOWN (send its items as
     * `audio_sources` with COSTED_WORK_STANDARD_BATCH instead), and one it cannot read from Redis
     * UNAVAILABLE, reason BUDGET_STORE_UNAVAILABLE.
     * </pre>
     */
    public void estimateCost(ai.sofer.batch.v1.EstimateCostRequest request,
        io.grpc.stub.StreamObserver<ai.sofer.batch.v1.EstimateCostResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getEstimateCostMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Lists the caller's transcriptions (batch items and single ones), newest first as the upstream
     * orders them, in pages (AIP-158) with optional filters, over the upstream's unpaged list (GET
     * /v1/transcriptions/). Cost upstream: a page is cut from one list GET, shared by identical
     * reads in flight and reused for the same credential for 10 seconds, so a caller walking every
     * page within that window costs one list GET in all, and at most one per 10 seconds however
     * slowly it walks; `states` and `title_contains` cost nothing upstream, `created_after` and
     * `created_before` a few status reads (see them). The list may thus be up to 10 seconds old.
     * INVALID_ARGUMENT on `page_size`, `title_contains`, `states`, `created_after`,
     * `created_before` or `page_token` (malformed, from another credential, or from a request with
     * other filters); FAILED_PRECONDITION (reason LIST_NOT_ORDERED) when a creation-time filter
     * finds the upstream's list out of creation order.
     * </pre>
     */
    public void listTranscriptions(ai.sofer.batch.v1.ListTranscriptionsRequest request,
        io.grpc.stub.StreamObserver<ai.sofer.batch.v1.ListTranscriptionsResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getListTranscriptionsMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Resolves a page link of a supported site (a YouTube video, a Google Drive file, ...) to the
     * URL of its audio, with what the upstream says of it (upstream POST /v1/link/extract; it has
     * no side effect, so the gateway retries it like a read). Errors: a link of no supported site,
     * or no media page of one, INVALID_ARGUMENT (reason LINK_NOT_SUPPORTED, a field violation on
     * `url`); a page that does not exist NOT_FOUND (LINK_NOT_FOUND); a page whose audio the upstream
     * could not extract (its HTTP 500) FAILED_PRECONDITION (LINK_EXTRACTION_FAILED).
     * </pre>
     */
    public void extractLink(ai.sofer.batch.v1.ExtractLinkRequest request,
        io.grpc.stub.StreamObserver<ai.sofer.batch.v1.ExtractLinkResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getExtractLinkMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Lists the sites whose page links `ExtractLink` and `AudioSource.page_url` accept (upstream GET
     * /v1/link/sites).
     * </pre>
     */
    public void listSupportedSites(ai.sofer.batch.v1.ListSupportedSitesRequest request,
        io.grpc.stub.StreamObserver<ai.sofer.batch.v1.ListSupportedSitesResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getListSupportedSitesMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Creates one transcription of the audio at `audio_url` (upstream POST /v1/transcriptions/,
     * priced as a single transcription). With a `request_id` the transcription's id is derived from
     * it and the credential (a UUIDv5), and sent upstream as `info.id`: a retry with the same
     * `request_id` (after a lost answer, a deadline, a crash of the gateway, with or without Redis)
     * finds the transcription made the first time instead of paying for a second one, and answers
     * its id with the trailer `idempotent-replayed: true`. When the transcription found has another
     * title or language than the retry asks for, the call fails ALREADY_EXISTS (reason
     * REQUEST_ID_REUSED). Without a `request_id` the upstream picks the id and a retry creates (and
     * bills) a second transcription. Validated as described on `CreateTranscriptionRequest`;
     * INVALID_ARGUMENT lists every violation; the upstream's own refusals (a 400 or 422) are
     * INVALID_ARGUMENT, reason UPSTREAM_REJECTED_REQUEST. Other errors as for `CreateBatch`
     * (OUTCOME_UNKNOWN when the answer was lost: retry with the same `request_id`).
     * </pre>
     */
    public void createTranscription(ai.sofer.batch.v1.CreateTranscriptionRequest request,
        io.grpc.stub.StreamObserver<ai.sofer.batch.v1.CreateTranscriptionResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getCreateTranscriptionMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Creates one transcription of a local file, sent as a client stream: the first message carries
     * `header` (settings, `request_id`, file name), every later one a `chunk` of the file's bytes,
     * in order. The gateway holds the file (its base64 form: 4/3 of its size) until the stream ends,
     * then sends it upstream as `audio_file` in one request (POST /v1/transcriptions/), with the id
     * derived from `request_id` exactly as `CreateTranscription` does (retries are safe the same
     * way). Limits: the file is at most the gateway's --max-upload-bytes (100 MiB by default, the
     * upstream's own limit), else RESOURCE_EXHAUSTED (reason UPLOAD_TOO_LARGE, a QuotaFailure naming
     * the flag) as soon as the stream passes it, nothing sent upstream; each message is at most the
     * gateway's --max-receive-message-bytes (8 MiB by default; send chunks of 1 MiB or less). A
     * stream whose first message is not a `header`, with a second `header`, or that ends without any
     * byte fails INVALID_ARGUMENT naming the field; a pause of more than the gateway's
     * --request-message-timeout between messages ends it DEADLINE_EXCEEDED (reason
     * REQUEST_MESSAGE_TIMEOUT). The call counts against the caller's quotas and the gateway's
     * concurrency limit like a unary call.
     * </pre>
     */
    public io.grpc.stub.StreamObserver<ai.sofer.batch.v1.UploadTranscriptionRequest> uploadTranscription(
        io.grpc.stub.StreamObserver<ai.sofer.batch.v1.UploadTranscriptionResponse> responseObserver) {
      return io.grpc.stub.ClientCalls.asyncClientStreamingCall(
          getChannel().newCall(getUploadTranscriptionMethod(), getCallOptions()), responseObserver);
    }

    /**
     * <pre>
     * Streams a transcription's state: its current `TranscriptionInfo` at once, then a message
     * whenever it changes, and ends OK after a terminal state (TRANSCRIPTION_STATE_COMPLETED, FAILED,
     * CANCELLED or INSUFFICIENT_FUNDS). Every watcher of one transcription and credential shares one
     * upstream poller (GET /v1/transcriptions/{transcription_id}/status), the one `WatchBatchStatus`
     * uses for batches, with its cadence, limits and errors: NOT_FOUND (reason
     * TRANSCRIPTION_NOT_FOUND) when it does not exist for this credential; RESOURCE_EXHAUSTED
     * (WATCH_LIMIT_REACHED, or RATE_LIMITED with RetryInfo); UNAVAILABLE (SHUTTING_DOWN). Reconnect to
     * resume: the first message is always the current state.
     * </pre>
     */
    public void watchTranscription(ai.sofer.batch.v1.WatchTranscriptionRequest request,
        io.grpc.stub.StreamObserver<ai.sofer.batch.v1.WatchTranscriptionResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncServerStreamingCall(
          getChannel().newCall(getWatchTranscriptionMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Streams a manifest's validation: its status at once (the `GetManifest` answer), then a
     * message whenever it changes (status, item count, validation errors), and ends OK after
     * MANIFEST_STATUS_VALID or MANIFEST_STATUS_INVALID, so no client polls `GetManifest`. All
     * watchers of one manifest and credential share one upstream poller (GET
     * /v1/transcriptions/batch-files/{batch_file_id}), with `WatchBatchStatus`'s cadence, limits
     * and errors: NOT_FOUND (reason MANIFEST_NOT_FOUND) when the manifest does not exist for this
     * credential; RESOURCE_EXHAUSTED (WATCH_LIMIT_REACHED) at the gateway's maximum of open
     * watches, or (CALLER_QUOTA_EXCEEDED) past the caller's; RESOURCE_EXHAUSTED (RATE_LIMITED, with
     * RetryInfo) when the upstream rate-limits the polls for longer than --watch-max-retry-after;
     * UNAVAILABLE when every poll fails for that long before any status, or (SHUTTING_DOWN) when the
     * gateway shuts down. Reconnect to resume: the first message is always the current status.
     * </pre>
     */
    public void watchManifest(ai.sofer.batch.v1.WatchManifestRequest request,
        io.grpc.stub.StreamObserver<ai.sofer.batch.v1.WatchManifestResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncServerStreamingCall(
          getChannel().newCall(getWatchManifestMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Registers an endpoint for the tenant's events; answers its id and its secret (the only time
     * the secret is shown). A retry with the same `request_id` answers the same endpoint and
     * secret. FAILED_PRECONDITION (reason WEBHOOK_LIMIT_REACHED) past 100 endpoints per tenant.
     * </pre>
     */
    public void createWebhook(ai.sofer.batch.v1.CreateWebhookRequest request,
        io.grpc.stub.StreamObserver<ai.sofer.batch.v1.CreateWebhookResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getCreateWebhookMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Lists the tenant's endpoints (without secrets), oldest first.
     * </pre>
     */
    public void listWebhooks(ai.sofer.batch.v1.ListWebhooksRequest request,
        io.grpc.stub.StreamObserver<ai.sofer.batch.v1.ListWebhooksResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getListWebhooksMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Deletes an endpoint: no more deliveries. NOT_FOUND (reason WEBHOOK_NOT_FOUND) when the tenant
     * has no such endpoint.
     * </pre>
     */
    public void deleteWebhook(ai.sofer.batch.v1.DeleteWebhookRequest request,
        io.grpc.stub.StreamObserver<ai.sofer.batch.v1.DeleteWebhookResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getDeleteWebhookMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Replaces an endpoint's secret; the old one goes on signing beside it (two signatures in
     * `webhook-signature`) for `grace_seconds`, so receivers can switch without losing deliveries.
     * NOT_FOUND (WEBHOOK_NOT_FOUND) for an unknown endpoint.
     * </pre>
     */
    public void rotateWebhookSecret(ai.sofer.batch.v1.RotateWebhookSecretRequest request,
        io.grpc.stub.StreamObserver<ai.sofer.batch.v1.RotateWebhookSecretResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getRotateWebhookSecretMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * An endpoint's recent delivery attempts, newest first (at most the last 100): each with its
     * event, time, HTTP status or error, and when the next attempt is due. NOT_FOUND
     * (WEBHOOK_NOT_FOUND) for an unknown endpoint.
     * </pre>
     */
    public void listWebhookDeliveries(ai.sofer.batch.v1.ListWebhookDeliveriesRequest request,
        io.grpc.stub.StreamObserver<ai.sofer.batch.v1.ListWebhookDeliveriesResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getListWebhookDeliveriesMethod(), getCallOptions()), request, responseObserver);
    }
  }

  /**
   * <pre>
   * Batch transcription through the Sofer.ai API: create batches (express, inline items; or
   * standard, from an uploaded manifest), manage manifests, and follow a batch's progress, one
   * poll or a live stream.
   * Credentials: the caller's `authorization: Bearer &lt;token&gt;` metadata is forwarded upstream; without
   * one the gateway uses its configured key; without either the call fails UNAUTHENTICATED before
   * any upstream call. A gateway that authenticates its callers (caller tokens, which start with
   * `sgw_` in any case and are never sent upstream, or a client certificate under mutual TLS)
   * spends its key
   * only for them: any other caller without a token of its own fails UNAUTHENTICATED (reason
   * CALLER_UNAUTHENTICATED). Everything the gateway shares between calls is scoped to the
   * credential.
   * Request ids: `x-request-id` metadata (generated when absent) is sent upstream, logged, and
   * returned in the response's initial metadata. Mutating RPCs also take a `request_id` field that
   * makes retries safe (see `CreateBatchRequest.request_id`).
   * Errors (google.rpc.Status in the `grpc-status-details-bin` trailer; AIP-193): every error
   * carries a google.rpc.ErrorInfo with an UPPER_SNAKE_CASE `reason`, the domain "sofer-gateway",
   * and metadata with only these keys, each when it applies: `batch_id`, `batch_file_id`,
   * `transcription_id`, `client_item_id`, `request_id`, `upstream_status`. Beside it, by code:
   * - INVALID_ARGUMENT (the request broke a rule in these comments, or the upstream answered 400 or
   *   422): a google.rpc.BadRequest with one field violation per broken rule, all of them at once,
   *   each naming the field path as in `audio_sources[3].audio_url` or `info.num_speakers`.
   * - UNAUTHENTICATED (no credential, or upstream 401); PERMISSION_DENIED (upstream 403).
   * - NOT_FOUND (upstream 404: no such batch, manifest, transcription or client_item_id for this
   *   credential).
   * - ALREADY_EXISTS (a `request_id` reused with a different request: reason REQUEST_ID_REUSED);
   *   ABORTED (upstream 409).
   * - FAILED_PRECONDITION (`ExportTranscription` as SRT or WebVTT of a transcript with text but
   *   no word timestamps to time the captions by: reason TRANSCRIPT_NOT_TIMED).
   * - RESOURCE_EXHAUSTED (upstream 429 after the gateway's own retries, reason RATE_LIMITED; or the
   *   gateway itself is at its concurrency limit or out of upstream connections, reason
   *   GATEWAY_OVERLOADED; or the gateway's upstream rate budget, --upstream-rate-limit, has no
   *   request for the credential before the call's deadline, reason UPSTREAM_QUOTA_EXHAUSTED,
   *   nothing sent): a google.rpc.RetryInfo with the delay to wait and a google.rpc.QuotaFailure
   *   naming the limit. A caller past its own share (--max-calls-per-caller,
   *   --max-watches-per-caller) is refused RESOURCE_EXHAUSTED, reason CALLER_QUOTA_EXCEEDED, with a
   *   QuotaFailure naming the caller's quota. An answer larger than the gateway sends in one
   *   message (--max-send-message-bytes: a very long transcript) is refused RESOURCE_EXHAUSTED,
   *   reason RESPONSE_TOO_LARGE, its ErrorInfo naming what it answered (`transcription_id`: a
   *   StreamBatchTranscripts caller may skip it); ExportTranscription and `sofer-gateway fetch`
   *   write such a transcript as a file. Requests are validated before the limit applies,
   *   so bad input is always answered INVALID_ARGUMENT, and so are request bytes that do not
   *   decode as the method's request message.
   * - UNAVAILABLE (upstream 5xx or unreachable; or the gateway shut down while the call ran,
   *   reason SHUTTING_DOWN; safe to retry with the same `request_id`); DEADLINE_EXCEEDED (the
   *   caller's deadline passed; the gateway never retries past it and answers just before it,
   *   reason UPSTREAM_TIMEOUT).
   * - A create (CreateBatch, UploadManifest, CreateManifestFromRss) that was sent upstream and then
   *   cut short (a 5xx, a lost connection, the caller's deadline, a shutdown) fails with reason
   *   OUTCOME_UNKNOWN (UNAVAILABLE or DEADLINE_EXCEEDED): the upstream may have acted. Retry with
   *   the same `request_id` to get its outcome, or check before creating again. The same answer
   *   when the gateway's record of the `request_id` in its shared idempotency store (Redis)
   *   cannot be read, or vanished while the create ran on another replica. A create with a
   *   `request_id` while that store cannot be reached fails UNAVAILABLE, reason
   *   IDEMPOTENCY_STORE_UNAVAILABLE, before anything is sent.
   * - A call whose request message is not complete within the gateway's request-message timeout
   *   ends DEADLINE_EXCEEDED (reason REQUEST_MESSAGE_TIMEOUT); bytes that are not the method's
   *   request message, or a stream that ends without one, INVALID_ARGUMENT (REQUEST_INVALID).
   * </pre>
   */
  public static final class BatchTranscriptionServiceBlockingStub extends io.grpc.stub.AbstractBlockingStub<BatchTranscriptionServiceBlockingStub> {
    private BatchTranscriptionServiceBlockingStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected BatchTranscriptionServiceBlockingStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new BatchTranscriptionServiceBlockingStub(channel, callOptions);
    }

    /**
     * <pre>
     * Creates a batch of transcriptions (upstream POST /v1/transcriptions/batch), express from
     * `audio_sources` or standard from a manifest's `batch_file_id`. Validated as described on
     * `CreateBatchRequest`; INVALID_ARGUMENT lists every violation. A standard batch whose manifest
     * does not exist, belongs to another credential or is not MANIFEST_STATUS_VALID is refused by
     * the upstream with 400: INVALID_ARGUMENT, reason UPSTREAM_REJECTED_REQUEST, with its message.
     * A retry with the same `request_id` returns the first call's response. A create sent upstream
     * whose answer did not come before the caller's deadline (or a shutdown) fails with reason
     * OUTCOME_UNKNOWN: it may exist; the same `request_id` gets its outcome.
     * </pre>
     */
    public ai.sofer.batch.v1.CreateBatchResponse createBatch(ai.sofer.batch.v1.CreateBatchRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getCreateBatchMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Uploads a manifest for a standard batch (upstream POST /v1/transcriptions/batch-files), given
     * as typed items or as JSONL. The upstream validates it asynchronously: poll `GetManifest` until
     * MANIFEST_STATUS_VALID. INVALID_ARGUMENT lists every violation in the items or JSONL lines.
     * </pre>
     */
    public ai.sofer.batch.v1.UploadManifestResponse uploadManifest(ai.sofer.batch.v1.UploadManifestRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getUploadManifestMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Creates a manifest from a podcast RSS feed's audio enclosures (upstream POST
     * /v1/transcriptions/batch-files/from-rss), one page at a time (`offset`, `limit`).
     * INVALID_ARGUMENT for a bad `rss_url` or range, or when the upstream cannot use the feed.
     * </pre>
     */
    public ai.sofer.batch.v1.CreateManifestFromRssResponse createManifestFromRss(ai.sofer.batch.v1.CreateManifestFromRssRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getCreateManifestFromRssMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Returns one manifest with its validation status (upstream GET
     * /v1/transcriptions/batch-files/{batch_file_id}). NOT_FOUND when it does not exist.
     * </pre>
     */
    public ai.sofer.batch.v1.GetManifestResponse getManifest(ai.sofer.batch.v1.GetManifestRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getGetManifestMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Lists the caller's manifests, newest first as the upstream orders them, in pages (AIP-158;
     * upstream GET /v1/transcriptions/batch-files with its `cursor`).
     * </pre>
     */
    public ai.sofer.batch.v1.ListManifestsResponse listManifests(ai.sofer.batch.v1.ListManifestsRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getListManifestsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Returns the current progress of a batch (upstream GET
     * /v1/transcriptions/batch/{batch_id}/status). NOT_FOUND when the batch does not exist.
     * </pre>
     */
    public ai.sofer.batch.v1.GetBatchStatusResponse getBatchStatus(ai.sofer.batch.v1.GetBatchStatusRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getGetBatchStatusMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Streams a batch's progress: the current status at once, then a message whenever anything in
     * it changes (state, counts, any transcription's state), and ends OK after a terminal state
     * (BATCH_STATE_COMPLETED or BATCH_STATE_FAILED). All watchers of one batch and credential share
     * one upstream poller; a slow reader gets the latest status, not a backlog, and a watcher that
     * joins gets the current status at once, whatever the poller is waiting for. NOT_FOUND when the
     * batch does not exist; RESOURCE_EXHAUSTED (reason WATCH_LIMIT_REACHED) when the gateway already
     * serves its maximum of open watches; RESOURCE_EXHAUSTED (reason RATE_LIMITED, with RetryInfo
     * carrying the upstream's delay) when the upstream rate-limits the batch's status polls for
     * longer than the gateway's cap (--watch-max-retry-after, 30 s by default), or while a watch has
     * had no status at all for that long; UNAVAILABLE when the upstream fails every poll for that
     * long before any status; UNAVAILABLE (reason SHUTTING_DOWN) when the gateway shuts down.
     * Reconnect to resume (after the RetryInfo delay, if any): the first message is always the full
     * current status, and a new watch after an error polls afresh.
     * </pre>
     */
    public java.util.Iterator<ai.sofer.batch.v1.WatchBatchStatusResponse> watchBatchStatus(
        ai.sofer.batch.v1.WatchBatchStatusRequest request) {
      return io.grpc.stub.ClientCalls.blockingServerStreamingCall(
          getChannel(), getWatchBatchStatusMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Streams a batch's results: one message per item as it reaches a terminal state
     * (TRANSCRIPTION_STATE_COMPLETED, FAILED, CANCELLED, or the upstream's INSUFFICIENT_FUNDS),
     * items already terminal first, and ends OK after the last item once the batch is terminal.
     * A completed item's message carries its transcript (`transcription`: text, word timestamps,
     * info); any other terminal item's carries only its `info`, with its state. It rides on the
     * batch's status poller (the one `WatchBatchStatus` uses: no extra status polling), and each
     * transcript is fetched from the upstream once per (credential, transcription, filter) however
     * many streams want it, then kept in a bounded cache. Items named in `skip_transcription_ids`
     * are neither fetched nor sent, so a client that reconnects after an interruption gets only
     * what it lacks. Errors are `WatchBatchStatus`'s (NOT_FOUND, reason BATCH_NOT_FOUND, when the
     * batch does not exist for this credential; RESOURCE_EXHAUSTED WATCH_LIMIT_REACHED; RATE_LIMITED;
     * SHUTTING_DOWN: the stream counts as a watch), and a transcript fetch that fails ends the
     * stream with its error (e.g. NOT_FOUND, TRANSCRIPTION_NOT_FOUND): reconnect with the ids you
     * have in `skip_transcription_ids`.
     * </pre>
     */
    public java.util.Iterator<ai.sofer.batch.v1.StreamBatchTranscriptsResponse> streamBatchTranscripts(
        ai.sofer.batch.v1.StreamBatchTranscriptsRequest request) {
      return io.grpc.stub.ClientCalls.blockingServerStreamingCall(
          getChannel(), getStreamBatchTranscriptsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Resolves a batch item's `client_item_id` to its transcription (upstream GET
     * /v1/transcriptions/batch/{batch_id}/items/by-client-item-id). NOT_FOUND when the batch or the
     * id within it does not exist.
     * </pre>
     */
    public ai.sofer.batch.v1.GetBatchItemResponse getBatchItem(ai.sofer.batch.v1.GetBatchItemRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getGetBatchItemMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Returns a transcript with word timestamps (upstream GET
     * /v1/transcriptions/{transcription_id}). NOT_FOUND when the transcription does not exist.
     * Meaningful once `GetTranscriptionStatus` says TRANSCRIPTION_STATE_COMPLETED.
     * </pre>
     */
    public ai.sofer.batch.v1.GetTranscriptionResponse getTranscription(ai.sofer.batch.v1.GetTranscriptionRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getGetTranscriptionMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Renders a transcript as a file (`format`): SRT or WebVTT captions, plain text, Markdown, a
     * Word document (DOCX, in `binary_content`) or JSON with the words. The transcript is read from
     * the upstream exactly as `GetTranscription` reads it (GET /v1/transcriptions/{transcription_id},
     * with the same `filter_hebrew_word_format`), through the gateway's transcript cache: a
     * completed transcript is fetched once per (credential, transcription, filter) while it is
     * kept (the cache `StreamBatchTranscripts` and `GetTranscription` read through as well), so N
     * formats of one transcript cost one upstream GET. The errors are `GetTranscription`'s: NOT_FOUND (reason TRANSCRIPTION_NOT_FOUND) when the transcription does
     * not exist for this credential, INVALID_ARGUMENT (UPSTREAM_REJECTED_REQUEST) for a FAILED one.
     * A transcription not completed yet is answered as `GetTranscription` answers it: OK, with its
     * `info.state`, no cues and an empty transcript (an SRT or text `content` of "", a WebVTT one of
     * just the header).
     * Caption cues are built from the word timestamps, in order: a cue starts at its first word's
     * `start` and ends at its last word's `end`, and the next cue begins at the first word that
     * would break one of these rules: a different `speaker`; a pause of more than 1 s since the
     * cue's last word ended; a cue longer than 7 s; text that no longer fits 2 lines of 42
     * characters (code points, speaker label included in SRT). The 42 and the 7 s are the
     * defaults of `caption_options`, which may change them, and leave speaker labels out. Lines break between words, at the
     * point that makes the longer line shortest; a single word too long for a line, or for 7 s,
     * gets a cue of its own. Words that overlap in time (the two forms of a Hebrew term when both
     * are asked for, or crosstalk) stay in one cue, so cues do not overlap, up to what one cue can
     * hold: overlapping words past 2 full lines go on in the next cue, which then overlaps it (a
     * transcript with thousands of words at one instant, only a broken one). A cue's text is its
     * words joined by spaces, with the punctuation of the transcript `text` when that text has
     * exactly one token per word (the word, with punctuation around it); transliteration markup
     * (`&lt;i&gt;`) is dropped. Hebrew and other right-to-left text is written in logical order, as the
     * transcript has it: no reversal, and no bidi control character except one U+200F
     * RIGHT-TO-LEFT MARK before an SRT speaker label whose cue text starts with a right-to-left
     * letter (so the line keeps the direction its text gives it). A transcript with text but no
     * word timestamps (or a time that is not a number, or is past a week: 604800 s) cannot be
     * timed: SRT and WebVTT fail FAILED_PRECONDITION (reason TRANSCRIPT_NOT_TIMED); TEXT, which
     * needs no timestamps, works.
     * </pre>
     */
    public ai.sofer.batch.v1.ExportTranscriptionResponse exportTranscription(ai.sofer.batch.v1.ExportTranscriptionRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getExportTranscriptionMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Returns a transcription's settings and state (upstream GET
     * /v1/transcriptions/{transcription_id}/status). NOT_FOUND when it does not exist.
     * </pre>
     */
    public ai.sofer.batch.v1.GetTranscriptionStatusResponse getTranscriptionStatus(ai.sofer.batch.v1.GetTranscriptionStatusRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getGetTranscriptionStatusMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Returns the account balance of the credential's key, in US cents (upstream GET
     * /v1/balance/). NOT_FOUND (reason ACCOUNT_NOT_FOUND) when the key has no account: nothing was
     * ever deposited.
     * </pre>
     */
    public ai.sofer.batch.v1.GetBalanceResponse getBalance(ai.sofer.batch.v1.GetBalanceRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getGetBalanceMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Estimates what a would-be batch or single transcription costs, before creating it: each
     * item's duration from the upstream (POST /v1/utils/duration, one request per distinct URL, a
     * few at once, all within the call's deadline) priced by the documented table (see
     * `EstimateCostResponse`). Creates nothing and costs nothing upstream but those reads. A
     * duration that cannot be read fails the call with that read's error (UNAVAILABLE,
     * RESOURCE_EXHAUSTED, ...). A manifest (`EstimateCostRequest.batch_file_id`) is priced from
     * its items as the gateway remembered them at `UploadManifest` (see the guards above); one it
     * does not know fails FAILED_PRECONDITION, reason COST_UNKNOWN (send its items as
     * `audio_sources` with COSTED_WORK_STANDARD_BATCH instead), and one it cannot read from Redis
     * UNAVAILABLE, reason BUDGET_STORE_UNAVAILABLE.
     * </pre>
     */
    public ai.sofer.batch.v1.EstimateCostResponse estimateCost(ai.sofer.batch.v1.EstimateCostRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getEstimateCostMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Lists the caller's transcriptions (batch items and single ones), newest first as the upstream
     * orders them, in pages (AIP-158) with optional filters, over the upstream's unpaged list (GET
     * /v1/transcriptions/). Cost upstream: a page is cut from one list GET, shared by identical
     * reads in flight and reused for the same credential for 10 seconds, so a caller walking every
     * page within that window costs one list GET in all, and at most one per 10 seconds however
     * slowly it walks; `states` and `title_contains` cost nothing upstream, `created_after` and
     * `created_before` a few status reads (see them). The list may thus be up to 10 seconds old.
     * INVALID_ARGUMENT on `page_size`, `title_contains`, `states`, `created_after`,
     * `created_before` or `page_token` (malformed, from another credential, or from a request with
     * other filters); FAILED_PRECONDITION (reason LIST_NOT_ORDERED) when a creation-time filter
     * finds the upstream's list out of creation order.
     * </pre>
     */
    public ai.sofer.batch.v1.ListTranscriptionsResponse listTranscriptions(ai.sofer.batch.v1.ListTranscriptionsRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getListTranscriptionsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Resolves a page link of a supported site (a YouTube video, a Google Drive file, ...) to the
     * URL of its audio, with what the upstream says of it (upstream POST /v1/link/extract; it has
     * no side effect, so the gateway retries it like a read). Errors: a link of no supported site,
     * or no media page of one, INVALID_ARGUMENT (reason LINK_NOT_SUPPORTED, a field violation on
     * `url`); a page that does not exist NOT_FOUND (LINK_NOT_FOUND); a page whose audio the upstream
     * could not extract (its HTTP 500) FAILED_PRECONDITION (LINK_EXTRACTION_FAILED).
     * </pre>
     */
    public ai.sofer.batch.v1.ExtractLinkResponse extractLink(ai.sofer.batch.v1.ExtractLinkRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getExtractLinkMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Lists the sites whose page links `ExtractLink` and `AudioSource.page_url` accept (upstream GET
     * /v1/link/sites).
     * </pre>
     */
    public ai.sofer.batch.v1.ListSupportedSitesResponse listSupportedSites(ai.sofer.batch.v1.ListSupportedSitesRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getListSupportedSitesMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Creates one transcription of the audio at `audio_url` (upstream POST /v1/transcriptions/,
     * priced as a single transcription). With a `request_id` the transcription's id is derived from
     * it and the credential (a UUIDv5), and sent upstream as `info.id`: a retry with the same
     * `request_id` (after a lost answer, a deadline, a crash of the gateway, with or without Redis)
     * finds the transcription made the first time instead of paying for a second one, and answers
     * its id with the trailer `idempotent-replayed: true`. When the transcription found has another
     * title or language than the retry asks for, the call fails ALREADY_EXISTS (reason
     * REQUEST_ID_REUSED). Without a `request_id` the upstream picks the id and a retry creates (and
     * bills) a second transcription. Validated as described on `CreateTranscriptionRequest`;
     * INVALID_ARGUMENT lists every violation; the upstream's own refusals (a 400 or 422) are
     * INVALID_ARGUMENT, reason UPSTREAM_REJECTED_REQUEST. Other errors as for `CreateBatch`
     * (OUTCOME_UNKNOWN when the answer was lost: retry with the same `request_id`).
     * </pre>
     */
    public ai.sofer.batch.v1.CreateTranscriptionResponse createTranscription(ai.sofer.batch.v1.CreateTranscriptionRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getCreateTranscriptionMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Streams a transcription's state: its current `TranscriptionInfo` at once, then a message
     * whenever it changes, and ends OK after a terminal state (TRANSCRIPTION_STATE_COMPLETED, FAILED,
     * CANCELLED or INSUFFICIENT_FUNDS). Every watcher of one transcription and credential shares one
     * upstream poller (GET /v1/transcriptions/{transcription_id}/status), the one `WatchBatchStatus`
     * uses for batches, with its cadence, limits and errors: NOT_FOUND (reason
     * TRANSCRIPTION_NOT_FOUND) when it does not exist for this credential; RESOURCE_EXHAUSTED
     * (WATCH_LIMIT_REACHED, or RATE_LIMITED with RetryInfo); UNAVAILABLE (SHUTTING_DOWN). Reconnect to
     * resume: the first message is always the current state.
     * </pre>
     */
    public java.util.Iterator<ai.sofer.batch.v1.WatchTranscriptionResponse> watchTranscription(
        ai.sofer.batch.v1.WatchTranscriptionRequest request) {
      return io.grpc.stub.ClientCalls.blockingServerStreamingCall(
          getChannel(), getWatchTranscriptionMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Streams a manifest's validation: its status at once (the `GetManifest` answer), then a
     * message whenever it changes (status, item count, validation errors), and ends OK after
     * MANIFEST_STATUS_VALID or MANIFEST_STATUS_INVALID, so no client polls `GetManifest`. All
     * watchers of one manifest and credential share one upstream poller (GET
     * /v1/transcriptions/batch-files/{batch_file_id}), with `WatchBatchStatus`'s cadence, limits
     * and errors: NOT_FOUND (reason MANIFEST_NOT_FOUND) when the manifest does not exist for this
     * credential; RESOURCE_EXHAUSTED (WATCH_LIMIT_REACHED) at the gateway's maximum of open
     * watches, or (CALLER_QUOTA_EXCEEDED) past the caller's; RESOURCE_EXHAUSTED (RATE_LIMITED, with
     * RetryInfo) when the upstream rate-limits the polls for longer than --watch-max-retry-after;
     * UNAVAILABLE when every poll fails for that long before any status, or (SHUTTING_DOWN) when the
     * gateway shuts down. Reconnect to resume: the first message is always the current status.
     * </pre>
     */
    public java.util.Iterator<ai.sofer.batch.v1.WatchManifestResponse> watchManifest(
        ai.sofer.batch.v1.WatchManifestRequest request) {
      return io.grpc.stub.ClientCalls.blockingServerStreamingCall(
          getChannel(), getWatchManifestMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Registers an endpoint for the tenant's events; answers its id and its secret (the only time
     * the secret is shown). A retry with the same `request_id` answers the same endpoint and
     * secret. FAILED_PRECONDITION (reason WEBHOOK_LIMIT_REACHED) past 100 endpoints per tenant.
     * </pre>
     */
    public ai.sofer.batch.v1.CreateWebhookResponse createWebhook(ai.sofer.batch.v1.CreateWebhookRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getCreateWebhookMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Lists the tenant's endpoints (without secrets), oldest first.
     * </pre>
     */
    public ai.sofer.batch.v1.ListWebhooksResponse listWebhooks(ai.sofer.batch.v1.ListWebhooksRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getListWebhooksMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Deletes an endpoint: no more deliveries. NOT_FOUND (reason WEBHOOK_NOT_FOUND) when the tenant
     * has no such endpoint.
     * </pre>
     */
    public ai.sofer.batch.v1.DeleteWebhookResponse deleteWebhook(ai.sofer.batch.v1.DeleteWebhookRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getDeleteWebhookMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Replaces an endpoint's secret; the old one goes on signing beside it (two signatures in
     * `webhook-signature`) for `grace_seconds`, so receivers can switch without losing deliveries.
     * NOT_FOUND (WEBHOOK_NOT_FOUND) for an unknown endpoint.
     * </pre>
     */
    public ai.sofer.batch.v1.RotateWebhookSecretResponse rotateWebhookSecret(ai.sofer.batch.v1.RotateWebhookSecretRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getRotateWebhookSecretMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * An endpoint's recent delivery attempts, newest first (at most the last 100): each with its
     * event, time, HTTP status or error, and when the next attempt is due. NOT_FOUND
     * (WEBHOOK_NOT_FOUND) for an unknown endpoint.
     * </pre>
     */
    public ai.sofer.batch.v1.ListWebhookDeliveriesResponse listWebhookDeliveries(ai.sofer.batch.v1.ListWebhookDeliveriesRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getListWebhookDeliveriesMethod(), getCallOptions(), request);
    }
  }

  /**
   * <pre>
   * Batch transcription through the Sofer.ai API: create batches (express, inline items; or
   * standard, from an uploaded manifest), manage manifests, and follow a batch's progress, one
   * poll or a live stream.
   * Credentials: the caller's `authorization: Bearer &lt;token&gt;` metadata is forwarded upstream; without
   * one the gateway uses its configured key; without either the call fails UNAUTHENTICATED before
   * any upstream call. A gateway that authenticates its callers (caller tokens, which start with
   * `sgw_` in any case and are never sent upstream, or a client certificate under mutual TLS)
   * spends its key
   * only for them: any other caller without a token of its own fails UNAUTHENTICATED (reason
   * CALLER_UNAUTHENTICATED). Everything the gateway shares between calls is scoped to the
   * credential.
   * Request ids: `x-request-id` metadata (generated when absent) is sent upstream, logged, and
   * returned in the response's initial metadata. Mutating RPCs also take a `request_id` field that
   * makes retries safe (see `CreateBatchRequest.request_id`).
   * Errors (google.rpc.Status in the `grpc-status-details-bin` trailer; AIP-193): every error
   * carries a google.rpc.ErrorInfo with an UPPER_SNAKE_CASE `reason`, the domain "sofer-gateway",
   * and metadata with only these keys, each when it applies: `batch_id`, `batch_file_id`,
   * `transcription_id`, `client_item_id`, `request_id`, `upstream_status`. Beside it, by code:
   * - INVALID_ARGUMENT (the request broke a rule in these comments, or the upstream answered 400 or
   *   422): a google.rpc.BadRequest with one field violation per broken rule, all of them at once,
   *   each naming the field path as in `audio_sources[3].audio_url` or `info.num_speakers`.
   * - UNAUTHENTICATED (no credential, or upstream 401); PERMISSION_DENIED (upstream 403).
   * - NOT_FOUND (upstream 404: no such batch, manifest, transcription or client_item_id for this
   *   credential).
   * - ALREADY_EXISTS (a `request_id` reused with a different request: reason REQUEST_ID_REUSED);
   *   ABORTED (upstream 409).
   * - FAILED_PRECONDITION (`ExportTranscription` as SRT or WebVTT of a transcript with text but
   *   no word timestamps to time the captions by: reason TRANSCRIPT_NOT_TIMED).
   * - RESOURCE_EXHAUSTED (upstream 429 after the gateway's own retries, reason RATE_LIMITED; or the
   *   gateway itself is at its concurrency limit or out of upstream connections, reason
   *   GATEWAY_OVERLOADED; or the gateway's upstream rate budget, --upstream-rate-limit, has no
   *   request for the credential before the call's deadline, reason UPSTREAM_QUOTA_EXHAUSTED,
   *   nothing sent): a google.rpc.RetryInfo with the delay to wait and a google.rpc.QuotaFailure
   *   naming the limit. A caller past its own share (--max-calls-per-caller,
   *   --max-watches-per-caller) is refused RESOURCE_EXHAUSTED, reason CALLER_QUOTA_EXCEEDED, with a
   *   QuotaFailure naming the caller's quota. An answer larger than the gateway sends in one
   *   message (--max-send-message-bytes: a very long transcript) is refused RESOURCE_EXHAUSTED,
   *   reason RESPONSE_TOO_LARGE, its ErrorInfo naming what it answered (`transcription_id`: a
   *   StreamBatchTranscripts caller may skip it); ExportTranscription and `sofer-gateway fetch`
   *   write such a transcript as a file. Requests are validated before the limit applies,
   *   so bad input is always answered INVALID_ARGUMENT, and so are request bytes that do not
   *   decode as the method's request message.
   * - UNAVAILABLE (upstream 5xx or unreachable; or the gateway shut down while the call ran,
   *   reason SHUTTING_DOWN; safe to retry with the same `request_id`); DEADLINE_EXCEEDED (the
   *   caller's deadline passed; the gateway never retries past it and answers just before it,
   *   reason UPSTREAM_TIMEOUT).
   * - A create (CreateBatch, UploadManifest, CreateManifestFromRss) that was sent upstream and then
   *   cut short (a 5xx, a lost connection, the caller's deadline, a shutdown) fails with reason
   *   OUTCOME_UNKNOWN (UNAVAILABLE or DEADLINE_EXCEEDED): the upstream may have acted. Retry with
   *   the same `request_id` to get its outcome, or check before creating again. The same answer
   *   when the gateway's record of the `request_id` in its shared idempotency store (Redis)
   *   cannot be read, or vanished while the create ran on another replica. A create with a
   *   `request_id` while that store cannot be reached fails UNAVAILABLE, reason
   *   IDEMPOTENCY_STORE_UNAVAILABLE, before anything is sent.
   * - A call whose request message is not complete within the gateway's request-message timeout
   *   ends DEADLINE_EXCEEDED (reason REQUEST_MESSAGE_TIMEOUT); bytes that are not the method's
   *   request message, or a stream that ends without one, INVALID_ARGUMENT (REQUEST_INVALID).
   * </pre>
   */
  public static final class BatchTranscriptionServiceFutureStub extends io.grpc.stub.AbstractFutureStub<BatchTranscriptionServiceFutureStub> {
    private BatchTranscriptionServiceFutureStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected BatchTranscriptionServiceFutureStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new BatchTranscriptionServiceFutureStub(channel, callOptions);
    }

    /**
     * <pre>
     * Creates a batch of transcriptions (upstream POST /v1/transcriptions/batch), express from
     * `audio_sources` or standard from a manifest's `batch_file_id`. Validated as described on
     * `CreateBatchRequest`; INVALID_ARGUMENT lists every violation. A standard batch whose manifest
     * does not exist, belongs to another credential or is not MANIFEST_STATUS_VALID is refused by
     * the upstream with 400: INVALID_ARGUMENT, reason UPSTREAM_REJECTED_REQUEST, with its message.
     * A retry with the same `request_id` returns the first call's response. A create sent upstream
     * whose answer did not come before the caller's deadline (or a shutdown) fails with reason
     * OUTCOME_UNKNOWN: it may exist; the same `request_id` gets its outcome.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<ai.sofer.batch.v1.CreateBatchResponse> createBatch(
        ai.sofer.batch.v1.CreateBatchRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getCreateBatchMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Uploads a manifest for a standard batch (upstream POST /v1/transcriptions/batch-files), given
     * as typed items or as JSONL. The upstream validates it asynchronously: poll `GetManifest` until
     * MANIFEST_STATUS_VALID. INVALID_ARGUMENT lists every violation in the items or JSONL lines.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<ai.sofer.batch.v1.UploadManifestResponse> uploadManifest(
        ai.sofer.batch.v1.UploadManifestRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getUploadManifestMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Creates a manifest from a podcast RSS feed's audio enclosures (upstream POST
     * /v1/transcriptions/batch-files/from-rss), one page at a time (`offset`, `limit`).
     * INVALID_ARGUMENT for a bad `rss_url` or range, or when the upstream cannot use the feed.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<ai.sofer.batch.v1.CreateManifestFromRssResponse> createManifestFromRss(
        ai.sofer.batch.v1.CreateManifestFromRssRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getCreateManifestFromRssMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Returns one manifest with its validation status (upstream GET
     * /v1/transcriptions/batch-files/{batch_file_id}). NOT_FOUND when it does not exist.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<ai.sofer.batch.v1.GetManifestResponse> getManifest(
        ai.sofer.batch.v1.GetManifestRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getGetManifestMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Lists the caller's manifests, newest first as the upstream orders them, in pages (AIP-158;
     * upstream GET /v1/transcriptions/batch-files with its `cursor`).
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<ai.sofer.batch.v1.ListManifestsResponse> listManifests(
        ai.sofer.batch.v1.ListManifestsRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getListManifestsMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Returns the current progress of a batch (upstream GET
     * /v1/transcriptions/batch/{batch_id}/status). NOT_FOUND when the batch does not exist.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<ai.sofer.batch.v1.GetBatchStatusResponse> getBatchStatus(
        ai.sofer.batch.v1.GetBatchStatusRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getGetBatchStatusMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Resolves a batch item's `client_item_id` to its transcription (upstream GET
     * /v1/transcriptions/batch/{batch_id}/items/by-client-item-id). NOT_FOUND when the batch or the
     * id within it does not exist.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<ai.sofer.batch.v1.GetBatchItemResponse> getBatchItem(
        ai.sofer.batch.v1.GetBatchItemRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getGetBatchItemMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Returns a transcript with word timestamps (upstream GET
     * /v1/transcriptions/{transcription_id}). NOT_FOUND when the transcription does not exist.
     * Meaningful once `GetTranscriptionStatus` says TRANSCRIPTION_STATE_COMPLETED.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<ai.sofer.batch.v1.GetTranscriptionResponse> getTranscription(
        ai.sofer.batch.v1.GetTranscriptionRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getGetTranscriptionMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Renders a transcript as a file (`format`): SRT or WebVTT captions, plain text, Markdown, a
     * Word document (DOCX, in `binary_content`) or JSON with the words. The transcript is read from
     * the upstream exactly as `GetTranscription` reads it (GET /v1/transcriptions/{transcription_id},
     * with the same `filter_hebrew_word_format`), through the gateway's transcript cache: a
     * completed transcript is fetched once per (credential, transcription, filter) while it is
     * kept (the cache `StreamBatchTranscripts` and `GetTranscription` read through as well), so N
     * formats of one transcript cost one upstream GET. The errors are `GetTranscription`'s: NOT_FOUND (reason TRANSCRIPTION_NOT_FOUND) when the transcription does
     * not exist for this credential, INVALID_ARGUMENT (UPSTREAM_REJECTED_REQUEST) for a FAILED one.
     * A transcription not completed yet is answered as `GetTranscription` answers it: OK, with its
     * `info.state`, no cues and an empty transcript (an SRT or text `content` of "", a WebVTT one of
     * just the header).
     * Caption cues are built from the word timestamps, in order: a cue starts at its first word's
     * `start` and ends at its last word's `end`, and the next cue begins at the first word that
     * would break one of these rules: a different `speaker`; a pause of more than 1 s since the
     * cue's last word ended; a cue longer than 7 s; text that no longer fits 2 lines of 42
     * characters (code points, speaker label included in SRT). The 42 and the 7 s are the
     * defaults of `caption_options`, which may change them, and leave speaker labels out. Lines break between words, at the
     * point that makes the longer line shortest; a single word too long for a line, or for 7 s,
     * gets a cue of its own. Words that overlap in time (the two forms of a Hebrew term when both
     * are asked for, or crosstalk) stay in one cue, so cues do not overlap, up to what one cue can
     * hold: overlapping words past 2 full lines go on in the next cue, which then overlaps it (a
     * transcript with thousands of words at one instant, only a broken one). A cue's text is its
     * words joined by spaces, with the punctuation of the transcript `text` when that text has
     * exactly one token per word (the word, with punctuation around it); transliteration markup
     * (`&lt;i&gt;`) is dropped. Hebrew and other right-to-left text is written in logical order, as the
     * transcript has it: no reversal, and no bidi control character except one U+200F
     * RIGHT-TO-LEFT MARK before an SRT speaker label whose cue text starts with a right-to-left
     * letter (so the line keeps the direction its text gives it). A transcript with text but no
     * word timestamps (or a time that is not a number, or is past a week: 604800 s) cannot be
     * timed: SRT and WebVTT fail FAILED_PRECONDITION (reason TRANSCRIPT_NOT_TIMED); TEXT, which
     * needs no timestamps, works.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<ai.sofer.batch.v1.ExportTranscriptionResponse> exportTranscription(
        ai.sofer.batch.v1.ExportTranscriptionRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getExportTranscriptionMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Returns a transcription's settings and state (upstream GET
     * /v1/transcriptions/{transcription_id}/status). NOT_FOUND when it does not exist.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<ai.sofer.batch.v1.GetTranscriptionStatusResponse> getTranscriptionStatus(
        ai.sofer.batch.v1.GetTranscriptionStatusRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getGetTranscriptionStatusMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Returns the account balance of the credential's key, in US cents (upstream GET
     * /v1/balance/). NOT_FOUND (reason ACCOUNT_NOT_FOUND) when the key has no account: nothing was
     * ever deposited.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<ai.sofer.batch.v1.GetBalanceResponse> getBalance(
        ai.sofer.batch.v1.GetBalanceRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getGetBalanceMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Estimates what a would-be batch or single transcription costs, before creating it: each
     * item's duration from the upstream (POST /v1/utils/duration, one request per distinct URL, a
     * few at once, all within the call's deadline) priced by the documented table (see
     * `EstimateCostResponse`). Creates nothing and costs nothing upstream but those reads. A
     * duration that cannot be read fails the call with that read's error (UNAVAILABLE,
     * RESOURCE_EXHAUSTED, ...). A manifest (`EstimateCostRequest.batch_file_id`) is priced from
     * its items as the gateway remembered them at `UploadManifest` (see the guards above); one it
     * does not know fails FAILED_PRECONDITION, reason COST_UNKNOWN (send its items as
     * `audio_sources` with COSTED_WORK_STANDARD_BATCH instead), and one it cannot read from Redis
     * UNAVAILABLE, reason BUDGET_STORE_UNAVAILABLE.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<ai.sofer.batch.v1.EstimateCostResponse> estimateCost(
        ai.sofer.batch.v1.EstimateCostRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getEstimateCostMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Lists the caller's transcriptions (batch items and single ones), newest first as the upstream
     * orders them, in pages (AIP-158) with optional filters, over the upstream's unpaged list (GET
     * /v1/transcriptions/). Cost upstream: a page is cut from one list GET, shared by identical
     * reads in flight and reused for the same credential for 10 seconds, so a caller walking every
     * page within that window costs one list GET in all, and at most one per 10 seconds however
     * slowly it walks; `states` and `title_contains` cost nothing upstream, `created_after` and
     * `created_before` a few status reads (see them). The list may thus be up to 10 seconds old.
     * INVALID_ARGUMENT on `page_size`, `title_contains`, `states`, `created_after`,
     * `created_before` or `page_token` (malformed, from another credential, or from a request with
     * other filters); FAILED_PRECONDITION (reason LIST_NOT_ORDERED) when a creation-time filter
     * finds the upstream's list out of creation order.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<ai.sofer.batch.v1.ListTranscriptionsResponse> listTranscriptions(
        ai.sofer.batch.v1.ListTranscriptionsRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getListTranscriptionsMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Resolves a page link of a supported site (a YouTube video, a Google Drive file, ...) to the
     * URL of its audio, with what the upstream says of it (upstream POST /v1/link/extract; it has
     * no side effect, so the gateway retries it like a read). Errors: a link of no supported site,
     * or no media page of one, INVALID_ARGUMENT (reason LINK_NOT_SUPPORTED, a field violation on
     * `url`); a page that does not exist NOT_FOUND (LINK_NOT_FOUND); a page whose audio the upstream
     * could not extract (its HTTP 500) FAILED_PRECONDITION (LINK_EXTRACTION_FAILED).
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<ai.sofer.batch.v1.ExtractLinkResponse> extractLink(
        ai.sofer.batch.v1.ExtractLinkRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getExtractLinkMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Lists the sites whose page links `ExtractLink` and `AudioSource.page_url` accept (upstream GET
     * /v1/link/sites).
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<ai.sofer.batch.v1.ListSupportedSitesResponse> listSupportedSites(
        ai.sofer.batch.v1.ListSupportedSitesRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getListSupportedSitesMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Creates one transcription of the audio at `audio_url` (upstream POST /v1/transcriptions/,
     * priced as a single transcription). With a `request_id` the transcription's id is derived from
     * it and the credential (a UUIDv5), and sent upstream as `info.id`: a retry with the same
     * `request_id` (after a lost answer, a deadline, a crash of the gateway, with or without Redis)
     * finds the transcription made the first time instead of paying for a second one, and answers
     * its id with the trailer `idempotent-replayed: true`. When the transcription found has another
     * title or language than the retry asks for, the call fails ALREADY_EXISTS (reason
     * REQUEST_ID_REUSED). Without a `request_id` the upstream picks the id and a retry creates (and
     * bills) a second transcription. Validated as described on `CreateTranscriptionRequest`;
     * INVALID_ARGUMENT lists every violation; the upstream's own refusals (a 400 or 422) are
     * INVALID_ARGUMENT, reason UPSTREAM_REJECTED_REQUEST. Other errors as for `CreateBatch`
     * (OUTCOME_UNKNOWN when the answer was lost: retry with the same `request_id`).
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<ai.sofer.batch.v1.CreateTranscriptionResponse> createTranscription(
        ai.sofer.batch.v1.CreateTranscriptionRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getCreateTranscriptionMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Registers an endpoint for the tenant's events; answers its id and its secret (the only time
     * the secret is shown). A retry with the same `request_id` answers the same endpoint and
     * secret. FAILED_PRECONDITION (reason WEBHOOK_LIMIT_REACHED) past 100 endpoints per tenant.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<ai.sofer.batch.v1.CreateWebhookResponse> createWebhook(
        ai.sofer.batch.v1.CreateWebhookRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getCreateWebhookMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Lists the tenant's endpoints (without secrets), oldest first.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<ai.sofer.batch.v1.ListWebhooksResponse> listWebhooks(
        ai.sofer.batch.v1.ListWebhooksRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getListWebhooksMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Deletes an endpoint: no more deliveries. NOT_FOUND (reason WEBHOOK_NOT_FOUND) when the tenant
     * has no such endpoint.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<ai.sofer.batch.v1.DeleteWebhookResponse> deleteWebhook(
        ai.sofer.batch.v1.DeleteWebhookRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getDeleteWebhookMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Replaces an endpoint's secret; the old one goes on signing beside it (two signatures in
     * `webhook-signature`) for `grace_seconds`, so receivers can switch without losing deliveries.
     * NOT_FOUND (WEBHOOK_NOT_FOUND) for an unknown endpoint.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<ai.sofer.batch.v1.RotateWebhookSecretResponse> rotateWebhookSecret(
        ai.sofer.batch.v1.RotateWebhookSecretRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getRotateWebhookSecretMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * An endpoint's recent delivery attempts, newest first (at most the last 100): each with its
     * event, time, HTTP status or error, and when the next attempt is due. NOT_FOUND
     * (WEBHOOK_NOT_FOUND) for an unknown endpoint.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<ai.sofer.batch.v1.ListWebhookDeliveriesResponse> listWebhookDeliveries(
        ai.sofer.batch.v1.ListWebhookDeliveriesRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getListWebhookDeliveriesMethod(), getCallOptions()), request);
    }
  }

  private static final int METHODID_CREATE_BATCH = 0;
  private static final int METHODID_UPLOAD_MANIFEST = 1;
  private static final int METHODID_CREATE_MANIFEST_FROM_RSS = 2;
  private static final int METHODID_GET_MANIFEST = 3;
  private static final int METHODID_LIST_MANIFESTS = 4;
  private static final int METHODID_GET_BATCH_STATUS = 5;
  private static final int METHODID_WATCH_BATCH_STATUS = 6;
  private static final int METHODID_STREAM_BATCH_TRANSCRIPTS = 7;
  private static final int METHODID_GET_BATCH_ITEM = 8;
  private static final int METHODID_GET_TRANSCRIPTION = 9;
  private static final int METHODID_EXPORT_TRANSCRIPTION = 10;
  private static final int METHODID_GET_TRANSCRIPTION_STATUS = 11;
  private static final int METHODID_GET_BALANCE = 12;
  private static final int METHODID_ESTIMATE_COST = 13;
  private static final int METHODID_LIST_TRANSCRIPTIONS = 14;
  private static final int METHODID_EXTRACT_LINK = 15;
  private static final int METHODID_LIST_SUPPORTED_SITES = 16;
  private static final int METHODID_CREATE_TRANSCRIPTION = 17;
  private static final int METHODID_WATCH_TRANSCRIPTION = 18;
  private static final int METHODID_WATCH_MANIFEST = 19;
  private static final int METHODID_CREATE_WEBHOOK = 20;
  private static final int METHODID_LIST_WEBHOOKS = 21;
  private static final int METHODID_DELETE_WEBHOOK = 22;
  private static final int METHODID_ROTATE_WEBHOOK_SECRET = 23;
  private static final int METHODID_LIST_WEBHOOK_DELIVERIES = 24;
  private static final int METHODID_UPLOAD_TRANSCRIPTION = 25;

  private static final class MethodHandlers<Req, Resp> implements
      io.grpc.stub.ServerCalls.UnaryMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.ServerStreamingMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.ClientStreamingMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.BidiStreamingMethod<Req, Resp> {
    private final BatchTranscriptionServiceImplBase serviceImpl;
    private final int methodId;

    MethodHandlers(BatchTranscriptionServiceImplBase serviceImpl, int methodId) {
      this.serviceImpl = serviceImpl;
      this.methodId = methodId;
    }

    @java.lang.Override
    @java.lang.SuppressWarnings("unchecked")
    public void invoke(Req request, io.grpc.stub.StreamObserver<Resp> responseObserver) {
      switch (methodId) {
        case METHODID_CREATE_BATCH:
          serviceImpl.createBatch((ai.sofer.batch.v1.CreateBatchRequest) request,
              (io.grpc.stub.StreamObserver<ai.sofer.batch.v1.CreateBatchResponse>) responseObserver);
          break;
        case METHODID_UPLOAD_MANIFEST:
          serviceImpl.uploadManifest((ai.sofer.batch.v1.UploadManifestRequest) request,
              (io.grpc.stub.StreamObserver<ai.sofer.batch.v1.UploadManifestResponse>) responseObserver);
          break;
        case METHODID_CREATE_MANIFEST_FROM_RSS:
          serviceImpl.createManifestFromRss((ai.sofer.batch.v1.CreateManifestFromRssRequest) request,
              (io.grpc.stub.StreamObserver<ai.sofer.batch.v1.CreateManifestFromRssResponse>) responseObserver);
          break;
        case METHODID_GET_MANIFEST:
          serviceImpl.getManifest((ai.sofer.batch.v1.GetManifestRequest) request,
              (io.grpc.stub.StreamObserver<ai.sofer.batch.v1.GetManifestResponse>) responseObserver);
          break;
        case METHODID_LIST_MANIFESTS:
          serviceImpl.listManifests((ai.sofer.batch.v1.ListManifestsRequest) request,
              (io.grpc.stub.StreamObserver<ai.sofer.batch.v1.ListManifestsResponse>) responseObserver);
          break;
        case METHODID_GET_BATCH_STATUS:
          serviceImpl.getBatchStatus((ai.sofer.batch.v1.GetBatchStatusRequest) request,
              (io.grpc.stub.StreamObserver<ai.sofer.batch.v1.GetBatchStatusResponse>) responseObserver);
          break;
        case METHODID_WATCH_BATCH_STATUS:
          serviceImpl.watchBatchStatus((ai.sofer.batch.v1.WatchBatchStatusRequest) request,
              (io.grpc.stub.StreamObserver<ai.sofer.batch.v1.WatchBatchStatusResponse>) responseObserver);
          break;
        case METHODID_STREAM_BATCH_TRANSCRIPTS:
          serviceImpl.streamBatchTranscripts((ai.sofer.batch.v1.StreamBatchTranscriptsRequest) request,
              (io.grpc.stub.StreamObserver<ai.sofer.batch.v1.StreamBatchTranscriptsResponse>) responseObserver);
          break;
        case METHODID_GET_BATCH_ITEM:
          serviceImpl.getBatchItem((ai.sofer.batch.v1.GetBatchItemRequest) request,
              (io.grpc.stub.StreamObserver<ai.sofer.batch.v1.GetBatchItemResponse>) responseObserver);
          break;
        case METHODID_GET_TRANSCRIPTION:
          serviceImpl.getTranscription((ai.sofer.batch.v1.GetTranscriptionRequest) request,
              (io.grpc.stub.StreamObserver<ai.sofer.batch.v1.GetTranscriptionResponse>) responseObserver);
          break;
        case METHODID_EXPORT_TRANSCRIPTION:
          serviceImpl.exportTranscription((ai.sofer.batch.v1.ExportTranscriptionRequest) request,
              (io.grpc.stub.StreamObserver<ai.sofer.batch.v1.ExportTranscriptionResponse>) responseObserver);
          break;
        case METHODID_GET_TRANSCRIPTION_STATUS:
          serviceImpl.getTranscriptionStatus((ai.sofer.batch.v1.GetTranscriptionStatusRequest) request,
              (io.grpc.stub.StreamObserver<ai.sofer.batch.v1.GetTranscriptionStatusResponse>) responseObserver);
          break;
        case METHODID_GET_BALANCE:
          serviceImpl.getBalance((ai.sofer.batch.v1.GetBalanceRequest) request,
              (io.grpc.stub.StreamObserver<ai.sofer.batch.v1.GetBalanceResponse>) responseObserver);
          break;
        case METHODID_ESTIMATE_COST:
          serviceImpl.estimateCost((ai.sofer.batch.v1.EstimateCostRequest) request,
              (io.grpc.stub.StreamObserver<ai.sofer.batch.v1.EstimateCostResponse>) responseObserver);
          break;
        case METHODID_LIST_TRANSCRIPTIONS:
          serviceImpl.listTranscriptions((ai.sofer.batch.v1.ListTranscriptionsRequest) request,
              (io.grpc.stub.StreamObserver<ai.sofer.batch.v1.ListTranscriptionsResponse>) responseObserver);
          break;
        case METHODID_EXTRACT_LINK:
          serviceImpl.extractLink((ai.sofer.batch.v1.ExtractLinkRequest) request,
              (io.grpc.stub.StreamObserver<ai.sofer.batch.v1.ExtractLinkResponse>) responseObserver);
          break;
        case METHODID_LIST_SUPPORTED_SITES:
          serviceImpl.listSupportedSites((ai.sofer.batch.v1.ListSupportedSitesRequest) request,
              (io.grpc.stub.StreamObserver<ai.sofer.batch.v1.ListSupportedSitesResponse>) responseObserver);
          break;
        case METHODID_CREATE_TRANSCRIPTION:
          serviceImpl.createTranscription((ai.sofer.batch.v1.CreateTranscriptionRequest) request,
              (io.grpc.stub.StreamObserver<ai.sofer.batch.v1.CreateTranscriptionResponse>) responseObserver);
          break;
        case METHODID_WATCH_TRANSCRIPTION:
          serviceImpl.watchTranscription((ai.sofer.batch.v1.WatchTranscriptionRequest) request,
              (io.grpc.stub.StreamObserver<ai.sofer.batch.v1.WatchTranscriptionResponse>) responseObserver);
          break;
        case METHODID_WATCH_MANIFEST:
          serviceImpl.watchManifest((ai.sofer.batch.v1.WatchManifestRequest) request,
              (io.grpc.stub.StreamObserver<ai.sofer.batch.v1.WatchManifestResponse>) responseObserver);
          break;
        case METHODID_CREATE_WEBHOOK:
          serviceImpl.createWebhook((ai.sofer.batch.v1.CreateWebhookRequest) request,
              (io.grpc.stub.StreamObserver<ai.sofer.batch.v1.CreateWebhookResponse>) responseObserver);
          break;
        case METHODID_LIST_WEBHOOKS:
          serviceImpl.listWebhooks((ai.sofer.batch.v1.ListWebhooksRequest) request,
              (io.grpc.stub.StreamObserver<ai.sofer.batch.v1.ListWebhooksResponse>) responseObserver);
          break;
        case METHODID_DELETE_WEBHOOK:
          serviceImpl.deleteWebhook((ai.sofer.batch.v1.DeleteWebhookRequest) request,
              (io.grpc.stub.StreamObserver<ai.sofer.batch.v1.DeleteWebhookResponse>) responseObserver);
          break;
        case METHODID_ROTATE_WEBHOOK_SECRET:
          serviceImpl.rotateWebhookSecret((ai.sofer.batch.v1.RotateWebhookSecretRequest) request,
              (io.grpc.stub.StreamObserver<ai.sofer.batch.v1.RotateWebhookSecretResponse>) responseObserver);
          break;
        case METHODID_LIST_WEBHOOK_DELIVERIES:
          serviceImpl.listWebhookDeliveries((ai.sofer.batch.v1.ListWebhookDeliveriesRequest) request,
              (io.grpc.stub.StreamObserver<ai.sofer.batch.v1.ListWebhookDeliveriesResponse>) responseObserver);
          break;
        default:
          throw new AssertionError();
      }
    }

    @java.lang.Override
    @java.lang.SuppressWarnings("unchecked")
    public io.grpc.stub.StreamObserver<Req> invoke(
        io.grpc.stub.StreamObserver<Resp> responseObserver) {
      switch (methodId) {
        case METHODID_UPLOAD_TRANSCRIPTION:
          return (io.grpc.stub.StreamObserver<Req>) serviceImpl.uploadTranscription(
              (io.grpc.stub.StreamObserver<ai.sofer.batch.v1.UploadTranscriptionResponse>) responseObserver);
        default:
          throw new AssertionError();
      }
    }
  }

  private static abstract class BatchTranscriptionServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoFileDescriptorSupplier, io.grpc.protobuf.ProtoServiceDescriptorSupplier {
    BatchTranscriptionServiceBaseDescriptorSupplier() {}

    @java.lang.Override
    public com.google.protobuf.Descriptors.FileDescriptor getFileDescriptor() {
      return ai.sofer.batch.v1.BatchServiceProto.getDescriptor();
    }

    @java.lang.Override
    public com.google.protobuf.Descriptors.ServiceDescriptor getServiceDescriptor() {
      return getFileDescriptor().findServiceByName("BatchTranscriptionService");
    }
  }

  private static final class BatchTranscriptionServiceFileDescriptorSupplier
      extends BatchTranscriptionServiceBaseDescriptorSupplier {
    BatchTranscriptionServiceFileDescriptorSupplier() {}
  }

  private static final class BatchTranscriptionServiceMethodDescriptorSupplier
      extends BatchTranscriptionServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoMethodDescriptorSupplier {
    private final String methodName;

    BatchTranscriptionServiceMethodDescriptorSupplier(String methodName) {
      this.methodName = methodName;
    }

    @java.lang.Override
    public com.google.protobuf.Descriptors.MethodDescriptor getMethodDescriptor() {
      return getServiceDescriptor().findMethodByName(methodName);
    }
  }

  private static volatile io.grpc.ServiceDescriptor serviceDescriptor;

  public static io.grpc.ServiceDescriptor getServiceDescriptor() {
    io.grpc.ServiceDescriptor result = serviceDescriptor;
    if (result == null) {
      synchronized (BatchTranscriptionServiceGrpc.class) {
        result = serviceDescriptor;
        if (result == null) {
          serviceDescriptor = result = io.grpc.ServiceDescriptor.newBuilder(SERVICE_NAME)
              .setSchemaDescriptor(new BatchTranscriptionServiceFileDescriptorSupplier())
              .addMethod(getCreateBatchMethod())
              .addMethod(getUploadManifestMethod())
              .addMethod(getCreateManifestFromRssMethod())
              .addMethod(getGetManifestMethod())
              .addMethod(getListManifestsMethod())
              .addMethod(getGetBatchStatusMethod())
              .addMethod(getWatchBatchStatusMethod())
              .addMethod(getStreamBatchTranscriptsMethod())
              .addMethod(getGetBatchItemMethod())
              .addMethod(getGetTranscriptionMethod())
              .addMethod(getExportTranscriptionMethod())
              .addMethod(getGetTranscriptionStatusMethod())
              .addMethod(getGetBalanceMethod())
              .addMethod(getEstimateCostMethod())
              .addMethod(getListTranscriptionsMethod())
              .addMethod(getExtractLinkMethod())
              .addMethod(getListSupportedSitesMethod())
              .addMethod(getCreateTranscriptionMethod())
              .addMethod(getUploadTranscriptionMethod())
              .addMethod(getWatchTranscriptionMethod())
              .addMethod(getWatchManifestMethod())
              .addMethod(getCreateWebhookMethod())
              .addMethod(getListWebhooksMethod())
              .addMethod(getDeleteWebhookMethod())
              .addMethod(getRotateWebhookSecretMethod())
              .addMethod(getListWebhookDeliveriesMethod())
              .build();
        }
      }
    }
    return result;
  }
}
