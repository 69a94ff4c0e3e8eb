# SPDX-License-Identifier: Apache-2.0
# The two commands: `make demo` and `make check`. Both install what is missing (Debian
# packages, as root), configure and build first. `make install` installs the build
# (PREFIX, default /usr/local; DESTDIR). `make fuzz` runs the libFuzzer targets
# for FUZZ_SECONDS each (make check runs them for 15 s each).
BUILD ?= build
FUZZ_SECONDS ?= 60
# make install: meson install of the build in $(BUILD), configured for PREFIX, into DESTDIR
PREFIX ?= /usr/local
DESTDIR ?=

.PHONY: all build demo check fuzz format format-check clean deps bench bench-cinder \
	bench-consolidate bench-nbd-backup bench-nbd-serve bench-objstore bench-sparse install soak

all: build

deps:
	scripts/deps.sh build

build: deps
	@[ -f $(BUILD)/build.ninja ] || meson setup $(BUILD) -Dwerror=true
	ninja -C $(BUILD)

# the program, the library, its headers and cinderblock.pc, the man page and the bash,
# zsh and fish completions (docs/architecture.md)
install: build
	meson configure $(BUILD) -Dprefix=$(PREFIX)
	ninja -C $(BUILD)
	meson install -C $(BUILD) --no-rebuild $(if $(DESTDIR),--destdir "$(DESTDIR)")

demo: build
	scripts/demo.sh $(BUILD)

check:
	scripts/check.sh

# the fault campaigns for far longer, then the fuzz targets for 10 minutes each
# (scripts/soak.sh: SOAK_FAULT_RUNS, SOAK_KILL_RUNS, SOAK_FUZZ_SECONDS)
soak: build
	scripts/deps.sh build fuzz
	scripts/soak.sh

fuzz:
	scripts/deps.sh build fuzz
	FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/fuzz.sh

# The peers (restic, borg, Cinder's driver) come from Debian; see bench/run.sh. Then the
# same on the project's local Swift and its S3 API (bench/objstore.sh, about 10 minutes).
bench:
	scripts/deps.sh build compat services bench
	$(MAKE) build
	bench/run.sh $(BUILD)
	bench/objstore.sh $(BUILD)

# cinderblock, restic's swift and s3 backends and Cinder's Swift and S3 drivers on a local
# Swift, against its raw capacity (docs/performance.md, issue 19's targets)
bench-objstore:
	scripts/deps.sh build compat services bench
	$(MAKE) build
	bench/objstore.sh $(BUILD)

# a 256 GiB sparse file holding 2 GiB on posix with default options: full backup and a
# 20 MiB incremental against cp --sparse=always (docs/performance.md, issue 19's targets)
bench-sparse:
	scripts/deps.sh build bench
	$(MAKE) build
	bench/sparse.sh $(BUILD)

# cinderblock's Cinder driver against Cinder's stock ones, through Cinder's BackupManager:
# posix and Swift, backup and restore (docs/cinder.md).
bench-cinder:
	scripts/deps.sh build compat services
	$(MAKE) build
	bench/cinder-driver.sh $(BUILD)

# consolidate of a chain's 5th incremental against a restore plus a full backup of the same
# data, on posix (docs/performance.md, issue 17's goal)
bench-consolidate:
	scripts/deps.sh build bench
	$(MAKE) build
	bench/consolidate.sh $(BUILD)

# an incremental from NBD with a dirty bitmap against one without, on a 16 GiB qcow2
# holding 4 GiB with 1 % changed (docs/performance.md, issue 18's goal)
bench-nbd-backup:
	scripts/deps.sh build bench nbd
	$(MAKE) build
	bench/nbd-backup.sh $(BUILD)

# a backup served by the nbdkit plugin (nbdcopy) against a restore, and the objects one 4 KiB
# read fetches (docs/performance.md, issue 18's goal)
bench-nbd-serve:
	scripts/deps.sh build bench nbd
	$(MAKE) build
	bench/nbd-serve.sh $(BUILD)

format:
	find include src tools tests bench examples -name '*.[ch]' | xargs clang-format -i

format-check:
	scripts/format-check.sh

clean:
	rm -rf $(BUILD) build-asan build-tsan build-fuzz
