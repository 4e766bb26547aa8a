#!/usr/bin/env node
// Interop client for sofer-gateway from the generated TypeScript client: generated/ts/ (buf
// generate with protoc-gen-es, protobuf-es v2: messages, enums and the service descriptor, as
// ES modules with .d.ts beside them) driven by @connectrpc/connect over the gRPC transport of
// @connectrpc/connect-node. Plain ESM JavaScript, so Node 20 runs it without a TypeScript compiler;
// a TypeScript caller imports the same files and gets the types from the .d.ts.
//
// Usage: node tests/interop/ts/client.mjs ADDRESS [TOKEN]
//   ADDRESS  host:port of a running gateway (e.g. 127.0.0.1:50051), plaintext
//   TOKEN    bearer token sent as `authorization: Bearer TOKEN`; omit it (or pass "") to rely
//            on the gateway's configured key (e.g. the embedded sandbox of `sofer-gateway serve`)
//
// Steps, one "ok ..." line each: CreateBatch (express, with a request_id), the same CreateBatch
// again (the retry answers the first batch), GetBatchStatus, WatchBatchStatus to the end (the
// first message is the full current status, completed_count never goes down, the stream ends OK
// right after COMPLETED; bounded by SOFER_INTEROP_TIMEOUT_S, default 30 s), and an invalid
// CreateBatch (INVALID_ARGUMENT with ErrorInfo and BadRequest details).
//
// Exit 0 only if every check passed; otherwise exit 1 with a "FAIL ..." line saying why.

import { randomUUID } from "node:crypto";

import { timestampMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";

import { BatchState, Language, ProcessingMode } from "../../../generated/ts/sofer/batch/v1/batch_pb.js";
import { BatchTranscriptionService } from "../../../generated/ts/sofer/batch/v1/batch_service_pb.js";

const TIMEOUT_S = Number(process.env.SOFER_INTEROP_TIMEOUT_S ?? "30");
const CALL_TIMEOUT_MS = 10_000;

class CheckFailed extends Error {}

function check(condition, what) {
  if (!condition) throw new CheckFailed(what);
}

function step(name, text) {
  console.log(`ok   ${name}: ${text}`);
}

const stateName = (state) => `BATCH_STATE_${BatchState[state]}`;

async function call(method, promise) {
  try {
    return await promise;
  } catch (err) {
    if (err instanceof CheckFailed) throw err;
    const error = ConnectError.from(err);
    throw new CheckFailed(`${method} failed: ${Code[error.code]}: ${error.rawMessage}`);
  }
}

async function main() {
  const [address, token = ""] = process.argv.slice(2);
  if (!address) {
    console.error("usage: node tests/interop/ts/client.mjs ADDRESS [TOKEN]");
    process.exit(2);
  }
  // gRPC over HTTP/2 without TLS (prior knowledge), as the gateway serves it on loopback.
  const transport = createGrpcTransport({ baseUrl: `http://${address}` });
  const client = createClient(BatchTranscriptionService, transport);
  const headers = token ? { authorization: `Bearer ${token}` } : {};
  await run(client, headers);
}

async function run(client, headers) {
  const options = () => ({ headers, timeoutMs: CALL_TIMEOUT_MS });

  // 1. CreateBatch with a request_id (AIP-155), then the same request again: one batch.
  const tag = randomUUID().slice(0, 8);
  const request = {
    requestId: randomUUID(),
    info: { primaryLanguage: Language.HE, speakers: { case: "autoDetectSpeakers", value: true } },
    batchTitle: `ts interop ${tag}`,
    processingMode: ProcessingMode.EXPRESS,
    audioSources: [1, 2, 3].map((n) => ({
      audioUrl: `https://example.com/interop-ts/${tag}/shiur-${n}.mp3`,
      clientItemId: `ts-${tag}-${n}`,
    })),
  };
  const total = request.audioSources.length;
  const created = await call("CreateBatch", client.createBatch(request, options()));
  check(created.batchId.length > 0, "CreateBatch: empty batch_id");
  check(created.totalCount === total, `CreateBatch: total_count ${created.totalCount}, want ${total}`);
  check(created.transcriptionIds.length === total, `CreateBatch: ${created.transcriptionIds.length} transcription_ids, want ${total}`);
  check(created.processingMode === ProcessingMode.EXPRESS, `CreateBatch: processing_mode ${created.processingMode}, want EXPRESS`);
  step("CreateBatch", `batch_id=${created.batchId} total_count=${created.totalCount} state=${stateName(created.state)}`);

  const retried = await call("CreateBatch(retry)", client.createBatch(request, options()));
  check(retried.batchId === created.batchId, `CreateBatch retry with the same request_id: batch_id ${retried.batchId}, want ${created.batchId}`);
  step("CreateBatch(retry)", `same request_id -> same batch_id=${retried.batchId}`);

  // 2. GetBatchStatus.
  const { batchStatus: status } = await call("GetBatchStatus", client.getBatchStatus({ batchId: created.batchId }, options()));
  check(status, "GetBatchStatus: no batch_status");
  check(status.batchId === created.batchId, `GetBatchStatus: batch_id ${status.batchId}, want ${created.batchId}`);
  check(status.totalCount === total, `GetBatchStatus: total_count ${status.totalCount}, want ${total}`);
  check(status.state !== BatchState.UNSPECIFIED, "GetBatchStatus: state UNSPECIFIED");
  check(status.observedAt !== undefined, "GetBatchStatus: observed_at not set");
  step("GetBatchStatus", `state=${stateName(status.state)} completed_count=${status.completedCount}/${status.totalCount}`);

  // 3. WatchBatchStatus to the end.
  const started = Date.now();
  const messages = [];
  try {
    for await (const { batchStatus: update } of client.watchBatchStatus(
      { batchId: created.batchId },
      { headers, timeoutMs: TIMEOUT_S * 1000 },
    )) {
      check(update, `WatchBatchStatus: message ${messages.length + 1} has no batch_status`);
      const previous = messages.at(-1);
      check(
        previous === undefined || (previous.state !== BatchState.COMPLETED && previous.state !== BatchState.FAILED),
        `WatchBatchStatus: a message after the terminal state ${previous && stateName(previous.state)}`,
      );
      check(update.state !== BatchState.FAILED, `batch ${created.batchId} FAILED`);
      if (previous === undefined) {
        // The first message is the full current status: every transcription, all of them changed.
        check(update.batchId === created.batchId, `WatchBatchStatus: batch_id ${update.batchId}, want ${created.batchId}`);
        check(update.transcriptions.length === total, `WatchBatchStatus: first message lists ${update.transcriptions.length} transcriptions, want ${total}`);
        check(
          [...update.changedTranscriptionIds].sort().join() === [...created.transcriptionIds].sort().join(),
          "WatchBatchStatus: the first message's changed_transcription_ids are not every transcription id",
        );
        check(
          update.completedCount >= status.completedCount && timestampMs(update.observedAt) >= timestampMs(status.observedAt),
          `WatchBatchStatus: the first message (${update.completedCount} completed) is older than GetBatchStatus (${status.completedCount})`,
        );
      } else {
        check(
          update.completedCount >= previous.completedCount,
          `WatchBatchStatus: completed_count went down from ${previous.completedCount} to ${update.completedCount}`,
        );
      }
      messages.push(update);
    }
  } catch (err) {
    if (err instanceof CheckFailed) throw err;
    const error = ConnectError.from(err);
    throw new CheckFailed(`WatchBatchStatus failed after ${messages.length} messages: ${Code[error.code]}: ${error.rawMessage}`);
  }
  const last = messages.at(-1);
  check(last, "WatchBatchStatus: the stream ended without a message");
  check(last.state === BatchState.COMPLETED, `WatchBatchStatus: ended OK in ${stateName(last.state)}, want BATCH_STATE_COMPLETED`);
  check(last.completedCount === total, `WatchBatchStatus: completed_count ${last.completedCount} at the end, want ${total}`);
  step(
    "WatchBatchStatus",
    `${messages.length} messages, completed_count ${messages.map((m) => m.completedCount).join(" -> ")}, ` +
      `ended OK after BATCH_STATE_COMPLETED in ${((Date.now() - started) / 1000).toFixed(1)}s`,
  );

  // 4. An invalid CreateBatch: INVALID_ARGUMENT, with the gateway's error details.
  let failure;
  try {
    await client.createBatch(
      { processingMode: ProcessingMode.EXPRESS, audioSources: [{ audioUrl: "ftp://example.com/a.mp3" }] },
      options(),
    );
  } catch (err) {
    failure = ConnectError.from(err);
  }
  check(failure, "invalid CreateBatch succeeded; want INVALID_ARGUMENT");
  check(failure.code === Code.InvalidArgument, `invalid CreateBatch: ${Code[failure.code]}: ${failure.rawMessage}; want InvalidArgument`);
  // Without the google.rpc schemas the details stay undecoded, but their types are named.
  const types = failure.details.map((detail) => ("desc" in detail ? detail.desc.typeName : detail.type));
  for (const wanted of ["google.rpc.ErrorInfo", "google.rpc.BadRequest"]) {
    check(types.includes(wanted), `invalid CreateBatch: no ${wanted} among the details [${types.join(", ")}]`);
  }
  step("CreateBatch(invalid)", `InvalidArgument "${failure.rawMessage}" details=[${types.join(", ")}]`);
}

try {
  await main();
  console.log("PASS ts interop: every check passed");
  process.exit(0);
} catch (err) {
  if (err instanceof CheckFailed) {
    console.log(`FAIL ${err.message}`);
  } else {
    console.log(`FAIL unexpected error: ${err?.stack ?? err}`);
  }
  process.exit(1);
}
