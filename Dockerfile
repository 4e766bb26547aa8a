# syntax=docker/dockerfile:1
# sofer-gateway: a wheel built in one stage, installed with its runtime dependencies only (no
# `dev` extra) in a slim image that runs as an unprivileged user. docs/deployment.md explains
# each choice; tests/test_deploy.py checks them.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- build: the project's wheel (generated/ is committed, so no protoc is needed here) -------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_ROOT_USER_ACTION=ignore
WORKDIR /src
COPY pyproject.toml README.md ./
COPY gateway/ gateway/
COPY generated/ generated/
RUN pip wheel --no-deps --wheel-dir /dist .

# --- runtime: the wheel and what it depends on, nothing else --------------------------------
FROM ${PYTHON_IMAGE} AS runtime
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_ROOT_USER_ACTION=ignore \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
# The wheel is bind-mounted from the build stage, so no layer keeps a copy of it. pip compiles
# the bytecode now: the root filesystem is read-only at run time (PYTHONDONTWRITEBYTECODE).
RUN --mount=type=bind,from=build,source=/dist,target=/dist \
    pip install /dist/*.whl
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
