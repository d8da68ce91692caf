#!/bin/sh
# Runs libmif's C test binaries: sh c-tests/run.sh build/c-tests/test_a build/c-tests/test_b ...
#
# Each binary runs in a fresh, empty network namespace (unshare --net, with lo brought up
# first), so the `ip` commands the tests run change nothing outside it; the tests check
# that they are in such a namespace before they change anything.  Each runs under
#   valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect --max-threads=1500 --fair-sched=yes
# so a memory error or a definite/indirect leak fails it.  valgrind runs one thread at a
# time; --fair-sched=yes hands the turn round in order: with its default lock, threads in
# tight loops (test_close_fork's posting callers) kept the others from running for
# minutes.
#
# With MIF_SANITIZERS=1 the binaries are the ones built with
# -fsanitize=address,undefined (make test-c-san, build/c-tests-san/): they run without
# valgrind (ASan and valgrind cannot be combined) and with ASAN_OPTIONS/UBSAN_OPTIONS
# that make the first finding end the binary with a status of its own (98: ASan or
# LeakSanitizer, 97: UBSan).  LeakSanitizer is on (detect_leaks=1); the Rust library is
# not instrumented, but its allocations go through ASan's malloc, so they get red zones,
# quarantine and the leak check too.  MIF_SANITIZERS=1 is passed on to the binary, which
# skips only what ASan cannot run, saying so.
#
# Environment:
#   MIF_VALGRIND=0        run without valgrind (quick local runs)
#   MIF_SANITIZERS=1      sanitizer binaries: no valgrind, sanitizer options as above
#   MIF_TEST_TIMEOUT=N    seconds before a binary is killed and counted as failed (300)
#   MIF_VALGRIND_SUPP=F   extra valgrind suppression file
#
# Prints each binary's output and verdict and ends with "c-tests: N passed, M failed";
# exits 1 if any failed.
set -u

here=$(cd "$(dirname "$0")" && pwd)
timeout_s=${MIF_TEST_TIMEOUT:-300}

if [ $# -eq 0 ]; then
  echo "usage: sh c-tests/run.sh TEST_BINARY..." >&2
  exit 2
fi

# A private network namespace needs CAP_SYS_ADMIN; without root, a user namespace
# that maps us to root gives it (TESTBED.md, "Unprivileged runs").
if [ "$(id -u)" -eq 0 ]; then
  netns="unshare --net"
else
  netns="unshare --user --map-root-user --net"
fi

if [ "${MIF_SANITIZERS:-0}" = 1 ]; then
  runner=""
  # Options of our own come last, so they win over anything in the caller's.
  ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}halt_on_error=1:exitcode=98:detect_leaks=1:abort_on_error=0:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1"
  UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}halt_on_error=1:exitcode=97:print_stacktrace=1"
  LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}exitcode=98"
  export ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS MIF_SANITIZERS
elif [ "${MIF_VALGRIND:-1}" = 0 ]; then
  runner=""
else
  if ! command -v valgrind >/dev/null 2>&1; then
    echo "c-tests: valgrind not found (install it, or MIF_VALGRIND=0 for a quick run)" >&2
    exit 2
  fi
  runner="valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect --track-fds=no --max-threads=1500 --fair-sched=yes --quiet"
  if [ -f "$here/valgrind.supp" ]; then
    runner="$runner --suppressions=$here/valgrind.supp"
  fi
  if [ -n "${MIF_VALGRIND_SUPP:-}" ]; then
    runner="$runner --suppressions=$MIF_VALGRIND_SUPP"
  fi
fi

passed=0
failed=0
failed_names=""
log=$(mktemp "${TMPDIR:-/tmp}/mif-c-tests.XXXXXX") || exit 2
trap 'rm -f "$log"' EXIT
trap 'exit 130' INT TERM

for bin in "$@"; do
  name=$(basename "$bin")
  case "$bin" in
    /*) path=$bin ;;
    *) path=$(pwd)/$bin ;;
  esac
  echo "=== $name"
  if [ ! -x "$path" ]; then
    echo "FAIL $name: $bin is not an executable file"
    failed=$((failed + 1)); failed_names="$failed_names $name"
    continue
  fi
  # $runner is split into words on purpose; "$path" is not.
  # shellcheck disable=SC2086
  timeout -k 10 "$timeout_s" $netns sh -c 'ip link set lo up && exec "$@"' sh $runner "$path" >"$log" 2>&1
  rc=$?
  sed 's/^/  /' "$log"
  case $rc in
    0) echo "PASS $name"; passed=$((passed + 1)); continue ;;
    99) why="valgrind found memory errors or leaks" ;;
    98) why="AddressSanitizer or LeakSanitizer found an error (report above)" ;;
    97) why="UndefinedBehaviorSanitizer found an error (report above)" ;;
    124|137) why="timed out after ${timeout_s} s" ;;
    *) why="exit status $rc" ;;
  esac
  echo "FAIL $name: $why"
  failed=$((failed + 1)); failed_names="$failed_names $name"
done

[ "$failed" -eq 0 ] || echo "failed:$failed_names"
echo "c-tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
