// Copy the repository's generated TypeScript code (generated/ts/: protos/ and google/rpc's
// error details, written by `make generate`, checked fresh by `make check-generated`) into this
// package's gen/, which `npm pack` ships: one source of truth, no second committed copy.
import { cpSync, existsSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";

const source = fileURLToPath(new URL("../../../generated/ts/", import.meta.url));
const target = fileURLToPath(new URL("../gen/", import.meta.url));
for (const needed of ["sofer/batch/v1/batch_service_pb.js", "google/rpc/error_details_pb.js"]) {
  if (!existsSync(source + needed)) {
    console.error(`copy-generated: ${source}${needed} is missing: run make generate`);
    process.exit(1);
  }
}
rmSync(target, { recursive: true, force: true });
rmSync(fileURLToPath(new URL("../dist/", import.meta.url)), { recursive: true, force: true });
cpSync(source, target, { recursive: true, filter: (path) => !path.endsWith(".ts") || path.endsWith(".d.ts") });
