/*
 * Helpers shared by the test drivers (c-tests/connect/mifconnect.c and
 * c-tests/dns/mifresolve.c, which include it as "../driver.h") and by the c-tests that
 * post the same requests (test_cancel.c, test_ownership.c, test_dns_threads.c).
 * Everything is static inline: a program that does not use a helper gets no code and
 * no warning.
 */
#ifndef LIBMIF_CTESTS_DRIVER_H
#define LIBMIF_CTESTS_DRIVER_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "mif.h"

/* ------------------------------------------------------------------ requests */

/* Posts a request of `type` naming `ifindex` (subscriptions); returns the result. */
static inline mif_result post_simple(mif_ctx *ctx, mif_request_type type, uint32_t ifindex)
{
    mif_request req;
    mif_request_init(&req, type);
    req.ifindex = ifindex;
    return mif_post_message(ctx, &req);
}

/* Posts MIF_REQ_TRANSLATE_NAME of `name` on `pvd` as translation `id`. */
static inline mif_result post_translate(mif_ctx *ctx, uint64_t pvd, uint64_t id, const char *name)
{
    mif_request req;
    mif_request_init(&req, MIF_REQ_TRANSLATE_NAME);
    req.pvd = pvd;
    req.translation_id = id;
    req.name = name;
    return mif_post_message(ctx, &req);
}

/* Posts MIF_REQ_STOP_TRANSLATING_NAME for translation `id`. */
static inline mif_result post_stop_translating(mif_ctx *ctx, uint64_t id)
{
    mif_request req;
    mif_request_init(&req, MIF_REQ_STOP_TRANSLATING_NAME);
    req.translation_id = id;
    return mif_post_message(ctx, &req);
}

/* ------------------------------------------------------------------ drivers */

static inline int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A decimal number without sign; false if `s` is not one or does not fit. */
static inline bool parse_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-')
        return false;
    *out = v;
    return true;
}

/* Prints `s` as a JSON string ("" for NULL); bytes outside printable ASCII as \u00XX
 * (names are ASCII; anything else shows as bytes). */
static inline void json_quoted(const char *s)
{
    putchar('"');
    for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
        if (*p == '"' || *p == '\\')
            printf("\\%c", *p);
        else if (*p < 0x20 || *p >= 0x7f)
            printf("\\u%04x", *p);
        else
            putchar(*p);
    }
    putchar('"');
}

/* Prints "result":N,"result_name":"...". */
static inline void json_result(mif_result r)
{
    printf("\"result\":%d,\"result_name\":", (int)r);
    json_quoted(mif_strerror(r));
}

/* Prints the line {"KEY":"error","what":"WHAT","result":N,"result_name":"..."} (KEY is
 * "msg" or "event", as the driver names its lines) and flushes. */
static inline void json_setup_error(const char *key, const char *what, mif_result r)
{
    printf("{\"%s\":\"error\",\"what\":", key);
    json_quoted(what);
    printf(",");
    json_result(r);
    printf("}\n");
    fflush(stdout);
}

/* mif_open with `opts` (and MIF_TEST_NO_BINDTODEVICE added with `no_btd`). On failure
 * prints json_setup_error(key, "mif_open", ...) and returns NULL. */
static inline mif_ctx *driver_open(mif_options *opts, bool no_btd, const char *key)
{
    if (no_btd)
        opts->test_flags |= MIF_TEST_NO_BINDTODEVICE;
    mif_ctx *ctx = NULL;
    mif_result r = mif_open(opts, &ctx);
    if (r != MIF_OK) {
        json_setup_error(key, "mif_open", r);
        return NULL;
    }
    return ctx;
}

/* Takes every waiting message, handing each to `handle` (which prints it) before it is
 * freed. Returns false as soon as `handle` does (engine failure). */
static inline bool drain_with(mif_ctx *ctx, bool (*handle)(const mif_message *))
{
    mif_message *m;
    while (mif_get_message(ctx, &m) == MIF_OK) {
        bool ok = handle(m);
        mif_message_free(m);
        if (!ok)
            return false;
    }
    return true;
}

/* Waits for a message until `until` (ms of now_ms(); `now` is the current time), at most
 * 1 s so that the caller re-checks its deadlines. Stores mif_check_message's result in
 * *r; false if it is an error (not MIF_OK, MIF_NO_MESSAGE or MIF_E_INTERRUPTED). */
static inline bool wait_message(mif_ctx *ctx, int64_t now, int64_t until, mif_result *r)
{
    int64_t left = until - now;
    if (left < 0)
        left = 0;
    *r = mif_check_message(ctx, (int)(left > 1000 ? 1000 : left));
    return *r == MIF_OK || *r == MIF_NO_MESSAGE || *r == MIF_E_INTERRUPTED;
}

#endif
