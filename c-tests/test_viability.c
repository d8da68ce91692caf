/*
 * test_viability: connection viability and the application's intents (draft
 * 3.2.7.26.1-3, docs/connectivity.md), from C against the real kernel, in the private
 * network namespace run.sh makes.  Each case builds a veth pair vw0 (198.18.5.1/24) -
 * vw1 (198.18.5.2/24, with a TCP listener) and connects from vw0's address:
 *
 * - a socket the application made, watched: its own address deprecated -> going away
 *   with the valid lifetime as deadline, refreshed -> cancelled, removed -> gone;
 *   intents counted per interface;
 * - a Connected by connection id, watched: the peer link down -> carrier lost
 *   (deadline 0) then gone; the link deleted -> gone;
 * - Wants to connect: a no-op when every up interface has a PvD; with an up link
 *   without one, the operator's hook runs (exit status, environment), a hook that hangs
 *   is killed at its timeout, a missing or non-executable one is a named outcome, and
 *   without a hook the library solicits routers;
 * - the idle hook runs once every watched connection of an interface is idle.
 *
 * Deadlines are compared with generous bounds (precision belongs in bench/).
 */
#include "mif.h"

#include "bed.h"

#include <fcntl.h>

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif

static char root[256];

/* The far end's side of vw0 (check_far_end_start). */
#define VW1_SETUP "ip addr add 198.18.5.2/24 dev vw1 && ip link set vw1 up"

static mif_ctx *open_flags(const char *conf, uint32_t test_flags);

static mif_ctx *open_with(const char *conf)
{
    return open_flags(conf, 0);
}

static mif_ctx *open_flags(const char *conf, uint32_t test_flags)
{
    mif_options opts;
    mif_ctx *ctx = NULL;
    char path[512];
    mif_options_init(&opts);
    opts.root_dir = root;
    opts.test_flags = test_flags;
    if (conf != NULL) {
        snprintf(path, sizeof path, "%s/etc/mif.conf", root);
        if (!CHECK(check_write_file(root, "etc/mif.conf", conf)))
            return NULL;
    } else {
        snprintf(path, sizeof path, "%s/etc/mif.conf", root);
        unlink(path);
    }
    if (!CHECK_RC(mif_open(&opts, &ctx), MIF_OK))
        return NULL;
    return ctx;
}

static int make_pair(void)
{
    return SH("ip link add vw0 type veth peer name vw1 && ip addr add 198.18.5.1/24 dev vw0 && "
              "ip addr add 198.18.5.2/24 dev vw1 && ip link set vw0 up && ip link set vw1 up");
}

static void remove_pair(void)
{
    SH("ip link del vw0 2>/dev/null; ip link del vw2 2>/dev/null; true");
}

/* A TCP connection from 198.18.5.1 to the listener on 198.18.5.2; the client fd. */
static int connect_from_vw0(int listener, uint16_t port)
{
    struct sockaddr_in local = { .sin_family = AF_INET }, remote = { .sin_family = AF_INET };
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (!CHECK(fd >= 0))
        return -1;
    inet_pton(AF_INET, "198.18.5.1", &local.sin_addr);
    inet_pton(AF_INET, "198.18.5.2", &remote.sin_addr);
    remote.sin_port = htons(port);
    if (!CHECK(bind(fd, (struct sockaddr *)&local, sizeof local) == 0) ||
        !CHECK(connect(fd, (struct sockaddr *)&remote, sizeof remote) == 0)) {
        close(fd);
        return -1;
    }
    check_accept_all(listener);
    return fd;
}

static mif_result post_id(mif_ctx *ctx, mif_request_type type, uint64_t id)
{
    mif_request req;
    mif_request_init(&req, type);
    req.connection_id = id;
    return mif_post_message(ctx, &req);
}

static mif_result watch_socket(mif_ctx *ctx, uint64_t id, int fd)
{
    mif_request req;
    mif_request_init(&req, MIF_REQ_WATCH_SOCKET);
    req.connection_id = id;
    req.socket = fd;
    return mif_post_message(ctx, &req);
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

static mif_message *wait_conn(mif_ctx *ctx, mif_message_type type, uint64_t id)
{
    struct want_conn w = { type, id };
    mif_message *m = check_wait_for(ctx, match_conn, &w, 10000);
    if (m == NULL)
        check_note("no %s for connection %llu", mif_message_type_name(type), (unsigned long long)id);
    return m;
}

/* The counts of MIF_REQ_GET_CONNECTION_STATES for ifindex (0: the totals). */
static int states_of(mif_ctx *ctx, uint32_t ifindex, uint32_t *active, uint32_t *idle, uint32_t *breakable)
{
    mif_request req;
    mif_message *m = NULL;
    int found = 0;
    mif_request_init(&req, MIF_REQ_GET_CONNECTION_STATES);
    req.ifindex = ifindex;
    if (!CHECK_RC(mif_post_message(ctx, &req), MIF_OK))
        return 0;
    /* Answered before the post returns: the messages wait already. */
    while (mif_get_message(ctx, &m) == MIF_OK) {
        check_message_well_formed(m);
        if (m->msg_type == MIF_MSG_CONNECTION_STATES && m->ifindex == ifindex) {
            *active = m->active_connections;
            *idle = m->idle_connections;
            *breakable = m->breakable_connections;
            found = 1;
        }
        check_discard(m);
    }
    return CHECK(found);
}

static void watched_socket_hears_of_its_address(void)
{
    uint16_t port = 0;
    int listener, fd;
    mif_ctx *ctx;
    mif_message *m;
    uint32_t a = 9, i = 9, b = 9, vw0;
    long long before;

    if (!make_pair())
        return;
    vw0 = if_nametoindex("vw0");
    listener = check_tcp_listener("198.18.5.2", &port);
    ctx = open_with(NULL);
    if (!CHECK(listener >= 0) || ctx == NULL)
        goto out;
    check_pvd_of(ctx, "vw0", MIF_FAMILY_IPV4);
    fd = connect_from_vw0(listener, port);
    if (fd < 0)
        goto out;
    CHECK_RC(watch_socket(ctx, 7, fd), MIF_OK);
    CHECK_RC(watch_socket(ctx, 7, fd), MIF_E_DUPLICATE_ID);
    /* Counted as active on vw0; idle, then can be broken, then active again. */
    if (states_of(ctx, vw0, &a, &i, &b))
        CHECK(a == 1 && i == 0 && b == 0);
    CHECK_RC(post_id(ctx, MIF_REQ_CONNECTION_IDLE, 7), MIF_OK);
    if (states_of(ctx, 0, &a, &i, &b))
        CHECK(a == 0 && i == 1 && b == 0);
    CHECK_RC(post_id(ctx, MIF_REQ_CONNECTION_ACTIVE, 7), MIF_OK);

    /* Its own address deprecated with 30 s of valid lifetime: going away by then. */
    before = check_now_ms();
    SH("ip addr change 198.18.5.1/24 dev vw0 valid_lft 30 preferred_lft 0");
    m = wait_conn(ctx, MIF_MSG_CONNECTION_GOING_AWAY, 7);
    if (CHECK(m != NULL)) {
        CHECK_EQ_INT(m->going_away_reason, MIF_GOING_AWAY_ADDRESSES_DEPRECATED);
        CHECK(m->deadline_ms > 20000 && m->deadline_ms <= 30000 + (uint64_t)(check_now_ms() - before));
        CHECK_EQ_INT(m->ifindex, vw0);
        CHECK_EQ_STR(m->pvd_name, "vw0/ipv4");
        CHECK_EQ_INT(m->continuity, MIF_CONTINUITY_NOT_MPTCP); /* plain TCP */
        mif_message_free(m);
    }
    /* Refreshed: the warning is withdrawn. */
    SH("ip addr change 198.18.5.1/24 dev vw0 valid_lft forever preferred_lft forever");
    m = wait_conn(ctx, MIF_MSG_CONNECTION_GOING_AWAY_CANCELLED, 7);
    if (CHECK(m != NULL)) {
        CHECK_EQ_INT(m->going_away_reason, MIF_GOING_AWAY_ADDRESSES_DEPRECATED);
        mif_message_free(m);
    }
    /* Removed: gone, and the watch ended with it. */
    SH("ip addr del 198.18.5.1/24 dev vw0");
    m = wait_conn(ctx, MIF_MSG_CONNECTION_GONE, 7);
    if (CHECK(m != NULL)) {
        char text[MIF_ADDRESS_TEXT_SIZE];
        CHECK_EQ_INT(m->connection_gone_reason, MIF_CONNECTION_GONE_ADDRESS_REMOVED);
        CHECK(mif_address_format(&m->local, text, sizeof text) == MIF_OK && strcmp(text, "198.18.5.1") == 0);
        mif_message_free(m);
    }
    CHECK_RC(post_id(ctx, MIF_REQ_STOP_WATCHING_CONNECTION, 7), MIF_E_UNKNOWN_CONNECTION);
    close(fd);
out:
    if (listener >= 0)
        close(listener);
    if (ctx != NULL)
        mif_close(ctx);
    remove_pair();
}

static void watched_connected_hears_of_its_link(void)
{
    mif_ctx *ctx = NULL;
    mif_message *m = NULL;
    mif_request req;
    uint64_t pvd;
    struct check_far_end far = { -1, -1, 0 };

    if (!make_pair())
        return;
    /* vw0's far end in a namespace of its own: vw1 198.18.5.2/24, a TCP listener. */
    check_far_end_start(&far, "vw1", VW1_SETUP, "198.18.5.2", 0, 0);
    ctx = open_with(NULL);
    if (far.pid < 0 || ctx == NULL)
        goto out;
    pvd = check_pvd_of(ctx, "vw0", MIF_FAMILY_IPV4);
    /* Not yet taken: no such connection to watch. */
    CHECK_RC(post_id(ctx, MIF_REQ_WATCH_CONNECTION, 21), MIF_E_UNKNOWN_CONNECTION);
    mif_request_init(&req, MIF_REQ_CONNECT_TO_ADDRESS);
    req.pvd = pvd;
    req.connection_id = 21;
    req.remote = check_address("198.18.5.2");
    req.remote_port = far.port;
    CHECK_RC(mif_post_message(ctx, &req), MIF_OK);
    m = check_wait_want(ctx, MIF_MSG_CONNECTED, "vw0", MIF_FAMILY_IPV4, NULL, 10000);
    if (!CHECK(m != NULL))
        goto out;
    CHECK_RC(post_id(ctx, MIF_REQ_WATCH_CONNECTION, 21), MIF_OK);
    /* The far end's link down: vw0 loses its carrier. */
    SH("nsenter -t %d -n ip link set vw1 down", (int)far.pid);
    {
        mif_message *w = wait_conn(ctx, MIF_MSG_CONNECTION_GOING_AWAY, 21);
        if (CHECK(w != NULL)) {
            CHECK_EQ_INT(w->going_away_reason, MIF_GOING_AWAY_CARRIER_LOST);
            CHECK(w->deadline_ms == 0);
            mif_message_free(w);
        }
        w = wait_conn(ctx, MIF_MSG_CONNECTION_GONE, 21);
        if (CHECK(w != NULL)) {
            CHECK_EQ_INT(w->connection_gone_reason, MIF_CONNECTION_GONE_PVD_LOST);
            mif_message_free(w);
        }
    }
    /* Watched again once the carrier is back; then the link is deleted. */
    SH("nsenter -t %d -n ip link set vw1 up", (int)far.pid);
    check_pvd_of(ctx, "vw0", MIF_FAMILY_IPV4);
    CHECK_RC(post_id(ctx, MIF_REQ_WATCH_CONNECTION, 21), MIF_OK);
    SH("ip link del vw0");
    {
        mif_message *w = wait_conn(ctx, MIF_MSG_CONNECTION_GONE, 21);
        if (CHECK(w != NULL)) {
            /* Deleting a veth takes its carrier first, in the same burst or not. */
            CHECK(w->connection_gone_reason == MIF_CONNECTION_GONE_INTERFACE_REMOVED ||
                  w->connection_gone_reason == MIF_CONNECTION_GONE_PVD_LOST);
            mif_message_free(w);
        }
    }
out:
    if (m != NULL) {
        close(m->fd);
        mif_message_free(m);
    }
    if (ctx != NULL)
        mif_close(ctx);
    check_far_end_stop(&far);
    remove_pair();
}

/*
 * An MPTCP connection (the far end listens with IPPROTO_MPTCP) watched through its
 * socket: its address deprecated -> going away with continuity KERNEL while a subflow
 * endpoint exists on another network (vx0); with the endpoint table flushed, RECONNECT.
 */
static void mptcp_continuity(void)
{
    mif_ctx *ctx = NULL;
    mif_message *m;
    int fd = -1;
    struct check_far_end far = { -1, -1, 0 };
    struct sockaddr_in local = { .sin_family = AF_INET }, remote = { .sin_family = AF_INET };

    if (!make_pair() || !SH("ip link add vx0 type veth peer name vx1 && ip addr add 198.18.6.1/24 dev vx0 && "
                            "ip link set vx0 up && ip link set vx1 up"))
        goto out;
    check_far_end_start(&far, "vw1", VW1_SETUP, "198.18.5.2", IPPROTO_MPTCP, 0);
    ctx = open_with(NULL);
    if (far.pid < 0 || ctx == NULL)
        goto out;
    check_pvd_of(ctx, "vx0", MIF_FAMILY_IPV4);
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_MPTCP);
    if (!CHECK(fd >= 0))
        goto out;
    inet_pton(AF_INET, "198.18.5.1", &local.sin_addr);
    inet_pton(AF_INET, "198.18.5.2", &remote.sin_addr);
    remote.sin_port = htons(far.port);
    if (!CHECK(bind(fd, (struct sockaddr *)&local, sizeof local) == 0) ||
        !CHECK(connect(fd, (struct sockaddr *)&remote, sizeof remote) == 0))
        goto out;
    SH("ip mptcp endpoint add 198.18.6.1 dev vx0 subflow");
    CHECK_RC(watch_socket(ctx, 31, fd), MIF_OK);
    SH("ip addr change 198.18.5.1/24 dev vw0 valid_lft 60 preferred_lft 0");
    m = wait_conn(ctx, MIF_MSG_CONNECTION_GOING_AWAY, 31);
    if (CHECK(m != NULL)) {
        CHECK_EQ_INT(m->continuity, MIF_CONTINUITY_KERNEL);
        mif_message_free(m);
    }
    SH("ip addr change 198.18.5.1/24 dev vw0 valid_lft forever preferred_lft forever");
    m = wait_conn(ctx, MIF_MSG_CONNECTION_GOING_AWAY_CANCELLED, 31);
    mif_message_free(m);
    /* No endpoint elsewhere: the application must reconnect. */
    SH("ip mptcp endpoint flush");
    SH("ip addr change 198.18.5.1/24 dev vw0 valid_lft 60 preferred_lft 0");
    m = wait_conn(ctx, MIF_MSG_CONNECTION_GOING_AWAY, 31);
    if (CHECK(m != NULL)) {
        CHECK_EQ_INT(m->continuity, MIF_CONTINUITY_RECONNECT);
        mif_message_free(m);
    }
out:
    if (fd >= 0)
        close(fd);
    if (ctx != NULL)
        mif_close(ctx);
    check_far_end_stop(&far);
    SH("ip mptcp endpoint flush; true");
    remove_pair();
    SH("ip link del vx0 2>/dev/null; true");
}

/* Whether `ip mptcp endpoint show` lists `text` (an address, or "id N"), waiting
 * (10 s at most: a bound against hangs) for it to become `want`. */
static int endpoint_listed(const char *text, int want)
{
    char cmd[256];
    int i;
    snprintf(cmd, sizeof cmd, "ip mptcp endpoint show | grep -qw '%s'", text);
    for (i = 0; i < 100; i++) {
        int listed = system(cmd) == 0; /* quietly: a miss is not yet a failure */
        if (listed == want)
            return 1;
        check_sleep_ms(100);
    }
    return 0;
}

/*
 * MIF_OPTION_MANAGE_MPTCP_ENDPOINTS (root has CAP_NET_ADMIN): a subflow endpoint for
 * each usable address, removed when its PvD is going away and when the link goes; one
 * made by someone else is left alone; none of ours remains after mif_close.
 */
static void mptcp_endpoints_managed(void)
{
    mif_options opts;
    mif_ctx *ctx = NULL;

    SH("ip mptcp endpoint flush");
    if (!make_pair() || !SH("ip link add vx0 type veth peer name vx1 && ip addr add 198.18.6.1/24 dev vx0 && "
                            "ip addr add 198.18.6.9/24 dev vx0 && ip link set vx0 up && ip link set vx1 up"))
        goto out;
    /* Someone else's endpoint for one of the addresses. */
    SH("ip mptcp endpoint add 198.18.6.9 dev vx0 signal");
    mif_options_init(&opts);
    opts.root_dir = root;
    opts.flags = MIF_OPTION_MANAGE_MPTCP_ENDPOINTS;
    if (!CHECK_RC(mif_open(&opts, &ctx), MIF_OK))
        goto out;
    CHECK(endpoint_listed("198.18.5.1", 1));
    CHECK(endpoint_listed("198.18.6.1", 1));
    CHECK(endpoint_listed("198.18.5.2", 1)); /* vw1's, in this namespace too */
    /* vx0's address deprecated: its PvD still has 198.18.6.9, so only that endpoint goes. */
    SH("ip addr change 198.18.6.1/24 dev vx0 valid_lft 60 preferred_lft 0");
    CHECK(endpoint_listed("198.18.6.1", 0));
    /* The link goes: its endpoint too. */
    SH("ip link del vw0");
    CHECK(endpoint_listed("198.18.5.1", 0));
    mif_close(ctx);
    ctx = NULL;
    /* Nothing of ours left; the other endpoint untouched. */
    CHECK(endpoint_listed("198.18.6.1", 0));
    CHECK(check_sh("ip mptcp endpoint show | grep -q '198.18.6.9.*signal'"));
    CHECK(check_sh("test \"$(ip mptcp endpoint show | wc -l)\" = 1"));
out:
    if (ctx != NULL)
        mif_close(ctx);
    SH("ip mptcp endpoint flush; true");
    remove_pair();
    SH("ip link del vx0 2>/dev/null; true");
}

static int match_translation_done(const mif_message *m, const void *arg)
{
    (void)arg;
    return m->msg_type == MIF_MSG_NAME_TRANSLATION_DONE && m->translation_id == 77;
}

/*
 * (Found by bench/continuity.c.) A name in the hosts file needs no DNS configuration:
 * translated on an IPv6 PvD whose configuration is still being learned (a 60 s window,
 * no router), it is answered at once, not when the window ends. The 20 s bound only
 * tells the two apart.
 */
static void hosts_name_does_not_wait_for_learning(void)
{
    mif_options opts;
    mif_ctx *ctx = NULL;
    mif_request req;
    mif_message *m;
    uint64_t pvd;
    char hosts[300];

    snprintf(hosts, sizeof hosts, "%s/etc/hosts", root);
    if (!make_pair() || !SH("ip addr add fd6d:6966:5::1/64 dev vw0 nodad") ||
        !CHECK(check_write_file(root, "etc/hosts", "fd6d:6966:5::7 svc.example\n")))
        goto out;
    mif_options_init(&opts);
    opts.root_dir = root;
    opts.config_learning_ms = 60000;
    if (!CHECK_RC(mif_open(&opts, &ctx), MIF_OK))
        goto out;
    pvd = check_pvd_of(ctx, "vw0", MIF_FAMILY_IPV6);
    mif_request_init(&req, MIF_REQ_TRANSLATE_NAME);
    req.pvd = pvd;
    req.translation_id = 77;
    req.name = "svc.example";
    CHECK_RC(mif_post_message(ctx, &req), MIF_OK);
    m = check_wait_for(ctx, match_translation_done, NULL, 20000);
    if (CHECK(m != NULL)) {
        CHECK_EQ_INT(m->translation_status, MIF_TRANSLATION_DONE);
        mif_message_free(m);
    }
out:
    if (ctx != NULL)
        mif_close(ctx);
    unlink(hosts);
    remove_pair();
}

/* The Wants to connect outcome of a fresh context opened with `conf`. */
static mif_message *want_connect_with(const char *conf)
{
    mif_ctx *ctx = open_with(conf);
    mif_message *m = NULL;
    struct check_want w = { MIF_MSG_WANT_CONNECT_OUTCOME, NULL, 0, NULL };
    if (ctx == NULL)
        return NULL;
    if (CHECK_RC(check_post(ctx, MIF_REQ_WANT_CONNECT, 0, 0), MIF_OK))
        m = check_wait_for(ctx, check_match, &w, 20000);
    CHECK(m != NULL);
    mif_close(ctx);
    return m;
}

static int write_hook(const char *name, const char *body, mode_t mode)
{
    char path[512];
    FILE *f;
    snprintf(path, sizeof path, "%s/%s", root, name);
    f = fopen(path, "w");
    if (!CHECK(f != NULL))
        return 0;
    fprintf(f, "#!/bin/sh\n%s\n", body);
    return CHECK(fclose(f) == 0) && CHECK(chmod(path, mode) == 0);
}

static void want_connect_outcomes(void)
{
    char conf[1024], marker[512], text[256] = "";
    mif_message *m;
    FILE *f;

    if (!make_pair())
        return;
    /* Every up interface has a PvD (loopback does not count): nothing to do. */
    m = want_connect_with(NULL);
    if (m != NULL) {
        CHECK_EQ_INT(m->want_connect_outcome, MIF_WANT_CONNECT_NO_OP);
        mif_message_free(m);
    }
    /* vw2: up, its peer up, no address but IPv6 link-local: not operational. */
    if (!SH("ip link add vw2 type veth peer name vw3 && ip link set vw2 up && ip link set vw3 up"))
        goto out;
    SH("for i in $(seq 50); do ip -6 addr show dev vw2 | grep -q 'scope link' && "
       "! ip -6 addr show dev vw2 | grep -q tentative && break; sleep 0.1; done");
    /* No hook: a Router Solicitation goes out on vw2 (root may send them). */
    m = want_connect_with(NULL);
    if (m != NULL) {
        CHECK_EQ_INT(m->want_connect_outcome, MIF_WANT_CONNECT_SOLICITED);
        CHECK(m->solicitations >= 1);
        mif_message_free(m);
    }
    /* A hook: run without a shell with the interfaces in its environment; its status. */
    snprintf(marker, sizeof marker, "%s/hook-ran", root);
    snprintf(conf, sizeof conf, "want_connect_hook = %s/hook.sh\n", root);
    {
        char body[2048];
        snprintf(body, sizeof body, "echo \"$MIF_EVENT:$MIF_INTERFACES\" > %s\nexit 3", marker);
        write_hook("hook.sh", body, 0755);
    }
    m = want_connect_with(conf);
    if (m != NULL) {
        CHECK_EQ_INT(m->want_connect_outcome, MIF_WANT_CONNECT_HOOK_RAN);
        CHECK_EQ_INT(m->hook_status, 3);
        mif_message_free(m);
    }
    f = fopen(marker, "r");
    if (CHECK(f != NULL)) {
        CHECK(fgets(text, sizeof text, f) != NULL);
        fclose(f);
        CHECK(strncmp(text, "want-connect:", 13) == 0 && strstr(text, "vw2") != NULL && strstr(text, "vw0") == NULL);
        unlink(marker);
    }
    /* A hook that hangs is killed at its timeout. */
    write_hook("hang.sh", "exec sleep 6061", 0755);
    snprintf(conf, sizeof conf, "want_connect_hook = %s/hang.sh\nhook_timeout_ms = 300\n", root);
    m = want_connect_with(conf);
    if (m != NULL) {
        CHECK_EQ_INT(m->want_connect_outcome, MIF_WANT_CONNECT_HOOK_TIMED_OUT);
        mif_message_free(m);
    }
    /* Killed and reaped: no such process left ([6] keeps pgrep from finding this shell). */
    SH("! pgrep -f 'sleep [6]061' >/dev/null");
    /* Missing, and not executable: named outcomes with errno. */
    snprintf(conf, sizeof conf, "want_connect_hook = %s/missing.sh\n", root);
    m = want_connect_with(conf);
    if (m != NULL) {
        CHECK_EQ_INT(m->want_connect_outcome, MIF_WANT_CONNECT_HOOK_FAILED);
        CHECK_EQ_INT(m->error, ENOENT);
        mif_message_free(m);
    }
    write_hook("plain.sh", "exit 0", 0644);
    snprintf(conf, sizeof conf, "want_connect_hook = %s/plain.sh\n", root);
    m = want_connect_with(conf);
    if (m != NULL) {
        CHECK_EQ_INT(m->want_connect_outcome, MIF_WANT_CONNECT_HOOK_FAILED);
        CHECK_EQ_INT(m->error, EACCES);
        mif_message_free(m);
    }
out:
    remove_pair();
}

static void idle_hook_runs_when_all_are_idle(void)
{
    char conf[1024], marker[512], text[256] = "";
    uint16_t port = 0;
    int listener, fd = -1, i;
    mif_ctx *ctx;
    FILE *f = NULL;

    if (!make_pair())
        return;
    snprintf(marker, sizeof marker, "%s/idle-ran", root);
    {
        char body[2048];
        snprintf(body, sizeof body, "echo \"$MIF_EVENT:$MIF_INTERFACES\" > %s.tmp && mv %s.tmp %s", marker, marker,
                 marker);
        write_hook("idle.sh", body, 0755);
    }
    snprintf(conf, sizeof conf, "idle_hook = %s/idle.sh\n", root);
    listener = check_tcp_listener("198.18.5.2", &port);
    ctx = open_with(conf);
    if (!CHECK(listener >= 0) || ctx == NULL)
        goto out;
    check_pvd_of(ctx, "vw0", MIF_FAMILY_IPV4);
    fd = connect_from_vw0(listener, port);
    if (fd < 0)
        goto out;
    CHECK_RC(watch_socket(ctx, 5, fd), MIF_OK);
    CHECK_RC(post_id(ctx, MIF_REQ_CONNECTION_CAN_BE_BROKEN, 5), MIF_OK);
    /* The hook runs in the background: wait for its marker (10 s at most). */
    for (i = 0; i < 100 && (f = fopen(marker, "r")) == NULL; i++)
        check_sleep_ms(100);
    if (CHECK(f != NULL)) {
        CHECK(fgets(text, sizeof text, f) != NULL);
        fclose(f);
        CHECK_EQ_STR(text, "idle:vw0\n");
        unlink(marker);
    }
out:
    if (fd >= 0)
        close(fd);
    if (listener >= 0)
        close(listener);
    if (ctx != NULL)
        mif_close(ctx);
    remove_pair();
}

int main(void)
{
    check_require_private_netns();
    if (!check_make_root(root, sizeof root, NULL, NULL))
        return check_done();
    RUN_CASE(watched_socket_hears_of_its_address);
    RUN_CASE(watched_connected_hears_of_its_link);
    RUN_CASE(hosts_name_does_not_wait_for_learning);
    RUN_CASE(mptcp_continuity);
    RUN_CASE(mptcp_endpoints_managed);
    RUN_CASE(want_connect_outcomes);
    RUN_CASE(idle_hook_runs_when_all_are_idle);
    {
        char cmd[600];
        snprintf(cmd, sizeof cmd, "rm -f %s/*.sh %s/etc/mif.conf", root, root);
        SH("%s", cmd);
    }
    check_remove_root(root);
    return check_done();
}
