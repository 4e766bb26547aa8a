// Go interop client for sofer-gateway, from the generated Go code committed in generated/go/
// (protoc-gen-go, protoc-gen-go-grpc; import path sofer.ai/gateway/sofer/batch/v1) and Debian's
// grpc-go and genproto (GOPATH mode, Go 1.19).
//
// Usage: go run main.go ADDRESS
//
//	ADDRESS              host:port of a running gateway (e.g. 127.0.0.1:50051), plaintext
//	SOFER_GATEWAY_TOKEN  (environment) bearer token sent as `authorization: Bearer TOKEN`; unset or
//	                     empty to rely on the gateway's configured key. It is never printed.
//
// The channel carries the README's retry service config (UNAVAILABLE retried for reads and
// creates); grpc-go before 1.40 applies it only when GRPC_GO_RETRY=on.
//
// Steps, one "ok ..." line each: CreateBatch (express, with a request_id), the same CreateBatch
// again (the retry answers the first batch), GetBatchStatus, WatchBatchStatus to the end (the
// first message is the full current status, completed_count never goes down, the stream ends OK
// right after COMPLETED; bounded by SOFER_INTEROP_TIMEOUT_S, default 30 s), and an invalid
// CreateBatch (INVALID_ARGUMENT, its ErrorInfo and BadRequest read with status.FromError).
//
// Exit 0 only if every check passed; otherwise exit 1 with a "FAIL ..." line saying why.
package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	pb "sofer.ai/gateway/sofer/batch/v1"
)

const (
	service     = "sofer.batch.v1.BatchTranscriptionService"
	domain      = "sofer-gateway"
	callTimeout = 10 * time.Second
)

// The README's service config (Quick start): UNAVAILABLE retried for the seven reads and, because
// each carries a request_id that gRPC resends unchanged, for the three creates.
var serviceConfig = `{"methodConfig": [
  {"name": [` + names("GetBatchStatus", "GetBatchItem", "GetTranscription",
	"GetTranscriptionStatus", "GetManifest", "ListManifests", "ExportTranscription") + `],
   "retryPolicy": ` + retryPolicy + `},
  {"name": [` + names("CreateBatch", "UploadManifest", "CreateManifestFromRss") + `],
   "retryPolicy": ` + retryPolicy + `}]}`

const retryPolicy = `{"maxAttempts": 5, "initialBackoff": "0.2s", "maxBackoff": "5s",
  "backoffMultiplier": 2, "retryableStatusCodes": ["UNAVAILABLE"]}`

func names(methods ...string) string {
	quoted := make([]string, len(methods))
	for i, method := range methods {
		quoted[i] = fmt.Sprintf(`{"service": %q, "method": %q}`, service, method)
	}
	return strings.Join(quoted, ", ")
}

type checkFailed struct{ what string }

func check(condition bool, format string, args ...interface{}) {
	if !condition {
		panic(checkFailed{fmt.Sprintf(format, args...)})
	}
}

// must fails the run when a call that should succeed returned an error, naming the call.
func must(method string, err error) {
	if err != nil {
		st := status.Convert(err)
		panic(checkFailed{fmt.Sprintf("%s failed: %s: %s", method, st.Code(), st.Message())})
	}
}

func step(name, format string, args ...interface{}) {
	fmt.Printf("ok   %s: %s\n", name, fmt.Sprintf(format, args...))
}

func uuid4() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: main ADDRESS (token in SOFER_GATEWAY_TOKEN)")
		os.Exit(2)
	}
	conn, err := grpc.Dial(os.Args[1], grpc.WithInsecure(), grpc.WithDefaultServiceConfig(serviceConfig))
	if err != nil {
		fmt.Printf("FAIL dial %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
	defer conn.Close()
	ctx := context.Background()
	if token := os.Getenv("SOFER_GATEWAY_TOKEN"); token != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
	}
	if failed := run(ctx, pb.NewBatchTranscriptionServiceClient(conn)); failed != "" {
		fmt.Println("FAIL " + failed)
		os.Exit(1)
	}
	fmt.Println("PASS go interop: every check passed")
}

// run drives every step; the reason of the first failed check, or "".
func run(ctx context.Context, client pb.BatchTranscriptionServiceClient) (failed string) {
	defer func() {
		if r := recover(); r != nil {
			failure, ok := r.(checkFailed)
			if !ok {
				panic(r)
			}
			failed = failure.what
		}
	}()
	created, transcriptionIds := createTwice(ctx, client)
	first := getStatus(ctx, client, created)
	watchToTheEnd(ctx, client, created, transcriptionIds, first)
	invalidCreate(ctx, client)
	return ""
}

// 1. CreateBatch with a request_id (AIP-155), then the same request again: one batch.
func createTwice(ctx context.Context, client pb.BatchTranscriptionServiceClient) (*pb.CreateBatchResponse, []string) {
	tag := uuid4()[:8]
	request := &pb.CreateBatchRequest{
		RequestId:      uuid4(),
		Info:           &pb.BatchInfo{PrimaryLanguage: pb.Language_LANGUAGE_HE},
		BatchTitle:     "go interop " + tag,
		ProcessingMode: pb.ProcessingMode_PROCESSING_MODE_EXPRESS,
	}
	for n := 1; n <= 3; n++ {
		request.AudioSources = append(request.AudioSources, &pb.AudioSource{
			AudioUrl:     fmt.Sprintf("https://example.com/interop-go/%s/shiur-%d.mp3", tag, n),
			ClientItemId: fmt.Sprintf("go-%s-%d", tag, n),
		})
	}
	total := int32(len(request.AudioSources))
	call, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	created, err := client.CreateBatch(call, request)
	must("CreateBatch", err)
	check(created.BatchId != "", "CreateBatch: empty batch_id")
	check(created.TotalCount == total, "CreateBatch: total_count %d, want %d", created.TotalCount, total)
	check(len(created.TranscriptionIds) == int(total), "CreateBatch: %d transcription_ids, want %d", len(created.TranscriptionIds), total)
	check(created.ProcessingMode == pb.ProcessingMode_PROCESSING_MODE_EXPRESS, "CreateBatch: processing_mode %s, want EXPRESS", created.ProcessingMode)
	step("CreateBatch", "batch_id=%s total_count=%d state=%s", created.BatchId, created.TotalCount, created.State)

	retried, err := client.CreateBatch(call, request)
	must("CreateBatch(retry)", err)
	check(retried.BatchId == created.BatchId, "CreateBatch retry with the same request_id: batch_id %s, want %s", retried.BatchId, created.BatchId)
	step("CreateBatch(retry)", "same request_id -> same batch_id=%s", retried.BatchId)
	return created, created.TranscriptionIds
}

// 2. GetBatchStatus.
func getStatus(ctx context.Context, client pb.BatchTranscriptionServiceClient, created *pb.CreateBatchResponse) *pb.BatchStatus {
	call, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	got, err := client.GetBatchStatus(call, &pb.GetBatchStatusRequest{BatchId: created.BatchId})
	must("GetBatchStatus", err)
	current := got.BatchStatus
	check(current != nil, "GetBatchStatus: no batch_status")
	check(current.BatchId == created.BatchId, "GetBatchStatus: batch_id %s, want %s", current.BatchId, created.BatchId)
	check(current.TotalCount == created.TotalCount, "GetBatchStatus: total_count %d, want %d", current.TotalCount, created.TotalCount)
	check(current.State != pb.BatchState_BATCH_STATE_UNSPECIFIED, "GetBatchStatus: state UNSPECIFIED")
	check(current.ObservedAt != nil, "GetBatchStatus: observed_at not set")
	step("GetBatchStatus", "state=%s completed_count=%d/%d", current.State, current.CompletedCount, current.TotalCount)
	return current
}

// 3. WatchBatchStatus to the end: the current status first, then every change, then OK.
func watchToTheEnd(ctx context.Context, client pb.BatchTranscriptionServiceClient, created *pb.CreateBatchResponse, ids []string, before *pb.BatchStatus) {
	seconds, err := strconv.ParseFloat(os.Getenv("SOFER_INTEROP_TIMEOUT_S"), 64)
	if err != nil {
		seconds = 30
	}
	call, cancel := context.WithTimeout(ctx, time.Duration(seconds*float64(time.Second)))
	defer cancel()
	started := time.Now()
	stream, err := client.WatchBatchStatus(call, &pb.WatchBatchStatusRequest{BatchId: created.BatchId})
	must("WatchBatchStatus", err)
	var messages []*pb.BatchStatus
	var counts []string
	for {
		response, err := stream.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			must(fmt.Sprintf("WatchBatchStatus after %d messages", len(messages)), err)
		}
		update := response.BatchStatus
		check(update != nil, "WatchBatchStatus: message %d has no batch_status", len(messages)+1)
		check(update.State != pb.BatchState_BATCH_STATE_FAILED, "batch %s FAILED", created.BatchId)
		if len(messages) == 0 {
			check(update.BatchId == created.BatchId, "WatchBatchStatus: batch_id %s, want %s", update.BatchId, created.BatchId)
			check(len(update.Transcriptions) == len(ids), "WatchBatchStatus: first message lists %d transcriptions, want %d", len(update.Transcriptions), len(ids))
			check(sameSet(update.ChangedTranscriptionIds, ids), "WatchBatchStatus: the first message's changed_transcription_ids %v are not every transcription id %v", update.ChangedTranscriptionIds, ids)
			check(update.CompletedCount >= before.CompletedCount && !update.ObservedAt.AsTime().Before(before.ObservedAt.AsTime()),
				"WatchBatchStatus: the first message (%d completed) is older than GetBatchStatus (%d)", update.CompletedCount, before.CompletedCount)
		} else {
			previous := messages[len(messages)-1]
			check(previous.State != pb.BatchState_BATCH_STATE_COMPLETED, "WatchBatchStatus: a message after BATCH_STATE_COMPLETED")
			check(update.CompletedCount >= previous.CompletedCount, "WatchBatchStatus: completed_count went down from %d to %d", previous.CompletedCount, update.CompletedCount)
		}
		messages = append(messages, update)
		counts = append(counts, strconv.Itoa(int(update.CompletedCount)))
	}
	check(len(messages) > 0, "WatchBatchStatus: the stream ended without a message")
	last := messages[len(messages)-1]
	check(last.State == pb.BatchState_BATCH_STATE_COMPLETED, "WatchBatchStatus: ended OK in %s, want BATCH_STATE_COMPLETED", last.State)
	check(last.CompletedCount == created.TotalCount, "WatchBatchStatus: completed_count %d at the end, want %d", last.CompletedCount, created.TotalCount)
	step("WatchBatchStatus", "%d messages, completed_count %s, ended OK after BATCH_STATE_COMPLETED in %.1fs",
		len(messages), strings.Join(counts, " -> "), time.Since(started).Seconds())
}

func sameSet(a, b []string) bool {
	x, y := append([]string(nil), a...), append([]string(nil), b...)
	sort.Strings(x)
	sort.Strings(y)
	return strings.Join(x, ",") == strings.Join(y, ",")
}

// 4. An invalid CreateBatch: no info, a URL that is not http(s), a repeated client_item_id and
// num_speakers 0. INVALID_ARGUMENT, its ErrorInfo and BadRequest decoded by grpc's status package.
func invalidCreate(ctx context.Context, client pb.BatchTranscriptionServiceClient) {
	call, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	_, err := client.CreateBatch(call, &pb.CreateBatchRequest{
		RequestId:      uuid4(),
		ProcessingMode: pb.ProcessingMode_PROCESSING_MODE_EXPRESS,
		AudioSources: []*pb.AudioSource{
			{AudioUrl: "ftp://example.com/a.mp3", ClientItemId: "a"},
			{AudioUrl: "https://example.com/b.mp3", ClientItemId: "b"},
			{AudioUrl: "https://example.com/c.mp3", ClientItemId: "b", Speakers: &pb.AudioSource_NumSpeakers{NumSpeakers: 0}},
		},
	})
	check(err != nil, "invalid CreateBatch succeeded; want INVALID_ARGUMENT")
	st, ok := status.FromError(err)
	check(ok, "invalid CreateBatch: %v is not a gRPC status", err)
	check(st.Code() == codes.InvalidArgument, "invalid CreateBatch: %s: %s; want InvalidArgument", st.Code(), st.Message())
	var info *errdetails.ErrorInfo
	var badRequest *errdetails.BadRequest
	for _, detail := range st.Details() {
		switch d := detail.(type) {
		case *errdetails.ErrorInfo:
			info = d
		case *errdetails.BadRequest:
			badRequest = d
		case error:
			check(false, "invalid CreateBatch: a detail does not decode: %v", d)
		}
	}
	check(info != nil, "invalid CreateBatch: no ErrorInfo among %d details", len(st.Details()))
	check(info.GetReason() == "REQUEST_INVALID", "ErrorInfo.reason %s, want REQUEST_INVALID", info.GetReason())
	check(info.GetDomain() == domain, "ErrorInfo.domain %s, want %s", info.GetDomain(), domain)
	step("CreateBatch(invalid)", "InvalidArgument ErrorInfo(reason=%s, domain=%s)", info.GetReason(), info.GetDomain())

	check(badRequest != nil, "invalid CreateBatch: no BadRequest among %d details", len(st.Details()))
	var fields []string
	for _, violation := range badRequest.GetFieldViolations() {
		check(violation.GetDescription() != "", "the BadRequest violation of %s has no description", violation.GetField())
		fields = append(fields, violation.GetField())
	}
	want := []string{"info", "audio_sources[0].audio_url", "audio_sources[2].num_speakers", "audio_sources[2].client_item_id"}
	check(sameSet(fields, want), "BadRequest field violations %v, want %v", fields, want)
	step("BadRequest", "%s", strings.Join(fields, " "))
}
