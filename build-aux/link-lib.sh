#!/bin/sh
# Makes the libraries we ship from the static archive cargo builds (target/release/libmif.a):
#
#   OUT/libmif.a            one relocatable object in which every symbol but the API
#                           (the mif_* functions) is local: Rust's std, compiler builtins
#                           and our own internals cannot clash with another Rust library
#                           linked into the same program (rust-lang/rust#104707 suggests
#                           this partial link).
#   OUT/libmif.so.VERSION   linked from that object with mif.map, so every export is
#                           mif_*@@MIF_0.1; soname libmif.so.0, RELRO, BIND_NOW,
#                           NODELETE (the pthread_atfork handlers cannot be unregistered).
#   OUT/libmif.so.0, OUT/libmif.so   symlinks.
#
# Not a cargo cdylib: rustc passes its own version script, which the linkers use instead
# of ours (zlib-rs and libpathrs found the same), so versioned symbols need this step.
#
# Usage: sh build-aux/link-lib.sh ARCHIVE OUT VERSION
# Does nothing when the outputs are newer than the archive and mif.map.
set -eu
archive=$1 out=$2 version=$3
here=$(cd "$(dirname "$0")/.." && pwd)
map=$here/mif.map
so=$out/libmif.so.$version
if [ -f "$so" ] && [ -f "$out/libmif.a" ] && [ "$so" -nt "$archive" ] && [ "$so" -nt "$map" ] &&
   [ "$so" -nt "$0" ]; then
  exit 0
fi
mkdir -p "$out"
tmp=$(mktemp -d "$out/.link.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# The libraries Rust's std needs (rustc --print native-static-libs for this target).
native="-lgcc_s -lutil -lrt -lpthread -lm -ldl -lc"

ld -r --whole-archive "$archive" -o "$tmp/all.o"
# The API: the mif_* functions the archive defines. mif.map must list exactly these.
readelf -sW "$tmp/all.o" | awk '$5 == "GLOBAL" && $7 != "UND" && $8 ~ /^mif_/ { print $8 }' |
  sort -u > "$tmp/api.syms"
sed -n 's/^ *\(mif_[a-z0-9_]*\);$/\1/p' "$map" | sort -u > "$tmp/map.syms"
if ! cmp -s "$tmp/api.syms" "$tmp/map.syms"; then
  echo "link-lib: mif.map does not list exactly the archive's mif_* functions:" >&2
  diff "$tmp/map.syms" "$tmp/api.syms" >&2 || true
  exit 1
fi
objcopy --keep-global-symbols="$tmp/api.syms" "$tmp/all.o" "$tmp/libmif.o"
# gcc-ar: binutils' ar with gcc's plugin only; a system LLVM's gold plugin in
# /usr/lib/bfd-plugins cannot read an object this size and aborts plain ar.
rm -f "$tmp/libmif.a"
gcc-ar rcs "$tmp/libmif.a" "$tmp/libmif.o"
${CC:-cc} -shared -o "$tmp/libmif.so" "$tmp/libmif.o" \
  -Wl,--version-script="$map" -Wl,-soname,libmif.so.0 \
  -Wl,--gc-sections -Wl,--as-needed -Wl,-z,relro -Wl,-z,now -Wl,-z,nodelete $native

mv "$tmp/libmif.a" "$out/libmif.a"
mv "$tmp/libmif.so" "$so"
ln -sfn "libmif.so.$version" "$out/libmif.so.0"
ln -sfn libmif.so.0 "$out/libmif.so"
echo "link-lib: $so (symbols versioned MIF_0.1) and $out/libmif.a (API symbols only)"
