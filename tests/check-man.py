#!/usr/bin/env python3
"""Checks that the man pages under man/ are true to include/mif.h and the built library.

    python3 tests/check-man.py [--root DIR]

Fails (exit 1, every problem listed) unless:
  - every exported mif_* symbol of build/lib/libmif.so (nm -D --defined-only) is
    declared in include/mif.h and has a page man/man3/<symbol>.3;
  - every mif_* function and function-like macro of the header has a page, and every
    man/man3/mif_*.3 page names something the header declares;
  - each page's SYNOPSIS holds its prototype (or #define) exactly as the header
    declares it, whitespace aside, and nothing the header does not declare;
  - each page has the sections NAME, SYNOPSIS, DESCRIPTION, RETURN VALUE, STANDARDS
    and SEE ALSO, a .TH naming the page and a NAME line starting with its name; the
    RETURN VALUE of a function returning mif_result lists every result code its doc
    comment in the header names;
  - every MIF_E_* code (and every other MIF_* name) a page mentions exists in the
    header; every libmif page a page refers to (name(3), mifctl(1)) exists;
  - the generated pages are current: man/gen-man.py run into a temporary directory
    writes exactly the committed man/man3 files;
  - every page renders without a warning (groff -man -ww -z, else man --warnings);
    with neither installed the check fails and names the Debian package to install;
  - man/man1/mifctl.1 documents every command of `build/mifctl --help` and every
    option of each `build/mifctl COMMAND --help`.
Python 3 standard library only; it reads the header on its own, independently of
gen-man.py's parser.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

# MIF_* names in pages that are not header constants.
NOT_CONSTANTS = {"MIF_LOG", "MIF_CONFIG"}
REQUIRED_SECTIONS = ["NAME", "SYNOPSIS", "DESCRIPTION", "RETURN VALUE", "STANDARDS", "SEE ALSO"]

problems = []


def fail(msg):
    problems.append(msg)


def norm(text):
    text = re.sub(r"\\\s*\n", " ", text)        # a macro's line continuation
    text = re.sub(r"\s+", " ", text).strip()
    text = re.sub(r"\(\s+", "(", text)
    text = re.sub(r"\s+\)", ")", text)
    text = re.sub(r"\s+([,;])", r"\1", text)
    return text


# ---------------------------------------------------------------------------------------
# The header, read on its own


def read_header(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    functions = {}   # name -> (normalized prototype, doc comment text, return type)
    macros = {}      # name -> normalized #define line
    constants = set()
    # Function-like macros and constants (one line each in cbindgen's output).
    for m in re.finditer(r"^#define[ \t]+(\w+)(\([^)]*\))?[ \t]+(.*)$", text, re.M):
        if m.group(2) and m.group(1).startswith("mif_"):
            macros[m.group(1)] = norm(m.group(0))
        elif m.group(1).startswith("MIF_") and not m.group(2):
            constants.add(m.group(1))
    # Declarations with their doc comments: /** ... */ then the declaration up to ';'.
    for m in re.finditer(r"/\*\*((?:(?!\*/).)*)\*/\s*([^;{}#/]*?\b(mif_\w+)\s*\([^;{}]*\)\s*;)",
                         text, re.S):
        decl = norm(m.group(2))
        if decl.startswith("typedef"):
            continue
        ret = norm(decl[:decl.index(m.group(3))])
        functions[m.group(3)] = (decl, m.group(1), ret)
    # Declarations without a doc comment, too.
    body = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    body = re.sub(r"//[^\n]*", "", body)
    for m in re.finditer(r"(?:^|;|\})\s*([^;{}#]*?\b(mif_\w+)\s*\([^;{}]*\)\s*;)", body, re.M):
        decl = norm(m.group(1))
        if decl.startswith(("typedef", "#")) or m.group(2) in functions:
            continue
        fail("include/mif.h: %s is declared without a doc comment" % m.group(2))
        functions[m.group(2)] = (decl, "", norm(decl[:decl.index(m.group(2))]))
    return functions, macros, constants


# ---------------------------------------------------------------------------------------
# Pages


def unroff(text):
    """A page's source as plain text: font changes and escapes removed."""
    text = re.sub(r"\\f(\[[^\]]*\]|\(..|.)", "", text)
    text = text.replace("\\%", "").replace("\\&", "").replace("\\-", "-")
    text = re.sub(r"\\\((aq)", "'", text)
    text = re.sub(r"\\\((lq|rq|oq|cq)", '"', text)
    text = re.sub(r"\\\(em", "--", text)
    text = text.replace("\\e", "\\")
    return text


def sections(src):
    """{section name: source lines} of a page."""
    out, cur = {}, None
    for line in src.split("\n"):
        m = re.match(r'^\.SH\s+"?([^"]*)"?\s*$', line)
        if m:
            cur = m.group(1).strip()
            out[cur] = []
        elif cur is not None:
            out[cur].append(line)
    return out


def synopsis_decls(lines):
    """The prototypes and #define lines of a SYNOPSIS, as plain normalized text."""
    text = []
    for line in lines:
        if line.startswith(".B ") or line.startswith(".BI ") or line.startswith(".BR "):
            line = line.split(" ", 1)[1]
        elif line.startswith(".") or line.startswith("'"):
            continue
        text.append(unroff(line))
    joined = re.sub(r"\\[ \t]*\n", " ", "\n".join(text))   # a #define's continuation lines
    decls = []
    for m in re.finditer(r"^#define[^\n]*", joined, re.M):
        decls.append(norm(m.group(0)))
    rest = re.sub(r"^#[^\n]*", "", joined, flags=re.M)
    for m in re.finditer(r"[^;]*?\([^;]*\)\s*;", rest):
        decls.append(norm(m.group(0)))
    return decls


def check_page(path, name, header, is_function, result_doc):
    functions, macros, constants = header
    with open(path, encoding="utf-8") as f:
        src = f.read()
    rel = os.path.relpath(path, ROOT)
    secs = sections(src)
    m = re.search(r"^\.TH\s+(\S+)\s+(\S+)", src, re.M)
    if not m or m.group(1).replace("\\-", "-").lower() != name.lower():
        fail("%s: .TH does not name the page %s" % (rel, name))
    for s in REQUIRED_SECTIONS:
        if s not in secs:
            fail("%s: no %s section" % (rel, s))
    name_text = unroff("\n".join(l for l in secs.get("NAME", []) if not l.startswith(".")))
    if not re.match(r"^%s\b.* - \S" % re.escape(name), name_text.strip()):
        fail("%s: the NAME line should read '%s \\- description', not %r" % (rel, name, name_text.strip()))
    decls = synopsis_decls(secs.get("SYNOPSIS", []))
    expected = macros.get(name) or functions.get(name, (None,))[0]
    if expected is None:
        fail("%s: %s is neither a function nor a function-like macro of include/mif.h" % (rel, name))
    elif expected not in decls:
        fail("%s: the SYNOPSIS does not hold the header's declaration\n    header: %s\n    page:   %s"
             % (rel, expected, "\n            ".join(decls) or "(nothing)"))
    known = set(macros.values()) | {v[0] for v in functions.values()}
    for d in decls:
        if d not in known:
            fail("%s: the SYNOPSIS declares what the header does not: %s" % (rel, d))
    if result_doc is not None:
        rv = unroff("\n".join(secs.get("RETURN VALUE", [])))
        for code in sorted(set(re.findall(r"\b(MIF_OK|MIF_NO_MESSAGE|MIF_E_[A-Z0-9_]+)\b", result_doc))):
            if not re.search(r"\b%s\b" % code, rv):
                fail("%s: RETURN VALUE does not list %s, which the header's doc of %s names"
                     % (rel, code, name))


def check_names(path, constants, pages):
    """MIF_* names and libmif page references of any page."""
    with open(path, encoding="utf-8") as f:
        text = unroff("\n".join(l for l in f.read().split("\n") if not l.startswith(".TH")))
    rel = os.path.relpath(path, ROOT)
    for code in sorted(set(re.findall(r"\bMIF_E_[A-Z0-9_]*[A-Z0-9]\b", text))):
        if code not in constants:
            fail("%s: names the result code %s, which include/mif.h does not define" % (rel, code))
    for word in sorted(set(re.findall(r"\bMIF_[A-Z0-9_]*[A-Z0-9]\b", text))):
        if word.startswith("MIF_E_") or word in NOT_CONSTANTS:
            continue
        if word not in constants:
            fail("%s: names %s, which include/mif.h does not define" % (rel, word))
    for ref, sec in sorted(set(re.findall(r"\b((?:mif|libmif|mifctl)\w*)\((\d)\)", text))):
        if (ref, sec) not in pages:
            fail("%s: refers to %s(%s), which has no page under man/" % (rel, ref, sec))


# ---------------------------------------------------------------------------------------
# Rendering


def renderer():
    if shutil.which("groff"):
        return "groff", lambda p: ["groff", "-man", "-ww", "-z", "-Tutf8", p]
    if shutil.which("man"):
        return "man", lambda p: ["man", "--warnings=w", "-E", "UTF-8", "-l", p]
    return None, None


def check_render(paths):
    kind, cmd = renderer()
    if kind is None:
        fail("neither groff nor man is installed, so the pages cannot be checked for warnings:"
             " install the Debian package groff-base (apt-get install groff-base)")
        return
    env = dict(os.environ, MANWIDTH="80", LC_ALL="C.UTF-8", MAN_KEEP_STDERR="1")
    for p in paths:
        r = subprocess.run(cmd(p), stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        err = r.stderr.decode("utf-8", "replace").strip()
        if r.returncode != 0 or err:
            fail("%s: %s reports:\n    %s" % (os.path.relpath(p, ROOT), kind,
                                              err.replace("\n", "\n    ") or "exit %d" % r.returncode))


# ---------------------------------------------------------------------------------------


def check_generated(man3):
    gen = os.path.join(ROOT, "man", "gen-man.py")
    with tempfile.TemporaryDirectory() as tmp:
        r = subprocess.run([sys.executable, gen, "--out", tmp,
                            "--header", os.path.join(ROOT, "include", "mif.h"),
                            "--template", os.path.join(ROOT, "man", "libmif.3.in")],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if r.returncode != 0:
            fail("man/gen-man.py failed:\n" + r.stderr.decode("utf-8", "replace"))
            return
        made = set(os.listdir(tmp))
        for name in sorted(made):
            committed = os.path.join(man3, name)
            with open(os.path.join(tmp, name), encoding="utf-8") as f:
                want = f.read()
            try:
                with open(committed, encoding="utf-8") as f:
                    have = f.read()
            except FileNotFoundError:
                fail("man/man3/%s is missing: run 'python3 man/gen-man.py'" % name)
                continue
            if have != want:
                fail("man/man3/%s is stale (it differs from what man/gen-man.py makes of"
                     " include/mif.h): run 'python3 man/gen-man.py'" % name)
        for name in sorted(os.listdir(man3)):
            if name.startswith("mif_") and name not in made:
                fail("man/man3/%s is not made by man/gen-man.py (the header declares no %s):"
                     " run 'python3 man/gen-man.py', which removes it" % (name, name[:-2]))


def exported_symbols(lib):
    if not os.path.exists(lib):
        fail("%s does not exist: build it first (make lib)" % os.path.relpath(lib, ROOT))
        return None
    if not shutil.which("nm"):
        fail("nm is not installed: install the Debian package binutils")
        return None
    r = subprocess.run(["nm", "-D", "--defined-only", lib], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE)
    if r.returncode != 0:
        fail("nm -D --defined-only %s failed: %s" % (lib, r.stderr.decode().strip()))
        return None
    syms = set()
    for line in r.stdout.decode().split("\n"):
        parts = line.split()
        if len(parts) >= 3 and parts[2].startswith("mif_"):
            # nm shows a versioned symbol as name@@MIF_0.1 (mif.map).
            syms.add(parts[2].split("@")[0])
    if not syms:
        fail("nm finds no mif_* symbol in %s" % os.path.relpath(lib, ROOT))
    return syms


def check_mifctl(page, tool):
    if not os.path.exists(tool):
        fail("%s does not exist: build it first (make all)" % os.path.relpath(tool, ROOT))
        return
    with open(page, encoding="utf-8") as f:
        text = unroff(f.read())

    def help_of(*args):
        r = subprocess.run([tool] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=30)
        if r.returncode != 0:
            fail("'mifctl %s' exits %d" % (" ".join(args), r.returncode))
        return r.stdout.decode("utf-8", "replace")

    top = help_of("--help")
    block = top.split("commands:", 1)[-1]
    commands = re.findall(r"^  ([a-z][\w-]*)\s", block, re.M)
    if not commands:
        fail("'mifctl --help' lists no commands")
    for cmd in commands:
        if not re.search(r"^(\.SS|\.SY mifctl\n\.B) %s\b" % cmd, open(page, encoding="utf-8").read(), re.M) \
                and not re.search(r"\bmifctl %s\b" % cmd, text):
            fail("man/man1/mifctl.1 does not document the command '%s'" % cmd)
        if cmd == "help":
            continue
        for opt in sorted(set(re.findall(r"(?<![\w-])(--[a-z][\w-]*|-[a-zA-Z])\b", help_of(cmd, "--help")))):
            if not re.search(r"(?<![\w-])%s(?![\w-])" % re.escape(opt), text):
                fail("man/man1/mifctl.1 does not document '%s' of 'mifctl %s'" % (opt, cmd))


def main():
    global ROOT
    ap = argparse.ArgumentParser(description="Check man/ against include/mif.h and libmif.so.")
    ap.add_argument("--root", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                    help="the source tree (default: this script's)")
    args = ap.parse_args()
    ROOT = os.path.abspath(args.root)
    header_path = os.path.join(ROOT, "include", "mif.h")
    man3 = os.path.join(ROOT, "man", "man3")
    man1 = os.path.join(ROOT, "man", "man1")

    functions, macros, constants = header = read_header(header_path)
    if not functions:
        fail("include/mif.h: no mif_* function found")
    declared = set(functions) | set(macros)

    syms = exported_symbols(os.path.join(ROOT, "build", "lib", "libmif.so"))
    for s in sorted(syms or ()):
        if s not in functions:
            fail("libmif.so exports %s, which include/mif.h does not declare" % s)
        if not os.path.exists(os.path.join(man3, s + ".3")):
            fail("libmif.so exports %s, which has no page man/man3/%s.3" % (s, s))
    for f in sorted(set(functions) - (syms or set(functions))):
        fail("include/mif.h declares %s, which libmif.so does not export" % f)

    pages3 = sorted(p for p in os.listdir(man3) if p.endswith(".3")) if os.path.isdir(man3) else []
    pages1 = sorted(p for p in os.listdir(man1) if p.endswith(".1")) if os.path.isdir(man1) else []
    all_pages = {(p[:-2], "3") for p in pages3} | {(p[:-2], "1") for p in pages1}
    for d in sorted(declared):
        if d + ".3" not in pages3:
            fail("include/mif.h declares %s, which has no page man/man3/%s.3" % (d, d))
    if "libmif.3" not in pages3:
        fail("man/man3/libmif.3 is missing")
    if "mifctl.1" not in pages1:
        fail("man/man1/mifctl.1 is missing")

    for p in pages3:
        name = p[:-2]
        if name == "libmif":
            continue
        if name not in declared:
            fail("man/man3/%s documents %s, which include/mif.h does not declare" % (p, name))
            continue
        if name in functions:
            decl, doc, ret = functions[name]
        else:
            target = re.search(r"\)\s+(mif_\w+)\(", macros[name]).group(1)
            decl, doc, ret = functions.get(target, ("", "", ""))
        check_page(os.path.join(man3, p), name, header, name in functions,
                   doc if ret == "mif_result" else None)

    paths = [os.path.join(man3, p) for p in pages3] + [os.path.join(man1, p) for p in pages1]
    for p in paths:
        check_names(p, constants, all_pages)
    check_generated(man3)
    check_render(paths)
    if "mifctl.1" in pages1:
        check_mifctl(os.path.join(man1, "mifctl.1"), os.path.join(ROOT, "build", "mifctl"))

    if problems:
        print("check-man: %d problem(s):" % len(problems), file=sys.stderr)
        for p in problems:
            print("  - " + p, file=sys.stderr)
        return 1
    print("check-man: %d pages true to include/mif.h (%d functions, %d macros) and"
          " libmif.so (%d symbols); generated pages current; %s renders them without"
          " warnings" % (len(paths), len(functions), len(macros), len(syms or ()), renderer()[0]))
    return 0


ROOT = None

if __name__ == "__main__":
    sys.exit(main())
