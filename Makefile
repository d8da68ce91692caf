# libmif — build, test and install.
#   make            libraries (build/lib) + build/mifctl, build/figure2, build/continuity
#   make test       everything CI runs: layer check, clippy, rustfmt, Rust tests, header checks,
#                   C tests (valgrind, then ASan+UBSan), fuzz smoke runs, netns tests
#   make run        build/mifctl monitor on this host
#   make demo       figure2 and continuity in throwaway namespaces (needs root)
#   make bench      benchmarks (needs root; results go to BENCHMARKS.md by hand)
#   make install    PREFIX=/usr/local DESTDIR=staging-root
PREFIX     ?= /usr/local
LIBDIR     ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
BINDIR     ?= $(PREFIX)/bin
MANDIR     ?= $(PREFIX)/share/man
STRIP      ?= strip
DESTDIR    ?=
CC         ?= cc
CXX        ?= c++
CARGO      ?= cargo
# OFFLINE=1: build from vendor/ (made by `make vendor`) without a network, as
# distributions do.
CARGO_OFFLINE := $(if $(OFFLINE),--offline,)
VERSION    := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)

RELEASE    := target/release
# What we ship, made from cargo's static archive by build-aux/link-lib.sh.
LIBOUT     := build/lib
LIB_SO     := $(LIBOUT)/libmif.so.$(VERSION)
LIB_A      := $(LIBOUT)/libmif.a
CFLAGS     ?= -O2 -g
WARN       := -Wall -Wextra -Werror -std=c11 -D_GNU_SOURCE
LINK_MIF   := -L$(LIBOUT) -lmif -Wl,-rpath,$(abspath $(LIBOUT)) -lpthread

MIFCTL_SRC := $(wildcard examples-c/mifctl/*.c)
MIFCTL_HDR := $(wildcard examples-c/mifctl/*.h)
C_TEST_SRC := $(wildcard c-tests/test_*.c)
C_TESTS    := $(patsubst c-tests/%.c,build/c-tests/%,$(C_TEST_SRC))
# The same C tests built with AddressSanitizer and UBSan (linked against the same
# libmif.so); any finding ends the binary (c-tests/run.sh, MIF_SANITIZERS=1).
SAN_FLAGS  := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
C_SAN_TESTS := $(patsubst c-tests/%.c,build/c-tests-san/%,$(C_TEST_SRC))
BENCH_SRC  := $(wildcard bench/*.c)
BENCHES    := $(patsubst bench/%.c,build/bench/%,$(BENCH_SRC))

.PHONY: suites-reset all demo lib header check-header check-layers lint deps test test-rust test-header test-readme test-c test-c-san test-fuzz test-netns run bench install test-install man test-man test-bindings vendor test-vendor clean

all: lib build/mifctl build/figure2 build/continuity

# cargo builds the static archive; build-aux/link-lib.sh makes build/lib/libmif.a (API
# symbols only) and libmif.so.$(VERSION) (soname libmif.so.0, symbols versioned by
# mif.map) from it. build.rs generates the header under cargo's OUT_DIR; cargo's JSON
# messages say where, and target/mif.h.path keeps that path for the header targets.
lib:
	@mkdir -p target
	{ $(CARGO) build --release --locked $(CARGO_OFFLINE) --message-format=json-render-diagnostics; echo $$? > target/cargo.rc; } | \
	  python3 tests/out-dir.py "$(CURDIR)" > target/mif.h.path.new
	@rc=$$(cat target/cargo.rc); [ "$$rc" = 0 ] || exit $$rc
	mv target/mif.h.path.new target/mif.h.path
	sh build-aux/link-lib.sh $(RELEASE)/libmif.a $(LIBOUT) $(VERSION)

# The committed include/mif.h must match the generated one.
header: lib
	cp "$$(cat target/mif.h.path)/mif.h" include/mif.h

check-header: lib
	@generated="$$(cat target/mif.h.path)/mif.h"; \
	cmp -s "$$generated" include/mif.h || { \
	  echo "include/mif.h is stale: run 'make header' and commit it"; \
	  diff -u include/mif.h "$$generated" | head -40; exit 1; }
	@echo "include/mif.h is up to date"
	@$(RAN) header-current >> $(SUITES_RAN)

# The layer rules (tests/check-layers.py says which), clippy and rustfmt.
check-layers:
	python3 tests/check-layers.py
	@$(RAN) layers >> $(SUITES_RAN)

# Debian 12's rustc-web has no clippy or rustfmt packages: there, lint is reported as
# not run (and not counted) instead of failing every other suite.
lint:
	@if $(CARGO) fmt --version >/dev/null 2>&1 && $(CARGO) clippy --version >/dev/null 2>&1; then \
	  set -x; $(CARGO) fmt --check && \
	  $(CARGO) clippy --release --locked --all-targets -- -D warnings && \
	  $(RAN) lint >> $(SUITES_RAN); \
	else \
	  echo "lint: NOT RUN: this Rust has no clippy or rustfmt (Debian 12's rustc-web has neither; rustup's components do)"; \
	  $(RAN) "lint (no clippy/rustfmt for this Rust)" >> $(SUITES_SKIPPED); \
	fi

build/mifctl: $(MIFCTL_SRC) $(MIFCTL_HDR) include/mif.h lib
	@mkdir -p build
	$(CC) $(CFLAGS) $(WARN) -Iinclude -o $@ $(MIFCTL_SRC) $(LINK_MIF)

build/c-tests/%: c-tests/%.c c-tests/check.h c-tests/bed.h c-tests/driver.h include/mif.h lib
	@mkdir -p build/c-tests
	$(CC) $(CFLAGS) $(WARN) -Iinclude -o $@ $< $(LINK_MIF)

build/c-tests-san/%: c-tests/%.c c-tests/check.h c-tests/bed.h c-tests/driver.h include/mif.h lib
	@mkdir -p build/c-tests-san
	$(CC) $(CFLAGS) $(SAN_FLAGS) $(WARN) -Iinclude -o $@ $< $(LINK_MIF)

build/bench/%: bench/%.c include/mif.h lib
	@mkdir -p build/bench
	$(CC) -O2 -g $(WARN) -Iinclude -o $@ $< $(LINK_MIF) -lcares -lcurl -lm

deps:
	sh tests/install-deps.sh

# Each suite writes its name to $(SUITES_RAN) when it passed; the last line counts
# them (a suite that failed stops make before it).
SUITES_RAN := build/suites.ran
SUITES_SKIPPED := build/suites.skipped
RAN = mkdir -p build && echo
# The namespace tests need root: run as is by root, through sudo otherwise.
AS_ROOT := $(if $(filter 0,$(shell id -u)),,sudo)

test: suites-reset deps check-header check-layers lint test-rust test-header test-readme test-man test-bindings test-install test-vendor test-c test-c-san test-fuzz test-netns
	@echo "make test: these suites ran and passed: $$(tr '\n' ' ' < $(SUITES_RAN))"
	@if [ -s $(SUITES_SKIPPED) ]; then echo "make test: NOT RUN: $$(tr '\n' ' ' < $(SUITES_SKIPPED))"; fi
	@echo "suites: $$(wc -l < $(SUITES_RAN)) passed, 0 failed, $$(wc -l < $(SUITES_SKIPPED)) not run"

suites-reset:
	@mkdir -p build && : > $(SUITES_RAN) && : > $(SUITES_SKIPPED)

test-rust:
	$(CARGO) test --release --locked $(CARGO_OFFLINE)
	@$(RAN) rust >> $(SUITES_RAN)

# The header alone, as C99/C11 and C++11/C++17, warnings as errors.
test-header: include/mif.h
	sh c-tests/compile-header.sh
	@$(RAN) header-compile >> $(SUITES_RAN)

# The README's C example must compile and link with our warnings, and build and run with
# the in-tree command line exactly as the README prints it (in build/readme/, in an empty
# network namespace, where it prints lo and waits until timeout stops it).
test-readme: lib
	@mkdir -p build/readme
	awk '/^```c$$/{on=1;next} /^```$$/{if(on){exit}} on' README.md > build/readme/example.c
	$(CC) $(CFLAGS) $(WARN) -Iinclude -o build/readme/strict build/readme/example.c $(LINK_MIF)
	@line=$$(sed -n 's/^`\(cc -Iinclude example.c .*\)`,$$/\1/p' README.md); \
	[ -n "$$line" ] || { echo "README: the in-tree build line is missing"; exit 1; }; \
	echo "$$line"; \
	( cd build/readme && ln -sfn ../../include include && ln -sfn .. build && eval "$$line" ) || exit 1; \
	netns="unshare --net"; [ "$$(id -u)" -eq 0 ] || netns="unshare --user --map-root-user --net"; \
	rc=0; ( cd build/readme && timeout 5 $$netns stdbuf -oL ./example > out.txt 2>&1 ) || rc=$$?; \
	cat build/readme/out.txt; \
	[ "$$rc" = 124 ] && grep -q '^interface_announcement 1 lo$$' build/readme/out.txt || \
	  { echo "README example: exit status $$rc (124 = still running when stopped), expected a line for lo"; exit 1; }
	@echo "README example compiles with the README's line and runs"
	@$(RAN) readme >> $(SUITES_RAN)

test-c: all $(C_TESTS)
	sh c-tests/run.sh $(C_TESTS)
	@$(RAN) c-tests >> $(SUITES_RAN)

test-c-san: all $(C_SAN_TESTS)
	MIF_SANITIZERS=1 sh c-tests/run.sh $(C_SAN_TESTS)
	@$(RAN) c-tests-san >> $(SUITES_RAN)

# Each fuzz target for a bounded time over its committed seeds (fuzz/README.md);
# installs cargo-fuzz when missing.
test-fuzz:
	sh fuzz/smoke.sh
	@$(RAN) fuzz >> $(SUITES_RAN)

test-netns: all examples
	$(AS_ROOT) python3 tests/netns/run.py
	@$(RAN) netns >> $(SUITES_RAN)

# examples-c/: one small program per event loop and task (make examples), run by the
# netns tests (tests/netns/test_examples.py).
include examples-c/examples.mk

run: all
	./build/mifctl monitor

# Two throwaway networks in namespaces; figure2 connects, continuity keeps a stream
# going while links are deleted, restored and deprecated (examples-c/demo.py). Root.
demo: all
	python3 examples-c/demo.py

bench: all $(BENCHES)
	sh bench/run.sh

# Regenerate man/man3 from include/mif.h (man/gen-man.py; commit the result).
man:
	python3 man/gen-man.py

# The man pages match the header and libmif.so, are current, and render without
# warnings (tests/check-man.py, as curl checks its pages).
test-man: all
	python3 tests/check-man.py
	@$(RAN) man >> $(SUITES_RAN)

# Every crate the library needs, copied into vendor/ (cargo vendor, from the network or
# cargo's cache), and .cargo/config.toml pointing cargo at it: then `make OFFLINE=1`
# builds with no network. Neither is committed.
vendor:
	$(CARGO) vendor --locked --versioned-dirs vendor > vendor.config.toml.new
	mkdir -p .cargo && mv vendor.config.toml.new .cargo/config.toml
	@echo "vendored $$(ls vendor | wc -l) crates into vendor/; build offline with: make OFFLINE=1"

# The tracked tree copied elsewhere, vendored, then built by `make lib OFFLINE=1` with an
# empty cargo home (no registry cache) in a network namespace of its own (no network).
test-vendor:
	sh tests/check-vendor.sh
	@$(RAN) vendor >> $(SUITES_RAN)

# docs/bindings.md's Python (cffi) session, run against include/mif.h and
# build/lib/libmif.so (tests/check-bindings.py).
test-bindings: lib
	MIF_LIB=$(LIBOUT)/libmif.so python3 tests/check-bindings.py
	@$(RAN) bindings >> $(SUITES_RAN)

# mifctl as installed: no run path into the build tree (the loader finds libmif.so.0
# in LIBDIR).
build/install/mifctl: $(MIFCTL_SRC) $(MIFCTL_HDR) include/mif.h lib
	@mkdir -p build/install
	$(CC) $(CFLAGS) $(WARN) -Iinclude -o $@ $(MIFCTL_SRC) -L$(LIBOUT) -lmif -lpthread

# Installs stripped binaries (the .so is 2.7 MB stripped, 25 MB with debug info);
# STRIP=true keeps debug info for a packager's own stripping (dh_strip splits it into a
# -dbgsym package). Debian's multiarch layout: LIBDIR=/usr/lib/$$(gcc -print-multiarch).
install: all build/install/mifctl
	install -d $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(BINDIR) \
	  $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man3
	install -m 0755 $(LIB_SO) $(DESTDIR)$(LIBDIR)/libmif.so.$(VERSION)
	$(STRIP) --strip-unneeded $(DESTDIR)$(LIBDIR)/libmif.so.$(VERSION)
	ln -sf libmif.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libmif.so.0
	ln -sf libmif.so.0 $(DESTDIR)$(LIBDIR)/libmif.so
	install -m 0644 $(LIB_A) $(DESTDIR)$(LIBDIR)/libmif.a
	$(STRIP) --strip-debug $(DESTDIR)$(LIBDIR)/libmif.a
	install -m 0644 include/mif.h $(DESTDIR)$(INCLUDEDIR)/mif.h
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' \
	    -e 's|@VERSION@|$(VERSION)|' mif.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/mif.pc
	install -m 0755 build/install/mifctl $(DESTDIR)$(BINDIR)/mifctl
	$(STRIP) $(DESTDIR)$(BINDIR)/mifctl
	if [ -d man/man3 ]; then install -m 0644 man/man3/*.3 $(DESTDIR)$(MANDIR)/man3/; fi
	if [ -d man/man1 ]; then install -m 0644 man/man1/*.1 $(DESTDIR)$(MANDIR)/man1/; fi

# make install into a staging directory, then what a distribution and a C programmer
# check: file list, stripped, symbol versions, an API-only static archive, mif.pc with
# a sysroot, dynamic and static programs that run (tests/check-install.sh).
test-install: all
	sh tests/check-install.sh
	@$(RAN) install >> $(SUITES_RAN)

clean:
	$(CARGO) clean
	rm -rf build
