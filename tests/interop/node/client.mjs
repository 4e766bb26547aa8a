#!/usr/bin/env node
// Node interop client for sofer-gateway: proves the contract works from @grpc/grpc-js with
// protos/ loaded at run time by @grpc/proto-loader (no generated code, no Python).
//
// Usage: node tests/interop/node/client.mjs ADDRESS [TOKEN]
//   ADDRESS  host:port of a running gateway (e.g. 127.0.0.1:50051)
//   TOKEN    bearer token sent as `authorization: Bearer TOKEN`; omit it (or pass "") to rely
//            on the gateway's configured key (e.g. the embedded sandbox of `sofer-gateway serve`)
//
// Steps, one output line each: CreateBatch (express, with client_item_ids), GetBatchStatus,
// poll GetBatchStatus until COMPLETED (bounded by SOFER_INTEROP_TIMEOUT_S, default 30 s),
// GetBatchItem (by client_item_id), GetTranscription, ExportTranscription (WebVTT captions of
// that transcript), StreamBatchTranscripts of the completed batch (every item's transcript, then
// OK), and an invalid CreateBatch whose `grpc-status-details-bin`
// trailer is decoded as google.rpc.Status with its ErrorInfo and
// BadRequest details (field paths checked). Then the stream: WatchBatchStatus of a new batch to
// the end (the first message is the current status, completed_count never goes down, the stream
// ends OK right after COMPLETED), a watch of the ended batch (its terminal status, then the end),
// and a watch cancelled by the client after its first message (the client sees CANCELLED; a
// GetBatchStatus right after still works).
//
// The google/rpc protos (status.proto, error_details.proto) come from the google-proto-files npm
// package pinned in package-lock.json, or from the directory named by SOFER_GOOGLE_RPC_PROTOS
// (a directory holding google/rpc/*.proto).
//
// Exit 0 only if every check passed; otherwise exit 1 with a "FAIL ..." line saying why.

import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";

// protobufjs is the library proto-loader itself uses: resolve it from there, not by hoisting luck.
const requireFromLoader = createRequire(createRequire(import.meta.url).resolve("@grpc/proto-loader"));
const protobuf = requireFromLoader("protobufjs");

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, "..", "..", "..");
const PROTOS = path.join(REPO, "protos");
const SERVICE_PROTO = "sofer/batch/v1/batch_service.proto";
const DOMAIN = "sofer-gateway";
const TIMEOUT_S = Number(process.env.SOFER_INTEROP_TIMEOUT_S ?? "30");
const CALL_DEADLINE_MS = 10_000;

class CheckFailed extends Error {}

function check(condition, what) {
  if (!condition) throw new CheckFailed(what);
}

function step(name, text) {
  console.log(`ok   ${name}: ${text}`);
}

function googleRpcProtoDir() {
  // The google-proto-files npm package, pinned in package-lock.json: a source the project
  // controls, whatever Python environment (if any) sits beside the clone.
  const fromEnv = process.env.SOFER_GOOGLE_RPC_PROTOS;
  const dir = fromEnv || path.dirname(createRequire(import.meta.url).resolve("google-proto-files/package.json"));
  const rpc = path.join(dir, "google", "rpc");
  if (existsSync(path.join(rpc, "status.proto")) && existsSync(path.join(rpc, "error_details.proto"))) {
    return dir;
  }
  throw new CheckFailed(
    `google/rpc/status.proto and error_details.proto not found in ${dir}; ` +
      "run `npm ci` (make node-deps) or set SOFER_GOOGLE_RPC_PROTOS",
  );
}

function loadService() {
  const definition = protoLoader.loadSync(SERVICE_PROTO, {
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
    // protos/ for sofer/batch/v1/*; google/protobuf/*.proto (Timestamp) is bundled with protobufjs.
    includeDirs: [PROTOS],
  });
  const pkg = grpc.loadPackageDefinition(definition);
  return pkg.sofer.batch.v1.BatchTranscriptionService;
}

function loadErrorModel() {
  const dir = googleRpcProtoDir();
  const root = new protobuf.Root();
  // Resolve imports against the googleapis directory; google/protobuf/* are bundled in protobufjs.
  root.resolvePath = (_origin, target) => (path.isAbsolute(target) ? target : path.join(dir, target));
  root.loadSync(["google/rpc/status.proto", "google/rpc/error_details.proto"], { keepCase: true });
  root.resolveAll();
  return { root, dir };
}

function unary(client, method, request, metadata) {
  return new Promise((resolve, reject) => {
    const deadline = new Date(Date.now() + CALL_DEADLINE_MS);
    client[method](request, metadata, { deadline }, (err, response) => (err ? reject(err) : resolve(response)));
  });
}

function describeError(err) {
  return `${grpc.status[err.code] ?? err.code}: ${err.details ?? err.message}`;
}

async function call(client, method, request, metadata) {
  try {
    return await unary(client, method, request, metadata);
  } catch (err) {
    if (err instanceof CheckFailed) throw err;
    throw new CheckFailed(`${method} failed: ${describeError(err)}`);
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const TERMINAL = new Set(["BATCH_STATE_COMPLETED", "BATCH_STATE_FAILED"]);

// One WatchBatchStatus stream to its end: resolves with the batch statuses received and the
// call's final status (and error, when not OK). `onMessage(call, status, index)` runs for each
// message as it arrives, so a caller can cancel the call from there.
async function watch(client, batchId, metadata, onMessage = () => {}) {
  const outcome = await serverStream(
    client,
    "WatchBatchStatus",
    { batch_id: batchId },
    metadata,
    (call, response, index) => onMessage(call, response.batch_status, index),
  );
  return { ...outcome, messages: outcome.messages.map((response) => response.batch_status) };
}

// One server-streaming call to its end: resolves with the messages and the final status (and
// error, when not OK). `onMessage(call, response, index)` runs for each message as it arrives.
function serverStream(client, method, request, metadata, onMessage = () => {}) {
  return new Promise((resolve) => {
    const deadline = new Date(Date.now() + TIMEOUT_S * 1000);
    const call = client[method](request, metadata, { deadline });
    const messages = [];
    let ended = false;
    let status = null;
    let error = null;
    // grpc-js emits "status" on every outcome; on OK, "end" too: wait for both, so every
    // message has been read.
    const settle = () => {
      if (status && (ended || status.code !== grpc.status.OK)) resolve({ messages, status, error });
    };
    call.on("data", (response) => {
      messages.push(response);
      onMessage(call, response, messages.length - 1);
    });
    call.on("end", () => {
      ended = true;
      settle();
    });
    call.on("error", (err) => {
      error = err;
    });
    call.on("status", (final) => {
      status = final;
      settle();
    });
  });
}

function describeStatus({ status, error }) {
  return error ? describeError(error) : `${grpc.status[status.code] ?? status.code}: ${status.details}`;
}

async function createExpressBatch(client, metadata, label, count) {
  const tag = randomUUID().slice(0, 8);
  const created = await call(
    client,
    "CreateBatch",
    {
      request_id: randomUUID(),
      info: { primary_language: "LANGUAGE_HE" },
      batch_title: `node interop ${label} ${tag}`,
      processing_mode: "PROCESSING_MODE_EXPRESS",
      audio_sources: Array.from({ length: count }, (_, n) => ({
        audio_url: `https://example.com/interop/${tag}/${label}-${n + 1}.mp3`,
        client_item_id: `node-${tag}-${label}-${n + 1}`,
      })),
    },
    metadata,
  );
  check(created.transcription_ids.length === count, `CreateBatch(${label}): ${created.transcription_ids.length} ids, want ${count}`);
  return created;
}

async function main() {
  const [address, token = ""] = process.argv.slice(2);
  if (!address) {
    console.error("usage: node tests/interop/node/client.mjs ADDRESS [TOKEN]");
    process.exit(2);
  }
  const Service = loadService();
  const errorModel = loadErrorModel();
  step("load", `protos/ via @grpc/proto-loader; google.rpc from ${path.relative(REPO, errorModel.dir) || errorModel.dir}`);

  const client = new Service(address, grpc.credentials.createInsecure());
  const metadata = new grpc.Metadata();
  if (token) metadata.set("authorization", `Bearer ${token}`);

  try {
    await run(client, metadata, errorModel.root);
  } finally {
    client.close();
  }
}

async function run(client, metadata, rpcRoot) {
  // 1. CreateBatch: express, two items with client_item_ids.
  const tag = randomUUID().slice(0, 8);
  const items = [
    { audio_url: `https://example.com/interop/${tag}/shiur-1.mp3`, title: "Shiur 1", client_item_id: `node-${tag}-1` },
    { audio_url: `https://example.com/interop/${tag}/shiur-2.mp3`, title: "Shiur 2", client_item_id: `node-${tag}-2`, num_speakers: 2 },
  ];
  const created = await call(
    client,
    "CreateBatch",
    {
      request_id: randomUUID(),
      info: { primary_language: "LANGUAGE_HE", title: "node interop", auto_detect_speakers: true },
      batch_title: `node interop ${tag}`,
      processing_mode: "PROCESSING_MODE_EXPRESS",
      audio_sources: items,
    },
    metadata,
  );
  check(typeof created.batch_id === "string" && created.batch_id.length > 0, "CreateBatch: empty batch_id");
  check(created.total_count === items.length, `CreateBatch: total_count ${created.total_count}, want ${items.length}`);
  check(
    created.transcription_ids.length === items.length,
    `CreateBatch: ${created.transcription_ids.length} transcription_ids, want ${items.length}`,
  );
  check(
    created.processing_mode === "PROCESSING_MODE_EXPRESS",
    `CreateBatch: processing_mode ${created.processing_mode}, want PROCESSING_MODE_EXPRESS`,
  );
  step("CreateBatch", `batch_id=${created.batch_id} total_count=${created.total_count} state=${created.state}`);

  // 2. GetBatchStatus.
  const first = (await call(client, "GetBatchStatus", { batch_id: created.batch_id }, metadata)).batch_status;
  check(first, "GetBatchStatus: no batch_status");
  check(first.batch_id === created.batch_id, `GetBatchStatus: batch_id ${first.batch_id}, want ${created.batch_id}`);
  check(first.total_count === items.length, `GetBatchStatus: total_count ${first.total_count}, want ${items.length}`);
  check(first.state !== "BATCH_STATE_UNSPECIFIED", "GetBatchStatus: state UNSPECIFIED");
  check(first.observed_at && first.observed_at.seconds !== "0", "GetBatchStatus: observed_at not set");
  step(
    "GetBatchStatus",
    `state=${first.state} completed_count=${first.completed_count}/${first.total_count} transcriptions=${first.transcriptions.length}`,
  );

  // 3. Poll until COMPLETED, bounded.
  const started = Date.now();
  let status = first;
  let polls = 1;
  while (status.state !== "BATCH_STATE_COMPLETED") {
    check(status.state !== "BATCH_STATE_FAILED", `batch ${created.batch_id} FAILED`);
    check(
      Date.now() - started < TIMEOUT_S * 1000,
      `batch not COMPLETED within ${TIMEOUT_S}s (last state ${status.state}, ${status.completed_count}/${status.total_count})`,
    );
    await sleep(200);
    status = (await call(client, "GetBatchStatus", { batch_id: created.batch_id }, metadata)).batch_status;
    polls += 1;
  }
  check(status.completed_count === items.length, `completed_count ${status.completed_count}, want ${items.length}`);
  step("wait", `COMPLETED after ${polls} polls in ${((Date.now() - started) / 1000).toFixed(1)}s`);

  // 4. GetBatchItem by client_item_id.
  const wanted = items[1];
  const item = (
    await call(client, "GetBatchItem", { batch_id: created.batch_id, client_item_id: wanted.client_item_id }, metadata)
  ).transcription_info;
  check(item, "GetBatchItem: no transcription_info");
  check(
    item.client_item_id === wanted.client_item_id,
    `GetBatchItem: client_item_id ${item.client_item_id}, want ${wanted.client_item_id}`,
  );
  check(created.transcription_ids.includes(item.id), `GetBatchItem: id ${item.id} not among the batch's transcription_ids`);
  check(item.state === "TRANSCRIPTION_STATE_COMPLETED", `GetBatchItem: state ${item.state}, want COMPLETED`);
  step("GetBatchItem", `client_item_id=${item.client_item_id} -> id=${item.id} state=${item.state}`);

  // 5. GetTranscription.
  const transcription = (await call(client, "GetTranscription", { transcription_id: item.id }, metadata)).transcription;
  check(transcription, "GetTranscription: no transcription");
  check(transcription.text.length > 0, "GetTranscription: empty text");
  check(transcription.info && transcription.info.id === item.id, "GetTranscription: info.id does not match");
  const words = transcription.timestamps.length;
  step("GetTranscription", `id=${item.id} words=${words} text="${transcription.text.slice(0, 40)}${transcription.text.length > 40 ? "..." : ""}"`);

  // 5b. ExportTranscription: the same transcript as WebVTT captions, one cue per timing line,
  // its speakers as voice spans, its Hebrew words as they are.
  const exported = await call(
    client,
    "ExportTranscription",
    { transcription_id: item.id, format: "EXPORT_FORMAT_WEBVTT" },
    metadata,
  );
  check(exported.media_type === "text/vtt", `ExportTranscription: media_type ${exported.media_type}, want text/vtt`);
  check(exported.file_extension === "vtt", `ExportTranscription: file_extension ${exported.file_extension}, want vtt`);
  check(exported.content.startsWith("WEBVTT\n"), "ExportTranscription: content does not start with the WEBVTT header");
  check(exported.info && exported.info.id === item.id, "ExportTranscription: info.id does not match");
  const timings = exported.content.split("\n").filter((line) => / --> /.test(line)).length;
  check(exported.cue_count > 0 && timings === exported.cue_count, `ExportTranscription: cue_count ${exported.cue_count}, ${timings} timing lines`);
  check(exported.content.includes("<v Speaker "), "ExportTranscription: no voice span for the two speakers");
  const missing = transcription.timestamps.filter((w) => !exported.content.includes(w.word));
  check(missing.length === 0, `ExportTranscription: ${missing.length} words not in the captions, e.g. ${missing[0]?.word}`);
  step("ExportTranscription", `WEBVTT cue_count=${exported.cue_count} media_type=${exported.media_type} bytes=${Buffer.byteLength(exported.content)}`);

  // 5c. StreamBatchTranscripts of the completed batch: every item at once, each with its
  // transcript (text, words, its own info), counts up to the total, then OK.
  const streamed = await serverStream(client, "StreamBatchTranscripts", { batch_id: created.batch_id }, metadata);
  check(streamed.status.code === grpc.status.OK, `StreamBatchTranscripts ended ${describeStatus(streamed)}; want OK`);
  const results = streamed.messages;
  check(results.length === items.length, `StreamBatchTranscripts: ${results.length} messages, want ${items.length}`);
  check(
    results.map((m) => m.info.id).sort().join() === [...created.transcription_ids].sort().join(),
    "StreamBatchTranscripts: the items sent are not the batch's transcription_ids",
  );
  check(
    results.map((m) => m.info.client_item_id).sort().join() === items.map((i) => i.client_item_id).sort().join(),
    "StreamBatchTranscripts: the client_item_ids sent are not the batch's",
  );
  for (const m of results) {
    check(m.info.state === "TRANSCRIPTION_STATE_COMPLETED", `StreamBatchTranscripts: ${m.info.id} is ${m.info.state}, want COMPLETED`);
    check(m.transcription && m.transcription.text.length > 0, `StreamBatchTranscripts: ${m.info.id} has no transcript text`);
    check(m.transcription.timestamps.length > 0, `StreamBatchTranscripts: ${m.info.id} has no word timestamps`);
    check(m.transcription.info && m.transcription.info.id === m.info.id, `StreamBatchTranscripts: ${m.info.id}: transcription.info.id differs`);
    check(m.total_count === items.length, `StreamBatchTranscripts: total_count ${m.total_count}, want ${items.length}`);
  }
  const same = results.find((m) => m.info.id === item.id);
  check(same && same.transcription.text === transcription.text, "StreamBatchTranscripts: the text differs from GetTranscription's");
  check(results.at(-1).finished_count === items.length, `StreamBatchTranscripts: finished_count ${results.at(-1).finished_count} at the end, want ${items.length}`);
  step(
    "StreamBatchTranscripts",
    `${results.length} transcripts (${results.map((m) => m.transcription.timestamps.length).join(", ")} words), finished_count ${results.map((m) => m.finished_count).join(" -> ")}, then OK`,
  );

  // 6. Validation error details: no info, a bad URL, a duplicate client_item_id, num_speakers 0.
  let failure;
  try {
    await unary(
      client,
      "CreateBatch",
      {
        request_id: randomUUID(),
        processing_mode: "PROCESSING_MODE_EXPRESS",
        audio_sources: [
          { audio_url: "ftp://example.com/a.mp3", client_item_id: "a" },
          { audio_url: "https://example.com/b.mp3", client_item_id: "b" },
          { audio_url: "https://example.com/c.mp3", client_item_id: "b", num_speakers: 0 },
        ],
      },
      metadata,
    );
  } catch (err) {
    failure = err;
  }
  check(failure, "invalid CreateBatch succeeded; want INVALID_ARGUMENT");
  check(
    failure.code === grpc.status.INVALID_ARGUMENT,
    `invalid CreateBatch: ${describeError(failure)}; want INVALID_ARGUMENT`,
  );
  const trailer = failure.metadata?.get("grpc-status-details-bin") ?? [];
  check(trailer.length === 1 && Buffer.isBuffer(trailer[0]), "invalid CreateBatch: no grpc-status-details-bin trailer");
  const Status = rpcRoot.lookupType("google.rpc.Status");
  const rich = Status.decode(trailer[0]);
  check(rich.code === grpc.status.INVALID_ARGUMENT, `google.rpc.Status.code ${rich.code}, want 3`);
  check(rich.message === failure.details, "google.rpc.Status.message differs from the status message");
  const details = {};
  for (const any of rich.details) {
    const typeName = any.type_url.slice(any.type_url.lastIndexOf("/") + 1);
    details[typeName] = rpcRoot.lookupType(typeName).decode(any.value);
  }
  const info = details["google.rpc.ErrorInfo"];
  check(info, `no google.rpc.ErrorInfo among details [${Object.keys(details).join(", ")}]`);
  check(info.reason === "REQUEST_INVALID", `ErrorInfo.reason ${info.reason}, want REQUEST_INVALID`);
  check(info.domain === DOMAIN, `ErrorInfo.domain ${info.domain}, want ${DOMAIN}`);
  const badRequest = details["google.rpc.BadRequest"];
  check(badRequest, `no google.rpc.BadRequest among details [${Object.keys(details).join(", ")}]`);
  const got = badRequest.field_violations.map((v) => `${v.field}:${v.reason}`);
  const want = [
    "info:REQUIRED",
    "audio_sources[0].audio_url:INVALID_URL",
    "audio_sources[2].num_speakers:OUT_OF_RANGE",
    "audio_sources[2].client_item_id:DUPLICATE",
  ];
  for (const violation of want) {
    check(got.includes(violation), `BadRequest lacks ${violation}; got [${got.join(", ")}]`);
  }
  check(got.length === want.length, `BadRequest has ${got.length} violations, want ${want.length}: [${got.join(", ")}]`);
  check(
    badRequest.field_violations.every((v) => v.description.length > 0),
    "a BadRequest field violation has no description",
  );
  step("CreateBatch(invalid)", `INVALID_ARGUMENT ErrorInfo(reason=${info.reason}, domain=${info.domain})`);
  step("BadRequest", got.join(" "));

  await watchToTheEnd(client, metadata);
  await cancelledWatch(client, metadata);
}

// 7. WatchBatchStatus of a new batch until COMPLETED, then a watch of the ended batch.
async function watchToTheEnd(client, metadata) {
  const created = await createExpressBatch(client, metadata, "watch", 3);
  const before = (await call(client, "GetBatchStatus", { batch_id: created.batch_id }, metadata)).batch_status;
  const started = Date.now();
  const outcome = await watch(client, created.batch_id, metadata);
  const { messages } = outcome;
  check(outcome.status.code === grpc.status.OK, `WatchBatchStatus ended ${describeStatus(outcome)} after ${messages.length} messages; want OK`);
  check(messages.length > 0, "WatchBatchStatus: the stream ended without a message");

  // The first message is the full current status: the batch, every transcription, all "changed",
  // and no older than the GetBatchStatus read just before the watch.
  const first = messages[0];
  check(first.batch_id === created.batch_id, `WatchBatchStatus: batch_id ${first.batch_id}, want ${created.batch_id}`);
  check(first.total_count === created.total_count, `WatchBatchStatus: total_count ${first.total_count}, want ${created.total_count}`);
  check(
    first.transcriptions.length === created.transcription_ids.length,
    `WatchBatchStatus: the first message lists ${first.transcriptions.length} transcriptions, want ${created.transcription_ids.length}`,
  );
  check(
    [...first.changed_transcription_ids].sort().join() === [...created.transcription_ids].sort().join(),
    "WatchBatchStatus: the first message's changed_transcription_ids are not every transcription id",
  );
  check(
    first.completed_count >= before.completed_count,
    `WatchBatchStatus: the first message has ${first.completed_count} completed, GetBatchStatus before it had ${before.completed_count}`,
  );

  for (let i = 1; i < messages.length; i += 1) {
    check(
      messages[i].completed_count >= messages[i - 1].completed_count,
      `WatchBatchStatus: completed_count went down from ${messages[i - 1].completed_count} to ${messages[i].completed_count} (message ${i + 1})`,
    );
  }
  const terminalAt = messages.findIndex((m) => TERMINAL.has(m.state));
  check(terminalAt === messages.length - 1, `WatchBatchStatus: ${messages.length - 1 - terminalAt} messages after the terminal state`);
  const last = messages.at(-1);
  check(last.state === "BATCH_STATE_COMPLETED", `WatchBatchStatus: ended in ${last.state}, want BATCH_STATE_COMPLETED`);
  check(last.completed_count === created.total_count, `WatchBatchStatus: completed_count ${last.completed_count} at the end, want ${created.total_count}`);
  step(
    "WatchBatchStatus",
    `${messages.length} messages, completed_count ${messages.map((m) => m.completed_count).join(" -> ")}, ` +
      `ended OK after COMPLETED in ${((Date.now() - started) / 1000).toFixed(1)}s`,
  );

  // A watch of a batch that has ended: its terminal status at once, and the stream ends OK.
  const again = await watch(client, created.batch_id, metadata);
  check(again.status.code === grpc.status.OK, `WatchBatchStatus(ended batch): ${describeStatus(again)}; want OK`);
  check(
    again.messages.length === 1 && again.messages[0].state === "BATCH_STATE_COMPLETED",
    `WatchBatchStatus(ended batch): states [${again.messages.map((m) => m.state).join(", ")}], want [BATCH_STATE_COMPLETED]`,
  );
  step("WatchBatchStatus(ended batch)", "one message, BATCH_STATE_COMPLETED, then OK");
}

// 8. A watch the client cancels after the first message: CANCELLED for the client, and the
// gateway goes on answering.
async function cancelledWatch(client, metadata) {
  const created = await createExpressBatch(client, metadata, "cancel", 3);
  const outcome = await watch(client, created.batch_id, metadata, (stream, status, index) => {
    if (index === 0) stream.cancel();
  });
  const { messages } = outcome;
  check(messages.length >= 1, `WatchBatchStatus(cancel): ended ${describeStatus(outcome)} before its first message`);
  check(
    !TERMINAL.has(messages[0].state),
    `WatchBatchStatus(cancel): the first message is already ${messages[0].state}: the batch ended before the cancel could be tested (a slower sandbox, e.g. --item-seconds 1, gives it time)`,
  );
  check(
    outcome.status.code === grpc.status.CANCELLED,
    `WatchBatchStatus(cancel): ended ${describeStatus(outcome)} after ${messages.length} messages; want CANCELLED`,
  );
  check(messages.length === 1, `WatchBatchStatus(cancel): ${messages.length} messages delivered after cancel(), want 1`);
  const after = (await call(client, "GetBatchStatus", { batch_id: created.batch_id }, metadata)).batch_status;
  check(after.batch_id === created.batch_id, `GetBatchStatus after the cancel: batch_id ${after.batch_id}, want ${created.batch_id}`);
  step(
    "WatchBatchStatus(cancel)",
    `cancel() after the first message (${messages[0].state}) -> CANCELLED; GetBatchStatus after it: ${after.state}`,
  );
}

try {
  await main();
  console.log("PASS node interop: every check passed");
  process.exit(0);
} catch (err) {
  if (err instanceof CheckFailed) {
    console.log(`FAIL ${err.message}`);
  } else {
    console.log(`FAIL unexpected error: ${err?.stack ?? err}`);
  }
  process.exit(1);
}
