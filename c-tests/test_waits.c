/*
 * test_waits: mif_check_message's probe, timed and infinite waits, and EINTR.
 *
 * Changes kernel state with `ip` (veth pairs t0/t1, 198.51.100.0/24): it refuses to run
 * outside the private network namespace c-tests/run.sh gives it.  No case asserts how
 * long a wait took; the limits only turn a hang into a failure.
 */
#include "mif.h"
#include "check.h"
#include "bed.h"

#include <sys/time.h>

/* ---- idle context ---------------------------------------------------------------- */

static void probe_idle_context(void)
{
    mif_ctx *ctx = NULL;
    int i;
    REQUIRE(CHECK_RC(mif_open(NULL, &ctx), MIF_OK));
    for (i = 0; i < 3; i++) {
        mif_message *m = (mif_message *)CHECK_SENTINEL;
        CHECK_RC(mif_check_message(ctx, 0), MIF_NO_MESSAGE);
        CHECK_RC(mif_get_message(ctx, &m), MIF_NO_MESSAGE);
        CHECK(m == (mif_message *)CHECK_SENTINEL); /* untouched */
    }
    mif_close(ctx);
}

static void timed_wait_with_nothing_to_come(void)
{
    mif_ctx *ctx = NULL;
    mif_message *m = (mif_message *)CHECK_SENTINEL;
    REQUIRE(CHECK_RC(mif_open(NULL, &ctx), MIF_OK));
    CHECK_RC(mif_check_message(ctx, 1), MIF_NO_MESSAGE);
    CHECK_RC(mif_check_message(ctx, 300), MIF_NO_MESSAGE);
    /* Also with a subscription whose first announcements were all taken. */
    CHECK_RC(check_post(ctx, MIF_REQ_ANNOUNCE_INTERFACES, 0, 0), MIF_OK);
    CHECK(check_drain(ctx) >= 1); /* lo */
    CHECK_RC(mif_check_message(ctx, 300), MIF_NO_MESSAGE);
    CHECK_RC(mif_get_message(ctx, &m), MIF_NO_MESSAGE);
    CHECK(m == (mif_message *)CHECK_SENTINEL);
    mif_close(ctx);
}

static void check_does_not_take(void)
{
    mif_ctx *ctx = NULL;
    mif_message *m = NULL;
    REQUIRE(CHECK_RC(mif_open(NULL, &ctx), MIF_OK));
    CHECK_RC(check_post(ctx, MIF_REQ_ANNOUNCE_INTERFACES, 0, 0), MIF_OK);
    CHECK_RC(mif_check_message(ctx, 0), MIF_OK);
    CHECK_RC(mif_check_message(ctx, 0), MIF_OK);
    CHECK_RC(mif_check_message(ctx, 1000), MIF_OK);
    CHECK_RC(mif_check_message(ctx, -1), MIF_OK);
    if (CHECK_RC(mif_get_message(ctx, &m), MIF_OK)) {
        CHECK(m != NULL && m->msg_type == MIF_MSG_INTERFACE_ANNOUNCEMENT);
        mif_message_free(m);
    }
    CHECK_EQ_INT(check_drain(ctx), 0); /* only lo in a fresh namespace */
    CHECK_RC(mif_check_message(ctx, 0), MIF_NO_MESSAGE);
    mif_close(ctx);
}

/* ---- infinite waits woken by a change ------------------------------------------------ */

/* A thread that runs one shell command after a short sleep. */
struct later {
    pthread_t thread;
    const char *cmd;
    int ok;
};

static void *later_main(void *arg)
{
    struct later *l = (struct later *)arg;
    check_sleep_ms(200);
    l->ok = check_sh("%s", l->cmd);
    return NULL;
}

static int later_start(struct later *l, const char *cmd)
{
    l->cmd = cmd;
    l->ok = 0;
    return CHECK(pthread_create(&l->thread, NULL, later_main, l) == 0);
}

static void later_join(struct later *l)
{
    pthread_join(l->thread, NULL);
    CHECK(l->ok);
}

static void cleanup_veth(void)
{
    if (system("ip link del t0 2>/dev/null") != 0) {
        /* already gone */
    }
}

static void infinite_wait_woken_by_link_add(void)
{
    mif_ctx *ctx = NULL;
    struct later l;
    mif_message *m;
    REQUIRE(CHECK_RC(mif_open(NULL, &ctx), MIF_OK));
    CHECK_RC(check_post(ctx, MIF_REQ_ANNOUNCE_INTERFACES, 0, 0), MIF_OK);
    check_drain(ctx);
    if (later_start(&l, "ip link add t0 type veth peer name t1")) {
        CHECK_RC(mif_check_message(ctx, -1), MIF_OK);
        later_join(&l);
        m = check_wait_want(ctx, MIF_MSG_INTERFACE_ANNOUNCEMENT, "t0", 0, NULL, 10000);
        CHECK(m != NULL);
        mif_message_free(m);
    }
    mif_close(ctx);
    cleanup_veth();
}

static void infinite_wait_woken_by_link_up(void)
{
    mif_ctx *ctx = NULL;
    struct later l;
    mif_message *m;
    unsigned t0;
    if (!SH("ip link add t0 type veth peer name t1 && ip addr add 198.51.100.2/24 dev t0"))
        goto out;
    t0 = if_nametoindex("t0");
    if (!CHECK(t0 != 0))
        goto out;
    if (!CHECK_RC(mif_open(NULL, &ctx), MIF_OK))
        goto out;
    /* t0 is down: no PvD yet, nothing to announce. */
    CHECK_RC(check_post(ctx, MIF_REQ_ANNOUNCE_PVDS, t0, 0), MIF_OK);
    CHECK_EQ_INT(check_drain(ctx), 0);
    if (later_start(&l, "ip link set t1 up && ip link set t0 up")) {
        CHECK_RC(mif_check_message(ctx, -1), MIF_OK);
        later_join(&l);
        m = check_wait_want(ctx, MIF_MSG_PVD_ANNOUNCEMENT, "t0", MIF_FAMILY_IPV4, NULL, 10000);
        CHECK(m != NULL);
        mif_message_free(m);
    }
out:
    mif_close(ctx);
    cleanup_veth();
}

static void infinite_wait_woken_by_address_add(void)
{
    mif_ctx *ctx = NULL;
    struct later l;
    mif_message *m;
    unsigned t0;
    uint64_t pvd;
    if (!SH("ip link add t0 type veth peer name t1 && ip addr add 198.51.100.2/24 dev t0 && "
            "ip link set t1 up && ip link set t0 up"))
        goto out;
    t0 = if_nametoindex("t0");
    if (!CHECK(t0 != 0) || !CHECK_RC(mif_open(NULL, &ctx), MIF_OK))
        goto out;
    CHECK_RC(check_post(ctx, MIF_REQ_ANNOUNCE_PVDS, t0, 0), MIF_OK);
    m = check_wait_want(ctx, MIF_MSG_PVD_ANNOUNCEMENT, "t0", MIF_FAMILY_IPV4, NULL, 10000);
    if (!CHECK(m != NULL))
        goto out;
    pvd = m->pvd;
    mif_message_free(m);
    CHECK_RC(check_post(ctx, MIF_REQ_ANNOUNCE_ADDRESSES, 0, pvd), MIF_OK);
    m = check_wait_want(ctx, MIF_MSG_ADDRESS_ANNOUNCEMENT, "t0", MIF_FAMILY_IPV4, "198.51.100.2", 10000);
    CHECK(m != NULL);
    mif_message_free(m);
    check_drain(ctx);
    if (later_start(&l, "ip addr add 198.51.100.3/24 dev t0")) {
        CHECK_RC(mif_check_message(ctx, -1), MIF_OK);
        later_join(&l);
        m = check_wait_want(ctx, MIF_MSG_ADDRESS_ANNOUNCEMENT, "t0", MIF_FAMILY_IPV4, "198.51.100.3", 10000);
        CHECK(m != NULL);
        mif_message_free(m);
    }
out:
    mif_close(ctx);
    cleanup_veth();
}

/* ---- EINTR ------------------------------------------------------------------------- */

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
    (void)sig;
    alarms++;
}

/*
 * Waits on an idle context while SIGALRM arrives every second (the first one may come
 * before the wait starts; the next one then interrupts it).  SIGALRM is blocked while
 * the context opens, so its engine thread inherits a mask that keeps the signal for
 * this thread.
 */
static void interrupted_wait(int sa_flags, int timeout_ms)
{
    struct sigaction sa, old_sa;
    sigset_t alrm, old_mask;
    struct itimerval every_second = { { 1, 0 }, { 1, 0 } }, off = { { 0, 0 }, { 0, 0 } };
    mif_ctx *ctx = NULL;
    mif_result rc;

    sigemptyset(&alrm);
    sigaddset(&alrm, SIGALRM);
    pthread_sigmask(SIG_BLOCK, &alrm, &old_mask);
    rc = mif_open(NULL, &ctx);
    pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
    REQUIRE(CHECK_RC(rc, MIF_OK));

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sa.sa_flags = sa_flags;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, &old_sa);
    alarms = 0;
    setitimer(ITIMER_REAL, &every_second, NULL);

    rc = mif_check_message(ctx, timeout_ms);

    setitimer(ITIMER_REAL, &off, NULL);
    sigaction(SIGALRM, &old_sa, NULL);
    CHECK_RC(rc, MIF_E_INTERRUPTED);
    CHECK(alarms >= 1);
    /* The context is fine afterwards: call again to go on waiting. */
    CHECK_RC(mif_check_message(ctx, 0), MIF_NO_MESSAGE);
    CHECK_RC(check_post(ctx, MIF_REQ_ANNOUNCE_INTERFACES, 0, 0), MIF_OK);
    CHECK_RC(mif_check_message(ctx, -1), MIF_OK);
    mif_close(ctx);
}

static void eintr_infinite_wait(void)
{
    interrupted_wait(0, -1);
}

static void eintr_timed_wait(void)
{
    interrupted_wait(0, 60000);
}

static void eintr_even_with_sa_restart(void)
{
    /* "the call is not restarted": a handler installed with SA_RESTART interrupts too. */
    interrupted_wait(SA_RESTART, -1);
}

int main(void)
{
    check_watchdog(120);
    check_require_private_netns();
    RUN_CASE(probe_idle_context);
    RUN_CASE(timed_wait_with_nothing_to_come);
    RUN_CASE(check_does_not_take);
    RUN_CASE(infinite_wait_woken_by_link_add);
    RUN_CASE(infinite_wait_woken_by_link_up);
    RUN_CASE(infinite_wait_woken_by_address_add);
    RUN_CASE(eintr_infinite_wait);
    RUN_CASE(eintr_timed_wait);
    RUN_CASE(eintr_even_with_sa_restart);
    return check_done();
}
