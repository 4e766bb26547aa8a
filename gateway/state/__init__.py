"""State shared between calls, in memory or on Redis.

- `redis_client`: the process's one Redis client and its reachability, the keyed hash that
  names tenants in Redis;
- `idempotency`, `idempotency_record`, `idempotency_redis`, `idempotency_answers`: one upstream
  create per (credential, RPC, request_id), in memory or across replicas;
- `rate_budget_redis`: the upstream rate budget shared by replicas;
- `singleflight`: identical concurrent reads sharing one upstream call.

May import access, contract, observability, config, upstream and validation; never the
server or the watch path.
"""
