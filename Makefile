# The two commands the README gives a new user on Debian 12 (root or sudo):
#   make run     install what is missing, build, evaluate the sample comments,
#                then run the daemon in the foreground (sockets in build/run)
#   make check   install what is missing, build with ASan+UBSan, run every test
# CMake does the building; this file only strings the steps together.

PACKAGES = build-essential cmake pkg-config clang libclang-rt-14-dev \
	libpcre2-dev libyaml-dev libutf8proc-dev libssl-dev libjansson-dev \
	libevent-dev libhiredis-dev libsystemd-dev libcmocka-dev \
	python3 python3-pytest redis-server \
	systemd man-db groff-base strace curl nodejs tmux

WERROR ?= OFF
NPROC := $(shell nproc 2>/dev/null || echo 2)
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)

# A sanitizer report must fail the test that caused it, leaks included.
SANITIZER_ENV = \
	ASAN_OPTIONS=halt_on_error=1:abort_on_error=1:detect_leaks=1 \
	UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:print_stacktrace=1

.PHONY: all deps build run check clean

all: build

# One dpkg-query for every package, so a machine that has them all is done at once.
deps:
	@missing=""; \
	have=" $$(dpkg-query -W -f='$${Package} $${Status}\n' $(PACKAGES) 2>/dev/null | \
	    awk '$$NF == "installed" { print $$1 }' | tr '\n' ' ') "; \
	for p in $(PACKAGES); do \
		case "$$have" in *" $$p "*) ;; *) missing="$$missing $$p" ;; esac; \
	done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ -n "$(SUDO)" ] && ! command -v sudo >/dev/null; then \
		echo "make deps: missing:$$missing; run as root or install sudo" >&2; \
		exit 1; \
	fi; \
	echo "make deps: installing$$missing"; \
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update && \
	$(SUDO) env DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y --no-install-recommends $$missing

build:
	cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build build -j $(NPROC)

# deps runs before build even under make -j: build is a sub-make.
run: deps
	@$(MAKE) --no-print-directory build
	./build/daemon/commentd --eval -p policies/default.yaml \
	    tests/data/sample-comments.jsonl
	etc/dev/run.sh build

# clang brings the fuzz targets; without it the sanitized build uses gcc.
# The compiler is named on every run: a cache made with the other one is
# then rebuilt rather than failing the fuzz option's check.
check: deps
	@if command -v clang >/dev/null; then cc=clang; fuzz=ON; \
	else cc=gcc; fuzz=OFF; fi; \
	set -x; \
	cmake -S . -B build-check -DCMAKE_C_COMPILER=$$cc \
	    -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	    -DCOMMENTD_SANITIZE=ON -DCOMMENTD_FUZZ=$$fuzz \
	    -DCOMMENTD_WERROR=$(WERROR)
	cmake --build build-check -j $(NPROC)
	$(SANITIZER_ENV) ctest --test-dir build-check --output-on-failure \
	    --no-tests=error -j2

clean:
	rm -rf build build-check
