# The two entry points of the README: `make run` and `make test`.
# Both install what they need first (scripts/install-deps is idempotent).
PRESET ?= release
BUILD_DIR := $(if $(filter release,$(PRESET)),build,build-$(PRESET))
JOBS ?= $(shell nproc)

# ccache: hash paths relative to the checkout, so a fresh clone in another
# folder (CI) reuses what an earlier build on the same machine compiled.
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := true

.PHONY: all deps configure build run test bench format clean test-asan test-tsan fuzz

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

# Sanitizers and fuzzing (docs/security-testing.md). test-asan: every unit and
# integration test under ASan+UBSan; test-tsan: the concurrency-heavy modules'
# unit tests under TSan; fuzz: each libFuzzer target for FUZZ_SECONDS.
ASAN_CTEST_ARGS ?= -LE 'interop'
TSAN_MODULES ?= storage barrier expiration token audit core http
FUZZ_SECONDS ?= 60
SAN_ENV = ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$(CURDIR)/.ci/tsan.supp"

test-asan: deps
	@test -f build-asan/build.ninja || cmake --preset asan >/dev/null
	cmake --build build-asan -j $(JOBS)
	cd build-asan && $(SAN_ENV) ctest --output-on-failure -j $(JOBS) --timeout 1200 $(ASAN_CTEST_ARGS)

test-tsan: deps
	@test -f build-tsan/build.ninja || cmake --preset tsan >/dev/null
	cmake --build build-tsan -j $(JOBS) --target $(addsuffix _tests,$(TSAN_MODULES))
	cd build-tsan && $(SAN_ENV) ctest --output-on-failure -j $(JOBS) --timeout 1200 \
	  -L '^($(subst $(eval) ,|,$(strip $(TSAN_MODULES))))$$'

fuzz: deps
	@test -f build-fuzz/build.ninja || cmake --preset fuzz >/dev/null
	cmake --build build-fuzz -j $(JOBS) --target fuzz_targets
	./fuzz/run --build-dir build-fuzz --seconds $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# Benchmarks (docs/benchmarks.md): BENCH_ARGS="--quick" or "--only http" etc.
bench: deps
	cmake --preset $(PRESET) -DCOFFER_BUILD_BENCH=ON >/dev/null
	cmake --build $(BUILD_DIR) -j $(JOBS) --target coffer durable_writes micro_barrier micro_core micro_audit rate_load kv_populate \
		leases_load transit_sign
	./bench/run --build-dir $(BUILD_DIR) $(BENCH_ARGS)

format:
	git ls-files '*.cc' '*.h' | xargs clang-format -i

clean:
	rm -rf build build-*
