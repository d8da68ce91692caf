/*
 * Writes the seeds of the `request` fuzz target (fuzz/seeds/request/): mif_request
 * structs as a C program fills them (mif_request_init, then the fields a type reads),
 * byte for byte as this compiler lays them out, followed by the name a translation
 * asks for.  A non-NULL `name` is written as the pointer value 1: the target replaces
 * any non-zero pointer with one to the text after the struct.
 *
 *   cc -Iinclude -o build/request_seeds fuzz/tools/request_seeds.c \
 *      -Lbuild/lib -lmif -Wl,-rpath,$PWD/build/lib
 *   build/request_seeds fuzz/seeds/request
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mif.h"

static const char *dir;

static void put_with(const char *file, const mif_request *req, size_t len, const char *name,
                     const mif_selection *sel, size_t nsel)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s.bin", dir, file);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(req, 1, len, f) != len || (name && fwrite(name, 1, strlen(name), f) != strlen(name))) {
        perror(path);
        exit(1);
    }
    /* The selections follow the name's NUL (the target points `selections` there). */
    if (sel != NULL && (fwrite("", 1, 1, f) != 1 || fwrite(sel, sizeof *sel, nsel, f) != nsel)) {
        perror(path);
        exit(1);
    }
    fclose(f);
}

static void put(const char *file, const mif_request *req, size_t len, const char *name)
{
    put_with(file, req, len, name, NULL, 0);
}

static mif_request make(mif_request_type type)
{
    mif_request req;
    if (mif_request_init(&req, type) != MIF_OK)
        exit(1);
    return req;
}

static void address(mif_address *a, const char *text)
{
    memset(a, 0, sizeof *a);
    if (inet_pton(AF_INET, text, a->bytes) == 1) {
        a->family = MIF_FAMILY_IPV4;
    } else if (inet_pton(AF_INET6, text, a->bytes) == 1) {
        a->family = MIF_FAMILY_IPV6;
    } else {
        exit(1);
    }
}

int main(int argc, char **argv)
{
    mif_request r;
    if (argc != 2)
        return 2;
    dir = argv[1];

    r = make(MIF_REQ_ANNOUNCE_INTERFACES);
    put("announce-interfaces", &r, sizeof r, NULL);
    r = make(MIF_REQ_STOP_ANNOUNCING_INTERFACES);
    put("stop-announcing-interfaces", &r, sizeof r, NULL);
    r = make(MIF_REQ_ANNOUNCE_PVDS);
    r.ifindex = 2;
    put("announce-pvds", &r, sizeof r, NULL);
    r = make(MIF_REQ_STOP_ANNOUNCING_PVDS);
    r.ifindex = 2;
    put("stop-announcing-pvds", &r, sizeof r, NULL);
    r = make(MIF_REQ_ANNOUNCE_ADDRESSES);
    r.pvd = 1;
    put("announce-addresses", &r, sizeof r, NULL);
    r = make(MIF_REQ_STOP_ANNOUNCING_ADDRESSES);
    r.pvd = 1;
    put("stop-announcing-addresses", &r, sizeof r, NULL);
    r = make(MIF_REQ_ANNOUNCE_CONFIG_ELEMENTS);
    r.pvd = 3;
    put("announce-config-elements", &r, sizeof r, NULL);
    r = make(MIF_REQ_STOP_ANNOUNCING_CONFIG_ELEMENTS);
    r.pvd = 3;
    put("stop-announcing-config-elements", &r, sizeof r, NULL);
    r = make(MIF_REQ_GET_CONFIGURATION_DATA);
    r.pvd = 1;
    r.element_type = MIF_ELEMENT_ANY;
    r.info_id = MIF_INFO_ALL;
    put("get-configuration-data-all", &r, sizeof r, NULL);
    r.element_type = MIF_ELEMENT_DHCPV4;
    r.info_id = MIF_INFO_DNS_SERVERS;
    put("get-configuration-data-dhcpv4-dns", &r, sizeof r, NULL);
    r = make(MIF_REQ_TRANSLATE_NAME);
    r.pvd = 1;
    r.translation_id = 7;
    r.name = (const char *)1;
    put("translate-name", &r, sizeof r, "www.example.com");
    put("translate-name-absolute", &r, sizeof r, "host.example.");
    put("translate-name-idna", &r, sizeof r, "b\xc3\xbc" "cher.example");
    r.name = NULL;
    put("translate-name-null", &r, sizeof r, NULL);
    r = make(MIF_REQ_STOP_TRANSLATING_NAME);
    r.translation_id = 7;
    put("stop-translating-name", &r, sizeof r, NULL);
    r = make(MIF_REQ_CONNECT_TO_ADDRESS);
    r.pvd = 1;
    r.connection_id = 9;
    address(&r.remote, "198.51.100.80");
    r.remote_port = 80;
    put("connect-to-address-v4", &r, sizeof r, NULL);
    address(&r.remote, "fe80::1");
    r.remote.scope_id = 2;
    r.remote_port = 443;
    put("connect-to-address-v6-scoped", &r, sizeof r, NULL);
    r = make(MIF_REQ_CONNECT_FROM_ADDRESS);
    r.pvd = 1;
    r.connection_id = 10;
    address(&r.remote, "fd6d:6966:a::80");
    r.remote_port = 80;
    address(&r.local, "fd6d:6966:a::2");
    put("connect-from-address", &r, sizeof r, NULL);
    r = make(MIF_REQ_CONNECT_TO_PVD);
    r.pvd = 2;
    put("connect-to-pvd", &r, sizeof r, NULL);
    r = make(MIF_REQ_CANCEL_CONNECT);
    r.connection_id = 9;
    put("cancel-connect", &r, sizeof r, NULL);
    r = make(MIF_REQ_CONNECT_TO_NAME);
    r.name = (const char *)1;
    r.connection_id = 11;
    r.remote_port = 443;
    put("connect-to-name", &r, sizeof r, "www.example.com");
    {
        mif_selection sel[3] = {
            { .size = sizeof(mif_selection), .preference = MIF_PREFERENCE_PREFER, .ifindex = 3 },
            { .size = sizeof(mif_selection), .preference = MIF_PREFERENCE_PROHIBIT, .ifindex = 2 },
            { .size = sizeof(mif_selection), .preference = MIF_PREFERENCE_AVOID, .pvd = 5 },
        };
        r.selections = (const mif_selection *)1;
        r.selection_count = 3;
        r.family_preference = MIF_FAMILY_PREFERENCE_IPV4_FIRST;
        r.timeout_ms = 5000;
        r.attempt_delay_ms = 150;
        put_with("connect-to-name-selections", &r, sizeof r, "svc.example.com", sel, 3);
        sel[1].pvd = 7; /* both an interface and a PvD */
        put_with("connect-to-name-bad-selection", &r, sizeof r, "svc.example.com", sel, 3);
    }

    /* Connection viability and intents (draft 3.2.7.26). */
    r = make(MIF_REQ_WATCH_CONNECTION);
    r.connection_id = 12;
    put("watch-connection", &r, sizeof r, NULL);
    r = make(MIF_REQ_WATCH_SOCKET);
    r.connection_id = 13;
    r.socket = 3;
    put("watch-socket", &r, sizeof r, NULL);
    r.socket = -1;
    put("watch-socket-negative", &r, sizeof r, NULL);
    r = make(MIF_REQ_CONNECTION_CAN_BE_BROKEN);
    r.connection_id = 12;
    put("connection-can-be-broken", &r, sizeof r, NULL);
    r = make(MIF_REQ_GET_CONNECTION_STATES);
    put("get-connection-states", &r, sizeof r, NULL);
    r = make(MIF_REQ_WANT_CONNECT);
    put("want-connect", &r, sizeof r, NULL);

    /* A program built against an older, smaller header: size covers the fields up to
     * and including translation_id only (and a short one the size field alone). */
    r = make(MIF_REQ_STOP_TRANSLATING_NAME);
    r.size = offsetof(mif_request, name);
    r.translation_id = 7;
    put("older-header-stop-translating", &r, r.size, NULL);
    r.size = offsetof(mif_request, pvd);
    r.request_type = MIF_REQ_CONNECT_TO_PVD;
    put("older-header-too-short", &r, r.size, NULL);
    /* One built against a newer, larger header: 16 more bytes than ours. */
    {
        unsigned char bigger[sizeof(mif_request) + 16];
        r = make(MIF_REQ_ANNOUNCE_INTERFACES);
        r.size = sizeof bigger;
        memset(bigger, 0, sizeof bigger);
        memcpy(bigger, &r, sizeof r);
        put("newer-header", (const mif_request *)bigger, sizeof bigger, NULL);
    }
    return 0;
}
