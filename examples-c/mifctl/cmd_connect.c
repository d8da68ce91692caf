/*
 * mifctl connect: opens a TCP connection through one PvD (MIF_REQ_CONNECT_TO_ADDRESS or
 * MIF_REQ_CONNECT_FROM_ADDRESS), or to a name raced across every network
 * (MIF_REQ_CONNECT_TO_NAME, with --prefer / --avoid / --prohibit / --require), takes
 * the connected socket from MIF_MSG_CONNECTED, and may send a line through it and
 * print the answer. --report prints how a connect to a name went: each resolution and
 * each attempt on a millisecond axis.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "mifctl.h"

/* Our connection id: the application chooses it; one connect per run. */
#define CONNECTION_ID 1
/* --send: the reply ends at end of stream or after this long without data... */
#define RECEIVE_SILENCE_MS 2000
/* ... or at this many bytes (the JSON output keeps the whole reply in memory). */
#define RECEIVE_MAX (1024 * 1024)

struct connect_run {
    struct session s;
    const char *address_arg;     /* ADDRESS as given, for messages */
    mif_address remote;          /* ADDRESS */
    uint16_t port;               /* PORT */
    const char *from_arg;        /* --from as given, or NULL */
    mif_address local;           /* --from; family 0 when not given */
    const char *send_text;       /* --send, or NULL */
    bool initial_done;           /* the initial iteration has been handled */
    bool have_pvd;               /* a PvD has been chosen: */
    uint64_t pvd;                /*   its id, */
    uint32_t pvd_ifindex;        /*   its interface, */
    char pvd_name[MIF_PVD_NAME_SIZE]; /* and its name */
    bool cancelled;              /* MIF_REQ_CANCEL_CONNECT was posted */
    bool by_name;                /* ADDRESS is a name: Connect to Name */
    mif_selection selections[MIF_MAX_SELECTIONS]; /* --prefer, --avoid, ... */
    const char *selection_args[MIF_MAX_SELECTIONS];
    size_t selection_count;
    uint32_t family_preference;  /* --family */
    uint32_t name_timeout_ms;    /* --timeout, for a name */
    uint32_t name_attempt_delay_ms; /* --attempt-delay, for a name */
    bool report;                 /* --report */
    bool mptcp;                  /* --mptcp */
    mif_message *result;         /* our Connected / Not Connected message, once taken */
};

/* The symbolic name of an errno value a connect may end with; NULL for others
 * (the caller then prints the number). */
static const char *errno_name(int e)
{
    switch (e) {
    case ECONNREFUSED: return "ECONNREFUSED";
    case ETIMEDOUT: return "ETIMEDOUT";
    case EHOSTUNREACH: return "EHOSTUNREACH";
    case ENETUNREACH: return "ENETUNREACH";
    case ENETDOWN: return "ENETDOWN";
    case EHOSTDOWN: return "EHOSTDOWN";
    case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
    case EADDRINUSE: return "EADDRINUSE";
    case ECANCELED: return "ECANCELED";
    case ECONNRESET: return "ECONNRESET";
    case ECONNABORTED: return "ECONNABORTED";
    case EPERM: return "EPERM";
    case EACCES: return "EACCES";
    case EINVAL: return "EINVAL";
    case EAFNOSUPPORT: return "EAFNOSUPPORT";
    case ENODEV: return "ENODEV";
    case ENOBUFS: return "ENOBUFS";
    case ENOMEM: return "ENOMEM";
    case EMFILE: return "EMFILE";
    case ENFILE: return "ENFILE";
    case EPROTO: return "EPROTO";
    case EIO: return "EIO";
    default: return NULL;
    }
}

/* Whether ADDRESS is meant as an address (then it must parse as one) rather than a
 * name: digits, dots and hex with colons, or anything with '%' or ':'. */
static bool looks_like_address(const char *text)
{
    unsigned char buf[16];
    if (strchr(text, ':') != NULL || strchr(text, '%') != NULL)
        return true;
    if (inet_pton(AF_INET, text, buf) == 1)
        return true;
    /* "198.51.100" is neither: a name that would never resolve; call it an address so
     * the user sees the parse error. */
    return strspn(text, "0123456789.") == strlen(text);
}

static bool is_ipv6_link_local(const mif_address *a)
{
    return a->family == MIF_FAMILY_IPV6 && a->bytes[0] == 0xfe && (a->bytes[1] & 0xc0) == 0x80;
}

/* Parses an IPv4 or IPv6 address: "198.51.100.1", "fd6d:6966:a::1", and for IPv6
 * link-local addresses a scope, "fe80::1%mif0" or "fe80::1%3". Returns false after
 * printing a usage error; `what` names the argument. */
static bool parse_ip_address(const char *cmd, const char *what, const char *text, mif_address *out)
{
    char buf[INET6_ADDRSTRLEN];
    const char *percent = strchr(text, '%');
    size_t len = percent != NULL ? (size_t)(percent - text) : strlen(text);

    memset(out, 0, sizeof *out);
    if (len >= sizeof buf) {
        fprintf(stderr, "%s: %s: not an IPv4 or IPv6 address: '%s'\n", cmd, what, text);
        return false;
    }
    memcpy(buf, text, len);
    buf[len] = '\0';
    if (percent == NULL && inet_pton(AF_INET, buf, out->bytes) == 1) {
        out->family = MIF_FAMILY_IPV4;
        return true;
    }
    if (inet_pton(AF_INET6, buf, out->bytes) != 1) {
        fprintf(stderr, "%s: %s: not an IPv4 or IPv6 address: '%s'\n", cmd, what, text);
        return false;
    }
    out->family = MIF_FAMILY_IPV6;
    if (percent != NULL) {
        const char *scope = percent + 1;
        unsigned long long v;

        if (!is_ipv6_link_local(out)) {
            fprintf(stderr, "%s: %s: a scope (%%...) goes only with a link-local address: '%s'\n",
                    cmd, what, text);
            return false;
        }
        if (parse_number(scope, 1, UINT32_MAX, &v)) {
            out->scope_id = (uint32_t)v;
        } else if (scope[0] != '\0' && strlen(scope) < IF_NAMESIZE &&
                   (out->scope_id = if_nametoindex(scope)) != 0) {
            /* an interface name */
        } else {
            fprintf(stderr, "%s: %s: no interface '%s' for the scope of '%s'\n", cmd, what, scope, text);
            return false;
        }
    }
    return true;
}

/* "198.51.100.1:8080", "[fd6d:6966:a::1]:8080", "[fe80::1%3]:8080". */
static void format_endpoint(const mif_address *a, uint16_t port, char *buf, size_t len)
{
    char addr[MIF_ADDRESS_TEXT_SIZE];

    format_address(a, addr);
    if (a->family == MIF_FAMILY_IPV6)
        snprintf(buf, len, "[%s]:%u", addr, (unsigned)port);
    else
        snprintf(buf, len, "%s:%u", addr, (unsigned)port);
}

/* Is this announced PvD the one to connect through? The first that matches is taken.
 * (Loopback interfaces are followed only with --interface, --pvd or a scope.) */
static bool connect_pvd_wanted(const struct connect_run *c, const mif_message *msg)
{
    if (c->s.only_pvd != NULL) {
        /* Whatever its family: if it is not the destination's, the library refuses
         * the connect (MIF_E_BAD_ADDRESS) and the user sees why. */
        return is_only_pvd(&c->s, msg);
    }
    if (msg->family != c->remote.family)
        return false;
    if (c->s.only_ifname != NULL)
        return true; /* only that interface's PvDs are subscribed to */
    if (c->remote.scope_id != 0)
        return msg->ifindex == c->remote.scope_id; /* fe80::1%mif0: that interface's PvD */
    return true;
}

/* Handles one message. Our connect's result is kept in c->result (and *keep set: the
 * message is ours to free). Returns false when the command must end now (out of
 * memory). */
static bool connect_message(void *run, mif_message *msg, bool *keep)
{
    struct connect_run *c = run;

    switch (msg->msg_type) {
    case MIF_MSG_INTERFACE_ANNOUNCEMENT:
    case MIF_MSG_NO_INTERFACE_ANNOUNCEMENT:
        /* Only the interfaces and PvDs present at the start are considered. */
        if (c->initial_done)
            return true;
        return follow_interface(&c->s, msg);
    case MIF_MSG_PVD_ANNOUNCEMENT:
        if (c->initial_done || c->have_pvd || !connect_pvd_wanted(c, msg))
            return true;
        c->have_pvd = true;
        c->pvd = msg->pvd;
        c->pvd_ifindex = msg->ifindex;
        memcpy(c->pvd_name, msg->pvd_name, sizeof c->pvd_name);
        c->pvd_name[sizeof c->pvd_name - 1] = '\0';
        if (c->s.verbose)
            fprintf(stderr, PROG ": debug: chose pvd %" PRIu64 " (%s, ifindex %" PRIu32 ")\n",
                    c->pvd, c->pvd_name, c->pvd_ifindex);
        return true;
    case MIF_MSG_CONNECTED:
    case MIF_MSG_NOT_CONNECTED:
        if (msg->connection_id == CONNECTION_ID && c->result == NULL) {
            c->result = msg;
            *keep = true;
        } else if (msg->msg_type == MIF_MSG_CONNECTED && msg->fd >= 0) {
            close(msg->fd); /* not ours (cannot happen); the socket is ours to close all the same */
        }
        return true;
    default:
        return true;
    }
}

/* Posts MIF_REQ_CONNECT_TO_ADDRESS (MIF_REQ_CONNECT_FROM_ADDRESS with --from) on the
 * chosen PvD. Returns false after printing why the library refused it. */
static bool post_connect(struct connect_run *c)
{
    mif_request req;
    mif_result rc;
    char remote[MIF_ADDRESS_TEXT_SIZE + 8];

    mif_request_init(&req, c->local.family != 0 ? MIF_REQ_CONNECT_FROM_ADDRESS : MIF_REQ_CONNECT_TO_ADDRESS);
    req.pvd = c->pvd;
    req.connection_id = CONNECTION_ID;
    req.remote = c->remote;
    req.remote_port = c->port;
    if (c->local.family != 0)
        req.local = c->local;
    rc = mif_post_message(c->s.ctx, &req);
    if (rc == MIF_OK) {
        if (c->s.verbose)
            fprintf(stderr, PROG ": debug: posted %s #%d on pvd %" PRIu64 "\n",
                    mif_request_type_name(req.request_type), CONNECTION_ID, c->pvd);
        return true;
    }
    format_endpoint(&c->remote, c->port, remote, sizeof remote);
    fprintf(stderr, PROG " connect: %s to %s", mif_request_type_name(req.request_type), remote);
    if (c->local.family != 0) {
        char local[MIF_ADDRESS_TEXT_SIZE];
        format_address(&c->local, local);
        fprintf(stderr, " from %s", local);
    }
    fputs(" on ", stderr);
    put_text(stderr, c->pvd_name, strlen(c->pvd_name));
    fprintf(stderr, ": %s\n", mif_strerror(rc));
    return false;
}

/* Posts MIF_REQ_CONNECT_TO_NAME with the selections of the command line. Returns
 * false after printing why the library refused it. */
static bool post_connect_to_name(struct connect_run *c)
{
    mif_request req;
    mif_result rc;

    mif_request_init(&req, MIF_REQ_CONNECT_TO_NAME);
    req.name = c->address_arg;
    req.remote_port = c->port;
    req.connection_id = CONNECTION_ID;
    req.selections = c->selection_count > 0 ? c->selections : NULL;
    req.selection_count = c->selection_count;
    req.family_preference = c->family_preference;
    req.timeout_ms = c->name_timeout_ms;
    req.attempt_delay_ms = c->name_attempt_delay_ms;
    if (c->mptcp)
        req.connect_flags |= MIF_CONNECT_MPTCP;
    rc = mif_post_message(c->s.ctx, &req);
    if (rc == MIF_OK) {
        if (c->s.verbose)
            fprintf(stderr, PROG ": debug: posted connect_to_name #%d: %s port %u, %zu selections\n",
                    CONNECTION_ID, c->address_arg, (unsigned)c->port, c->selection_count);
        return true;
    }
    fprintf(stderr, PROG " connect: connect_to_name %s port %u: %s\n", c->address_arg, (unsigned)c->port,
            mif_strerror(rc));
    return false;
}

/* After each round of messages. The first round ends the initial iteration, as in
 * resolve (every PvD present has been seen): choose the PvD and post the connect.
 * Then done once the connect's result has been taken. */
static int connect_progress(void *run)
{
    struct connect_run *c = run;

    if (c->initial_done)
        return c->result != NULL ? 0 : KEEP_GOING;
    c->initial_done = true;
    if (c->by_name)
        return post_connect_to_name(c) ? KEEP_GOING : 2;
    if (!c->have_pvd) {
        const char *family = family_name(c->remote.family);
        if (c->remote.scope_id != 0 && c->s.only_ifname == NULL && c->s.only_pvd == NULL)
            fprintf(stderr, PROG " connect: interface %" PRIu32 " (the scope of %s) has no %s provisioning domain\n",
                    c->remote.scope_id, c->address_arg, family);
        else
            report_no_pvd(&c->s, family);
        return 1;
    }
    if (c->remote.scope_id != 0 && c->remote.scope_id != c->pvd_ifindex) {
        fprintf(stderr, PROG " connect: the scope of %s (ifindex %" PRIu32 ") is not the interface of %s (ifindex %" PRIu32 ")\n",
                c->address_arg, c->remote.scope_id, c->pvd_name, c->pvd_ifindex);
        return 2;
    }
    return post_connect(c) ? KEEP_GOING : 2;
}

/* SIGINT/SIGTERM while the connect runs: cancel it, once. The final Not Connected
 * (ECANCELED) is queued before the post returns, and a Connected message still
 * waiting is withdrawn (its socket closed by the library). MIF_E_UNKNOWN_CONNECTION
 * means the result was taken already (not here: we cancel only before that). */
static int connect_on_signal(void *run)
{
    struct connect_run *c = run;
    mif_request req;
    mif_result rc;

    if (c->cancelled)
        return KEEP_GOING;
    if (c->s.verbose)
        fprintf(stderr, PROG ": debug: cancelling on signal\n");
    mif_request_init(&req, MIF_REQ_CANCEL_CONNECT);
    req.connection_id = CONNECTION_ID;
    rc = mif_post_message(c->s.ctx, &req);
    if (c->s.verbose)
        fprintf(stderr, PROG ": debug: posted cancel_connect #%d: %s\n", CONNECTION_ID, mif_strerror(rc));
    if (rc != MIF_OK && rc != MIF_E_UNKNOWN_CONNECTION && rc != MIF_E_ENGINE_FAILED)
        fprintf(stderr, PROG ": cancel_connect #%d: %s\n", CONNECTION_ID, mif_strerror(rc));
    c->cancelled = true;
    return KEEP_GOING;
}

/* ": ECONNREFUSED (Connection refused): the library's text" */
static void print_failure(const mif_message *msg)
{
    const char *name = errno_name(msg->error);
    if (name != NULL)
        printf(": %s (%s)", name, strerror(msg->error));
    else
        printf(": errno %" PRId32 " (%s)", msg->error, strerror(msg->error));
    if (msg->text != NULL && msg->text[0] != '\0') {
        fputs(": ", stdout);
        put_text(stdout, msg->text, strlen(msg->text));
    }
}

/* Connected:     "Connected to 198.51.100.1:8080 from 198.51.100.2:40123 via mif0/ipv4 (pvd 1, mif0) in 0.5 ms"
 * Not Connected: "Not connected to 198.51.100.1:9 via mif0/ipv4 (pvd 1, mif0) after 0.3 ms:
 *                 ECONNREFUSED (Connection refused): 198.51.100.2: Connection refused" */
static void print_connect_text(const struct connect_run *c, const mif_message *msg)
{
    char remote[MIF_ADDRESS_TEXT_SIZE + 8];
    bool connected = msg->msg_type == MIF_MSG_CONNECTED;
    double ms = (double)msg->elapsed_us / 1000.0;

    format_endpoint(&msg->remote, msg->remote_port, remote, sizeof remote);
    if (c->by_name && !connected) {
        /* No single network or address to name: the report says what was tried. */
        printf("Not connected to ");
        put_text(stdout, c->address_arg, strlen(c->address_arg));
        printf(" port %u after %.1f ms", (unsigned)c->port, ms);
        print_failure(msg);
        putchar('\n');
        return;
    }
    printf("%s to ", connected ? "Connected" : "Not connected");
    if (c->by_name) {
        put_text(stdout, c->address_arg, strlen(c->address_arg));
        printf(" (%s)", remote);
    } else {
        fputs(remote, stdout);
    }
    if (connected) {
        char local[MIF_ADDRESS_TEXT_SIZE + 8];
        format_endpoint(&msg->local, msg->local_port, local, sizeof local);
        printf(" from %s", local);
    }
    fputs(" via ", stdout);
    put_text(stdout, msg->pvd_name, FIELD_LEN(msg->pvd_name));
    printf(" (pvd %" PRIu64 ", ", msg->pvd);
    put_text(stdout, msg->ifname, FIELD_LEN(msg->ifname));
    printf(") %s %.1f ms", connected ? "in" : "after", ms);
    if (connected && msg->mptcp == MIF_MPTCP_ACTIVE)
        fputs(", MPTCP", stdout);
    else if (connected && msg->mptcp == MIF_MPTCP_FALLBACK)
        fputs(", plain TCP (the peer does not speak MPTCP)", stdout);
    else if (connected && msg->mptcp == MIF_MPTCP_UNAVAILABLE)
        fputs(", plain TCP (no MPTCP on this host)", stdout);
    if (!connected)
        print_failure(msg);
    putchar('\n');
}

/* --report, text: the resolutions, then one row per attempt with a bar along a
 * millisecond axis from the request to the last event.
 *
 *   resolutions (ms from the request):
 *     lan0  AAAA  fd6d:6966:1::1        0.0 +   1.2  2 answers
 *     lan0  A     fd6d:6966:1::1        0.0 +   1.3  1 answer
 *   attempts     0 ms                                      312.4 ms
 *     lan0/ipv6  |=====x                                  |  failed ECONNREFUSED [fd6d:...]:80
 *     wan0/ipv4  |            =============================C|  connected 198.18.1.2:80
 */
#define BAR_WIDTH 48

static void print_report_text(const mif_establishment_report *r)
{
    uint64_t end_us = 1;

    for (size_t i = 0; i < r->resolution_count; i++) {
        uint64_t e = r->resolutions[i].start_us + r->resolutions[i].elapsed_us;
        end_us = e > end_us ? e : end_us;
    }
    for (size_t i = 0; i < r->attempt_count; i++) {
        uint64_t e = r->attempts[i].start_us + r->attempts[i].elapsed_us;
        end_us = e > end_us ? e : end_us;
    }
    printf("resolutions (ms from the request):\n");
    for (size_t i = 0; i < r->resolution_count; i++) {
        const mif_resolution_record *q = &r->resolutions[i];
        char server[MIF_ADDRESS_TEXT_SIZE] = "-";

        if (q->server.family != 0)
            format_address(&q->server, server);
        printf("  ");
        put_text(stdout, q->ifname, FIELD_LEN(q->ifname));
        printf("  %-4s  %-24s %7.1f + %7.1f  ", q->record_type == 28 ? "AAAA" : "A", server,
               (double)q->start_us / 1000.0, (double)q->elapsed_us / 1000.0);
        if (q->answers > 0)
            printf("%" PRIu32 " answer%s\n", q->answers, q->answers == 1 ? "" : "s");
        else
            printf("%s\n", mif_translation_status_name(q->translation_status));
    }
    printf("attempts  0 ms%*s%.1f ms\n", BAR_WIDTH - 2, "", (double)end_us / 1000.0);
    for (size_t i = 0; i < r->attempt_count; i++) {
        const mif_attempt_record *a = &r->attempts[i];
        char bar[BAR_WIDTH + 1];
        char remote[MIF_ADDRESS_TEXT_SIZE + 8];
        size_t from = (size_t)(a->start_us * BAR_WIDTH / end_us);
        size_t to = (size_t)((a->start_us + a->elapsed_us) * BAR_WIDTH / end_us);
        const char *outcome = a->outcome == MIF_ATTEMPT_CONNECTED ? "connected"
                              : a->outcome == MIF_ATTEMPT_FAILED ? "failed" : "abandoned";

        if (from >= BAR_WIDTH)
            from = BAR_WIDTH - 1;
        if (to >= BAR_WIDTH)
            to = BAR_WIDTH - 1;
        memset(bar, ' ', BAR_WIDTH);
        bar[BAR_WIDTH] = '\0';
        for (size_t k = from; k <= to; k++)
            bar[k] = '=';
        bar[to] = a->outcome == MIF_ATTEMPT_CONNECTED ? 'C' : a->outcome == MIF_ATTEMPT_FAILED ? 'x' : '-';
        format_endpoint(&a->remote, a->remote_port, remote, sizeof remote);
        printf("  %-12.*s|%s| %7.1f +%7.1f  %s", (int)FIELD_LEN(a->pvd_name), a->pvd_name, bar,
               (double)a->start_us / 1000.0, (double)a->elapsed_us / 1000.0, outcome);
        if (a->outcome == MIF_ATTEMPT_FAILED) {
            const char *name = errno_name(a->error);
            if (name != NULL)
                printf(" %s", name);
            else
                printf(" errno %" PRId32, a->error);
        }
        printf(" %s\n", remote);
    }
}

/* {"msg":"connected","connection_id":1,"pvd":1,"pvd_name":"mif0/ipv4","ifname":"mif0",
 *  "local":"198.51.100.2:40123","remote":"198.51.100.1:8080","ms":0.5,"error":null}
 * {"msg":"not_connected",...,"local":null,...,"error":"ECONNREFUSED","errno":111,"text":"..."} */
/* "report":{"resolutions":[{"network","type","server","start_ms","ms","answers","error"}],
 *           "attempts":[{"pvd_name","local","remote","start_ms","ms","outcome","errno"}]} */
static void json_report(struct json_line *j, const mif_establishment_report *r)
{
    char text[MIF_ADDRESS_TEXT_SIZE + 8];

    json_key(j, "report");
    fputs("{\"resolutions\":[", j->out);
    for (size_t i = 0; i < r->resolution_count; i++) {
        const mif_resolution_record *q = &r->resolutions[i];
        struct json_line o = { j->out, 0 };

        if (i > 0)
            putc(',', j->out);
        json_str(&o, "network", q->ifname, FIELD_LEN(q->ifname));
        json_str(&o, "type", q->record_type == 28 ? "AAAA" : "A", q->record_type == 28 ? 4 : 1);
        if (q->server.family != 0) {
            format_address(&q->server, text);
            json_str(&o, "server", text, strlen(text));
        } else {
            json_null(&o, "server");
        }
        json_key(&o, "start_ms");
        fprintf(j->out, "%.3f", (double)q->start_us / 1000.0);
        json_key(&o, "ms");
        fprintf(j->out, "%.3f", (double)q->elapsed_us / 1000.0);
        json_uint(&o, "answers", q->answers);
        if (q->answers > 0) {
            json_null(&o, "error");
        } else {
            const char *s = mif_translation_status_name(q->translation_status);
            json_str(&o, "error", s, strlen(s));
        }
        putc('}', j->out);
    }
    fputs("],\"attempts\":[", j->out);
    for (size_t i = 0; i < r->attempt_count; i++) {
        const mif_attempt_record *a = &r->attempts[i];
        struct json_line o = { j->out, 0 };
        const char *outcome = a->outcome == MIF_ATTEMPT_CONNECTED ? "connected"
                              : a->outcome == MIF_ATTEMPT_FAILED ? "failed" : "abandoned";

        if (i > 0)
            putc(',', j->out);
        json_str(&o, "pvd_name", a->pvd_name, FIELD_LEN(a->pvd_name));
        if (a->local.family != 0) {
            format_endpoint(&a->local, a->local_port, text, sizeof text);
            json_str(&o, "local", text, strlen(text));
        } else {
            json_null(&o, "local");
        }
        format_endpoint(&a->remote, a->remote_port, text, sizeof text);
        json_str(&o, "remote", text, strlen(text));
        json_key(&o, "start_ms");
        fprintf(j->out, "%.3f", (double)a->start_us / 1000.0);
        json_key(&o, "ms");
        fprintf(j->out, "%.3f", (double)a->elapsed_us / 1000.0);
        json_str(&o, "outcome", outcome, strlen(outcome));
        if (a->outcome == MIF_ATTEMPT_FAILED)
            json_name_or_number(&o, "errno", errno_name(a->error), (unsigned)a->error);
        else
            json_null(&o, "errno");
        putc('}', j->out);
    }
    fputs("]}", j->out);
}

static void print_connect_json(const struct connect_run *c, const mif_message *msg)
{
    struct json_line j = { stdout, 0 };
    char endpoint[MIF_ADDRESS_TEXT_SIZE + 8];

    json_msg_type(&j, msg);
    json_uint(&j, "connection_id", msg->connection_id);
    if (c->by_name)
        json_str(&j, "name", c->address_arg, strlen(c->address_arg));
    json_pvd(&j, msg);
    json_str(&j, "ifname", msg->ifname, FIELD_LEN(msg->ifname));
    if (msg->msg_type == MIF_MSG_CONNECTED) {
        format_endpoint(&msg->local, msg->local_port, endpoint, sizeof endpoint);
        json_str(&j, "local", endpoint, strlen(endpoint));
    } else {
        json_null(&j, "local");
    }
    format_endpoint(&msg->remote, msg->remote_port, endpoint, sizeof endpoint);
    json_str(&j, "remote", endpoint, strlen(endpoint));
    json_key(&j, "ms");
    fprintf(j.out, "%.1f", (double)msg->elapsed_us / 1000.0);
    if (msg->msg_type == MIF_MSG_CONNECTED) {
        json_null(&j, "error");
    } else {
        const char *text = msg->text != NULL ? msg->text : strerror(msg->error);
        json_name_or_number(&j, "error", errno_name(msg->error), (unsigned)msg->error);
        json_key(&j, "errno");
        fprintf(j.out, "%" PRId32, msg->error);
        json_str(&j, "text", text, strlen(text));
    }
    if (c->by_name) {
        static const char *const names[] = { "not_asked", "active", "fallback", "unavailable" };
        const char *status = msg->mptcp < 4 ? names[msg->mptcp] : "unknown";
        json_key(&j, "mptcp");
        fputs(msg->mptcp == MIF_MPTCP_ACTIVE ? "true" : "false", j.out);
        json_str(&j, "mptcp_status", status, strlen(status));
    }
    if (msg->report != NULL)
        json_report(&j, msg->report);
    json_end(&j);
}

/* Writes what came back for a terminal: like put_text, but newlines, tabs and the
 * '\r' of a "\r\n" pass. */
static void put_received(const char *s, size_t len)
{
    size_t start = 0;

    for (size_t i = 0; i <= len; i++) {
        if (i == len || s[i] == '\n' || s[i] == '\t' || (s[i] == '\r' && i + 1 < len && s[i + 1] == '\n')) {
            put_text(stdout, s + start, i - start);
            if (i < len)
                putchar(s[i]);
            start = i + 1;
        }
    }
}

/* How many bytes at the end of p[0..len) begin a UTF-8 sequence that the next read
 * may complete (0 to 3): the text output holds them back rather than escape them. */
static size_t utf8_incomplete_tail(const unsigned char *p, size_t len)
{
    for (size_t k = 1; k <= 3 && k <= len; k++) {
        unsigned char b = p[len - k];
        size_t need;

        if ((b & 0xc0) == 0x80)
            continue; /* a continuation byte: its lead byte is further back */
        need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc2 ? 2 : 1;
        return need > k ? k : 0;
    }
    return 0;
}

/* Writes all of data[0..len) to the (non-blocking) socket. Returns 1 when sent, 0 on
 * SIGINT/SIGTERM, -1 after printing an error. */
static int send_all(int fd, const char *data, size_t len, const sigset_t *wait_mask)
{
    size_t off = 0;

    while (off < len) {
        /* MSG_NOSIGNAL: a peer that has gone gives EPIPE, not a SIGPIPE that kills us. */
        ssize_t n = send(fd, data + off, len - off, MSG_NOSIGNAL);
        struct pollfd pfd = { .fd = fd, .events = POLLOUT, .revents = 0 };

        if (n >= 0) {
            off += (size_t)n;
            continue;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            fprintf(stderr, PROG " connect: send: %s\n", strerror(errno));
            return -1;
        }
        if (stop_requested)
            return 0;
        if (ppoll(&pfd, 1, NULL, wait_mask) < 0) {
            if (errno == EINTR)
                return 0;
            perror(PROG ": poll");
            return -1;
        }
    }
    return 1;
}

/* --send: writes TEXT and a newline through the connected socket, then prints what
 * comes back until end of stream ("eof"), a reset by the peer ("reset"),
 * RECEIVE_SILENCE_MS without data ("silence"), RECEIVE_MAX bytes ("limit"), another
 * read error ("error") or a signal ("signal"). Text: the bytes as they come; JSON:
 * one "received" line at the end, with "end" saying why. Returns the exit status:
 * 0, or 1 on a send error, a read error other than a reset, or a signal. */
static int connect_exchange(struct connect_run *c, int fd)
{
    size_t text_len = strlen(c->send_text);
    char *line = malloc(text_len + 2);
    char *got = NULL;               /* JSON: everything received */
    size_t got_len = 0;
    char buf[4096 + 3];             /* text: a read, after up to 3 held-back bytes */
    size_t held = 0;
    bool newline_pending = false;   /* text: output does not end with a newline */
    const char *end = NULL;         /* why receiving ended */
    int read_errno = 0;
    int sent, status = 0;

    /* Non-blocking, so that every wait is a ppoll() that SIGINT/SIGTERM can end. */
    if (line == NULL || fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0) {
        fprintf(stderr, PROG " connect: %s\n", line == NULL ? "out of memory" : strerror(errno));
        free(line);
        return 1;
    }
    memcpy(line, c->send_text, text_len);
    line[text_len] = '\n';
    sent = send_all(fd, line, text_len + 1, &c->s.wait_mask);
    free(line);
    if (sent <= 0)
        return 1;
    if (c->s.verbose)
        fprintf(stderr, PROG ": debug: sent %zu bytes\n", text_len + 1);
    if (c->s.json && (got = malloc(RECEIVE_MAX)) == NULL) {
        fprintf(stderr, PROG " connect: out of memory\n");
        return 1;
    }

    while (end == NULL) {
        struct pollfd pfd = { .fd = fd, .events = POLLIN, .revents = 0 };
        struct timespec silence = { RECEIVE_SILENCE_MS / 1000, (RECEIVE_SILENCE_MS % 1000) * 1000000L };
        ssize_t n;
        int ready;

        if (stop_requested) {
            end = "signal";
            break;
        }
        ready = ppoll(&pfd, 1, &silence, &c->s.wait_mask);
        if (ready < 0) {
            if (errno == EINTR)
                continue; /* the signal is seen at the top of the loop */
            read_errno = errno;
            end = "error";
            break;
        }
        if (ready == 0) {
            end = "silence";
            break;
        }
        if (c->s.json)
            n = recv(fd, got + got_len, RECEIVE_MAX - got_len, 0);
        else
            n = recv(fd, buf + held, sizeof buf - held, 0);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                continue;
            if (errno == ECONNRESET || errno == EPIPE) {
                /* EPIPE: what an MPTCP socket fallen back to TCP reports for the same. */
                /* Common: a server that closes without reading all we sent. What came
                 * before the reset has been received; not an error of ours. */
                end = "reset";
            } else {
                read_errno = errno;
                end = "error";
            }
        } else if (n == 0) {
            end = "eof";
        } else if (c->s.json) {
            got_len += (size_t)n;
            if (got_len == RECEIVE_MAX)
                end = "limit";
        } else {
            size_t len = held + (size_t)n;
            size_t keep = utf8_incomplete_tail((const unsigned char *)buf, len);

            put_received(buf, len - keep);
            if (len > keep)
                newline_pending = buf[len - keep - 1] != '\n';
            memmove(buf, buf + len - keep, keep);
            held = keep;
            if (!flush_stdout()) {
                end = "output";
                status = 1;
            }
        }
    }

    if (c->s.json) {
        struct json_line j = { stdout, 0 };
        json_str(&j, "msg", "received", 8);
        json_str(&j, "text", got, got_len);
        json_uint(&j, "bytes", got_len);
        json_str(&j, "end", end, strlen(end));
        json_end(&j);
        free(got);
    } else if (held > 0 || newline_pending) {
        put_received(buf, held); /* an incomplete sequence at the very end: escaped */
        putchar('\n');
    }
    if (read_errno != 0) {
        fprintf(stderr, PROG " connect: receive: %s\n", strerror(read_errno));
        status = 1;
    } else if (strcmp(end, "reset") == 0 && !c->s.json) {
        fprintf(stderr, PROG " connect: connection reset by the peer\n");
    } else if (strcmp(end, "signal") == 0) {
        status = 1;
    }
    if (c->s.verbose)
        fprintf(stderr, PROG ": debug: receiving ended: %s\n", end);
    return status;
}

static int run_connect(struct connect_run *c)
{
    static const struct message_loop loop = {
        .handle = connect_message,
        .batch = 0,
        .progress = connect_progress,
        .on_signal = connect_on_signal,
    };
    const mif_message *result;
    int status;

    if (!announce_interfaces(&c->s))
        return 1;

    /* 1. The initial iteration, as in resolve: interfaces, then each one's PvDs;
     * 2. connect_progress chooses the PvD and posts the connect;
     * 3. wait for its result; Ctrl-C cancels it (and its result is then waiting). */
    status = run_message_loop(&c->s, &loop, c);
    if (status != 0)
        return status;

    result = c->result;
    if (c->s.json) {
        print_connect_json(c, result);
    } else {
        print_connect_text(c, result);
        if (c->report && result->report != NULL)
            print_report_text(result->report);
    }
    if (!flush_stdout())
        return 1;
    if (result->msg_type != MIF_MSG_CONNECTED)
        return 1;

    /* 4. The socket is ours now (mif_message_free does not close it). */
    if (c->send_text != NULL && !stop_requested)
        status = connect_exchange(c, result->fd);
    else
        status = stop_requested ? 1 : 0;
    return status;
}

static void usage_connect(FILE *out)
{
    fprintf(out,
        "usage: " PROG " connect ADDRESS PORT [--interface IF | --pvd PVD] [--from SRC]\n"
        "                      [--send TEXT] [--json] [--attempt-delay MS] [--timeout MS]\n"
        "                      [--verbose] [LIBRARY OPTIONS]\n"
        "       " PROG " connect NAME PORT [--prefer IF]... [--avoid IF]... [--prohibit IF]...\n"
        "                      [--require IF]... [--family F] [--report] [--mptcp] [--send TEXT] [--json]\n"
        "                      [--attempt-delay MS] [--timeout MS] [--verbose] [LIBRARY OPTIONS]\n"
        "\n"
        "With a NAME: Connect to Name. The library asks every network (interface) for\n"
        "NAME through that network's own DNS servers, races TCP connections to the\n"
        "answers across networks (Happy Eyeballs: IPv6 first, families interleaved, a\n"
        "new attempt every --attempt-delay ms, the next network after 300 ms unless the\n"
        "earlier ones failed) and keeps the first that completes. --prefer networks go\n"
        "first, --avoid ones only after every other failed, --prohibit ones never (not\n"
        "even a DNS query), and with --require only those. --report prints each\n"
        "resolution and each attempt on a millisecond axis (with --json: \"report\").\n"
        "\n"
        "Opens a TCP connection to ADDRESS (IPv4 or IPv6; a link-local IPv6 address may\n"
        "carry a scope: fe80::1%%mif0 or fe80::1%%3) port PORT through one provisioning\n"
        "domain (PvD) of the destination's family: the library races the PvD's source\n"
        "addresses (RFC 8305), pins every attempt to the PvD's link and hands over the\n"
        "connected socket. Prints Connected (remote, local, PvD, time) or Not connected\n"
        "(errno name and text), then closes the socket, unless --send is given.\n"
        "\n"
        "Which PvD: with --pvd, that one; with --interface, that interface's PvD of the\n"
        "destination's family; for a link-local ADDRESS with a scope, the IPv6 PvD of\n"
        "the scope's interface; otherwise the first PvD of the destination's family in\n"
        "the order the library announces them (by interface index), loopback\n"
        "interfaces aside. Only PvDs present at the start are considered.\n"
        "\n"
        "Ctrl-C or SIGTERM while connecting cancels the connect (Cancel Connect) and\n"
        "prints its result (normally Not connected, ECANCELED); while receiving, it\n"
        "stops receiving.\n"
        "Exit status: 0 connected (with --send: and TEXT sent, whether the reply ended\n"
        "with the peer closing, resetting or going silent), 1 not connected, no such\n"
        "PvD, a signal, a send or receive error; 2 on bad usage or a connect the library\n"
        "refuses (unknown PvD, a source that is not the PvD's, wrong family...).\n"
        "\n"
        "options:\n"
        "  -i, --interface IF      connect through the PvD of interface IF (loopback too)\n"
        "  -p, --pvd PVD           connect through that PvD: its id (as this command's own\n"
        "                          context numbers them) or its name, e.g. mif0/ipv4\n"
        "  -f, --from SRC          connect from source address SRC, which must be a valid\n"
        "                          address of the PvD (Connect From Address)\n"
        "  -s, --send TEXT         once connected, send TEXT and a newline, then print what\n"
        "                          comes back until the peer closes or %d s pass without\n"
        "                          data, and close the socket\n"
        "  -j, --json              one JSON object per line: connected or not_connected,\n"
        "                          then with --send one received object: text, bytes,\n"
        "                          end (eof, reset, silence, limit, error or signal)\n"
        "      --attempt-delay MS  wait MS milliseconds (10 to 2000, default 250) before\n"
        "                          racing the next source address\n"
        "      --timeout MS        give up after MS milliseconds (default 10000): ETIMEDOUT\n"
        "      --prefer IF         (NAME) try network IF first (repeatable)\n"
        "      --avoid IF          (NAME) try IF only after every other network failed\n"
        "      --prohibit IF       (NAME) never use IF\n"
        "      --require IF        (NAME) use only the networks given with --require\n"
        "      --family F          (NAME) ipv6-first (default), ipv4-first, ipv6 or ipv4\n"
        "      --report            (NAME) print how the connection was established\n"
        "      --mptcp             (NAME) Multipath TCP; says whether the peer speaks it\n"
        "  -v, --verbose           debug lines on stderr\n"
        "  -h, --help              this help\n"
        "\n", RECEIVE_SILENCE_MS / 1000);
    usage_library_options(out);
}

/* --prefer IF and the like: one selection by interface name, resolved when the
 * request is posted (after the context is open, in its namespace). */
static int add_selection(struct connect_run *c, const char *option, uint32_t preference, const char *ifname)
{
    if (c->selection_count == MIF_MAX_SELECTIONS) {
        fprintf(stderr, "%s: %s: at most %d selections\n", c->s.cmd, option, (int)MIF_MAX_SELECTIONS);
        return -1;
    }
    c->selections[c->selection_count].size = sizeof(mif_selection);
    c->selections[c->selection_count].preference = preference;
    c->selection_args[c->selection_count] = ifname;
    c->selection_count++;
    return 1;
}

/* connect's own options. */
static int connect_option(void *run, int opt, const char *value)
{
    struct connect_run *c = run;
    unsigned long long v;

    switch (opt) {
    case OPT_PREFER:
        return add_selection(c, "--prefer", MIF_PREFERENCE_PREFER, value);
    case OPT_AVOID:
        return add_selection(c, "--avoid", MIF_PREFERENCE_AVOID, value);
    case OPT_PROHIBIT:
        return add_selection(c, "--prohibit", MIF_PREFERENCE_PROHIBIT, value);
    case OPT_REQUIRE:
        return add_selection(c, "--require", MIF_PREFERENCE_REQUIRE, value);
    case OPT_REPORT:
        c->report = true;
        return 1;
    case OPT_MPTCP:
        c->mptcp = true;
        return 1;
    case OPT_FAMILY:
        if (strcmp(value, "ipv6-first") == 0)
            c->family_preference = MIF_FAMILY_PREFERENCE_IPV6_FIRST;
        else if (strcmp(value, "ipv4-first") == 0)
            c->family_preference = MIF_FAMILY_PREFERENCE_IPV4_FIRST;
        else if (strcmp(value, "ipv6") == 0)
            c->family_preference = MIF_FAMILY_PREFERENCE_IPV6_ONLY;
        else if (strcmp(value, "ipv4") == 0)
            c->family_preference = MIF_FAMILY_PREFERENCE_IPV4_ONLY;
        else {
            fprintf(stderr, "%s: --family: one of ipv6-first, ipv4-first, ipv6, ipv4: '%s'\n", c->s.cmd, value);
            return -1;
        }
        return 1;
    case 'f':
        c->from_arg = value;
        return 1;
    case 's':
        c->send_text = value;
        return 1;
    case OPT_ATTEMPT_DELAY:
        if (!parse_number_arg(c->s.cmd, "--attempt-delay", "not a number of milliseconds from 10 to 2000", value,
                              10, 2000, &v))
            return -1;
        c->s.lib.connect_attempt_delay_ms = (uint32_t)v;
        c->name_attempt_delay_ms = v < 100 ? 100 : (uint32_t)v;
        return 1;
    case OPT_CONNECT_TIMEOUT:
        if (!parse_number_arg(c->s.cmd, "--timeout", "not a number of milliseconds (1 or more)", value,
                              1, UINT32_MAX, &v))
            return -1;
        c->s.lib.connect_timeout_ms = (uint32_t)v;
        c->name_timeout_ms = v > 3600000 ? 3600000 : (uint32_t)v;
        return 1;
    default:
        return 0;
    }
}

static const struct option connect_long_options[] = {
    JSON_INTERFACE_LONG_OPTIONS,
    PVD_LONG_OPTION,
    { "from", required_argument, NULL, 'f' },
    { "send", required_argument, NULL, 's' },
    { "attempt-delay", required_argument, NULL, OPT_ATTEMPT_DELAY },
    { "timeout", required_argument, NULL, OPT_CONNECT_TIMEOUT },
    { "prefer", required_argument, NULL, OPT_PREFER },
    { "avoid", required_argument, NULL, OPT_AVOID },
    { "prohibit", required_argument, NULL, OPT_PROHIBIT },
    { "require", required_argument, NULL, OPT_REQUIRE },
    { "family", required_argument, NULL, OPT_FAMILY },
    { "report", no_argument, NULL, OPT_REPORT },
    { "mptcp", no_argument, NULL, OPT_MPTCP },
    VERBOSE_HELP_LONG_OPTIONS,
    LIBRARY_LONG_OPTIONS,
    { NULL, 0, NULL, 0 },
};

static const struct command_line connect_command_line = {
    /* No '+': options may follow ADDRESS and PORT. */
    .short_options = "ji:p:f:s:vh",
    .long_options = connect_long_options,
    .operands = { "NAME|ADDRESS", "PORT", NULL },
    .usage = usage_connect,
    .option = connect_option,
};

int cmd_connect(int argc, char **argv)
{
    struct connect_run c;
    unsigned long long v;
    int status;

    memset(&c, 0, sizeof c);
    if (!parse_command_line(&connect_command_line, argc, argv, &c.s, &c, &status))
        return status;
    c.address_arg = argv[optind];
    c.by_name = !looks_like_address(argv[optind]);
    if (!c.by_name && !parse_ip_address(argv[0], "ADDRESS", argv[optind], &c.remote))
        return 2;
    if (!parse_number_arg(argv[0], "PORT", "not a port number from 1 to 65535", argv[optind + 1], 1, 65535, &v))
        return 2;
    c.port = (uint16_t)v;
    if (c.by_name && (c.from_arg != NULL || c.s.only_ifname != NULL || c.s.only_pvd != NULL)) {
        fprintf(stderr, PROG " connect: %s is a name: --from, --interface and --pvd go with an address; "
                "use --require IF to keep to one network\n", c.address_arg);
        return 2;
    }
    if (!c.by_name && (c.selection_count > 0 || c.report || c.family_preference != 0 || c.mptcp)) {
        fprintf(stderr, PROG " connect: --prefer, --avoid, --prohibit, --require, --family, --report and "
                "--mptcp go with a NAME\n");
        return 2;
    }
    for (size_t i = 0; i < c.selection_count; i++) {
        c.selections[i].ifindex = if_nametoindex(c.selection_args[i]);
        if (c.selections[i].ifindex == 0) {
            fprintf(stderr, PROG " connect: no interface '%s'\n", c.selection_args[i]);
            return 2;
        }
    }
    if (c.from_arg != NULL) {
        if (!parse_ip_address(argv[0], "--from", c.from_arg, &c.local))
            return 2;
        if (c.local.family != c.remote.family) {
            fprintf(stderr, PROG " connect: --from %s is not of the family of %s\n", c.from_arg, c.address_arg);
            return 2;
        }
    }
    /* Loopback interfaces' PvDs only with --interface, --pvd or a scope (fe80::1%lo). */
    c.s.skip_loopback = c.s.only_pvd == NULL && c.remote.scope_id == 0;

    if (!session_open(&c.s))
        return 1;
    status = run_connect(&c);
    if (c.result != NULL) {
        if (c.result->msg_type == MIF_MSG_CONNECTED && c.result->fd >= 0)
            close(c.result->fd); /* ours since mif_get_message; mif_message_free leaves it */
        mif_message_free(c.result);
    }
    return session_close(&c.s, status);
}
