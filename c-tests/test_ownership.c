/*
 * test_ownership: messages belong to the application from mif_get_message until
 * mif_message_free.  They stay valid after mif_close, are separate allocations, and
 * their text lives as long as the message.  Messages never taken are freed by
 * mif_close.  Run under valgrind (run.sh), which reports any use after free, double
 * free or leak.
 *
 * The same holds for the name translation messages and their `name` string.  A
 * Connected message's socket is the application's once the message is taken
 * (CLOEXEC, blocking, not closed by mif_message_free nor by mif_close); a Connected
 * message never taken has its socket closed by mif_close.
 *
 * Needs only `lo` (up, with 127.0.0.1 and ::1: run.sh brings it up): translations
 * use a scratch hosts file, connects a TCP listener on 127.0.0.1 inside the private
 * namespace run.sh makes.  Changes nothing in the kernel.
 */
#include "mif.h"
#include "check.h"
#include "bed.h"
#include "driver.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>

#define MAX_MSGS 64

/*
 * Opens a context with lo's interface, PvDs and addresses all announced; takes every
 * message into msgs[] (and a byte copy into copies[]); returns how many.
 */
static int take_lo_messages(mif_ctx **ctx_out, mif_message **msgs, mif_message *copies)
{
    mif_ctx *ctx = NULL;
    mif_message *m = NULL;
    uint64_t pvds[2] = { 0, 0 };
    int n = 0, npvd = 0, i;
    unsigned lo = if_nametoindex("lo");

    *ctx_out = NULL;
    if (!CHECK(lo != 0) || !CHECK_RC(mif_open(NULL, &ctx), MIF_OK))
        return 0;
    *ctx_out = ctx;
    CHECK_RC(check_post(ctx, MIF_REQ_ANNOUNCE_INTERFACES, 0, 0), MIF_OK);
    CHECK_RC(check_post(ctx, MIF_REQ_ANNOUNCE_PVDS, lo, 0), MIF_OK);
    while (n < MAX_MSGS && mif_get_message(ctx, &m) == MIF_OK) {
        check_message_well_formed(m);
        if (m->msg_type == MIF_MSG_PVD_ANNOUNCEMENT && npvd < 2)
            pvds[npvd++] = m->pvd;
        msgs[n++] = m;
    }
    CHECK_EQ_INT(npvd, 2); /* lo/ipv4 and lo/ipv6 */
    for (i = 0; i < npvd; i++)
        CHECK_RC(check_post(ctx, MIF_REQ_ANNOUNCE_ADDRESSES, 0, pvds[i]), MIF_OK);
    while (n < MAX_MSGS && mif_get_message(ctx, &m) == MIF_OK) {
        check_message_well_formed(m);
        msgs[n++] = m;
    }
    CHECK_EQ_INT(n, 5); /* interface lo, 2 PvDs, 127.0.0.1, ::1 */
    for (i = 0; i < n; i++)
        memcpy(&copies[i], msgs[i], sizeof(mif_message));
    return n;
}

static void messages_outlive_close(void)
{
    mif_ctx *ctx;
    mif_message *msgs[MAX_MSGS];
    mif_message copies[MAX_MSGS];
    int n = take_lo_messages(&ctx, msgs, copies), i;
    int seen_v4 = 0, seen_v6 = 0;

    mif_close(ctx);
    /* Read every field of every message after the close, then free them. */
    for (i = 0; i < n; i++) {
        char text[MIF_ADDRESS_TEXT_SIZE];
        CHECK(memcmp(msgs[i], &copies[i], sizeof(mif_message)) == 0);
        check_message_well_formed(msgs[i]);
        CHECK(strlen(msgs[i]->ifname) < MIF_IFNAME_SIZE);
        CHECK_EQ_STR(msgs[i]->ifname, "lo");
        if (msgs[i]->msg_type == MIF_MSG_ADDRESS_ANNOUNCEMENT) {
            if (CHECK_RC(mif_address_format(&msgs[i]->address, text, sizeof text), MIF_OK)) {
                seen_v4 |= strcmp(text, "127.0.0.1") == 0;
                seen_v6 |= strcmp(text, "::1") == 0;
            }
        }
    }
    CHECK(seen_v4 && seen_v6);
    for (i = n - 1; i >= 0; i--) /* any order */
        mif_message_free(msgs[i]);
}

static void messages_are_independent_allocations(void)
{
    mif_ctx *ctx;
    mif_message *msgs[MAX_MSGS];
    mif_message copies[MAX_MSGS];
    int n = take_lo_messages(&ctx, msgs, copies), i, j;

    for (i = 0; i < n; i++) {
        for (j = 0; j < i; j++) {
            const char *a = (const char *)msgs[i], *b = (const char *)msgs[j];
            CHECK(a + sizeof(mif_message) <= b || b + sizeof(mif_message) <= a);
        }
    }
    if (n >= 2) {
        /* The application owns the struct: scribbling on one leaves the others alone. */
        memset(msgs[0]->ifname, 'Z', sizeof msgs[0]->ifname);
        memset(msgs[0]->pvd_name, 'Z', sizeof msgs[0]->pvd_name);
        memset(&msgs[0]->address, 0x5a, sizeof msgs[0]->address);
        msgs[0]->ifindex = 0xdeadbeef;
        for (i = 1; i < n; i++)
            CHECK(memcmp(msgs[i], &copies[i], sizeof(mif_message)) == 0);
        mif_message_free(msgs[0]);
        for (i = 1; i < n; i++)
            CHECK(memcmp(msgs[i], &copies[i], sizeof(mif_message)) == 0);
    } else if (n == 1) {
        mif_message_free(msgs[0]);
    }
    /* The context keeps working while the application holds messages. */
    if (ctx != NULL) {
        mif_message *m = NULL;
        CHECK_RC(check_post(ctx, MIF_REQ_ANNOUNCE_INTERFACES, 0, 0), MIF_OK);
        if (CHECK_RC(mif_get_message(ctx, &m), MIF_OK)) {
            for (i = 1; i < n; i++)
                CHECK(m != msgs[i]);
            mif_message_free(m);
        }
    }
    for (i = 1; i < n; i++)
        mif_message_free(msgs[i]);
    mif_close(ctx);
}

static void announcements_have_no_text(void)
{
    mif_ctx *ctx;
    mif_message *msgs[MAX_MSGS];
    mif_message copies[MAX_MSGS];
    int n = take_lo_messages(&ctx, msgs, copies), i;
    for (i = 0; i < n; i++) {
        CHECK(msgs[i]->text == NULL);
        CHECK_EQ_INT(msgs[i]->status, MIF_OK);
        mif_message_free(msgs[i]);
    }
    mif_close(ctx);
}

static void engine_failed_text_outlives_close(void)
{
    mif_options opts;
    mif_ctx *ctx = NULL;
    mif_message *m = NULL;
    char copy[512];

    mif_options_init(&opts);
    opts.test_flags = MIF_TEST_PANIC_ENGINE;
    REQUIRE(CHECK_RC(mif_open(&opts, &ctx), MIF_OK));
    CHECK_RC(mif_check_message(ctx, -1), MIF_OK);
    if (!CHECK_RC(mif_get_message(ctx, &m), MIF_OK)) {
        mif_close(ctx);
        return;
    }
    CHECK_EQ_INT(m->msg_type, MIF_MSG_ENGINE_FAILED);
    if (CHECK(m->text != NULL)) {
        const char *before = m->text;
        snprintf(copy, sizeof copy, "%s", m->text);
        mif_close(ctx);
        CHECK(m->text == before);
        CHECK_EQ_STR(m->text, copy);
        CHECK(strlen(m->text) > 0);
    } else {
        mif_close(ctx);
    }
    mif_message_free(m);
}

/* Closing with messages still queued frees them (valgrind reports a leak otherwise). */
static void close_frees_untaken_messages(void)
{
    mif_ctx *ctx;
    mif_message *msgs[MAX_MSGS];
    mif_message copies[MAX_MSGS];
    mif_message *kept = NULL;
    int n = take_lo_messages(&ctx, msgs, copies), i;
    unsigned lo = if_nametoindex("lo");

    for (i = 0; i < n; i++)
        mif_message_free(msgs[i]);
    if (ctx == NULL)
        return;
    /* Queue everything again; take one, leave the rest to mif_close. */
    CHECK_RC(check_post(ctx, MIF_REQ_ANNOUNCE_INTERFACES, 0, 0), MIF_OK);
    CHECK_RC(check_post(ctx, MIF_REQ_ANNOUNCE_PVDS, lo, 0), MIF_OK);
    CHECK_RC(mif_get_message(ctx, &kept), MIF_OK);
    CHECK_RC(mif_check_message(ctx, 0), MIF_OK);
    mif_close(ctx);
    check_message_well_formed(kept);
    mif_message_free(kept);
}

/* A configuration data answer (with whatever lists it has) outlives the close too. */
static void configuration_data_outlives_close(void)
{
    mif_ctx *ctx;
    mif_message *msgs[MAX_MSGS];
    mif_message copies[MAX_MSGS];
    mif_message *answer = NULL, copy;
    mif_request req;
    uint64_t pvd = 0;
    int n = take_lo_messages(&ctx, msgs, copies), i;

    for (i = 0; i < n; i++) {
        if (msgs[i]->msg_type == MIF_MSG_PVD_ANNOUNCEMENT && pvd == 0)
            pvd = msgs[i]->pvd;
        mif_message_free(msgs[i]);
    }
    if (ctx == NULL || !CHECK(pvd != 0)) {
        mif_close(ctx);
        return;
    }
    mif_request_init(&req, MIF_REQ_GET_CONFIGURATION_DATA);
    req.pvd = pvd;
    req.element_type = MIF_ELEMENT_ANY;
    req.info_id = MIF_INFO_ALL;
    CHECK_RC(mif_post_message(ctx, &req), MIF_OK);
    /* The answer is queued before the post returns. */
    if (!CHECK_RC(mif_get_message(ctx, &answer), MIF_OK)) {
        mif_close(ctx);
        return;
    }
    memcpy(&copy, answer, sizeof copy);
    mif_close(ctx);
    CHECK(memcmp(&copy, answer, sizeof copy) == 0);
    CHECK(answer->msg_type == MIF_MSG_CONFIGURATION_DATA || answer->msg_type == MIF_MSG_NO_CONFIGURATION_DATA);
    CHECK_EQ_INT(answer->pvd, pvd);
    check_message_well_formed(answer); /* reads every list entry */
    mif_message_free(answer);
}

struct freer {
    mif_message **msgs;
    int n;
};

static void *free_all(void *arg)
{
    struct freer *f = (struct freer *)arg;
    int i;
    for (i = 0; i < f->n; i++) {
        check_message_well_formed(f->msgs[i]);
        mif_message_free(f->msgs[i]);
    }
    return NULL;
}

static void free_on_another_thread(void)
{
    mif_ctx *ctx;
    mif_message *msgs[MAX_MSGS];
    mif_message copies[MAX_MSGS];
    int n = take_lo_messages(&ctx, msgs, copies);
    struct freer f = { msgs, n };
    pthread_t t;
    if (CHECK(pthread_create(&t, NULL, free_all, &f) == 0))
        pthread_join(t, NULL);
    else
        free_all(&f);
    mif_close(ctx);
}

/* ---- name translation messages ------------------------------------------------ */

/* Messages of the translations whose ids are in the 0-terminated array `arg`. */
static int match_tids(const mif_message *m, const void *arg)
{
    const uint64_t *ids = (const uint64_t *)arg;
    if (m->msg_type != MIF_MSG_NAME_TRANSLATION && m->msg_type != MIF_MSG_NAME_TRANSLATION_DONE)
        return 0;
    for (; *ids != 0; ids++)
        if (m->translation_id == *ids)
            return 1;
    return 0;
}

/* Opens a context on a scratch root whose etc/hosts names host-a.example. */
static mif_ctx *open_with_hosts(char *root, size_t len)
{
    mif_options opts;
    mif_ctx *ctx = NULL;
    root[0] = '\0';
    if (!CHECK(check_make_root(root, len, "198.51.100.5 host-a.example\nfd6d:6966:a::5 host-a.example\n", NULL)))
        return NULL;
    mif_options_init(&opts);
    opts.root_dir = root;
    if (!CHECK_RC(mif_open(&opts, &ctx), MIF_OK))
        return NULL;
    return ctx;
}

/*
 * A translation from the hosts file: its Name Translation messages and the final
 * Done, each with its own `name` string, outlive mif_close until freed.  A second
 * translation (no DNS server on lo) ends with a Done of status no_servers.
 */
static void translation_messages_outlive_close(void)
{
    char root[256];
    mif_ctx *ctx = open_with_hosts(root, sizeof root);
    mif_message *got[8];
    mif_message copies[8];
    char names[8][300];
    int n = 0, i, seen4 = 0, seen6 = 0, done1 = -1, done2 = -1;
    uint64_t pvd, id = 77, id2 = 78;
    const uint64_t ids[] = { 77, 78, 0 };
    char requested[] = "host-a.example";

    if (ctx == NULL)
        goto out;
    pvd = check_pvd_of(ctx, "lo", MIF_FAMILY_IPV4);
    if (!CHECK(pvd != 0))
        goto out;
    CHECK_RC(post_translate(ctx, pvd, id, requested), MIF_OK);
    memset(requested, 'X', sizeof requested - 1); /* the name was copied during the call */
    CHECK_RC(post_translate(ctx, pvd, id2, "nothing-here.example"), MIF_OK);
    /* Take every message of both translations, up to both Done messages. */
    while (n < 8 && (done1 < 0 || done2 < 0)) {
        mif_message *m = check_wait_for(ctx, match_tids, ids, 10000);
        if (!CHECK(m != NULL))
            break;
        if (m->msg_type == MIF_MSG_NAME_TRANSLATION_DONE) {
            int *done = m->translation_id == id ? &done1 : &done2;
            CHECK(*done < 0); /* one Done per translation */
            *done = n;
        }
        got[n++] = m;
    }
    CHECK(done1 >= 0 && done2 >= 0);
    for (i = 0; i < n; i++) {
        memcpy(&copies[i], got[i], sizeof copies[i]);
        snprintf(names[i], sizeof names[i], "%s", got[i]->name ? got[i]->name : "(null)");
    }
    mif_close(ctx);
    ctx = NULL;
    /* After the close: every field and every string still readable, unchanged. */
    REQUIRE(CHECK(n >= 3));
    for (i = 0; i < n; i++) {
        mif_message *m = got[i];
        char text[MIF_ADDRESS_TEXT_SIZE];
        CHECK(memcmp(m, &copies[i], sizeof copies[i]) == 0);
        check_message_well_formed(m);
        CHECK_EQ_STR(m->name, names[i]);
        CHECK_EQ_INT(m->pvd, pvd);
        if (m->translation_id == id) {
            CHECK_EQ_STR(m->name, "host-a.example");
            if (m->msg_type == MIF_MSG_NAME_TRANSLATION) {
                CHECK(i < done1); /* before its Done */
                CHECK_EQ_INT(m->name_source, MIF_NAME_SOURCE_HOSTS);
                CHECK_EQ_INT(m->ttl, 0);
                if (CHECK_RC(mif_address_format(&m->address, text, sizeof text), MIF_OK)) {
                    seen4 |= strcmp(text, "198.51.100.5") == 0;
                    seen6 |= strcmp(text, "fd6d:6966:a::5") == 0;
                }
            } else {
                CHECK_EQ_INT(m->translation_status, MIF_TRANSLATION_DONE);
            }
        } else {
            /* No address, so the Done alone. */
            CHECK_EQ_INT(m->translation_id, id2);
            CHECK_EQ_INT(m->msg_type, MIF_MSG_NAME_TRANSLATION_DONE);
            CHECK_EQ_INT(m->translation_status, MIF_TRANSLATION_NO_SERVERS);
            CHECK_EQ_STR(m->name, "nothing-here.example");
        }
    }
    CHECK(seen4);
    if (!seen6)
        check_note("the hosts file's IPv6 address was not given on lo/ipv4 (allowed)");
    /* Each message owns its own string. */
    for (i = 1; i < n; i++)
        CHECK(got[i]->name != got[i - 1]->name);
    for (i = 0; i < n; i++)
        mif_message_free(got[i]);
out:
    mif_close(ctx);
    if (root[0] != '\0')
        check_remove_root(root);
}

/* A translation's messages left in the queue are freed by mif_close (valgrind: no leak). */
static void close_frees_untaken_translation_messages(void)
{
    char root[256];
    mif_ctx *ctx = open_with_hosts(root, sizeof root);
    uint64_t pvd;
    if (ctx == NULL)
        goto out;
    pvd = check_pvd_of(ctx, "lo", MIF_FAMILY_IPV4);
    if (CHECK(pvd != 0)) {
        CHECK_RC(post_translate(ctx, pvd, 1, "host-a.example"), MIF_OK);
        CHECK_RC(post_translate(ctx, pvd, 2, "nothing-here.example"), MIF_OK);
        CHECK_RC(mif_check_message(ctx, 10000), MIF_OK);
    }
out:
    mif_close(ctx);
    if (root[0] != '\0')
        check_remove_root(root);
}

/* ---- connections ------------------------------------------------------------------ */

static int match_cid(const mif_message *m, const void *arg)
{
    return (m->msg_type == MIF_MSG_CONNECTED || m->msg_type == MIF_MSG_NOT_CONNECTED) &&
           m->connection_id == *(const uint64_t *)arg;
}

static mif_result connect_lo(mif_ctx *ctx, uint64_t pvd, uint64_t id, uint16_t port)
{
    mif_request req;
    mif_request_init(&req, MIF_REQ_CONNECT_TO_ADDRESS);
    req.pvd = pvd;
    req.connection_id = id;
    req.remote = check_address("127.0.0.1");
    req.remote_port = port;
    return mif_post_message(ctx, &req);
}

/* Waits (10 s at most) for a connection on the listener; -1 if none. */
static int accept_one(int listener)
{
    struct pollfd p = { listener, POLLIN, 0 };
    if (!CHECK(poll(&p, 1, 10000) == 1))
        return -1;
    return accept4(listener, NULL, NULL, SOCK_CLOEXEC);
}

/* Waits (10 s at most) until `fd` reads end-of-file (the other end closed). */
static int sees_eof(int fd)
{
    struct pollfd p = { fd, POLLIN, 0 };
    char c;
    if (poll(&p, 1, 10000) != 1)
        return 0;
    return read(fd, &c, 1) == 0;
}

/*
 * MIF_MSG_CONNECTED: the fd is a connected, CLOEXEC, blocking socket matching the
 * message's addresses; it stays open after mif_message_free and after mif_close, and
 * the application closes it.
 */
static void connected_fd_belongs_to_the_application(void)
{
    uint16_t port = 0;
    int listener = check_tcp_listener("127.0.0.1", &port), peer = -1, fd = -1;
    mif_ctx *ctx = NULL;
    mif_message *m = NULL;
    uint64_t pvd, id = 4242;

    REQUIRE(listener >= 0);
    if (!CHECK_RC(mif_open(NULL, &ctx), MIF_OK))
        goto out;
    pvd = check_pvd_of(ctx, "lo", MIF_FAMILY_IPV4);
    if (!CHECK(pvd != 0) || !CHECK_RC(connect_lo(ctx, pvd, id, port), MIF_OK))
        goto out;
    m = check_wait_for(ctx, match_cid, &id, 10000);
    if (!CHECK(m != NULL))
        goto out;
    check_message_well_formed(m);
    if (!CHECK_EQ_INT(m->msg_type, MIF_MSG_CONNECTED)) {
        check_note("connect to 127.0.0.1:%u failed: error %d, %s", port, m->error, m->text ? m->text : "");
        goto out;
    }
    fd = m->fd;
    CHECK_EQ_INT(m->pvd, pvd);
    CHECK_EQ_STR(m->ifname, "lo");
    CHECK_EQ_INT(m->remote_port, port);
    {
        char text[MIF_ADDRESS_TEXT_SIZE];
        struct sockaddr_in local, remote;
        socklen_t len = sizeof local;
        int fdflags = fcntl(fd, F_GETFD), flflags = fcntl(fd, F_GETFL), type = 0;
        socklen_t tlen = sizeof type;
        CHECK(fdflags >= 0 && (fdflags & FD_CLOEXEC));
        CHECK(flflags >= 0 && !(flflags & O_NONBLOCK));
        CHECK(getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) == 0 && type == SOCK_STREAM);
        if (CHECK_RC(mif_address_format(&m->remote, text, sizeof text), MIF_OK))
            CHECK_EQ_STR(text, "127.0.0.1");
        if (CHECK(getsockname(fd, (struct sockaddr *)&local, &len) == 0)) {
            CHECK_EQ_INT(ntohs(local.sin_port), m->local_port);
            CHECK(memcmp(&local.sin_addr, m->local.bytes, 4) == 0);
        }
        len = sizeof remote;
        if (CHECK(getpeername(fd, (struct sockaddr *)&remote, &len) == 0)) {
            CHECK_EQ_INT(ntohs(remote.sin_port), port);
            CHECK(memcmp(&remote.sin_addr, m->remote.bytes, 4) == 0);
        }
    }
    peer = accept_one(listener);
    CHECK(peer >= 0);
    mif_message_free(m);
    m = NULL;
    CHECK(fcntl(fd, F_GETFD) >= 0); /* mif_message_free did not close it */
    mif_close(ctx);
    ctx = NULL;
    CHECK(fcntl(fd, F_GETFD) >= 0); /* neither did mif_close */
    /* It works as a plain blocking socket. */
    if (peer >= 0) {
        char buf[8] = "";
        CHECK(write(fd, "ping", 4) == 4);
        CHECK(read(peer, buf, sizeof buf) == 4 && memcmp(buf, "ping", 4) == 0);
        CHECK(write(peer, "pong", 4) == 4);
        CHECK(read(fd, buf, sizeof buf) == 4 && memcmp(buf, "pong", 4) == 0);
    }
out:
    if (m != NULL)
        check_discard(m);
    else if (fd >= 0)
        close(fd);
    if (peer >= 0)
        close(peer);
    mif_close(ctx);
    close(listener);
}

/*
 * A context closed while a Connected message is still queued closes that message's
 * socket: /proc/self/fd afterwards is what it was before mif_open, and the peer sees
 * the connection closed.
 */
static void close_with_connected_queued_closes_its_fd(void)
{
    uint16_t port = 0;
    int listener = check_tcp_listener("127.0.0.1", &port), peer = -1;
    struct check_fdset before, after;
    mif_ctx *ctx = NULL;
    uint64_t pvd;

    REQUIRE(listener >= 0);
    if (!check_fds(&before))
        goto out;
    if (!CHECK_RC(mif_open(NULL, &ctx), MIF_OK))
        goto out;
    pvd = check_pvd_of(ctx, "lo", MIF_FAMILY_IPV4);
    if (!CHECK(pvd != 0) || !CHECK_RC(connect_lo(ctx, pvd, 1, port), MIF_OK))
        goto out;
    /* The connection is made (the listener has it) and its message is queued... */
    peer = accept_one(listener);
    CHECK(peer >= 0);
    CHECK_RC(mif_check_message(ctx, 10000), MIF_OK);
    /* ...and never taken. */
    mif_close(ctx);
    ctx = NULL;
    if (peer >= 0) {
        CHECK(sees_eof(peer)); /* the library closed its end */
        close(peer);
        peer = -1;
    }
    if (check_fds(&after))
        check_fds_equal(&before, &after);
out:
    if (peer >= 0)
        close(peer);
    mif_close(ctx);
    close(listener);
}

int main(void)
{
    check_watchdog(120);
    RUN_CASE(messages_outlive_close);
    RUN_CASE(messages_are_independent_allocations);
    RUN_CASE(announcements_have_no_text);
    RUN_CASE(engine_failed_text_outlives_close);
    RUN_CASE(close_frees_untaken_messages);
    RUN_CASE(configuration_data_outlives_close);
    RUN_CASE(free_on_another_thread);
    RUN_CASE(translation_messages_outlive_close);
    RUN_CASE(close_frees_untaken_translation_messages);
    RUN_CASE(connected_fd_belongs_to_the_application);
    RUN_CASE(close_with_connected_queued_closes_its_fd);
    return check_done();
}
