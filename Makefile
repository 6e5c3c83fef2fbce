# The two entry points of the README: `make run` and `make test`.
# Both install what they need first (scripts/install-deps is idempotent).
PRESET ?= release
BUILD_DIR := $(if $(filter release,$(PRESET)),build,build-$(PRESET))
JOBS ?= $(shell nproc)

# ccache: hash paths relative to the checkout, so a fresh clone in another
# folder (CI) reuses what an earlier build on the same machine compiled.
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := true

.PHONY: all deps configure build run test bench format clean

all: build

deps:
	@./scripts/install-deps

configure: deps
	@test -f $(BUILD_DIR)/build.ninja || cmake --preset $(PRESET) >/dev/null

build: configure
	cmake --build $(BUILD_DIR) -j $(JOBS)

run: build
	./$(BUILD_DIR)/coffer server --dev

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) --timeout 600

# Benchmarks (docs/benchmarks.md): BENCH_ARGS="--quick" or "--only http" etc.
bench: deps
	cmake --preset $(PRESET) -DCOFFER_BUILD_BENCH=ON >/dev/null
	cmake --build $(BUILD_DIR) -j $(JOBS) --target coffer durable_writes micro_barrier rate_load kv_populate
	./bench/run --build-dir $(BUILD_DIR) $(BENCH_ARGS)

format:
	git ls-files '*.cc' '*.h' | xargs clang-format -i

clean:
	rm -rf build build-*
