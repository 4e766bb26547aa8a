"""Batch events: what pollers observe, kept in a per-(tenant, batch) log.

- `model`: what an event is, two successive reads of a batch made into events, the log's read
  side (`EventLogReader`);
- `log`, `redis_log`: the log in memory (bounded, lost on restart) and as a Redis Stream;
- `positions`: event ids and the opaque resume_token.

May import state, access, contract, observability, config and upstream; never watch or the
server (the hub writes into the log, streams and webhooks read it).
"""
