/*
 * libuv.c: follow the host's interfaces, provisioning domains (PvDs) and addresses
 * with libmif in a libuv event loop, until SIGINT or SIGTERM.
 *
 *   libuv [--root DIR]
 *
 * Prints one line per message, for example
 *
 *   interface 2 mif0
 *   pvd mif0/ipv4 on mif0
 *   address 198.51.100.2/24 on mif0 (mif0/ipv4)
 *   address gone 198.51.100.2/24 on mif0 (mif0/ipv4)
 *
 * libmif's descriptor, mif_fd(), goes into the loop as a uv_poll_t: the callback
 * takes every waiting message. uv_signal_t handles the signals.
 *
 * --root DIR makes the library read its configuration and state files (etc/, run/)
 * under DIR instead of /, as tests do.
 *
 * Build: cc -Iinclude libuv.c -Lbuild/lib -lmif -Wl,-rpath,"$PWD/build/lib" $(pkg-config --cflags --libs libuv)
 */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <mif.h>
#include <uv.h>

static mif_ctx *ctx;
static uv_poll_t mif_watcher;
static uv_signal_t sigint_watcher, sigterm_watcher;
static int exit_status;

/* Posts a subscription request. One about an interface or PvD that has just gone is
 * refused (MIF_E_UNKNOWN_INTERFACE / _PVD): normal, its removal message follows. */
static void subscribe(mif_request_type type, uint32_t ifindex, uint64_t pvd)
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
static bool handle_message(const mif_message *msg)
{
    char addr[MIF_ADDRESS_TEXT_SIZE];

    switch (msg->msg_type) {
    case MIF_MSG_INTERFACE_ANNOUNCEMENT:
        printf("interface %u %s\n", msg->ifindex, msg->ifname);
        subscribe(MIF_REQ_ANNOUNCE_PVDS, msg->ifindex, 0);
        break;
    case MIF_MSG_NO_INTERFACE_ANNOUNCEMENT:
        printf("interface gone %u %s\n", msg->ifindex, msg->ifname);
        break;
    case MIF_MSG_PVD_ANNOUNCEMENT:
        printf("pvd %s on %s\n", msg->pvd_name, msg->ifname);
        subscribe(MIF_REQ_ANNOUNCE_ADDRESSES, 0, msg->pvd);
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

/* Ends the loop: once no handle is active any more, uv_run returns. */
static void stop_loop(void)
{
    if (uv_is_closing((uv_handle_t *)&mif_watcher))
        return; /* a second signal */
    uv_close((uv_handle_t *)&mif_watcher, NULL);
    uv_close((uv_handle_t *)&sigint_watcher, NULL);
    uv_close((uv_handle_t *)&sigterm_watcher, NULL);
}

/* mif_fd() is readable: take and handle every waiting message. */
static void on_mif_readable(uv_poll_t *watcher, int status, int events)
{
    mif_message *msg;
    bool ok = true;

    (void)watcher;
    (void)events;
    if (status < 0) {
        fprintf(stderr, "uv_poll: %s\n", uv_strerror(status));
        exit_status = 1;
        stop_loop();
        return;
    }
    while (ok && mif_get_message(ctx, &msg) == MIF_OK) {
        ok = handle_message(msg);
        mif_message_free(msg);
    }
    if (!ok) {
        exit_status = 1;
        stop_loop();
    }
}

static void on_stop_signal(uv_signal_t *watcher, int signum)
{
    (void)watcher;
    (void)signum;
    stop_loop();
}

int main(int argc, char **argv)
{
    mif_options opts;
    mif_result rc;
    uv_loop_t loop;
    int err;

    mif_options_init(&opts);
    if (argc == 3 && strcmp(argv[1], "--root") == 0) {
        opts.root_dir = argv[2];
    } else if (argc != 1) {
        fprintf(stderr, "usage: %s [--root DIR]\n", argv[0]);
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0); /* each line at once, also into a pipe */

    rc = mif_open(&opts, &ctx);
    if (rc != MIF_OK) {
        fprintf(stderr, "mif_open: %s\n", mif_strerror(rc));
        return 1;
    }
    uv_loop_init(&loop);

    /* mif_fd(): the library's descriptor, readable while a message waits. libuv
     * only polls it; never read, write or close it. */
    err = uv_poll_init(&loop, &mif_watcher, mif_fd(ctx));
    if (err != 0) {
        fprintf(stderr, "uv_poll_init: %s\n", uv_strerror(err));
        uv_loop_close(&loop);
        mif_close(ctx);
        return 1;
    }
    uv_poll_start(&mif_watcher, UV_READABLE, on_mif_readable);
    uv_signal_init(&loop, &sigint_watcher);
    uv_signal_start(&sigint_watcher, on_stop_signal, SIGINT);
    uv_signal_init(&loop, &sigterm_watcher);
    uv_signal_start(&sigterm_watcher, on_stop_signal, SIGTERM);

    /* Every interface now and as they come and go (the first announcements are
     * queued before the post returns). */
    subscribe(MIF_REQ_ANNOUNCE_INTERFACES, 0, 0);

    uv_run(&loop, UV_RUN_DEFAULT);  /* until stop_loop() closed every handle */
    uv_loop_close(&loop);
    mif_close(ctx); /* after the loop let go of mif_fd(): mif_close closes it */
    return exit_status;
}
