#!/usr/bin/env python3
"""Generate libmif's section 3 man pages from include/mif.h.

    python3 man/gen-man.py              rewrite man/man3/mif_*.3 and man/man3/libmif.3
    python3 man/gen-man.py --out DIR    write them into DIR instead (tests/check-man.py)

One page per `mif_*` function declared in the header and per function-like macro
(`mif_options_init`, `mif_request_init`), built from the header's doc comments:
NAME (the first clause of the doc), SYNOPSIS (the prototype exactly as declared),
DESCRIPTION, RETURN VALUE (every result code the doc names, with the reason it gives),
THREAD SAFETY and OWNERSHIP (the sentences of the doc that say so), STANDARDS (the
draft section the doc names, or "libmif addition") and SEE ALSO.

libmif.3 is man/libmif.3.in (hand-written prose) with its reference sections (@NAME@
placeholders on lines of their own) filled from the header: functions, request types,
message types, result codes, the structs' fields and the other constants.

Python 3 standard library only; the output depends on the header and the template
alone (no dates, no environment), so regenerating is idempotent.
"""
import argparse
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DRAFT = "draft-ietf-mif-api-extension-05"

# Section titles of draft-ietf-mif-api-extension-05 (/work/shared/seeds/003_*), to name
# the sections the header's docs cite by number.
DRAFT_TITLES = {
    "3.2.6": "MIF API communication model",
    "3.2.6.1": "POST MESSAGE call",
    "3.2.6.2": "CHECK MESSAGE call",
    "3.2.6.3": "GET MESSAGE call",
    "3.2.7.1": "Announce Interfaces",
    "3.2.7.2": "Stop Announcing Interfaces",
    "3.2.7.3": "Interface Announcement",
    "3.2.7.4": "No Interface Announcement",
    "3.2.7.5": "Announce Provisioning Domain",
    "3.2.7.6": "Stop Announcing Provisioning Domains",
    "3.2.7.7": "Provisioning Domain Announcement",
    "3.2.7.8": "No Provisioning Domain Announcement",
    "3.2.7.9": "Announce Configuration Element",
    "3.2.7.10": "Configuration Element Announcement",
    "3.2.7.11": "No Configuration Element Announcement",
    "3.2.7.12": "Stop Announce Configuration Element",
    "3.2.7.13": "Announce Address",
    "3.2.7.14": "Address Announcement",
    "3.2.7.15": "Stop Announcing Address",
    "3.2.7.16": "No Address Announcement",
    "3.2.7.17": "Get Configuration Data",
    "3.2.7.18": "Translate Name",
    "3.2.7.19": "Stop Translating Name",
    "3.2.7.20": "Name Translation",
    "3.2.7.21": "Connect to PvD",
    "3.2.7.22": "Connect to Address",
    "3.2.7.23": "Connect to Address From Address",
    "3.2.7.24": "Connected",
    "3.2.7.25": "Not Connected",
}

# Result codes a function returns that its doc comment in the header does not name
# (checked against src/ by hand; reported for the header). The page lists them with the
# code's own documentation. Remove an entry once the function's doc names the code: a
# code the doc names is taken from the doc, so a stale entry does no harm either.
UNDOCUMENTED_RETURNS = {
    # Every function returning mif_result runs inside ffi_guard!(MIF_E_INTERNAL, ...).
    "*": ["MIF_E_INTERNAL"],
}

# ---------------------------------------------------------------------------------------
# Reading the header
# ---------------------------------------------------------------------------------------


class Decl:
    """One documented declaration of the header."""

    def __init__(self, kind, name, text, doc, value=None):
        self.kind = kind      # "function", "macro", "define", "struct", "typedef"
        self.name = name
        self.text = text      # the declaration as written (whitespace collapsed)
        self.doc = doc        # list of paragraphs (strings)
        self.value = value
        self.fields = []      # structs: [(declaration, doc paragraphs)]
        self.ret = None       # functions
        self.params = []      # functions and macros: parameter names


def normalize(text):
    """Whitespace as the checker compares prototypes: runs collapsed, none inside ()."""
    text = re.sub(r"\s+", " ", text).strip()
    text = re.sub(r"\(\s+", "(", text)
    text = re.sub(r"\s+\)", ")", text)
    text = re.sub(r"\s+([,;])", r"\1", text)
    return text


def comment_paragraphs(lines):
    """The text of a /** */ or /* */ comment as paragraphs."""
    out, cur = [], []
    for raw in lines:
        line = raw.strip()
        line = re.sub(r"^/\*\*?", "", line)
        line = re.sub(r"\*/$", "", line)
        line = re.sub(r"^\* ?", "", line.strip()) if line.strip().startswith("*") else line
        line = line.strip()
        if line:
            cur.append(line)
        elif cur:
            out.append(" ".join(cur))
            cur = []
    if cur:
        out.append(" ".join(cur))
    return out


def parse_header(path):
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    decls = []
    doc = None          # pending /** */ paragraphs
    plain = None        # pending /* */ paragraphs (the macros' comment)
    i = 0
    struct = None
    while i < len(lines):
        line = lines[i]
        s = line.strip()
        if s.startswith("/*"):
            block = [line]
            while "*/" not in lines[i]:
                i += 1
                block.append(lines[i])
            paras = comment_paragraphs(block)
            if s.startswith("/**"):
                doc = paras
            else:
                plain = paras
            i += 1
            continue
        if not s or s.startswith("//"):
            if not s:
                plain = None if doc is None else plain
            i += 1
            continue
        if struct is not None:
            if s.startswith("}"):
                decls.append(struct)
                struct = None
            else:
                decl = s
                while not decl.endswith(";"):
                    i += 1
                    decl += " " + lines[i].strip()
                struct.fields.append((normalize(decl), doc or []))
            doc = None
            i += 1
            continue
        m = re.match(r"#define\s+(mif_\w+)\(([^)]*)\)\s+(.*)$", s)
        if m:
            d = Decl("macro", m.group(1), normalize(s), plain or [])
            d.params = [p.strip() for p in m.group(2).split(",") if p.strip()]
            d.target = re.match(r"(\w+)", m.group(3)).group(1)
            d.head = "#define %s(%s)" % (m.group(1), m.group(2))
            d.expansion = m.group(3).strip()
            decls.append(d)
            i += 1
            continue
        m = re.match(r"#define\s+(MIF_\w+)\s+(.*)$", s)
        if m:
            if doc is not None:
                decls.append(Decl("define", m.group(1), normalize(s), doc, m.group(2).strip()))
            doc = None
            i += 1
            continue
        if s.startswith("#") or s.startswith("extern \"C\"") or s.startswith("}"):
            i += 1
            continue
        m = re.match(r"typedef struct (\w+) \{$", s)
        if m:
            struct = Decl("struct", m.group(1), s, doc or [])
            doc = None
            i += 1
            continue
        # A declaration: read to its ';'.
        decl = s
        while not decl.endswith(";"):
            i += 1
            decl += " " + lines[i].strip()
        decl = normalize(decl)
        m = re.match(r"^(.*?)\b(mif_\w+)\((.*)\);$", decl)
        if m and not decl.startswith("typedef"):
            d = Decl("function", m.group(2), decl, doc or [])
            d.ret = m.group(1).strip()
            params = m.group(3).strip()
            if params and params != "void":
                d.params = [re.search(r"(\w+)$", p.strip()).group(1) for p in params.split(",")]
            decls.append(d)
        elif decl.startswith("typedef"):
            name = re.search(r"(\w+);$", decl).group(1)
            decls.append(Decl("typedef", name, decl, doc or []))
        doc = None
        i += 1
    return decls


class Header:
    def __init__(self, path):
        self.decls = parse_header(path)
        self.functions = [d for d in self.decls if d.kind == "function"]
        self.macros = [d for d in self.decls if d.kind == "macro"]
        self.defines = {d.name: d for d in self.decls if d.kind == "define"}
        self.structs = {d.name: d for d in self.decls if d.kind == "struct"}
        self.typedefs = {d.name: d for d in self.decls if d.kind == "typedef"}
        self.by_name = {d.name: d for d in self.functions + self.macros}
        self.result_codes = {n: d for n, d in self.defines.items() if is_result_code(n)}

    def value(self, name):
        v = self.defines[name].value
        try:
            return int(v, 0)
        except ValueError:
            return None

    def version(self):
        return ".".join(str(self.value("MIF_VERSION_" + p)) for p in ("MAJOR", "MINOR", "PATCH"))


def is_result_code(name):
    return name in ("MIF_OK", "MIF_NO_MESSAGE") or name.startswith("MIF_E_")


# ---------------------------------------------------------------------------------------
# Text to roff
# ---------------------------------------------------------------------------------------


def split_top(text, seps):
    """Split text at the separators that stand outside parentheses and `code`."""
    out, depth, code, cur, i = [], 0, False, "", 0
    while i < len(text):
        c = text[i]
        if c == "`":
            code = not code
        elif not code and c == "(":
            depth += 1
        elif not code and c == ")":
            depth = max(0, depth - 1)
        if not code and depth == 0:
            hit = next((s for s in seps if text.startswith(s, i)), None)
            if hit:
                out.append(cur)
                cur = ""
                i += len(hit)
                continue
        cur += c
        i += 1
    out.append(cur)
    return out


def sentences(paragraph):
    """A paragraph's sentences (a '.' followed by a space, outside parentheses)."""
    parts = split_top(paragraph, [". "])
    out = []
    for n, p in enumerate(parts):
        p = p.strip()
        if not p:
            continue
        if n < len(parts) - 1:
            p += "."
        out.append(p)
    return out


def esc(text):
    """Escape plain text for roff (no font changes)."""
    text = text.replace("\\", "\\e")
    # A minus sign before a number or as an option dash.
    text = re.sub(r"(^|[\s(\[=])-(?=[\d-])", r"\1\\-", text)
    text = re.sub(r"(?<=\\-)-", r"\\-", text)
    text = text.replace("->", "\\->")
    return text


def esc_code(text):
    return text.replace("\\", "\\e").replace("-", "\\-")


class Inline:
    """Converts doc text with `code` spans to roff for one page."""

    def __init__(self, header, params=(), self_names=()):
        self.header = header
        self.params = set(params)
        self.self_names = set(self_names)

    def code(self, c):
        bare = c.strip("*")
        if re.fullmatch(r"\*?\w+(->\w+)?", c) and re.match(r"\w+", bare).group(0) in self.params:
            return "\\fI" + esc_code(c) + "\\fR"
        if c.endswith("()") and c[:-2] in self.header.by_name:
            c = c[:-2]
        if c in self.header.by_name:
            if c in self.self_names:
                return "\\fB" + c + "\\fR()"
            return "\\fB" + c + "\\fR(3)"
        return "\\fB" + esc_code(c) + "\\fR"

    def plain(self, t):
        t = esc(t)
        t = re.sub(r"\b(MIF_[A-Z0-9_]+)\b", r"\\fB\1\\fR", t)

        def fn(m):
            name = m.group(1)
            if name in self.header.by_name:
                if name in self.self_names:
                    return "\\fB%s\\fR()" % name
                return "\\fB%s\\fR(3)" % name
            return m.group(0)

        t = re.sub(r"\b(mif_\w+)\(\)", fn, t)
        return t

    def __call__(self, text):
        parts = text.split("`")
        out = []
        for n, p in enumerate(parts):
            out.append(self.code(p) if n % 2 else self.plain(p))
        return "".join(out)

    def lines(self, text):
        """roff source lines for a paragraph: one sentence a line."""
        out = []
        for s in sentences(text):
            line = self(s)
            if line.startswith((".", "'")):
                line = "\\&" + line
            out.append(line)
        return out


def plain_text(text):
    """Doc text without markup, for NAME lines."""
    return text.replace("`", "")


def summary(doc):
    """The first clause of a doc comment, for a NAME line or a list."""
    if not doc:
        return ""
    text = doc[0]
    text = re.sub(r"^Our addition(\s*\([^)]*\))?:\s*", "", text)
    first = split_top(text, [". ", ": ", "; "])[0].strip().rstrip(".")
    # Drop parentheticals.
    prev = None
    while prev != first:
        prev = first
        first = re.sub(r"\s*\([^()]+\)", "", first)
    first = plain_text(first)
    first = re.sub(r"\s+", " ", first).strip()
    words = first.split(" ")
    if words and re.fullmatch(r"[A-Z][a-z']*", words[0]):
        words[0] = words[0].lower()
    return " ".join(words)


# ---------------------------------------------------------------------------------------
# Pages
# ---------------------------------------------------------------------------------------

THREAD_RE = re.compile(r"^(Thread safety:\s*|Any thread\b)")
OWNERSHIP_RE = re.compile(
    r"(\bowns\b|\bowned\b|\bfree it\b|must free|must close|never free|"
    r"stays? the application's|\bis copied\b|only read during the call|"
    r"stays? valid until freed|must not be used afterwards)")
RETURNS_RE = re.compile(r"^Returns\b")


def th(name, section, header):
    return ['.TH %s %s "" "libmif %s" "libmif Manual"' % (name.upper().replace("-", "\\-"),
                                                           section, header.version())]


def wrap_prototype(proto, width=72):
    """Break a prototype after commas, continuation lines aligned after '('."""
    if len(proto) <= width:
        return [proto]
    open_at = proto.index("(") + 1
    pieces = proto[open_at:].split(", ")
    lines, cur = [], proto[:open_at]
    for n, piece in enumerate(pieces):
        add = piece + (", " if n < len(pieces) - 1 else "")
        if len(cur) + len(add.rstrip()) > width and cur.strip() and len(cur) > open_at:
            lines.append(cur.rstrip())
            cur = " " * open_at
        cur += add
    lines.append(cur.rstrip())
    return lines


def synopsis(protos):
    out = [".SH SYNOPSIS", ".nf", ".B #include <mif.h>", ".PP"]
    for n, p in enumerate(protos):
        if n:
            out.append(".PP")
        if isinstance(p, Decl):
            # A macro: its #define, continued with a backslash on the next line.
            out += [esc_code(p.head + " \\"), esc_code("    " + p.expansion)]
            continue
        for line in wrap_prototype(p):
            out.append(esc_code(line))
    out.append(".fi")
    return out


def draft_sections(text):
    return re.findall(r"\b[Dd]raft (?:section )?(\d+(?:\.\d+)+)", text) + \
        re.findall(r"\(extends (\d+(?:\.\d+)+)\)", text)


def standards(doc):
    text = " ".join(doc)
    secs = []
    for s in draft_sections(text):
        if s not in secs:
            secs.append(s)
    addition = re.search(r"\b[Oo]ur addition\b", text) is not None
    named = ["section %s%s" % (s, " (%s)" % DRAFT_TITLES[s] if s in DRAFT_TITLES else "") for s in secs]
    if addition and named:
        return ["A libmif addition to %s, beyond %s." % (DRAFT, ", ".join(named))]
    if addition:
        return ["A libmif addition: not in %s." % DRAFT]
    if named:
        return ["%s, %s." % (DRAFT, " and ".join(named))]
    return ["A libmif addition: %s defines no C binding, and of the calls only POST,"
            " CHECK and GET MESSAGE (section 3.2.6)." % DRAFT]


def classify(doc, result_fn):
    """Sorts a function's doc sentences into description, returns, thread, ownership."""
    desc, returns, thread, owner = [], [], [], []
    first = True
    for para in doc:
        d = []
        for s in sentences(para):
            if first:
                # The first sentence says what the function does.
                d.append(s)
                first = False
            elif RETURNS_RE.match(s) and not s.startswith("Returns at once") and (
                    "`MIF_" in s or not result_fn):
                returns.append(s)
            elif THREAD_RE.match(s):
                t = THREAD_RE.sub(lambda m: "" if m.group(1).startswith("Thread") else m.group(1), s)
                # "our addition ..." belongs to STANDARDS.
                t = "; ".join(p for p in split_top(t.rstrip("."), ["; "])
                              if not re.match(r"[Oo]ur addition\b", p.strip())) + "."
                thread.append(t[:1].upper() + t[1:])
            elif OWNERSHIP_RE.search(s):
                owner.append(s)
            else:
                d.append(s)
        if d:
            desc.append(" ".join(d))
    return desc, returns, thread, owner


def code_reasons(returns_text, header):
    """{code: reason} from 'Returns `A` (why), `B` when ...; `C`.' sentences."""
    reasons = {}
    for s in returns_text:
        body = RETURNS_RE.sub("", s).strip().rstrip(".")
        for item in split_top(body, [", ", "; ", " or "]):
            codes = re.findall(r"`(MIF_[A-Z0-9_]+)`", item)
            codes = [c for c in codes if is_result_code(c)]
            if not codes:
                continue
            rest = re.sub(r"`MIF_[A-Z0-9_]+`", "", item)
            rest = re.sub(r"^\s*(/\s*)*", "", rest).strip()
            rest = re.sub(r"^(and|or)\s+", "", rest)
            if rest.startswith("(") and rest.endswith(")") and len(split_top(rest, [")"])) == 2:
                rest = rest[1:-1]
            elif rest.startswith("("):
                # "(not an error) when none waits" -> "when none waits (not an error)"
                head = split_top(rest, [") "])
                if len(head) == 2 and head[0].startswith("(") and ")" not in head[0]:
                    rest = "%s (%s)" % (head[1], head[0][1:])
            for c in codes:
                if c not in reasons or not reasons[c]:
                    reasons[c] = rest.strip()
    return reasons


def sentence_case(text, params=()):
    text = text.strip()
    if not text:
        return text
    first = re.match(r"[\w*]+", text)
    if first and first.group(0).strip("*") in params:
        text = "`%s`%s" % (first.group(0), text[first.end():])
    elif not text.startswith("`"):
        text = text[0].upper() + text[1:]
    if not text.endswith((".", ")")):
        text += "."
    elif text.endswith(")") and not text.endswith(".)"):
        text += "."
    return text


def return_value(fn, doc, returns, header, inline, page_name):
    out = [".SH RETURN VALUE"]
    if fn.ret == "mif_result":
        text = " ".join(doc)
        named = [c for c in re.findall(r"\bMIF_[A-Z0-9_]+\b", text) if is_result_code(c)]
        named = [c for c in named if c in header.result_codes]
        extra = UNDOCUMENTED_RETURNS.get("*", []) + UNDOCUMENTED_RETURNS.get(fn.name, [])
        codes = []
        for c in named + extra:
            if c not in codes:
                codes.append(c)
        codes.sort(key=lambda c: header.value(c))
        reasons = code_reasons(returns, header)
        out.append("\\fB%s\\fR() returns a \\fBmif_result\\fR:" % page_name)
        for c in codes:
            out += [".TP", "\\fB%s\\fR (%d)" % (c, header.value(c))]
            why = reasons.get(c)
            if not why or why.startswith("also "):
                for para in header.result_codes[c].doc:
                    out += inline.lines(para)
            if why:
                out += inline.lines(sentence_case(why, fn.params))
        out += [".PP", "\\fBmif_strerror\\fR(3) describes any code;"
                " \\fBlibmif\\fR(3) lists them all."]
    elif fn.ret == "void":
        out.append("\\fB%s\\fR() returns no value." % page_name)
    elif returns:
        for s in returns:
            out += inline.lines(s)
    else:
        # The doc describes the value returned; its description is the whole doc.
        out.append("The string or number described above; the function has no failure return.")
    return out


def see_also(names):
    refs = ["\\fBlibmif\\fR(3)"] + ["\\fB%s\\fR(3)" % n for n in sorted(set(names))]
    return [".SH SEE ALSO", ",\n".join(refs)]


GROUPS = [
    re.compile(r"^mif_(open|close|fd|post_message|check_message|get_message|message_free)$"),
    re.compile(r"^mif_(strerror|\w+_name)$"),
    re.compile(r"^mif_address_"),
    re.compile(r"^mif_version"),
    re.compile(r"^mif_(options|request)_init"),
]


def related(name, header, doc_text):
    out = set(re.findall(r"\b(mif_\w+)", doc_text)) & set(header.by_name)
    for g in GROUPS:
        if g.search(name):
            out |= {n for n in header.by_name if g.search(n)}
    # A macro and the function it calls.
    for m in header.macros:
        if name in (m.name, m.target):
            out |= {m.name, m.target}
    if name in ("mif_open",):
        out.add("mif_options_init")
    if name in ("mif_post_message",):
        out.add("mif_request_init")
    out.discard(name)
    return out


def page_for_function(fn, header):
    inline = Inline(header, fn.params, [fn.name])
    desc, returns, thread, owner = classify(fn.doc, fn.ret == "mif_result")
    out = th(fn.name, 3, header)
    out += [".SH NAME", "%s \\- %s" % (fn.name, esc(summary(fn.doc)))]
    out += synopsis([fn.text])
    out.append(".SH DESCRIPTION")
    first = True
    for para in desc:
        if not first:
            out.append(".PP")
        out += inline.lines(para)
        first = False
    if not desc:
        out.append("See RETURN VALUE.")
    out += return_value(fn, fn.doc, returns, header, inline, fn.name)
    out += thread_and_ownership(thread, owner, inline)
    out.append(".SH STANDARDS")
    out += [esc(s) for s in standards(fn.doc)]
    out += see_also(related(fn.name, header, " ".join(fn.doc)))
    return out


def thread_and_ownership(thread, owner, inline):
    """The THREAD SAFETY and OWNERSHIP sections, each only when the doc says something."""
    out = []
    for title, sentences in ((".SH THREAD SAFETY", thread), (".SH OWNERSHIP", owner)):
        if sentences:
            out.append(title)
            for s in sentences:
                out += inline.lines(s)
    return out


def page_for_macro(mac, header):
    fn = header.by_name[mac.target]
    inline = Inline(header, list(fn.params) + mac.params, [mac.name])
    desc, returns, thread, owner = classify(fn.doc, fn.ret == "mif_result")
    out = th(mac.name, 3, header)
    out += [".SH NAME", "%s \\- %s" % (mac.name, esc(summary(fn.doc)))]
    out += synopsis([mac, fn.text])
    out.append(".SH DESCRIPTION")
    out.append("\\fB%s\\fR() is a macro of the header: it expands to" % mac.name)
    out.append(".PP")
    out += [".RS", ".nf", esc_code(mac.expansion), ".fi", ".RE", ".PP"]
    out.append("passing the size of the struct as the program was compiled, to"
               " \\fB%s\\fR(3)." % fn.name)
    for para in mac.doc:
        out += inline.lines(para)
    for para in desc:
        out.append(".PP")
        out += inline.lines(para)
    out += return_value(fn, fn.doc, returns, header, inline, mac.name)
    out += thread_and_ownership(thread, owner, inline)
    out.append(".SH STANDARDS")
    out.append(esc("A libmif addition: not in %s." % DRAFT))
    out += see_also(related(mac.name, header, " ".join(fn.doc + mac.doc)))
    return out


# ---------------------------------------------------------------------------------------
# libmif.3
# ---------------------------------------------------------------------------------------


def defines_with(header, prefix):
    ds = [d for n, d in header.defines.items() if n.startswith(prefix)]
    return sorted(ds, key=lambda d: (header.value(d.name) is None, header.value(d.name) or 0))


def draft_titled(text):
    """'Draft 3.2.7.2' -> 'Draft 3.2.7.2 (Stop Announcing Interfaces)' in doc text."""
    def sub(m):
        t = DRAFT_TITLES.get(m.group(2))
        if not t:
            return m.group(0)
        if m.group(1) == "extends":
            return m.group(0) + ", " + t
        return m.group(0) + " (%s)" % t
    return re.sub(r"\b(Draft|draft|extends) (\d+(?:\.\d+)+)(?![\d.]*\s*\()", sub, text, count=1)


def constant_list(header, decls, titled=False):
    inline = Inline(header)
    out = []
    for d in decls:
        v = header.value(d.name)
        out += [".TP", "\\fB%s\\fR (%s)" % (d.name, v) if v is not None else "\\fB%s\\fR" % d.name]
        for n, para in enumerate(d.doc):
            if n:
                out.append(".IP")
            out += inline.lines(draft_titled(para) if titled else para)
    return out


def struct_list(header, name):
    s = header.structs[name]
    inline = Inline(header)
    out = []
    for para in s.doc:
        out += inline.lines(para)
    for decl, doc in s.fields:
        out += [".TP", "\\fB%s\\fR" % esc_code(decl)]
        for n, para in enumerate(doc):
            if n:
                out.append(".IP")
            out += inline.lines(para)
    return out


def fill_libmif(header, template):
    inline = Inline(header)
    listed = set()

    def functions():
        out = []
        for d in sorted(header.functions + header.macros, key=lambda d: d.name):
            doc = d.doc if d.kind == "function" else header.by_name[d.target].doc
            out += [".TP", "\\fB%s\\fR(3)" % d.name, esc(summary(doc)) +
                    (" (macro)" if d.kind == "macro" else "") + "."]
        return out

    def take(prefix, titled=False):
        ds = defines_with(header, prefix)
        listed.update(d.name for d in ds)
        return constant_list(header, ds, titled)

    def results():
        ds = sorted(header.result_codes.values(), key=lambda d: header.value(d.name))
        listed.update(d.name for d in ds)
        return constant_list(header, ds)

    def others():
        ds = [d for n, d in header.defines.items() if n not in listed]
        return constant_list(header, ds)

    def typedef(name):
        d = header.typedefs.get(name) or header.structs.get(name)
        out = []
        for para in d.doc:
            out += inline.lines(para)
        return out

    fills = {
        "FUNCTIONS": functions,
        "REQUEST_TYPES": lambda: take("MIF_REQ_", True),
        "MESSAGE_TYPES": lambda: take("MIF_MSG_", True),
        "RESULT_CODES": results,
        "MIF_CTX": lambda: typedef("mif_ctx"),
        "MIF_OPTIONS": lambda: struct_list(header, "mif_options"),
        "MIF_REQUEST": lambda: struct_list(header, "mif_request"),
        "MIF_MESSAGE": lambda: struct_list(header, "mif_message"),
        "MIF_ADDRESS": lambda: struct_list(header, "mif_address"),
        "OTHER_CONSTANTS": others,
        "TH": lambda: th("libmif", 3, header),
    }
    out = []
    for line in template.split("\n"):
        m = re.fullmatch(r"@([A-Z_]+)@", line.strip())
        if m:
            if m.group(1) not in fills:
                raise SystemExit("gen-man.py: unknown placeholder %s in libmif.3.in" % line)
            # OTHER_CONSTANTS must come after the lists that take their constants.
            out.append(m.group(1))
        else:
            out.append(line)
    order = sorted((n for n in out if n in fills), key=lambda n: n == "OTHER_CONSTANTS")
    done = {n: fills[n]() for n in order}
    result = []
    for line in out:
        result += done[line] if line in fills else [line]
    while result and result[-1] == "":
        result.pop()
    return result


# ---------------------------------------------------------------------------------------

# The start of an identifier with an underscore (MIF_MSG_CONNECTED, translation_id),
# after a font change or a non-word character.
IDENT_START = re.compile(r"(?:(?<=\\f[BIRP])|(?<![\w\\%]))(?=[A-Za-z]\w*_)")


def no_hyphenation(lines):
    """Marks identifiers in text lines with \\% so that groff never hyphenates them."""
    out, literal, after_name = [], False, False
    for line in lines:
        if line.startswith((".nf", ".EX")):
            literal = True
        elif line.startswith((".fi", ".EE")):
            literal = False
        elif not literal and not line.startswith((".", "'")) and not after_name:
            line = IDENT_START.sub(r"\\%", line)
        after_name = line.startswith(".SH NAME")
        out.append(line)
    return out


def generate(header_path, template_path):
    header = Header(header_path)
    pages = {}
    for fn in header.functions:
        pages[fn.name + ".3"] = page_for_function(fn, header)
    for mac in header.macros:
        pages[mac.name + ".3"] = page_for_macro(mac, header)
    with open(template_path, encoding="utf-8") as f:
        pages["libmif.3"] = fill_libmif(header, f.read())
    note = ['.\\" Generated by man/gen-man.py from include/mif.h: do not edit, run'
            ' python3 man/gen-man.py.']
    out = {}
    for name, lines in pages.items():
        if name == "libmif.3":
            head = ['.\\" Generated by man/gen-man.py from man/libmif.3.in and include/mif.h:'
                    ' edit those, then run python3 man/gen-man.py.']
        else:
            head = note
        text = "\n".join(head + no_hyphenation(lines)) + "\n"
        text = re.sub(r"\n{2,}", "\n", text)   # a blank line is a blank output line in roff
        out[name] = text
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--header", default=os.path.join(ROOT, "include", "mif.h"))
    ap.add_argument("--template", default=os.path.join(HERE, "libmif.3.in"))
    ap.add_argument("--out", default=os.path.join(HERE, "man3"),
                    help="directory to write the pages into (default: man/man3)")
    args = ap.parse_args()
    pages = generate(args.header, args.template)
    os.makedirs(args.out, exist_ok=True)
    default_out = os.path.abspath(args.out) == os.path.join(HERE, "man3")
    if default_out:
        # Pages of functions the header no longer declares.
        for old in os.listdir(args.out):
            if old.startswith("mif_") and old.endswith(".3") and old not in pages:
                os.remove(os.path.join(args.out, old))
                print("removed man/man3/%s" % old)
    changed = 0
    for name, text in sorted(pages.items()):
        path = os.path.join(args.out, name)
        try:
            with open(path, encoding="utf-8") as f:
                if f.read() == text:
                    continue
        except FileNotFoundError:
            pass
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        changed += 1
    print("gen-man.py: %d pages, %d written" % (len(pages), changed), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
