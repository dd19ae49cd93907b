# Wharf — the two commands of the README are `make run` and `make test`.
SWIFT ?= swift
DATA_DIR ?= $(CURDIR)/.wharf-data
CONFIG ?= etc/wharf/wharf.yaml
FORMAT_PATHS = Package.swift Sources Tests Benchmarks

.PHONY: run build test unit e2e lint format bench deb package-test clean

## Installs what is missing, builds, and runs wharfd on the shipped default config.
run:
	scripts/install-deps.sh run
	$(SWIFT) build --product wharfd
	.build/debug/wharfd --config $(CONFIG) --data-dir $(DATA_DIR)

build:
	$(SWIFT) build

## Installs what the tests need and runs every test: lint, Swift unit tests, end-to-end suites,
## then the package's install test.
test:
	scripts/install-deps.sh test
	scripts/e2e-env.sh
	$(MAKE) lint
	$(SWIFT) build --build-tests
	$(MAKE) unit
	$(MAKE) e2e
	$(MAKE) package-test

unit:
	$(SWIFT) test --skip-build

e2e:
	WHARFD=$(CURDIR)/.build/debug/wharfd .venv/bin/python -m pytest -q Tests/EndToEnd

lint:
	$(SWIFT) format lint --strict --recursive $(FORMAT_PATHS)

format:
	$(SWIFT) format --in-place --recursive $(FORMAT_PATHS)

## Builds dist/wharf_<version>-<revision>_<arch>.deb from static release binaries (docs/install.md).
# Full RELRO (-z now): the GOT is read-only once the daemon runs.
RELEASE_FLAGS = -c release --static-swift-stdlib -Xlinker -z -Xlinker now
deb:
	scripts/install-deps.sh package
	$(SWIFT) build $(RELEASE_FLAGS) --product wharfd
	$(SWIFT) build $(RELEASE_FLAGS) --product wharfctl
	packaging/build-deb.sh --bin-dir "$$($(SWIFT) build $(RELEASE_FLAGS) --show-bin-path)" --out dist

## Install test of the .deb in a fresh Debian 12 root: lintian, install, run, upgrade, purge.
package-test: deb
	packaging/test-install.sh

## Benchmarks against Mosquitto and bare SQLite on this machine (see docs/benchmarks.md).
bench:
	scripts/install-deps.sh bench
	scripts/bench.sh
	scripts/bench-store.sh
	scripts/bench-modbus.sh
	scripts/bench-coap.sh
	scripts/bench-appliance.sh

clean:
	rm -rf .build .wharf-data
