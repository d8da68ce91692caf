/*
 * dns_servers.c: print every network's DNS servers, search domains and default
 * routers, then exit:
 *
 *   dns_servers [--root DIR]
 *
 *   mif0/ipv4
 *     dns servers     198.51.100.53
 *     search domains  -
 *     routers         198.51.100.1
 *   mif0/ipv6
 *     dns servers     fd6d:6966:a::1
 *     search domains  a.example
 *     routers         fe80::8c5e:1ff:fe4a:e0b2%2
 *
 * Each network is a provisioning domain (PvD: one per interface and address family;
 * loopback aside). Its configuration comes from Router Advertisements, DHCP leases,
 * link managers' state files, the static file and /etc/resolv.conf, merged by
 * MIF_REQ_GET_CONFIGURATION_DATA. Routers only say what they advertise when asked
 * or every few minutes, so just after mif_open an IPv6 PvD is still *learning* its
 * configuration (a few seconds at most): such a PvD is asked only once
 * MIF_MSG_PVD_CONFIGURATION_COMPLETE says it is complete. No timer, no guessing:
 * the program exits when every PvD present at the start has answered.
 *
 * --root DIR makes the library read its configuration and state files (etc/, run/)
 * under DIR instead of /, as tests do.
 *
 * Build: cc -Iinclude dns_servers.c -Lbuild/lib -lmif -Wl,-rpath,"$PWD/build/lib"
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <mif.h>

#define MAX_LEARNING 256

struct run {
    mif_ctx *ctx;
    bool initial_done;                 /* the PvDs present at the start are known */
    uint64_t learning[MAX_LEARNING];   /* PvDs to ask once their configuration is complete */
    size_t n_learning;
    bool failed;                       /* the library's engine failed */
};

static void add_learning(struct run *r, uint64_t pvd)
{
    for (size_t i = 0; i < r->n_learning; i++)
        if (r->learning[i] == pvd)
            return;
    if (r->n_learning < MAX_LEARNING)
        r->learning[r->n_learning++] = pvd;
}

/* Returns whether pvd was in the set. */
static bool remove_learning(struct run *r, uint64_t pvd)
{
    for (size_t i = 0; i < r->n_learning; i++) {
        if (r->learning[i] == pvd) {
            r->learning[i] = r->learning[--r->n_learning];
            return true;
        }
    }
    return false;
}

/* Asks for everything a PvD's configuration holds. The answer is queued before the
 * post returns. */
static void ask(struct run *r, uint64_t pvd)
{
    mif_request req;

    mif_request_init(&req, MIF_REQ_GET_CONFIGURATION_DATA);
    req.pvd = pvd;
    req.element_type = MIF_ELEMENT_ANY; /* from every source */
    req.info_id = MIF_INFO_ALL;         /* every list */
    mif_post_message(r->ctx, &req);     /* refused only if the PvD has just gone */
}

static void print_addresses(const char *label, const mif_address *list, size_t n)
{
    char text[MIF_ADDRESS_TEXT_SIZE];

    printf("  %-15s", label);
    for (size_t i = 0; i < n; i++) {
        mif_address_format(&list[i], text, sizeof text);
        printf(" %s", text);
    }
    printf("%s\n", n == 0 ? " -" : "");
}

static void print_configuration(const mif_message *msg)
{
    printf("%s\n", msg->pvd_name);
    if (msg->msg_type == MIF_MSG_NO_CONFIGURATION_DATA) {
        printf("  no configuration data\n");
        return;
    }
    print_addresses("dns servers", msg->dns_servers, msg->dns_server_count);
    printf("  %-15s", "search domains");
    for (size_t i = 0; i < msg->search_domain_count; i++)
        printf(" %s", msg->search_domains[i]);
    printf("%s\n", msg->search_domain_count == 0 ? " -" : "");
    print_addresses("routers", msg->routers, msg->router_count);
}

static void handle_message(struct run *r, const mif_message *msg)
{
    mif_request req;

    switch (msg->msg_type) {
    case MIF_MSG_INTERFACE_ANNOUNCEMENT:
        if (r->initial_done || (msg->link_flags & MIF_LINK_LOOPBACK))
            break;
        mif_request_init(&req, MIF_REQ_ANNOUNCE_PVDS);
        req.ifindex = msg->ifindex;
        mif_post_message(r->ctx, &req); /* refused only if it has just gone */
        break;
    case MIF_MSG_PVD_ANNOUNCEMENT:
        if (r->initial_done)
            break; /* came later */
        if (msg->config_state == MIF_CONFIG_STATE_LEARNING)
            add_learning(r, msg->pvd);
        else
            ask(r, msg->pvd);
        break;
    case MIF_MSG_PVD_CONFIGURATION_COMPLETE:
        if (remove_learning(r, msg->pvd))
            ask(r, msg->pvd);
        break;
    case MIF_MSG_NO_PVD_ANNOUNCEMENT:
        remove_learning(r, msg->pvd); /* gone before it was complete */
        break;
    case MIF_MSG_CONFIGURATION_LEARNING:
        /* Learning again since its announcement (its link came back up): ask again
         * once it is complete. */
        add_learning(r, msg->pvd);
        break;
    case MIF_MSG_CONFIGURATION_DATA:
    case MIF_MSG_NO_CONFIGURATION_DATA:
        print_configuration(msg);
        break;
    case MIF_MSG_ENGINE_FAILED:
        fprintf(stderr, "libmif engine failed: %s\n", msg->text ? msg->text : mif_strerror(msg->status));
        r->failed = true;
        break;
    default:
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
    if (argc == 3 && strcmp(argv[1], "--root") == 0) {
        opts.root_dir = argv[2];
    } else if (argc != 1) {
        fprintf(stderr, "usage: %s [--root DIR]\n", argv[0]);
        return 2;
    }

    rc = mif_open(&opts, &r.ctx);
    if (rc != MIF_OK) {
        fprintf(stderr, "mif_open: %s\n", mif_strerror(rc));
        return 1;
    }

    /* The networks present now. A subscription's first announcements, like the
     * answer to Get Configuration Data, are queued before its post returns, and we
     * post while taking messages: once nothing waits, every PvD has been announced,
     * and each complete one has answered. */
    mif_request_init(&req, MIF_REQ_ANNOUNCE_INTERFACES);
    rc = mif_post_message(r.ctx, &req);
    if (rc != MIF_OK) {
        fprintf(stderr, "announce_interfaces: %s\n", mif_strerror(rc));
        mif_close(r.ctx);
        return 1;
    }
    take_messages(&r);
    r.initial_done = true;

    /* Then wait for the PvDs still learning. */
    while (!r.failed && r.n_learning > 0) {
        rc = mif_check_message(r.ctx, -1);
        if (rc == MIF_OK) {
            take_messages(&r);
        } else if (rc != MIF_E_INTERRUPTED) {
            fprintf(stderr, "mif_check_message: %s\n", mif_strerror(rc));
            r.failed = true;
        }
    }

    mif_close(r.ctx);
    return r.failed ? 1 : 0;
}
