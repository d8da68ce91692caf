/*
 * test_engine_failure: with mif_options.test_flags = MIF_TEST_PANIC_ENGINE the engine
 * thread panics right after its start.  The context must say so with a final
 * MIF_MSG_ENGINE_FAILED message (a wait never hangs on a dead engine), refuse posts
 * afterwards with MIF_E_ENGINE_FAILED, and still close cleanly.
 *
 * With MIF_TEST_PANIC_TRANSLATE a Translate Name post panics in the resolver work it
 * does on the calling thread: the context must end the same way.
 *
 * Changes nothing in the kernel.  The library prints nothing about the panic itself
 * (no "thread 'mif-engine' panicked at", no backtrace): checked with stderr captured.
 */
#include "mif.h"
#include "check.h"
#include "bed.h"

#include <poll.h>

static int open_panicking(mif_ctx **ctx)
{
    mif_options opts;
    *ctx = NULL;
    if (!CHECK_RC(mif_options_init(&opts), MIF_OK))
        return 0;
    opts.test_flags = MIF_TEST_PANIC_ENGINE;
    return CHECK_RC(mif_open(&opts, ctx), MIF_OK) && CHECK(*ctx != NULL);
}

static int fd_readable(int fd)
{
    struct pollfd p = { fd, POLLIN, 0 };
    return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

static void final_message_then_refusal(void)
{
    mif_ctx *ctx;
    mif_message *m = NULL;
    int fd, i;
    unsigned lo = if_nametoindex("lo");

    REQUIRE(open_panicking(&ctx));
    fd = mif_fd(ctx);
    CHECK(fd >= 0);
    /* Must return (the watchdog fails the binary otherwise). */
    CHECK_RC(mif_check_message(ctx, -1), MIF_OK);
    CHECK(fd_readable(fd));
    if (CHECK_RC(mif_get_message(ctx, &m), MIF_OK)) {
        CHECK_EQ_INT(m->msg_type, MIF_MSG_ENGINE_FAILED);
        CHECK(m->status != MIF_OK);
        CHECK(m->status != MIF_NO_MESSAGE);
        CHECK(strcmp(mif_strerror(m->status), "unknown status") != 0);
        if (CHECK(m->text != NULL)) {
            CHECK(strlen(m->text) > 0);
            check_note("engine failure: status %d (%s), text \"%s\"", (int)m->status,
                       mif_strerror(m->status), m->text);
        }
        check_message_well_formed(m);
        mif_message_free(m);
    }
    /* Nothing follows the final message. */
    CHECK(!fd_readable(fd));
    CHECK_RC(mif_check_message(ctx, 0), MIF_NO_MESSAGE);
    CHECK_RC(mif_check_message(ctx, 200), MIF_NO_MESSAGE);
    m = (mif_message *)CHECK_SENTINEL;
    CHECK_RC(mif_get_message(ctx, &m), MIF_NO_MESSAGE);
    CHECK(m == (mif_message *)CHECK_SENTINEL);

    /* Every well-formed request is refused, and queues nothing. */
    CHECK_RC(check_post(ctx, MIF_REQ_ANNOUNCE_INTERFACES, 0, 0), MIF_E_ENGINE_FAILED);
    CHECK_RC(check_post(ctx, MIF_REQ_STOP_ANNOUNCING_INTERFACES, 0, 0), MIF_E_ENGINE_FAILED);
    CHECK_RC(check_post(ctx, MIF_REQ_ANNOUNCE_PVDS, lo, 0), MIF_E_ENGINE_FAILED);
    CHECK_RC(check_post(ctx, MIF_REQ_STOP_ANNOUNCING_PVDS, lo, 0), MIF_E_ENGINE_FAILED);
    CHECK_RC(check_post(ctx, MIF_REQ_ANNOUNCE_ADDRESSES, 0, 1), MIF_E_ENGINE_FAILED);
    CHECK_RC(check_post(ctx, MIF_REQ_STOP_ANNOUNCING_ADDRESSES, 0, 1), MIF_E_ENGINE_FAILED);
    for (i = 0; i < 3; i++)
        CHECK_RC(check_post(ctx, MIF_REQ_ANNOUNCE_INTERFACES, 0, 0), MIF_E_ENGINE_FAILED);
    CHECK(!fd_readable(fd));
    CHECK_RC(mif_check_message(ctx, 0), MIF_NO_MESSAGE);
    /* Still NULL-checked. */
    CHECK_RC(mif_post_message(ctx, NULL), MIF_E_NULL_ARGUMENT);
    mif_close(ctx);
}

static void wait_by_polling_the_fd(void)
{
    mif_ctx *ctx;
    mif_message *m = NULL;
    struct pollfd p;
    REQUIRE(open_panicking(&ctx));
    p.fd = mif_fd(ctx);
    p.events = POLLIN;
    p.revents = 0;
    /* The limit only turns a hang into a failure. */
    CHECK_EQ_INT(poll(&p, 1, 20000), 1);
    if (CHECK_RC(mif_get_message(ctx, &m), MIF_OK)) {
        CHECK_EQ_INT(m->msg_type, MIF_MSG_ENGINE_FAILED);
        mif_message_free(m);
    }
    CHECK(!fd_readable(mif_fd(ctx)));
    mif_close(ctx);
}

static void close_without_taking(void)
{
    mif_ctx *ctx;
    REQUIRE(open_panicking(&ctx));
    CHECK_RC(mif_check_message(ctx, -1), MIF_OK);
    mif_close(ctx); /* frees the untaken final message */
}

static void close_at_once(void)
{
    mif_ctx *ctx;
    REQUIRE(open_panicking(&ctx));
    mif_close(ctx); /* the engine may or may not have panicked yet */
}

static void other_contexts_unaffected(void)
{
    mif_ctx *good = NULL, *bad;
    mif_message *m = NULL;
    REQUIRE(CHECK_RC(mif_open(NULL, &good), MIF_OK));
    if (open_panicking(&bad)) {
        CHECK_RC(mif_check_message(bad, -1), MIF_OK);
        mif_close(bad);
    }
    CHECK_RC(check_post(good, MIF_REQ_ANNOUNCE_INTERFACES, 0, 0), MIF_OK);
    if (CHECK_RC(mif_get_message(good, &m), MIF_OK)) {
        CHECK_EQ_INT(m->msg_type, MIF_MSG_INTERFACE_ANNOUNCEMENT);
        mif_message_free(m);
    }
    mif_close(good);
}

static void translate_post_panics(void)
{
    mif_options opts;
    mif_ctx *ctx = NULL;
    mif_message *m = NULL;
    mif_request req;
    uint64_t pvd;

    REQUIRE(CHECK_RC(mif_options_init(&opts), MIF_OK));
    opts.test_flags = MIF_TEST_PANIC_TRANSLATE;
    REQUIRE(CHECK_RC(mif_open(&opts, &ctx), MIF_OK));
    pvd = check_pvd_of(ctx, "lo", MIF_FAMILY_IPV4);
    if (!CHECK(pvd != 0))
        goto out;
    mif_request_init(&req, MIF_REQ_TRANSLATE_NAME);
    req.pvd = pvd;
    req.translation_id = 1;
    req.name = "host.example";
    CHECK_RC(mif_post_message(ctx, &req), MIF_E_INTERNAL);
    /* The final message, at once; the limit only turns a hang into a failure. */
    CHECK_RC(mif_check_message(ctx, 5000), MIF_OK);
    if (CHECK_RC(mif_get_message(ctx, &m), MIF_OK)) {
        CHECK_EQ_INT(m->msg_type, MIF_MSG_ENGINE_FAILED);
        CHECK_EQ_INT(m->status, MIF_E_INTERNAL);
        check_message_well_formed(m);
        mif_message_free(m);
    }
    CHECK_RC(mif_check_message(ctx, 0), MIF_NO_MESSAGE);
    CHECK_RC(mif_post_message(ctx, &req), MIF_E_ENGINE_FAILED);
    CHECK_RC(check_post(ctx, MIF_REQ_ANNOUNCE_INTERFACES, 0, 0), MIF_E_ENGINE_FAILED);
out:
    mif_close(ctx);
}

/* A caught panic prints no Rust panic message or backtrace on the application's
 * stderr (the library's own error line, MIF_LOG's business, is allowed). */
static void panic_prints_nothing(void)
{
    char path[] = "/tmp/mif-stderr-XXXXXX";
    int capture = mkstemp(path), saved = dup(2);
    mif_ctx *ctx;
    mif_message *m = NULL;
    char text[4096] = "";
    ssize_t n;

    REQUIRE(capture >= 0 && saved >= 0);
    unlink(path);
    setenv("RUST_BACKTRACE", "1", 1);
    fflush(stderr);
    dup2(capture, 2);
    if (open_panicking(&ctx)) {
        CHECK_RC(mif_check_message(ctx, -1), MIF_OK);
        if (CHECK_RC(mif_get_message(ctx, &m), MIF_OK))
            CHECK_EQ_INT(m->msg_type, MIF_MSG_ENGINE_FAILED);
        mif_message_free(m);
        mif_close(ctx);
    }
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    unsetenv("RUST_BACKTRACE");
    n = pread(capture, text, sizeof text - 1, 0);
    close(capture);
    CHECK(n >= 0);
    if (!CHECK(strstr(text, "panicked at") == NULL && strstr(text, "stack backtrace") == NULL))
        check_note("stderr during a caught panic: \"%s\"", text);
}

int main(void)
{
    check_watchdog(120);
    RUN_CASE(final_message_then_refusal);
    RUN_CASE(wait_by_polling_the_fd);
    RUN_CASE(close_without_taking);
    RUN_CASE(close_at_once);
    RUN_CASE(other_contexts_unaffected);
    RUN_CASE(translate_post_panics);
    RUN_CASE(panic_prints_nothing);
    return check_done();
}
