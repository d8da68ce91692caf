#!/bin/sh
# make test-install: `make install` into a staging directory with Debian's layout, then
# checks what a distribution and a C programmer rely on. Fails (never skips) on any gap.
set -eu
cd "$(dirname "$0")/.."
fail() { echo "check-install: FAIL: $*" >&2; exit 1; }
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)
multiarch=$(${CC:-cc} -print-multiarch)
stage=$(mktemp -d "${TMPDIR:-/tmp}/mif-install.XXXXXX")
trap 'rm -rf "$stage"' EXIT
libdir=/usr/lib/$multiarch

make -s install DESTDIR="$stage" PREFIX=/usr LIBDIR="$libdir" >/dev/null
L=$stage$libdir

# The CHANGELOG's newest entry is the version being built.
newest=$(sed -n 's/^## \([0-9][0-9.]*\) .*/\1/p' CHANGELOG.md | head -n1)
[ "$newest" = "$version" ] || fail "CHANGELOG.md's newest entry is ${newest:-none}, Cargo.toml says $version"

# Files and links.
for f in "$L/libmif.so.$version" "$L/libmif.a" "$L/pkgconfig/mif.pc" "$stage/usr/include/mif.h" \
         "$stage/usr/bin/mifctl"; do
  [ -f "$f" ] || fail "missing $f"
done
[ "$(readlink "$L/libmif.so.0")" = "libmif.so.$version" ] || fail "libmif.so.0 -> $(readlink "$L/libmif.so.0")"
[ "$(readlink "$L/libmif.so")" = "libmif.so.0" ] || fail "libmif.so -> $(readlink "$L/libmif.so")"
if [ -d man/man3 ]; then
  for f in man/man3/*.3; do [ -f "$stage/usr/share/man/man3/$(basename "$f")" ] || fail "man page $f not installed"; done
fi
if [ -d man/man1 ]; then
  for f in man/man1/*.1; do [ -f "$stage/usr/share/man/man1/$(basename "$f")" ] || fail "man page $f not installed"; done
fi

# Stripped; soname; RELRO + BIND_NOW; no run path.
readelf -SW "$L/libmif.so.$version" | grep -q '\.debug_info' && fail "installed libmif.so has debug info"
readelf -SW "$stage/usr/bin/mifctl" | grep -q '\.debug_info' && fail "installed mifctl has debug info"
readelf -dW "$L/libmif.so.$version" | grep -q 'SONAME.*\[libmif\.so\.0\]' || fail "soname is not libmif.so.0"
readelf -lW "$L/libmif.so.$version" | grep -q GNU_RELRO || fail "no RELRO"
readelf -dW "$L/libmif.so.$version" | grep -q 'BIND_NOW' || fail "no BIND_NOW"
readelf -dW "$stage/usr/bin/mifctl" | grep -Eq 'RPATH|RUNPATH' && fail "installed mifctl has a run path"

# Exports: exactly the header's functions, each versioned MIF_0.1 (default version).
grep -o 'mif_[a-z0-9_]*(' include/mif.h | tr -d '(' | sort -u > "$stage/header.syms"
# the two function-like macros are not symbols
grep -Ev '^mif_(options_init|request_init)$' "$stage/header.syms" > "$stage/header.fns"
objdump -T "$L/libmif.so.$version" | awk '$2 == "g" && $4 != "*UND*" && $NF ~ /^mif_/ { print $(NF-1), $NF }' | sort -k2 > "$stage/so.syms"
awk '{ print $2 }' "$stage/so.syms" | diff -u "$stage/header.fns" - || fail "the .so's exports differ from the header's functions"
awk '$1 != "MIF_0.1" { bad = 1; print "unversioned or wrongly versioned: " $0 } END { exit bad }' "$stage/so.syms" ||
  fail "every export must be versioned MIF_0.1"
others=$(objdump -T "$L/libmif.so.$version" | awk '$2 == "g" && $4 != "*UND*" && $NF !~ /^mif_/ && $NF != "MIF_0.1"' | head)
[ -z "$others" ] || fail "the .so exports more than the API: $others"

# The static archive: only the API is global.
mkdir "$stage/ar" && (cd "$stage/ar" && ar x "$L/libmif.a")
readelf -sW "$stage"/ar/*.o | awk '($5 == "GLOBAL" || $5 == "WEAK") && $7 != "UND" { print $8 }' | sort -u > "$stage/a.syms"
diff -u "$stage/header.fns" "$stage/a.syms" || fail "libmif.a defines global symbols beyond the API"

# pkg-config with a sysroot, a dynamic program and a static one; both run.
export PKG_CONFIG_SYSROOT_DIR="$stage" PKG_CONFIG_LIBDIR="$L/pkgconfig"
awk '/^```c$/{on=1;next} /^```$/{if(on){exit}} on' README.md > "$stage/example.c"
cflags=$(pkg-config --cflags mif)
libs=$(pkg-config --libs mif)
case "$libs" in *"-L$L"*) ;; *) fail "pkg-config --libs does not point into the sysroot: $libs" ;; esac
# shellcheck disable=SC2086
${CC:-cc} -Wall -Wextra -Werror -o "$stage/example-dyn" "$stage/example.c" $cflags $libs
objdump -T "$stage/example-dyn" | grep -q 'mif_open.*MIF_0.1\|(MIF_0.1).*mif_open' ||
  fail "a program linked against the .so does not ask for mif_open@MIF_0.1"
static_libs=$(pkg-config --static --libs mif | sed 's/-lmif\b/-l:libmif.a/')
# shellcheck disable=SC2086
${CC:-cc} -Wall -Wextra -Werror -o "$stage/example-static" "$stage/example.c" $cflags $static_libs
readelf -dW "$stage/example-static" | grep -q 'libmif' && fail "the static program still needs libmif.so"
netns="unshare --net"; [ "$(id -u)" -eq 0 ] || netns="unshare --user --map-root-user --net"
for prog in example-dyn example-static; do
  rc=0
  LD_LIBRARY_PATH="$L" timeout 5 $netns stdbuf -oL "$stage/$prog" > "$stage/$prog.out" 2>&1 || rc=$?
  [ "$rc" = 124 ] && grep -q '^interface_announcement 1 lo$' "$stage/$prog.out" ||
    fail "$prog: exit status $rc (124 = still running when stopped), output: $(cat "$stage/$prog.out")"
done
LD_LIBRARY_PATH="$L" "$stage/usr/bin/mifctl" help > /dev/null || fail "installed mifctl help failed"

# The static archive and another Rust static library in one program: nothing clashes
# (without the partial link both define Rust's std and allocator symbols).
if command -v rustc >/dev/null 2>&1; then
  cat > "$stage/other.rs" <<'RS'
#[no_mangle]
pub extern "C" fn other_rust_len(n: usize) -> usize {
    let v: Vec<String> = (0..n).map(|i| format!("{i}")).collect();
    std::panic::catch_unwind(|| v.len()).unwrap_or(0)
}
RS
  rustc --edition 2021 -O --crate-type staticlib -o "$stage/libother.a" "$stage/other.rs" 2>"$stage/rustc.err" ||
    fail "rustc: $(cat "$stage/rustc.err")"
  cat > "$stage/both.c" <<'C'
#include <stdio.h>
#include <stddef.h>
#include <mif.h>
size_t other_rust_len(size_t n);
int main(void) {
    mif_ctx *ctx;
    if (mif_open(NULL, &ctx) != MIF_OK) return 1;
    printf("%s %zu\n", mif_version(), other_rust_len(3));
    mif_close(ctx);
    return 0;
}
C
  # shellcheck disable=SC2086
  ${CC:-cc} -Wall -Wextra -Werror -o "$stage/both" "$stage/both.c" $cflags "$stage/libother.a" $static_libs 2>"$stage/both.err" ||
    fail "linking libmif.a with another Rust static library: $(head -5 "$stage/both.err")"
  out=$("$stage/both") || fail "the program with two Rust static libraries failed"
  [ "$out" = "$version 3" ] || fail "two Rust static libraries: printed '$out'"
fi
echo "check-install: ok ($(wc -l < "$stage/header.fns") functions, each mif_*@@MIF_0.1 in the .so and the only globals of libmif.a; stripped .so $(stat -c %s "$L/libmif.so.$version") bytes; dynamic, static and two-Rust-libraries programs ran)"
