# Wharf — the two commands of the README are `make run` and `make test`.
SWIFT ?= swift
DATA_DIR ?= $(CURDIR)/.wharf-data
CONFIG ?= etc/wharf/wharf.yaml
FORMAT_PATHS = Package.swift Sources Tests Benchmarks

.PHONY: run build test unit e2e lint format bench clean

## Installs what is missing, builds, and runs wharfd on the shipped default config.
run:
	scripts/install-deps.sh run
	$(SWIFT) build --product wharfd
	.build/debug/wharfd --config $(CONFIG) --data-dir $(DATA_DIR)

build:
	$(SWIFT) build

## Installs what the tests need and runs every test: lint, Swift unit tests, end-to-end suites.
test:
	scripts/install-deps.sh test
	scripts/e2e-env.sh
	$(MAKE) lint
	$(SWIFT) build --build-tests
	$(MAKE) unit
	$(MAKE) e2e

unit:
	$(SWIFT) test --skip-build

e2e:
	WHARFD=$(CURDIR)/.build/debug/wharfd .venv/bin/python -m pytest -q Tests/EndToEnd

lint:
	$(SWIFT) format lint --strict --recursive $(FORMAT_PATHS)

format:
	$(SWIFT) format --in-place --recursive $(FORMAT_PATHS)

## Benchmarks against Mosquitto and bare SQLite on this machine (see docs/benchmarks.md).
bench:
	scripts/install-deps.sh bench
	scripts/bench.sh
	scripts/bench-store.sh
	scripts/bench-coap.sh

clean:
	rm -rf .build .wharf-data
