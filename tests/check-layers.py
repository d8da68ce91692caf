#!/usr/bin/env python3
"""The layer check (`make check-layers`, part of `make test`).

libmif's modules form four layers, each using only the ones below it:
    capi -> engine -> os -> core        (src/log.rs may be used by all)
This script fails, naming file and line, when
  - a file outside src/capi/ names a C API identifier (mif_... / MIF_...) in code,
    or uses the C layer;
  - a module uses a layer above its own (os using engine, core using os, ...);
  - src/core/ uses an OS or threading crate, reads the clock, or does I/O;
  - `unsafe` appears outside src/capi/ and src/os/sys.rs;
  - an `unsafe` block has no `// SAFETY:` comment right above it (or on its line).
Comments and string literals are not code: they are blanked before the checks
(the SAFETY check reads the comments).
"""
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
SRC = ROOT / "src"
LAYERS = {"core": 0, "os": 1, "engine": 2, "capi": 3}
UNSAFE_HOMES = ("src/capi/", "src/os/sys.rs")
CORE_FORBIDDEN = [
    (r"\b(libc|mio|nix|socket2|netlink_sys|netlink_packet_core|netlink_packet_route|crossbeam_channel|parking_lot)::",
     "an OS or threading crate"),
    (r"\b(Instant|SystemTime)::now\b", "the clock (time is passed in)"),
    (r"\bstd::(fs|env|thread|process)\b", "I/O, the environment or threads"),
    (r"\b(TcpStream|UdpSocket|TcpListener)\b", "sockets"),
]


def blank_comments_and_strings(text):
    """The code with comments and string/char literals replaced by spaces (newlines kept)."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif text.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif re.match(r'(b|c)?r#*"', text[i:i + 8]) and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            m = re.match(r'(b|c)?r(#*)"', text[i:])
            end = text.find('"' + m.group(2), i + m.end())
            end = n if end < 0 else end + 1 + len(m.group(2))
            out.append(re.sub(r"[^\n]", " ", text[i:end]))
            i = end
        elif c == '"' or (c in "bc" and text[i + 1:i + 2] == '"' and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_"))):
            j = i + (1 if c == '"' else 2)
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(re.sub(r"[^\n]", " ", text[i:j + 1]))
            i = j + 1
        elif c == "'" and re.match(r"'(\\.|[^\\'])'", text[i:i + 4]) or (c == "'" and re.match(r"'\\[xu]", text[i:i + 3])):
            j = text.find("'", i + 1 + (1 if text[i + 1] == "\\" else 0))
            out.append(" " * (j + 1 - i))
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def module_path(path):
    """src/engine/context.rs -> ['engine', 'context']; src/core/model/mod.rs -> ['core', 'model']."""
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] in ("mod", "lib"):
        parts = parts[:-1]
    return parts


def referenced_top_modules(code, path):
    """The top-level modules (core, os, engine, capi, log) a file's code refers to."""
    own = module_path(path)
    # A file's own `super` is its parent module; mod.rs files are their directory's module.
    tops = set()
    # Grouped paths (`crate::{engine::X, os}`) name each of their first segments.
    for m in re.finditer(r"\bcrate::\{", code):
        depth, j = 1, m.end()
        while j < len(code) and depth:
            depth += {"{": 1, "}": -1}.get(code[j], 0)
            j += 1
        inner = code[m.end():j - 1]
        level, start = 0, 0
        for k, ch in enumerate(inner + ","):
            if ch == "{":
                level += 1
            elif ch == "}":
                level -= 1
            elif ch == "," and level == 0:
                name = re.match(r"\s*(\w+)", inner[start:k])
                if name:
                    tops.add((name.group(1), m.start()))
                start = k + 1
    for m in re.finditer(r"\b(crate|super)((?:::super)*)::(\w+)", code):
        if m.group(1) == "crate":
            tops.add((m.group(3), m.start()))
            continue
        ups = 1 + m.group(2).count("super")
        base = own[:-ups] if ups <= len(own) else []
        target = (base + [m.group(3)])[0] if base or m.group(3) else None
        if target:
            tops.add((target, m.start()))
    return tops


def line_of(text, offset):
    return text.count("\n", 0, offset) + 1


def main():
    problems = []
    files = sorted(p for p in SRC.rglob("*.rs"))
    for path in files:
        rel = str(path.relative_to(ROOT))
        text = path.read_text()
        code = blank_comments_and_strings(text)
        lines = text.split("\n")
        mod = module_path(path)
        layer_name = mod[0] if mod else None
        layer = LAYERS.get(layer_name)

        if not rel.startswith("src/capi/"):
            for m in re.finditer(r"\b(mif|MIF)_\w+", code):
                problems.append(f"{rel}:{line_of(code, m.start())}: names the C API ({m.group(0)}) outside src/capi/")
        if layer is not None:
            for top, offset in referenced_top_modules(code, path):
                if top in LAYERS and LAYERS[top] > layer:
                    problems.append(f"{rel}:{line_of(code, offset)}: the {layer_name} layer uses {top}, a layer above it")
        # Unit tests (tests.rs files, and the `#[cfg(test)]` module that ends a file) may
        # read the clock to pick a starting moment.
        if layer_name == "core" and path.name != "tests.rs":
            cut = code.find("#[cfg(test)]")
            checked = code if cut < 0 else code[:cut]
            for pattern, what in CORE_FORBIDDEN:
                for m in re.finditer(pattern, checked):
                    problems.append(f"{rel}:{line_of(code, m.start())}: the pure core uses {what} ({m.group(0)})")

        for m in re.finditer(r"\bunsafe\b", code):
            lineno = line_of(code, m.start())
            if not rel.startswith(UNSAFE_HOMES):
                problems.append(f"{rel}:{lineno}: unsafe outside src/capi/ and src/os/sys.rs")
                continue
            after = code[m.end():m.end() + 40].lstrip()
            if not after.startswith("{"):
                continue  # `unsafe fn` / `unsafe impl`: their contract is a `# Safety` doc (clippy checks)
            here = lines[lineno - 1]
            found = "SAFETY:" in here
            k = lineno - 2
            while not found and k >= 0 and lines[k].strip().startswith("//"):
                found = "SAFETY:" in lines[k]
                k -= 1
            if not found:
                problems.append(f"{rel}:{lineno}: unsafe block without a `// SAFETY:` comment right above it")

    for p in problems:
        print(p)
    if problems:
        print(f"check-layers: {len(problems)} problem(s) in {len(files)} files")
        return 1
    print(f"check-layers: {len(files)} files, capi -> engine -> os -> core holds, every unsafe block has its SAFETY line")
    return 0


if __name__ == "__main__":
    sys.exit(main())
