# The two set-up commands of the README, and their parts.
#   make demo   install what is missing, build, run the demo
#   make test   install what is missing, build, run every test (plain and ASan+UBSan builds)

BUILD      ?= build
ASAN_BUILD ?= build-asan
PREFIX     ?= /usr/local
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: all deps build build-asan install test test-plain test-asan test-fuzz demo bench format clean

all: build

deps:
	./scripts/install-deps.sh
	./scripts/kafka.sh fetch

build: deps
	cmake -S . -B $(BUILD) -DEDDY_WERROR=ON
	cmake --build $(BUILD) -j $(JOBS)

build-asan: deps
	cmake -S . -B $(ASAN_BUILD) -DEDDY_WERROR=ON -DEDDY_SANITIZE=ON -DEDDY_BENCH=OFF -DCMAKE_BUILD_TYPE=Debug
	cmake --build $(ASAN_BUILD) -j $(JOBS)

install: build
	DESTDIR="$(DESTDIR)" cmake --install $(BUILD) --prefix "$(PREFIX)"

# Two tests at a time: most of them wait on processes and sockets, not the CPU; the ones
# that start Kafka or a JVM are RUN_SERIAL (tests/CMakeLists.txt). The sanitizer build's
# tests stay one at a time: they are CPU-bound.
test-plain: build
	cd $(BUILD) && ctest -j 2 --output-on-failure

test-asan: build-asan
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure

# libFuzzer on the request decoders, for a bounded time (clang build).
FUZZ_SECONDS ?= 60
test-fuzz: deps
	EDDY_FUZZ_BUILD=$(CURDIR)/build-fuzz tests/fuzz/run.sh $(FUZZ_SECONDS)

test: test-plain test-asan test-fuzz

demo: build
	./scripts/demo.sh $(BUILD)/bin/eddy $(BUILD)/examples/wordcount

bench: build
	$(BUILD)/bin/bench_log

# Lay out the C sources as .clang-format says (clang-format 19, which `make test`
# installs); `make test` checks the layout (the format test).
format:
	./scripts/format.sh apply

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) build-fuzz
