/*
 * figure2.c: the draft's example flow (draft-ietf-mif-api-extension-05, section 3.3),
 * narrated: learn the networks, then translate NAME on every network and connect
 * through whichever answers first, as one request.
 *
 *   figure2 NAME PORT [--root DIR] [--config FILE]
 *
 * Steps 1-12 of the figure (interfaces, their provisioning domains) are two
 * subscriptions; steps 13-16 (translate on every PvD, connect on every interface,
 * take what answers) are MIF_REQ_CONNECT_TO_NAME, whose result carries a report of
 * every query and attempt. Exit status 0 when connected, 1 when not, 2 on bad usage.
 *
 * Build: cc -Iinclude figure2.c -Lbuild/lib -lmif -Wl,-rpath,"$PWD/build/lib"
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mif.h>

static mif_ctx *ctx;

static void post(mif_request *req)
{
    mif_result rc = mif_post_message(ctx, req);
    if (rc != MIF_OK) {
        fprintf(stderr, "figure2: %s: %s\n", mif_request_type_name(req->request_type), mif_strerror(rc));
        exit(2);
    }
}

/* Takes every message already waiting (the answer to a subscription comes at once). */
static mif_message *next_waiting(void)
{
    mif_message *m = NULL;
    return mif_get_message(ctx, &m) == MIF_OK ? m : NULL;
}

static const char *text_of(const mif_address *a, char buf[MIF_ADDRESS_TEXT_SIZE])
{
    if (a->family == 0)
        return "(none)";
    mif_address_format(a, buf, MIF_ADDRESS_TEXT_SIZE);
    return buf;
}

int main(int argc, char **argv)
{
    mif_options opts;
    mif_request req;
    mif_message *m;
    char a[MIF_ADDRESS_TEXT_SIZE], b[MIF_ADDRESS_TEXT_SIZE];
    const char *operand[2] = { NULL, NULL };
    int i, n = 0, status;

    mif_options_init(&opts);
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--root") == 0 && i + 1 < argc)
            opts.root_dir = argv[++i];
        else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            opts.config_file = argv[++i];
        else if (argv[i][0] != '-' && n < 2)
            operand[n++] = argv[i];
        else
            n = 3; /* unknown option or operand too many */
    }
    if (n != 2 || atoi(operand[1]) <= 0 || atoi(operand[1]) > 65535) {
        fprintf(stderr, "usage: figure2 NAME PORT [--root DIR] [--config FILE]\n");
        return 2;
    }
    if (mif_open(&opts, &ctx) != MIF_OK) {
        fprintf(stderr, "figure2: cannot open a libmif context\n");
        return 1;
    }

    /* Steps 1-12: which networks are there? Every interface, then each one's PvDs. */
    printf("1-12. the networks of this host:\n");
    mif_request_init(&req, MIF_REQ_ANNOUNCE_INTERFACES);
    post(&req);
    while ((m = next_waiting()) != NULL) {
        if (m->msg_type == MIF_MSG_INTERFACE_ANNOUNCEMENT) {
            mif_request_init(&req, MIF_REQ_ANNOUNCE_PVDS);
            req.ifindex = m->ifindex;
            post(&req); /* its PvDs are queued behind what waits already */
        } else if (m->msg_type == MIF_MSG_PVD_ANNOUNCEMENT) {
            printf("      %-8s PvD %s\n", m->ifname, m->pvd_name);
        }
        mif_message_free(m);
    }

    /* Steps 13-16 as one request: the name on every network, through each network's
     * own DNS servers; TCP to the answers, raced across networks; the first wins. */
    printf("13-16. connect to %s port %s on whichever network answers first\n", operand[0], operand[1]);
    mif_request_init(&req, MIF_REQ_CONNECT_TO_NAME);
    req.name = operand[0];
    req.remote_port = (uint16_t)atoi(operand[1]);
    req.connection_id = 1;
    post(&req);
    for (;;) {
        if (mif_check_message(ctx, -1) != MIF_OK || (m = next_waiting()) == NULL)
            continue;
        if (m->msg_type == MIF_MSG_CONNECTED || m->msg_type == MIF_MSG_NOT_CONNECTED)
            break;
        mif_message_free(m); /* later PvD changes: not needed here */
    }

    /* What happened, from the report. */
    for (size_t k = 0; m->report != NULL && k < m->report->resolution_count; k++) {
        const mif_resolution_record *q = &m->report->resolutions[k];
        printf("      asked %-6s server %-16s for %-4s: ", q->ifname, text_of(&q->server, a),
               q->record_type == 28 ? "AAAA" : "A");
        if (q->answers > 0)
            printf("%u answer(s) in %.1f ms\n", q->answers, q->elapsed_us / 1000.0);
        else
            printf("%s\n", mif_translation_status_name(q->translation_status));
    }
    for (size_t k = 0; m->report != NULL && k < m->report->attempt_count; k++) {
        const mif_attempt_record *t = &m->report->attempts[k];
        printf("      tried %-15s via %-10s at %6.1f ms: %s\n", text_of(&t->remote, a), t->pvd_name,
               t->start_us / 1000.0,
               t->outcome == MIF_ATTEMPT_CONNECTED ? "connected"
               : t->outcome == MIF_ATTEMPT_FAILED  ? strerror(t->error)
                                                   : "closed (another won)");
    }
    if (m->msg_type == MIF_MSG_CONNECTED) {
        char reply[256];
        struct pollfd p = { m->fd, POLLIN, 0 };
        ssize_t n = 0;
        printf("done: connected via %s from %s to %s in %.1f ms\n", m->pvd_name, text_of(&m->local, a),
               text_of(&m->remote, b), m->elapsed_us / 1000.0);
        /* The socket is ours: read what the server says first, if it says anything. */
        if (poll(&p, 1, 2000) == 1 && (n = read(m->fd, reply, sizeof reply - 1)) > 0) {
            reply[n] = '\0';
            printf("the server says: %s\n", reply);
        }
        close(m->fd);
        status = 0;
    } else {
        printf("done: not connected: %s (%s)\n", strerror(m->error), m->text ? m->text : "");
        status = 1;
    }
    mif_message_free(m);
    mif_close(ctx);
    return status;
}
