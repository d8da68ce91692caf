/*
 * glib.c: follow the host's interfaces, provisioning domains (PvDs) and addresses
 * with libmif in a GLib main loop, until SIGINT or SIGTERM.
 *
 *   glib [--root DIR]
 *
 * Prints one line per message, for example
 *
 *   interface 2 mif0
 *   pvd mif0/ipv4 on mif0
 *   address 198.51.100.2/24 on mif0 (mif0/ipv4)
 *   address gone 198.51.100.2/24 on mif0 (mif0/ipv4)
 *
 * libmif's descriptor, mif_fd(), goes into the main context with g_unix_fd_add: the
 * callback takes every waiting message. g_unix_signal_add handles the signals.
 *
 * --root DIR makes the library read its configuration and state files (etc/, run/)
 * under DIR instead of /, as tests do.
 *
 * Build: cc -Iinclude glib.c -Lbuild/lib -lmif -Wl,-rpath,"$PWD/build/lib" $(pkg-config --cflags --libs glib-2.0)
 */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <glib-unix.h>
#include <glib.h>
#include <mif.h>

struct app {
    mif_ctx *ctx;
    GMainLoop *loop;
    int exit_status;
};

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

/* mif_fd() is readable: take and handle every waiting message. */
static gboolean on_mif_readable(gint fd, GIOCondition condition, gpointer data)
{
    struct app *app = data;
    mif_message *msg;
    bool ok = true;

    (void)fd;
    (void)condition;
    while (ok && mif_get_message(app->ctx, &msg) == MIF_OK) {
        ok = handle_message(app->ctx, msg);
        mif_message_free(msg);
    }
    if (!ok) {
        app->exit_status = 1;
        g_main_loop_quit(app->loop);
    }
    return G_SOURCE_CONTINUE;
}

/* SIGINT or SIGTERM (GLib runs this in the main loop, not in a signal handler). */
static gboolean on_stop_signal(gpointer data)
{
    struct app *app = data;

    g_main_loop_quit(app->loop);
    return G_SOURCE_CONTINUE;
}

int main(int argc, char **argv)
{
    struct app app = { NULL, NULL, 0 };
    mif_options opts;
    mif_result rc;
    guint sources[3];

    mif_options_init(&opts);
    if (argc == 3 && strcmp(argv[1], "--root") == 0) {
        opts.root_dir = argv[2];
    } else if (argc != 1) {
        fprintf(stderr, "usage: %s [--root DIR]\n", argv[0]);
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0); /* each line at once, also into a pipe */

    rc = mif_open(&opts, &app.ctx);
    if (rc != MIF_OK) {
        fprintf(stderr, "mif_open: %s\n", mif_strerror(rc));
        return 1;
    }
    app.loop = g_main_loop_new(NULL, FALSE);

    /* mif_fd(): the library's descriptor, readable while a message waits. GLib only
     * polls it; never read, write or close it. */
    sources[0] = g_unix_fd_add(mif_fd(app.ctx), G_IO_IN, on_mif_readable, &app);
    sources[1] = g_unix_signal_add(SIGINT, on_stop_signal, &app);
    sources[2] = g_unix_signal_add(SIGTERM, on_stop_signal, &app);

    /* Every interface now and as they come and go (the first announcements are
     * queued before the post returns). */
    subscribe(app.ctx, MIF_REQ_ANNOUNCE_INTERFACES, 0, 0);

    g_main_loop_run(app.loop);

    for (size_t i = 0; i < G_N_ELEMENTS(sources); i++)
        g_source_remove(sources[i]);
    g_main_loop_unref(app.loop);
    mif_close(app.ctx); /* after GLib let go of mif_fd(): mif_close closes it */
    return app.exit_status;
}
