#!/usr/bin/env python3
"""Runs libmif's network-namespace end-to-end tests (see README.md).

    python3 tests/netns/run.py                 # every test
    python3 tests/netns/run.py test_link_deleted test_rename   # some tests
    python3 tests/netns/run.py test_links      # every test of tests/netns/test_links.py

Discovers functions named test_* in tests/netns/test_*.py (file order, then definition
order), runs each in its own fresh Bed, prints "ok - name" or "not ok - name" with the
failure detail (NETNS_VERBOSE=N: also the first/last N messages of passing
tests), and ends with the line "netns: N passed, M failed". Exit status 0 only
if every test passed. Needs root (network namespaces); without root it fails.
"""

import importlib
import os
import signal
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True   # keep the source tree clean
sys.path.insert(0, HERE)

import bed as bedmod  # noqa: E402


def discover():
    tests = []
    for fname in sorted(os.listdir(HERE)):
        if not (fname.startswith("test_") and fname.endswith(".py")):
            continue
        mod = importlib.import_module(fname[:-3])
        for name, fn in vars(mod).items():
            if name.startswith("test_") and callable(fn) and getattr(fn, "__module__", None) == mod.__name__:
                tests.append((mod.__name__, name, fn))
    return tests


def _interrupt(signum, _frame):
    # Cleanup takes a fraction of a second: let it finish undisturbed.
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)
    raise KeyboardInterrupt(f"signal {signum}")


def run_one(name, fn):
    """Returns (ok, detail)."""
    opts = getattr(fn, "bed_options", {})
    bed = None
    try:
        with bedmod.Bed(**opts) as bed:
            try:
                fn(bed)
                bed.final_checks()
                if os.environ.get("NETNS_VERBOSE"):
                    for mc in bed.procs:
                        print(mc.describe(limit=int(os.environ["NETNS_VERBOSE"])), flush=True)
            except (bedmod.Failure, bedmod.Refused, AssertionError, Exception) as e:
                detail = [f"  {type(e).__name__}: {e}".replace("\n", "\n  ")]
                if not isinstance(e, (bedmod.Failure, bedmod.Refused)):
                    detail.append("  " + "".join(traceback.format_exc()).rstrip().replace("\n", "\n  "))
                # messages received so far, then stop the processes for the record
                for mc in bed.procs:
                    if not mc.stopped:
                        mc.stop()
                for mc in bed.procs:
                    detail.append(mc.describe())
                return False, "\n".join(detail)
        return True, ""
    except (bedmod.Failure, bedmod.Refused) as e:   # setup or teardown
        return False, f"  {type(e).__name__}: {e}".replace("\n", "\n  ")
    except KeyboardInterrupt:
        raise
    except Exception:
        return False, "  " + traceback.format_exc().rstrip().replace("\n", "\n  ")


def main(argv):
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGHUP, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)   # also when started with SIGINT ignored
    tests = discover()
    if argv:
        wanted = set(argv)
        known = {n for _m, n, _f in tests} | {m for m, _n, _f in tests}
        unknown = sorted(wanted - known)
        if unknown:
            print(f"unknown test(s): {' '.join(unknown)}")
            print(f"known: {' '.join(n for _m, n, _f in tests)}")
            print(f"netns: 0 passed, {len(unknown)} failed")
            return 1
        tests = [t for t in tests if t[0] in wanted or t[1] in wanted]
    if os.geteuid() != 0:
        print("netns: these tests create network namespaces and veth links and must run as root "
              "(e.g. `sudo make test-netns`); not root, so every test fails")
        for _m, name, _f in tests:
            print(f"not ok - {name}")
        print(f"netns: 0 passed, {len(tests)} failed")
        return 1
    print(f"netns: {len(tests)} tests, mifctl = {bedmod.MIFCTL}")
    passed = failed = 0
    try:
        for _mod, name, fn in tests:
            t0 = time.monotonic()
            ok, detail = run_one(name, fn)
            dt = time.monotonic() - t0
            if ok:
                passed += 1
                print(f"ok - {name} ({dt:.1f} s)", flush=True)
            else:
                failed += 1
                print(f"not ok - {name} ({dt:.1f} s)", flush=True)
                print(detail, flush=True)
    except KeyboardInterrupt as e:
        failed += 1
        print(f"not ok - interrupted ({e or 'Ctrl-C'}); cleaned up", flush=True)
    print(f"netns: {passed} passed, {failed} failed", flush=True)
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
