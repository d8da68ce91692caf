#!/usr/bin/env python3
"""Runs the Python session of docs/bindings.md, so the document stays true.

The ```python blocks of docs/bindings.md run, in order, as one program in a child
Python with cffi, from the repository root, against include/mif.h (env MIF_HEADER) and
build/lib/libmif.so (env MIF_LIB), which `make -s all` builds. The header goes to cffi exactly as the document
says (`cc -E -P -dD -undef -DMIF_CDEF_ONLY`), with no filtering here. Then this script
checks what the session printed: the library's version is Cargo.toml's, the address
round trips happened, an interface announcement for "lo" came. The session opens its
context with root_dir at an empty temporary directory, so the library reads no
configuration file of this machine; it lists the machine's interfaces (read-only).

--shim-header: check the session against a copy of include/mif.h with the changes
the document relies on applied here (MIF_CDEF_ONLY guard, a valued include guard, a
literal MIF_VERSION_NUM), for a header generated before cbindgen.toml had them. Only
for trying the document early; `make test-bindings` never passes it.

Needs Debian's python3-cffi (and cc, from build-essential). When the `python3` that
runs this has no cffi but /usr/bin/python3 does (a pyenv or venv python first in PATH),
it re-runs itself there. Exits 1 on any failure, never skips. Last line:
"check-bindings: N passed, M failed".
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOC = os.path.join(ROOT, "docs", "bindings.md")
SYSTEM_PYTHON = "/usr/bin/python3"
CDEF_COMMAND = ["cc", "-E", "-P", "-dD", "-undef", "-DMIF_CDEF_ONLY"]


def die(message):
    print("check-bindings: " + message, file=sys.stderr)
    print("check-bindings: 0 passed, 1 failed")
    sys.exit(1)


def ensure_cffi():
    """Import cffi here, or re-exec under the system python that has it, or fail."""
    try:
        import cffi  # noqa: F401

        return
    except ImportError:
        pass
    here = os.path.realpath(sys.executable)
    if os.path.exists(SYSTEM_PYTHON) and os.path.realpath(SYSTEM_PYTHON) != here:
        probe = subprocess.run([SYSTEM_PYTHON, "-c", "import cffi"], capture_output=True)
        if probe.returncode == 0:
            print(f"check-bindings: {sys.executable} has no cffi; running under {SYSTEM_PYTHON}")
            sys.stdout.flush()
            os.execv(SYSTEM_PYTHON, [SYSTEM_PYTHON, os.path.abspath(__file__)] + sys.argv[1:])
    die(
        f"Python's cffi is missing ({sys.executable} cannot import it): install the Debian "
        "package python3-cffi (apt-get install -y --no-install-recommends python3-cffi)"
    )


def cargo_version():
    with open(os.path.join(ROOT, "Cargo.toml")) as f:
        in_package = False
        for line in f:
            line = line.strip()
            if line.startswith("["):
                in_package = line == "[package]"
            m = re.match(r'version\s*=\s*"([^"]+)"', line)
            if in_package and m:
                return m.group(1)
    die("no [package] version in Cargo.toml")


def python_blocks(path):
    """The ```python fenced blocks of a Markdown file, in order."""
    blocks, current = [], None
    with open(path) as f:
        for line in f:
            if current is None and line.rstrip() == "```python":
                current = []
            elif current is not None and line.rstrip() == "```":
                blocks.append("".join(current))
                current = None
            elif current is not None:
                current.append(line)
    if current is not None:
        die(f"{path}: a ```python block is not closed")
    return blocks


def shim_header(src, dst):
    """Today's header with the three changes the document relies on (see --shim-header)."""
    with open(src) as f:
        text = f.read()
    if "MIF_CDEF_ONLY" in text:
        die("--shim-header: include/mif.h already has MIF_CDEF_ONLY; run without it")
    text, n1 = re.subn(r"^#define MIF_H$", "#define MIF_H 1", text, flags=re.M)
    text, n2 = re.subn(
        r"^(#include <stddef\.h>\n.*?^#define mif_request_init\(.*?\n)",
        r"#ifndef MIF_CDEF_ONLY\n\1#endif\n",
        text,
        flags=re.M | re.S,
    )
    parts = {k: int(v) for k, v in re.findall(r"^#define MIF_VERSION_(MAJOR|MINOR|PATCH) (\d+)$", text, re.M)}
    num = (parts.get("MAJOR", 0) << 16) | (parts.get("MINOR", 0) << 8) | parts.get("PATCH", 0)
    text, n3 = re.subn(r"^#define MIF_VERSION_NUM \(.*\)$", f"#define MIF_VERSION_NUM {num}", text, flags=re.M)
    if (n1, n2, n3) != (1, 1, 1) or len(parts) != 3:
        die(f"--shim-header: today's header is not as expected (changes applied: {n1}, {n2}, {n3})")
    with open(dst, "w") as f:
        f.write(text)


def main():
    shim = "--shim-header" in sys.argv[1:]
    unknown = [a for a in sys.argv[1:] if a != "--shim-header"]
    if unknown:
        die(f"unknown arguments {unknown}; usage: check-bindings.py [--shim-header]")
    ensure_cffi()
    import cffi

    if shutil.which("cc") is None:
        die("no cc to preprocess the header: install the Debian package build-essential")

    header = os.path.abspath(os.environ.get("MIF_HEADER", os.path.join(ROOT, "include", "mif.h")))
    library = os.path.abspath(os.environ.get("MIF_LIB", os.path.join(ROOT, "build", "lib", "libmif.so")))
    for path, what in ((header, "header"), (library, "library (make -s all builds it)")):
        if not os.path.isfile(path):
            die(f"no {what} at {path}")
    blocks = python_blocks(DOC)
    if not blocks:
        die(f"{DOC} has no ```python block")

    passed = failed = 0
    results = []

    def record(ok, name, detail=""):
        nonlocal passed, failed
        results.append(f"{'ok' if ok else 'not ok'} - {name}" + (f": {detail}" if detail and not ok else ""))
        if ok:
            passed += 1
        else:
            failed += 1

    with tempfile.TemporaryDirectory(prefix="mif-bindings.") as tmp:
        if shim:
            shimmed = os.path.join(tmp, "mif.h")
            shim_header(header, shimmed)
            print(f"check-bindings: --shim-header: using {shimmed}, not {header} as it is")
            header = shimmed

        # 1. The header as it is goes through the documented command into ffi.cdef.
        with open(header) as f:
            if "MIF_CDEF_ONLY" not in f.read():
                print(f"check-bindings: {header} has no MIF_CDEF_ONLY guard: it was generated "
                      "before cbindgen.toml made the header cffi-ready (`make header`), or is "
                      "an older one (--shim-header checks the document against it anyway)")
        pre = subprocess.run(CDEF_COMMAND + [header], capture_output=True, text=True)
        if pre.returncode != 0:
            errors = [ln for ln in pre.stderr.splitlines() if "error" in ln] or pre.stderr.splitlines()[-1:]
            record(False, "cc -E -P -dD -undef -DMIF_CDEF_ONLY mif.h", "; ".join(errors))
        else:
            try:
                cffi.FFI().cdef(pre.stdout)
                record(True, "ffi.cdef() takes the preprocessed header unfiltered")
            except Exception as e:  # cffi raises CDefError, pycparser its own
                first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
                record(False, "ffi.cdef() takes the preprocessed header unfiltered",
                       f"{type(e).__name__}: {first} (is include/mif.h generated from the current "
                       "cbindgen.toml? `make header`)")

        # 2. The document's session, as one program.
        program = os.path.join(tmp, "bindings_session.py")
        with open(program, "w") as f:
            f.write("\n".join(blocks))
        env = dict(os.environ, MIF_HEADER=header, MIF_LIB=library, PYTHONDONTWRITEBYTECODE="1")
        env.pop("MIF_CONFIG", None)
        try:
            run = subprocess.run([sys.executable, program], cwd=ROOT, env=env,
                                 capture_output=True, text=True, timeout=60)
            out, err, rc = run.stdout, run.stderr, run.returncode
        except subprocess.TimeoutExpired as e:
            out, err, rc = (e.stdout or b"").decode(), "timed out after 60 s", -1
        print("--- docs/bindings.md session output ---")
        print(out, end="" if out.endswith("\n") or not out else "\n")
        if err.strip():
            print("--- its stderr ---")
            print(err.rstrip())
        print("---")
        record(rc == 0, "the session runs to its end", f"exit {rc}")

        lines = out.splitlines()
        want = cargo_version()
        got = [ln.split()[1] for ln in lines if ln.startswith("version ") and len(ln.split()) == 2]
        record(got == [want], "mif_version() is Cargo.toml's version", f"printed {got}, Cargo.toml {want}")

        record(any(ln.startswith("strerror ") and len(ln.split()) > 2 for ln in lines),
               "mif_strerror gives a text")

        trips = [ln for ln in lines if re.match(r"address \S+ family \d+ scope_id \d+ -> \S+$", ln)]
        round_ok = len(trips) == 3 and all(ln.split()[1] == ln.split()[-1] for ln in trips)
        record(round_ok, "mif_address_parse / mif_address_format round trip", f"lines {trips}")
        fams = [int(ln.split()[3]) for ln in trips]
        record(fams == [4, 6, 6], "families are MIF_FAMILY_IPV4 / MIF_FAMILY_IPV6", f"families {fams}")

        msgs = [ln.split() for ln in lines if ln.startswith("message ")]
        lo = [m for m in msgs if len(m) >= 4 and m[1] == "interface_announcement" and m[3] == "lo"]
        record(bool(lo), '"lo" is among the announced interfaces', f"messages {msgs}")
        record(bool(lo) and lo[0][-1] == "loopback" and int(lo[0][2]) > 0,
               '"lo" has an ifindex and MIF_LINK_LOOPBACK', f"{lo}")

    for r in results:
        print(r)
    print(f"check-bindings: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
