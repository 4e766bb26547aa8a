#!/usr/bin/env node
// A program of a project that installed the packed @sofer-ai/gateway-client (npm pack of
// clients/ts/), as a user's would: everything comes from the package (the generated messages,
// enums and service, createGatewayClient, gatewayError), nothing from this repository.
//
// Usage: node consumer.mjs ADDRESS [TOKEN]   (ADDRESS host:port of a plaintext gateway)
//
// Steps, one "ok ..." line each: CreateBatch with a request_id and its retry (one batch),
// GetBatchStatus, WatchBatchStatus to COMPLETED, an invalid CreateBatch decoded by gatewayError
// (REQUEST_INVALID and its field violations), GetBatchStatus of an unknown batch (BATCH_NOT_FOUND
// with the batch_id in metadata), and gatewayError on errors built here (a RetryInfo delay, a
// thrown value that is no ConnectError). Exit 0 only if every check passed, else 1 with "FAIL".

import { randomUUID } from "node:crypto";

import { create } from "@bufbuild/protobuf";
import {
  BatchState,
  Code,
  ConnectError,
  GATEWAY_DOMAIN,
  Language,
  ProcessingMode,
  createGatewayClient,
  gatewayError,
} from "@sofer-ai/gateway-client";
import { RetryInfoSchema } from "@sofer-ai/gateway-client/gen/google/rpc/error_details_pb.js";

class CheckFailed extends Error {}

/** @param {unknown} condition @param {string} what @returns {asserts condition} */
function check(condition, what) {
  if (!condition) throw new CheckFailed(what);
}

/** @param {string} name @param {string} text */
function step(name, text) {
  console.log(`ok   ${name}: ${text}`);
}

/** The decoded error of a call that must fail; a call that succeeds fails the check. */
async function failure(/** @type {string} */ what, /** @type {Promise<unknown>} */ call) {
  try {
    await call;
  } catch (err) {
    return gatewayError(err);
  }
  throw new CheckFailed(`${what} succeeded`);
}

async function main() {
  const [address, token] = process.argv.slice(2);
  check(address, "usage: node consumer.mjs ADDRESS [TOKEN]");
  const client = createGatewayClient(address, { token });
  const options = { timeoutMs: 10_000 };

  const request = {
    requestId: randomUUID(),
    info: { primaryLanguage: Language.HE },
    processingMode: ProcessingMode.EXPRESS,
    audioSources: [1, 2].map((n) => ({ audioUrl: `https://example.com/pkg/shiur-${n}.mp3` })),
  };
  const created = await client.createBatch(request, options);
  check(created.totalCount === 2, `CreateBatch: total_count ${created.totalCount}, want 2`);
  const retried = await client.createBatch(request, options);
  check(retried.batchId === created.batchId, `retry: batch_id ${retried.batchId}, want ${created.batchId}`);
  step("CreateBatch", `batch_id=${created.batchId}, the retry with its request_id the same batch`);

  const { batchStatus } = await client.getBatchStatus({ batchId: created.batchId }, options);
  check(batchStatus?.batchId === created.batchId, "GetBatchStatus: another batch_id");
  step("GetBatchStatus", `state=${BatchState[batchStatus?.state ?? 0]}`);

  const states = [];
  for await (const { batchStatus: status } of client.watchBatchStatus(
    { batchId: created.batchId },
    { timeoutMs: 30_000 },
  )) {
    check(status, "WatchBatchStatus: a message without batch_status");
    states.push(BatchState[status.state]);
  }
  check(states.at(-1) === "COMPLETED", `WatchBatchStatus: ended in ${states.at(-1)}, want COMPLETED`);
  step("WatchBatchStatus", states.join(" -> "));

  const invalid = await failure(
    "invalid CreateBatch",
    client.createBatch({ audioSources: [{ audioUrl: "ftp://example.com/a.mp3" }] }, options),
  );
  check(invalid.code === Code.InvalidArgument, `invalid CreateBatch: ${Code[invalid.code]}`);
  check(invalid.reason === "REQUEST_INVALID", `invalid CreateBatch: reason "${invalid.reason}"`);
  check(invalid.domain === GATEWAY_DOMAIN, `invalid CreateBatch: domain "${invalid.domain}"`);
  const fields = invalid.fieldViolations.map((violation) => violation.field);
  check(
    fields.join() === "info,audio_sources[0].audio_url",
    `invalid CreateBatch: field violations [${fields.join(", ")}]`,
  );
  check(invalid.fieldViolations.every((v) => v.description), "a field violation without description");
  step("CreateBatch(invalid)", `${invalid.reason} fields=[${fields.join(", ")}]`);

  const unknown = randomUUID();
  const missing = await failure("GetBatchStatus(unknown)", client.getBatchStatus({ batchId: unknown }, options));
  check(missing.code === Code.NotFound, `unknown batch: ${Code[missing.code]}`);
  check(missing.reason === "BATCH_NOT_FOUND", `unknown batch: reason "${missing.reason}"`);
  check(missing.metadata.batch_id === unknown, `unknown batch: metadata ${JSON.stringify(missing.metadata)}`);
  check(missing.fieldViolations.length === 0 && missing.retryDelayMs === undefined, "unknown batch: extra details");
  step("GetBatchStatus(unknown)", `${missing.reason} batch_id=${missing.metadata.batch_id}`);

  const busy = gatewayError(
    new ConnectError("busy", Code.ResourceExhausted, undefined, [
      { desc: RetryInfoSchema, value: create(RetryInfoSchema, { retryDelay: { seconds: 1n, nanos: 500_000_000 } }) },
    ]),
  );
  check(busy.retryDelayMs === 1500, `RetryInfo of 1.5 s: retryDelayMs ${busy.retryDelayMs}`);
  check(busy.reason === "" && busy.message === "busy", `no ErrorInfo: reason "${busy.reason}"`);
  const plain = gatewayError(new TypeError("not a call"));
  check(plain.code === Code.Unknown && plain.reason === "", `a TypeError: ${Code[plain.code]}`);
  step("gatewayError", `retryDelayMs=${busy.retryDelayMs}; a TypeError is ${Code[plain.code]}`);
}

try {
  await main();
  console.log("PASS package client: every check passed");
} catch (err) {
  console.log(err instanceof CheckFailed ? `FAIL ${err.message}` : `FAIL unexpected: ${err}`);
  process.exitCode = 1;
}
