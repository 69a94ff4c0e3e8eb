# SPDX-License-Identifier: Apache-2.0
# The two commands: `make demo` and `make check`. Both install what is missing (Debian
# packages, as root), configure and build first.
BUILD ?= build

.PHONY: all build demo check format format-check clean deps bench

all: build

deps:
	scripts/deps.sh build

build: deps
	@[ -f $(BUILD)/build.ninja ] || meson setup $(BUILD) -Dwerror=true
	ninja -C $(BUILD)

demo: build
	scripts/demo.sh $(BUILD)

check:
	scripts/check.sh

# The peers (restic, borg, Cinder's driver) come from Debian; see bench/run.sh.
bench:
	scripts/deps.sh build compat bench
	$(MAKE) build
	bench/run.sh $(BUILD)

format:
	find include src tools tests bench examples -name '*.[ch]' | xargs clang-format -i

format-check:
	scripts/format-check.sh

clean:
	rm -rf $(BUILD) build-asan build-tsan
