/*
 * test_limits: the message queue's bound and the socket budget (docs/limits.md).
 *
 * - An application that stops taking messages while 300 addresses arrive: at most
 *   max_queued_messages wait, then one MIF_MSG_QUEUE_OVERFLOW counts what was left
 *   out, and taking it queues the complete state again: every one of the 300
 *   addresses is announced after it. Get Configuration Data is refused with
 *   MIF_E_QUEUE_FULL while the queue is full (and answered again after).
 * - With RLIMIT_NOFILE at 256, 1000 connects to a destination that never answers:
 *   the default budget (a quarter: 64) is reserved and the rest refused with
 *   MIF_E_BUSY, and the application can still open 100 descriptors of its own;
 *   cancelled connects give their sockets back. A translation reserves 2.
 * - A Connected message holds its socket in the budget until it is taken.
 *
 * Changes kernel state with `ip` (veth ql0/ql1, 198.18.0.0/15; the blackhole bed of
 * bed.h): it refuses to run outside the private network namespace c-tests/run.sh
 * gives it.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "mif.h"
#include "check.h"
#include "bed.h"

#define ADDRESSES 300
#define QUEUE_LIMIT 64

static char root[256];
static int bed_ok;

static mif_ctx *open_with(uint32_t max_queued, uint32_t max_sockets)
{
    mif_options opts;
    mif_ctx *ctx = NULL;
    mif_options_init(&opts);
    if (root[0] != '\0')
        opts.root_dir = root;
    opts.max_queued_messages = max_queued;
    opts.max_sockets = max_sockets;
    opts.dns_timeout_ms = 600000; /* the blackholed server never answers */
    opts.dns_tries = 1;
    opts.connect_timeout_ms = 600000;
    if (!CHECK_RC(mif_open(&opts, &ctx), MIF_OK))
        return NULL;
    return ctx;
}

static mif_result get_config(mif_ctx *ctx, uint64_t pvd)
{
    mif_request req;
    mif_request_init(&req, MIF_REQ_GET_CONFIGURATION_DATA);
    req.pvd = pvd;
    req.info_id = MIF_INFO_DNS_SERVERS;
    return mif_post_message(ctx, &req);
}

/* ---- the queue's bound ------------------------------------------------------------ */

static void overflow_then_complete_state(void)
{
    static char seen[ADDRESSES];
    mif_ctx *ctx;
    uint64_t pvd;
    mif_request req;
    FILE *batch;
    char path[] = "/tmp/mif-limits-XXXXXX";
    int fd, i, before = 0, overflows = 0, after = 0, missing = ADDRESSES;
    long long deadline;
    mif_result rc;

    REQUIRE(check_sh("ip link add ql0 type veth peer name ql1 && ip link set ql1 up && ip link set ql0 up"));
    REQUIRE(check_sh("ip addr add 198.18.0.1/16 dev ql0"));
    ctx = open_with(QUEUE_LIMIT, 0);
    if (ctx == NULL)
        return;
    pvd = check_pvd_of(ctx, "ql0", MIF_FAMILY_IPV4);
    REQUIRE(pvd != 0);
    mif_request_init(&req, MIF_REQ_ANNOUNCE_ADDRESSES);
    req.pvd = pvd;
    CHECK_RC(mif_post_message(ctx, &req), MIF_OK);
    check_drain(ctx);

    /* 300 addresses while the application takes nothing. */
    fd = mkstemp(path);
    REQUIRE(fd >= 0);
    batch = fdopen(fd, "w");
    for (i = 0; i < ADDRESSES; i++)
        fprintf(batch, "addr add 198.18.%d.%d/16 dev ql0\n", 1 + i / 200, 1 + i % 200);
    fclose(batch);
    CHECK(check_sh("ip -batch %s", path));
    unlink(path);
    /* Wait until the engine has applied all 300 (it applies the kernel's events in
     * order): one more address, and a socket bound to it can be watched only once the
     * model has it (MIF_E_NO_PATH before). No timing involved; the bound is for hangs. */
    CHECK(check_sh("ip addr add 198.18.99.1/16 dev ql0"));
    {
        struct sockaddr_in a = { .sin_family = AF_INET };
        int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        mif_request w;
        inet_pton(AF_INET, "198.18.99.1", &a.sin_addr);
        REQUIRE(s >= 0 && bind(s, (struct sockaddr *)&a, sizeof a) == 0);
        mif_request_init(&w, MIF_REQ_WATCH_SOCKET);
        w.connection_id = 1;
        w.socket = s;
        deadline = check_now_ms() + 60000;
        while ((rc = mif_post_message(ctx, &w)) == MIF_E_NO_PATH && check_now_ms() < deadline)
            check_sleep_ms(20);
        CHECK_RC(rc, MIF_OK);
        w.request_type = MIF_REQ_STOP_WATCHING_CONNECTION;
        CHECK_RC(mif_post_message(ctx, &w), MIF_OK);
        close(s);
    }

    /* Without taking anything: Get Configuration Data answers until the queue is full. */
    deadline = check_now_ms() + 60000;
    while ((rc = get_config(ctx, pvd)) == MIF_OK && check_now_ms() < deadline)
        check_sleep_ms(20);
    CHECK_RC(rc, MIF_E_QUEUE_FULL);
    /* Every request whose results would have to be queued is refused too: a hosts-file
     * name answers inside the post, so nothing else would stop a loop of them. */
    {
        mif_request t;
        mif_request_init(&t, MIF_REQ_TRANSLATE_NAME);
        t.pvd = pvd;
        t.translation_id = 1;
        t.name = "localhost";
        CHECK_RC(mif_post_message(ctx, &t), MIF_E_QUEUE_FULL);
        mif_request_init(&t, MIF_REQ_CONNECT_TO_ADDRESS);
        t.pvd = pvd;
        t.connection_id = 1;
        t.remote = check_address("198.18.0.1");
        t.remote_port = 9;
        CHECK_RC(mif_post_message(ctx, &t), MIF_E_QUEUE_FULL);
    }

    /* Take everything, as an application does: at each overflow message the application
     * forgets what it was told, and the announcements after the last one give every
     * address. (How many overflows there are, and how many messages come before the
     * first, depend on how far the engine got when the queue filled: an engine still
     * working through the 300 kernel events keeps filling the room the application
     * makes, so the limit bounds what waits at any moment, not what is taken before the
     * first overflow. That bound is the outbox's unit tests' to show, where nothing
     * races.) */
    deadline = check_now_ms() + 60000;
    while (check_now_ms() < deadline) {
        mif_message *m = NULL;
        if (mif_get_message(ctx, &m) != MIF_OK) {
            if (missing == 0)
                break;
            mif_check_message(ctx, 1000);
            continue;
        }
        check_message_well_formed(m);
        if (m->msg_type == MIF_MSG_QUEUE_OVERFLOW) {
            overflows++;
            check_note("overflow %d after %d messages: %llu announcements left out", overflows, before + after,
                       (unsigned long long)m->dropped_messages);
            CHECK(m->dropped_messages > 0);
            memset(seen, 0, sizeof seen);
            missing = ADDRESSES;
            after = 0;
        } else if (overflows == 0) {
            before++;
        } else if (m->msg_type == MIF_MSG_ADDRESS_ANNOUNCEMENT) {
            const unsigned char *a = m->address.bytes;
            int n = (a[2] - 1) * 200 + (a[3] - 1);
            after++;
            if (a[0] == 198 && a[1] == 18 && a[2] >= 1 && n >= 0 && n < ADDRESSES && !seen[n]) {
                seen[n] = 1;
                missing--;
            }
        }
        mif_message_free(m);
    }
    check_note("%d messages after the last overflow, %d of %d addresses never announced after it", after,
               missing, ADDRESSES);
    CHECK(overflows >= 1);
    CHECK(before >= QUEUE_LIMIT);
    CHECK_EQ_INT(missing, 0);
    check_drain(ctx);
    CHECK_RC(get_config(ctx, pvd), MIF_OK);
    mif_close(ctx);
    check_sh("ip link del ql0");
}

/* ---- the socket budget -------------------------------------------------------------- */

static mif_result connect_to(mif_ctx *ctx, uint64_t pvd, uint64_t id, const char *ip, uint16_t port)
{
    mif_request req;
    mif_request_init(&req, MIF_REQ_CONNECT_TO_ADDRESS);
    req.pvd = pvd;
    req.connection_id = id;
    req.remote = check_address(ip);
    req.remote_port = port;
    return mif_post_message(ctx, &req);
}

static mif_result cancel(mif_ctx *ctx, uint64_t id)
{
    mif_request req;
    mif_request_init(&req, MIF_REQ_CANCEL_CONNECT);
    req.connection_id = id;
    return mif_post_message(ctx, &req);
}

static mif_result translate(mif_ctx *ctx, uint64_t pvd, uint64_t id)
{
    mif_request req;
    mif_request_init(&req, MIF_REQ_TRANSLATE_NAME);
    req.pvd = pvd;
    req.translation_id = id;
    req.name = "never.example";
    return mif_post_message(ctx, &req);
}

static void budget_keeps_descriptors_for_the_application(void)
{
    struct rlimit old, low = { 256, 256 };
    mif_ctx *ctx;
    uint64_t pvd, id;
    int ok = 0, busy = 0, other = 0, opened = 0, i;
    int mine[100];
    REQUIRE(bed_ok);
    REQUIRE(getrlimit(RLIMIT_NOFILE, &old) == 0);
    low.rlim_max = old.rlim_max;
    REQUIRE(setrlimit(RLIMIT_NOFILE, &low) == 0);
    ctx = open_with(0, 0);
    if (ctx == NULL)
        goto out;
    pvd = check_pvd_of(ctx, CHECK_BED_IF, MIF_FAMILY_IPV4);
    for (id = 1; id <= 1000; id++) {
        mif_result rc = connect_to(ctx, pvd, id, CHECK_BLACKHOLE, 80);
        if (rc == MIF_OK)
            ok++;
        else if (rc == MIF_E_BUSY)
            busy++;
        else
            other++;
    }
    check_note("1000 connects with RLIMIT_NOFILE 256: %d posted, %d MIF_E_BUSY, %d other", ok, busy, other);
    CHECK_EQ_INT(ok, 64);
    CHECK_EQ_INT(busy, 936);
    CHECK_EQ_INT(other, 0);
    for (i = 0; i < 100; i++) {
        mine[i] = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (mine[i] >= 0)
            opened++;
    }
    CHECK_EQ_INT(opened, 100);
    for (i = 0; i < 100; i++)
        if (mine[i] >= 0)
            close(mine[i]);
    /* A translation reserves 2: refused while full, posted once two connects ended. */
    CHECK_RC(translate(ctx, pvd, 1), MIF_E_BUSY);
    CHECK_RC(cancel(ctx, 1), MIF_OK);
    CHECK_RC(translate(ctx, pvd, 1), MIF_E_BUSY);
    CHECK_RC(cancel(ctx, 2), MIF_OK);
    CHECK_RC(translate(ctx, pvd, 1), MIF_OK);
    CHECK_RC(connect_to(ctx, pvd, 1001, CHECK_BLACKHOLE, 80), MIF_E_BUSY);
    CHECK_RC(cancel(ctx, 3), MIF_OK);
    CHECK_RC(connect_to(ctx, pvd, 1001, CHECK_BLACKHOLE, 80), MIF_OK);
    mif_close(ctx);
out:
    setrlimit(RLIMIT_NOFILE, &old);
}

static int match_connected(const mif_message *m, const void *arg)
{
    (void)arg;
    return m->msg_type == MIF_MSG_CONNECTED || m->msg_type == MIF_MSG_NOT_CONNECTED;
}

static void option_bounds(void)
{
    static const struct { uint32_t queued, sockets; mif_result want; } rows[] = {
        { 15, 0, MIF_E_INVALID_ARGUMENT }, { 16, 0, MIF_OK }, { 10000001, 0, MIF_E_INVALID_ARGUMENT },
        { 0, 3, MIF_E_INVALID_ARGUMENT }, { 0, 4, MIF_OK }, { 0, 1000001, MIF_E_INVALID_ARGUMENT },
    };
    size_t i;
    for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        mif_options opts;
        mif_ctx *ctx = NULL;
        mif_options_init(&opts);
        opts.max_queued_messages = rows[i].queued;
        opts.max_sockets = rows[i].sockets;
        if (!CHECK_RC(mif_open(&opts, &ctx), rows[i].want))
            check_note("max_queued_messages %u, max_sockets %u", rows[i].queued, rows[i].sockets);
        mif_close(ctx);
    }
}

static void queued_connected_holds_its_socket(void)
{
    uint16_t port = 0;
    int listener = check_tcp_listener("127.0.0.1", &port);
    mif_ctx *ctx;
    uint64_t lo;
    mif_message *m;
    REQUIRE(listener >= 0);
    uint64_t id;
    ctx = open_with(0, 4); /* the smallest budget: 4 connects from lo's one source */
    if (ctx == NULL) {
        close(listener);
        return;
    }
    lo = check_pvd_of(ctx, "lo", MIF_FAMILY_IPV4);
    for (id = 1; id <= 4; id++)
        CHECK_RC(connect_to(ctx, lo, id, "127.0.0.1", port), MIF_OK);
    /* The results wait, untaken (a connect on lo ends at once; one still in flight
     * would hold its socket too): their sockets are still the context's. */
    CHECK_RC(mif_check_message(ctx, 30000), MIF_OK);
    check_sleep_ms(500);
    CHECK_RC(connect_to(ctx, lo, 5, "127.0.0.1", port), MIF_E_BUSY);
    m = check_wait_for(ctx, match_connected, NULL, 30000);
    if (CHECK(m != NULL)) {
        CHECK_EQ_INT(m->msg_type, MIF_MSG_CONNECTED);
        check_discard(m);
    }
    /* One taken: its socket is the application's, one place free again. */
    CHECK_RC(connect_to(ctx, lo, 5, "127.0.0.1", port), MIF_OK);
    CHECK_RC(connect_to(ctx, lo, 6, "127.0.0.1", port), MIF_E_BUSY);
    for (id = 0; id < 4; id++) {
        m = check_wait_for(ctx, match_connected, NULL, 30000);
        if (CHECK(m != NULL))
            check_discard(m);
    }
    mif_close(ctx);
    check_accept_all(listener);
    close(listener);
}

int main(void)
{
    check_watchdog(280);
    unsetenv("MIF_CONFIG");
    bed_ok = check_blackhole_bed() &&
             check_make_root(root, sizeof root, "", "[" CHECK_BED_IF "]\ndns = " CHECK_BLACKHOLE "\n");
    if (!bed_ok)
        check_note("the blackhole bed could not be made");
    RUN_CASE(option_bounds);
    RUN_CASE(overflow_then_complete_state);
    RUN_CASE(budget_keeps_descriptors_for_the_application);
    RUN_CASE(queued_connected_holds_its_socket);
    if (root[0] != '\0')
        check_remove_root(root);
    return check_done();
}
