/*
 * test_mptcp: session continuity with MPTCP (docs/connectivity.md, "MPTCP continuity")
 * from C against the real kernel. Two networks, vw0 (198.18.5.1/24) and vx0
 * (198.18.6.1/24), lead to one far end: a child process in a network namespace of its
 * own holding vw1 (198.18.5.2), vx1 (198.18.6.2) and, on its lo, 198.18.7.7 with an
 * MPTCP echo server (a socket with protocol IPPROTO_MPTCP, 262). 198.18.7.7 is routed
 * through vw0 first, vx0 second.
 *
 * The context manages the subflow endpoints (MIF_OPTION_MANAGE_MPTCP_ENDPOINTS), so the
 * kernel opens a second subflow over vx0 by itself. A stream of lines goes to the echo
 * server over an MPTCP connection first routed over vw0, watched through its socket;
 * vw0 is deleted mid-stream: MIF_MSG_CONNECTION_GONE says the kernel carries the
 * connection (MIF_CONTINUITY_KERNEL), and every line, before and after, is echoed over the same
 * socket: no reconnect, nothing lost.
 */
#include "mif.h"

#include "bed.h"

#include <poll.h>

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif

#define LINES 200

static char root[256];

/* The far end (check_far_end_start): both peers, the service address, MPTCP limits. */
#define FAR_SETUP                                                                                 \
    "ip addr add 198.18.7.7/32 dev lo && ip addr add 198.18.5.2/24 dev vw1 && ip link set vw1 up && " \
    "ip addr add 198.18.6.2/24 dev vx1 && ip link set vx1 up && "                                \
    "ip mptcp limits set subflow 4 add_addr_accepted 4"

/* Sends line `n` and reads its echo (30 s at most: a bound against hangs). */
static int round_trip(int fd, int n)
{
    char line[32], back[32];
    size_t len = (size_t)snprintf(line, sizeof line, "%d\n", n), got = 0;
    long long deadline = check_now_ms() + 30000;
    if (write(fd, line, len) != (ssize_t)len)
        return 0;
    while (got < len && check_now_ms() < deadline) {
        struct pollfd p = { fd, POLLIN, 0 };
        ssize_t r;
        if (poll(&p, 1, 1000) <= 0)
            continue;
        r = read(fd, back + got, len - got);
        if (r <= 0)
            return 0;
        got += (size_t)r;
    }
    return got == len && memcmp(line, back, len) == 0;
}

struct want_conn {
    mif_message_type type;
    uint64_t id;
};

static int match_conn(const mif_message *m, const void *arg)
{
    const struct want_conn *w = (const struct want_conn *)arg;
    return m->msg_type == w->type && m->connection_id == w->id;
}

static void stream_survives_the_loss_of_its_first_network(void)
{
    mif_options opts;
    mif_ctx *ctx = NULL;
    mif_request req;
    mif_message *m;
    struct want_conn w = { MIF_MSG_CONNECTION_GONE, 9 };
    struct sockaddr_in local = { .sin_family = AF_INET }, remote = { .sin_family = AF_INET };
    int fd = -1, n, echoed = 0, is_mptcp = 0;
    socklen_t len = sizeof is_mptcp;
    struct check_far_end far = { -1, -1, 0 };
    uint16_t port = 0;

    SH("ip mptcp endpoint flush; ip mptcp limits set subflow 4 add_addr_accepted 4");
    if (!SH("ip link add vw0 type veth peer name vw1 && ip link add vx0 type veth peer name vx1 && "
            "ip addr add 198.18.5.1/24 dev vw0 && ip addr add 198.18.6.1/24 dev vx0 && "
            "ip link set vw0 up && ip link set vx0 up"))
        goto out;
    if (!check_far_end_start(&far, "vw1 vx1", FAR_SETUP, "198.18.7.7", IPPROTO_MPTCP, 1))
        goto out;
    port = far.port;
    /* The far end answers each network through it: its routes back. */
    SH("nsenter -t %d -n ip route add 198.18.5.0/24 dev vw1 2>/dev/null; true", (int)far.pid);
    SH("ip route add 198.18.7.7/32 via 198.18.5.2 dev vw0 metric 100 && "
       "ip route add 198.18.7.7/32 via 198.18.6.2 dev vx0 metric 200");
    mif_options_init(&opts);
    opts.root_dir = root;
    opts.flags = MIF_OPTION_MANAGE_MPTCP_ENDPOINTS;
    if (!CHECK_RC(mif_open(&opts, &ctx), MIF_OK))
        goto out;
    check_pvd_of(ctx, "vw0", MIF_FAMILY_IPV4);
    check_pvd_of(ctx, "vx0", MIF_FAMILY_IPV4);
    /* The library's endpoint on vx0 (10 s at most). */
    for (n = 0; n < 100 && system("ip mptcp endpoint show | grep -qw 198.18.6.1") != 0; n++)
        check_sleep_ms(100);
    CHECK(SH("ip mptcp endpoint show | grep -w 198.18.6.1 | grep -q subflow"));

    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_MPTCP);
    if (!CHECK(fd >= 0))
        goto out;
    inet_pton(AF_INET, "198.18.5.1", &local.sin_addr);
    inet_pton(AF_INET, "198.18.7.7", &remote.sin_addr);
    remote.sin_port = htons(port);
    if (!CHECK(bind(fd, (struct sockaddr *)&local, sizeof local) == 0) ||
        !CHECK(connect(fd, (struct sockaddr *)&remote, sizeof remote) == 0))
        goto out;
    CHECK(getsockopt(fd, IPPROTO_TCP, 43 /* TCP_IS_MPTCP */, &is_mptcp, &len) == 0 && is_mptcp == 1);
    mif_request_init(&req, MIF_REQ_WATCH_SOCKET);
    req.connection_id = 9;
    req.socket = fd;
    CHECK_RC(mif_post_message(ctx, &req), MIF_OK);

    for (n = 1; n <= LINES / 2; n++)
        echoed += round_trip(fd, n);
    /* Its first network goes, without warning: gone, and the kernel carries it. */
    SH("ip link del vw0");
    m = check_wait_for(ctx, match_conn, &w, 10000);
    if (CHECK(m != NULL)) {
        CHECK_EQ_INT(m->continuity, MIF_CONTINUITY_KERNEL);
        mif_message_free(m);
    }
    for (; n <= LINES; n++)
        echoed += round_trip(fd, n);
    /* Same socket, every line: the kernel carried the session over vx0. */
    CHECK_EQ_INT(echoed, LINES);
out:
    if (fd >= 0)
        close(fd);
    if (ctx != NULL)
        mif_close(ctx);
    check_far_end_stop(&far);
    /* The library removed its endpoints at close. */
    CHECK(SH("! ip mptcp endpoint show | grep -q 198.18.6.1"));
    SH("ip link del vw0 2>/dev/null; ip link del vx0 2>/dev/null; ip mptcp endpoint flush; true");
}

int main(void)
{
    check_require_private_netns();
    if (check_sh("test \"$(sysctl -n net.mptcp.enabled 2>/dev/null)\" = 1") != 1) {
        /* Not skipped silently: a kernel without MPTCP fails this test. */
        check_note("net.mptcp.enabled is not 1: this kernel has no MPTCP");
        return 1;
    }
    if (!check_make_root(root, sizeof root, NULL, NULL))
        return check_done();
    RUN_CASE(stream_survives_the_loss_of_its_first_network);
    check_remove_root(root);
    return check_done();
}
