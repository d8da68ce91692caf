/*
 * test_follow: follow mode of Connect to Name (MIF_CONNECT_FOLLOW, our addition;
 * docs/connectivity.md) from C against the real kernel.
 *
 * Two networks, vw0 (198.18.5.1/24) and vx0 (198.18.6.1/24), lead to one far end: a
 * child process in a network namespace of its own holding vw1 (198.18.5.2), vx1
 * (198.18.6.2) and, on its lo, the service address 198.18.7.7 with a TCP listener.
 * Routes to 198.18.7.7 go through either network (vw0 first), and the hosts file names
 * it svc.example, so a race over either network reaches the same server.
 *
 * - Announced loss: the connection's address on vw0 deprecated with a few seconds of
 *   valid lifetime -> a replacement Connected for the same id over vx0, marked as such,
 *   while the old path still works (make before break).
 * - Unannounced loss: vx0 deleted -> a replacement over vw0 (refreshed meanwhile).
 * - Cancel Connect ends following: accepted once, then the id is unknown.
 */
#include "mif.h"

#include "bed.h"


#define HOSTS "198.18.7.7 svc.example\n"
/* The far end (check_far_end_start): both peers, the service address, routes back. */
#define FAR_SETUP                                                                              \
    "ip addr add 198.18.7.7/32 dev lo && ip addr add 198.18.5.2/24 dev vw1 && ip link set vw1 up && " \
    "ip addr add 198.18.6.2/24 dev vx1 && ip link set vx1 up && "                             \
    "ip route add default via 198.18.5.1 dev vw1 metric 100 && "                               \
    "ip route add default via 198.18.6.1 dev vx1 metric 200"

static char root[256];

static int match_connect_result(const mif_message *m, const void *arg)
{
    uint64_t id = *(const uint64_t *)arg;
    return (m->msg_type == MIF_MSG_CONNECTED || m->msg_type == MIF_MSG_NOT_CONNECTED) && m->connection_id == id;
}

static void follows_the_network(void)
{
    mif_ctx *ctx = NULL;
    mif_options opts;
    mif_request req;
    mif_selection sel;
    mif_message *first = NULL, *second = NULL, *third = NULL;
    uint64_t id = 77;
    struct check_far_end far = { -1, -1, 0 };
    uint16_t port = 0;

    if (!SH("ip link add vw0 type veth peer name vw1 && ip link add vx0 type veth peer name vx1 && "
            "ip addr add 198.18.5.1/24 dev vw0 && ip addr add 198.18.6.1/24 dev vx0 && "
            "ip link set vw0 up && ip link set vx0 up"))
        goto out;
    if (!check_far_end_start(&far, "vw1 vx1", FAR_SETUP, "198.18.7.7", 0, 0))
        goto out;
    port = far.port;
    SH("ip route add 198.18.7.7/32 via 198.18.5.2 dev vw0 metric 100 && "
       "ip route add 198.18.7.7/32 via 198.18.6.2 dev vx0 metric 200");

    mif_options_init(&opts);
    opts.root_dir = root;
    if (!CHECK_RC(mif_open(&opts, &ctx), MIF_OK))
        goto out;
    check_pvd_of(ctx, "vw0", MIF_FAMILY_IPV4);
    check_pvd_of(ctx, "vx0", MIF_FAMILY_IPV4);

    /* vw0 preferred, loopback left out (it is never raced unless named). */
    memset(&sel, 0, sizeof sel);
    sel.size = sizeof sel;
    sel.preference = MIF_PREFERENCE_PREFER;
    sel.ifindex = if_nametoindex("vw0");
    mif_request_init(&req, MIF_REQ_CONNECT_TO_NAME);
    req.name = "svc.example";
    req.remote_port = port;
    req.connection_id = id;
    req.selections = &sel;
    req.selection_count = 1;
    req.family_preference = MIF_FAMILY_PREFERENCE_IPV4_ONLY;
    req.connect_flags = MIF_CONNECT_FOLLOW;
    if (!CHECK_RC(mif_post_message(ctx, &req), MIF_OK))
        goto out;
    first = check_wait_for(ctx, match_connect_result, &id, 20000);
    if (!CHECK(first != NULL) || !CHECK_EQ_INT(first->msg_type, MIF_MSG_CONNECTED))
        goto out;
    CHECK_EQ_STR(first->ifname, "vw0");
    CHECK_EQ_INT(first->replacement, 0);

    /* Announced: vw0's address deprecated, valid 8 s more. The replacement comes over
     * vx0 while the old connection's address is still there. */
    SH("ip addr change 198.18.5.1/24 dev vw0 valid_lft 8 preferred_lft 0");
    second = check_wait_for(ctx, match_connect_result, &id, 20000);
    if (CHECK(second != NULL) && CHECK_EQ_INT(second->msg_type, MIF_MSG_CONNECTED)) {
        CHECK_EQ_STR(second->ifname, "vx0");
        CHECK_EQ_INT(second->replacement, 1);
        CHECK(second->fd != first->fd);
        CHECK(SH("ip -4 addr show dev vw0 | grep -q 198.18.5.1")); /* before the break */
    }
    /* vw0 refreshed; then vx0 vanishes without warning: back over vw0. */
    SH("ip addr change 198.18.5.1/24 dev vw0 valid_lft forever preferred_lft forever");
    check_pvd_of(ctx, "vw0", MIF_FAMILY_IPV4);
    SH("ip link del vx0");
    third = check_wait_for(ctx, match_connect_result, &id, 20000);
    if (CHECK(third != NULL) && CHECK_EQ_INT(third->msg_type, MIF_MSG_CONNECTED)) {
        CHECK_EQ_STR(third->ifname, "vw0");
        CHECK_EQ_INT(third->replacement, 1);
    }
    /* Cancel ends following: accepted once, then the id is unknown. */
    mif_request_init(&req, MIF_REQ_CANCEL_CONNECT);
    req.connection_id = id;
    CHECK_RC(mif_post_message(ctx, &req), MIF_OK);
    CHECK_RC(mif_post_message(ctx, &req), MIF_E_UNKNOWN_CONNECTION);
out:
    if (first != NULL) {
        check_discard(first);
    }
    if (second != NULL)
        check_discard(second);
    if (third != NULL)
        check_discard(third);
    if (ctx != NULL)
        mif_close(ctx);
    check_far_end_stop(&far);
    SH("ip link del vw0 2>/dev/null; ip link del vx0 2>/dev/null; true");
}

int main(void)
{
    check_require_private_netns();
    if (!check_make_root(root, sizeof root, HOSTS, NULL))
        return check_done();
    RUN_CASE(follows_the_network);
    check_remove_root(root);
    return check_done();
}
