# Vigil — the two commands that matter: `make run` and `make test`.
SHELL := /bin/bash
JOBS ?= $(shell nproc)
export CCACHE_DIR ?= $(HOME)/.cache/ccache
export CCACHE_SLOPPINESS := pch_defines,time_macros,include_file_mtime,include_file_ctime
export CCACHE_MAXSIZE ?= 5G
export CCACHE_BASEDIR := $(CURDIR)
CTEST_FLAGS ?= --output-on-failure -j $(JOBS)

.PHONY: help deps build build-asan run test test-release test-asan bench lint fmt fuzz clean

help:
	@echo "make run     install what is missing, build, start vigil serve on http://127.0.0.1:8080"
	@echo "make test    install, build, run every test (release, then ASan+UBSan)"
	@echo "make bench   run the benchmark scenarios against the peers (bench/README.md)"
	@echo "make build   release binary at build/release/vigil, with the web console (web/dist)"
	@echo "make lint    clang-format check and the OpenAPI lint;  make fmt  formats the code"

deps:
	@scripts/install-deps

build/release/build.ninja:
	cmake --preset release >/dev/null
build/asan/build.ninja:
	cmake --preset asan >/dev/null

# The console (web/dist) is built from the binary's OpenAPI document and then linked into it:
# vigil first, the console (only when its inputs changed), then vigil again (relinked when
# web/dist changed).
build: deps build/release/build.ninja
	cmake --build --preset release -j $(JOBS) --target vigil
	@scripts/build-console build/release/vigil
	cmake --build --preset release -j $(JOBS) --target vigil

build-asan: deps build/asan/build.ninja
	cmake --build --preset asan -j $(JOBS)

run: build
	build/release/vigil serve

# The release build runs the suites labelled "release" (tests/CMakeLists.txt): real processes,
# the CLI, the console in Chromium. The unit, PostgreSQL, integration and fuzz-seed suites run in
# the ASan+UBSan build only, so the release build does not compile them (decision 0023).
test-release: build
	cmake --build --preset release -j $(JOBS) --target vigil_acceptance_test
	cd build/release && ctest $(CTEST_FLAGS) -L release

test-asan: build-asan
	cd build/asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest $(CTEST_FLAGS)

test: test-release test-asan lint

bench: build
	cmake --build --preset release -j $(JOBS)
	scripts/install-deps --bench
	bench/run $(BENCH_ARGS)

lint:
	@files=$$(git ls-files --cached --others --exclude-standard '*.cpp' '*.h'); \
	  clang-format --dry-run -Werror $$files && echo "clang-format: clean ($$(echo $$files | wc -w) files)"

fmt:
	clang-format -i $$(git ls-files --cached --others --exclude-standard '*.cpp' '*.h')

# libFuzzer over every parser of outside input (clang); FUZZ_SECONDS per target.
FUZZ_SECONDS ?= 60
fuzz: deps
	cmake --preset fuzz >/dev/null && cmake --build --preset fuzz -j $(JOBS)
	@for t in $$(ls build/fuzz/fuzz/ | grep '^vigil_fuzz_'); do \
	  name=$${t#vigil_fuzz_}; mkdir -p build/fuzz/corpus/$$name; \
	  echo "fuzz: $$name for $(FUZZ_SECONDS) s"; \
	  build/fuzz/fuzz/$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	    build/fuzz/corpus/$$name fuzz/corpus/$$name || exit 1; \
	done

clean:
	rm -rf build
