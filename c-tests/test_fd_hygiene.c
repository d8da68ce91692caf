/*
 * test_fd_hygiene: every descriptor a context opens is close-on-exec, and closing a
 * context leaves /proc/self/fd (and the thread list, /proc/self/task) as it was, also
 * after many open/close cycles with messages still queued.
 *
 * Needs only `lo` (up, with 127.0.0.1 and ::1: run.sh brings it up); changes nothing
 * in the kernel.
 */
#include "mif.h"
#include "check.h"
#include "bed.h"

#include <fcntl.h>

#define MAX_FDS 1024

struct fdset {
    int n;
    int fd[MAX_FDS];
};

/* Lists the numeric entries of a /proc directory (without the listing's own fd). */
static int list_dir(const char *path, struct fdset *s)
{
    DIR *d = opendir(path);
    struct dirent *e;
    s->n = 0;
    if (d == NULL)
        return CHECK(d != NULL);
    while ((e = readdir(d)) != NULL) {
        char *end;
        long v = strtol(e->d_name, &end, 10);
        if (e->d_name[0] == '.' || *end != '\0')
            continue;
        if (strcmp(path, "/proc/self/fd") == 0 && v == dirfd(d))
            continue;
        if (s->n < MAX_FDS)
            s->fd[s->n++] = (int)v;
    }
    closedir(d);
    return 1;
}

static int contains(const struct fdset *s, int fd)
{
    int i;
    for (i = 0; i < s->n; i++)
        if (s->fd[i] == fd)
            return 1;
    return 0;
}

static const char *fd_target(int fd, char *buf, size_t len)
{
    char path[64];
    ssize_t n;
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    n = readlink(path, buf, len - 1);
    buf[n > 0 ? n : 0] = '\0';
    return buf;
}

/* Same set?  Reports the difference if not. */
static int same_set(const struct fdset *a, const struct fdset *b, const char *what)
{
    int i, ok = 1;
    char t[128];
    for (i = 0; i < b->n; i++)
        if (!contains(a, b->fd[i])) {
            check_note("%s: %d is new (%s)", what, b->fd[i], fd_target(b->fd[i], t, sizeof t));
            ok = 0;
        }
    for (i = 0; i < a->n; i++)
        if (!contains(b, a->fd[i])) {
            check_note("%s: %d is gone", what, a->fd[i]);
            ok = 0;
        }
    return CHECK(ok);
}

static void new_fds_are_cloexec(void)
{
    struct fdset before, during, after;
    mif_ctx *ctx = NULL;
    int i, fresh = 0;
    char t[128];

    REQUIRE(list_dir("/proc/self/fd", &before));
    REQUIRE(CHECK_RC(mif_open(NULL, &ctx), MIF_OK));
    list_dir("/proc/self/fd", &during);
    CHECK(contains(&during, mif_fd(ctx)));
    CHECK(!contains(&before, mif_fd(ctx)));
    for (i = 0; i < during.n; i++) {
        int fd = during.fd[i], flags;
        if (contains(&before, fd))
            continue;
        fresh++;
        flags = fcntl(fd, F_GETFD);
        if (!CHECK(flags >= 0 && (flags & FD_CLOEXEC)))
            check_note("fd %d (%s) is not close-on-exec", fd, fd_target(fd, t, sizeof t));
    }
    CHECK(fresh >= 1);
    check_note("a context holds %d descriptors", fresh);
    /* Subscriptions open nothing that stays open, and nothing without CLOEXEC. */
    CHECK_RC(check_post(ctx, MIF_REQ_ANNOUNCE_INTERFACES, 0, 0), MIF_OK);
    CHECK_RC(mif_check_message(ctx, 0), MIF_OK);
    list_dir("/proc/self/fd", &after);
    same_set(&during, &after, "after a subscription");
    mif_close(ctx);
    list_dir("/proc/self/fd", &after);
    same_set(&before, &after, "after mif_close");
}

/* Opens, subscribes to everything on lo, takes only what it needs, closes. */
static void cycle(int panic)
{
    mif_options opts;
    mif_ctx *ctx = NULL;
    mif_message *m = NULL;
    unsigned lo = if_nametoindex("lo");
    uint64_t pvds[2];
    int npvd = 0, i;

    mif_options_init(&opts);
    if (panic)
        opts.test_flags = MIF_TEST_PANIC_ENGINE;
    if (!CHECK_RC(mif_open(&opts, &ctx), MIF_OK))
        return;
    if (panic) {
        /* The untaken final message is queued; leave it there. */
        CHECK_RC(mif_check_message(ctx, -1), MIF_OK);
        mif_close(ctx);
        return;
    }
    /* Learn lo's PvD ids from a first announcement (the only messages taken)... */
    CHECK_RC(check_post(ctx, MIF_REQ_ANNOUNCE_PVDS, lo, 0), MIF_OK);
    while (npvd < 2 && mif_get_message(ctx, &m) == MIF_OK) {
        if (m->msg_type == MIF_MSG_PVD_ANNOUNCEMENT)
            pvds[npvd++] = m->pvd;
        mif_message_free(m);
    }
    CHECK_EQ_INT(npvd, 2);
    /* ...then subscribe to everything and take nothing. */
    CHECK_RC(check_post(ctx, MIF_REQ_ANNOUNCE_INTERFACES, 0, 0), MIF_OK);
    CHECK_RC(check_post(ctx, MIF_REQ_ANNOUNCE_PVDS, lo, 0), MIF_OK);
    for (i = 0; i < npvd; i++)
        CHECK_RC(check_post(ctx, MIF_REQ_ANNOUNCE_ADDRESSES, 0, pvds[i]), MIF_OK);
    CHECK_RC(mif_check_message(ctx, 0), MIF_OK);
    mif_close(ctx);
}

static void open_close_50_times_with_pending_messages(void)
{
    struct fdset fds_before, fds_after, tasks_before, tasks_after;
    int i;
    REQUIRE(list_dir("/proc/self/fd", &fds_before));
    REQUIRE(list_dir("/proc/self/task", &tasks_before));
    for (i = 0; i < 50; i++)
        cycle(i % 10 == 9);
    list_dir("/proc/self/fd", &fds_after);
    list_dir("/proc/self/task", &tasks_after);
    same_set(&fds_before, &fds_after, "fds after 50 cycles");
    /* Every engine thread was joined by mif_close. */
    CHECK_EQ_INT(tasks_after.n, tasks_before.n);
}

static void failed_open_leaks_nothing(void)
{
    struct fdset before, after;
    mif_options opts;
    mif_ctx *ctx = (mif_ctx *)CHECK_SENTINEL;
    REQUIRE(list_dir("/proc/self/fd", &before));
    mif_options_init(&opts);
    opts.flags = 0x80000000u; /* no such MIF_OPTION_* bit */
    CHECK_RC(mif_open(&opts, &ctx), MIF_E_INVALID_ARGUMENT);
    CHECK(ctx == (mif_ctx *)CHECK_SENTINEL);
    list_dir("/proc/self/fd", &after);
    same_set(&before, &after, "after a failed open");
}

int main(void)
{
    check_watchdog(180);
    RUN_CASE(new_fds_are_cloexec);
    RUN_CASE(open_close_50_times_with_pending_messages);
    RUN_CASE(failed_open_leaks_nothing);
    return check_done();
}
