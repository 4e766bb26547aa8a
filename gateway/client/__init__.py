"""The client commands of `sofer-gateway`: `submit` and `watch` (see docs/cli.md).

- `errors`: exit codes and the errors a command reports in one line;
- `submit`: building the requests from the command line, uploading a manifest, CreateBatch;
- `watch`: following a batch with `WatchBatchStatus`;
- `render`: the progress line, the final table and the JSON lines;
- `commands`: the argparse glue (`add_*_arguments`, `run_*`), kept thin.
"""

from __future__ import annotations
