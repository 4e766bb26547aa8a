# One entry point for every task. Each target installs what it needs into .venv first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PROTOS := $(shell find protos -name '*.proto' 2>/dev/null)

.PHONY: install run test lint generate check-generated clean bench

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## The gateway with the embedded sandbox upstream, ready for a client.
run: $(STAMP)
	$(BIN)/sofer-gateway serve

## Everything green: the whole test suite (the Node interop test needs node-deps).
test: $(STAMP) node-deps
	$(BIN)/python -m pytest --durations=15

## The benchmark against the official soferai SDK (bench/README.md); not part of test or CI.
bench: $(STAMP)
	$(BIN)/python -m bench.run

## ruff, mypy (strict, generated/ excluded) and buf lint.
lint: $(STAMP) buf-lint
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

## Regenerate generated/ from protos/ (committed; CI fails when stale).
generate: $(STAMP)
	rm -rf generated/sofer
	$(BIN)/python -m grpc_tools.protoc -Iprotos \
		--python_out=generated --pyi_out=generated --grpc_python_out=generated $(PROTOS)

check-generated: generate
	@git diff --exit-code --stat -- generated/ || \
		{ echo "generated/ is stale: run 'make generate' and commit the result"; exit 1; }
	@test -z "$$(git status --porcelain -- generated/)" || \
		{ echo "generated/ has untracked files: run 'make generate' and commit"; exit 1; }

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build *.egg-info

## Node tooling from package-lock.json (buf, and @grpc/grpc-js + @grpc/proto-loader for the
## interop client in tests/interop/node/): `npm ci` when node_modules is missing or older than
## the lock file.
NODE_STAMP := node_modules/.stamp
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $(NODE_STAMP)

.PHONY: node-deps
node-deps: $(NODE_STAMP)

## Lint protos/ with buf (rules in buf.yaml); buf itself comes from npm (package.json).
.PHONY: buf-lint
buf-lint: node-deps
	node_modules/.bin/buf lint
