"""Hot batch: many callers reading one batch at once, and what that costs the upstream.

`streams` concurrent GetBatchStatus callers of one batch id for `hot_seconds` (h2load against
the gateway in front of nginx); nginx's access log counts the upstream requests. Today every
RPC is one upstream request; identical concurrent reads could share one.
"""

from __future__ import annotations

from pathlib import Path

from bench import canned, grpc_check, h2load
from bench.model import ScenarioResult, at_most, median, row
from bench.nginx import nginx_upstream
from bench.servers import API_KEY, gateway
from bench.settings import Settings

KEY = "hot_batch"
TITLE = "Hot batch: concurrent readers of one batch"
NEEDS = ("nginx", "h2load")


async def run(settings: Settings, work_dir: Path) -> ScenarioResult:
    """`repetitions` runs of `hot_seconds`; medians of RPCs, upstream requests and their ratio."""
    data = h2load.status_request_file(work_dir)
    runs: list[dict[str, float]] = []
    async with (
        nginx_upstream(work_dir) as upstream,
        gateway(work_dir, upstream.url, api_key=API_KEY) as server,
    ):
        await grpc_check.check_status_calls(server.address, canned.BATCH_ID)
        await h2load.run(
            server.address, h2load.STATUS_METHOD, data, requests=100, streams=settings.streams
        )
        for _ in range(settings.repetitions):
            before = upstream.status_requests()
            answer = await h2load.run(
                server.address,
                h2load.STATUS_METHOD,
                data,
                duration=settings.hot_seconds,
                streams=settings.streams,
            )
            if not answer.clean:
                raise RuntimeError(f"gateway: h2load saw failures: {answer}")
            upstream_requests = upstream.status_requests() - before
            runs.append(
                {
                    "rpcs": float(answer.succeeded),
                    "upstream_requests": float(upstream_requests),
                    "upstream_per_rpc": upstream_requests / max(answer.succeeded, 1),
                    "calls_per_second": answer.requests_per_second,
                }
            )
        await grpc_check.check_status_calls(server.address, canned.BATCH_ID)
    result = ScenarioResult(
        key=KEY,
        title=TITLE,
        what=(
            f"{settings.streams} concurrent callers (h2load streams) of one batch for "
            f"{settings.hot_seconds:g} s, gateway in front of nginx; upstream requests from "
            f"nginx's access log; median of {settings.repetitions}."
        ),
        settings={"streams": settings.streams, "seconds": settings.hot_seconds},
        details={"runs": runs},
    )

    def med(figure: str) -> float:
        return median([r[figure] for r in runs])

    result.rows += [
        row("upstream requests per RPC", "", med("upstream_per_rpc"), at_most(0.1)),
        row("RPCs", "calls", med("rpcs")),
        row("upstream requests", "requests", med("upstream_requests")),
        row("calls/s", "calls/s", med("calls_per_second")),
    ]
    return result
