/*
 * test_log_messages: an application gets the library's diagnostics as messages on its
 * own queue when it asks (mif_options.log_level), and nothing on stderr.
 *
 * - A bad line in the static configuration file read at mif_open (the application's
 *   thread) and one in a rewrite of it the engine thread reads later each come as a
 *   MIF_MSG_LOG at MIF_LOG_WARN naming the line.
 * - Below the asked level, or with MIF_LOG_NONE (the default), no MIF_MSG_LOG comes.
 * - A level past MIF_LOG_DEBUG, or reserved2 set, is refused with MIF_E_INVALID_ARGUMENT.
 * - Throughout, with MIF_LOG unset, the library writes nothing to stderr.
 *
 * Uses only lo in the private network namespace c-tests/run.sh gives it, and a scratch
 * root directory (mif_options.root_dir).
 */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "mif.h"
#include "check.h"
#include "bed.h"

static char root[256];
static const char bad_conf[] = "[lo]\ndns = 198.51.100.53\nthis line is wrong\n";
static const char bad_conf_later[] = "[lo]\n\n\nnot_a_key = 1\n";

static mif_ctx *open_at(mif_log_level level)
{
    mif_options opts;
    mif_ctx *ctx = NULL;
    mif_options_init(&opts);
    opts.root_dir = root;
    opts.log_level = level;
    if (!CHECK_RC(mif_open(&opts, &ctx), MIF_OK))
        return NULL;
    return ctx;
}

struct want_log {
    mif_log_level level;
    const char *text;  /* a part of the text */
};

static int match_log(const mif_message *m, const void *arg)
{
    const struct want_log *w = (const struct want_log *)arg;
    return m->msg_type == MIF_MSG_LOG && m->log_level == w->level && strstr(m->text, w->text) != NULL;
}

/* Counts MIF_MSG_LOG messages until lo's interface announcement. */
static int match_lo_counting_logs(const mif_message *m, const void *arg)
{
    int *logs = (int *)arg;
    if (m->msg_type == MIF_MSG_LOG) {
        check_note("log message: level %u: %s", m->log_level, m->text);
        (*logs)++;
    }
    return m->msg_type == MIF_MSG_INTERFACE_ANNOUNCEMENT && strcmp(m->ifname, "lo") == 0;
}

/* Subscribes to interfaces and waits for lo; returns the MIF_MSG_LOG messages before
 * it, which are every diagnostic of the open (queued before mif_open returns). */
static int logs_until_lo(mif_ctx *ctx)
{
    mif_request req;
    mif_message *m;
    int logs = 0;
    mif_request_init(&req, MIF_REQ_ANNOUNCE_INTERFACES);
    CHECK_RC(mif_post_message(ctx, &req), MIF_OK);
    m = check_wait_for(ctx, match_lo_counting_logs, &logs, 30000);
    CHECK(m != NULL);
    mif_message_free(m);
    return logs;
}

static void bad_lines_come_as_warnings(void)
{
    mif_ctx *ctx;
    mif_message *m;
    struct want_log at_open = { MIF_LOG_WARN, "static config line 3" };
    struct want_log later = { MIF_LOG_WARN, "static config line 4: unknown key" };
    REQUIRE(check_write_file(root, "etc/mif.conf", bad_conf));
    ctx = open_at(MIF_LOG_DEBUG);
    REQUIRE(ctx != NULL);
    /* Read by mif_open on this thread. */
    m = check_wait_for(ctx, match_log, &at_open, 30000);
    CHECK(m != NULL);
    if (m != NULL)
        check_note("at open: %s", m->text);
    mif_message_free(m);
    /* Read by the engine thread when the file changes (renamed into place). */
    REQUIRE(check_write_file(root, "etc/mif.conf.new", bad_conf_later));
    {
        char from[512], to[512];
        snprintf(from, sizeof from, "%s/etc/mif.conf.new", root);
        snprintf(to, sizeof to, "%s/etc/mif.conf", root);
        REQUIRE(CHECK(rename(from, to) == 0));
    }
    m = check_wait_for(ctx, match_log, &later, 30000);
    CHECK(m != NULL);
    if (m != NULL)
        check_note("later: %s", m->text);
    mif_message_free(m);
    mif_close(ctx);
}

static void nothing_below_the_level_or_unasked(void)
{
    mif_log_level levels[] = { MIF_LOG_NONE, MIF_LOG_ERROR };
    size_t i;
    REQUIRE(check_write_file(root, "etc/mif.conf", bad_conf));
    for (i = 0; i < sizeof levels / sizeof levels[0]; i++) {
        mif_ctx *ctx = open_at(levels[i]);
        REQUIRE(ctx != NULL);
        CHECK_EQ_INT(logs_until_lo(ctx), 0);
        mif_close(ctx);
    }
    /* Control: the same file at MIF_LOG_WARN gives at least one. */
    {
        mif_ctx *ctx = open_at(MIF_LOG_WARN);
        REQUIRE(ctx != NULL);
        CHECK(logs_until_lo(ctx) >= 1);
        mif_close(ctx);
    }
}

static void bad_levels_refused(void)
{
    mif_options opts;
    mif_ctx *ctx = NULL;
    mif_options_init(&opts);
    opts.root_dir = root;
    opts.log_level = MIF_LOG_DEBUG + 1;
    CHECK_RC(mif_open(&opts, &ctx), MIF_E_INVALID_ARGUMENT);
    opts.log_level = MIF_LOG_WARN;
    opts.reserved2 = 1;
    CHECK_RC(mif_open(&opts, &ctx), MIF_E_INVALID_ARGUMENT);
    CHECK(ctx == NULL);
}

int main(void)
{
    char errpath[300];
    int saved_stderr, errfd;
    struct stat st;
    check_watchdog(280);
    unsetenv("MIF_CONFIG");
    unsetenv("MIF_LOG");
    check_require_private_netns();
    if (!check_make_root(root, sizeof root, NULL, NULL))
        return 1;
    /* The library's stderr goes to a file we read at the end; our notes go to the
     * original stderr. */
    snprintf(errpath, sizeof errpath, "%s/stderr.txt", root);
    errfd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    saved_stderr = dup(2);
    if (errfd < 0 || saved_stderr < 0 || dup2(errfd, 2) < 0)
        return 1;
    RUN_CASE(bad_lines_come_as_warnings);
    RUN_CASE(nothing_below_the_level_or_unasked);
    RUN_CASE(bad_levels_refused);
    fflush(stderr);
    if (CHECK(stat(errpath, &st) == 0) && !CHECK_EQ_INT(st.st_size, 0))
        check_sh("cat '%s' >&%d", errpath, saved_stderr);
    check_sh("rm -rf '%s'", root);
    return check_done();
}
