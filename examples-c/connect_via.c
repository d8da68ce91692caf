/*
 * connect_via.c: open a TCP connection through a chosen network, whatever the
 * routing table prefers:
 *
 *   connect_via [--root DIR] IFNAME ADDRESS PORT
 *
 *   connected from 203.0.113.2:41576 to 198.18.0.80:8080 via mif1/ipv4
 *   not connected to 198.18.0.80:8081 via mif0/ipv4: Connection refused
 *
 * The network is the provisioning domain (PvD) of interface IFNAME of ADDRESS's
 * family. MIF_REQ_CONNECT_TO_ADDRESS on that PvD races its source addresses, pins
 * every attempt to its link and hands over the connected socket in
 * MIF_MSG_CONNECTED. (MIF_REQ_CONNECT_FROM_ADDRESS picks the source address
 * yourself; MIF_REQ_CONNECT_TO_PVD makes a PvD the default for requests naming pvd 0.)
 * Exit status 0 when connected, 1 when not.
 *
 * --root DIR makes the library read its configuration and state files (etc/, run/)
 * under DIR instead of /, as tests do.
 *
 * Build: cc -Iinclude connect_via.c -Lbuild/lib -lmif -Wl,-rpath,"$PWD/build/lib"
 */
#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mif.h>

#define CONNECTION_ID 1 /* ours to choose */

/* "198.51.100.1:8080" or "[fd6d:6966:a::1]:8080" */
static void format_endpoint(const mif_address *addr, uint16_t port, char *buf, size_t len)
{
    char text[MIF_ADDRESS_TEXT_SIZE];

    mif_address_format(addr, text, sizeof text);
    snprintf(buf, len, addr->family == MIF_FAMILY_IPV6 ? "[%s]:%u" : "%s:%u", text, (unsigned)port);
}

/* Prints the result of the connect; returns the exit status. */
static int report(const mif_message *msg)
{
    char local[MIF_ADDRESS_TEXT_SIZE + 8], remote[MIF_ADDRESS_TEXT_SIZE + 8];

    format_endpoint(&msg->remote, msg->remote_port, remote, sizeof remote);
    if (msg->msg_type == MIF_MSG_NOT_CONNECTED) {
        printf("not connected to %s via %s: %s\n", remote, msg->pvd_name, strerror(msg->error));
        return 1;
    }
    format_endpoint(&msg->local, msg->local_port, local, sizeof local);
    printf("connected from %s to %s via %s\n", local, remote, msg->pvd_name);
    /* msg->fd is a connected, blocking TCP socket, ours now: mif_message_free does
     * not close it. Talk through it, then close it. */
    close(msg->fd);
    return 0;
}

int main(int argc, char **argv)
{
    mif_options opts;
    mif_ctx *ctx;
    mif_message *msg;
    mif_request req;
    mif_result rc;
    mif_address remote;
    const char *ifname, *address, *port;
    unsigned long port_number;
    unsigned ifindex;
    uint64_t pvd = 0;
    bool have_pvd = false;
    char *end;
    int status = -1;

    mif_options_init(&opts);
    if (argc == 6 && strcmp(argv[1], "--root") == 0) {
        opts.root_dir = argv[2];
        argv += 2;
    } else if (argc != 4) {
        fprintf(stderr, "usage: %s [--root DIR] IFNAME ADDRESS PORT\n", argv[0]);
        return 2;
    }
    ifname = argv[1];
    address = argv[2];
    port = argv[3];
    if (mif_address_parse(address, &remote) != MIF_OK) {
        fprintf(stderr, "not an IPv4 or IPv6 address: %s\n", address);
        return 2;
    }
    port_number = strtoul(port, &end, 10);
    if (*port == '\0' || *end != '\0' || port_number == 0 || port_number > 65535) {
        fprintf(stderr, "not a port number: %s\n", port);
        return 2;
    }
    ifindex = if_nametoindex(ifname);
    if (ifindex == 0) {
        fprintf(stderr, "no interface %s\n", ifname);
        return 1;
    }

    rc = mif_open(&opts, &ctx);
    if (rc != MIF_OK) {
        fprintf(stderr, "mif_open: %s\n", mif_strerror(rc));
        return 1;
    }

    /* The interface's PvDs: announced (queued) before the post returns. */
    mif_request_init(&req, MIF_REQ_ANNOUNCE_PVDS);
    req.ifindex = ifindex;
    rc = mif_post_message(ctx, &req);
    while (rc == MIF_OK && mif_get_message(ctx, &msg) == MIF_OK) {
        if (msg->msg_type == MIF_MSG_PVD_ANNOUNCEMENT && msg->family == remote.family) {
            pvd = msg->pvd;
            have_pvd = true;
        }
        mif_message_free(msg);
    }
    if (!have_pvd) {
        if (rc != MIF_OK)
            fprintf(stderr, "%s: %s\n", ifname, mif_strerror(rc));
        else
            fprintf(stderr, "%s has no %s network\n", ifname, remote.family == MIF_FAMILY_IPV4 ? "IPv4" : "IPv6");
        mif_close(ctx);
        return 1;
    }

    mif_request_init(&req, MIF_REQ_CONNECT_TO_ADDRESS);
    req.pvd = pvd;
    req.connection_id = CONNECTION_ID;
    req.remote = remote;
    req.remote_port = (uint16_t)port_number;
    rc = mif_post_message(ctx, &req);
    if (rc != MIF_OK) {
        fprintf(stderr, "connect to %s port %s: %s\n", address, port, mif_strerror(rc));
        mif_close(ctx);
        return 1;
    }

    /* Wait for the result: Connected or Not Connected (at the latest after
     * mif_options.connect_timeout_ms, 10 s by default). */
    while (status < 0) {
        rc = mif_check_message(ctx, -1);
        if (rc != MIF_OK && rc != MIF_E_INTERRUPTED) {
            fprintf(stderr, "mif_check_message: %s\n", mif_strerror(rc));
            status = 1;
        }
        while (status < 0 && mif_get_message(ctx, &msg) == MIF_OK) {
            if ((msg->msg_type == MIF_MSG_CONNECTED || msg->msg_type == MIF_MSG_NOT_CONNECTED) &&
                msg->connection_id == CONNECTION_ID) {
                status = report(msg);
            } else if (msg->msg_type == MIF_MSG_ENGINE_FAILED) {
                fprintf(stderr, "libmif engine failed: %s\n", msg->text ? msg->text : mif_strerror(msg->status));
                status = 1;
            }
            mif_message_free(msg);
        }
    }

    mif_close(ctx);
    return status;
}
