/*
 * translate_all.c: translate a name on every network separately. Each provisioning
 * domain (PvD: one per interface and address family) asks its own DNS servers over
 * its own link, so each network's answers are printed apart:
 *
 *   translate_all [--root DIR] NAME
 *
 *   mif0/ipv4: 198.18.10.10 (ttl 300)
 *   mif0/ipv4: done
 *   mif1/ipv4: 198.18.20.20 (ttl 300)
 *   mif1/ipv4: done
 *   mif1/ipv6: no_servers
 *
 * The last line of each network is its status: done (at least one address),
 * no_such_name, no_data, timeout, server_failure or no_servers. Exits once every
 * translation has ended: status 0 if any network gave an address, else 1.
 *
 * This program has nothing else to wait for, so it waits in mif_check_message()
 * instead of its own poll() loop (poll.c shows that one).
 *
 * --root DIR makes the library read its configuration and state files (etc/, run/)
 * under DIR instead of /, as tests do.
 *
 * Build: cc -Iinclude translate_all.c -Lbuild/lib -lmif -Wl,-rpath,"$PWD/build/lib"
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <mif.h>

struct run {
    mif_ctx *ctx;
    const char *name;    /* the name to translate */
    bool initial_done;   /* every network present at the start has been asked */
    uint64_t started;    /* translations posted; their ids are 1, 2, 3... */
    uint64_t finished;   /* ... and ended (MIF_MSG_NAME_TRANSLATION_DONE) */
    bool found;          /* some network gave an address */
    bool failed;         /* the library's engine failed */
};

/* Posts MIF_REQ_TRANSLATE_NAME on the PvD of `msg`. The translation id is ours. */
static void translate(struct run *r, const mif_message *msg)
{
    mif_request req;
    mif_result rc;

    mif_request_init(&req, MIF_REQ_TRANSLATE_NAME);
    req.pvd = msg->pvd;
    req.name = r->name;
    req.translation_id = r->started + 1;
    rc = mif_post_message(r->ctx, &req);
    if (rc == MIF_OK)
        r->started++;
    else if (rc != MIF_E_UNKNOWN_PVD) /* that one: the PvD has just gone */
        fprintf(stderr, "translating %s on %s: %s\n", r->name, msg->pvd_name, mif_strerror(rc));
}

static void handle_message(struct run *r, const mif_message *msg)
{
    char addr[MIF_ADDRESS_TEXT_SIZE];
    mif_request req;

    switch (msg->msg_type) {
    case MIF_MSG_INTERFACE_ANNOUNCEMENT:
        /* Each interface's PvDs; loopback is no network. Interfaces that come later
         * are not asked. */
        if (r->initial_done || (msg->link_flags & MIF_LINK_LOOPBACK))
            break;
        mif_request_init(&req, MIF_REQ_ANNOUNCE_PVDS);
        req.ifindex = msg->ifindex;
        mif_post_message(r->ctx, &req); /* refused only if it has just gone */
        break;
    case MIF_MSG_PVD_ANNOUNCEMENT:
        if (!r->initial_done)
            translate(r, msg);
        break;
    case MIF_MSG_NAME_TRANSLATION: /* one address */
        mif_address_format(&msg->address, addr, sizeof addr);
        printf("%s: %s (ttl %u)\n", msg->pvd_name, addr, msg->ttl);
        r->found = true;
        break;
    case MIF_MSG_NAME_TRANSLATION_DONE: /* always the last message of a translation */
        printf("%s: %s\n", msg->pvd_name, mif_translation_status_name(msg->translation_status));
        r->finished++;
        break;
    case MIF_MSG_ENGINE_FAILED:
        fprintf(stderr, "libmif engine failed: %s\n", msg->text ? msg->text : mif_strerror(msg->status));
        r->failed = true;
        break;
    default: /* No PvD...: a translation on a PvD that goes ends with no_servers */
        break;
    }
}

/* Takes and handles every waiting message. */
static void take_messages(struct run *r)
{
    mif_message *msg;

    while (!r->failed && mif_get_message(r->ctx, &msg) == MIF_OK) {
        handle_message(r, msg);
        mif_message_free(msg);
    }
}

int main(int argc, char **argv)
{
    struct run r = { 0 };
    mif_options opts;
    mif_request req;
    mif_result rc;

    mif_options_init(&opts);
    if (argc == 4 && strcmp(argv[1], "--root") == 0) {
        opts.root_dir = argv[2];
        r.name = argv[3];
    } else if (argc == 2) {
        r.name = argv[1];
    } else {
        fprintf(stderr, "usage: %s [--root DIR] NAME\n", argv[0]);
        return 2;
    }

    rc = mif_open(&opts, &r.ctx);
    if (rc != MIF_OK) {
        fprintf(stderr, "mif_open: %s\n", mif_strerror(rc));
        return 1;
    }

    /* The networks present now. A subscription's first announcements are queued
     * before its post returns, and we subscribe to each interface's PvDs while taking
     * the interfaces: once nothing waits, every PvD has been announced, and asked. */
    mif_request_init(&req, MIF_REQ_ANNOUNCE_INTERFACES);
    rc = mif_post_message(r.ctx, &req);
    if (rc != MIF_OK) {
        fprintf(stderr, "announce_interfaces: %s\n", mif_strerror(rc));
        mif_close(r.ctx);
        return 1;
    }
    take_messages(&r);
    r.initial_done = true;
    if (r.started == 0 && !r.failed)
        fprintf(stderr, "no network to ask\n");

    /* The answers, as they come. A PvD whose configuration is still being learned
     * (just after mif_open) holds its translation back until it is known. */
    while (!r.failed && r.finished < r.started) {
        rc = mif_check_message(r.ctx, -1);
        if (rc == MIF_OK) {
            take_messages(&r);
        } else if (rc != MIF_E_INTERRUPTED) {
            fprintf(stderr, "mif_check_message: %s\n", mif_strerror(rc));
            r.failed = true;
        }
    }

    mif_close(r.ctx);
    return r.found && !r.failed ? 0 : 1;
}
