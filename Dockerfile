# syntax=docker/dockerfile:1
# sofer-gateway: a wheel built in one stage, installed with its runtime dependencies only (no
# `dev` extra, no sandbox: the image always runs against SOFER_API_KEY/SOFER_API_URL) in a slim
# image that runs as an unprivileged user: the last stage, `runtime`, what `docker build .`
# makes. `--target sandbox` makes the gateway with its sandbox extra instead, the stand-in
# upstream of deploy/compose/ and a local demo, never a production image. Every package either
# installs or builds with is pinned, with its hashes, in requirements/ (`make lock`).
# docs/deployment.md explains each choice; tests/deploy/ checks them.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- build: the project's wheels, the gateway's and the Python client's (sofer-gateway-client,
# which ships the generated stubs: clients/python/src/sofer links to generated/sofer; generated/
# is committed, so no protoc is needed here) -----------------------------------------------------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_ROOT_USER_ACTION=ignore
WORKDIR /src
# The build backend at its locked version (build-system.requires, checked against the hashes),
# so that the wheel is built the same way on every run.
COPY requirements/build.txt requirements/
RUN pip install --require-hashes -r requirements/build.txt
COPY pyproject.toml README.md ./
COPY gateway/ gateway/
COPY generated/sofer/ generated/sofer/
COPY clients/python/ clients/python/
RUN pip wheel --no-deps --no-build-isolation --wheel-dir /dist ./clients/python .

# --- sandbox: the gateway and its `sandbox` extra (pip install 'sofer-gateway[sandbox]') -----
# Built only for `--target sandbox`: BuildKit skips the stages the target does not need.
FROM build AS sandbox-build
COPY sandbox/ sandbox/
RUN pip wheel --no-deps --no-build-isolation --wheel-dir /dist ./sandbox

FROM ${PYTHON_IMAGE} AS sandbox
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_ROOT_USER_ACTION=ignore \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
RUN --mount=type=bind,source=requirements/sandbox.txt,target=/tmp/sandbox.txt \
    pip install --require-hashes -r /tmp/sandbox.txt
RUN --mount=type=bind,from=sandbox-build,source=/dist,target=/dist \
    pip install --no-deps /dist/*.whl
RUN groupadd --system --gid 10001 sofer \
    && useradd --system --uid 10001 --gid sofer --no-create-home --shell /usr/sbin/nologin sofer
USER 10001:10001
# The gateway (with no key and no URL it serves the embedded sandbox), or `sandbox` alone.
EXPOSE 50051 8001
ENTRYPOINT ["sofer-gateway"]
CMD ["serve", "--listen", "0.0.0.0:50051"]

# --- runtime: the wheels and what they depend on, nothing else -----------------------------
FROM ${PYTHON_IMAGE} AS runtime
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_ROOT_USER_ACTION=ignore \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
# The dependencies first, exactly as locked (each download checked against its hashes), then the
# gateway's and the client's wheels alone (--no-deps: they add nothing the lock did not pin). Both are bind-mounted, so no
# layer keeps a copy of them. pip compiles the bytecode now: the root filesystem is read-only at
# run time (PYTHONDONTWRITEBYTECODE).
RUN --mount=type=bind,source=requirements/runtime.txt,target=/tmp/runtime.txt \
    pip install --require-hashes -r /tmp/runtime.txt
RUN --mount=type=bind,from=build,source=/dist,target=/dist \
    pip install --no-deps /dist/*.whl
# A numeric uid, so that Kubernetes' runAsNonRoot can verify it (deploy/kubernetes/).
RUN groupadd --system --gid 10001 sofer \
    && useradd --system --uid 10001 --gid sofer --no-create-home --shell /usr/sbin/nologin sofer
USER 10001:10001
# gRPC, and the Prometheus metrics port (--metrics-listen).
EXPOSE 50051 9464
# Docker's own probe; Kubernetes ignores it and uses the native gRPC probes instead. Against a
# TLS port, set SOFER_GATEWAY_TARGET to the --health-listen port (docs/deployment.md).
HEALTHCHECK --interval=15s --timeout=5s --start-period=10s --retries=3 \
    CMD ["sofer-gateway", "health", "--timeout", "3"]
# The exec form: the gateway is PID 1 and gets SIGTERM itself, which starts its drain.
ENTRYPOINT ["sofer-gateway"]
CMD ["serve", "--listen", "0.0.0.0:50051"]
