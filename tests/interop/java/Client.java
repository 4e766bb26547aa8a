// Java interop client for sofer-gateway: proves the contract works from grpc-java with the
// generated code of generated/java/ (ai.sofer.batch.v1) and the google.rpc error model
// (com.google.rpc, proto-google-common-protos).
//
// Usage: java -cp CLASSPATH Client ADDRESS
//   ADDRESS  host:port of a running gateway (e.g. 127.0.0.1:50051)
//   SOFER_GATEWAY_TOKEN (environment): the bearer token, sent as call credentials
//            (`authorization: Bearer ...`, never printed); unset or empty: none, the gateway's
//            own key is used (e.g. the embedded sandbox of `sofer-gateway serve`)
//
// Steps, one output line each: CreateBatch (express, with a request_id), the same CreateBatch
// again (the same request_id: the same batch_id), GetBatchStatus, WatchBatchStatus to COMPLETED
// (the first message is the current status, completed_count never goes down, the stream ends OK
// right after COMPLETED), and an invalid CreateBatch whose google.rpc.Status is read with
// io.grpc.protobuf.StatusProto: its ErrorInfo (REQUEST_INVALID, domain sofer-gateway) and its
// BadRequest field violations. The channel carries the README's retry service config.
//
// Exit 0 only if every check passed; otherwise exit 1 with a "FAIL ..." line saying why.

import ai.sofer.batch.v1.AudioSource;
import ai.sofer.batch.v1.BatchInfo;
import ai.sofer.batch.v1.BatchState;
import ai.sofer.batch.v1.BatchStatus;
import ai.sofer.batch.v1.BatchTranscriptionServiceGrpc;
import ai.sofer.batch.v1.BatchTranscriptionServiceGrpc.BatchTranscriptionServiceBlockingStub;
import ai.sofer.batch.v1.CreateBatchRequest;
import ai.sofer.batch.v1.CreateBatchResponse;
import ai.sofer.batch.v1.GetBatchStatusRequest;
import ai.sofer.batch.v1.Language;
import ai.sofer.batch.v1.ProcessingMode;
import ai.sofer.batch.v1.WatchBatchStatusRequest;
import ai.sofer.batch.v1.WatchBatchStatusResponse;
import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.BadRequest;
import com.google.rpc.ErrorInfo;
import io.grpc.CallCredentials;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

public final class Client {
  static final String SERVICE = "sofer.batch.v1.BatchTranscriptionService";
  static final String DOMAIN = "sofer-gateway";
  static final long CALL_DEADLINE_S = 10;
  static final long WATCH_DEADLINE_S = 60;

  static final class CheckFailed extends RuntimeException {
    private static final long serialVersionUID = 1L;

    CheckFailed(String what) {
      super(what);
    }
  }

  static void check(boolean condition, String what) {
    if (!condition) {
      throw new CheckFailed(what);
    }
  }

  static void step(String name, String text) {
    System.out.println("ok   " + name + ": " + text);
  }

  /**
   * The README's retry service config: gRPC retries UNAVAILABLE for the reads and the creates
   * (a create only because it carries a request_id, which every attempt resends). grpc-java
   * takes JSON numbers as Double.
   */
  static Map<String, ?> serviceConfig() {
    Map<String, ?> retry =
        Map.of(
            "maxAttempts", 5.0,
            "initialBackoff", "0.2s",
            "maxBackoff", "5s",
            "backoffMultiplier", 2.0,
            "retryableStatusCodes", List.of("UNAVAILABLE"));
    List<Map<String, String>> names =
        Stream.of(
                "GetBatchStatus", "GetBatchItem", "GetTranscription", "GetTranscriptionStatus",
                "GetManifest", "ListManifests", "ExportTranscription",
                "CreateBatch", "UploadManifest", "CreateManifestFromRss")
            .map(method -> Map.of("service", SERVICE, "method", method))
            .collect(Collectors.toList());
    return Map.of("methodConfig", List.of(Map.of("name", names, "retryPolicy", retry)));
  }

  /** `authorization: Bearer TOKEN` on every call; the token itself is never printed. */
  static final class BearerToken extends CallCredentials {
    private static final Metadata.Key<String> AUTHORIZATION =
        Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
    private final String token;

    BearerToken(String token) {
      this.token = token;
    }

    @Override
    public void applyRequestMetadata(RequestInfo info, Executor executor, MetadataApplier applier) {
      Metadata headers = new Metadata();
      headers.put(AUTHORIZATION, "Bearer " + token);
      applier.apply(headers);
    }

    @Override
    public void thisUsesUnstableApi() {}
  }

  static String describe(StatusRuntimeException e) {
    Status status = e.getStatus();
    return status.getCode() + ": " + status.getDescription();
  }

  static CreateBatchRequest expressBatch(String label, int count) {
    String tag = UUID.randomUUID().toString().substring(0, 8);
    CreateBatchRequest.Builder request =
        CreateBatchRequest.newBuilder()
            .setRequestId(UUID.randomUUID().toString())
            .setInfo(BatchInfo.newBuilder().setPrimaryLanguage(Language.LANGUAGE_HE))
            .setBatchTitle("java interop " + label + " " + tag)
            .setProcessingMode(ProcessingMode.PROCESSING_MODE_EXPRESS);
    for (int n = 1; n <= count; n++) {
      request.addAudioSources(
          AudioSource.newBuilder()
              .setAudioUrl("https://example.com/interop/" + tag + "/" + label + "-" + n + ".mp3")
              .setClientItemId("java-" + tag + "-" + label + "-" + n));
    }
    return request.build();
  }

  public static void main(String[] args) {
    if (args.length != 1) {
      System.err.println("usage: java -cp CLASSPATH Client ADDRESS");
      System.exit(2);
    }
    ManagedChannel channel =
        ManagedChannelBuilder.forTarget(args[0])
            .usePlaintext()
            .defaultServiceConfig(serviceConfig())
            .enableRetry()
            .build();
    int code = 1;
    try {
      BatchTranscriptionServiceBlockingStub stub =
          BatchTranscriptionServiceGrpc.newBlockingStub(channel);
      String token = System.getenv().getOrDefault("SOFER_GATEWAY_TOKEN", "");
      if (!token.isEmpty()) {
        stub = stub.withCallCredentials(new BearerToken(token));
      }
      step("channel", "plaintext to " + args[0] + " with the retry service config"
          + (token.isEmpty() ? ", no token" : ", bearer token from SOFER_GATEWAY_TOKEN"));
      run(stub);
      System.out.println("PASS java interop: every check passed");
      code = 0;
    } catch (CheckFailed e) {
      System.out.println("FAIL " + e.getMessage());
    } catch (StatusRuntimeException e) {
      System.out.println("FAIL unexpected RPC error: " + describe(e));
    } catch (Exception e) {
      System.out.println("FAIL unexpected error: " + e);
      e.printStackTrace(System.out);
    } finally {
      channel.shutdownNow();
    }
    System.exit(code);
  }

  static BatchTranscriptionServiceBlockingStub withDeadline(
      BatchTranscriptionServiceBlockingStub stub, long seconds) {
    return stub.withDeadlineAfter(seconds, TimeUnit.SECONDS);
  }

  static void run(BatchTranscriptionServiceBlockingStub stub) throws Exception {
    // 1. CreateBatch with a request_id, then the very same request again: the same batch.
    CreateBatchRequest request = expressBatch("create", 3);
    CreateBatchResponse created = withDeadline(stub, CALL_DEADLINE_S).createBatch(request);
    check(!created.getBatchId().isEmpty(), "CreateBatch: empty batch_id");
    check(created.getTotalCount() == 3,
        "CreateBatch: total_count " + created.getTotalCount() + ", want 3");
    check(created.getTranscriptionIdsCount() == 3,
        "CreateBatch: " + created.getTranscriptionIdsCount() + " transcription_ids, want 3");
    step("CreateBatch", "batch_id=" + created.getBatchId()
        + " total_count=" + created.getTotalCount() + " state=" + created.getState());
    CreateBatchResponse again = withDeadline(stub, CALL_DEADLINE_S).createBatch(request);
    check(again.getBatchId().equals(created.getBatchId()),
        "CreateBatch(same request_id): batch_id " + again.getBatchId()
            + ", want " + created.getBatchId());
    check(again.getTranscriptionIdsList().equals(created.getTranscriptionIdsList()),
        "CreateBatch(same request_id): other transcription_ids");
    step("CreateBatch(same request_id)", "the same batch_id " + again.getBatchId());

    // 2. GetBatchStatus.
    BatchStatus first = withDeadline(stub, CALL_DEADLINE_S)
        .getBatchStatus(GetBatchStatusRequest.newBuilder().setBatchId(created.getBatchId()).build())
        .getBatchStatus();
    check(first.getBatchId().equals(created.getBatchId()),
        "GetBatchStatus: batch_id " + first.getBatchId());
    check(first.getTotalCount() == 3,
        "GetBatchStatus: total_count " + first.getTotalCount() + ", want 3");
    check(first.getState() != BatchState.BATCH_STATE_UNSPECIFIED,
        "GetBatchStatus: state UNSPECIFIED");
    check(first.hasObservedAt() && first.getObservedAt().getSeconds() > 0,
        "GetBatchStatus: observed_at not set");
    step("GetBatchStatus", "state=" + first.getState() + " completed_count="
        + first.getCompletedCount() + "/" + first.getTotalCount());

    watchToCompleted(stub, created, first);
    invalidRequest(stub);
  }

  // 3. WatchBatchStatus until COMPLETED: the current status first, completed_count never down,
  // the stream ends OK right after the terminal state.
  static void watchToCompleted(
      BatchTranscriptionServiceBlockingStub stub, CreateBatchResponse created, BatchStatus before) {
    long started = System.nanoTime();
    List<BatchStatus> messages = new ArrayList<>();
    Iterator<WatchBatchStatusResponse> stream = withDeadline(stub, WATCH_DEADLINE_S)
        .watchBatchStatus(
            WatchBatchStatusRequest.newBuilder().setBatchId(created.getBatchId()).build());
    try {
      while (stream.hasNext()) {
        messages.add(stream.next().getBatchStatus());
      }
    } catch (StatusRuntimeException e) {
      throw new CheckFailed("WatchBatchStatus ended " + describe(e) + " after " + messages.size()
          + " messages; want OK");
    }
    check(!messages.isEmpty(), "WatchBatchStatus: the stream ended without a message");
    BatchStatus head = messages.get(0);
    check(head.getBatchId().equals(created.getBatchId()),
        "WatchBatchStatus: batch_id " + head.getBatchId());
    check(head.getTranscriptionsCount() == created.getTranscriptionIdsCount(),
        "WatchBatchStatus: the first message lists " + head.getTranscriptionsCount()
            + " transcriptions");
    check(new HashSet<>(head.getChangedTranscriptionIdsList())
            .equals(new HashSet<>(created.getTranscriptionIdsList())),
        "WatchBatchStatus: the first message's changed_transcription_ids"
            + " are not every transcription id");
    check(head.getCompletedCount() >= before.getCompletedCount(),
        "WatchBatchStatus: the first message has " + head.getCompletedCount()
            + " completed, GetBatchStatus before it had " + before.getCompletedCount());
    List<String> counts = new ArrayList<>();
    for (int i = 0; i < messages.size(); i++) {
      BatchStatus message = messages.get(i);
      counts.add(String.valueOf(message.getCompletedCount()));
      if (i > 0) {
        check(message.getCompletedCount() >= messages.get(i - 1).getCompletedCount(),
            "WatchBatchStatus: completed_count went down at message " + (i + 1));
      }
      boolean terminal = message.getState() == BatchState.BATCH_STATE_COMPLETED
          || message.getState() == BatchState.BATCH_STATE_FAILED;
      check(!terminal || i == messages.size() - 1,
          "WatchBatchStatus: a message after the terminal state " + message.getState());
    }
    BatchStatus last = messages.get(messages.size() - 1);
    check(last.getState() == BatchState.BATCH_STATE_COMPLETED,
        "WatchBatchStatus: ended in " + last.getState() + ", want BATCH_STATE_COMPLETED");
    check(last.getCompletedCount() == created.getTotalCount(),
        "WatchBatchStatus: completed_count " + last.getCompletedCount() + " at the end");
    double seconds = (System.nanoTime() - started) / 1e9;
    step("WatchBatchStatus", messages.size() + " messages, completed_count "
        + String.join(" -> ", counts) + ", ended OK after COMPLETED in "
        + String.format("%.1f", seconds) + "s");
  }

  // 4. An invalid CreateBatch: INVALID_ARGUMENT whose google.rpc.Status carries an ErrorInfo
  // (REQUEST_INVALID) and a BadRequest naming each field, read with StatusProto and Any.unpack.
  static void invalidRequest(BatchTranscriptionServiceBlockingStub stub)
      throws InvalidProtocolBufferException {
    CreateBatchRequest invalid =
        CreateBatchRequest.newBuilder()
            .setRequestId(UUID.randomUUID().toString())
            .setProcessingMode(ProcessingMode.PROCESSING_MODE_EXPRESS)
            .addAudioSources(AudioSource.newBuilder()
                .setAudioUrl("ftp://example.com/a.mp3").setClientItemId("a"))
            .addAudioSources(AudioSource.newBuilder()
                .setAudioUrl("https://example.com/b.mp3").setClientItemId("b"))
            .addAudioSources(AudioSource.newBuilder()
                .setAudioUrl("https://example.com/c.mp3").setClientItemId("b").setNumSpeakers(0))
            .build();
    StatusRuntimeException failure = null;
    try {
      withDeadline(stub, CALL_DEADLINE_S).createBatch(invalid);
    } catch (StatusRuntimeException e) {
      failure = e;
    }
    check(failure != null, "invalid CreateBatch succeeded; want INVALID_ARGUMENT");
    check(failure.getStatus().getCode() == Status.Code.INVALID_ARGUMENT,
        "invalid CreateBatch: " + describe(failure) + "; want INVALID_ARGUMENT");
    com.google.rpc.Status rich = StatusProto.fromThrowable(failure);
    check(rich != null, "invalid CreateBatch: no google.rpc.Status (grpc-status-details-bin)");
    check(rich.getCode() == Status.Code.INVALID_ARGUMENT.value(),
        "google.rpc.Status.code " + rich.getCode());
    check(rich.getMessage().equals(failure.getStatus().getDescription()),
        "google.rpc.Status.message differs from the status message");
    ErrorInfo info = null;
    BadRequest badRequest = null;
    List<String> types = new ArrayList<>();
    for (Any detail : rich.getDetailsList()) {
      types.add(detail.getTypeUrl());
      if (detail.is(ErrorInfo.class)) {
        info = detail.unpack(ErrorInfo.class);
      } else if (detail.is(BadRequest.class)) {
        badRequest = detail.unpack(BadRequest.class);
      }
    }
    check(info != null, "no google.rpc.ErrorInfo among details " + types);
    check(info.getReason().equals("REQUEST_INVALID"),
        "ErrorInfo.reason " + info.getReason() + ", want REQUEST_INVALID");
    check(info.getDomain().equals(DOMAIN),
        "ErrorInfo.domain " + info.getDomain() + ", want " + DOMAIN);
    check(badRequest != null, "no google.rpc.BadRequest among details " + types);
    List<String> got = badRequest.getFieldViolationsList().stream()
        .map(v -> v.getField() + ":" + v.getReason())
        .collect(Collectors.toList());
    Set<String> want = Set.of(
        "info:REQUIRED",
        "audio_sources[0].audio_url:INVALID_URL",
        "audio_sources[2].num_speakers:OUT_OF_RANGE",
        "audio_sources[2].client_item_id:DUPLICATE");
    check(got.size() == want.size() && new HashSet<>(got).equals(want),
        "BadRequest violations " + got + ", want " + want);
    check(badRequest.getFieldViolationsList().stream().noneMatch(v -> v.getDescription().isEmpty()),
        "a BadRequest field violation has no description");
    step("CreateBatch(invalid)", "INVALID_ARGUMENT ErrorInfo(reason=" + info.getReason()
        + ", domain=" + info.getDomain() + ")");
    step("BadRequest", String.join(" ", got));
  }
}
