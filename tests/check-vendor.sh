#!/bin/sh
# make test-vendor: distributions build without a network. Copies the tracked tree to a
# scratch directory, runs `make vendor` there (from cargo's cache or the network), then
# `make lib OFFLINE=1` with an empty CARGO_HOME (no registry cache to fall back on) in a
# network namespace with no interfaces but lo: it must build the libraries.
set -eu
cd "$(dirname "$0")/.."
fail() { echo "check-vendor: FAIL: $*" >&2; exit 1; }
scratch=$(mktemp -d "${TMPDIR:-/tmp}/mif-vendor.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
git ls-files -z | tar --null -T - -cf - | tar -xf - -C "$scratch/" ||
  fail "cannot copy the tracked tree"
(cd "$scratch" && make -s vendor) > "$scratch/vendor.log" 2>&1 ||
  fail "make vendor: $(tail -5 "$scratch/vendor.log")"
grep -q 'replace-with = "vendored-sources"' "$scratch/.cargo/config.toml" ||
  fail "make vendor wrote no .cargo/config.toml pointing at vendor/"
mkdir "$scratch/cargo-home"
netns="unshare --net"; [ "$(id -u)" -eq 0 ] || netns="unshare --user --map-root-user --net"
# rustup's proxies find their toolchain through RUSTUP_HOME, not CARGO_HOME.
export RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}"
# One job: make test runs on two cores, this is not about speed.
if ! (cd "$scratch" && CARGO_HOME="$scratch/cargo-home" CARGO_BUILD_JOBS=2 $netns make -s lib OFFLINE=1) \
    > "$scratch/build.log" 2>&1; then
  fail "offline build: $(tail -15 "$scratch/build.log")"
fi
[ -f "$scratch/build/lib/libmif.so.0" ] && [ -f "$scratch/build/lib/libmif.a" ] ||
  fail "the offline build made no libraries"
if [ -n "$(ls -A "$scratch/cargo-home/registry" 2>/dev/null)" ]; then
  fail "the offline build used a registry: $(ls "$scratch/cargo-home/registry")"
fi
echo "check-vendor: ok ($(ls "$scratch/vendor" | wc -l) vendored crates; the libraries built offline with an empty cargo home)"
