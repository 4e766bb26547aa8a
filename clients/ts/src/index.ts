/**
 * @sofer-ai/gateway-client: the generated client of the sofer-gateway contract (protos/, with
 * protoc-gen-es) and the two things every caller writes otherwise: a client for a "host:port"
 * target with its bearer token, and the decoding of the gateway's error details (ErrorInfo,
 * BadRequest, RetryInfo) from a ConnectError.
 */
import { durationMs } from "@bufbuild/protobuf/wkt";
import { type Client, Code, ConnectError, type Interceptor, createClient } from "@connectrpc/connect";
import { type GrpcTransportOptions, createGrpcTransport } from "@connectrpc/connect-node";

import {
  BadRequestSchema,
  ErrorInfoSchema,
  RetryInfoSchema,
} from "../gen/google/rpc/error_details_pb.js";
import { BatchTranscriptionService } from "../gen/sofer/batch/v1/batch_service_pb.js";

export * from "../gen/sofer/batch/v1/batch_pb.js";
export * from "../gen/sofer/batch/v1/batch_service_pb.js";
export { Code, ConnectError };

/** The ErrorInfo domain of every error the gateway itself sends. */
export const GATEWAY_DOMAIN = "sofer-gateway";

/** One broken rule of a request: the field's path (`audio_sources[0].audio_url`) and why. */
export interface FieldViolation {
  readonly field: string;
  readonly description: string;
  readonly reason: string;
}

/** What a failed call says, decoded from its `grpc-status-details-bin` trailer. */
export interface GatewayError {
  /** The gRPC status code (`Code.InvalidArgument`, ...). */
  readonly code: Code;
  /** The gateway's message, without the code prefix ConnectError's `message` adds. */
  readonly message: string;
  /** ErrorInfo's UPPER_SNAKE reason (`REQUEST_INVALID`, README "Errors"); "" when the error
   * carries no ErrorInfo (it did not come from the gateway: a proxy, the network, a bug). */
  readonly reason: string;
  /** ErrorInfo's domain: `sofer-gateway` for the gateway's own errors; "" without ErrorInfo. */
  readonly domain: string;
  /** ErrorInfo's metadata (`batch_id`, `request_id`, ...); empty without ErrorInfo. */
  readonly metadata: Readonly<Record<string, string>>;
  /** BadRequest's field violations (INVALID_ARGUMENT `REQUEST_INVALID`); empty otherwise. */
  readonly fieldViolations: readonly FieldViolation[];
  /** RetryInfo's delay in milliseconds: wait this long before retrying; undefined without it. */
  readonly retryDelayMs: number | undefined;
  /** The ConnectError itself, for `findDetails` of any other detail (QuotaFailure, ...). */
  readonly error: ConnectError;
}

/**
 * Decode what the gateway says about a failed call. Takes whatever a call threw (a
 * ConnectError, or anything else, which ConnectError.from wraps as Code.Unknown) and never
 * throws: a detail that cannot be decoded is left out, as ConnectError.findDetails does.
 */
export function gatewayError(thrown: unknown): GatewayError {
  const error = ConnectError.from(thrown);
  const [info] = error.findDetails(ErrorInfoSchema);
  const fieldViolations = error
    .findDetails(BadRequestSchema)
    .flatMap((request) => request.fieldViolations)
    .map(({ field, description, reason }) => ({ field, description, reason }));
  const delay = error.findDetails(RetryInfoSchema)[0]?.retryDelay;
  return {
    code: error.code,
    message: error.rawMessage,
    reason: info?.reason ?? "",
    domain: info?.domain ?? "",
    metadata: { ...info?.metadata },
    fieldViolations,
    retryDelayMs: delay === undefined ? undefined : durationMs(delay),
    error,
  };
}

/** Options of createGatewayClient. */
export interface GatewayClientOptions {
  /** Sent as `authorization: Bearer TOKEN` on every call; without one (or with ""), the
   * gateway uses its own configured key, as `make run`'s does. */
  readonly token?: string | undefined;
  /** Anything else for connect-node's gRPC transport (TLS `nodeOptions`, interceptors, ...). */
  readonly transport?: Partial<GrpcTransportOptions> | undefined;
}

/**
 * A BatchTranscriptionService client over gRPC (HTTP/2) for `target`: `host:port` is plaintext
 * (prior knowledge, as the gateway serves it on loopback), a `http://` or `https://` URL is used
 * as it is (https: TLS, with `transport.nodeOptions` for a private CA or a client certificate).
 */
export function createGatewayClient(
  target: string,
  options: GatewayClientOptions = {},
): Client<typeof BatchTranscriptionService> {
  const baseUrl = /^https?:\/\//.test(target) ? target : `http://${target}`;
  const { token, transport = {} } = options;
  const interceptors: Interceptor[] = [...(transport.interceptors ?? [])];
  if (token) {
    interceptors.unshift((next) => (request) => {
      request.header.set("authorization", `Bearer ${token}`);
      return next(request);
    });
  }
  return createClient(
    BatchTranscriptionService,
    createGrpcTransport({ ...transport, baseUrl, interceptors }),
  );
}
