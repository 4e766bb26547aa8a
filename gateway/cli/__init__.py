"""The client commands of `sofer-gateway`: `submit`, `watch`, `fetch` and `health` (see
docs/cli.md).

- `errors`: exit codes and the errors a command reports in one line;
- `submit`: building the requests from the command line, uploading a manifest, CreateBatch;
- `watch`: following a batch with `WatchBatchStatus`;
- `fetch`: writing a batch's transcripts into a folder with `StreamBatchTranscripts`;
- `fetch_folder`: the folder's manifest and atomic writes;
- `filenames`: file names safe on every file system, distinct in a batch;
- `render`: the progress line, the final table and the JSON lines;
- `channel`: the gRPC channel (plaintext, TLS, mutual TLS) every client command opens;
- `reconnect`: when a broken watch reconnects, how long it waits, when it gives up;
- `health`: one grpc.health.v1 Check, as an exit status (probes without gRPC support);
- `commands`: the argparse glue (`add_*_arguments`, `run_*`), kept thin.

A gRPC client of the gateway: may import the layers without I/O of their own (captions,
upstream's backoff, pem), never the server.
"""

from __future__ import annotations
