# Wharf — the two commands of the README are `make run` and `make test`.
SWIFT ?= swift
DATA_DIR ?= $(CURDIR)/.wharf-data
CONFIG ?= etc/wharf/wharf.yaml
FORMAT_PATHS = Package.swift Sources Tests Benchmarks Fuzz

.PHONY: run build test unit e2e fuzz fuzz-short lint format bench deb package-test clean print-release-flags

## Installs what is missing, builds, and runs wharfd on the shipped default config.
run:
	scripts/install-deps.sh run
	$(SWIFT) build --product wharfd
	$(SWIFT) build --product wharf-launch
	.build/debug/wharfd --config $(CONFIG) --data-dir $(DATA_DIR)

## wharfctl is wharfd started under that name (the package installs a symbolic link): the link
## beside the debug build lets .build/debug/wharfctl be run as before.
build:
	$(SWIFT) build
	ln -sfn wharfd "$$($(SWIFT) build --show-bin-path)/wharfctl"

## Installs what the tests need and runs every test: lint, Swift unit tests, a short run of each
## fuzz target, end-to-end suites, then the package's install test.
test:
	scripts/install-deps.sh test
	scripts/e2e-env.sh
	$(MAKE) lint
	$(SWIFT) build --build-tests
	$(MAKE) unit
	$(MAKE) fuzz-short
	$(MAKE) e2e
	$(MAKE) package-test

unit:
	$(SWIFT) test --skip-build

e2e:
	WHARFD=$(CURDIR)/.build/debug/wharfd .venv/bin/python -m pytest -q Tests/EndToEnd

## libFuzzer targets (Fuzz/, docs/architecture.md "Fuzzing"): FUZZ_SECONDS per target.
FUZZ_SECONDS ?= 600
FUZZ_SHORT_SECONDS ?= 20
fuzz:
	SWIFT=$(SWIFT) scripts/fuzz.sh $(FUZZ_SECONDS)

fuzz-short:
	FUZZ_LEARNED=0 SWIFT=$(SWIFT) scripts/fuzz.sh $(FUZZ_SHORT_SECONDS)

lint:
	$(SWIFT) format lint --strict --recursive $(FORMAT_PATHS)

format:
	$(SWIFT) format --in-place --recursive $(FORMAT_PATHS)

## Builds dist/wharf_<version>-<revision>_<arch>.deb from static release binaries (docs/install.md),
## on amd64 or arm64 (the machine's architecture; WHARF_DEB_ARCH overrides what is detected, to
## see the refusal of another one: packaging/build-deb.sh).
# - One Swift executable, wharfd; wharfctl is a symbolic link to it (a mode of the same binary),
#   so the Swift runtime and the libraries are in the package once.
# - Full RELRO (-z now): the GOT is read-only once the daemon runs.
# - Linked by lld (in the Swift toolchain) with every function in a section of its own and the
#   functions the daemon runs placed first, in the order of packaging/wharfd.order
#   (scripts/gen-order-file.sh): the daemon then touches a few hundred pages of code instead of
#   pages all over its 28 MB.
# - Identical functions folded into one (lld --icf=all; Apple's linker deduplicates Swift code
#   the same way by default): the many generic specializations and thunks that compile to the
#   same bytes are kept once, 2 MB less.
# - Relative relocations packed (DT_RELR, glibc 2.36 and later) and no dynamic symbol table for
#   the executables' own symbols: the loader reads 30 kB of relocations instead of 3 MB.
# Built in a scratch directory of its own, so that it and the plain release build of the
# benchmarks do not rebuild each other.
RELEASE_FLAGS = -c release --static-swift-stdlib --scratch-path $(CURDIR)/.build-package \
	-Xswiftc -Xfrontend -Xswiftc -function-sections -Xcc -ffunction-sections \
	-Xswiftc -use-ld=lld -Xlinker -z -Xlinker now -Xlinker -z -Xlinker pack-relative-relocs \
	-Xlinker --no-export-dynamic -Xlinker --icf=all \
	-Xlinker --symbol-ordering-file=$(CURDIR)/packaging/wharfd.order -Xlinker --no-warn-symbol-ordering
print-release-flags:
	@echo $(RELEASE_FLAGS)
deb:
	@packaging/build-deb.sh --check-arch
	scripts/install-deps.sh package
	@# The build does not know that the link depends on packaging/wharfd.order: always relink.
	bin="$$($(SWIFT) build $(RELEASE_FLAGS) --show-bin-path)" && rm -f "$$bin/wharfd" "$$bin/wharf-launch"
	$(SWIFT) build $(RELEASE_FLAGS) --product wharfd
	@# wharf-launch is plain C: built by SwiftPM with the release flags it would carry the static
	@# Swift runtime (5.7 MB, 3.9 MB resident per plugin); cc makes it 1.3 MB resident, hardened
	@# as Debian builds C (fortify, stack protector, PIE, full RELRO).
	bin="$$($(SWIFT) build $(RELEASE_FLAGS) --show-bin-path)" \
		&& $(CC) -O2 -Wall -Wextra -Werror -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE -pie \
			-Wl,-z,relro,-z,now -o "$$bin/wharf-launch" Sources/wharf-launch/main.c
	packaging/build-deb.sh --bin-dir "$$($(SWIFT) build $(RELEASE_FLAGS) --show-bin-path)" --out dist

## Install test of the .deb in a fresh Debian 12 root: lintian, install, run, upgrade, purge.
package-test: deb
	packaging/test-install.sh

## Benchmarks against Mosquitto, bare SQLite, in-process publishing and a 3-node RabbitMQ cluster
## on this machine
## (see docs/benchmarks.md).
bench:
	scripts/install-deps.sh bench
	scripts/bench.sh
	scripts/bench-store.sh
	scripts/bench-modbus.sh
	scripts/bench-coap.sh
	scripts/bench-appliance.sh
	scripts/bench-connections.sh
	scripts/bench-plugin.sh
	scripts/bench-remote-config.sh
	scripts/bench-cluster.sh

clean:
	rm -rf .build .wharf-data
