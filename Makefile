# One entry point for every task. Each target installs what it needs into .venv first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PROTOS := $(shell find protos -name '*.proto' 2>/dev/null)

.PHONY: install lock lock-upgrade run test coverage lint generate check-generated clean bench bench-quick bench-tools

## The lock files (README "Install"): every version installed by make install, CI and the
## Dockerfile, each with its hashes. dev.txt: the gateway, its `dev` extra and the sandbox's
## dependencies; runtime.txt: what a production install of the gateway needs (no sandbox, no dev
## tools: the Dockerfile's image); sandbox.txt: the gateway with its `sandbox` extra (the
## Dockerfile's `sandbox` target); build.txt: the build backend (setuptools) the local packages
## are built with. All four are written by `make lock` from pyproject.toml and
## sandbox/pyproject.toml, never by hand.
LOCK_DEV := requirements/dev.txt
LOCK_RUNTIME := requirements/runtime.txt
LOCK_SANDBOX := requirements/sandbox.txt
LOCK_BUILD := requirements/build.txt

## pip checks every download against the lock's hashes (--require-hashes); the three local
## packages (the sandbox, the Python client clients/python and the gateway) cannot carry hashes,
## so they come last, without dependencies (--no-deps) and built by the locked setuptools
## (--no-build-isolation).
LOCAL_PYPROJECTS := pyproject.toml sandbox/pyproject.toml clients/python/pyproject.toml
$(STAMP): $(LOCK_DEV) $(LOCK_BUILD) $(LOCAL_PYPROJECTS)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --require-hashes -r $(LOCK_BUILD)
	$(BIN)/python -m pip install -q --require-hashes -r $(LOCK_DEV)
	$(BIN)/python -m pip install -q --no-deps --no-build-isolation \
		-e ./sandbox -e ./clients/python -e .
	touch $(STAMP)

install: $(STAMP)

## Resolved for every platform (--universal) from Python 3.11 (requires-python) up, against the
## package index (PyPI; UV_DEFAULT_INDEX names another). A version already in a lock file stays
## unless a range excludes it: `make lock-upgrade` moves everything to the newest allowed.
## The others are constrained to dev.txt's versions, so that the images run what the tests ran.
## sofer-gateway-client (clients/python) is resolved from the tree ([tool.uv.sources] in
## pyproject.toml), its dependencies locked, itself left out: it is installed from the tree.
UV_COMPILE := $(BIN)/uv pip compile --quiet --no-config --system-certs --universal \
	--python-version 3.11 --generate-hashes --custom-compile-command 'make lock' \
	--no-emit-package sofer-gateway-client
BUILD_REQUIRES := $(BIN)/python -c 'import sys, tomllib; print(*sorted({r for p in sys.argv[1:] \
	for r in tomllib.load(open(p, "rb"))["build-system"]["requires"]}), sep="\n")'

## Only the venv's uv is needed, not an up-to-date venv (order-only): after a merge, the lock
## files may be stale or in conflict, and this is what rewrites them.
lock: | $(STAMP)
	@test -x $(BIN)/uv || { echo "make lock: $(BIN)/uv is missing: run 'make install' first" >&2; exit 1; }
	@mkdir -p requirements
	$(UV_COMPILE) $(LOCK_ARGS) --extra dev -o $(LOCK_DEV) pyproject.toml sandbox/pyproject.toml
	$(UV_COMPILE) -c $(LOCK_DEV) -o $(LOCK_RUNTIME) pyproject.toml
	$(UV_COMPILE) -c $(LOCK_DEV) -o $(LOCK_SANDBOX) pyproject.toml sandbox/pyproject.toml
	$(BUILD_REQUIRES) $(LOCAL_PYPROJECTS) \
		| $(UV_COMPILE) -c $(LOCK_DEV) -o $(LOCK_BUILD) -

lock-upgrade: LOCK_ARGS := --upgrade
lock-upgrade: lock

## The gateway with the embedded sandbox upstream, ready for a client (the README's clients
## included: `buf curl` comes from node_modules): gRPC on 127.0.0.1:50051, and the same service
## over HTTP (Connect, gRPC-Web: curl, browsers; docs/connect.md) on 127.0.0.1:8080.
run: $(STAMP) node-deps
	$(BIN)/sofer-gateway serve --http-listen 127.0.0.1:8080

## Everything green: the whole test suite (the Node interop test needs node-deps; the Go and Java
## clients' tests need polyglot-tools; the Redis tests need redis-server, which they start
## themselves on a free loopback port; the browser test needs browser-tools).
test: $(STAMP) node-deps redis-server polyglot-tools browser-tools
	$(BIN)/python -m pytest -n 4 --dist loadgroup --durations=15

## The whole suite under coverage.py (pytest-cov, in the same 4 workers as `make test`): the
## gateway's and the sandbox's statements and branches, the `serve` processes the tests start
## included; missing lines per module in the terminal, the report in htmlcov/. Fails below the
## floor in pyproject.toml ([tool.coverage.report] fail_under).
coverage: $(STAMP) node-deps redis-server polyglot-tools browser-tools
	$(BIN)/python -m pytest -n 4 --dist loadgroup -p no:cacheprovider --cov --cov-report=term-missing:skip-covered --cov-report=html

## The Performance benchmark (bench/README.md): every scenario, figures beside the targets;
## writes bench/results/latest.json and docs/benchmarks.md. LABEL names its history row.
bench: $(STAMP) bench-tools
	$(BIN)/python -m bench.run --label "$(or $(LABEL),latest run)"

## The benchmark's smoke run (tiny sizes, ~25 s); skips what needs nginx/h2load when absent.
bench-quick: $(STAMP)
	$(BIN)/python -m bench.run --quick

## nginx-light and nghttp2-client (h2load) for `make bench`, installed with apt-get when missing.
bench-tools:
	bash bench/install-tools.sh

## The Go and Java toolchains and libraries the polyglot clients are generated with (make
## generate) and tested with (tests/interop/): Debian's packages, which work offline, installed
## with apt-get when missing (tools/debian-packages.sh). Go 1.19 builds in GOPATH mode against
## the gocode of the golang-*-dev packages; Java 17 compiles against the jars in /usr/share/java.
## protoc-gen-go-grpc, not golang-goprotobuf-dev (whose old protoc-gen-go replaces the current one).
## libgeronimo-annotation-1.3-spec-java: javax.annotation.Generated, which grpc-java's generated
## stub carries (Java 11 dropped it from the JDK; tests/helpers/java.py has the classpath).
GO_PACKAGES := golang-go protoc-gen-go protoc-gen-go-grpc golang-google-grpc-dev \
	golang-google-genproto-dev golang-google-protobuf-dev golang-github-golang-protobuf-1-5-dev
JAVA_PACKAGES := default-jdk-headless libprotobuf-java libgrpc-java libnetty-java \
	libperfmark-java libgoogle-gson-java libguava-java libgeronimo-annotation-1.3-spec-java \
	protobuf-compiler-grpc-java-plugin
.PHONY: polyglot-tools
polyglot-tools:
	@bash tools/debian-packages.sh protobuf-compiler $(GO_PACKAGES) $(JAVA_PACKAGES)

## The browser of the browser test (tests/browser/: a page calls the gateway over Connect):
## Debian's chromium, driven headless by Playwright (a dev dependency) through its
## executable_path, so no browser is ever downloaded; fonts-dejavu-core so that its screenshot
## (docs/first-call.md) has text.
BROWSER_PACKAGES := chromium fonts-dejavu-core
.PHONY: browser-tools
browser-tools:
	@bash tools/debian-packages.sh $(BROWSER_PACKAGES)

## redis-server for the Redis tests (docs/redis.md): Debian's package, installed with apt-get
## when the command is missing. It only installs: the tests start their own servers (never a
## system one). Elsewhere it fails saying how to install it (docs/redis.md has the commands).
.PHONY: redis-server
redis-server:
	@if command -v redis-server >/dev/null 2>&1; then \
		echo "redis-server: present ($$(command -v redis-server), $$(redis-server --version | cut -d' ' -f3))"; \
	elif command -v apt-get >/dev/null 2>&1; then \
		echo "redis-server: missing: apt-get update, then apt-get install redis-server"; \
		apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server && \
		echo "redis-server: installed ($$(command -v redis-server))"; \
	else \
		echo "redis-server: missing, and there is no apt-get here to install it: install Redis 6.2 or newer so that 'redis-server' is on PATH (macOS: brew install redis; Fedora/RHEL: dnf install redis; Alpine: apk add redis; see docs/redis.md), then run make again" >&2; \
		exit 1; \
	fi

## ruff, mypy (strict, generated/ excluded), the import layers (lint-imports: the contracts in
## pyproject.toml's [tool.importlinter]), buf lint and buf breaking.
lint: $(STAMP) buf-lint buf-breaking
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

## Regenerate generated/ from protos/ (committed; CI fails when stale): the Python code in
## generated/sofer/ (grpc_tools; the Python client package ships it: clients/python/src/sofer is
## a relative link to it); the Go and Java clients in generated/go/ and generated/java/ (buf
## generate, as buf.gen.yaml says; the Go and Java generators are Debian's, from
## polyglot-tools); the TypeScript code in generated/ts/, with google/rpc's error details, which
## the package clients/ts/ ships (buf.gen.ts.yaml); and the OpenAPI document of the Connect
## JSON endpoints, $(OPENAPI) (package data of the wheel, served at /openapi.json;
## docs/openapi.md), which tools/connect_openapi.py writes from the descriptor set `buf build`
## makes of protos/ (with source info: the proto comments become its descriptions).
OPENAPI := gateway/connect/openapi.json
generate: $(STAMP) node-deps polyglot-tools
	rm -rf generated/sofer
	$(BIN)/python -m grpc_tools.protoc -Iprotos \
		--python_out=generated --pyi_out=generated --grpc_python_out=generated $(PROTOS)
	$(BUF) generate
	$(BUF) generate --template buf.gen.ts.yaml
	set -o pipefail; $(BUF) build --as-file-descriptor-set -o - \
		| $(BIN)/python tools/connect_openapi.py - $(OPENAPI)

check-generated: generate
	@git diff --exit-code --stat -- generated/ $(OPENAPI) || \
		{ echo "generated/ or $(OPENAPI) is stale: run 'make generate' and commit the result"; exit 1; }
	@test -z "$$(git status --porcelain -- generated/ $(OPENAPI))" || \
		{ echo "generated/ or $(OPENAPI) is untracked: run 'make generate' and commit"; exit 1; }

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build *.egg-info .coverage .coverage.* htmlcov

## Node tooling from package-lock.json (buf; protoc-gen-es for generated/ts/ and
## @connectrpc/connect-node for its client in tests/interop/ts/; @grpc/grpc-js +
## @grpc/proto-loader for the interop client in tests/interop/node/): `npm ci` when node_modules
## is missing or older than the lock file. .npmrc's engine-strict makes it fail at once on a Node
## that package.json's "engines" (or a locked package's) does not accept.
NODE_STAMP := node_modules/.stamp
$(NODE_STAMP): package.json package-lock.json .npmrc
	npm ci --no-audit --no-fund
	touch $(NODE_STAMP)

.PHONY: node-deps
node-deps: $(NODE_STAMP)

## buf itself comes from npm (package.json).
BUF := node_modules/.bin/buf

## Lint protos/ with buf (rules in buf.yaml).
.PHONY: buf-lint
buf-lint: node-deps
	$(BUF) lint

## Breaking changes in protos/ (the working tree) against the previous commit, with the rules of
## buf.yaml's `breaking` (FILE): a removed or renumbered field, a renamed RPC, ... fails the build.
## Where there is no previous commit (the first one, a `git clone --depth 1`, no git at all) there
## is nothing to compare with: it says so and passes.
BREAKING_AGAINST := HEAD~1
.PHONY: buf-breaking
buf-breaking: node-deps
	@if ! git rev-parse --verify --quiet '$(BREAKING_AGAINST)^{commit}' >/dev/null 2>&1; then \
		echo "buf-breaking: skipped: no commit $(BREAKING_AGAINST) to compare protos/ with (first commit, shallow clone or no git repository)"; \
	else \
		echo "$(BUF) breaking --against '.git#ref=$(BREAKING_AGAINST)'"; \
		$(BUF) breaking --against '.git#ref=$(BREAKING_AGAINST)' || { \
			echo "buf-breaking: protos/ breaks the contract of $(BREAKING_AGAINST) ($$(git rev-parse --short '$(BREAKING_AGAINST)')) as listed above (rules: breaking in buf.yaml); restore the field or RPC, or reserve its number and name and add a new one"; \
			exit 1; }; \
	fi
