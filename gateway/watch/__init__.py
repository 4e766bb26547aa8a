"""Long-lived streams: one upstream poller per (tenant, batch), however many subscribers.

- `hub`: `StatusHub`, the pollers and the watchers they serve (WatchBatchStatus,
  WatchTranscription);
- `sources`: what a topic polls: a batch's status, or a transcription's as a batch of one;
- `exchange`: the replicas' exchange on Redis (one poller cluster-wide, fenced publication);
- `poll_failures`: what a poller does after a failed poll (wait, or end the watches);
- `fanout`: WatchBatchStatus messages made once per change, not once per watcher;
- `transcripts`, `transcript_cache`: StreamBatchTranscripts and the transcripts it shares.

May import state, access, contract, observability, config, upstream, captions and validation;
never the server (a stream's call is handed in as plain values).
"""
