/*
 * test_ownership: messages belong to the application from mif_get_message until
 * mif_message_free.  They stay valid after mif_close, are separate allocations, and
 * their text lives as long as the message.  Messages never taken are freed by
 * mif_close.  Run under valgrind (run.sh), which reports any use after free, double
 * free or leak.
 *
 * Needs only `lo` (up, with 127.0.0.1 and ::1: run.sh brings it up); changes nothing
 * in the kernel.
 */
#include "mif.h"
#include "check.h"

#define MAX_MSGS 64

/*
 * Opens a context with lo's interface, PvDs and addresses all announced; takes every
 * message into msgs[] (and a byte copy into copies[]); returns how many.
 */
static int take_lo_messages(mif_ctx **ctx_out, mif_message **msgs, mif_message *copies)
{
    mif_ctx *ctx = NULL;
    mif_message *m = NULL;
    uint64_t pvds[2] = { 0, 0 };
    int n = 0, npvd = 0, i;
    unsigned lo = if_nametoindex("lo");

    *ctx_out = NULL;
    if (!CHECK(lo != 0) || !CHECK_RC(mif_open(NULL, &ctx), MIF_OK))
        return 0;
    *ctx_out = ctx;
    CHECK_RC(check_post(ctx, MIF_REQ_ANNOUNCE_INTERFACES, 0, 0), MIF_OK);
    CHECK_RC(check_post(ctx, MIF_REQ_ANNOUNCE_PVDS, lo, 0), MIF_OK);
    while (n < MAX_MSGS && mif_get_message(ctx, &m) == MIF_OK) {
        check_message_well_formed(m);
        if (m->msg_type == MIF_MSG_PVD_ANNOUNCEMENT && npvd < 2)
            pvds[npvd++] = m->pvd;
        msgs[n++] = m;
    }
    CHECK_EQ_INT(npvd, 2); /* lo/ipv4 and lo/ipv6 */
    for (i = 0; i < npvd; i++)
        CHECK_RC(check_post(ctx, MIF_REQ_ANNOUNCE_ADDRESSES, 0, pvds[i]), MIF_OK);
    while (n < MAX_MSGS && mif_get_message(ctx, &m) == MIF_OK) {
        check_message_well_formed(m);
        msgs[n++] = m;
    }
    CHECK_EQ_INT(n, 5); /* interface lo, 2 PvDs, 127.0.0.1, ::1 */
    for (i = 0; i < n; i++)
        memcpy(&copies[i], msgs[i], sizeof(mif_message));
    return n;
}

static void messages_outlive_close(void)
{
    mif_ctx *ctx;
    mif_message *msgs[MAX_MSGS];
    mif_message copies[MAX_MSGS];
    int n = take_lo_messages(&ctx, msgs, copies), i;
    int seen_v4 = 0, seen_v6 = 0;

    mif_close(ctx);
    /* Read every field of every message after the close, then free them. */
    for (i = 0; i < n; i++) {
        char text[MIF_ADDRESS_TEXT_SIZE];
        CHECK(memcmp(msgs[i], &copies[i], sizeof(mif_message)) == 0);
        check_message_well_formed(msgs[i]);
        CHECK(strlen(msgs[i]->ifname) < MIF_IFNAME_SIZE);
        CHECK_EQ_STR(msgs[i]->ifname, "lo");
        if (msgs[i]->msg_type == MIF_MSG_ADDRESS_ANNOUNCEMENT) {
            if (CHECK_RC(mif_address_format(&msgs[i]->address, text, sizeof text), MIF_OK)) {
                seen_v4 |= strcmp(text, "127.0.0.1") == 0;
                seen_v6 |= strcmp(text, "::1") == 0;
            }
        }
    }
    CHECK(seen_v4 && seen_v6);
    for (i = n - 1; i >= 0; i--) /* any order */
        mif_message_free(msgs[i]);
}

static void messages_are_independent_allocations(void)
{
    mif_ctx *ctx;
    mif_message *msgs[MAX_MSGS];
    mif_message copies[MAX_MSGS];
    int n = take_lo_messages(&ctx, msgs, copies), i, j;

    for (i = 0; i < n; i++) {
        for (j = 0; j < i; j++) {
            const char *a = (const char *)msgs[i], *b = (const char *)msgs[j];
            CHECK(a + sizeof(mif_message) <= b || b + sizeof(mif_message) <= a);
        }
    }
    if (n >= 2) {
        /* The application owns the struct: scribbling on one leaves the others alone. */
        memset(msgs[0]->ifname, 'Z', sizeof msgs[0]->ifname);
        memset(msgs[0]->pvd_name, 'Z', sizeof msgs[0]->pvd_name);
        memset(&msgs[0]->address, 0x5a, sizeof msgs[0]->address);
        msgs[0]->ifindex = 0xdeadbeef;
        for (i = 1; i < n; i++)
            CHECK(memcmp(msgs[i], &copies[i], sizeof(mif_message)) == 0);
        mif_message_free(msgs[0]);
        for (i = 1; i < n; i++)
            CHECK(memcmp(msgs[i], &copies[i], sizeof(mif_message)) == 0);
    } else if (n == 1) {
        mif_message_free(msgs[0]);
    }
    /* The context keeps working while the application holds messages. */
    if (ctx != NULL) {
        mif_message *m = NULL;
        CHECK_RC(check_post(ctx, MIF_REQ_ANNOUNCE_INTERFACES, 0, 0), MIF_OK);
        if (CHECK_RC(mif_get_message(ctx, &m), MIF_OK)) {
            for (i = 1; i < n; i++)
                CHECK(m != msgs[i]);
            mif_message_free(m);
        }
    }
    for (i = 1; i < n; i++)
        mif_message_free(msgs[i]);
    mif_close(ctx);
}

static void announcements_have_no_text(void)
{
    mif_ctx *ctx;
    mif_message *msgs[MAX_MSGS];
    mif_message copies[MAX_MSGS];
    int n = take_lo_messages(&ctx, msgs, copies), i;
    for (i = 0; i < n; i++) {
        CHECK(msgs[i]->text == NULL);
        CHECK_EQ_INT(msgs[i]->status, MIF_OK);
        mif_message_free(msgs[i]);
    }
    mif_close(ctx);
}

static void engine_failed_text_outlives_close(void)
{
    mif_options opts;
    mif_ctx *ctx = NULL;
    mif_message *m = NULL;
    char copy[512];

    mif_options_init(&opts);
    opts.test_flags = MIF_TEST_PANIC_ENGINE;
    REQUIRE(CHECK_RC(mif_open(&opts, &ctx), MIF_OK));
    CHECK_RC(mif_check_message(ctx, -1), MIF_OK);
    if (!CHECK_RC(mif_get_message(ctx, &m), MIF_OK)) {
        mif_close(ctx);
        return;
    }
    CHECK_EQ_INT(m->msg_type, MIF_MSG_ENGINE_FAILED);
    if (CHECK(m->text != NULL)) {
        const char *before = m->text;
        snprintf(copy, sizeof copy, "%s", m->text);
        mif_close(ctx);
        CHECK(m->text == before);
        CHECK_EQ_STR(m->text, copy);
        CHECK(strlen(m->text) > 0);
    } else {
        mif_close(ctx);
    }
    mif_message_free(m);
}

/* Closing with messages still queued frees them (valgrind reports a leak otherwise). */
static void close_frees_untaken_messages(void)
{
    mif_ctx *ctx;
    mif_message *msgs[MAX_MSGS];
    mif_message copies[MAX_MSGS];
    mif_message *kept = NULL;
    int n = take_lo_messages(&ctx, msgs, copies), i;
    unsigned lo = if_nametoindex("lo");

    for (i = 0; i < n; i++)
        mif_message_free(msgs[i]);
    if (ctx == NULL)
        return;
    /* Queue everything again; take one, leave the rest to mif_close. */
    CHECK_RC(check_post(ctx, MIF_REQ_ANNOUNCE_INTERFACES, 0, 0), MIF_OK);
    CHECK_RC(check_post(ctx, MIF_REQ_ANNOUNCE_PVDS, lo, 0), MIF_OK);
    CHECK_RC(mif_get_message(ctx, &kept), MIF_OK);
    CHECK_RC(mif_check_message(ctx, 0), MIF_OK);
    mif_close(ctx);
    check_message_well_formed(kept);
    mif_message_free(kept);
}

/* A configuration data answer (with whatever lists it has) outlives the close too. */
static void configuration_data_outlives_close(void)
{
    mif_ctx *ctx;
    mif_message *msgs[MAX_MSGS];
    mif_message copies[MAX_MSGS];
    mif_message *answer = NULL, copy;
    mif_request req;
    uint64_t pvd = 0;
    int n = take_lo_messages(&ctx, msgs, copies), i;

    for (i = 0; i < n; i++) {
        if (msgs[i]->msg_type == MIF_MSG_PVD_ANNOUNCEMENT && pvd == 0)
            pvd = msgs[i]->pvd;
        mif_message_free(msgs[i]);
    }
    if (ctx == NULL || !CHECK(pvd != 0)) {
        mif_close(ctx);
        return;
    }
    mif_request_init(&req, MIF_REQ_GET_CONFIGURATION_DATA);
    req.pvd = pvd;
    req.element_type = MIF_ELEMENT_ANY;
    req.info_id = MIF_INFO_ALL;
    CHECK_RC(mif_post_message(ctx, &req), MIF_OK);
    /* The answer is queued before the post returns. */
    if (!CHECK_RC(mif_get_message(ctx, &answer), MIF_OK)) {
        mif_close(ctx);
        return;
    }
    memcpy(&copy, answer, sizeof copy);
    mif_close(ctx);
    CHECK(memcmp(&copy, answer, sizeof copy) == 0);
    CHECK(answer->msg_type == MIF_MSG_CONFIGURATION_DATA || answer->msg_type == MIF_MSG_NO_CONFIGURATION_DATA);
    CHECK_EQ_INT(answer->pvd, pvd);
    check_message_well_formed(answer); /* reads every list entry */
    mif_message_free(answer);
}

struct freer {
    mif_message **msgs;
    int n;
};

static void *free_all(void *arg)
{
    struct freer *f = (struct freer *)arg;
    int i;
    for (i = 0; i < f->n; i++) {
        check_message_well_formed(f->msgs[i]);
        mif_message_free(f->msgs[i]);
    }
    return NULL;
}

static void free_on_another_thread(void)
{
    mif_ctx *ctx;
    mif_message *msgs[MAX_MSGS];
    mif_message copies[MAX_MSGS];
    int n = take_lo_messages(&ctx, msgs, copies);
    struct freer f = { msgs, n };
    pthread_t t;
    if (CHECK(pthread_create(&t, NULL, free_all, &f) == 0))
        pthread_join(t, NULL);
    else
        free_all(&f);
    mif_close(ctx);
}

int main(void)
{
    check_watchdog(120);
    RUN_CASE(messages_outlive_close);
    RUN_CASE(messages_are_independent_allocations);
    RUN_CASE(announcements_have_no_text);
    RUN_CASE(engine_failed_text_outlives_close);
    RUN_CASE(close_frees_untaken_messages);
    RUN_CASE(configuration_data_outlives_close);
    RUN_CASE(free_on_another_thread);
    return check_done();
}
