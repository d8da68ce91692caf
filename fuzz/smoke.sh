#!/bin/sh
# make test-fuzz: runs every fuzz target for a bounded time over its committed seeds
# (fuzz/seeds/<target>/), so that a parser change that breaks a promise, panics or
# misreads memory on the inputs the seeds lead to fails CI. Not a fuzzing campaign:
# long runs are in fuzz/README.md.
#
# Installs cargo-fuzz (into cargo's own bin directory, root or not) when cargo cannot
# find it. New inputs go to a scratch directory that is removed afterwards; the seeds
# are not changed. A finding is kept under fuzz/artifacts/<target>/ and its log printed.
#
# Environment:
#   MIF_FUZZ_SECONDS=N   seconds per target (20)
#   MIF_FUZZ_RUNS=N      at most N executions per target (1000000)
#   MIF_FUZZ_TARGETS="a b"  the targets to run (all)
set -eu

cd "$(dirname "$0")"
seconds=${MIF_FUZZ_SECONDS:-20}
runs=${MIF_FUZZ_RUNS:-1000000}
targets=${MIF_FUZZ_TARGETS:-"nduseropt dns_reply request state_files mptcp_endpoint dhcpcd_lease"}
cargo=${CARGO:-cargo}
cargo_fuzz_version=0.13.2

if ! "$cargo" fuzz --version >/dev/null 2>&1; then
  echo "fuzz: installing cargo-fuzz $cargo_fuzz_version"
  "$cargo" install cargo-fuzz --locked --version "$cargo_fuzz_version"
fi

# cargo fuzz builds with AddressSanitizer (sanitizer flags are unstable: RUSTC_BOOTSTRAP
# lets a stable toolchain take them). A toolchain without Rust's ASan runtime (some
# distributions' packages) fuzzes without it: panics and broken promises still fail.
sanitizer=address
host=$(rustc -vV | sed -n 's/^host: //p')
if ! ls "$(rustc --print sysroot)/lib/rustlib/$host/lib/"librustc-*_rt.asan.a >/dev/null 2>&1; then
  echo "fuzz: NOTE: this Rust toolchain has no AddressSanitizer runtime; fuzzing without a sanitizer"
  sanitizer=none
fi
export RUSTC_BOOTSTRAP=1
# The library's warnings about bad input are expected here by the million.
export MIF_LOG=off

"$cargo" fuzz build --sanitizer "$sanitizer"

scratch=$(mktemp -d "${TMPDIR:-/tmp}/mif-fuzz.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
trap 'exit 130' INT TERM
passed=0
failed=0
for t in $targets; do
  mkdir -p "$scratch/$t"
  start=$(date +%s)
  if "$cargo" fuzz run --sanitizer "$sanitizer" "$t" "$scratch/$t" "seeds/$t" -- \
      -max_total_time="$seconds" -runs="$runs" -timeout=10 -print_final_stats=1 \
      >"$scratch/$t.log" 2>&1; then
    done_line=$(grep -E '^Done [0-9]+ runs' "$scratch/$t.log" | tail -n1)
    cov=$(grep -E '^#[0-9]+.*(DONE|cov:)' "$scratch/$t.log" | tail -n1 | sed 's/^#[0-9]*[[:space:]]*//')
    echo "fuzz: PASS $t: $done_line ($(($(date +%s) - start)) s; $cov)"
    passed=$((passed + 1))
  else
    sed 's/^/  /' "$scratch/$t.log" | tail -n 60
    echo "fuzz: FAIL $t (inputs that fail are under fuzz/artifacts/$t/)"
    failed=$((failed + 1))
  fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
