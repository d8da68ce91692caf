/*
 * test_connect_name: MIF_REQ_CONNECT_TO_NAME through the public header (our addition;
 * docs/connect-by-name.md), under valgrind with its establishment report.
 *
 * - A name from the hosts file (ROOT/etc/hosts) connects to a loopback listener: one
 *   Connected, its socket connected to the listener, its report with lo's A and AAAA
 *   rows and exactly one connected attempt that is the message's connection.
 * - A closed port: one Not Connected, ECONNREFUSED, every attempt failed with its errno.
 * - A name nowhere: Not Connected, ENOENT, no attempt.
 * - Requests wrong on their face are refused at post time with named errors.
 * - Cancel while the race runs (a destination that never answers): ECANCELED, and the id
 *   is free again.
 * - 200 by-name connects at once: every id answered exactly once, no descriptor left.
 *
 * Uses lo and the blackhole bed of bed.h (veth mt0, 198.51.100.77 never answers) inside
 * the private network namespace c-tests/run.sh gives it.
 */
#include <poll.h>
#include <sys/resource.h>

#include "mif.h"
#include "check.h"
#include "bed.h"

#define HOSTS "127.0.0.1 svc.example\n" CHECK_BLACKHOLE " hole.example\n"
#define MANY 200

static char root[256];
static int bed_ok;

static mif_ctx *open_with(uint32_t max_sockets)
{
    mif_options opts;
    mif_ctx *ctx = NULL;
    mif_options_init(&opts);
    opts.root_dir = root;
    opts.max_sockets = max_sockets;
    opts.connect_timeout_ms = 600000; /* the blackhole never answers */
    if (!CHECK_RC(mif_open(&opts, &ctx), MIF_OK))
        return NULL;
    return ctx;
}

static mif_ctx *open_ctx(void)
{
    return open_with(0);
}

static mif_result post_name(mif_ctx *ctx, uint64_t id, const char *name, uint16_t port,
                            const mif_selection *sel, size_t nsel)
{
    mif_request req;
    mif_request_init(&req, MIF_REQ_CONNECT_TO_NAME);
    req.connection_id = id;
    req.name = name;
    req.remote_port = port;
    req.selections = sel;
    req.selection_count = nsel;
    return mif_post_message(ctx, &req);
}

static int match_connection_of(const mif_message *m, const void *arg)
{
    return (m->msg_type == MIF_MSG_CONNECTED || m->msg_type == MIF_MSG_NOT_CONNECTED) &&
           m->connection_id == *(const uint64_t *)arg;
}

static mif_message *result_of(mif_ctx *ctx, uint64_t id)
{
    mif_message *m = check_wait_for(ctx, match_connection_of, &id, 30000);
    if (!CHECK(m != NULL))
        check_note("no result for connection %llu", (unsigned long long)id);
    return m;
}

static mif_selection selection(uint32_t preference, uint32_t ifindex, uint64_t pvd)
{
    mif_selection s;
    memset(&s, 0, sizeof s);
    s.size = sizeof s;
    s.preference = preference;
    s.ifindex = ifindex;
    s.pvd = pvd;
    return s;
}

static void connects_to_a_hosts_name(void)
{
    uint16_t port = 0;
    int listener = check_tcp_listener("127.0.0.1", &port);
    mif_selection lo = selection(MIF_PREFERENCE_REQUIRE, if_nametoindex("lo"), 0);
    mif_ctx *ctx = open_ctx();
    mif_message *m;
    REQUIRE(ctx != NULL && listener >= 0);
    CHECK_RC(post_name(ctx, 1, "svc.example", port, &lo, 1), MIF_OK);
    m = result_of(ctx, 1);
    if (m != NULL && CHECK_EQ_INT(m->msg_type, MIF_MSG_CONNECTED)) {
        const mif_establishment_report *r = m->report;
        struct sockaddr_in peer;
        socklen_t len = sizeof peer;
        size_t i, answered = 0;
        CHECK_EQ_STR(m->pvd_name, "lo/ipv4");
        CHECK(getpeername(m->fd, (struct sockaddr *)&peer, &len) == 0 && ntohs(peer.sin_port) == port);
        if (CHECK(r != NULL)) {
            CHECK_EQ_INT(r->resolution_count, 2); /* lo's AAAA and A rows */
            for (i = 0; i < r->resolution_count; i++) {
                CHECK_EQ_STR(r->resolutions[i].ifname, "lo");
                answered += r->resolutions[i].answers;
                CHECK_EQ_INT(r->resolutions[i].server.family, 0); /* the hosts file */
            }
            CHECK_EQ_INT(answered, 1);
            CHECK_EQ_INT(r->attempt_count, 1);
            CHECK_EQ_INT(r->attempts[0].outcome, MIF_ATTEMPT_CONNECTED);
        }
        CHECK_EQ_INT(check_accept_all(listener), 1);
    }
    check_discard(m);
    mif_close(ctx);
    close(listener);
}

/* An address written as the name: Connect to Name races it as it is (no lookup), and
 * Translate Name gives it back (MIF_NAME_SOURCE_LITERAL), IPv4 and IPv6 alike. */
static void an_address_as_the_name(void)
{
    uint16_t port = 0;
    int listener = check_tcp_listener("127.0.0.1", &port);
    mif_selection lo = selection(MIF_PREFERENCE_REQUIRE, if_nametoindex("lo"), 0);
    mif_ctx *ctx = open_ctx();
    mif_message *m;
    mif_request req;
    REQUIRE(ctx != NULL && listener >= 0);
    CHECK_RC(post_name(ctx, 3, "127.0.0.1", port, &lo, 1), MIF_OK);
    m = result_of(ctx, 3);
    if (m != NULL && CHECK_EQ_INT(m->msg_type, MIF_MSG_CONNECTED)) {
        CHECK_EQ_STR(m->pvd_name, "lo/ipv4");
        CHECK(m->report != NULL && m->report->attempt_count == 1);
        CHECK_EQ_INT(check_accept_all(listener), 1);
    }
    check_discard(m);
    mif_request_init(&req, MIF_REQ_TRANSLATE_NAME);
    req.pvd = check_pvd_of(ctx, "lo", MIF_FAMILY_IPV6);
    req.translation_id = 4;
    req.name = "::1";
    CHECK_RC(mif_post_message(ctx, &req), MIF_OK);
    {
        struct check_want w = { MIF_MSG_NAME_TRANSLATION, NULL, 0, "::1" };
        m = check_wait_for(ctx, check_match, &w, 10000);
        if (CHECK(m != NULL)) {
            CHECK_EQ_INT(m->name_source, MIF_NAME_SOURCE_LITERAL);
            CHECK_EQ_STR(m->name, "::1");
            mif_message_free(m);
        }
    }
    mif_close(ctx);
    close(listener);
}

static void closed_port_and_unknown_name(void)
{
    uint16_t port = 0;
    int listener = check_tcp_listener("127.0.0.1", &port);
    mif_selection lo = selection(MIF_PREFERENCE_REQUIRE, if_nametoindex("lo"), 0);
    mif_ctx *ctx = open_ctx();
    mif_message *m;
    REQUIRE(ctx != NULL && listener >= 0);
    close(listener); /* the port is closed now: RST */
    CHECK_RC(post_name(ctx, 2, "svc.example", port, &lo, 1), MIF_OK);
    m = result_of(ctx, 2);
    if (m != NULL && CHECK_EQ_INT(m->msg_type, MIF_MSG_NOT_CONNECTED)) {
        CHECK_EQ_INT(m->error, ECONNREFUSED);
        if (CHECK(m->report != NULL) && CHECK(m->report->attempt_count >= 1)) {
            CHECK_EQ_INT(m->report->attempts[0].outcome, MIF_ATTEMPT_FAILED);
            CHECK_EQ_INT(m->report->attempts[0].error, ECONNREFUSED);
        }
    }
    check_discard(m);
    CHECK_RC(post_name(ctx, 3, "nowhere.example", port, &lo, 1), MIF_OK);
    m = result_of(ctx, 3);
    if (m != NULL && CHECK_EQ_INT(m->msg_type, MIF_MSG_NOT_CONNECTED)) {
        CHECK_EQ_INT(m->error, ENOENT);
        CHECK(m->report != NULL && m->report->attempt_count == 0 && m->report->attempts == NULL);
    }
    check_discard(m);
    mif_close(ctx);
}

/* A listener made with IPPROTO_MPTCP on 127.0.0.1 (-1 when the host has no MPTCP). */
static int mptcp_listener(uint16_t *port)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof sa;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 262 /* IPPROTO_MPTCP */);
    if (fd < 0)
        return -1;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 16) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
        close(fd);
        return -1;
    }
    *port = ntohs(sa.sin_port);
    return fd;
}

/* Posts `req` and checks that it connects with `mptcp` status `want`. */
static void connected_with_mptcp(mif_ctx *ctx, const mif_request *req, mif_mptcp_status want)
{
    mif_message *m;
    if (!CHECK_RC(mif_post_message(ctx, req), MIF_OK))
        return;
    m = result_of(ctx, req->connection_id);
    if (m != NULL && CHECK_EQ_INT(m->msg_type, MIF_MSG_CONNECTED))
        CHECK_EQ_INT(m->mptcp, want);
    check_discard(m);
}

/* MIF_CONNECT_MPTCP: to an MPTCP listener the connection is MPTCP; to a plain TCP one it
 * falls back, and the message says which. */
static void mptcp_active_and_fallback(void)
{
    uint16_t mp_port = 0, tcp_port = 0;
    int mp = mptcp_listener(&mp_port), tcp = check_tcp_listener("127.0.0.1", &tcp_port);
    mif_selection lo = selection(MIF_PREFERENCE_REQUIRE, if_nametoindex("lo"), 0);
    mif_ctx *ctx = open_ctx();
    mif_request req;
    REQUIRE(ctx != NULL && tcp >= 0);
    if (mp < 0)
        check_note("no MPTCP listener on this host (%s): the MPTCP case is not shown", strerror(errno));
    CHECK(mp >= 0);
    mif_request_init(&req, MIF_REQ_CONNECT_TO_NAME);
    req.name = "svc.example";
    req.selections = &lo;
    req.selection_count = 1;
    req.connect_flags = MIF_CONNECT_MPTCP;
    req.connection_id = 1;
    req.remote_port = mp_port;
    if (mp >= 0)
        connected_with_mptcp(ctx, &req, MIF_MPTCP_ACTIVE);
    req.connection_id = 2;
    req.remote_port = tcp_port;
    connected_with_mptcp(ctx, &req, MIF_MPTCP_FALLBACK);
    /* Connect to Address takes the flag too. */
    if (mp >= 0) {
        mif_request a;
        mif_request_init(&a, MIF_REQ_CONNECT_TO_ADDRESS);
        a.pvd = check_pvd_of(ctx, "lo", MIF_FAMILY_IPV4);
        a.connection_id = 4;
        a.remote = check_address("127.0.0.1");
        a.remote_port = mp_port;
        a.connect_flags = MIF_CONNECT_TRANSLATIONS; /* not for an address */
        CHECK_RC(mif_post_message(ctx, &a), MIF_E_INVALID_ARGUMENT);
        a.connect_flags = MIF_CONNECT_MPTCP;
        connected_with_mptcp(ctx, &a, MIF_MPTCP_ACTIVE);
    }
    /* Without the flag: plain TCP, not asked. */
    req.connect_flags = 0;
    req.connection_id = 3;
    connected_with_mptcp(ctx, &req, MIF_MPTCP_NOT_ASKED);
    mif_close(ctx);
    if (mp >= 0)
        close(mp);
    close(tcp);
}

/* MIF_CONNECT_TRANSLATIONS: the race's translation comes first, as Name Translation
 * messages with the connection id, then its Done, then the Connected. */
static void translations_shown(void)
{
    uint16_t port = 0;
    int listener = check_tcp_listener("127.0.0.1", &port);
    mif_selection lo = selection(MIF_PREFERENCE_REQUIRE, if_nametoindex("lo"), 0);
    mif_ctx *ctx = open_ctx();
    mif_request req;
    int addresses = 0, dones = 0, order_ok = 1;
    long long deadline = check_now_ms() + 30000;
    REQUIRE(ctx != NULL && listener >= 0);
    mif_request_init(&req, MIF_REQ_CONNECT_TO_NAME);
    req.name = "svc.example";
    req.remote_port = port;
    req.connection_id = 77;
    req.selections = &lo;
    req.selection_count = 1;
    req.connect_flags = MIF_CONNECT_TRANSLATIONS;
    CHECK_RC(mif_post_message(ctx, &req), MIF_OK);
    for (;;) {
        mif_message *m = NULL;
        if (mif_get_message(ctx, &m) != MIF_OK) {
            if (!CHECK(check_now_ms() < deadline))
                break;
            mif_check_message(ctx, 1000);
            continue;
        }
        check_message_well_formed(m);
        if (m->msg_type == MIF_MSG_NAME_TRANSLATION && m->translation_id == 77) {
            char text[MIF_ADDRESS_TEXT_SIZE];
            order_ok &= dones == 0;
            addresses++;
            CHECK_EQ_STR(m->name, "svc.example");
            if (CHECK_RC(mif_address_format(&m->address, text, sizeof text), MIF_OK))
                CHECK_EQ_STR(text, "127.0.0.1");
            CHECK_EQ_INT(m->name_source, MIF_NAME_SOURCE_HOSTS);
        } else if (m->msg_type == MIF_MSG_NAME_TRANSLATION_DONE && m->translation_id == 77) {
            dones++;
            CHECK_EQ_INT(m->translation_status, MIF_TRANSLATION_DONE);
        } else if (m->msg_type == MIF_MSG_CONNECTED && m->connection_id == 77) {
            order_ok &= addresses == 1 && dones == 1;
            check_discard(m);
            break;
        }
        check_discard(m);
    }
    CHECK_EQ_INT(addresses, 1);
    CHECK_EQ_INT(dones, 1);
    CHECK(order_ok);
    mif_close(ctx);
    close(listener);
}

static void refused_at_post(void)
{
    mif_ctx *ctx = open_ctx();
    uint32_t lo_index = if_nametoindex("lo");
    mif_selection two[2], bad;
    mif_request req;
    uint64_t lo4;
    REQUIRE(ctx != NULL);
    lo4 = check_pvd_of(ctx, "lo", MIF_FAMILY_IPV4);
    CHECK_RC(post_name(ctx, 1, NULL, 80, NULL, 0), MIF_E_NULL_ARGUMENT);
    CHECK_RC(post_name(ctx, 1, "", 80, NULL, 0), MIF_E_BAD_NAME);
    CHECK_RC(post_name(ctx, 1, "a..b", 80, NULL, 0), MIF_E_BAD_NAME);
    CHECK_RC(post_name(ctx, 1, "svc.example", 0, NULL, 0), MIF_E_BAD_ADDRESS);
    CHECK_RC(post_name(ctx, 1, "svc.example", 80, NULL, 1), MIF_E_NULL_ARGUMENT);
    two[0] = selection(MIF_PREFERENCE_PREFER, lo_index, 0);
    two[1] = selection(MIF_PREFERENCE_AVOID, lo_index, 0);
    CHECK_RC(post_name(ctx, 1, "svc.example", 80, two, 2), MIF_E_BAD_SELECTION);
    /* lo/ipv4 stands for lo: the same network, another preference. */
    two[1] = selection(MIF_PREFERENCE_AVOID, 0, lo4);
    CHECK_RC(post_name(ctx, 1, "svc.example", 80, two, 2), MIF_E_BAD_SELECTION);
    bad = selection(MIF_PREFERENCE_PREFER, lo_index, lo4); /* both */
    CHECK_RC(post_name(ctx, 1, "svc.example", 80, &bad, 1), MIF_E_BAD_SELECTION);
    bad = selection(MIF_PREFERENCE_PREFER, 0, 0); /* neither */
    CHECK_RC(post_name(ctx, 1, "svc.example", 80, &bad, 1), MIF_E_BAD_SELECTION);
    bad = selection(99, lo_index, 0);
    CHECK_RC(post_name(ctx, 1, "svc.example", 80, &bad, 1), MIF_E_BAD_SELECTION);
    bad = selection(MIF_PREFERENCE_PREFER, 999999, 0);
    CHECK_RC(post_name(ctx, 1, "svc.example", 80, &bad, 1), MIF_E_UNKNOWN_INTERFACE);
    bad = selection(MIF_PREFERENCE_PREFER, 0, 999999);
    CHECK_RC(post_name(ctx, 1, "svc.example", 80, &bad, 1), MIF_E_UNKNOWN_PVD);
    bad = selection(MIF_PREFERENCE_PREFER, lo_index, 0);
    bad.reserved = 1;
    CHECK_RC(post_name(ctx, 1, "svc.example", 80, &bad, 1), MIF_E_INVALID_ARGUMENT);
    bad.reserved = 0;
    bad.size = 8; /* shorter than the fields the library reads */
    CHECK_RC(post_name(ctx, 1, "svc.example", 80, &bad, 1), MIF_E_BAD_SIZE);
    CHECK_RC(post_name(ctx, 1, "svc.example", 80, two, MIF_MAX_SELECTIONS + 1), MIF_E_INVALID_ARGUMENT);
    mif_request_init(&req, MIF_REQ_CONNECT_TO_NAME);
    req.name = "svc.example";
    req.remote_port = 80;
    req.connect_flags = 8; /* not a flag */
    CHECK_RC(mif_post_message(ctx, &req), MIF_E_INVALID_ARGUMENT);
    req.connect_flags = 0;
    req.family_preference = 4;
    CHECK_RC(mif_post_message(ctx, &req), MIF_E_INVALID_ARGUMENT);
    req.family_preference = MIF_FAMILY_PREFERENCE_IPV4_ONLY;
    req.attempt_delay_ms = 99;
    CHECK_RC(mif_post_message(ctx, &req), MIF_E_INVALID_ARGUMENT);
    req.attempt_delay_ms = 2001;
    CHECK_RC(mif_post_message(ctx, &req), MIF_E_INVALID_ARGUMENT);
    req.attempt_delay_ms = 0;
    req.timeout_ms = 3600001;
    CHECK_RC(mif_post_message(ctx, &req), MIF_E_INVALID_ARGUMENT);
    CHECK_RC(mif_check_message(ctx, 0), MIF_NO_MESSAGE); /* nothing was started */
    mif_close(ctx);
}

static void cancel_mid_race(void)
{
    mif_ctx *ctx;
    mif_message *m = NULL;
    int round;
    REQUIRE(bed_ok);
    ctx = open_ctx();
    REQUIRE(ctx != NULL);
    for (round = 0; round < 3; round++) {
        /* hole.example is the blackhole: the race stays on its attempt. */
        CHECK_RC(post_name(ctx, 7, "hole.example", 80, NULL, 0), MIF_OK);
        CHECK_RC(post_name(ctx, 7, "hole.example", 80, NULL, 0), MIF_E_DUPLICATE_ID);
        {
            mif_request c;
            mif_request_init(&c, MIF_REQ_CANCEL_CONNECT);
            c.connection_id = 7;
            CHECK_RC(mif_post_message(ctx, &c), MIF_OK);
        }
        CHECK_RC(mif_get_message(ctx, &m), MIF_OK); /* queued before the cancel returned */
        if (CHECK(m != NULL)) {
            check_message_well_formed(m);
            CHECK_EQ_INT(m->msg_type, MIF_MSG_NOT_CONNECTED);
            CHECK_EQ_INT(m->connection_id, 7);
            CHECK_EQ_INT(m->error, ECANCELED);
            check_discard(m);
        }
        m = NULL;
    }
    mif_close(ctx);
}

static void many_at_once(void)
{
    uint16_t port = 0;
    int listener;
    mif_selection lo = selection(MIF_PREFERENCE_REQUIRE, if_nametoindex("lo"), 0);
    static unsigned char seen[MANY + 1];
    struct check_fdset before, after;
    mif_ctx *ctx;
    int posted = 0, results = 0, connected = 0, accepted = 0;
    long long deadline;
    uint64_t id;
    struct rlimit lim;
    /* Room for every race at once (each reserves its attempts and its DNS sockets from
     * the budget; max_sockets below): the soft descriptor limit raised to the hard one
     * where it is lower (valgrind keeps a few for itself). */
    if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
        lim.rlim_cur = lim.rlim_max;
        setrlimit(RLIMIT_NOFILE, &lim);
    }
    REQUIRE(check_fds(&before));
    listener = check_tcp_listener("127.0.0.1", &port);
    REQUIRE(listener >= 0);
    ctx = open_with(4000);
    REQUIRE(ctx != NULL);
    memset(seen, 0, sizeof seen);
    for (id = 1; id <= MANY; id++) {
        mif_result rc = post_name(ctx, id, "svc.example", port, &lo, 1);
        if (rc == MIF_OK)
            posted++;
        else if (!CHECK_RC(rc, MIF_E_BUSY)) /* the socket budget may refuse some */
            break;
        else
            seen[id] = 2; /* refused: no result comes */
    }
    deadline = check_now_ms() + 60000;
    while (results < posted && check_now_ms() < deadline) {
        mif_message *m = NULL;
        accepted += check_accept_all(listener);
        if (mif_get_message(ctx, &m) != MIF_OK) {
            mif_check_message(ctx, 100);
            continue;
        }
        check_message_well_formed(m);
        if (m->msg_type == MIF_MSG_CONNECTED || m->msg_type == MIF_MSG_NOT_CONNECTED) {
            if (CHECK(m->connection_id >= 1 && m->connection_id <= MANY) && !CHECK(seen[m->connection_id] == 0))
                check_note("connection %llu answered twice", (unsigned long long)m->connection_id);
            seen[m->connection_id] = 1;
            results++;
            connected += m->msg_type == MIF_MSG_CONNECTED;
        }
        check_discard(m);
    }
    check_note("%d by-name connects posted (%d refused busy), %d answered, %d connected", posted, MANY - posted,
               results, connected);
    CHECK(posted > 0);
    CHECK_EQ_INT(results, posted);
    CHECK_EQ_INT(connected, posted);
    mif_close(ctx);
    accepted += check_accept_all(listener);
    close(listener);
    CHECK(check_fds(&after) && check_fds_equal(&before, &after));
}

int main(void)
{
    check_watchdog(280);
    unsetenv("MIF_CONFIG");
    check_require_private_netns();
    if (!check_make_root(root, sizeof root, HOSTS, NULL))
        return 1;
    bed_ok = check_blackhole_bed();
    RUN_CASE(connects_to_a_hosts_name);
    RUN_CASE(an_address_as_the_name);
    RUN_CASE(closed_port_and_unknown_name);
    RUN_CASE(refused_at_post);
    RUN_CASE(mptcp_active_and_fallback);
    RUN_CASE(translations_shown);
    RUN_CASE(cancel_mid_race);
    RUN_CASE(many_at_once);
    check_remove_root(root);
    return check_done();
}
