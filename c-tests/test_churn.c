/*
 * test_churn: links flapping for a minute while 1,000 translations and 1,000 connects
 * run on them.
 *
 * One thread takes the link ch0 down and up (and now and then deletes its address and
 * adds it back) for 60 s; another posts 1,000 Translate Name requests (to a DNS server
 * that never answers: they end by timeout, or when their PvD goes) and 1,000 Connect
 * to Address requests (half to a blackholed destination on ch0's PvD, half to a
 * listener on lo) spread over that minute; a third takes every message. Then:
 * - every request the library accepted ended exactly once (one final message per id),
 *   and a refused one (its PvD just gone: MIF_E_UNKNOWN_PVD, or MIF_E_BUSY) never;
 * - after mif_close no descriptor is left open (the Connected sockets taken were the
 *   application's and were closed by it);
 * - valgrind (c-tests/run.sh) sees no memory error or leak.
 *
 * Changes kernel state with `ip` (veth ch0/ch1, 198.51.100.0/24): it refuses to run
 * outside the private network namespace c-tests/run.sh gives it.
 */
#include <poll.h>
#include <stdlib.h>

#include "mif.h"
#include "check.h"
#include "bed.h"

#define REQUESTS 1000
#define CHURN_MS 60000
#define BLACKHOLE "198.51.100.77"

static char root[256];
static mif_ctx *ctx;
static uint64_t lo4;
static volatile uint64_t ch_pvd;           /* ch0's IPv4 PvD now; 0 while it has none */
static volatile int flapping, reading;

/* Per id: 0 not posted, 1 accepted, 2 refused; and the final messages seen. */
static unsigned char translation_state[REQUESTS + 1], connect_state[REQUESTS + 1];
static int translation_ends[REQUESTS + 1], connect_ends[REQUESTS + 1];
static int stray;  /* a final message for an id never accepted, or an id out of range */
static long connected, not_connected, translations_done;

static void *flapper(void *arg)
{
    long long until = check_now_ms() + CHURN_MS;
    int round = 0;
    (void)arg;
    while (check_now_ms() < until) {
        check_sh("ip link set ch0 down");
        check_sleep_ms(30 + rand() % 70);
        check_sh("ip link set ch0 up");
        if (++round % 5 == 0) {
            check_sh("ip addr del 198.51.100.10/24 dev ch0");
            check_sleep_ms(20);
            check_sh("ip addr add 198.51.100.10/24 dev ch0");
            check_sh("ip neigh replace " BLACKHOLE " lladdr 02:00:5e:00:00:77 dev ch0 nud permanent");
        }
        check_sleep_ms(100 + rand() % 200);
    }
    check_note("%d flaps in %d s", round, CHURN_MS / 1000);
    __atomic_store_n(&flapping, 0, __ATOMIC_SEQ_CST);
    return NULL;
}

static void take(mif_message *m)
{
    check_message_well_formed(m);
    switch (m->msg_type) {
    case MIF_MSG_PVD_ANNOUNCEMENT:
        if (strcmp(m->ifname, "ch0") == 0 && m->family == MIF_FAMILY_IPV4)
            __atomic_store_n(&ch_pvd, m->pvd, __ATOMIC_SEQ_CST);
        break;
    case MIF_MSG_NO_PVD_ANNOUNCEMENT:
        if (strcmp(m->ifname, "ch0") == 0 && m->family == MIF_FAMILY_IPV4)
            __atomic_store_n(&ch_pvd, 0, __ATOMIC_SEQ_CST);
        break;
    case MIF_MSG_NAME_TRANSLATION_DONE:
        if (m->translation_id >= 1 && m->translation_id <= REQUESTS &&
            __atomic_load_n(&translation_state[m->translation_id], __ATOMIC_SEQ_CST) == 1) {
            __atomic_add_fetch(&translation_ends[m->translation_id], 1, __ATOMIC_SEQ_CST);
            translations_done++;
        } else {
            stray++;
        }
        break;
    case MIF_MSG_CONNECTED:
    case MIF_MSG_NOT_CONNECTED:
        if (m->connection_id >= 1 && m->connection_id <= REQUESTS &&
            __atomic_load_n(&connect_state[m->connection_id], __ATOMIC_SEQ_CST) == 1) {
            __atomic_add_fetch(&connect_ends[m->connection_id], 1, __ATOMIC_SEQ_CST);
            if (m->msg_type == MIF_MSG_CONNECTED)
                connected++;
            else
                not_connected++;
        } else {
            stray++;
        }
        break;
    default:
        break;
    }
    check_discard(m); /* closes a Connected message's socket */
}

static void *reader(void *arg)
{
    (void)arg;
    while (__atomic_load_n(&reading, __ATOMIC_SEQ_CST)) {
        mif_message *m = NULL;
        mif_result rc = mif_get_message(ctx, &m);
        if (rc == MIF_OK) {
            take(m);
            continue;
        }
        CHECK_RC(rc, MIF_NO_MESSAGE);
        rc = mif_check_message(ctx, 200);
        if (rc != MIF_OK && rc != MIF_NO_MESSAGE)
            CHECK_RC(rc, MIF_OK);
    }
    return NULL;
}

static int all_ended(void)
{
    int id;
    for (id = 1; id <= REQUESTS; id++) {
        if (__atomic_load_n(&translation_state[id], __ATOMIC_SEQ_CST) == 1 &&
            __atomic_load_n(&translation_ends[id], __ATOMIC_SEQ_CST) == 0)
            return 0;
        if (__atomic_load_n(&connect_state[id], __ATOMIC_SEQ_CST) == 1 &&
            __atomic_load_n(&connect_ends[id], __ATOMIC_SEQ_CST) == 0)
            return 0;
    }
    return 1;
}

static void churn(void)
{
    mif_options opts;
    mif_request req;
    pthread_t flap, read;
    struct check_fdset before, after;
    uint16_t port = 0;
    int listener, id, accepted_t = 0, accepted_c = 0, refused = 0;
    long long deadline;

    REQUIRE(check_sh("ip link add ch0 type veth peer name ch1 && ip link set ch1 up && ip link set ch0 up"));
    REQUIRE(check_sh("ip addr add 198.51.100.10/24 dev ch0"));
    REQUIRE(check_sh("ip neigh replace " BLACKHOLE " lladdr 02:00:5e:00:00:77 dev ch0 nud permanent"));
    check_fds(&before);
    listener = check_tcp_listener("127.0.0.1", &port);
    REQUIRE(listener >= 0);

    mif_options_init(&opts);
    opts.root_dir = root;
    opts.dns_timeout_ms = 300; /* the server never answers */
    opts.dns_tries = 1;
    opts.connect_timeout_ms = 1000;
    opts.max_sockets = 4096;
    REQUIRE(mif_open(&opts, &ctx) == MIF_OK);
    lo4 = check_pvd_of(ctx, "lo", MIF_FAMILY_IPV4);
    mif_request_init(&req, MIF_REQ_ANNOUNCE_PVDS);
    req.ifindex = if_nametoindex("ch0");
    REQUIRE(mif_post_message(ctx, &req) == MIF_OK);

    flapping = reading = 1;
    REQUIRE(pthread_create(&read, NULL, reader, NULL) == 0);
    REQUIRE(pthread_create(&flap, NULL, flapper, NULL) == 0);
    for (id = 1; id <= REQUESTS; id++) {
        uint64_t pvd = __atomic_load_n(&ch_pvd, __ATOMIC_SEQ_CST);
        mif_result rc;
        if (pvd == 0)
            pvd = UINT64_C(0xFFFFFFFF); /* none now: the post is refused */
        mif_request_init(&req, MIF_REQ_TRANSLATE_NAME);
        req.pvd = pvd;
        req.translation_id = (uint64_t)id;
        req.name = "churn.example";
        __atomic_store_n(&translation_state[id], 1, __ATOMIC_SEQ_CST);
        rc = mif_post_message(ctx, &req);
        if (rc == MIF_OK) {
            accepted_t++;
        } else {
            if (rc != MIF_E_UNKNOWN_PVD && rc != MIF_E_BUSY)
                CHECK_RC(rc, MIF_OK);
            __atomic_store_n(&translation_state[id], 2, __ATOMIC_SEQ_CST);
            refused++;
        }
        mif_request_init(&req, MIF_REQ_CONNECT_TO_ADDRESS);
        req.pvd = id % 2 ? pvd : lo4;
        req.connection_id = (uint64_t)id;
        req.remote = check_address(id % 2 ? BLACKHOLE : "127.0.0.1");
        req.remote_port = id % 2 ? 80 : port;
        __atomic_store_n(&connect_state[id], 1, __ATOMIC_SEQ_CST);
        rc = mif_post_message(ctx, &req);
        if (rc == MIF_OK) {
            accepted_c++;
        } else {
            if (rc != MIF_E_UNKNOWN_PVD && rc != MIF_E_BUSY)
                CHECK_RC(rc, MIF_OK);
            __atomic_store_n(&connect_state[id], 2, __ATOMIC_SEQ_CST);
            refused++;
        }
        check_accept_all(listener);
        check_sleep_ms(CHURN_MS / REQUESTS);
    }
    pthread_join(flap, NULL);
    /* Every accepted request ends: by its own timeout at the latest. */
    deadline = check_now_ms() + 120000;
    while (!all_ended() && check_now_ms() < deadline) {
        check_accept_all(listener);
        check_sleep_ms(100);
    }
    /* A second final message would come after the first: keep reading a while (the
     * requests' own timeouts are 300 ms and 1 s), then take what is left. */
    check_sleep_ms(3000);
    __atomic_store_n(&reading, 0, __ATOMIC_SEQ_CST);
    pthread_join(read, NULL);
    {
        mif_message *m = NULL;
        while (mif_get_message(ctx, &m) == MIF_OK)
            take(m);
    }
    check_note("posted %d translations and %d connects (%d posts refused: PvD gone or busy); "
               "%ld translations done, %ld connected, %ld not connected",
               accepted_t, accepted_c, refused, translations_done, connected, not_connected);
    CHECK(accepted_t > 0 && accepted_c > 0);
    for (id = 1; id <= REQUESTS; id++) {
        int want_t = translation_state[id] == 1, want_c = connect_state[id] == 1;
        if (translation_ends[id] != want_t || connect_ends[id] != want_c) {
            check_note("id %d: translation %s, %d final messages; connect %s, %d final messages", id,
                       want_t ? "accepted" : "refused", translation_ends[id], want_c ? "accepted" : "refused",
                       connect_ends[id]);
            check_fail();
        }
    }
    CHECK_EQ_INT(stray, 0);
    mif_close(ctx);
    close(listener);
    check_fds(&after);
    check_fds_equal(&before, &after);
    check_sh("ip link del ch0");
}

int main(void)
{
    check_watchdog(280);
    unsetenv("MIF_CONFIG");
    check_require_private_netns();
    if (!check_make_root(root, sizeof root, "", "[ch0]\ndns = " BLACKHOLE "\n")) {
        check_note("cannot make a scratch root");
        return 1;
    }
    RUN_CASE(churn);
    check_remove_root(root);
    return check_done();
}
