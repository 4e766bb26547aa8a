"""Exit codes, and the errors a client command reports as one line on stderr (never a traceback)."""

from __future__ import annotations

import enum
from collections.abc import Awaitable
from typing import TypeVar

import grpc
from sofer_gateway_client import GatewayError, from_rpc_error

T = TypeVar("T")


class ExitCode(enum.IntEnum):
    """The exit statuses of `submit` and `watch` (documented in docs/cli.md)."""

    OK = 0
    BATCH_FAILED = 1
    USAGE = 2
    RPC_ERROR = 3
    MANIFEST_REJECTED = 4
    INTERRUPTED = 130
    BROKEN_PIPE = 141


class ClientError(Exception):
    """An error a command reports on stderr, then exits with `exit_code`."""

    exit_code: ExitCode = ExitCode.RPC_ERROR


class UsageError(ClientError):
    """The command line (or a file it names) is wrong; nothing was sent."""

    exit_code = ExitCode.USAGE


class ManifestRejected(ClientError):
    """The manifest was not validated: INVALID (with its errors), or not done in time."""

    exit_code = ExitCode.MANIFEST_REJECTED


class RpcFailed(ClientError):
    """An RPC ended with a non-OK status: the message names the RPC, the code and the details;
    `error` is the client package's typed error with the decoded details (ErrorInfo reason,
    field violations, RetryInfo), when there is one."""

    def __init__(
        self,
        rpc: str,
        code: grpc.StatusCode,
        details: str,
        *,
        note: str = "",
        error: GatewayError | None = None,
    ) -> None:
        self.rpc = rpc
        self.code = code
        self.details = details
        self.error = error
        text = f"{rpc} failed: {code.name}"
        if details:
            text += ": " + " ".join(details.split())
        if note:
            text += "; " + note
        super().__init__(text)

    @classmethod
    def from_gateway_error(cls, rpc: str, error: GatewayError) -> RpcFailed:
        """The failure of `rpc` with the code and message of the typed `error`."""
        return cls(rpc, error.code, error.message, error=error)

    @classmethod
    def from_error(cls, rpc: str, error: grpc.aio.AioRpcError) -> RpcFailed:
        """The failure of `rpc` with the status of `error` (decoded by the client package)."""
        return cls.from_gateway_error(rpc, from_rpc_error(error))


async def call_rpc(rpc: str, call: Awaitable[T]) -> T:
    """Await a unary call; a non-OK status becomes `RpcFailed` naming `rpc`."""
    try:
        return await call
    except grpc.aio.AioRpcError as error:
        raise RpcFailed.from_error(rpc, error) from None
