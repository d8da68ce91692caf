/*
 * test_dns_threads: name translation answered while several application threads wait.
 *
 * While an application has a few translations outstanding, a thread waiting in
 * mif_check_message reads the DNS answers itself, and the engine thread only reads
 * them when nobody waits (docs/name-translation.md, "Who does what"). Here four
 * threads each post translations one after another and wait for them, three in
 * mif_check_message and one in poll() on mif_fd, so that waiting threads come and go
 * while answers arrive, and both readers take turns. Every translation must end
 * exactly once with status "done" and exactly its own two addresses, every message
 * must be well formed, and no message may be left over.
 *
 * A second case: a thread waits in mif_check_message on the queue alone (nothing is
 * out), then another thread asks for mif_fd for the first time, which turns fd mode on,
 * and posts a name. The waiting thread must get the answer, although in fd mode the
 * engine otherwise leaves the answers to whoever waits on mif_fd (nobody here): the
 * query's own timeout is 60 s, the wait gives up after 20 s (a hang bound).
 *
 * The DNS server is a thread of this program answering on 198.51.100.53:53, an address
 * it adds to lo inside the private network namespace c-tests/run.sh gives it (it
 * refuses to run elsewhere); the PvD is lo/ipv4, its server set in <root>/etc/mif.conf.
 */
#include "mif.h"
#include "check.h"
#include "bed.h"
#include "driver.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#define WORKERS 4
#define ROUNDS 25
#define SERVER "198.51.100.53"
#define TOTAL (WORKERS * ROUNDS)

static mif_ctx *ctx;
static const char *case_root;
static uint64_t lo_pvd;
static int server_fd = -1;
static volatile int server_stop;

/* ---- the server: A 198.51.100.(100 + n % 100) and AAAA fd6d:6966:d::n for "tN.example" ---- */

static int name_index(const unsigned char *q, size_t len, size_t *qend)
{
    /* One question at offset 12: labels, then type and class. */
    size_t i = 12;
    char name[256];
    size_t n = 0;
    while (i < len && q[i] != 0) {
        size_t l = q[i++];
        if (l > 63 || i + l > len || n + l + 1 >= sizeof name)
            return -1;
        if (n)
            name[n++] = '.';
        memcpy(name + n, q + i, l);
        n += l;
        i += l;
    }
    if (i + 5 > len)
        return -1;
    name[n] = '\0';
    *qend = i + 5;
    int idx;
    char tail[32];
    if (sscanf(name, "t%d.%31s", &idx, tail) != 2 || strcmp(tail, "example") != 0 || idx < 0 || idx >= TOTAL)
        return -1;
    return idx;
}

static void *server_main(void *arg)
{
    (void)arg;
    unsigned char q[1500], a[1500];
    while (!server_stop) {
        struct pollfd pfd = { .fd = server_fd, .events = POLLIN };
        if (poll(&pfd, 1, 100) <= 0)
            continue;
        struct sockaddr_in from;
        socklen_t flen = sizeof from;
        ssize_t len = recvfrom(server_fd, q, sizeof q, 0, (struct sockaddr *)&from, &flen);
        size_t qend;
        if (len < 17)
            continue;
        int idx = name_index(q, (size_t)len, &qend);
        if (idx < 0)
            continue;
        uint16_t qtype = (uint16_t)(q[qend - 4] << 8 | q[qend - 3]);
        memcpy(a, q, qend);
        a[2] = 0x81; /* QR, RD */
        a[3] = 0x80; /* RA, NOERROR */
        a[4] = 0, a[5] = 1, a[6] = 0, a[7] = 1, a[8] = a[9] = a[10] = a[11] = 0;
        size_t n = qend;
        const unsigned char rr[] = { 0xc0, 0x0c, (unsigned char)(qtype >> 8), (unsigned char)qtype, 0, 1, 0, 0, 0, 60 };
        memcpy(a + n, rr, sizeof rr);
        n += sizeof rr;
        if (qtype == 1) {
            const unsigned char rd[] = { 0, 4, 198, 51, 100, (unsigned char)(100 + idx % 100) };
            memcpy(a + n, rd, sizeof rd);
            n += sizeof rd;
        } else if (qtype == 28) {
            unsigned char rd[18] = { 0, 16, 0xfd, 0x6d, 0x69, 0x66, 0, 0x0d };
            rd[17] = (unsigned char)idx;
            memcpy(a + n, rd, sizeof rd);
            n += sizeof rd;
        } else {
            continue;
        }
        sendto(server_fd, a, n, 0, (struct sockaddr *)&from, flen);
    }
    return NULL;
}

/* ---- what arrived, per translation id (1..TOTAL) ---- */

static pthread_mutex_t seen_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t seen_cond = PTHREAD_COND_INITIALIZER;
static int done_count[TOTAL + 1], status_of[TOTAL + 1], v4_ok[TOTAL + 1], v6_ok[TOTAL + 1], addrs[TOTAL + 1];
static int stray; /* messages for no translation of ours, or malformed */

static void record(mif_message *m)
{
    pthread_mutex_lock(&seen_lock);
    if (!check_message_well_formed(m) ||
        (m->msg_type != MIF_MSG_NAME_TRANSLATION && m->msg_type != MIF_MSG_NAME_TRANSLATION_DONE) ||
        m->translation_id < 1 || m->translation_id > TOTAL || m->pvd != lo_pvd) {
        stray++;
    } else {
        int id = (int)m->translation_id, idx = id - 1;
        if (m->msg_type == MIF_MSG_NAME_TRANSLATION_DONE) {
            done_count[id]++;
            status_of[id] = (int)m->translation_status;
            pthread_cond_broadcast(&seen_cond);
        } else {
            addrs[id]++;
            const unsigned char *b = m->address.bytes;
            if (m->address.family == MIF_FAMILY_IPV4 && b[0] == 198 && b[1] == 51 && b[2] == 100 &&
                b[3] == 100 + idx % 100)
                v4_ok[id]++;
            if (m->address.family == MIF_FAMILY_IPV6 && b[0] == 0xfd && b[1] == 0x6d && b[5] == 0x0d &&
                b[15] == idx)
                v6_ok[id]++;
        }
    }
    pthread_mutex_unlock(&seen_lock);
    mif_message_free(m);
}

static int is_done(int id)
{
    pthread_mutex_lock(&seen_lock);
    int d = done_count[id] > 0;
    pthread_mutex_unlock(&seen_lock);
    return d;
}

static void *worker(void *arg)
{
    int w = (int)(intptr_t)arg;
    int on_fd = w == WORKERS - 1;
    for (int r = 0; r < ROUNDS; r++) {
        int id = 1 + w * ROUNDS + r;
        char name[64];
        snprintf(name, sizeof name, "t%d.example", id - 1);
        if (!CHECK_RC(post_translate(ctx, lo_pvd, (uint64_t)id, name), MIF_OK))
            return NULL;
        long long give_up = check_now_ms() + 20000; /* against a hang, not a timing check */
        while (!is_done(id) && check_now_ms() < give_up) {
            if (on_fd) {
                struct pollfd pfd = { .fd = mif_fd(ctx), .events = POLLIN };
                poll(&pfd, 1, 50);
            } else {
                mif_result rc = mif_check_message(ctx, 50);
                CHECK(rc == MIF_OK || rc == MIF_NO_MESSAGE);
            }
            mif_message *m;
            while (mif_get_message(ctx, &m) == MIF_OK)
                record(m);
        }
        if (!CHECK(is_done(id))) {
            check_note("translation %d (%s) never ended", id, name);
            return NULL;
        }
    }
    return NULL;
}

static void answers_while_threads_wait(void)
{
    pthread_t server, threads[WORKERS];
    REQUIRE(pthread_create(&server, NULL, server_main, NULL) == 0);
    for (int w = 0; w < WORKERS; w++)
        CHECK(pthread_create(&threads[w], NULL, worker, (void *)(intptr_t)w) == 0);
    for (int w = 0; w < WORKERS; w++)
        pthread_join(threads[w], NULL);
    server_stop = 1;
    pthread_join(server, NULL);
    /* Anything still queued belongs to nobody: a translation got a message too many. */
    mif_message *m;
    while (mif_get_message(ctx, &m) == MIF_OK)
        record(m);
    int bad = 0;
    for (int id = 1; id <= TOTAL; id++) {
        if (done_count[id] != 1 || status_of[id] != MIF_TRANSLATION_DONE || addrs[id] != 2 || v4_ok[id] != 1 ||
            v6_ok[id] != 1) {
            if (bad++ < 5)
                check_note("translation %d: %d Done (status %d), %d addresses (%d right A, %d right AAAA)", id,
                           done_count[id], status_of[id], addrs[id], v4_ok[id], v6_ok[id]);
        }
    }
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(stray, 0);
}

static mif_ctx *ctx_late;
static mif_result late_wait_rc = MIF_E_INTERNAL;

static void *queue_waiter(void *arg)
{
    (void)arg;
    late_wait_rc = mif_check_message(ctx_late, 20000); /* a hang bound, not a timing check */
    return NULL;
}

static void queue_waiter_answered_when_fd_mode_begins(void)
{
    pthread_t server, waiter;
    server_stop = 0;
    REQUIRE(pthread_create(&server, NULL, server_main, NULL) == 0);
    mif_options opts;
    mif_options_init(&opts);
    opts.root_dir = case_root;
    opts.dns_timeout_ms = 60000;
    opts.dns_tries = 1;
    if (CHECK_RC(mif_open(&opts, &ctx_late), MIF_OK)) {
        uint64_t pvd = check_pvd_of(ctx_late, "lo", MIF_FAMILY_IPV4);
        if (CHECK(pvd != 0) && check_wait_dns_element(ctx_late, pvd)) {
            mif_message *m;
            while (mif_get_message(ctx_late, &m) == MIF_OK)
                mif_message_free(m);
            CHECK(pthread_create(&waiter, NULL, queue_waiter, NULL) == 0);
            /* Let it start waiting; should it not have yet, its wait watches the sockets
             * itself and the case passes without the path it is for. */
            poll(NULL, 0, 200);
            CHECK(mif_fd(ctx_late) >= 0);
            CHECK_RC(post_translate(ctx_late, pvd, 1, "t0.example"), MIF_OK);
            pthread_join(waiter, NULL);
            if (!CHECK_RC(late_wait_rc, MIF_OK))
                check_note("the thread waiting on the queue got no message before its 20 s bound");
            int done = 0;
            long long give_up = check_now_ms() + 20000;
            while (!done && check_now_ms() < give_up) {
                if (mif_get_message(ctx_late, &m) != MIF_OK) {
                    mif_check_message(ctx_late, 1000);
                    continue;
                }
                CHECK(check_message_well_formed(m) && m->translation_id == 1);
                done = m->msg_type == MIF_MSG_NAME_TRANSLATION_DONE;
                mif_message_free(m);
            }
            CHECK(done);
        }
        mif_close(ctx_late);
    }
    server_stop = 1;
    pthread_join(server, NULL);
}

int main(void)
{
    char root[256] = "";
    check_watchdog(280);
    check_require_private_netns();
    unsetenv("MIF_CONFIG");
    if (!SH("ip addr add " SERVER "/32 dev lo") ||
        !check_make_root(root, sizeof root, "127.0.0.1 localhost\n", "[lo]\ndns = " SERVER "\n"))
        return check_done();
    server_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(53) };
    inet_pton(AF_INET, SERVER, &sa.sin_addr);
    if (!CHECK(server_fd >= 0 && bind(server_fd, (struct sockaddr *)&sa, sizeof sa) == 0)) {
        check_note("cannot bind %s:53: %s", SERVER, strerror(errno));
        return check_done();
    }
    mif_options opts;
    mif_options_init(&opts);
    opts.root_dir = root;
    if (CHECK_RC(mif_open(&opts, &ctx), MIF_OK)) {
        lo_pvd = check_pvd_of(ctx, "lo", MIF_FAMILY_IPV4);
        if (CHECK(lo_pvd != 0) && check_wait_dns_element(ctx, lo_pvd))
            RUN_CASE(answers_while_threads_wait);
        mif_close(ctx);
    }
    case_root = root;
    RUN_CASE(queue_waiter_answered_when_fd_mode_begins);
    close(server_fd);
    check_remove_root(root);
    return check_done();
}
