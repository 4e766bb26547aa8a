"""The public contract's vocabulary, shared by the server and the watch path.

- `errors`: the gRPC error model (`GatewayError`, `Reason`, ErrorInfo / BadRequest /
  RetryInfo details) and the one table from upstream errors to gRPC statuses;
- `mapping`: pure translation between sofer.batch.v1 messages and the upstream's REST shapes.

May import observability, config, upstream (its types and errors), validation and captions.
"""
