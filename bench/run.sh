#!/bin/sh
# libmif benchmarks: sets up private network namespaces, runs build/bench/* inside
# them with `ip netns exec`, tears everything down (also on failure or ^C) and
# prints a summary. Builds nothing: `make bench` builds, then runs this.
# Needs root (ip netns). Nothing is changed in the host's own namespace.
# Benchmarks are measured, never asserted: the exit status only says whether
# every benchmark ran to its end.
#
# Env: BENCH_N (event_latency events, 2000), BENCH_M (round trips, 10000),
#      BENCH_PAIRS (veth pairs for the drain, 300), BENCH_IDLE (idle seconds, 10),
#      BENCH_RA (RAs for ra_config, 500), BENCH_NAMES (names for dns_vs_cares, 2000),
#      BENCH_DNS_ROUNDS (its rounds per concurrency, 3), BENCH_CONN (connect part a, 1000),
#      BENCH_CONN_B (connect part b, blackholed first source, 10; ~3.3 s each),
#      BENCH_NAME (connect_name part a, 200), BENCH_NAME_B (its part b, 5; ~8.5 s each),
#      BENCH_GA (going_away deadline trials, 128; 16 per ~3.6 s wave),
#      BENCH_GA_CARRIER (going_away carrier flaps, 200),
#      BENCH_GA_NIC (its flaps of the NIC-like link, 5; ~1 s each),
#      BENCH_GA_HORIZON (its going_away_horizon_ms, 1000),
#      BENCH_CONT (continuity trials per case, 3; the naive case ~5.5 s each, ~25 s in all),
#      BENCH_ONLY ("roundtrip dns_vs_cares": run only these programs; all by default).
set -u
cd "$(dirname "$0")/.." || exit 1
B=build/bench
N=${BENCH_N:-2000}
M=${BENCH_M:-10000}
PAIRS=${BENCH_PAIRS:-300}
IDLE=${BENCH_IDLE:-10}
RA=${BENCH_RA:-500}
NAMES=${BENCH_NAMES:-2000}
DNS_ROUNDS=${BENCH_DNS_ROUNDS:-3}
CONN=${BENCH_CONN:-1000}
CONN_B=${BENCH_CONN_B:-10}
NAME_A=${BENCH_NAME:-200}
NAME_B=${BENCH_NAME_B:-5}
GA=${BENCH_GA:-128}
GA_CARRIER=${BENCH_GA_CARRIER:-200}
GA_NIC=${BENCH_GA_NIC:-5}
GA_HORIZON=${BENCH_GA_HORIZON:-1000}
CONT=${BENCH_CONT:-3}
# going_away's deadline links (gaN/gzN): two trials (IPv4, IPv6) per link and wave.
GA_LINKS=8

if [ "$(id -u)" != 0 ]; then
    echo "bench/run.sh: needs root (ip netns add)" >&2
    exit 1
fi
for b in event_latency roundtrip idle ra_config dns_vs_cares connect connect_name going_away continuity; do
    [ -x "$B/$b" ] || { echo "bench/run.sh: $B/$b missing (run 'make bench')" >&2; exit 1; }
done

P="mifb$$$(od -An -N2 -tx1 /dev/urandom | tr -d ' \n')"
NAMESPACES=""
TMP=$(mktemp -d /tmp/mif-bench.XXXXXX) || exit 1
cleanup() {
    for ns in $NAMESPACES; do
        # Daemons the programs started in our namespaces (dnsmasq) are normally gone
        # already; if a program died, stop what is left, by PID, before the namespace goes.
        for pid in $(ip netns pids "$ns" 2>/dev/null); do
            kill "$pid" 2>/dev/null
        done
        ip netns del "$ns" 2>/dev/null
    done
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

say() { printf '%s\n' "$*"; }
fail() { say "bench/run.sh: $*" >&2; exit 1; }

# A namespace with lo up and no IPv6 DAD (static and link-local addresses usable at once).
mkns() {
    ip netns add "$1" || fail "ip netns add $1"
    NAMESPACES="$NAMESPACES $1"
    ip netns exec "$1" sysctl -qw net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.all.accept_dad=0 ||
        fail "sysctl in $1"
    ip -n "$1" link set lo up || fail "lo up in $1"
}

# Waits (at most 10 s) until COUNT links in NS are up with carrier (operstate UP).
wait_links_up() {
    ns=$1 count=$2 i=0
    while [ "$(ip -n "$ns" -o link show up | grep -c 'state UP')" -lt "$count" ]; do
        i=$((i + 1))
        [ $i -le 100 ] || fail "links in $ns not up after 10 s"
        sleep 0.1
    done
}

# A namespace with one veth pair (both ends inside), up, with addresses.
mk_small() {
    ns=$1
    mkns "$ns"
    ip -n "$ns" link add mlat0 type veth peer name mlat1 || fail "veth in $ns"
    ip -n "$ns" addr add 198.51.100.1/24 dev mlat0 &&
        ip -n "$ns" addr add fd6d:6966:a::1/64 dev mlat0 nodad &&
        ip -n "$ns" addr add 203.0.113.1/24 dev mlat1 &&
        ip -n "$ns" addr add fd6d:6966:b::1/64 dev mlat1 nodad &&
        ip -n "$ns" link set mlat0 up && ip -n "$ns" link set mlat1 up || fail "addresses in $ns"
    wait_links_up "$ns" 2
}

# The drain namespace: PAIRS veth pairs, both ends up, 2 IPv4 + 2 IPv6 addresses on each end.
mk_big() {
    ns=$1
    mkns "$ns"
    awk -v pairs="$PAIRS" 'BEGIN {
        for (i = 0; i < pairs; i++) {
            printf "link add va%d type veth peer name vb%d\n", i, i
            for (e = 0; e < 2; e++) {
                j = 2 * i + e; dev = (e == 0 ? "va" : "vb") i
                printf "addr add 198.19.%d.%d/32 dev %s\n", int(j / 100), 2 * (j % 100) + 1, dev
                printf "addr add 198.19.%d.%d/32 dev %s\n", int(j / 100), 2 * (j % 100) + 2, dev
                printf "addr add fd6d:6966:d:%x::1/64 dev %s nodad\n", j, dev
                printf "addr add fd6d:6966:d:%x::2/64 dev %s nodad\n", j, dev
                printf "link set %s up\n", dev
            }
        }
    }' >"$TMP/big.batch"
    ip netns exec "$ns" ip -batch "$TMP/big.batch" || fail "ip -batch in $ns"
    wait_links_up "$ns" $((2 * PAIRS))
}

# Two namespaces joined by one veth: HOST holds mif0, PEER holds gw0; both up.
# Extra arguments are "ip addr add" arguments for mif0 (HOST side) and gw0 (PEER side),
# given as HOSTADDR... -- PEERADDR...
mk_pair() {
    host=$1 peer=$2
    shift 2
    mkns "$host"
    mkns "$peer"
    ip link add mif0 netns "$host" type veth peer name gw0 netns "$peer" || fail "veth $host/$peer"
    side=$host dev=mif0
    for a in "$@"; do
        if [ "$a" = "--" ]; then
            side=$peer dev=gw0
            continue
        fi
        case $a in
        *:*) ip -n "$side" addr add "$a" dev "$dev" nodad || fail "address $a in $side" ;;
        *) ip -n "$side" addr add "$a" dev "$dev" || fail "address $a in $side" ;;
        esac
    done
    ip -n "$host" link set mif0 up && ip -n "$peer" link set gw0 up || fail "links up in $host/$peer"
    wait_links_up "$host" 1
    wait_links_up "$peer" 1
}

# Connect to Name's bed: HOST with mif0 to network A (NA: gw0, 198.18.0.80 on lo, the
# default route) and mif1 to network B (NB: gw1, 198.18.0.81 on lo, a host route).
mk_two() {
    host=$1 na=$2 nb=$3
    mkns "$host"
    mkns "$na"
    mkns "$nb"
    ip link add mif0 netns "$host" type veth peer name gw0 netns "$na" &&
        ip link add mif1 netns "$host" type veth peer name gw1 netns "$nb" || fail "veths of $host"
    ip -n "$host" addr add 198.51.100.2/24 dev mif0 && ip -n "$host" addr add 203.0.113.2/24 dev mif1 &&
        ip -n "$na" addr add 198.51.100.1/24 dev gw0 && ip -n "$nb" addr add 203.0.113.1/24 dev gw1 &&
        ip -n "$na" addr add 198.18.0.80/32 dev lo && ip -n "$nb" addr add 198.18.0.81/32 dev lo || fail "addresses"
    ip -n "$host" link set mif0 up && ip -n "$host" link set mif1 up && ip -n "$na" link set gw0 up &&
        ip -n "$nb" link set gw1 up || fail "links up in $host"
    wait_links_up "$host" 2
    ip -n "$host" route add default via 198.51.100.1 dev mif0 &&
        ip -n "$host" route add 198.18.0.81/32 via 203.0.113.1 dev mif1 || fail "routes in $host"
}

# going_away's bed, HOST and PEER joined by two veths: mif0 (ifindex 10, 198.51.100.2/24)
# to gw0 (ifindex 20, 198.51.100.1/24), whose carrier changes the kernel treats as
# urgent (a veth's ifindex differs from its peer's); mif1 (203.0.113.2/24) to gw1
# (203.0.113.1/24), both ifindex 30, as a NIC's (iflink == ifindex: not urgent, linkwatch
# runs at most once a second). In HOST also GA_LINKS veth pairs gaN/gzN (both ends
# inside, up, no addresses: the program adds the short-lived ones it measures).
mk_going_away() {
    host=$1 peer=$2
    mkns "$host"
    mkns "$peer"
    ip link add mif0 index 10 netns "$host" type veth peer name gw0 index 20 netns "$peer" &&
        ip link add mif1 index 30 netns "$host" type veth peer name gw1 index 30 netns "$peer" ||
        fail "veths $host/$peer"
    ip -n "$host" addr add 198.51.100.2/24 dev mif0 && ip -n "$peer" addr add 198.51.100.1/24 dev gw0 &&
        ip -n "$host" addr add 203.0.113.2/24 dev mif1 && ip -n "$peer" addr add 203.0.113.1/24 dev gw1 ||
        fail "addresses in $host/$peer"
    for d in mif0 mif1; do ip -n "$host" link set $d up || fail "$d up"; done
    for d in gw0 gw1; do ip -n "$peer" link set $d up || fail "$d up"; done
    i=0
    while [ $i -lt $GA_LINKS ]; do
        ip -n "$host" link add ga$i type veth peer name gz$i &&
            ip -n "$host" link set ga$i up && ip -n "$host" link set gz$i up || fail "ga$i in $host"
        i=$((i + 1))
    done
    wait_links_up "$host" $((2 + 2 * GA_LINKS))
    wait_links_up "$peer" 2
}

# continuity's bed: HOST with mif0 (198.51.100.2/24) to network A (NA: gw0 198.51.100.1)
# and mif1 (203.0.113.2/24) to network B (NB: gw1 203.0.113.1); both networks route to
# SERVER, which holds 198.18.0.80 on its lo (A: 198.18.1.1/30 - 198.18.1.2 srva; B:
# 198.18.2.1/30 - 198.18.2.2 srvb). HOST has two default routes, via A (metric 100) and
# via B (metric 200): one server reached over either network. The program deletes and
# remakes mif0/gw0 itself (same addresses and route).
mk_continuity() {
    host=$1 na=$2 nb=$3 srv=$4
    for ns in "$host" "$na" "$nb" "$srv"; do mkns "$ns"; done
    ip link add mif0 netns "$host" type veth peer name gw0 netns "$na" &&
        ip link add mif1 netns "$host" type veth peer name gw1 netns "$nb" &&
        ip link add tosrv netns "$na" type veth peer name srva netns "$srv" &&
        ip link add tosrv netns "$nb" type veth peer name srvb netns "$srv" || fail "veths of $host"
    ip -n "$host" addr add 198.51.100.2/24 dev mif0 && ip -n "$host" addr add 203.0.113.2/24 dev mif1 &&
        ip -n "$na" addr add 198.51.100.1/24 dev gw0 && ip -n "$nb" addr add 203.0.113.1/24 dev gw1 &&
        ip -n "$na" addr add 198.18.1.1/30 dev tosrv && ip -n "$srv" addr add 198.18.1.2/30 dev srva &&
        ip -n "$nb" addr add 198.18.2.1/30 dev tosrv && ip -n "$srv" addr add 198.18.2.2/30 dev srvb &&
        ip -n "$srv" addr add 198.18.0.80/32 dev lo || fail "addresses of $host"
    for d in mif0 mif1; do ip -n "$host" link set $d up || fail "$d up"; done
    ip -n "$na" link set gw0 up && ip -n "$na" link set tosrv up && ip -n "$nb" link set gw1 up &&
        ip -n "$nb" link set tosrv up && ip -n "$srv" link set srva up && ip -n "$srv" link set srvb up ||
        fail "links up in $na/$nb/$srv"
    for ns in "$na" "$nb"; do
        ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1 || fail "forwarding in $ns"
    done
    wait_links_up "$host" 2
    wait_links_up "$srv" 2
    ip -n "$host" route add default via 198.51.100.1 dev mif0 metric 100 &&
        ip -n "$host" route add default via 203.0.113.1 dev mif1 metric 200 &&
        ip -n "$na" route add 198.18.0.80/32 via 198.18.1.2 dev tosrv &&
        ip -n "$nb" route add 198.18.0.80/32 via 198.18.2.2 dev tosrv &&
        ip -n "$srv" route add 198.51.100.0/24 via 198.18.1.1 dev srva &&
        ip -n "$srv" route add 203.0.113.0/24 via 198.18.2.1 dev srvb || fail "routes of $host"
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
T0=$(date +%s)
say "== libmif benchmarks ($(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, kernel $(uname -r), load $LOAD_BEFORE)"
say "== namespaces: $P-*"
mk_small "$P-lat"
mk_small "$P-rt"
mk_small "$P-idle"
say "== setting up $PAIRS veth pairs in $P-big"
mk_big "$P-big"
say "== setting up the RA, DNS, connect, going-away and continuity namespaces"
# RA: the host accepts RAs (2: also if forwarding were on); the router's link-local
# address is usable at once (accept_dad=0 from mkns).
mk_pair "$P-rah" "$P-rar" fd6d:6966:a::2/64 -- fd6d:6966:a::1/64
ip netns exec "$P-rah" sysctl -qw net.ipv6.conf.mif0.accept_ra=2 || fail "accept_ra in $P-rah"
mk_pair "$P-dnh" "$P-dns" 198.51.100.2/24 -- 198.51.100.1/24
mk_pair "$P-cnh" "$P-cns" 198.51.100.2/24 198.51.100.130/24 -- 198.51.100.1/24
mk_two "$P-nmh" "$P-nma" "$P-nmb"
mk_going_away "$P-gah" "$P-gap"
mk_continuity "$P-coh" "$P-coa" "$P-cob" "$P-cos"
# Let late link events (carrier, addrconf) pass before anything is measured.
sleep 1

STATUS=0
# POSIX sh has no PIPESTATUS: record each benchmark's status in a file.
run_one() {
    ns=$1 name=$2
    shift 2
    case " ${BENCH_ONLY:-$name} " in *" $name "*) ;; *) return 0 ;; esac
    say ""
    say "== $name $* (in $ns)"
    { ip netns exec "$ns" ${BENCH_WRAP:-} "$B/$name" "$@" 2>&1; echo $? >"$TMP/rc"; } | tee -a "$TMP/out"
    rc=$(cat "$TMP/rc")
    if [ "$rc" != 0 ]; then
        say "== $name FAILED (exit $rc)"
        STATUS=1
    fi
}

run_one "$P-lat" event_latency -i mlat0 -n "$N"
run_one "$P-rt" roundtrip -m "$M"
run_one "$P-big" roundtrip -D
run_one "$P-idle" idle -t "$IDLE"
run_one "$P-rah" ra_config -S "$P-rar" -n "$RA"
run_one "$P-dnh" dns_vs_cares -S "$P-dns" -n "$NAMES" -r "$DNS_ROUNDS"
run_one "$P-cnh" connect -S "$P-cns" -I "$CONN" -J "$CONN_B"
run_one "$P-nmh" connect_name -A "$P-nma" -B "$P-nmb" -I "$NAME_A" -J "$NAME_B"
run_one "$P-gah" going_away -S "$P-gap" -k "$GA_LINKS" -n "$GA" -c "$GA_CARRIER" -C "$GA_NIC" -H "$GA_HORIZON"
run_one "$P-coh" continuity -A "$P-coa" -S "$P-cos" -n "$CONT"

say ""
say "== summary ($(($(date +%s) - T0)) s; load before $LOAD_BEFORE, after $(cut -d' ' -f1-3 /proc/loadavg))"
grep '^SUMMARY' "$TMP/out" | sed 's/^SUMMARY /  /'
[ $STATUS = 0 ] || say "== some benchmarks FAILED"
exit $STATUS
