# libmif — build, test and install.
#   make            library (target/release) + build/mifctl
#   make test       everything CI runs: layer check, clippy, rustfmt, Rust tests, header checks,
#                   C tests (valgrind, then ASan+UBSan), fuzz smoke runs, netns tests
#   make run        build/mifctl monitor on this host
#   make bench      benchmarks (needs root; results go to BENCHMARKS.md by hand)
#   make install    PREFIX=/usr/local DESTDIR=staging-root
PREFIX     ?= /usr/local
LIBDIR     ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
DESTDIR    ?=
CC         ?= cc
CXX        ?= c++
CARGO      ?= cargo
VERSION    := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)

RELEASE    := target/release
LIB_SO     := $(RELEASE)/libmif.so
LIB_A      := $(RELEASE)/libmif.a
CFLAGS     ?= -O2 -g
WARN       := -Wall -Wextra -Werror -std=c11 -D_GNU_SOURCE
LINK_MIF   := -L$(RELEASE) -lmif -Wl,-rpath,$(abspath $(RELEASE)) -lpthread

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

.PHONY: suites-reset all lib header check-header check-layers lint deps test test-rust test-header test-readme test-c test-c-san test-fuzz test-netns run bench install clean

all: lib build/mifctl

# The soname is libmif.so.0; the symlink lets build-tree binaries load it. build.rs
# generates the header under cargo's OUT_DIR; cargo's JSON messages say where, and
# target/mif.h.path keeps that path for the header targets.
lib:
	@mkdir -p target
	{ $(CARGO) build --release --locked --message-format=json-render-diagnostics; echo $$? > target/cargo.rc; } | \
	  python3 tests/out-dir.py "$(CURDIR)" > target/mif.h.path.new
	@rc=$$(cat target/cargo.rc); [ "$$rc" = 0 ] || exit $$rc
	mv target/mif.h.path.new target/mif.h.path
	ln -sf libmif.so $(RELEASE)/libmif.so.0

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

lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --release --locked --all-targets -- -D warnings
	@$(RAN) lint >> $(SUITES_RAN)

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
	$(CC) -O2 -g $(WARN) -Iinclude -o $@ $< $(LINK_MIF) -lcares -lm

deps:
	sh tests/install-deps.sh

# Each suite writes its name to $(SUITES_RAN) when it passed; the last line counts
# them (a suite that failed stops make before it).
SUITES_RAN := build/suites.ran
RAN = mkdir -p build && echo

test: suites-reset deps check-header check-layers lint test-rust test-header test-readme test-c test-c-san test-fuzz test-netns
	@echo "make test: these suites ran and passed: $$(tr '\n' ' ' < $(SUITES_RAN))"
	@echo "suites: $$(wc -l < $(SUITES_RAN)) passed, 0 failed"

suites-reset:
	@mkdir -p build && : > $(SUITES_RAN)

test-rust:
	$(CARGO) test --release --locked
	@$(RAN) rust >> $(SUITES_RAN)

# The header alone, as C99/C11 and C++11/C++17, warnings as errors.
test-header: include/mif.h
	sh c-tests/compile-header.sh
	@$(RAN) header-compile >> $(SUITES_RAN)

# The README's C example must compile and link as printed.
test-readme: lib
	@mkdir -p build
	awk '/^```c$$/{on=1;next} /^```$$/{if(on){exit}} on' README.md > build/readme_example.c
	$(CC) $(CFLAGS) $(WARN) -Iinclude -o build/readme_example build/readme_example.c $(LINK_MIF)
	@echo "README example compiles"
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

test-netns: all
	python3 tests/netns/run.py
	@$(RAN) netns >> $(SUITES_RAN)

run: all
	./build/mifctl monitor

bench: all $(BENCHES)
	sh bench/run.sh

install: all
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(LIBDIR)/pkgconfig
	install -m 0755 $(LIB_SO) $(DESTDIR)$(LIBDIR)/libmif.so.$(VERSION)
	ln -sf libmif.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libmif.so.0
	ln -sf libmif.so.0 $(DESTDIR)$(LIBDIR)/libmif.so
	install -m 0644 $(LIB_A) $(DESTDIR)$(LIBDIR)/libmif.a
	install -m 0644 include/mif.h $(DESTDIR)$(INCLUDEDIR)/mif.h
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' \
	    -e 's|@VERSION@|$(VERSION)|' mif.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/mif.pc

clean:
	$(CARGO) clean
	rm -rf build
