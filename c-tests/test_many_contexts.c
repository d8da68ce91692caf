/*
 * test_many_contexts: contexts beyond the user's inotify instances.
 *
 * fs.inotify.max_user_instances (128 by default) is shared by every program of the
 * user; each context used to need one, so the 129th context failed to open.
 * - With every inotify instance taken (this test takes them first), a context still
 *   opens and still sees a configuration file appear and go (it looks at the files
 *   every 5 s instead of following them), and its translations still see each edit
 *   of the hosts file at once (without a watch, each one stats the file).
 * - 1,000 contexts open at once in one process (RLIMIT_NOFILE raised for their ~10
 *   descriptors each), and the last one opened sees a file change.
 *
 * Uses only lo in the private network namespace c-tests/run.sh gives it.
 */
#include <stdlib.h>
#include <sys/inotify.h>
#include <sys/resource.h>

#include "mif.h"
#include "check.h"
#include "bed.h"

#define CONTEXTS 1000

static char root[256];

static mif_ctx *open_ctx(void)
{
    mif_options opts;
    mif_ctx *ctx = NULL;
    mif_result rc;
    mif_options_init(&opts);
    opts.root_dir = root;
    rc = mif_open(&opts, &ctx);
    if (rc != MIF_OK) {
        check_note("mif_open: %s (errno %s)", mif_strerror(rc), strerror(errno));
        return NULL;
    }
    return ctx;
}

static int match_element(const mif_message *m, const void *arg)
{
    return m->msg_type == *(const mif_message_type *)arg;
}

/* Subscribes to lo's IPv4 elements, writes (or removes) the static configuration
 * file, and waits for the element to be announced (or withdrawn). */
static int sees_config_change(mif_ctx *ctx, int write)
{
    static const mif_message_type added = MIF_MSG_CONFIG_ELEMENT_ANNOUNCEMENT;
    static const mif_message_type gone = MIF_MSG_NO_CONFIG_ELEMENT_ANNOUNCEMENT;
    char path[512];
    mif_message *m;
    if (write) {
        mif_request req;
        mif_request_init(&req, MIF_REQ_ANNOUNCE_CONFIG_ELEMENTS);
        req.pvd = check_pvd_of(ctx, "lo", MIF_FAMILY_IPV4);
        if (!CHECK_RC(mif_post_message(ctx, &req), MIF_OK))
            return 0;
        check_drain(ctx);
        if (!CHECK(check_write_file(root, "etc/mif.conf", "[lo]\ndns = 198.51.100.53\n")))
            return 0;
    } else {
        snprintf(path, sizeof path, "%s/etc/mif.conf", root);
        if (!CHECK(unlink(path) == 0))
            return 0;
    }
    m = check_wait_for(ctx, match_element, write ? &added : &gone, 60000);
    if (!CHECK(m != NULL))
        return 0;
    if (write)
        CHECK_EQ_INT(m->dns_server_count, 1);
    mif_message_free(m);
    return 1;
}

static void raise_descriptor_limit(void)
{
    struct rlimit r;
    if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
        r.rlim_cur = r.rlim_max;
        setrlimit(RLIMIT_NOFILE, &r);
    }
    if (getrlimit(RLIMIT_NOFILE, &r) == 0)
        check_note("RLIMIT_NOFILE %llu", (unsigned long long)r.rlim_cur);
}

static void context_without_inotify_still_sees_files(void)
{
    static int hoard[100000];
    int taken = 0, i;
    mif_ctx *ctx;
    /* Take every inotify instance the user may have. */
    while (taken < (int)(sizeof hoard / sizeof hoard[0])) {
        int fd = inotify_init1(IN_CLOEXEC);
        if (fd < 0)
            break;
        hoard[taken++] = fd;
    }
    check_note("took %d inotify instances (then: %s)", taken, strerror(errno));
    CHECK(errno == EMFILE);
    ctx = open_ctx();
    if (CHECK(ctx != NULL)) {
        CHECK(sees_config_change(ctx, 1));
        CHECK(sees_config_change(ctx, 0));
        CHECK(check_write_file(root, "etc/hosts", "198.51.100.1 edit.example\n"));
        CHECK_EQ_INT(check_hosts_addresses(ctx, "edit.example"), 1);
        CHECK_EQ_INT(check_hosts_addresses(ctx, "edit.example"), 1);
        /* Another length: without a watch, a rewrite of the same length within the
         * file system's timestamp granularity looks unchanged to a stat. */
        CHECK(check_write_file(root, "etc/hosts", "198.51.100.2 tide.example.net\n"));
        CHECK_EQ_INT(check_hosts_addresses(ctx, "tide.example.net"), 1);
        mif_close(ctx);
    }
    for (i = 0; i < taken; i++)
        close(hoard[i]);
}

static void thousand_contexts(void)
{
    static mif_ctx *ctxs[CONTEXTS];
    int opened = 0, i;
    for (i = 0; i < CONTEXTS; i++) {
        ctxs[i] = open_ctx();
        if (ctxs[i] == NULL)
            break;
        opened++;
    }
    check_note("%d of %d contexts open at once", opened, CONTEXTS);
    CHECK_EQ_INT(opened, CONTEXTS);
    if (opened > 0) {
        CHECK(sees_config_change(ctxs[opened - 1], 1));
        CHECK(sees_config_change(ctxs[opened - 1], 0));
    }
    for (i = 0; i < opened; i++)
        mif_close(ctxs[i]);
}

int main(void)
{
    check_watchdog(280);
    unsetenv("MIF_CONFIG");
    check_require_private_netns();
    raise_descriptor_limit();
    if (!check_make_root(root, sizeof root, NULL, NULL)) {
        check_note("cannot make a scratch root");
        return 1;
    }
    RUN_CASE(context_without_inotify_still_sees_files);
    RUN_CASE(thousand_contexts);
    check_remove_root(root);
    return check_done();
}
