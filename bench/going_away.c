/*
 * going_away: how good libmif's "Interface is going away" warning
 * (MIF_MSG_INTERFACE_GOING_AWAY) is, next to the kernel's own events in the same run.
 *
 * Part 1, deadline accuracy. K veth links (LINKPREFIX0..K-1, default ga0..ga7, up,
 * no address of their own) sit in this namespace. In waves, this process adds over
 * rtnetlink one address per link and family, all in one burst: 198.18.(100+L).W/24
 * and fd6d:6966:e:L::W/64 (nodad), valid lifetime V (default 3 s). That address is
 * the only one of its PvD, whose warning depends on the preferred lifetime; the kind
 * rotates over the links from wave to wave:
 *   - added deprecated (preferred 0): every address deprecated at once, so the library
 *     warns (MIF_GOING_AWAY_ADDRESSES_DEPRECATED) on the add's RTM_NEWADDR;
 *   - deprecated later (preferred 1 s): the kernel's address check marks it deprecated
 *     (an RTM_NEWADDR) about 1 s in, and the library warns then, with the lifetime the
 *     kernel reports in that message;
 *   - lifetime ending (preferred = valid): never deprecated; the library's own timer
 *     warns (MIF_GOING_AWAY_LIFETIME_ENDING) when the end comes within the horizon
 *     (-H, default 1000 ms here, the smallest the library takes, so that the first two
 *     kinds are not warned of at the add already).
 * The kernel removes the address when its valid lifetime ends (its per-namespace
 * address-check work), and the PvD goes with it. Per trial:
 *   - announced deadline = when the warning was taken (mif_fd readable) + deadline_ms;
 *   - actual removal     = when this process's own rtnetlink socket (joined to
 *                          RTNLGRP_IPV4_IFADDR and RTNLGRP_IPV6_IFADDR) read the
 *                          RTM_DELADDR (also: when libmif's No Address was taken);
 *   - nominal expiry     = just before the add's sendto() + V.
 * Printed: |announced - actual|, the lead time (warning taken -> actual removal), the
 * kernel's lateness (actual - nominal) and the library's own deadline error
 * (announced - nominal), over all trials and per kind. The adds of a wave go in one
 * burst, and a wave starts only when the previous one's addresses are gone: an address
 * added within 1 s of another's expiry would move the kernel's next check
 * (ADDRCONF_TIMER_FUZZ_MAX) and add lateness of its own. Waves start at varying
 * offsets within the second (the kernel rounds its check up to a whole second).
 *
 * Part 2, carrier loss. mif0 here, gw0 in the peer namespace (-S NAME). The peer end
 * is taken down by RTM_NEWLINK on an rtnetlink socket that a short-lived thread opened
 * in the peer namespace (sent from this thread: one clock, no process start). From just
 * before that sendto(), two listeners in this process are timed:
 *   - raw netlink: a socket joined to RTNLGRP_LINK, RTM_NEWLINK for mif0 without
 *     IFF_LOWER_UP readable;
 *   - libmif: mif_fd readable with MIF_MSG_INTERFACE_GOING_AWAY (carrier lost) for mif0.
 * Then the peer is taken up again and both listeners must see the carrier back (the
 * raw NEWLINK with IFF_LOWER_UP; libmif's cancellation), also timed and printed.
 * run.sh gives mif0 and gw0 different ifindexes: the kernel then treats a veth's
 * carrier change as urgent. Part 2b does the same C2 times on mif1/gw1, whose ifindexes
 * are equal (-I, -Q; skipped when mif1 is absent): like a physical NIC's (iflink ==
 * ifindex), its carrier loss is not urgent and waits for the kernel's linkwatch, which
 * runs at most once a second.
 * Measured, never asserted. Must run inside a private network namespace.
 *
 * usage: going_away -S PEER_NETNS [-R gw0] [-i mif0] [-I mif1] [-Q gw1] [-L ga] [-k K]
 *                   [-n N] [-c C] [-C C2] [-v V] [-H HORIZON_MS]
 *   N: part 1 trials (default 128, 2*K per wave); C: carrier trials (default 200);
 *   C2: part 2b trials (default 5, about 1 s each); K: links for part 1 (default 8);
 *   V: valid lifetime in seconds (default 3, at least 2).
 */
#include "bench_util.h"

#ifndef IFF_LOWER_UP
#define IFF_LOWER_UP 0x10000 /* linux/if.h; net/if.h (glibc) does not define it */
#endif

#define MAX_LINKS 32
#define WAIT_MS 10000
/* How long after the nominal expiry a wave waits for its removals. */
#define LATE_LIMIT_MS 8000

static char root[] = "/tmp/mif-bench-ga.XXXXXX";

static void remove_root(void)
{
    rmdir(root);
}

/* ---- rtnetlink requests ---- */

/* A request in one aligned buffer (header, then ifaddrmsg or ifinfomsg, then
 * attributes), so that the compiler sees the attributes inside the object. */
struct nl_big_req {
    _Alignas(struct nlmsghdr) char buf[256];
};

static void nl_send(int fd, struct nlmsghdr *nh)
{
    struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
    ssize_t n = sendto(fd, nh, nh->nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof kernel);
    if (n != (ssize_t)nh->nlmsg_len)
        die("netlink sendto: %s", strerror(errno));
}

/* RTM_NEWADDR for addr/plen (family AF_INET or AF_INET6) on ifindex with these
 * lifetimes (seconds), IPv6 without DAD; NLM_F_ACK (read with nl_read_ack()). */
static void nl_send_addr_lft(int fd, int family, int ifindex, const unsigned char *addr, int plen, uint32_t valid,
                             uint32_t preferred, uint32_t seq)
{
    struct nl_big_req req;
    memset(&req, 0, sizeof req);
    struct nlmsghdr *nh = (struct nlmsghdr *)req.buf;
    nh->nlmsg_len = NLMSG_LENGTH(sizeof(struct ifaddrmsg));
    nh->nlmsg_type = RTM_NEWADDR;
    nh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
    nh->nlmsg_seq = seq;
    struct ifaddrmsg *ifa = NLMSG_DATA(nh);
    ifa->ifa_family = (unsigned char)family;
    ifa->ifa_prefixlen = (unsigned char)plen;
    ifa->ifa_scope = RT_SCOPE_UNIVERSE;
    ifa->ifa_flags = family == AF_INET6 ? IFA_F_NODAD : 0;
    ifa->ifa_index = (unsigned)ifindex;
    unsigned short alen = family == AF_INET ? 4 : 16;
    nl_add_attr(nh, IFA_LOCAL, addr, alen);
    nl_add_attr(nh, IFA_ADDRESS, addr, alen);
    struct ifa_cacheinfo ci = { .ifa_prefered = preferred, .ifa_valid = valid };
    nl_add_attr(nh, IFA_CACHEINFO, &ci, sizeof ci);
    nl_send(fd, nh);
}

/* RTM_NEWLINK setting IFF_UP on (up) or off; NLM_F_ACK. */
static void nl_send_link_updown(int fd, int ifindex, int up, uint32_t seq)
{
    struct nl_big_req req;
    memset(&req, 0, sizeof req);
    struct nlmsghdr *nh = (struct nlmsghdr *)req.buf;
    nh->nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg));
    nh->nlmsg_type = RTM_NEWLINK;
    nh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
    nh->nlmsg_seq = seq;
    struct ifinfomsg *ifi = NLMSG_DATA(nh);
    ifi->ifi_family = AF_UNSPEC;
    ifi->ifi_index = ifindex;
    ifi->ifi_flags = up ? IFF_UP : 0;
    ifi->ifi_change = IFF_UP;
    nl_send(fd, nh);
}

/* ---- statistics in milliseconds ---- */

static void print_stats_ms(const char *label, struct stats s)
{
    printf("  %-34s n=%-4zu median %8.1f ms  p90 %8.1f  p99 %8.1f  min %8.1f  max %8.1f ms\n", label, s.n,
           s.median / 1e6, s.p90 / 1e6, s.p99 / 1e6, s.min / 1e6, s.max / 1e6);
}

/* ---- part 1 ---- */

enum { KIND_DEPRECATED, KIND_LATER, KIND_ENDING, KIND_COUNT };
static const char *const kind_name[KIND_COUNT] = { "added deprecated", "deprecated later", "lifetime ending" };

struct trial {
    int link, family; /* family: MIF_FAMILY_IPV4 / MIF_FAMILY_IPV6 */
    int kind, wave;
    unsigned char addr[16];
    int64_t t_add;           /* just before the add's sendto() */
    int64_t t_msg;           /* first going-away warning taken; 0 = none */
    uint64_t deadline_ms;    /* its deadline */
    uint32_t reason;         /* its reason */
    int warnings, reasons_changed, cancelled;
    int64_t t_resend;        /* the second warning taken; 0 = none */
    uint64_t resend_deadline_ms;
    uint32_t resend_reason;
    int64_t t_del_raw;       /* RTM_DELADDR read on our own socket */
    int64_t t_del_mif;       /* libmif's No Address taken */
    int64_t t_nopvd;         /* libmif's No PvD taken */
};

struct part1 {
    mif_ctx *ctx;
    int nlfd;                       /* RTM_DELADDR listener */
    int nlinks;
    int ifindex[MAX_LINKS];
    struct trial *active[MAX_LINKS][2]; /* the trial running on (link, family), or NULL */
    size_t unexpected;              /* warnings on our links matching no running trial */
};

static int fam_index(int family)
{
    return family == MIF_FAMILY_IPV6;
}

static int link_of(const struct part1 *p, uint32_t ifindex)
{
    for (int l = 0; l < p->nlinks; l++)
        if ((uint32_t)p->ifindex[l] == ifindex)
            return l;
    return -1;
}

/* Takes every waiting libmif message, stamping what it says onto the running trials
 * with t (when poll() returned). A new PvD on one of our links gets its addresses
 * subscribed (such a subscription ends with its PvD). */
static void take_mif(struct part1 *p, int64_t t)
{
    mif_message *m;
    while (mif_get_message(p->ctx, &m) == MIF_OK) {
        check_engine(m);
        int l = link_of(p, m->ifindex);
        struct trial *tr = NULL;
        if (l >= 0 && (m->family == MIF_FAMILY_IPV4 || m->family == MIF_FAMILY_IPV6))
            tr = p->active[l][fam_index(m->family)];
        switch (m->msg_type) {
        case MIF_MSG_PVD_ANNOUNCEMENT:
            if (l >= 0)
                check_mif(mif_post(p->ctx, MIF_REQ_ANNOUNCE_ADDRESSES, 0, m->pvd), "announce addresses");
            break;
        case MIF_MSG_INTERFACE_GOING_AWAY:
            if (l < 0 || m->pvd == 0)
                break;
            if (!tr) {
                p->unexpected++;
                break;
            }
            if (tr->warnings++ == 0) {
                tr->t_msg = t;
                tr->deadline_ms = m->deadline_ms;
                tr->reason = m->going_away_reason;
                break;
            }
            if (!tr->t_resend) {
                tr->t_resend = t;
                tr->resend_deadline_ms = m->deadline_ms;
                tr->resend_reason = m->going_away_reason;
            }
            if (m->going_away_reason != tr->reason)
                tr->reasons_changed++;
            break;
        case MIF_MSG_INTERFACE_GOING_AWAY_CANCELLED:
            if (tr)
                tr->cancelled++;
            break;
        case MIF_MSG_NO_ADDRESS_ANNOUNCEMENT:
            if (tr && m->address.family == tr->family &&
                memcmp(m->address.bytes, tr->addr, tr->family == MIF_FAMILY_IPV4 ? 4 : 16) == 0)
                tr->t_del_mif = t;
            break;
        case MIF_MSG_NO_PVD_ANNOUNCEMENT:
            if (tr && !tr->t_nopvd)
                tr->t_nopvd = t;
            break;
        default:
            break;
        }
        mif_message_free(m);
    }
}

/* Reads the address listener until it would block; stamps RTM_DELADDR of a running
 * trial's address with t. */
static void take_raw(struct part1 *p, int64_t t)
{
    static char buf[65536];
    ssize_t n;
    while ((n = nl_recv_nowait(p->nlfd, buf, sizeof buf, "address listener")) >= 0) {
        ssize_t len = n;
        for (struct nlmsghdr *nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, (size_t)len); nh = NLMSG_NEXT(nh, len)) {
            if (nh->nlmsg_type != RTM_DELADDR)
                continue;
            const struct ifaddrmsg *ifa = NLMSG_DATA(nh);
            int l = link_of(p, ifa->ifa_index);
            if (l < 0 || (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6))
                continue;
            struct trial *tr = p->active[l][ifa->ifa_family == AF_INET6];
            if (!tr || tr->t_del_raw)
                continue;
            size_t alen = ifa->ifa_family == AF_INET ? 4 : 16;
            int alen_attr = (int)IFA_PAYLOAD(nh);
            for (const struct rtattr *rta = IFA_RTA(ifa); RTA_OK(rta, alen_attr); rta = RTA_NEXT(rta, alen_attr)) {
                if ((rta->rta_type == IFA_LOCAL || rta->rta_type == IFA_ADDRESS) && RTA_PAYLOAD(rta) == alen &&
                    memcmp(RTA_DATA(rta), tr->addr, alen) == 0) {
                    tr->t_del_raw = t;
                    break;
                }
            }
        }
    }
}

static int trial_done(const struct trial *tr)
{
    return tr->t_del_raw && (tr->t_del_mif || tr->t_nopvd);
}

/* Polls both listeners until `deadline` (now_ns() clock) or until every running trial
 * is done (all_done, when set). */
static void pump(struct part1 *p, int64_t deadline, int all_done)
{
    for (;;) {
        if (all_done) {
            int pending = 0;
            for (int l = 0; l < p->nlinks; l++)
                for (int f = 0; f < 2; f++)
                    pending += p->active[l][f] && !trial_done(p->active[l][f]);
            if (!pending)
                return;
        }
        int64_t left_ms = (deadline - now_ns()) / 1000000;
        if (left_ms < 0)
            return;
        struct pollfd pfd[2] = { { mif_fd(p->ctx), POLLIN, 0 }, { p->nlfd, POLLIN, 0 } };
        int rc = poll(pfd, 2, left_ms > 1000 ? 1000 : (int)left_ms + 1);
        int64_t t = now_ns();
        if (rc < 0) {
            if (errno == EINTR)
                continue;
            die("poll: %s", strerror(errno));
        }
        /* Both are read with the same stamp: what arrived together gets one time. */
        if (pfd[1].revents)
            take_raw(p, t);
        if (pfd[0].revents)
            take_mif(p, t);
    }
}

static void trial_address(struct trial *tr)
{
    memset(tr->addr, 0, sizeof tr->addr);
    if (tr->family == MIF_FAMILY_IPV4) {
        tr->addr[0] = 198;
        tr->addr[1] = 18;
        tr->addr[2] = (unsigned char)(100 + tr->link);
        tr->addr[3] = (unsigned char)(1 + tr->wave % 250);
    } else {
        inet_pton(AF_INET6, "fd6d:6966:e::", tr->addr);
        tr->addr[6] = (unsigned char)(tr->link >> 8);
        tr->addr[7] = (unsigned char)tr->link;
        tr->addr[14] = (unsigned char)((tr->wave + 1) >> 8);
        tr->addr[15] = (unsigned char)(tr->wave + 1);
    }
}

/* ---- part 2 ---- */

struct peer_sock {
    const char *ifname;
    int fd, ifindex;
};

/* Runs in the peer namespace: the rtnetlink socket that takes the peer end down/up. */
static int open_peer_socket(void *arg)
{
    struct peer_sock *ps = arg;
    ps->ifindex = (int)if_nametoindex(ps->ifname);
    if (ps->ifindex == 0)
        die("no interface %s in the peer namespace", ps->ifname);
    ps->fd = nl_open(0);
    return 0;
}

struct carrier_want {
    mif_ctx *ctx;
    int linkfd, ifindex, back; /* back: carrier returning (else: lost) */
    int bad_deadline;
};

/* Reads the link listener until it would block; 1 if a RTM_NEWLINK for ifindex shows
 * the carrier lost (back=0) or present (back=1). */
static int raw_has_carrier(int fd, int ifindex, int back)
{
    static char buf[65536];
    int found = 0;
    ssize_t n;
    while ((n = nl_recv_nowait(fd, buf, sizeof buf, "link listener")) >= 0) {
        ssize_t len = n;
        for (struct nlmsghdr *nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, (size_t)len); nh = NLMSG_NEXT(nh, len)) {
            if (nh->nlmsg_type != RTM_NEWLINK)
                continue;
            const struct ifinfomsg *ifi = NLMSG_DATA(nh);
            if (ifi->ifi_index == ifindex && ((ifi->ifi_flags & IFF_LOWER_UP) != 0) == back)
                found = 1;
        }
    }
    return found;
}

static int seen_carrier(int k, void *arg)
{
    struct carrier_want *w = arg;
    if (k == 1)
        return raw_has_carrier(w->linkfd, w->ifindex, w->back);
    int found = 0;
    mif_message *m;
    while (mif_get_message(w->ctx, &m) == MIF_OK) {
        check_engine(m);
        if ((uint32_t)w->ifindex == m->ifindex && m->pvd == 0 &&
            m->going_away_reason == MIF_GOING_AWAY_CARRIER_LOST) {
            if (!w->back && m->msg_type == MIF_MSG_INTERFACE_GOING_AWAY) {
                found = 1;
                w->bad_deadline += m->deadline_ms != 0;
            }
            if (w->back && m->msg_type == MIF_MSG_INTERFACE_GOING_AWAY_CANCELLED)
                found = 1;
        }
        mif_message_free(m);
    }
    return found;
}

/* Takes the peer down (back=0) or up and times both listeners (out[0] libmif, out[1]
 * raw); returns 0, or -1 if one did not see it within WAIT_MS. */
static int carrier_step(const struct peer_sock *ps, struct carrier_want *w, int back, uint32_t seq, int64_t out[2])
{
    static const int both[2] = { 1, 1 };
    int fds[2] = { mif_fd(w->ctx), w->linkfd };
    w->back = back;
    int64_t t0 = now_ns();
    nl_send_link_updown(ps->fd, ps->ifindex, back, seq);
    int rc = time_listeners(2, fds, both, seen_carrier, w, t0, t0 + (int64_t)WAIT_MS * 1000000, out);
    nl_read_ack(ps->fd, seq);
    return rc;
}

/* Part 2: `count` carrier flaps of `ps` (the peer end of ifindex), after 3 untimed ones;
 * prints the block and returns the carrier-loss stats of libmif (lost[0]) and netlink
 * (lost[1]). `gap_ms`: the pause after each flap. */
static void run_carrier(const char *title, mif_ctx *ctx, int linkfd, const struct peer_sock *ps, int ifindex,
                        const char *ifname, int count, int gap_ms, uint32_t *seq, struct stats lost_out[2])
{
    int64_t *lost[2] = { alloc_i64((size_t)count), alloc_i64((size_t)count) };
    int64_t *back[2] = { alloc_i64((size_t)count), alloc_i64((size_t)count) };
    struct carrier_want w = { ctx, linkfd, ifindex, 0, 0 };
    int64_t o[2];
    sleep_ms(50);
    mif_drain(ctx);
    raw_has_carrier(linkfd, ifindex, 2);
    for (int i = 0; i < 3; i++) {
        if (carrier_step(ps, &w, 0, (*seq)++, o) != 0 || carrier_step(ps, &w, 1, (*seq)++, o) != 0)
            die("%s: warm-up carrier flap not seen within %d ms (libmif %lld, netlink %lld ns)", ifname, WAIT_MS,
                (long long)o[0], (long long)o[1]);
        sleep_ms(gap_ms);
    }
    w.bad_deadline = 0;
    int64_t t0 = now_ns();
    for (int i = 0; i < count; i++) {
        /* Late events of the last flap pass (and are dropped) before the next. */
        sleep_ms(gap_ms + (i * 7) % 13);
        mif_drain(ctx);
        raw_has_carrier(linkfd, ifindex, 2);
        if (carrier_step(ps, &w, 0, (*seq)++, o) != 0)
            die("%s: carrier loss %d not seen within %d ms (libmif %lld, netlink %lld ns)", ifname, i, WAIT_MS,
                (long long)o[0], (long long)o[1]);
        lost[0][i] = o[0];
        lost[1][i] = o[1];
        if (carrier_step(ps, &w, 1, (*seq)++, o) != 0)
            die("%s: carrier return %d not seen within %d ms (libmif %lld, netlink %lld ns)", ifname, i, WAIT_MS,
                (long long)o[0], (long long)o[1]);
        back[0][i] = o[0];
        back[1][i] = o[1];
    }
    int64_t t1 = now_ns();
    struct stats c_mif = stats_of(lost[0], (size_t)count), c_nl = stats_of(lost[1], (size_t)count);
    printf("going_away: %s: %d trials; %s's peer %s taken down by RTM_NEWLINK (in-process, peer namespace), then "
           "up again; %.1f s\n", title, count, ifname, ps->ifname, (double)(t1 - t0) / 1e9);
    print_stats_us("libmif GOING_AWAY (carrier)", c_mif);
    print_stats_us("raw netlink NEWLINK !LOWER_UP", c_nl);
    printf("  warnings with deadline_ms != 0: %d\n", w.bad_deadline);
    printf(" carrier back (peer up):\n");
    print_stats_us("libmif GOING_AWAY_CANCELLED", stats_of(back[0], (size_t)count));
    print_stats_us("raw netlink NEWLINK LOWER_UP", stats_of(back[1], (size_t)count));
    print_ratio("libmif/raw-netlink (carrier lost)", c_mif, c_nl, "libmif - netlink");
    lost_out[0] = c_mif;
    lost_out[1] = c_nl;
    for (int k = 0; k < 2; k++) {
        free(lost[k]);
        free(back[k]);
    }
}

/* Part 1's measures of a set of trials (ns). */
struct measures {
    int64_t *err_abs, *err_signed, *lead, *late, *lib, *lib_abs;
    size_t n;
};

static void measures_init(struct measures *ms, size_t cap)
{
    ms->err_abs = alloc_i64(cap);
    ms->err_signed = alloc_i64(cap);
    ms->lead = alloc_i64(cap);
    ms->late = alloc_i64(cap);
    ms->lib = alloc_i64(cap);
    ms->lib_abs = alloc_i64(cap);
    ms->n = 0;
}

static void measures_free(struct measures *ms)
{
    free(ms->err_abs);
    free(ms->err_signed);
    free(ms->lead);
    free(ms->late);
    free(ms->lib);
    free(ms->lib_abs);
}

static void measures_add(struct measures *ms, const struct trial *tr, int valid)
{
    int64_t announced = tr->t_msg + (int64_t)tr->deadline_ms * 1000000;
    int64_t nominal = tr->t_add + (int64_t)valid * 1000000000;
    int64_t e = announced - tr->t_del_raw, lib = announced - nominal;
    size_t i = ms->n++;
    ms->err_signed[i] = e;
    ms->err_abs[i] = e < 0 ? -e : e;
    ms->lead[i] = tr->t_del_raw - tr->t_msg;
    ms->late[i] = tr->t_del_raw - nominal;
    ms->lib[i] = lib;
    ms->lib_abs[i] = lib < 0 ? -lib : lib;
}

static void measures_print(const struct measures *ms)
{
    print_stats_ms("|announced - actual|", stats_of(ms->err_abs, ms->n));
    print_stats_ms("announced - actual (signed)", stats_of(ms->err_signed, ms->n));
    print_stats_ms("lead: warning taken -> actual", stats_of(ms->lead, ms->n));
    print_stats_ms("kernel lateness: actual - nominal", stats_of(ms->late, ms->n));
    print_stats_ms("library: announced - nominal", stats_of(ms->lib, ms->n));
    size_t after = 0;
    for (size_t i = 0; i < ms->n; i++)
        after += ms->err_signed[i] > 0;
    printf("  announced deadline after the actual removal (the warning promised more time than there was): "
           "%zu of %zu\n", after, ms->n);
}

static void usage(void)
{
    usage_exit("usage: going_away -S PEER_NETNS [-R gw0] [-i mif0] [-I mif1] [-Q gw1] [-L ga] [-k K] [-n N] "
               "[-c C] [-C C2] [-v V] [-H HORIZON_MS]\n");
}

int main(int argc, char **argv)
{
    const char *peer_ns = NULL, *ifname = "mif0", *ifname2 = "mif1", *prefix = "ga";
    struct peer_sock ps = { "gw0", -1, 0 }, ps2 = { "gw1", -1, 0 };
    int nlinks = 8, n = 128, nc = 200, nc2 = 5, valid = 3, horizon_ms = 1000;
    const struct bench_opt opts[] = {
        { 'S', OPT_TEXT, &peer_ns }, { 'R', OPT_TEXT, &ps.ifname }, { 'i', OPT_TEXT, &ifname },
        { 'I', OPT_TEXT, &ifname2 }, { 'Q', OPT_TEXT, &ps2.ifname }, { 'L', OPT_TEXT, &prefix },
        { 'k', OPT_INT, &nlinks },   { 'n', OPT_INT, &n },          { 'c', OPT_INT, &nc },
        { 'C', OPT_INT, &nc2 },      { 'v', OPT_INT, &valid },      { 'H', OPT_INT, &horizon_ms },
    };
    parse_options(argc, argv, opts, sizeof opts / sizeof opts[0], usage);
    if (!peer_ns || strchr(peer_ns, '/') || nlinks < 1 || nlinks > MAX_LINKS || n < 0 || n > 20000 || nc < 0 ||
        nc > 100000 || nc2 < 0 || nc2 > 1000 || valid < 2 || valid > 60 || horizon_ms < 1000 ||
        horizon_ms > 3600000)
        usage();
    bench_begin("going_away");

    int ifindex = ifindex_of(ifname);
    /* Part 2b is optional: its link may be absent when run by hand. */
    int ifindex2 = (int)if_nametoindex(ifname2);
    struct part1 p;
    memset(&p, 0, sizeof p);
    p.nlinks = nlinks;
    for (int l = 0; l < nlinks; l++) {
        char name[IF_NAMESIZE];
        snprintf(name, sizeof name, "%s%d", prefix, l);
        p.ifindex[l] = ifindex_of(name);
    }
    in_named_netns(peer_ns, open_peer_socket, &ps);
    if (ifindex2 > 0 && nc2 > 0)
        in_named_netns(peer_ns, open_peer_socket, &ps2);

    /* Our own listeners, joined before anything is changed. */
    p.nlfd = nl_open_group(RTNLGRP_IPV4_IFADDR);
    int grp6 = RTNLGRP_IPV6_IFADDR;
    if (setsockopt(p.nlfd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &grp6, sizeof grp6) != 0)
        die("NETLINK_ADD_MEMBERSHIP: %s", strerror(errno));
    int linkfd = nl_open_group(RTNLGRP_LINK);
    int reqfd = nl_open(0);

    /* libmif: an empty root directory (no file of this host matters here) and the
     * horizon; interfaces (the carrier warning) and the PvDs of mif0, mif1 and every
     * part-1 link (their warnings); addresses are subscribed per PvD as each appears
     * (take_mif). */
    make_temp_dir(root, remove_root);
    mif_options mo;
    mif_options_init(&mo);
    mo.root_dir = root;
    mo.going_away_horizon_ms = (uint32_t)horizon_ms;
    mif_ctx *ctx;
    check_mif(mif_open(&mo, &ctx), "mif_open");
    p.ctx = ctx;
    check_mif(mif_post(ctx, MIF_REQ_ANNOUNCE_INTERFACES, 0, 0), "announce interfaces");
    check_mif(mif_post(ctx, MIF_REQ_ANNOUNCE_PVDS, (uint32_t)ifindex, 0), "announce pvds");
    if (ifindex2 > 0)
        check_mif(mif_post(ctx, MIF_REQ_ANNOUNCE_PVDS, (uint32_t)ifindex2, 0), "announce pvds");
    for (int l = 0; l < nlinks; l++)
        check_mif(mif_post(ctx, MIF_REQ_ANNOUNCE_PVDS, (uint32_t)p.ifindex[l], 0), "announce pvds");
    take_mif(&p, now_ns());
    uint32_t seq = 1;

    /* ---- part 1: waves of 2*nlinks trials ---- */
    struct trial *trials = calloc(n ? (size_t)n : 1, sizeof *trials);
    if (!trials)
        die("out of memory");
    int per_wave = 2 * nlinks, waves = 0;
    int64_t t_p1 = now_ns();
    for (int done = 0; done < n; waves++) {
        /* Start each wave at a different offset within the second: 100 + 0, 379, 758,
         * 137 ... ms after the previous wave ended, listening meanwhile. */
        pump(&p, now_ns() + (int64_t)((waves * 379) % 1000 + 100) * 1000000, 0);
        int count = n - done < per_wave ? n - done : per_wave;
        for (int j = 0; j < count; j++) {
            struct trial *tr = &trials[done + j];
            tr->link = j / 2;
            tr->family = j % 2 ? MIF_FAMILY_IPV6 : MIF_FAMILY_IPV4;
            tr->kind = (tr->link + waves) % KIND_COUNT;
            tr->wave = waves;
            trial_address(tr);
            p.active[tr->link][fam_index(tr->family)] = tr;
        }
        /* The burst: every add sent before any ack is read (ack order = send order). */
        uint32_t first_seq = seq;
        for (int j = 0; j < count; j++) {
            struct trial *tr = &trials[done + j];
            int v4 = tr->family == MIF_FAMILY_IPV4;
            uint32_t preferred = tr->kind == KIND_DEPRECATED ? 0 : tr->kind == KIND_LATER ? 1 : (uint32_t)valid;
            tr->t_add = now_ns();
            nl_send_addr_lft(reqfd, v4 ? AF_INET : AF_INET6, p.ifindex[tr->link], tr->addr, v4 ? 24 : 64,
                             (uint32_t)valid, preferred, seq++);
        }
        for (uint32_t sq = first_seq; sq < seq; sq++)
            nl_read_ack(reqfd, sq);
        int64_t nominal = trials[done].t_add + (int64_t)valid * 1000000000;
        pump(&p, nominal + (int64_t)LATE_LIMIT_MS * 1000000, 1);
        for (int j = 0; j < count; j++) {
            struct trial *tr = &trials[done + j];
            if (!trial_done(tr))
                fprintf(stderr, "bench: wave %d: %s%d %s not removed within %d ms of its expiry\n", waves, prefix,
                        tr->link, tr->family == MIF_FAMILY_IPV4 ? "ipv4" : "ipv6", LATE_LIMIT_MS);
            p.active[tr->link][fam_index(tr->family)] = NULL;
        }
        done += count;
    }
    int64_t t_p1_end = now_ns();

    /* Per trial: the measures, for those with every stamp they need. */
    struct measures all, by_kind[KIND_COUNT], by_fam[2];
    measures_init(&all, (size_t)n);
    for (int k = 0; k < KIND_COUNT; k++)
        measures_init(&by_kind[k], (size_t)n);
    for (int f = 0; f < 2; f++)
        measures_init(&by_fam[f], (size_t)n);
    int64_t *del_notice = alloc_i64((size_t)n), *warn_after_add = alloc_i64((size_t)n);
    int64_t *resend_at = alloc_i64((size_t)n), *resend_to_removal = alloc_i64((size_t)n);
    size_t nd = 0, nr = 0, no_warning = 0, no_removal = 0, changed = 0, cancelled = 0, wrong_reason = 0;
    size_t reason_count[KIND_COUNT][5], resent_kind[KIND_COUNT] = { 0 }, resent_fam[2] = { 0 };
    size_t kind_trials[KIND_COUNT] = { 0 }, kind_silent[KIND_COUNT] = { 0 }, kind_too_late[KIND_COUNT] = { 0 };
    size_t resend_reason_count[5] = { 0 };
    uint64_t resend_deadline_max = 0;
    memset(reason_count, 0, sizeof reason_count);
    for (int i = 0; i < n; i++) {
        struct trial *tr = &trials[i];
        kind_trials[tr->kind]++;
        if (!tr->t_msg) {
            no_warning++;
            kind_silent[tr->kind]++;
            continue;
        }
        if (!tr->t_del_raw) {
            no_removal++;
            continue;
        }
        changed += tr->reasons_changed > 0;
        cancelled += tr->cancelled > 0;
        if (tr->reason < 5)
            reason_count[tr->kind][tr->reason]++;
        uint32_t want = tr->kind == KIND_ENDING ? MIF_GOING_AWAY_LIFETIME_ENDING : MIF_GOING_AWAY_ADDRESSES_DEPRECATED;
        wrong_reason += tr->reason != want;
        /* A warning taken after the nominal expiry left the application no time. */
        kind_too_late[tr->kind] += tr->t_msg >= tr->t_add + (int64_t)valid * 1000000000;
        measures_add(&all, tr, valid);
        measures_add(&by_kind[tr->kind], tr, valid);
        measures_add(&by_fam[fam_index(tr->family)], tr, valid);
        warn_after_add[all.n - 1] = tr->t_msg - tr->t_add;
        if (tr->t_del_mif)
            del_notice[nd++] = tr->t_del_mif - tr->t_del_raw;
        if (tr->t_resend) {
            resent_kind[tr->kind]++;
            resent_fam[fam_index(tr->family)]++;
            if (tr->resend_reason < 5)
                resend_reason_count[tr->resend_reason]++;
            if (tr->resend_deadline_ms > resend_deadline_max)
                resend_deadline_max = tr->resend_deadline_ms;
            resend_at[nr] = tr->t_resend - (tr->t_add + (int64_t)valid * 1000000000);
            resend_to_removal[nr++] = tr->t_del_raw - tr->t_resend;
        }
    }
    /* The headline is the case the warning is made for: addresses deprecated, warned at
     * once. The other kinds are printed below it. */
    const struct measures *head = &by_kind[KIND_DEPRECATED];
    struct stats s_err = stats_of(head->err_abs, head->n), s_late = stats_of(head->late, head->n);
    struct stats s_lead = stats_of(head->lead, head->n), s_lib_abs = stats_of(head->lib_abs, head->n);
    size_t later_after = 0;
    for (size_t i = 0; i < by_kind[KIND_LATER].n; i++)
        later_after += by_kind[KIND_LATER].err_signed[i] > 0;

    printf("going_away: part 1, deadline accuracy: %d trials in %d waves of up to %d (%d links %s0..%d x IPv4 "
           "198.18.(100+L).W/24 + IPv6 fd6d:6966:e:L::W/64), valid lifetime %d s, added in one burst per wave, "
           "horizon %d ms; %.1f s\n",
           n, waves, per_wave, nlinks, prefix, nlinks - 1, valid, horizon_ms, (double)(t_p1_end - t_p1) / 1e9);
    printf(" each address is its PvD's only one; kinds rotate over the links: added deprecated (preferred 0), "
           "deprecated later (preferred 1 s), lifetime ending (preferred = valid)\n");
    printf(" announced = warning taken + deadline_ms; actual = RTM_DELADDR read on our own socket; nominal = add "
           "+ %d s\n", valid);
    printf(" no warning %zu, no removal seen %zu, first reason not the expected one %zu; reason changed later %zu, "
           "cancelled %zu; warnings on a link with no trial running %zu\n",
           no_warning, no_removal, wrong_reason, changed, cancelled, p.unexpected);
    printf(" kernel lateness per wave, ms (IPv4/IPv6, the first trial of each):");
    for (int wv = 0; wv < waves; wv++) {
        int64_t l4 = -1, l6 = -1;
        for (int i = 0; i < n; i++) {
            const struct trial *tr = &trials[i];
            if (tr->wave != wv || !tr->t_del_raw)
                continue;
            int64_t late = tr->t_del_raw - (tr->t_add + (int64_t)valid * 1000000000);
            if (tr->family == MIF_FAMILY_IPV4 && l4 < 0)
                l4 = late;
            if (tr->family == MIF_FAMILY_IPV6 && l6 < 0)
                l6 = late;
        }
        printf(" %.0f/%.0f", (double)l4 / 1e6, (double)l6 / 1e6);
    }
    printf("\n all kinds:\n");
    measures_print(&all);
    print_stats_us("add -> warning taken", stats_of(warn_after_add, all.n));
    print_stats_us("RTM_DELADDR -> No Address", stats_of(del_notice, nd));
    for (int k = 0; k < KIND_COUNT; k++) {
        printf(" %s: %zu trials; first warning ADDRESSES_DEPRECATED %zu, LIFETIME_ENDING %zu; no warning at all "
               "%zu; warned only after the nominal expiry %zu\n",
               kind_name[k], kind_trials[k], reason_count[k][MIF_GOING_AWAY_ADDRESSES_DEPRECATED],
               reason_count[k][MIF_GOING_AWAY_LIFETIME_ENDING], kind_silent[k], kind_too_late[k]);
        measures_print(&by_kind[k]);
    }
    for (int f = 0; f < 2; f++) {
        printf(" %s:\n", f ? "IPv6" : "IPv4");
        print_stats_ms("|announced - actual|", stats_of(by_fam[f].err_abs, by_fam[f].n));
        print_stats_ms("kernel lateness: actual - nominal", stats_of(by_fam[f].late, by_fam[f].n));
    }
    printf(" warning sent again: %zu trials (added deprecated %zu, deprecated later %zu, lifetime ending %zu; "
           "IPv4 %zu, IPv6 %zu), the second with reason ADDRESSES_DEPRECATED %zu, LIFETIME_ENDING %zu, "
           "deadline_ms at most %llu\n",
           nr, resent_kind[KIND_DEPRECATED], resent_kind[KIND_LATER], resent_kind[KIND_ENDING], resent_fam[0],
           resent_fam[1], resend_reason_count[MIF_GOING_AWAY_ADDRESSES_DEPRECATED],
           resend_reason_count[MIF_GOING_AWAY_LIFETIME_ENDING], (unsigned long long)resend_deadline_max);
    if (nr > 0) {
        print_stats_ms("second warning - nominal", stats_of(resend_at, nr));
        print_stats_ms("second warning -> actual", stats_of(resend_to_removal, nr));
    }
    int met = head->n > 0 && s_err.p99 <= 100e6;
    printf(" target (added deprecated): p99 |announced - actual| <= 100 ms: %s (%.1f ms); the kernel's own lateness "
           "p99 %.1f ms, the library's deadline against the nominal expiry p99 |%.2f| ms\n",
           met ? "met" : "NOT met", s_err.p99 / 1e6, s_late.p99 / 1e6, s_lib_abs.p99 / 1e6);

    /* ---- part 2: carrier loss ---- */
    struct stats c[2], c2[2] = { { 0 }, { 0 } };
    run_carrier("part 2, carrier loss (ifindexes differ: urgent)", ctx, linkfd, &ps, ifindex, ifname, nc, 10, &seq, c);
    if (ifindex2 > 0 && nc2 > 0)
        run_carrier("part 2b, carrier loss (ifindexes equal, as a NIC's: linkwatch)", ctx, linkfd, &ps2, ifindex2,
                    ifname2, nc2, 10, &seq, c2);

    printf("SUMMARY going_away: added deprecated: |announced-actual| median %.1f ms p99 %.1f ms (target p99 <= 100 "
           "ms: %s), kernel lateness median %.1f ms p99 %.1f ms, library vs nominal p99 |%.2f| ms, lead median %.0f "
           "ms | deprecated later: deadline after the removal %zu/%zu | lifetime ending: no warning before the "
           "expiry %zu/%zu | carrier lost: libmif median %.1f us p99 %.1f us, netlink median %.1f us p99 %.1f us, "
           "ratio median %.2f p99 %.2f | NIC-like (linkwatch) libmif median %.1f ms, netlink %.1f ms\n",
           s_err.median / 1e6, s_err.p99 / 1e6, met ? "met" : "NOT met", s_late.median / 1e6, s_late.p99 / 1e6,
           s_lib_abs.p99 / 1e6, s_lead.median / 1e6, later_after, by_kind[KIND_LATER].n,
           kind_silent[KIND_ENDING] + kind_too_late[KIND_ENDING], kind_trials[KIND_ENDING], c[0].median / 1e3,
           c[0].p99 / 1e3,
           c[1].median / 1e3, c[1].p99 / 1e3, ratio(c[0].median, c[1].median), ratio(c[0].p99, c[1].p99),
           c2[0].median / 1e6, c2[1].median / 1e6);

    mif_close(ctx);
    close(p.nlfd);
    close(linkfd);
    close(reqfd);
    close(ps.fd);
    if (ps2.fd >= 0)
        close(ps2.fd);
    free(trials);
    measures_free(&all);
    for (int k = 0; k < KIND_COUNT; k++)
        measures_free(&by_kind[k]);
    for (int f = 0; f < 2; f++)
        measures_free(&by_fam[f]);
    free(del_notice);
    free(warn_after_add);
    free(resend_at);
    free(resend_to_removal);
    return 0;
}
