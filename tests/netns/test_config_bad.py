"""Bad input in the files the library follows (docs/configuration.md: "Bad input never
stops the engine"): files over 64 KiB, binary garbage, truncated files, unknown keys,
misnamed fragments, a static file with errors, too many entries, non-regular files.
Nothing is announced for garbage, the valid parts of a partly valid file are used,
and mifctl keeps answering barriers; once more with mifctl under valgrind."""

import os
import random

from bed import VALGRIND, check, element

FRAG = "run/resolvconf/interfaces/mif0.dhcp"


def static_file_with_errors():
    return """dns = 198.51.100.9
# a comment
[mif0]
dns = 198.51.100.53 not-an-address 999.1.1.1 fd6d:6966:a::53 198.51.100.53
search = a.example bad..name b.example
mtu = 12
colour = blue
routers = 198.51.100.1 nonsense
[this/is bad]
dns = 198.51.100.66
[mif0
garbage line without an equals sign
[nosuch9]
dns = 198.51.100.67
"""


def bad_input(bed, prefix=()):
    bed.require_elements()
    idx = bed.ifindex("mif0")
    # The address the lease files below name, on the link as networkd would put it (a
    # lease lives with its address).
    bed.ip("host", "addr", "add", "198.51.100.150/24", "dev", "mif0")
    # The library prints nothing unless asked: this test reads its warnings.
    m = bed.start_mifctl(prefix=prefix, label="mifctl-valgrind" if prefix else None, env={"MIF_LOG": "warn"})
    m.expect_initial(elements=[])
    # With a default route, a resolv.conf parsed by mistake would show up as "system".
    bed.ip("host", "route", "add", "default", "via", "198.51.100.1", "dev", "mif0")
    m.expect_quiet()

    def el(family, kind, rel, dns=(), search=(), routers=(), mtu=None, **kw):
        return element(idx, "mif0", family, kind, origin=bed.path(rel), source=None, lifetime=None,
                       dns_servers=list(dns), search_domains=list(search), routers=list(routers), mtu=mtu, **kw)

    def gone(x):
        return element(idx, "mif0", x["pvd_name"].split("/")[1], x["element"], gone=True,
                       element_id=x["element_id"], origin=x["origin"])

    # -- size limit: 64 KiB is read, one byte more is ignored (and logged).
    line = "nameserver 198.51.100.61\n"
    pad = "#" * 99 + "\n"
    body = line + pad * ((65536 - len(line)) // len(pad))
    body += "#" * (65536 - len(body) - 1) + "\n"
    check(len(body) == 65536, len(body))
    bed.write(FRAG, body)
    e = m.expect(el("ipv4", "dhcpv4", FRAG, ["198.51.100.61"]))
    m.expect_quiet()
    bed.write(FRAG, body + "\n")
    m.expect(gone(e))
    m.expect_quiet("a file over 64 KiB is ignored")
    bed.write(FRAG, line + pad * 2000)       # ~200 KB
    m.expect_quiet("a large file is ignored")
    check("larger than" in m.stderr_text(), f"no log line about the large file: {m.stderr_text()!r}")
    bed.remove(FRAG)
    m.expect_quiet()

    # -- binary garbage everywhere, also over a valid file: nothing, or a withdrawal.
    bed.write(f"run/systemd/netif/links/{idx}", "DNS=198.51.100.62\n")
    g4 = m.expect(el("ipv4", "static", f"run/systemd/netif/links/{idx}", ["198.51.100.62"]))
    m.expect_quiet()
    rnd = random.Random(20240611)
    garbage = bytes(rnd.randrange(256) for _ in range(8192))
    rels = [f"run/systemd/netif/links/{idx}", f"run/systemd/netif/leases/{idx}",
            f"run/systemd/resolve/netif/{idx}", "run/resolvconf/interfaces/mif0.vpn",
            "run/resolvconf/interface/mif0.dhcp6", "run/dhcpcd/hook-state/resolv.conf/mif0.ra",
            "etc/mif.conf", "etc/resolv.conf"]
    for rel in rels:
        bed.write(rel, garbage)
    m.expect(gone(g4))
    m.expect_quiet("binary garbage says nothing")
    for rel in rels:
        bed.write(rel, garbage[:777] + b"\n\0\xff\xfe" * 50, how="inplace")
    m.expect_quiet("binary garbage rewritten in place says nothing")
    for rel in rels:
        bed.remove(rel)
    m.expect_quiet()

    # -- truncated files: the complete part counts.
    lease = f"run/systemd/netif/leases/{idx}"
    bed.write(lease, "ADDRESS=198.51.100.150\nROUTER=198.51.100.1\nDNS=198.51.100.1 198.51.10")
    t1 = m.expect(el("ipv4", "dhcpv4", lease, ["198.51.100.1"], [], ["198.51.100.1"]))
    bed.write(FRAG, "search a.example\nnameserver 198.51.100.7\nnameserver fd6d:69")
    t2 = m.expect(el("ipv4", "dhcpv4", FRAG, ["198.51.100.7"], ["a.example"]))
    m.expect_quiet()
    bed.write(FRAG, "nameser", how="inplace")
    m.expect(gone(t2))
    m.expect_quiet()
    bed.remove(FRAG)
    bed.remove(lease)
    m.expect(gone(t1))
    m.expect_quiet()

    # -- unknown keys and odd lines around valid ones.
    link = f"run/systemd/netif/links/{idx}"
    bed.write(link, "FOO=bar\nDNS=198.51.100.63\nX-UNKNOWN=1\n=novalue\nnoequals\n\n   \nDOMAINS=ok.example\n")
    u4, u6 = m.expect_phase([el("ipv4", "static", link, ["198.51.100.63"], ["ok.example"]),
                             el("ipv6", "static", link, [], ["ok.example"])])
    m.expect_quiet()
    bed.remove(link)
    m.expect_phase([gone(u4), gone(u6)])
    m.expect_quiet()

    # -- fragment names the library must skip: no protocol suffix, temporary files,
    # unknown interfaces; state files named after no interface; a directory, a symlink
    # to a device.
    ns = "nameserver 198.51.100.64\n"
    skipped = ["run/resolvconf/interfaces/mif0", "run/resolvconf/interfaces/.mif0.dhcp",
               "run/resolvconf/interfaces/mif0.dhcp~", "run/resolvconf/interfaces/mif0.dhcp.tmp",
               "run/resolvconf/interfaces/mif0.dhcp.new", "run/resolvconf/interfaces/nosuch9.dhcp",
               "run/systemd/netif/links/99999", "run/systemd/netif/links/mif0",
               "run/systemd/netif/leases/-1", "run/systemd/resolve/netif/0x2"]
    for rel in skipped:
        bed.write(rel, ns if "systemd" not in rel else "DNS=198.51.100.64\nSERVERS=198.51.100.64\n")
    os.makedirs(bed.path(f"run/resolvconf/interfaces/mif0.dir/{idx}"))
    os.symlink("/dev/zero", bed.path("run/resolvconf/interfaces/mif0.zero"))
    m.expect_quiet("misnamed files, directories and devices say nothing")
    for rel in skipped:
        bed.remove(rel)
    os.unlink(bed.path("run/resolvconf/interfaces/mif0.zero"))
    m.expect_quiet()

    # -- a static file with errors: its valid parts are used.
    bed.write("etc/mif.conf", static_file_with_errors())
    s4, s6 = m.expect_phase([
        el("ipv4", "static", "etc/mif.conf", ["198.51.100.53"], ["a.example", "b.example"], ["198.51.100.1"]),
        el("ipv6", "static", "etc/mif.conf", ["fd6d:6966:a::53"], ["a.example", "b.example"]),
    ], what="the valid parts of the static file")
    m.expect_quiet()
    bed.remove("etc/mif.conf")
    m.expect_phase([gone(s4), gone(s6)])
    m.expect_quiet()

    # -- too many entries: at most 32 servers and 64 domains per file, in file order.
    servers = [f"198.51.100.{100 + i}" for i in range(40)]
    domains = [f"d{i}.example" for i in range(70)]
    bed.write(FRAG, "".join(f"nameserver {s}\n" for s in servers) + "search " + " ".join(domains) + "\n")
    c = m.expect(el("ipv4", "dhcpv4", FRAG, servers[:32], domains[:64]))
    m.expect_quiet()
    bed.remove(FRAG)
    m.expect(gone(c))
    m.expect_quiet()
    return m


def test_config_bad_input(bed):
    bad_input(bed)


def test_config_bad_input_valgrind(bed):
    """The same under `valgrind --error-exitcode=99 --leak-check=full`: no memory error,
    no definite leak; exit status 0 after SIGTERM (checked by the final checks)."""
    bad_input(bed, prefix=VALGRIND)


def test_config_fifo(bed):
    """A FIFO where a state file, a fragment or resolv.conf is expected must not block
    the engine (opening a FIFO for reading waits for a writer): mifctl keeps
    answering barriers and still follows a valid file written next to it."""
    bed.require_elements()
    idx = bed.ifindex("mif0")
    m = bed.start_mifctl()
    m.expect_initial(elements=[])
    os.makedirs(bed.path("run/resolvconf/interfaces"))
    os.mkfifo(bed.path(FRAG))
    os.makedirs(bed.path("etc"))
    os.mkfifo(bed.path("etc/resolv.conf"))
    m.expect_quiet("a FIFO says nothing and blocks nothing")
    p = bed.write("run/resolvconf/interfaces/mif0.vpn", "nameserver 198.51.100.65\n")
    m.expect(element(idx, "mif0", "ipv4", "static", origin=p, dns_servers=["198.51.100.65"]))
    m.expect_quiet()


def test_config_bad_lines_as_log_messages(bed):
    """mifctl --log warn: the library's warnings about a static file with errors come as
    MIF_MSG_LOG messages, which mifctl prints on stderr prefixed "mifctl: libmif[warn]:";
    without MIF_LOG in the environment the library itself prints nothing."""
    bed.require_elements()
    bed.write("etc/mif.conf", static_file_with_errors())
    m = bed.start_mifctl("--log", "warn")
    m.expect_initial()
    m.sync()
    err = m.stderr_text()
    lines = [line for line in err.splitlines() if line.strip()]
    check(any(line.startswith("mifctl: libmif[warn]: static config line") for line in lines),
          f"no log message about the static file's bad lines: {err!r}")
    check(all(line.startswith("mifctl: libmif[") for line in lines),
          f"the library printed on stderr by itself: {err!r}")
