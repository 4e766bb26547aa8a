// A first call from a browser, over the Connect protocol: the generated TypeScript client
// (generated/ts/, protoc-gen-es: messages, enums and the service descriptor) on
// @connectrpc/connect-web's transport (fetch, JSON). It creates an express batch and follows it
// with the server-streaming WatchBatchStatus until the stream ends after a terminal state,
// showing each message. Bundled by esbuild into app.js (docs/first-call.md).
//
// Settings come from the URL's fragment, which the browser never sends to a server:
//   gateway  the Connect port's base URL (default http://127.0.0.1:8080, `make run`'s)
//   token    a caller token (`sgw_...`, --caller-tokens-file) sent as `authorization: Bearer`.
// A real dashboard gets a caller token from its own back end for the signed-in user; the
// Sofer.ai API key never goes to a browser (the gateway spends it for callers it knows).
//
// When it is done, #result's data-state is the batch's final state (BATCH_STATE_COMPLETED),
// or "error" with the Connect error's code and message: what tests/browser/ reads.

import { timestampDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";

import { BatchState, Language, ProcessingMode } from "../../../generated/ts/sofer/batch/v1/batch_pb.js";
import { BatchTranscriptionService } from "../../../generated/ts/sofer/batch/v1/batch_service_pb.js";

const settings = new URLSearchParams(location.hash.slice(1));
const baseUrl = settings.get("gateway") ?? "http://127.0.0.1:8080";
const token = settings.get("token");

const withToken: Interceptor = (next) => async (request) => {
  if (token) request.header.set("authorization", `Bearer ${token}`);
  return next(request);
};

const client = createClient(
  BatchTranscriptionService,
  createConnectTransport({ baseUrl, interceptors: [withToken] }),
);

const element = (id: string): HTMLElement => {
  const found = document.getElementById(id);
  if (!found) throw new Error(`the page has no #${id}`);
  return found;
};

const stateName = (state: BatchState): string => `BATCH_STATE_${BatchState[state]}`;

function finish(state: string, text: string): void {
  const result = element("result");
  result.dataset.state = state;
  result.textContent = text;
}

async function run(): Promise<void> {
  element("gateway").textContent = baseUrl;
  const created = await client.createBatch(
    {
      requestId: crypto.randomUUID(),
      batchTitle: "first call from a browser",
      processingMode: ProcessingMode.EXPRESS,
      info: { primaryLanguage: Language.HE },
      audioSources: [{ audioUrl: "https://example.com/shiur-1.mp3", clientItemId: "shiur-1" }],
    },
    { timeoutMs: 10_000 },
  );
  element("batch").textContent = created.batchId;

  let last = "";
  let count = 0;
  for await (const message of client.watchBatchStatus({ batchId: created.batchId })) {
    const status = message.batchStatus;
    if (!status) continue;
    count += 1;
    last = stateName(status.state);
    const progress = element("progress") as HTMLProgressElement;
    progress.max = Math.max(status.totalCount, 1);
    progress.value = status.completedCount;
    const row = document.createElement("tr");
    const observed = status.observedAt ? timestampDate(status.observedAt).toISOString() : "";
    for (const cell of [count, last, `${status.completedCount}/${status.totalCount}`,
      status.pendingCount, observed]) {
      const td = document.createElement("td");
      td.textContent = String(cell);
      row.append(td);
    }
    element("updates").append(row);
  }
  finish(last, `${last} after ${count} status messages`);
}

run().catch((err: unknown) => {
  const error = ConnectError.from(err);
  finish("error", `${Code[error.code]}: ${error.rawMessage}`);
});
