/*
 * test_threads: one context used from several threads at once.
 *
 * - Four threads post (subscribe/stop cycles of interfaces, PvDs, addresses and
 *   configuration elements; configuration data queries),
 *   check and get on one context while the main thread adds, flaps and deletes links
 *   and addresses.  Every call returns only a code its documentation allows, every
 *   message taken is well formed, and every message is delivered once.
 * - A thread blocked in mif_check_message(ctx, -1) is woken by another thread's post,
 *   and by a kernel change another thread causes.
 *
 * Changes kernel state with `ip` (veth pairs t0..t5, 198.51.100.0/24, 203.0.113.0/24,
 * fd6d:6966::/32): it refuses to run outside the private network namespace
 * c-tests/run.sh gives it.
 */
#include "mif.h"
#include "check.h"
#include "bed.h"

#define WORKERS 4
#define MAX_OPS 20000

/* ---- codes seen ----------------------------------------------------------------------- */

enum fn { F_POST, F_CHECK, F_GET, F_COUNT };
static const char *const fn_names[F_COUNT] = { "mif_post_message", "mif_check_message", "mif_get_message" };

static const mif_result known_codes[] = {
    MIF_OK, MIF_NO_MESSAGE, MIF_E_NULL_ARGUMENT, MIF_E_BAD_SIZE, MIF_E_UNKNOWN_REQUEST_TYPE,
    MIF_E_INVALID_ARGUMENT, MIF_E_UNKNOWN_INTERFACE, MIF_E_UNKNOWN_PVD, MIF_E_NOT_SUBSCRIBED,
    MIF_E_ENGINE_FAILED, MIF_E_INTERRUPTED, MIF_E_SYSTEM, MIF_E_INTERNAL, MIF_E_PERMISSION,
};
#define N_KNOWN (sizeof known_codes / sizeof known_codes[0])

static long seen[F_COUNT][N_KNOWN + 1]; /* last slot: a code mif.h does not define */
static int last_unknown_code;

static void record(enum fn f, mif_result rc)
{
    size_t i;
    for (i = 0; i < N_KNOWN; i++)
        if (known_codes[i] == rc)
            break;
    if (i == N_KNOWN)
        __atomic_store_n(&last_unknown_code, rc, __ATOMIC_RELAXED);
    __atomic_add_fetch(&seen[f][i], 1, __ATOMIC_RELAXED);
}

static int allowed(enum fn f, mif_result rc)
{
    switch (f) {
    case F_POST:
        /* A well-formed request on a live engine; its interface or PvD may just have gone. */
        return rc == MIF_OK || rc == MIF_E_NOT_SUBSCRIBED || rc == MIF_E_UNKNOWN_INTERFACE ||
               rc == MIF_E_UNKNOWN_PVD;
    case F_CHECK:
    case F_GET:
        return rc == MIF_OK || rc == MIF_NO_MESSAGE;
    default:
        return 0;
    }
}

/* The set of codes seen is a subset of the allowed ones. */
static void check_codes_seen(void)
{
    int f;
    size_t i;
    for (f = 0; f < F_COUNT; f++) {
        for (i = 0; i <= N_KNOWN; i++) {
            long n = seen[f][i];
            if (n == 0)
                continue;
            mif_result rc = i < N_KNOWN ? known_codes[i] : last_unknown_code;
            check_note("%s: %d (%s) x %ld", fn_names[f], (int)rc, mif_strerror(rc), n);
            if (i == N_KNOWN || !allowed((enum fn)f, rc)) {
                check_note("  ^ not a code %s may return here", fn_names[f]);
                check_fail();
            }
        }
    }
}

/* ---- the stress case ---------------------------------------------------------------------- */

static mif_ctx *shared_ctx;
static int stop_flag;
static long messages_taken;
static long malformed;

/* PvD ids seen in messages, for address subscriptions (a small ring, racy on purpose). */
static uint64_t pvd_ring[16];
static unsigned pvd_ring_next;

static uint64_t some_pvd(unsigned r)
{
    uint64_t id = __atomic_load_n(&pvd_ring[r % 16], __ATOMIC_RELAXED);
    return id != 0 ? id : (uint64_t)(r % 8 + 1);
}

static unsigned some_ifindex(unsigned r)
{
    static const char *const names[] = { "lo", "t0", "t1", "t2", "t3" };
    unsigned idx = if_nametoindex(names[r % 5]);
    return idx != 0 ? idx : 999999; /* gone: UNKNOWN_INTERFACE is allowed */
}

static void take_some(mif_ctx *ctx, int max)
{
    int i;
    for (i = 0; i < max; i++) {
        mif_message *m = (mif_message *)CHECK_SENTINEL;
        mif_result rc = mif_get_message(ctx, &m);
        record(F_GET, rc);
        if (rc != MIF_OK) {
            if (m != (mif_message *)CHECK_SENTINEL) {
                check_note("mif_get_message wrote *msg_out on %d", (int)rc);
                check_fail();
            }
            return;
        }
        __atomic_add_fetch(&messages_taken, 1, __ATOMIC_RELAXED);
        if (!check_message_well_formed(m))
            __atomic_add_fetch(&malformed, 1, __ATOMIC_RELAXED);
        if (m->msg_type == MIF_MSG_PVD_ANNOUNCEMENT) {
            unsigned slot = __atomic_fetch_add(&pvd_ring_next, 1, __ATOMIC_RELAXED) % 16;
            __atomic_store_n(&pvd_ring[slot], m->pvd, __ATOMIC_RELAXED);
        }
        mif_message_free(m);
    }
}

struct worker {
    pthread_t thread;
    unsigned seed;
    long ops;
};

static void *worker_main(void *arg)
{
    struct worker *w = (struct worker *)arg;
    mif_ctx *ctx = shared_ctx;
    unsigned r = w->seed;
    mif_result rc;

    while (!__atomic_load_n(&stop_flag, __ATOMIC_ACQUIRE) && w->ops < MAX_OPS) {
        r = r * 1103515245u + 12345u;
        unsigned pick = (r >> 16) % 15, arg2 = r >> 8;
        switch (pick) {
        case 0:
            rc = check_post(ctx, MIF_REQ_ANNOUNCE_INTERFACES, 0, 0);
            record(F_POST, rc);
            break;
        case 1:
            rc = check_post(ctx, MIF_REQ_STOP_ANNOUNCING_INTERFACES, 0, 0);
            record(F_POST, rc);
            break;
        case 2:
            rc = check_post(ctx, MIF_REQ_ANNOUNCE_PVDS, some_ifindex(arg2), 0);
            record(F_POST, rc);
            break;
        case 3:
            rc = check_post(ctx, MIF_REQ_STOP_ANNOUNCING_PVDS, some_ifindex(arg2), 0);
            record(F_POST, rc);
            break;
        case 4:
            rc = check_post(ctx, MIF_REQ_ANNOUNCE_ADDRESSES, 0, some_pvd(arg2));
            record(F_POST, rc);
            break;
        case 5:
            rc = check_post(ctx, MIF_REQ_STOP_ANNOUNCING_ADDRESSES, 0, some_pvd(arg2));
            record(F_POST, rc);
            break;
        case 6:
            record(F_CHECK, mif_check_message(ctx, 0));
            break;
        case 7:
            record(F_CHECK, mif_check_message(ctx, 5));
            break;
        case 8:
            rc = check_post(ctx, MIF_REQ_ANNOUNCE_CONFIG_ELEMENTS, 0, some_pvd(arg2));
            record(F_POST, rc);
            break;
        case 9:
            rc = check_post(ctx, MIF_REQ_STOP_ANNOUNCING_CONFIG_ELEMENTS, 0, some_pvd(arg2));
            record(F_POST, rc);
            break;
        case 10: {
            mif_request req;
            mif_request_init(&req, MIF_REQ_GET_CONFIGURATION_DATA);
            req.pvd = some_pvd(arg2);
            req.element_type = arg2 % 6;   /* MIF_ELEMENT_ANY .. MIF_ELEMENT_SYSTEM */
            req.info_id = (arg2 >> 3) % 5; /* MIF_INFO_ALL .. MIF_INFO_MTU */
            rc = mif_post_message(ctx, &req);
            record(F_POST, rc);
            break;
        }
        default:
            take_some(ctx, 8);
        }
        w->ops++;
        if (w->ops % 16 == 0)
            check_sleep_ms(1); /* let the main thread's `ip` commands run too */
    }
    return NULL;
}

static const char *const churn[] = {
    "ip link add t2 type veth peer name t3",
    "ip addr add 203.0.113.2/24 dev t2 && ip -6 addr add fd6d:6966:b::2/64 dev t2 nodad",
    "ip link set t3 up && ip link set t2 up",
    "ip addr add 203.0.113.3/24 dev t2 && ip addr add 198.51.100.10/24 dev t0",
    "ip link set t2 down",
    "ip link set t2 up && ip addr del 198.51.100.10/24 dev t0",
    "ip addr del 203.0.113.2/24 dev t2",
    "ip link set t0 down && ip link set t0 name t0x && ip link set t0x name t0 && ip link set t0 up",
    "ip link del t2",
};

static void posters_getters_and_changes(void)
{
    struct worker w[WORKERS];
    int i, round, started = 0;
    long total_ops = 0;

    memset(seen, 0, sizeof seen);
    messages_taken = malformed = 0;
    stop_flag = 0;
    REQUIRE(SH("ip link add t0 type veth peer name t1 && ip addr add 198.51.100.2/24 dev t0 && "
               "ip -6 addr add fd6d:6966:a::2/64 dev t0 nodad && ip addr add 198.51.100.3/24 dev t1 && "
               "ip link set t0 up && ip link set t1 up"));
    REQUIRE(CHECK_RC(mif_open(NULL, &shared_ctx), MIF_OK));

    for (i = 0; i < WORKERS; i++) {
        w[i].seed = 7919u * (unsigned)(i + 1);
        w[i].ops = 0;
        if (CHECK(pthread_create(&w[i].thread, NULL, worker_main, &w[i]) == 0))
            started++;
        else
            break;
    }
    /* The main thread makes changes while they run. */
    for (round = 0; round < 4; round++)
        for (i = 0; i < (int)(sizeof churn / sizeof churn[0]); i++)
            SH("%s", churn[i]);
    check_sleep_ms(100);
    __atomic_store_n(&stop_flag, 1, __ATOMIC_RELEASE);
    for (i = 0; i < started; i++) {
        pthread_join(w[i].thread, NULL);
        total_ops += w[i].ops;
        CHECK(w[i].ops > 0);
    }
    take_some(shared_ctx, 1 << 30); /* the rest */
    mif_close(shared_ctx);
    shared_ctx = NULL;

    check_note("%ld operations, %ld messages taken", total_ops, messages_taken);
    CHECK(messages_taken > 0);
    CHECK_EQ_INT(malformed, 0);
    check_codes_seen();
    if (system("ip link del t0 2>/dev/null; ip link del t2 2>/dev/null") != 0) {
        /* already gone */
    }
}

/* ---- blocked waiters ----------------------------------------------------------------------- */

struct waiter {
    pthread_t thread;
    mif_ctx *ctx;
    mif_result rc;
    long taken;
    int done;
};

static void *waiter_main(void *arg)
{
    struct waiter *w = (struct waiter *)arg;
    mif_message *m = NULL;
    w->rc = mif_check_message(w->ctx, -1);
    while (mif_get_message(w->ctx, &m) == MIF_OK) {
        check_message_well_formed(m);
        mif_message_free(m);
        w->taken++;
    }
    __atomic_store_n(&w->done, 1, __ATOMIC_RELEASE);
    return NULL;
}

static int waiter_start(struct waiter *w, mif_ctx *ctx)
{
    w->ctx = ctx;
    w->rc = -1;
    w->taken = 0;
    w->done = 0;
    return CHECK(pthread_create(&w->thread, NULL, waiter_main, w) == 0);
}

static void blocked_wait_woken_by_another_threads_post(void)
{
    mif_ctx *ctx = NULL;
    struct waiter w;
    REQUIRE(CHECK_RC(mif_open(NULL, &ctx), MIF_OK));
    if (waiter_start(&w, ctx)) {
        check_sleep_ms(200); /* most likely blocked by now; either way it must return */
        CHECK(!__atomic_load_n(&w.done, __ATOMIC_ACQUIRE));
        CHECK_RC(check_post(ctx, MIF_REQ_ANNOUNCE_INTERFACES, 0, 0), MIF_OK);
        pthread_join(w.thread, NULL);
        CHECK_RC(w.rc, MIF_OK);
        CHECK(w.taken + check_drain(ctx) >= 1);
    }
    mif_close(ctx);
}

static void *add_link_later(void *arg)
{
    (void)arg;
    check_sleep_ms(200);
    check_sh("ip link add t4 type veth peer name t5");
    return NULL;
}

static int is_t4(const mif_message *m, const void *arg)
{
    (void)arg;
    return m->msg_type == MIF_MSG_INTERFACE_ANNOUNCEMENT && strcmp(m->ifname, "t4") == 0;
}

struct change_waiter {
    pthread_t thread;
    mif_ctx *ctx;
    mif_result rc;
    int got_t4;
};

static void *change_waiter_main(void *arg)
{
    struct change_waiter *cw = (struct change_waiter *)arg;
    cw->rc = mif_check_message(cw->ctx, -1);
    mif_message *m = check_wait_for(cw->ctx, is_t4, NULL, 10000);
    cw->got_t4 = m != NULL;
    mif_message_free(m);
    return NULL;
}

static void blocked_wait_woken_by_another_threads_change(void)
{
    mif_ctx *ctx = NULL;
    struct change_waiter cw;
    pthread_t changer;
    REQUIRE(CHECK_RC(mif_open(NULL, &ctx), MIF_OK));
    CHECK_RC(check_post(ctx, MIF_REQ_ANNOUNCE_INTERFACES, 0, 0), MIF_OK);
    check_drain(ctx);
    cw.ctx = ctx;
    cw.rc = -1;
    cw.got_t4 = 0;
    if (CHECK(pthread_create(&cw.thread, NULL, change_waiter_main, &cw) == 0)) {
        if (CHECK(pthread_create(&changer, NULL, add_link_later, NULL) == 0))
            pthread_join(changer, NULL);
        pthread_join(cw.thread, NULL);
        CHECK_RC(cw.rc, MIF_OK);
        CHECK(cw.got_t4);
    }
    mif_close(ctx);
    if (system("ip link del t4 2>/dev/null") != 0) {
        /* already gone */
    }
}

/*
 * Three threads wait at once.  All may wake for one message and all but one then find
 * nothing, so the main thread keeps posting until every waiter has returned; in the
 * end each message was taken exactly once.
 */
static void several_waiters_each_message_once(void)
{
    mif_ctx *ctx = NULL;
    struct waiter w[3];
    int i, started = 0, rounds = 0, all_done = 0;
    long posted = 0, taken = 0;
    struct if_nameindex *ifs = if_nameindex(), *p;
    int per_post = 0;

    REQUIRE(CHECK(ifs != NULL));
    for (p = ifs; p->if_index != 0; p++)
        per_post++;
    if_freenameindex(ifs);
    REQUIRE(CHECK_RC(mif_open(NULL, &ctx), MIF_OK));
    for (i = 0; i < 3; i++)
        if (waiter_start(&w[i], ctx))
            started++;
    check_sleep_ms(100);
    while (!all_done && rounds++ < 400) {
        CHECK_RC(check_post(ctx, MIF_REQ_ANNOUNCE_INTERFACES, 0, 0), MIF_OK);
        posted += per_post;
        check_sleep_ms(25);
        all_done = 1;
        for (i = 0; i < started; i++)
            all_done &= __atomic_load_n(&w[i].done, __ATOMIC_ACQUIRE);
    }
    CHECK(all_done);
    if (!all_done) /* let them return before joining */
        for (i = 0; i < started; i++) {
            CHECK_RC(check_post(ctx, MIF_REQ_ANNOUNCE_INTERFACES, 0, 0), MIF_OK);
            posted += per_post;
        }
    for (i = 0; i < started; i++) {
        pthread_join(w[i].thread, NULL);
        CHECK_RC(w[i].rc, MIF_OK);
        taken += w[i].taken;
    }
    taken += check_drain(ctx);
    CHECK_EQ_INT(taken, posted);
    mif_close(ctx);
}

int main(void)
{
    check_watchdog(240);
    check_require_private_netns();
    RUN_CASE(posters_getters_and_changes);
    RUN_CASE(blocked_wait_woken_by_another_threads_post);
    RUN_CASE(blocked_wait_woken_by_another_threads_change);
    RUN_CASE(several_waiters_each_message_once);
    return check_done();
}
