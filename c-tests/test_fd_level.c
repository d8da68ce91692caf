/*
 * test_fd_level: mif_fd is level-triggered: readable exactly while a message waits
 * (no name translation is out here: none of its DNS answers can make it readable),
 * also after a partial drain, and readable again when a new change arrives.
 *
 * Changes kernel state with `ip` (veth pairs t0/t1 and t2/t3): it refuses to run outside
 * the private network namespace c-tests/run.sh gives it.
 */
#include "mif.h"
#include "check.h"
#include "bed.h"

#include <poll.h>

/* 1 if fd polls readable right now (timeout 0), 0 if not, -1 on error. */
static int readable(int fd, int timeout_ms)
{
    struct pollfd p = { fd, POLLIN, 0 };
    int rc = poll(&p, 1, timeout_ms);
    if (rc < 0)
        return -1;
    return rc > 0 && (p.revents & POLLIN) != 0;
}

/* fd readability and mif_check_message(ctx, 0) must agree; returns readability. */
static int state(mif_ctx *ctx, int fd, int want, const char *when)
{
    int r = readable(fd, 0);
    if (!CHECK_EQ_INT(r, want))
        check_note("fd readability %s", when);
    if (!CHECK_RC(mif_check_message(ctx, 0), want ? MIF_OK : MIF_NO_MESSAGE))
        check_note("mif_check_message(ctx, 0) %s", when);
    /* Polling does not change the state. */
    CHECK_EQ_INT(readable(fd, 0), r);
    return r;
}

static int new_veth(const mif_message *m, const void *arg)
{
    (void)arg;
    return m->msg_type == MIF_MSG_INTERFACE_ANNOUNCEMENT &&
           (strcmp(m->ifname, "t2") == 0 || strcmp(m->ifname, "t3") == 0);
}

static void level_semantics(void)
{
    mif_ctx *ctx = NULL;
    mif_message *m = NULL;
    int fd, n, i;

    REQUIRE(SH("ip link add t0 type veth peer name t1"));
    REQUIRE(CHECK_RC(mif_open(NULL, &ctx), MIF_OK));
    fd = mif_fd(ctx);
    if (!CHECK(fd >= 0))
        goto out;

    state(ctx, fd, 0, "before any message");

    /* lo, t0, t1: three Interface Announcements queued by the time post returns. */
    CHECK_RC(check_post(ctx, MIF_REQ_ANNOUNCE_INTERFACES, 0, 0), MIF_OK);
    state(ctx, fd, 1, "after a subscription with several initial messages");

    if (CHECK_RC(mif_get_message(ctx, &m), MIF_OK)) {
        check_message_well_formed(m);
        mif_message_free(m);
    }
    state(ctx, fd, 1, "after taking one of several");

    if (CHECK_RC(mif_get_message(ctx, &m), MIF_OK)) {
        check_message_well_formed(m);
        mif_message_free(m);
    }
    state(ctx, fd, 1, "after taking two of three");

    n = check_drain(ctx);
    CHECK_EQ_INT(n, 1);
    state(ctx, fd, 0, "after draining all");

    /* A new change: readable again (wait for it; the limit only avoids a hang). */
    if (SH("ip link add t2 type veth peer name t3")) {
        CHECK_EQ_INT(readable(fd, 10000), 1);
        state(ctx, fd, 1, "after a new change");
        /* t2 and t3 come (in either order); take them as they arrive. */
        int seen2 = 0, seen3 = 0;
        for (i = 0; i < 2 && !(seen2 && seen3); i++) {
            m = check_wait_for(ctx, new_veth, NULL, 10000);
            if (!CHECK(m != NULL))
                break;
            seen2 |= strcmp(m->ifname, "t2") == 0;
            seen3 |= strcmp(m->ifname, "t3") == 0;
            mif_message_free(m);
        }
        CHECK(seen2 && seen3);
        check_drain(ctx);
        state(ctx, fd, 0, "after draining the change");
    }

    /* Once more with a repeated subscription: it re-announces, fd readable again. */
    CHECK_RC(check_post(ctx, MIF_REQ_ANNOUNCE_INTERFACES, 0, 0), MIF_OK);
    state(ctx, fd, 1, "after re-announcing");
    CHECK_EQ_INT(check_drain(ctx), 5); /* lo t0 t1 t2 t3 */
    state(ctx, fd, 0, "after draining the re-announcement");
out:
    mif_close(ctx);
    if (system("ip link del t0 2>/dev/null; ip link del t2 2>/dev/null") != 0) {
        /* already gone */
    }
}

/* Taking messages one by one: readable before each take, not after the last. */
static void readable_until_last_taken(void)
{
    mif_ctx *ctx = NULL;
    mif_message *m = NULL;
    int fd, taken = 0;
    unsigned lo = if_nametoindex("lo");

    REQUIRE(CHECK(lo != 0));
    REQUIRE(CHECK_RC(mif_open(NULL, &ctx), MIF_OK));
    fd = mif_fd(ctx);
    CHECK_RC(check_post(ctx, MIF_REQ_ANNOUNCE_INTERFACES, 0, 0), MIF_OK);
    CHECK_RC(check_post(ctx, MIF_REQ_ANNOUNCE_PVDS, lo, 0), MIF_OK); /* lo/ipv4, lo/ipv6 */
    while (readable(fd, 0) == 1) {
        if (!CHECK_RC(mif_get_message(ctx, &m), MIF_OK))
            break;
        check_message_well_formed(m);
        mif_message_free(m);
        taken++;
        if (!CHECK(taken < 100))
            break;
    }
    CHECK_EQ_INT(taken, 3);
    CHECK_RC(mif_get_message(ctx, &m), MIF_NO_MESSAGE);
    state(ctx, fd, 0, "after the last take");
    mif_close(ctx);
}

int main(void)
{
    check_watchdog(120);
    check_require_private_netns();
    RUN_CASE(level_semantics);
    RUN_CASE(readable_until_last_taken);
    return check_done();
}
