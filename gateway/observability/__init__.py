"""What the gateway tells its operators: logs, metrics and traces.

- `logs`: structlog, configured once per process (JSON lines, redaction);
- `metrics`: the Prometheus registry, the hooks that count, and `--metrics-listen`;
- `tracing`: OpenTelemetry spans for RPCs, upstream attempts and status polls, off unless asked.

May import config and the packages without I/O below it (upstream's types); nothing else of
ours: what it reports is handed to it (hooks, registered gauges), never read by importing.
"""
