# examples-c/examples.mk: builds the small example programs of examples-c/ (one file
# each) into build/examples/<name>. Included by the top Makefile, which defines CC,
# CXX, CFLAGS, WARN, LINK_MIF and the `lib` target.
#
#   make examples                  all of them
#   make build/examples/epoll      one
#
# figure2 and continuity are also build/figure2 and build/continuity (links to the
# ones in build/examples/), which `make` builds too.
#
# libuv needs `pkg-config libuv` (Debian: libuv1-dev), glib `pkg-config glib-2.0`
# (libglib2.0-dev). tests/netns/test_examples.py runs them.

# Keep the including Makefile's default goal whichever line includes this file.
EXAMPLES_SAVED_GOAL := $(.DEFAULT_GOAL)

EXAMPLES_PLAIN := poll epoll translate_all connect_via dns_servers figure2 continuity
EXAMPLES_TOP   := build/figure2 build/continuity
EXAMPLES       := $(addprefix build/examples/,$(EXAMPLES_PLAIN) libuv glib cxx) $(EXAMPLES_TOP)
# WARN holds -std=c11: C++ gets its own flags.
CXXFLAGS ?= -O2 -g
EXAMPLES_CXXFLAGS := -std=c++17 -Wall -Wextra -Werror

.PHONY: examples
examples: $(EXAMPLES)

$(addprefix build/examples/,$(EXAMPLES_PLAIN)): build/examples/%: examples-c/%.c include/mif.h lib
	@mkdir -p build/examples
	$(CC) $(CFLAGS) $(WARN) -Iinclude -o $@ $< $(LINK_MIF)

# A symbolic link: the program finds libmif through its absolute run path from anywhere.
$(EXAMPLES_TOP): build/%: build/examples/%
	ln -sfn examples/$* $@

build/examples/libuv: examples-c/libuv.c include/mif.h lib
	@mkdir -p build/examples
	$(CC) $(CFLAGS) $(WARN) -Iinclude $$(pkg-config --cflags libuv) -o $@ $< $(LINK_MIF) $$(pkg-config --libs libuv)

build/examples/glib: examples-c/glib.c include/mif.h lib
	@mkdir -p build/examples
	$(CC) $(CFLAGS) $(WARN) -Iinclude $$(pkg-config --cflags glib-2.0) -o $@ $< $(LINK_MIF) $$(pkg-config --libs glib-2.0)

build/examples/cxx: examples-c/cxx.cpp include/mif.h lib
	@mkdir -p build/examples
	$(CXX) $(CXXFLAGS) $(EXAMPLES_CXXFLAGS) -Iinclude -o $@ $< $(LINK_MIF)

.DEFAULT_GOAL := $(EXAMPLES_SAVED_GOAL)
