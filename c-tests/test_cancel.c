/*
 * test_cancel: Stop Translating Name and Cancel Connect.
 *
 * - After MIF_REQ_STOP_TRANSLATING_NAME returns MIF_OK, the next message of that id is
 *   its Name Translation Done with MIF_TRANSLATION_CANCELLED (queued before the call
 *   returned; waiting Name Translation messages withdrawn) and nothing else follows
 *   for it; the id is free again.
 * - After MIF_REQ_CANCEL_CONNECT returns MIF_OK, the next message of that id is a Not
 *   Connected with error ECANCELED and nothing else follows (no Connected: a socket the
 *   library had already made is closed by it); the id is free again.
 * - A stop/cancel never races a completion: while the result waits untaken it is
 *   withdrawn and the cancellation takes its place (MIF_OK); "unknown id" only once
 *   the final message was taken.  Loops of translate+stop and connect+cancel check the
 *   exact message sequence of every id (the "unknown id" branch stays checked for the
 *   case a result was taken meanwhile, which these loops do not do).
 *
 * "Nothing follows" is checked with a marker request posted afterwards: the engine
 * handles requests in order, so once the marker's result is in, a late message of a
 * cancelled request could only be a bug.
 *
 * Uses, inside the private namespace run.sh makes: lo (127.0.0.1, a TCP listener), a
 * scratch hosts file, and the blackhole bed of bed.h (veth mt0 whose DNS server and
 * destination 198.51.100.77 never answer, so requests stay outstanding).
 */
#include <poll.h>
#include <sys/time.h>

#include "mif.h"
#include "check.h"
#include "bed.h"
#include "driver.h"

static char root[256];   /* scratch root: etc/hosts, and etc/mif.conf for mt0 */
static int bed_ok;

#define HOSTS_NAMES 8

static mif_ctx *open_ctx(void)
{
    mif_options opts;
    mif_ctx *ctx = NULL;
    if (!CHECK(bed_ok))
        return NULL;
    mif_options_init(&opts);
    opts.root_dir = root;
    opts.dns_timeout_ms = 600000;      /* the blackholed server never answers */
    opts.dns_tries = 1;
    opts.connect_timeout_ms = 600000;
    if (!CHECK_RC(mif_open(&opts, &ctx), MIF_OK))
        return NULL;
    return ctx;
}

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

static mif_result cancel_connect(mif_ctx *ctx, uint64_t id)
{
    mif_request req;
    mif_request_init(&req, MIF_REQ_CANCEL_CONNECT);
    req.connection_id = id;
    return mif_post_message(ctx, &req);
}

static int is_translation(const mif_message *m)
{
    return m->msg_type == MIF_MSG_NAME_TRANSLATION || m->msg_type == MIF_MSG_NAME_TRANSLATION_DONE;
}

static int is_connection(const mif_message *m)
{
    return m->msg_type == MIF_MSG_CONNECTED || m->msg_type == MIF_MSG_NOT_CONNECTED;
}

static int match_any_translation(const mif_message *m, const void *arg)
{
    (void)arg;
    return is_translation(m);
}

static int match_any_connection(const mif_message *m, const void *arg)
{
    (void)arg;
    return is_connection(m);
}

static int match_done_of(const mif_message *m, const void *arg)
{
    return m->msg_type == MIF_MSG_NAME_TRANSLATION_DONE && m->translation_id == *(const uint64_t *)arg;
}

static int match_connection_of(const mif_message *m, const void *arg)
{
    return is_connection(m) && m->connection_id == *(const uint64_t *)arg;
}

/* Takes the next message now (it must already be queued). */
static mif_message *next_now(mif_ctx *ctx)
{
    mif_message *m = NULL;
    if (!CHECK_RC(mif_get_message(ctx, &m), MIF_OK))
        return NULL;
    check_message_well_formed(m);
    return m;
}

/*
 * Waits for the marker's final message (match), checking that every message before
 * it is unexpected-free: none may belong to `bad_tid` (translations) or `bad_cid`
 * (connections); 0 = none to watch.
 */
static void wait_marker(mif_ctx *ctx, int (*match)(const mif_message *, const void *), uint64_t marker,
                        int watch_tid, uint64_t bad_tid, int watch_cid, uint64_t bad_cid)
{
    long long deadline = check_now_ms() + 10000;
    for (;;) {
        mif_message *m = NULL;
        if (mif_get_message(ctx, &m) != MIF_OK) {
            long long left = deadline - check_now_ms();
            if (!CHECK(left > 0)) {
                check_note("the marker's result did not come");
                return;
            }
            mif_check_message(ctx, (int)left);
            continue;
        }
        check_message_well_formed(m);
        if (watch_tid && is_translation(m) && !CHECK(m->translation_id != bad_tid))
            check_note("a message of stopped translation %llu followed its cancelled completion",
                       (unsigned long long)bad_tid);
        if (watch_cid && is_connection(m) && !CHECK(m->connection_id != bad_cid))
            check_note("a message of cancelled connection %llu followed its Not Connected",
                       (unsigned long long)bad_cid);
        if (match(m, &marker)) {
            check_discard(m);
            return;
        }
        check_discard(m);
    }
}

/* ---- translations ------------------------------------------------------------------- */

/* An outstanding DNS translation (blackholed server) stopped; the id reused twice. */
static void stop_outstanding_translation(void)
{
    mif_ctx *ctx = open_ctx();
    uint64_t mt, round;
    mif_message *m;
    REQUIRE(ctx != NULL);
    mt = check_pvd_of(ctx, CHECK_BED_IF, MIF_FAMILY_IPV4);
    if (!CHECK(mt != 0) || !check_wait_dns_element(ctx, mt))
        goto out;
    for (round = 0; round < 3; round++) {
        /* The id is free again after each stop. */
        if (!CHECK_RC(post_translate(ctx, mt, 1, "slow.example"), MIF_OK))
            break;
        CHECK_RC(mif_check_message(ctx, 0), MIF_NO_MESSAGE); /* outstanding, nothing yet */
        if (!CHECK_RC(post_stop_translating(ctx, 1), MIF_OK))
            break;
        /* Queued before the stop returned: */
        m = next_now(ctx);
        if (CHECK(m != NULL)) {
            CHECK_EQ_INT(m->msg_type, MIF_MSG_NAME_TRANSLATION_DONE);
            CHECK_EQ_INT(m->translation_id, 1);
            CHECK_EQ_INT(m->translation_status, MIF_TRANSLATION_CANCELLED);
            CHECK_EQ_INT(m->pvd, mt);
            CHECK_EQ_STR(m->name, "slow.example");
            mif_message_free(m);
        }
        CHECK_RC(mif_check_message(ctx, 0), MIF_NO_MESSAGE);
        CHECK_RC(post_stop_translating(ctx, 1), MIF_E_UNKNOWN_TRANSLATION); /* stopped once */
        /* Nothing follows: a marker answered from the hosts file comes first. */
        CHECK_RC(post_translate(ctx, mt, 2, "h0.example"), MIF_OK);
        wait_marker(ctx, match_done_of, 2, 1, 1, 0, 0);
        CHECK_RC(mif_check_message(ctx, 0), MIF_NO_MESSAGE);
    }
out:
    mif_close(ctx); /* no late message of id 1 is leaked either (valgrind) */
}

/* What one iteration of the race loop saw. */
struct attempt {
    uint64_t id;
    int host;          /* translations: index of the hosts name */
    mif_result rc;     /* of the stop / cancel */
};

#define TRANSLATE_ROUNDS 300
#define TRANSLATE_IDS 3

/*
 * Translations answered from the hosts file, each stopped at once, racing the
 * engine; ids reused.  Per id, the messages must be, in order, for each attempt:
 * stopped (MIF_OK) -> exactly its cancelled Done; too late (unknown translation) ->
 * its Name Translation message(s), then its Done with status done.
 */
static void stop_races_completion(void)
{
    static struct attempt att[TRANSLATE_ROUNDS];
    mif_ctx *ctx = open_ctx();
    uint64_t lo4;
    int i, stopped = 0, late = 0;
    int cursor[TRANSLATE_IDS] = { 0 };   /* per id: the next attempt expected */
    int addresses_seen = 0;              /* of the attempt at the cursor */
    REQUIRE(ctx != NULL);
    lo4 = check_pvd_of(ctx, "lo", MIF_FAMILY_IPV4);
    if (!CHECK(lo4 != 0))
        goto out;

    for (i = 0; i < TRANSLATE_ROUNDS; i++) {
        char name[32];
        att[i].id = 1 + (uint64_t)(i % TRANSLATE_IDS);
        att[i].host = i % HOSTS_NAMES;
        snprintf(name, sizeof name, "h%d.example", att[i].host);
        if (!CHECK_RC(post_translate(ctx, lo4, att[i].id, name), MIF_OK)) {
            att[i].rc = -1;
            continue;
        }
        /* Vary the head start (0 to 400 us) so both outcomes occur; either is checked. */
        if (i % 5 != 0)
            usleep((useconds_t)(i % 5) * 100);
        att[i].rc = post_stop_translating(ctx, att[i].id);
        if (att[i].rc == MIF_OK)
            stopped++;
        else if (CHECK_RC(att[i].rc, MIF_E_UNKNOWN_TRANSLATION))
            late++;
    }
    check_note("%d stopped in time, %d already complete", stopped, late);
    /* Marker: once its Done is in, the engine has handled every request above. */
    CHECK_RC(post_translate(ctx, lo4, 1000, "h0.example"), MIF_OK);

    /* Walk the queue, matching each message against its id's next expected attempt. */
    for (;;) {
        mif_message *m = check_wait_for(ctx, match_any_translation, NULL, 10000);
        int k, host, idx;
        if (!CHECK(m != NULL))
            break;
        if (m->translation_id == 1000) {
            if (m->msg_type == MIF_MSG_NAME_TRANSLATION_DONE) {
                mif_message_free(m);
                break;
            }
            mif_message_free(m);
            continue;
        }
        if (!CHECK(m->translation_id >= 1 && m->translation_id <= TRANSLATE_IDS)) {
            mif_message_free(m);
            continue;
        }
        k = (int)m->translation_id - 1;
        /* Skip attempts whose post failed. */
        while (cursor[k] * TRANSLATE_IDS + k < TRANSLATE_ROUNDS && att[cursor[k] * TRANSLATE_IDS + k].rc == -1)
            cursor[k]++;
        idx = cursor[k] * TRANSLATE_IDS + k;
        if (!CHECK(idx < TRANSLATE_ROUNDS)) {
            check_note("a message for id %d after all its attempts", k + 1);
            mif_message_free(m);
            continue;
        }
        if (sscanf(m->name ? m->name : "", "h%d.example", &host) != 1)
            host = -1;
        if (!CHECK_EQ_INT(host, att[idx].host))
            check_note("attempt %d (id %d): a message for name %s", idx, k + 1, m->name ? m->name : "(null)");
        if (att[idx].rc == MIF_OK) {
            /* Stopped: its cancelled Done alone. */
            if (!CHECK_EQ_INT(m->msg_type, MIF_MSG_NAME_TRANSLATION_DONE) ||
                !CHECK_EQ_INT(m->translation_status, MIF_TRANSLATION_CANCELLED))
                check_note("attempt %d (id %d) was stopped, yet got %s status %s", idx, k + 1,
                           mif_message_type_name(m->msg_type), mif_translation_status_name(m->translation_status));
            if (m->msg_type == MIF_MSG_NAME_TRANSLATION_DONE) {
                cursor[k]++;
                addresses_seen = 0;
            }
        } else {
            /* Complete before the stop: address(es), then Done with status done. */
            if (m->msg_type == MIF_MSG_NAME_TRANSLATION) {
                char text[MIF_ADDRESS_TEXT_SIZE], want[MIF_ADDRESS_TEXT_SIZE];
                snprintf(want, sizeof want, "198.51.100.%d", 10 + att[idx].host);
                CHECK_EQ_INT(m->name_source, MIF_NAME_SOURCE_HOSTS);
                if (CHECK_RC(mif_address_format(&m->address, text, sizeof text), MIF_OK))
                    CHECK_EQ_STR(text, want);
                addresses_seen++;
            } else {
                CHECK_EQ_INT(m->translation_status, MIF_TRANSLATION_DONE);
                if (!CHECK(addresses_seen >= 1))
                    check_note("attempt %d (id %d): done without its address", idx, k + 1);
                cursor[k]++;
                addresses_seen = 0;
            }
        }
        mif_message_free(m);
    }
    /* Every attempt was accounted for, and nothing more is queued. */
    for (i = 0; i < TRANSLATE_IDS; i++) {
        while (cursor[i] * TRANSLATE_IDS + i < TRANSLATE_ROUNDS && att[cursor[i] * TRANSLATE_IDS + i].rc == -1)
            cursor[i]++;
        if (!CHECK(cursor[i] * TRANSLATE_IDS + i >= TRANSLATE_ROUNDS))
            check_note("id %d: attempt %d got no (complete) messages", i + 1, cursor[i] * TRANSLATE_IDS + i);
    }
    CHECK_EQ_INT(check_drain(ctx), 0);
out:
    mif_close(ctx);
}

/* ---- connections -------------------------------------------------------------------- */

/* An outstanding connect (blackholed destination) cancelled; the id reused. */
static void cancel_outstanding_connect(void)
{
    uint16_t port = 0;
    int listener = check_tcp_listener("127.0.0.1", &port);
    mif_ctx *ctx = NULL;
    uint64_t mt, lo4, round;
    mif_message *m;
    REQUIRE(listener >= 0);
    ctx = open_ctx();
    if (ctx == NULL)
        goto out;
    mt = check_pvd_of(ctx, CHECK_BED_IF, MIF_FAMILY_IPV4);
    lo4 = check_pvd_of(ctx, "lo", MIF_FAMILY_IPV4);
    if (!CHECK(mt != 0) || !CHECK(lo4 != 0))
        goto out;
    for (round = 0; round < 3; round++) {
        if (!CHECK_RC(connect_to(ctx, mt, 1, CHECK_BLACKHOLE, 80), MIF_OK))
            break;
        CHECK_RC(mif_check_message(ctx, 0), MIF_NO_MESSAGE); /* outstanding */
        check_sleep_ms(5); /* so the failure comes at least 5 ms after the request */
        if (!CHECK_RC(cancel_connect(ctx, 1), MIF_OK))
            break;
        m = next_now(ctx);
        if (CHECK(m != NULL)) {
            CHECK_EQ_INT(m->msg_type, MIF_MSG_NOT_CONNECTED);
            CHECK_EQ_INT(m->connection_id, 1);
            CHECK_EQ_INT(m->error, ECANCELED);
            CHECK_EQ_INT(m->fd, -1);
            CHECK_EQ_INT(m->pvd, mt);
            CHECK(m->text != NULL);
            {
                char text[MIF_ADDRESS_TEXT_SIZE];
                if (CHECK_RC(mif_address_format(&m->remote, text, sizeof text), MIF_OK))
                    CHECK_EQ_STR(text, CHECK_BLACKHOLE);
                CHECK_EQ_INT(m->remote_port, 80);
            }
            /* mif.h: elapsed_us is the time "from the request ... to the failure". */
            if (!CHECK(m->elapsed_us >= 5000))
                check_note("elapsed_us %llu, though the cancel came >= 5 ms after the request",
                           (unsigned long long)m->elapsed_us);
            check_discard(m);
        }
        CHECK_RC(mif_check_message(ctx, 0), MIF_NO_MESSAGE);
        CHECK_RC(cancel_connect(ctx, 1), MIF_E_UNKNOWN_CONNECTION); /* cancelled once */
        /* Nothing follows: a marker connect on lo completes first. */
        CHECK_RC(connect_to(ctx, lo4, 2, "127.0.0.1", port), MIF_OK);
        wait_marker(ctx, match_connection_of, 2, 0, 0, 1, 1);
        check_accept_all(listener);
        CHECK_RC(mif_check_message(ctx, 0), MIF_NO_MESSAGE);
    }
out:
    mif_close(ctx);
    close(listener);
}

/*
 * A connect whose Connected message is queued but not taken, then cancelled (mif.h,
 * MIF_REQ_CANCEL_CONNECT): the cancel is accepted, the Connected is withdrawn and its
 * socket closed by the library (the peer reads end of stream), a Not Connected
 * ECANCELED takes its place; a second cancel before that is taken is accepted too and
 * still one message comes; once it is taken, a cancel is MIF_E_UNKNOWN_CONNECTION; the
 * id is free for a new connect.
 */
static void cancel_after_connected_is_queued(void)
{
    uint16_t port = 0;
    int listener = check_tcp_listener("127.0.0.1", &port), peer = -1;
    mif_ctx *ctx = NULL;
    uint64_t lo4;
    mif_result rc;
    mif_message *m;
    struct pollfd p;
    char c;
    REQUIRE(listener >= 0);
    ctx = open_ctx();
    if (ctx == NULL)
        goto out;
    lo4 = check_pvd_of(ctx, "lo", MIF_FAMILY_IPV4);
    if (!CHECK(lo4 != 0) || !CHECK_RC(connect_to(ctx, lo4, 3, "127.0.0.1", port), MIF_OK))
        goto out;
    p.fd = listener;
    p.events = POLLIN;
    if (!CHECK(poll(&p, 1, 10000) == 1))
        goto out;
    peer = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
    CHECK(peer >= 0);
    CHECK_RC(mif_check_message(ctx, 10000), MIF_OK); /* its Connected is queued */
    rc = cancel_connect(ctx, 3);
    CHECK_RC(rc, MIF_OK);
    CHECK_RC(cancel_connect(ctx, 3), MIF_OK); /* again, before its result is taken */
    m = next_now(ctx);
    if (m == NULL)
        goto out;
    CHECK_EQ_INT(m->connection_id, 3);
    if (CHECK_EQ_INT(m->msg_type, MIF_MSG_NOT_CONNECTED))
        CHECK_EQ_INT(m->error, ECANCELED);
    check_discard(m);
    CHECK_RC(mif_check_message(ctx, 0), MIF_NO_MESSAGE);
    CHECK_RC(cancel_connect(ctx, 3), MIF_E_UNKNOWN_CONNECTION); /* taken: nothing to cancel */
    /* The withdrawn Connected's socket was closed by the library: end of stream. */
    CHECK(peer >= 0 && read(peer, &c, 1) == 0);
    /* The id is free again: a new connect with it is accepted and completes. */
    {
        uint64_t id = 3;
        CHECK_RC(connect_to(ctx, lo4, 3, "127.0.0.1", port), MIF_OK);
        m = check_wait_for(ctx, match_connection_of, &id, 10000);
        if (CHECK(m != NULL)) {
            CHECK_EQ_INT(m->msg_type, MIF_MSG_CONNECTED);
            check_discard(m);
        }
    }
out:
    if (peer >= 0)
        close(peer);
    mif_close(ctx);
    close(listener);
}

#define CONNECT_ROUNDS 150
#define CONNECT_IDS 3

/*
 * Connects to a loopback listener, each cancelled at once, racing the engine; ids
 * reused.  Per id, in order, for each attempt: cancelled (MIF_OK) -> exactly a Not
 * Connected ECANCELED; too late (unknown connection) -> exactly one result (normally
 * Connected, whose socket the test closes).  Afterwards no socket of a cancelled
 * attempt is left open: /proc/self/fd is as before the loop.
 */
static void cancel_races_completion(void)
{
    static struct attempt att[CONNECT_ROUNDS];
    uint16_t port = 0;
    int listener = check_tcp_listener("127.0.0.1", &port);
    struct check_fdset before, after;
    mif_ctx *ctx = NULL;
    uint64_t lo4;
    int i, cancelled = 0, late = 0, connected = 0;
    int cursor[CONNECT_IDS] = { 0 };
    REQUIRE(listener >= 0);
    ctx = open_ctx();
    if (ctx == NULL)
        goto out;
    lo4 = check_pvd_of(ctx, "lo", MIF_FAMILY_IPV4);
    /* The engine's start-up work (a raw socket for Router Solicitations) is over. */
    if (!CHECK(lo4 != 0) || !check_engine_sync(ctx, lo4) || !check_fds(&before))
        goto out;

    for (i = 0; i < CONNECT_ROUNDS; i++) {
        att[i].id = 1 + (uint64_t)(i % CONNECT_IDS);
        if (!CHECK_RC(connect_to(ctx, lo4, att[i].id, "127.0.0.1", port), MIF_OK)) {
            att[i].rc = -1;
            continue;
        }
        if (i % 6 != 0)
            usleep((useconds_t)(i % 6) * 200); /* vary the head start (0 to 1 ms) */
        att[i].rc = cancel_connect(ctx, att[i].id);
        if (att[i].rc == MIF_OK)
            cancelled++;
        else if (CHECK_RC(att[i].rc, MIF_E_UNKNOWN_CONNECTION))
            late++;
        if (i % 32 == 31)
            check_accept_all(listener);
    }
    check_note("%d cancelled in time, %d already complete", cancelled, late);
    CHECK_RC(connect_to(ctx, lo4, 1000, "127.0.0.1", port), MIF_OK); /* marker */

    for (;;) {
        mif_message *m = check_wait_for(ctx, match_any_connection, NULL, 10000);
        int k, idx;
        if (!CHECK(m != NULL))
            break;
        if (m->connection_id == 1000) {
            CHECK_EQ_INT(m->msg_type, MIF_MSG_CONNECTED);
            check_discard(m);
            break;
        }
        if (!CHECK(m->connection_id >= 1 && m->connection_id <= CONNECT_IDS)) {
            check_discard(m);
            continue;
        }
        k = (int)m->connection_id - 1;
        while (cursor[k] * CONNECT_IDS + k < CONNECT_ROUNDS && att[cursor[k] * CONNECT_IDS + k].rc == -1)
            cursor[k]++;
        idx = cursor[k] * CONNECT_IDS + k;
        if (!CHECK(idx < CONNECT_ROUNDS)) {
            check_note("a message for id %d after all its attempts", k + 1);
            check_discard(m);
            continue;
        }
        if (att[idx].rc == MIF_OK) {
            if (!CHECK_EQ_INT(m->msg_type, MIF_MSG_NOT_CONNECTED) || !CHECK_EQ_INT(m->error, ECANCELED))
                check_note("attempt %d (id %d) was cancelled, yet got %s error %d", idx, k + 1,
                           mif_message_type_name(m->msg_type), m->error);
        } else {
            if (m->msg_type == MIF_MSG_CONNECTED)
                connected++;
            else if (!CHECK(m->error != ECANCELED))
                check_note("attempt %d (id %d) completed before its cancel, yet got ECANCELED", idx, k + 1);
        }
        cursor[k]++;
        check_discard(m);
    }
    for (i = 0; i < CONNECT_IDS; i++) {
        while (cursor[i] * CONNECT_IDS + i < CONNECT_ROUNDS && att[cursor[i] * CONNECT_IDS + i].rc == -1)
            cursor[i]++;
        if (!CHECK(cursor[i] * CONNECT_IDS + i >= CONNECT_ROUNDS))
            check_note("id %d: attempt %d got no result", i + 1, cursor[i] * CONNECT_IDS + i);
    }
    CHECK_EQ_INT(check_drain(ctx), 0);
    CHECK_EQ_INT(connected, late);
    /* Every socket the library made for a cancelled attempt is closed by now. */
    check_accept_all(listener);
    if (check_fds(&after))
        check_fds_equal(&before, &after);
out:
    mif_close(ctx);
    close(listener);
}

/*
 * While a translation is outstanding, a thread waiting in mif_check_message(-1) reads
 * the answers itself and so does work between waits, with its asynchronous signals
 * held back meanwhile: a signal must still end the wait with MIF_E_INTERRUPTED, and
 * the thread's signal mask must be as before afterwards.
 */
static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
    (void)sig;
    alarms++;
}

static void interrupted_while_translating(void)
{
    struct sigaction sa, old_sa;
    sigset_t alrm, before, after;
    struct itimerval every_200ms = { { 0, 200000 }, { 0, 200000 } }, off = { { 0, 0 }, { 0, 0 } };
    mif_ctx *ctx;
    uint64_t mt;
    mif_result rc;

    /* The engine thread inherits a mask that keeps SIGALRM for this thread. */
    sigemptyset(&alrm);
    sigaddset(&alrm, SIGALRM);
    pthread_sigmask(SIG_BLOCK, &alrm, &before);
    ctx = open_ctx();
    pthread_sigmask(SIG_SETMASK, &before, NULL);
    REQUIRE(ctx != NULL);
    mt = check_pvd_of(ctx, CHECK_BED_IF, MIF_FAMILY_IPV4);
    if (!CHECK(mt != 0) || !check_wait_dns_element(ctx, mt))
        goto out;
    if (!CHECK_RC(post_translate(ctx, mt, 7, "slow.example"), MIF_OK))
        goto out;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, &old_sa);
    alarms = 0;
    setitimer(ITIMER_REAL, &every_200ms, NULL);
    rc = mif_check_message(ctx, -1);
    setitimer(ITIMER_REAL, &off, NULL);
    sigaction(SIGALRM, &old_sa, NULL);
    CHECK_RC(rc, MIF_E_INTERRUPTED);
    CHECK(alarms >= 1);
    pthread_sigmask(SIG_SETMASK, NULL, &after);
    CHECK(sigismember(&after, SIGALRM) == sigismember(&before, SIGALRM));
    CHECK(sigismember(&after, SIGINT) == sigismember(&before, SIGINT));
    CHECK(sigismember(&after, SIGTERM) == sigismember(&before, SIGTERM));
    /* Still outstanding, and the context is fine. */
    CHECK_RC(mif_check_message(ctx, 0), MIF_NO_MESSAGE);
    CHECK_RC(post_stop_translating(ctx, 7), MIF_OK);
    check_drain(ctx);
out:
    mif_close(ctx);
}

int main(void)
{
    char hosts[HOSTS_NAMES * 40] = "";
    int i;
    check_watchdog(280);
    unsetenv("MIF_CONFIG"); /* the contexts read <root>/etc/mif.conf */
    for (i = 0; i < HOSTS_NAMES; i++) {
        size_t n = strlen(hosts);
        snprintf(hosts + n, sizeof hosts - n, "198.51.100.%d h%d.example\n", 10 + i, i);
    }
    bed_ok = check_blackhole_bed() &&
             check_make_root(root, sizeof root, hosts, "[" CHECK_BED_IF "]\ndns = " CHECK_BLACKHOLE "\n");
    if (!bed_ok)
        check_note("the blackhole bed could not be made");
    RUN_CASE(stop_outstanding_translation);
    RUN_CASE(stop_races_completion);
    RUN_CASE(interrupted_while_translating);
    RUN_CASE(cancel_outstanding_connect);
    RUN_CASE(cancel_after_connected_is_queued);
    RUN_CASE(cancel_races_completion);
    if (root[0] != '\0')
        check_remove_root(root);
    return check_done();
}
