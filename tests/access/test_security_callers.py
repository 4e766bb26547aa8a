"""Caller authentication for a gateway that holds a service key: caller tokens (file and
environment), client certificates (mutual TLS), the refusals before any upstream call, the
caller's own Sofer.ai token passing through, the start-up refusal on an exposed address, and no
token ever in an error or a log line."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import re
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
from sofer.batch.v1 import batch_service_pb2, batch_service_pb2_grpc
from sofer_sandbox import SandboxServer

from gateway.access.credentials import CallerAuth, check_exposure, is_loopback
from gateway.config import ConfigError, GatewayConfig
from gateway.server.process import Gateway
from tests.conftest import TOKEN, bearer
from tests.helpers.calls import (
    assert_error,
    assert_secret_free,
    create_express,
    express,
    recording_upstream,
    rpc_error,
    rpc_lines,
    source,
    upstream_total,
)
from tests.helpers.pki import Pki, credentials
from tests.helpers.processes import run_serve, start_serve
from tests.helpers.sandbox_http import SSL_CONTEXT
from tests.helpers.streams import drain

Stub = batch_service_pb2_grpc.BatchTranscriptionServiceStub
pb = batch_service_pb2

CONFIGURED_KEY = "organisation-service-key"
FILE_TOKEN = "sgw_file-token-0123456789abcdef"
ENV_TOKEN = "sgw_env-token-fedcba9876543210"
WRONG_TOKEN = "sgw_wrong-token-00000000000000"
SECRETS = (CONFIGURED_KEY, FILE_TOKEN, ENV_TOKEN, WRONG_TOKEN, TOKEN)
UNKNOWN = "0f0e0d0c-0b0a-4988-8776-655443322110"


@pytest.fixture
def tokens_file(tmp_path: Path) -> Path:
    """A caller-tokens file: a comment, blank lines and one token (with stray spaces)."""
    path = tmp_path / "caller-tokens"
    path.write_text(f"# the billing service\n\n  {FILE_TOKEN}  \n\n# retired: none\n")
    return path


@pytest.fixture
def gateway_config(
    gateway_config: GatewayConfig, tokens_file: Path, pki: Pki, request: pytest.FixtureRequest
) -> GatewayConfig:
    """The shared settings with a configured key and, by indirect parameter:
    "tokens" (default) caller tokens from a file and the environment; "mtls" mutual TLS and no
    tokens; "open" no caller authentication at all (the old behaviour)."""
    mode = getattr(request, "param", "tokens")
    changes: dict[str, Any] = {"api_key": CONFIGURED_KEY}
    if mode == "tokens":
        changes.update(caller_tokens_file=str(tokens_file), caller_tokens=(ENV_TOKEN,))
    elif mode == "mtls":
        changes.update(
            tls_cert=str(pki.server.cert_file),
            tls_key=str(pki.server.key_file),
            tls_client_ca=str(pki.ca.cert_file),
        )
    return dataclasses.replace(gateway_config, **changes)


mutual_tls = pytest.mark.parametrize("gateway_config", ["mtls"], indirect=True, ids=["mtls"])
no_caller_auth = pytest.mark.parametrize("gateway_config", ["open"], indirect=True, ids=["open"])


async def upstream_sees(sandbox: SandboxServer, token: str, batch_id: str) -> int:
    """The sandbox's own answer (HTTP status) to `token` reading the batch's status: 200 when
    the batch belongs to that token's tenant, 404 when not."""
    async with httpx.AsyncClient(
        base_url=sandbox.url,
        headers={"authorization": f"Bearer {token}"},
        timeout=10.0,
        verify=SSL_CONTEXT,
    ) as http:
        response = await http.get(f"/v1/transcriptions/batch/{batch_id}/status")
    return response.status_code


# -- caller tokens ------------------------------------------------------------------------------


@pytest.mark.parametrize("token", [FILE_TOKEN, ENV_TOKEN], ids=["file", "environment"])
async def test_caller_token_spends_the_configured_key(
    stub: Stub, sandbox: SandboxServer, token: str
) -> None:
    """A caller token (from the file or the environment) authenticates the caller, and the
    gateway spends its configured key: the batch is in the configured key's tenant upstream,
    not in a tenant of the caller token, and the caller reads it back with its token."""
    created = await create_express(stub, source(1), token=token)
    assert await upstream_sees(sandbox, CONFIGURED_KEY, created.batch_id) == 200
    assert await upstream_sees(sandbox, token, created.batch_id) == 404
    status: pb.GetBatchStatusResponse = await stub.GetBatchStatus(
        pb.GetBatchStatusRequest(batch_id=created.batch_id), metadata=bearer(token)
    )
    assert status.batch_status.batch_id == created.batch_id


async def test_callers_with_tokens_share_the_organisation_tenant(stub: Stub) -> None:
    """Callers authenticated by caller tokens act as the one upstream account: a batch one
    created is visible to another, and to the configured key sent as an explicit bearer."""
    created = await create_express(stub, source(1), token=FILE_TOKEN)
    for token in (ENV_TOKEN, CONFIGURED_KEY):
        status: pb.GetBatchStatusResponse = await stub.GetBatchStatus(
            pb.GetBatchStatusRequest(batch_id=created.batch_id), metadata=bearer(token)
        )
        assert status.batch_status.batch_id == created.batch_id


async def test_caller_token_is_never_sent_upstream(tokens_file: Path) -> None:
    """What reaches the upstream for a caller-token call is the configured key, never the
    caller token (a recording upstream sees every header)."""
    async with recording_upstream() as (url, record):
        config = GatewayConfig(
            listen="127.0.0.1:0",
            upstream_url=url,
            api_key=CONFIGURED_KEY,
            caller_tokens_file=str(tokens_file),
            max_attempts=1,
            shutdown_grace=0.5,
        )
        async with Gateway(config) as gateway, grpc.aio.insecure_channel(gateway.address) as ch:
            error = await rpc_error(
                Stub(ch).GetBatchStatus(
                    pb.GetBatchStatusRequest(batch_id=UNKNOWN), metadata=bearer(FILE_TOKEN)
                )
            )
    assert error.code() == grpc.StatusCode.NOT_FOUND
    assert len(record.requests) == 1
    _, headers = record.requests[0]
    assert headers["authorization"] == f"Bearer {CONFIGURED_KEY}"
    assert not any(FILE_TOKEN in value for value in headers.values())


CALLS: dict[str, Callable[[Stub, Any], Awaitable[Any]]] = {
    "CreateBatch": lambda stub, md: stub.CreateBatch(express(source(1)), metadata=md),
    "GetBatchStatus": lambda stub, md: stub.GetBatchStatus(
        pb.GetBatchStatusRequest(batch_id=UNKNOWN), metadata=md
    ),
    "ListManifests": lambda stub, md: stub.ListManifests(pb.ListManifestsRequest(), metadata=md),
    "WatchBatchStatus": lambda stub, md: drain(
        stub.WatchBatchStatus(pb.WatchBatchStatusRequest(batch_id=UNKNOWN), metadata=md)
    ),
}


@pytest.mark.parametrize("rpc", CALLS)
async def test_wrong_caller_token_is_unauthenticated_before_any_upstream_call(
    stub: Stub, sandbox: SandboxServer, rpc: str
) -> None:
    """A bearer token with the caller-token prefix that is not a caller token is
    UNAUTHENTICATED (CALLER_UNAUTHENTICATED), unary or streaming: the upstream hears nothing,
    the configured key is not spent, and the token is not echoed."""
    error = await rpc_error(CALLS[rpc](stub, bearer(WRONG_TOKEN)))
    assert_error(error, grpc.StatusCode.UNAUTHENTICATED, "CALLER_UNAUTHENTICATED")
    for secret in SECRETS:
        assert_secret_free(error, secret)
    assert await upstream_total(sandbox) == 0


@pytest.mark.parametrize("rpc", CALLS)
async def test_no_credentials_with_caller_auth_is_unauthenticated(
    stub: Stub, sandbox: SandboxServer, rpc: str
) -> None:
    """With caller authentication configured, a call with no bearer token (and no client
    certificate) is UNAUTHENTICATED (CALLER_UNAUTHENTICATED) before any upstream call: the
    configured key is never used for it, and the message says how to authenticate."""
    error = await rpc_error(CALLS[rpc](stub, ()))
    assert_error(error, grpc.StatusCode.UNAUTHENTICATED, "CALLER_UNAUTHENTICATED")
    assert "authorization: Bearer" in (error.details() or "")
    assert await upstream_total(sandbox) == 0


async def test_malformed_authorization_is_still_malformed(
    stub: Stub, sandbox: SandboxServer
) -> None:
    """A malformed authorization value stays CREDENTIALS_MALFORMED with caller auth on."""
    error = await rpc_error(
        stub.ListManifests(pb.ListManifestsRequest(), metadata=(("authorization", "Basic x"),))
    )
    assert_error(error, grpc.StatusCode.UNAUTHENTICATED, "CREDENTIALS_MALFORMED")
    assert await upstream_total(sandbox) == 0


async def test_callers_own_sofer_token_passes_through(stub: Stub, sandbox: SandboxServer) -> None:
    """A caller's own Sofer.ai token (no caller-token prefix) needs no caller authentication:
    it is forwarded upstream and the batch is in that token's tenant, not the configured key's."""
    created = await create_express(stub, source(1), token=TOKEN)
    assert await upstream_sees(sandbox, TOKEN, created.batch_id) == 200
    assert await upstream_sees(sandbox, CONFIGURED_KEY, created.batch_id) == 404


# -- mutual TLS ---------------------------------------------------------------------------------


@pytest.fixture
async def mtls_stub(gateway: Gateway, pki: Pki) -> AsyncIterator[Stub]:
    """A stub on a TLS channel presenting the client certificate the test CA signed."""
    async with grpc.aio.secure_channel(gateway.address, credentials(pki, pki.client)) as channel:
        yield Stub(channel)


@mutual_tls
async def test_verified_client_certificate_spends_the_configured_key(
    logs: io.StringIO, mtls_stub: Stub, sandbox: SandboxServer
) -> None:
    """With mutual TLS, a client whose certificate the handshake verified is an authenticated
    caller: without any token it spends the configured key, and the call's log line names the
    certificate's subject."""
    created: pb.CreateBatchResponse = await mtls_stub.CreateBatch(express(source(1)))
    assert await upstream_sees(sandbox, CONFIGURED_KEY, created.batch_id) == 200
    [line] = [line for line in rpc_lines(logs) if line["rpc"] == "CreateBatch"]
    assert line["caller"] == "cert:CN=billing-service"


@mutual_tls
async def test_certificate_holder_with_own_token_spends_its_own(
    mtls_stub: Stub, sandbox: SandboxServer
) -> None:
    """A certificate holder that sends its own Sofer.ai token spends that token, as anyone
    does; a wrong caller token is refused even with a good certificate."""
    created = await create_express(mtls_stub, source(1), token=TOKEN)
    assert await upstream_sees(sandbox, TOKEN, created.batch_id) == 200
    error = await rpc_error(create_express(mtls_stub, source(1), token=WRONG_TOKEN))
    assert_error(error, grpc.StatusCode.UNAUTHENTICATED, "CALLER_UNAUTHENTICATED")


# -- without caller authentication ---------------------------------------------------------------


@no_caller_auth
async def test_without_caller_auth_the_configured_key_serves_anyone(
    stub: Stub, sandbox: SandboxServer
) -> None:
    """With no caller authentication configured (on loopback), a call without credentials
    spends the configured key, as before caller authentication existed."""
    created: pb.CreateBatchResponse = await stub.CreateBatch(express(source(1)))
    assert await upstream_sees(sandbox, CONFIGURED_KEY, created.batch_id) == 200


@no_caller_auth
async def test_caller_token_prefix_is_never_forwarded(stub: Stub, sandbox: SandboxServer) -> None:
    """A bearer token with the caller-token prefix is never taken for a Sofer.ai token, even on
    a gateway without caller tokens: UNAUTHENTICATED, and nothing goes upstream."""
    error = await rpc_error(create_express(stub, source(1), token=FILE_TOKEN))
    assert_error(error, grpc.StatusCode.UNAUTHENTICATED, "CALLER_UNAUTHENTICATED")
    assert await upstream_total(sandbox) == 0


# -- no token in any log line -------------------------------------------------------------------


async def test_no_token_in_any_log_line(logs: io.StringIO, stub: Stub) -> None:
    """A session of good, wrong, missing and own tokens logs none of them, nor the configured
    key: the caller-token call's line names the caller by a hash prefix only, and the refused
    calls' lines carry the reason."""
    created = await create_express(stub, source(1), token=FILE_TOKEN)
    await create_express(stub, source(2), token=TOKEN)
    for metadata in (bearer(WRONG_TOKEN), ()):
        await rpc_error(
            stub.GetBatchStatus(
                pb.GetBatchStatusRequest(batch_id=created.batch_id), metadata=metadata
            )
        )
    text = logs.getvalue()
    assert "gateway serving" in text
    for secret in SECRETS:
        assert secret not in text
    lines = rpc_lines(logs)
    assert len(lines) == 4
    assert re.fullmatch(r"token:[0-9a-f]{12}", lines[0]["caller"])
    assert "caller" not in lines[1]
    assert [line.get("reason") for line in lines[2:]] == ["CALLER_UNAUTHENTICATED"] * 2


# -- settings -----------------------------------------------------------------------------------


def _tokens(tmp_path: Path, text: str) -> GatewayConfig:
    path = tmp_path / "tokens"
    path.write_text(text)
    return GatewayConfig(caller_tokens_file=str(path))


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("# only a comment\n\n", "no tokens"),
        ("sgw_0123456789abcdef0123\nplain-token-0123456789abcdef\n", "line 2"),
        ("sgw_short\n", "line 1"),
        ("sgw_0123456789abcdef 0123\n", "line 1"),
    ],
    ids=["empty", "no-prefix", "too-short", "two-words"],
)
def test_caller_tokens_file_that_cannot_work_is_refused(
    tmp_path: Path, text: str, where: str
) -> None:
    """A caller-tokens file without tokens, or with a token that breaks the rules (the prefix,
    16 characters after it, one word), is a ConfigError naming the flag and the line but never
    the token."""
    with pytest.raises(ConfigError) as raised:
        CallerAuth.from_config(_tokens(tmp_path, text), mtls=False)
    message = str(raised.value)
    assert "--caller-tokens-file" in message
    assert where in message
    for word in text.split():
        if word.startswith(("sgw_", "plain-token")):
            assert word not in message


def test_unreadable_caller_tokens_file_is_refused(tmp_path: Path) -> None:
    """A caller-tokens file that cannot be read is a ConfigError naming the flag."""
    config = GatewayConfig(caller_tokens_file=str(tmp_path / "missing"))
    with pytest.raises(ConfigError, match=r"--caller-tokens-file .*cannot read"):
        CallerAuth.from_config(config, mtls=False)


def test_bad_environment_token_is_refused() -> None:
    """A token from SOFER_GATEWAY_CALLER_TOKENS that breaks the rules is refused, naming the
    variable and the entry, not the token."""
    config = GatewayConfig(caller_tokens=(ENV_TOKEN, "no-prefix-0123456789abcdef"))
    with pytest.raises(ConfigError) as raised:
        CallerAuth.from_config(config, mtls=False)
    assert "SOFER_GATEWAY_CALLER_TOKENS: entry 2" in str(raised.value)
    assert "no-prefix-0123456789abcdef" not in str(raised.value)


def test_caller_auth_keeps_only_hashes(tokens_file: Path) -> None:
    """CallerAuth holds digests, not tokens; it knows its tokens and no others."""
    auth = CallerAuth.from_config(
        GatewayConfig(caller_tokens_file=str(tokens_file), caller_tokens=(ENV_TOKEN,)),
        mtls=False,
    )
    assert auth.tokens == 2
    assert auth.enabled
    held = repr(vars(auth))
    assert FILE_TOKEN not in held
    assert ENV_TOKEN not in held
    assert auth.token_identity(FILE_TOKEN) is not None
    assert auth.token_identity(WRONG_TOKEN) is None
    assert not CallerAuth().enabled
    assert CallerAuth(mtls=True).enabled


def test_environment_tokens_reach_the_config() -> None:
    """SOFER_GATEWAY_CALLER_TOKENS is split on commas, blanks dropped, and never shown by the
    config's repr."""
    from gateway.config import from_args
    from gateway.main import build_parser

    args = build_parser().parse_args(["serve"])
    config = from_args(
        args, environ={"SOFER_GATEWAY_CALLER_TOKENS": f" {FILE_TOKEN}, ,{ENV_TOKEN} "}
    )
    assert config.caller_tokens == (FILE_TOKEN, ENV_TOKEN)
    assert FILE_TOKEN not in repr(config)


@pytest.mark.parametrize(
    ("listen", "loopback"),
    [
        ("127.0.0.1:50051", True),
        ("127.8.9.10:0", True),
        ("localhost:50051", True),
        ("LOCALHOST:1", True),
        ("[::1]:50051", True),
        ("[::ffff:127.0.0.1]:1", True),
        ("unix:/tmp/gateway.sock", True),
        ("0.0.0.0:50051", False),
        ("[::]:50051", False),
        (":50051", False),
        ("10.1.2.3:50051", False),
        ("gateway.example.com:50051", False),
    ],
)
def test_loopback_addresses(listen: str, loopback: bool) -> None:
    """Loopback is 127.0.0.0/8, ::1 and localhost (and a unix socket); every interface, any
    other address and any other name are not."""
    assert is_loopback(listen) is loopback


@pytest.mark.parametrize(
    ("changes", "callers", "refused"),
    [
        ({}, CallerAuth(), True),
        ({"allow_unauthenticated_callers": True}, CallerAuth(), False),
        ({}, CallerAuth([FILE_TOKEN]), False),
        ({}, CallerAuth(mtls=True), False),
        ({"api_key": None}, CallerAuth(), False),
        ({"listen": "127.0.0.1:50051"}, CallerAuth(), False),
    ],
    ids=["refused", "allowed", "tokens", "mtls", "no-key", "loopback"],
)
def test_exposure_rule(changes: dict[str, Any], callers: CallerAuth, refused: bool) -> None:
    """A key, a non-loopback address and no caller authentication refuse to start unless
    --allow-unauthenticated-callers; any caller authentication, no key, or loopback start."""
    config = dataclasses.replace(
        GatewayConfig(listen="0.0.0.0:50051", api_key=CONFIGURED_KEY), **changes
    )
    if refused:
        with pytest.raises(ConfigError, match="--allow-unauthenticated-callers"):
            check_exposure(config, callers)
    else:
        check_exposure(config, callers)


# -- the start-up refusal, as a process ---------------------------------------------------------

EXPOSED = ("--listen", "0.0.0.0:0", "--upstream-url", "http://127.0.0.1:9")


async def test_serve_refuses_an_exposed_key_without_caller_auth() -> None:
    """`serve --listen 0.0.0.0:0` with SOFER_API_KEY and no caller authentication exits 2
    with one line naming --allow-unauthenticated-callers, and never prints the key."""
    status, out, err = await run_serve(*EXPOSED, env={"SOFER_API_KEY": CONFIGURED_KEY})
    assert status == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "--allow-unauthenticated-callers" in lines[0]
    assert "Traceback" not in out + err
    assert CONFIGURED_KEY not in out + err


async def test_serve_refuses_an_unreadable_caller_tokens_file(tmp_path: Path) -> None:
    """`serve --caller-tokens-file` naming a missing file exits 2 with one line naming the
    flag."""
    status, _, err = await run_serve("--caller-tokens-file", str(tmp_path / "missing"))
    assert status == 2
    assert err.strip().startswith("sofer-gateway serve: error: --caller-tokens-file")


async def _serve_then_stop(*flags: str, env: dict[str, str], check: Any = None) -> str:
    """Start serve, let `check(port)` run against it, SIGTERM it; all it printed."""
    process, address = await start_serve(*flags, env=env)
    try:
        if check is not None:
            await check(int(address.rsplit(":", 1)[1]))
    finally:
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 30) == 0
    assert process.stdout is not None
    return (await process.stdout.read()).decode()


async def test_serve_starts_exposed_with_the_explicit_flag() -> None:
    """With --allow-unauthenticated-callers the same exposed gateway starts (and stops on
    SIGTERM), and never prints the key."""
    rest = await _serve_then_stop(
        *EXPOSED, "--allow-unauthenticated-callers", env={"SOFER_API_KEY": CONFIGURED_KEY}
    )
    assert CONFIGURED_KEY not in rest


async def test_serve_starts_exposed_with_caller_tokens(sandbox: SandboxServer) -> None:
    """An exposed gateway with caller tokens from the environment starts without the flag; a
    call without a token is refused and a caller-token call spends the key."""

    async def check(port: int) -> None:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = Stub(channel)
            error = await rpc_error(stub.CreateBatch(express(source(1)), timeout=10))
            assert_error(error, grpc.StatusCode.UNAUTHENTICATED, "CALLER_UNAUTHENTICATED")
            created = await create_express(stub, source(1), token=ENV_TOKEN)
        assert await upstream_sees(sandbox, CONFIGURED_KEY, created.batch_id) == 200

    rest = await _serve_then_stop(
        "--listen",
        "0.0.0.0:0",
        "--upstream-url",
        sandbox.url,
        env={
            "SOFER_API_KEY": CONFIGURED_KEY,
            "SOFER_GATEWAY_CALLER_TOKENS": ENV_TOKEN,
        },
        check=check,
    )
    for secret in (CONFIGURED_KEY, ENV_TOKEN):
        assert secret not in rest
