/*
 * epoll.c: follow the host's interfaces, provisioning domains (PvDs) and addresses
 * with libmif in an epoll loop, until SIGINT or SIGTERM.
 *
 *   epoll [--root DIR]
 *
 * Prints one line per message, for example
 *
 *   interface 2 mif0
 *   pvd mif0/ipv4 on mif0
 *   address 198.51.100.2/24 on mif0 (mif0/ipv4)
 *   address gone 198.51.100.2/24 on mif0 (mif0/ipv4)
 *
 * The signals arrive as a readable signalfd, next to mif_fd() in the epoll set.
 * mif_fd() is level-triggered (readable while any message waits), so the default
 * (level-triggered) epoll mode is the right one.
 *
 * --root DIR makes the library read its configuration and state files (etc/, run/)
 * under DIR instead of /, as tests do.
 *
 * Build: cc -Iinclude epoll.c -Lbuild/lib -lmif -Wl,-rpath,"$PWD/build/lib"
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <mif.h>

/* Posts a subscription request. One about an interface or PvD that has just gone is
 * refused (MIF_E_UNKNOWN_INTERFACE / _PVD): normal, its removal message follows. */
static void subscribe(mif_ctx *ctx, mif_request_type type, uint32_t ifindex, uint64_t pvd)
{
    mif_request req;
    mif_result rc;

    mif_request_init(&req, type);
    req.ifindex = ifindex;
    req.pvd = pvd;
    rc = mif_post_message(ctx, &req);
    if (rc != MIF_OK && rc != MIF_E_UNKNOWN_INTERFACE && rc != MIF_E_UNKNOWN_PVD)
        fprintf(stderr, "%s: %s\n", mif_request_type_name(type), mif_strerror(rc));
}

/* Prints one message and subscribes one level down: to each interface's PvDs, to
 * each PvD's addresses. (A renamed interface is announced again; subscribing again
 * only repeats its PvDs.) Returns false when the library's engine has failed. */
static bool handle_message(mif_ctx *ctx, const mif_message *msg)
{
    char addr[MIF_ADDRESS_TEXT_SIZE];

    switch (msg->msg_type) {
    case MIF_MSG_INTERFACE_ANNOUNCEMENT:
        printf("interface %u %s\n", msg->ifindex, msg->ifname);
        subscribe(ctx, MIF_REQ_ANNOUNCE_PVDS, msg->ifindex, 0);
        break;
    case MIF_MSG_NO_INTERFACE_ANNOUNCEMENT:
        printf("interface gone %u %s\n", msg->ifindex, msg->ifname);
        break;
    case MIF_MSG_PVD_ANNOUNCEMENT:
        printf("pvd %s on %s\n", msg->pvd_name, msg->ifname);
        subscribe(ctx, MIF_REQ_ANNOUNCE_ADDRESSES, 0, msg->pvd);
        break;
    case MIF_MSG_NO_PVD_ANNOUNCEMENT:
        printf("pvd gone %s on %s\n", msg->pvd_name, msg->ifname);
        break;
    case MIF_MSG_ADDRESS_ANNOUNCEMENT: /* also sent again when its flags or lifetimes change */
    case MIF_MSG_NO_ADDRESS_ANNOUNCEMENT:
        mif_address_format(&msg->address, addr, sizeof addr);
        printf("address %s%s/%u on %s (%s)\n", msg->msg_type == MIF_MSG_NO_ADDRESS_ANNOUNCEMENT ? "gone " : "",
               addr, msg->prefix_len, msg->ifname, msg->pvd_name);
        break;
    case MIF_MSG_QUEUE_OVERFLOW: /* we fell far behind: the whole current state follows */
        printf("overflow: %llu announcements left out\n", (unsigned long long)msg->dropped_messages);
        break;
    case MIF_MSG_ENGINE_FAILED: /* the last message of this context */
        fprintf(stderr, "libmif engine failed: %s\n", msg->text ? msg->text : mif_strerror(msg->status));
        return false;
    default: /* MIF_MSG_PVD_CONFIGURATION_COMPLETE...: not shown here */
        break;
    }
    return true;
}

/* Takes and handles every waiting message. Returns false once the engine failed. */
static bool take_messages(mif_ctx *ctx)
{
    mif_message *msg;
    bool ok = true;

    while (ok && mif_get_message(ctx, &msg) == MIF_OK) {
        ok = handle_message(ctx, msg);
        mif_message_free(msg);
    }
    return ok;
}

/* Adds fd to the epoll set, level-triggered, for reading. */
static int watch(int ep, int fd)
{
    struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

    return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

int main(int argc, char **argv)
{
    mif_options opts;
    mif_ctx *ctx;
    mif_result rc;
    sigset_t stop_signals;
    int sfd, ep;
    bool running = true, ok = true;

    mif_options_init(&opts);
    if (argc == 3 && strcmp(argv[1], "--root") == 0) {
        opts.root_dir = argv[2];
    } else if (argc != 1) {
        fprintf(stderr, "usage: %s [--root DIR]\n", argv[0]);
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0); /* each line at once, also into a pipe */

    /* Block the signals (so they wait for the signalfd instead of killing us) before
     * mif_open starts the library's thread. */
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    if (sigprocmask(SIG_BLOCK, &stop_signals, NULL) != 0 ||
        (sfd = signalfd(-1, &stop_signals, SFD_CLOEXEC)) < 0) {
        perror("signalfd");
        return 1;
    }

    rc = mif_open(&opts, &ctx);
    if (rc != MIF_OK) {
        fprintf(stderr, "mif_open: %s\n", mif_strerror(rc));
        return 1;
    }

    /* mif_fd(): never read, write or close it, it is the library's. */
    ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0 || watch(ep, mif_fd(ctx)) != 0 || watch(ep, sfd) != 0) {
        perror("epoll");
        mif_close(ctx);
        return 1;
    }

    /* Every interface now and as they come and go. The first announcements are
     * queued before the post returns: mif_fd() is readable already. */
    subscribe(ctx, MIF_REQ_ANNOUNCE_INTERFACES, 0, 0);

    while (running) {
        struct epoll_event events[2];
        int n = epoll_wait(ep, events, 2, -1);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            perror("epoll_wait");
            ok = false;
            break;
        }
        for (int i = 0; i < n; i++) {
            if (events[i].data.fd == sfd) {
                running = false; /* SIGINT or SIGTERM; no need to read the signalfd */
            } else if (!take_messages(ctx)) {
                running = false;
                ok = false;
            }
        }
    }

    mif_close(ctx); /* frees the messages still queued and the library's descriptors */
    close(ep);
    close(sfd);
    return ok ? 0 : 1;
}
