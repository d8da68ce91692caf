/*
 * continuity.c: keep one session going while networks come and go, as the
 * session-continuity guide recommends (draft-deng-mif-api-session-continuity-guide-04,
 * sections 4 and 5). It streams numbered lines to an echo server over the most
 * preferred network; when that network is going away or gone it checks the next one,
 * moves the stream there and resends what had not come back; when a more preferred
 * network returns and passes the check, it moves back.
 *
 *   continuity HOST PORT --prefer IF[,IF...] [--count N] [--interval MS] [--json]
 *              [--root DIR] [--config FILE]
 *
 * HOST is a name or an address (an address is used as it is), asked on each network
 * through that network's own DNS servers. The server must send back every line it
 * gets. A connectivity check is a connection over that one interface plus one echoed
 * "probe" line, each within 2 s. Defaults: 50 lines, one every 100 ms; 30 s without
 * any network and it gives up. One narrated line per event, or with --json one JSON
 * object per line ("msg": connected, progress, going_away, lost, check_failed,
 * switched, done; names are printed as they are). "switched" comes with the first
 * echo over the new network: gap_ms is the time since the last one over the old.
 * Exit status 0 when all lines came back, 1 when not, 2 on bad usage.
 *
 * Build: cc -Iinclude continuity.c -Lbuild/lib -lmif -Wl,-rpath,"$PWD/build/lib"
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <mif.h>

#define MAX_NETS 8
#define CHECK_MS 2000    /* a check: the connect, then the probe's echo, each within this */
#define GIVE_UP_MS 30000 /* no connection for this long: stop */

/* The same event as a JSON object (--json) or as a sentence: both formats take the
 * same arguments in the same order. */
#define SAY(jfmt, tfmt, ...)                          \
    do {                                              \
        if (json)                                     \
            printf("{" jfmt "}\n", __VA_ARGS__);      \
        else                                          \
            printf(tfmt "\n", __VA_ARGS__);           \
    } while (0)

/* A network the user named (--prefer), in order of preference. */
static struct net {
    const char *name;
    uint32_t ifindex; /* 0 while the interface is absent */
    uint64_t pvd[2];  /* its IPv4 and IPv6 PvDs, 0 when none */
    unsigned away;    /* going-away warnings standing: 1 its IPv4 PvD, 2 its IPv6 PvD, 4 all of it */
    bool failed;      /* its last check failed: not again until something changes */
} nets[MAX_NETS];
static int nnets;

/* The stream's connection (cur) and the one being checked (cand). */
static struct conn {
    int net;            /* index in nets; -1: none */
    int fd;             /* -1 until connected */
    uint64_t id, pvd;   /* connect request, the PvD it went through */
    long long deadline; /* cand: when the probe must be back */
    char buf[256];      /* what was read and is not a whole line yet */
    size_t len;
} cur = { .net = -1, .fd = -1 }, cand = { .net = -1, .fd = -1 };

static mif_ctx *ctx;
static const char *host;
static long port, count = 50, interval = 100;
static bool json;
static long next_line = 1, echoed; /* the next line to send; lines back so far, in order */
static long long last_echo, stalled_since;
static int from = -1;     /* the network the stream left, until its first echo on the next */
static long long left_at; /* the last echo before it left */
static long resent;
static uint64_t ids;

static long long now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000LL + t.tv_nsec / 1000000;
}

static void subscribe(mif_request_type type, uint32_t ifindex)
{
    mif_request req;
    mif_request_init(&req, type);
    req.ifindex = ifindex;
    mif_post_message(ctx, &req); /* refused only for an interface just gone: its removal follows */
}

static bool usable(int i)
{
    return nets[i].ifindex && (nets[i].pvd[0] || nets[i].pvd[1]) && !nets[i].away && !nets[i].failed;
}

/* The bit of nets[i].away a warning about `pvd` sets (0 for a PvD not known there). */
static unsigned away_bit(int i, uint64_t pvd)
{
    return i < 0 ? 0 : pvd == 0 ? 4 : pvd == nets[i].pvd[0] ? 1 : pvd == nets[i].pvd[1] ? 2 : 0;
}

static void drop(struct conn *c)
{
    if (c->fd >= 0) {
        close(c->fd);
    } else if (c->net >= 0) { /* connecting: cancel it (its result withdrawn; refused, harmlessly, once taken) */
        mif_request req;
        mif_request_init(&req, MIF_REQ_CANCEL_CONNECT);
        req.connection_id = c->id;
        mif_post_message(ctx, &req);
    }
    *c = (struct conn){ .net = -1, .fd = -1 };
}

/* Guide 4 step 4 / 5 step 4: try a network by connecting over that interface only. */
static void check(int i)
{
    mif_selection sel = { .size = sizeof sel, .preference = MIF_PREFERENCE_REQUIRE, .ifindex = nets[i].ifindex };
    mif_request req;

    mif_request_init(&req, MIF_REQ_CONNECT_TO_NAME);
    req.name = host;
    req.remote_port = (uint16_t)port;
    req.connection_id = ++ids;
    req.selections = &sel;
    req.selection_count = 1;
    req.timeout_ms = CHECK_MS;
    if (mif_post_message(ctx, &req) != MIF_OK) {
        nets[i].failed = true; /* gone meanwhile: its removal follows */
        return;
    }
    cand = (struct conn){ .net = i, .fd = -1, .id = req.connection_id };
}

/* Guide 5 step 5: this network failed its check; the next one is tried. */
static void check_failed(const char *why)
{
    SAY("\"msg\":\"check_failed\",\"network\":\"%s\",\"reason\":\"%s\"", "check over %s failed: %s",
        nets[cand.net].name, why);
    nets[cand.net].failed = true;
    drop(&cand);
}

/* Sends line n of the stream: 1 when sent, 0 when the socket's buffer is full, -1 when
 * the connection failed (a line sent in part counts as failed: the stream is broken). */
static int send_line(long n)
{
    char b[24];
    int k = snprintf(b, sizeof b, "%ld\n", n);
    ssize_t r = send(cur.fd, b, (size_t)k, MSG_NOSIGNAL | MSG_DONTWAIT);
    return r == k ? 1 : r < 0 && errno == EAGAIN ? 0 : -1;
}

/* A new situation: every network gets another chance (guide 5 step 5). */
static void forgive(void)
{
    for (int i = 0; i < nnets; i++)
        nets[i].failed = false;
}

/* Guide 5 step 3: the stream's network is gone, or its connection broke. */
static void lost(const char *why)
{
    SAY("\"msg\":\"lost\",\"network\":\"%s\",\"reason\":\"%s\"", "lost %s: %s", nets[cur.net].name, why);
    if (from < 0) {
        from = cur.net;
        left_at = last_echo;
    }
    drop(&cur);
    stalled_since = now_ms();
    forgive();
}

/* Guide 4 step 4 / 5 step 6: the check passed: the stream moves over, resending every
 * line not echoed yet. The old connection closes now (guide 4 step 5). */
static void move_stream(void)
{
    if (cur.fd >= 0 && from < 0) {
        from = cur.net;
        left_at = last_echo;
    }
    drop(&cur);
    cur = cand;
    cand = (struct conn){ .net = -1, .fd = -1 };
    resent = next_line - 1 - echoed;
    for (long n = echoed + 1; n < next_line; n++) {
        if (send_line(n) != 1) {
            lost("cannot send");
            return;
        }
    }
}

/* Reads what came on c's socket; false when the connection ended (or its buffer is
 * full without a line ending: whole lines are taken out after each read). */
static bool fill(struct conn *c)
{
    ssize_t n;

    if (c->len == sizeof c->buf)
        return false;
    n = recv(c->fd, c->buf + c->len, sizeof c->buf - c->len, MSG_DONTWAIT);
    if (n > 0)
        c->len += (size_t)n;
    return n > 0 || (n < 0 && (errno == EAGAIN || errno == EINTR));
}

/* Takes the next whole line out of c's buffer; false when there is none. */
static bool take_line(struct conn *c, char line[sizeof c->buf])
{
    char *nl = memchr(c->buf, '\n', c->len);
    if (nl == NULL)
        return false;
    *nl = '\0';
    strcpy(line, c->buf);
    c->len -= (size_t)(nl + 1 - c->buf);
    memmove(c->buf, nl + 1, c->len);
    return true;
}

static void read_stream(void)
{
    char line[sizeof cur.buf];
    bool ok = fill(&cur);

    while (cur.fd >= 0 && take_line(&cur, line)) {
        if (strtol(line, NULL, 10) != echoed + 1) {
            fprintf(stderr, "continuity: line %ld expected back, got '%s'\n", echoed + 1, line);
            lost("the server answered out of order");
            return;
        }
        echoed++;
        last_echo = now_ms();
        if (from >= 0) {
            SAY("\"msg\":\"switched\",\"from\":\"%s\",\"to\":\"%s\",\"gap_ms\":%lld,\"resent\":%ld",
                "switched from %s to %s: %lld ms between echoes, %ld line(s) resent", nets[from].name,
                nets[cur.net].name, left_at ? last_echo - left_at : 0, resent);
            from = -1;
        }
        if (echoed % 10 == 0)
            SAY("\"msg\":\"progress\",\"network\":\"%s\",\"echoed\":%ld", "%s: %ld lines echoed", nets[cur.net].name,
                echoed);
    }
    if (!ok && cur.fd >= 0)
        lost("the connection ended");
}

static void read_check(void)
{
    char line[sizeof cand.buf];

    if (!fill(&cand)) {
        check_failed("the connection ended");
    } else if (take_line(&cand, line)) {
        if (strcmp(line, "probe") == 0)
            move_stream(); /* the check passed */
        else
            check_failed("a wrong answer");
    }
}

static void connected(const mif_message *m)
{
    char local[MIF_ADDRESS_TEXT_SIZE], remote[MIF_ADDRESS_TEXT_SIZE];

    mif_address_format(&m->local, local, sizeof local);
    mif_address_format(&m->remote, remote, sizeof remote);
    SAY("\"msg\":\"connected\",\"network\":\"%s\",\"pvd\":\"%s\",\"local\":\"%s\",\"local_port\":%u,"
        "\"remote\":\"%s\",\"remote_port\":%u",
        "connected over %s (%s) from %s port %u to %s port %u", nets[cand.net].name, m->pvd_name, local,
        m->local_port, remote, m->remote_port);
    cand.fd = m->fd; /* ours now */
    cand.pvd = m->pvd;
    cand.deadline = now_ms() + CHECK_MS;
    if (send(cand.fd, "probe\n", 6, MSG_NOSIGNAL | MSG_DONTWAIT) != 6)
        check_failed("cannot send");
}

/* Guide 5 step 3: a network the stream or the check uses is gone. */
static void gone(int i, const char *why)
{
    if (i == cur.net)
        lost(why);
    if (i == cand.net)
        check_failed(why);
}

static void on_message(const mif_message *m)
{
    static const char *const reasons[] = { "unknown", "carrier_lost", "addresses_deprecated", "lifetime_ending",
                                           "router_withdrawn" };
    int i, fam = m->family == MIF_FAMILY_IPV6;

    for (i = nnets - 1; i >= 0 && (m->ifindex == 0 || nets[i].ifindex != m->ifindex); i--)
        ; /* i: the network the message is about, -1 if none of ours */
    switch (m->msg_type) {
    case MIF_MSG_INTERFACE_ANNOUNCEMENT: /* guide 4 step 1: follow the named interfaces' PvDs */
        for (int k = 0; k < nnets; k++) {
            if (strcmp(nets[k].name, m->ifname) == 0 && nets[k].ifindex != m->ifindex) {
                nets[k] = (struct net){ .name = nets[k].name, .ifindex = m->ifindex };
                subscribe(MIF_REQ_ANNOUNCE_PVDS, m->ifindex);
            }
        }
        break;
    case MIF_MSG_NO_INTERFACE_ANNOUNCEMENT:
        if (i >= 0) {
            gone(i, "its interface is gone");
            nets[i] = (struct net){ .name = nets[i].name };
        }
        break;
    case MIF_MSG_PVD_ANNOUNCEMENT: /* guide 4 step 3: a network came (back); decide() checks it */
        if (i >= 0) {
            nets[i].pvd[fam] = m->pvd;
            nets[i].away &= ~(1u << fam); /* a new PvD: no warning about it yet */
            nets[i].failed = false;
        }
        break;
    case MIF_MSG_NO_PVD_ANNOUNCEMENT:
        if (i >= 0) {
            if (m->pvd == cur.pvd || m->pvd == cand.pvd)
                gone(i, "its PvD is gone");
            nets[i].pvd[fam] = 0;
            nets[i].away &= ~(1u << fam);
        }
        break;
    case MIF_MSG_INTERFACE_GOING_AWAY: /* guide 5 step 3, ahead of time: leave before it goes */
        if (i >= 0 && (away_bit(i, m->pvd) & ~nets[i].away)) {
            unsigned before = nets[i].away;
            nets[i].away |= away_bit(i, m->pvd);
            if (i == cur.net && !before) {
                SAY("\"msg\":\"going_away\",\"network\":\"%s\",\"reason\":\"%s\",\"deadline_ms\":%llu",
                    "%s is going away (%s) in %llu ms: checking the next network before leaving it", nets[i].name,
                    reasons[m->going_away_reason <= 4 ? m->going_away_reason : 0],
                    (unsigned long long)m->deadline_ms);
                forgive();
            }
            if (i == cand.net)
                check_failed("it is going away");
        }
        break;
    case MIF_MSG_INTERFACE_GOING_AWAY_CANCELLED: /* it stays after all: usable again */
        if (i >= 0)
            nets[i].away &= ~away_bit(i, m->pvd);
        break;
    case MIF_MSG_CONNECTED:
        if (m->connection_id == cand.id)
            connected(m);
        else
            close(m->fd); /* not expected (a cancelled connect's result is withdrawn) */
        break;
    case MIF_MSG_NOT_CONNECTED:
        if (m->connection_id == cand.id)
            check_failed(m->text ? m->text : strerror(m->error));
        break;
    case MIF_MSG_QUEUE_OVERFLOW: /* the whole state follows: rebuild from it */
        for (int k = 0; k < nnets; k++)
            nets[k] = (struct net){ .name = nets[k].name };
        break;
    case MIF_MSG_ENGINE_FAILED:
        fprintf(stderr, "continuity: the library failed: %s\n", m->text ? m->text : mif_strerror(m->status));
        exit(1);
    }
}

/* Which network to check (guide 4 step 4, 5 steps 4-5): the most preferred usable one,
 * when the stream has no network, its network is going away, or it is more preferred. */
static void decide(void)
{
    bool healthy = cur.fd >= 0 && !nets[cur.net].away;
    int best = 0;

    if (cand.net >= 0 && healthy && cand.net > cur.net)
        drop(&cand); /* the warning was cancelled: no need to leave */
    while (best < nnets && !usable(best))
        best++;
    if (cand.net < 0 && best < nnets && (!healthy || best < cur.net))
        check(best);
}

static long long poll_timeout(long long next_tick)
{
    long long t = GIVE_UP_MS, now = now_ms();

    if (cur.fd >= 0 && next_line <= count && next_tick - now < t)
        t = next_tick - now;
    if (cand.fd >= 0 && cand.deadline - now < t)
        t = cand.deadline - now;
    if (cur.fd < 0 && stalled_since + GIVE_UP_MS - now < t)
        t = stalled_since + GIVE_UP_MS - now;
    return t < 0 ? 0 : t;
}

static int usage(void)
{
    fprintf(stderr, "usage: continuity HOST PORT --prefer IF[,IF...] [--count N] [--interval MS] [--json]\n"
                    "                  [--root DIR] [--config FILE]\n");
    return 2;
}

int main(int argc, char **argv)
{
    mif_options opts;
    mif_message *m;
    long long next_tick = 0;
    int n = 0;

    mif_options_init(&opts);
    for (int i = 1; i < argc; i++) {
        bool has_arg = i + 1 < argc;
        if (strcmp(argv[i], "--prefer") == 0 && has_arg) {
            for (char *s = strtok(argv[++i], ","); s != NULL && nnets < MAX_NETS; s = strtok(NULL, ","))
                nets[nnets++].name = s;
        } else if (strcmp(argv[i], "--count") == 0 && has_arg) {
            count = atol(argv[++i]);
        } else if (strcmp(argv[i], "--interval") == 0 && has_arg) {
            interval = atol(argv[++i]);
        } else if (strcmp(argv[i], "--json") == 0) {
            json = true;
        } else if (strcmp(argv[i], "--root") == 0 && has_arg) {
            opts.root_dir = argv[++i];
        } else if (strcmp(argv[i], "--config") == 0 && has_arg) {
            opts.config_file = argv[++i];
        } else if (argv[i][0] != '-' && n < 2) {
            if (n++ == 0)
                host = argv[i];
            else
                port = atol(argv[i]);
        } else {
            return usage();
        }
    }
    if (n != 2 || nnets == 0 || port <= 0 || port > 65535 || count <= 0 || interval < 0)
        return usage();
    setvbuf(stdout, NULL, _IOLBF, 0); /* each event at once, also into a pipe */
    if (mif_open(&opts, &ctx) != MIF_OK) {
        fprintf(stderr, "continuity: cannot open a libmif context\n");
        return 1;
    }
    if (!json)
        printf("streaming %ld lines to %s port %ld, one every %ld ms, over %s first\n", count, host, port,
               interval, nets[0].name);

    /* Guide 4 and 5, step 1: subscribe to the interfaces; each one we were told to use
     * gets a PvD subscription as it is announced (on_message). */
    subscribe(MIF_REQ_ANNOUNCE_INTERFACES, 0);
    stalled_since = now_ms();
    while (echoed < count) {
        while (mif_get_message(ctx, &m) == MIF_OK) {
            on_message(m);
            mif_message_free(m);
        }
        if (cand.fd >= 0 && now_ms() >= cand.deadline)
            check_failed("the probe was not echoed in time");
        if (cur.fd < 0 && now_ms() - stalled_since >= GIVE_UP_MS) {
            fprintf(stderr, "continuity: no network to stream over for %d s: giving up\n", GIVE_UP_MS / 1000);
            break;
        }
        decide();
        /* Guide 4 and 5, step 2: the stream itself, one line per interval. */
        if (cur.fd >= 0 && next_line <= count && now_ms() >= next_tick) {
            int sent = send_line(next_line);
            if (sent > 0)
                next_line++;
            else if (sent < 0)
                lost("cannot send");
            next_tick = now_ms() + interval;
        }
        /* One wait for the library's messages, the stream's echoes and the check's. */
        struct pollfd p[3] = { { mif_fd(ctx), POLLIN, 0 }, { cur.fd, POLLIN, 0 }, { cand.fd, POLLIN, 0 } };
        if (poll(p, 3, (int)poll_timeout(next_tick)) < 0 && errno != EINTR) {
            perror("continuity: poll");
            break;
        }
        if (p[1].revents)
            read_stream();
        if (p[2].revents)
            read_check();
    }
    SAY("\"msg\":\"done\",\"sent\":%ld,\"echoed\":%ld,\"lost\":%ld", "done: %ld lines sent, %ld echoed, %ld lost",
        next_line - 1, echoed, count - echoed);
    drop(&cur);
    drop(&cand);
    mif_close(ctx);
    return echoed == count ? 0 : 1;
}
