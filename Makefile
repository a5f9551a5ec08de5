# hoard: the two commands a new machine needs are `make serve` and `make test`.
# Both first install what is missing (Debian packages; the Python test tools in a venv).

SWIFT ?= swift
APT_PACKAGES := libzstd-dev libarchive-dev libsimdjson-dev libsqlite3-dev libcurl4-openssl-dev \
                libssl-dev libcrypt-dev pkg-config zstd curl python3 python3-venv \
                skopeo docker-registry apache2-utils chromium nginx openssl
VENV := Tests/e2e/.venv
COI_VENV := Tests/e2e/.venv-coi
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
ARGS ?=
# Fuzzing: a short reproducible run in `make test` (inputs per target, fixed seed), a longer
# time-boxed one in `make fuzz` (seconds per target).
FUZZ_SMOKE_RUNS ?= 20000
FUZZ_SECONDS ?= 60

.PHONY: serve test deps release build e2e-deps clean fuzz

## serve: build a release binary and run `hoard serve` on the defaults (ARGS="--port 9000" adds flags)
serve: deps release
	.build/release/hoard serve $(ARGS)

## test: the whole test suite (Swift unit and integration tests, then the end-to-end tests)
test: deps e2e-deps
	$(SWIFT) test
	SWIFT=$(SWIFT) FUZZ_RUNS=$(FUZZ_SMOKE_RUNS) Fuzz/run.sh
	@if ls Tests/e2e/test_*.py >/dev/null 2>&1; then $(VENV)/bin/python -m pytest Tests/e2e -q; fi

## deps: install the Debian packages that are missing
deps:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q $$missing; \
	fi

## e2e-deps: the Python tools the end-to-end tests drive (py-rattler, conda-package-handling, ...)
e2e-deps:
	@if [ -f Tests/e2e/requirements.txt ]; then \
	  [ -x $(VENV)/bin/python ] || python3 -m venv $(VENV); \
	  $(VENV)/bin/python -m pip install -q --disable-pip-version-check -r Tests/e2e/requirements.txt; \
	fi
	@# conda-oci-mirror (the reference reader of what `hoard sync` pushes) pins an older oras: its own venv.
	@[ -x $(COI_VENV)/bin/conda-oci ] || { python3 -m venv $(COI_VENV) && \
	  $(COI_VENV)/bin/python -m pip install -q --disable-pip-version-check conda-oci-mirror==0.3.0; }

## fuzz: build the libFuzzer targets (Fuzz/) and run each for FUZZ_SECONDS; fails on any crash
fuzz: deps
	SWIFT=$(SWIFT) Fuzz/run.sh $(FUZZ_SECONDS)

release:
	$(SWIFT) build -c release --product hoard

build:
	$(SWIFT) build

clean:
	rm -rf .build .build-fuzz $(VENV) $(COI_VENV)
