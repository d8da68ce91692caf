/*
 * test_close_fork: mif_close with other threads inside calls on the context, calls
 * with a closed handle, and contexts inherited across fork().
 *
 * - Threads blocked in mif_check_message(ctx, -1) (one of them reading DNS answers of
 *   an outstanding translation itself), looping in mif_get_message and posting are all
 *   woken by mif_close and return MIF_E_CLOSED; valgrind sees no read of freed memory.
 * - Every call with a closed handle (or a value that never was a handle) returns
 *   MIF_E_CLOSED (mif_fd: -1); closing twice does nothing.
 * - In a child of fork(), every call on the parent's context returns MIF_E_FORKED
 *   without a hang and mif_close on it prints nothing (MIF_LOG=debug); the parent's
 *   descriptor still polls readable while its messages wait.
 * - 100 children forked while another thread of the parent posts, checks and gets on
 *   a context all finish (none inherits the handle table's lock held at fork time).
 * Children end by exec, and open no context before it: between fork() and exec in a
 * threaded program only calls on inherited contexts are defined (the header says so).
 *
 * Uses the blackhole bed of bed.h (veth mt0, a DNS server that never answers): it
 * refuses to run outside the private network namespace c-tests/run.sh gives it.
 */
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "mif.h"
#include "check.h"
#include "bed.h"

static char root[256];
static int bed_ok;

static mif_ctx *open_ctx(void)
{
    mif_options opts;
    mif_ctx *ctx = NULL;
    mif_options_init(&opts);
    if (root[0] != '\0')
        opts.root_dir = root;
    opts.dns_timeout_ms = 600000; /* the blackholed server never answers */
    opts.dns_tries = 1;
    if (!CHECK_RC(mif_open(&opts, &ctx), MIF_OK))
        return NULL;
    return ctx;
}

/* ---- close wakes every caller ------------------------------------------------------ */

enum role { WAIT_FOREVER, GET_LOOP, POST_LOOP, ROLES };
static const char *const role_names[ROLES] = { "check(-1)", "get loop", "post loop" };

struct caller {
    mif_ctx *ctx;
    enum role role;
    mif_result last; /* the code that ended the loop */
    long calls;
};

static int waiting; /* WAIT_FOREVER callers about to enter their wait */
static int looping; /* the other callers that started their loop */

static void *caller_main(void *arg)
{
    struct caller *c = (struct caller *)arg;
    if (c->role != WAIT_FOREVER)
        __atomic_add_fetch(&looping, 1, __ATOMIC_SEQ_CST);
    for (;;) {
        mif_result rc;
        mif_message *m = NULL;
        switch (c->role) {
        case WAIT_FOREVER:
            __atomic_add_fetch(&waiting, 1, __ATOMIC_SEQ_CST);
            rc = mif_check_message(c->ctx, -1);
            if (rc == MIF_OK && mif_get_message(c->ctx, &m) == MIF_OK)
                check_discard(m);
            break;
        case GET_LOOP:
            rc = mif_get_message(c->ctx, &m);
            if (rc == MIF_OK)
                check_discard(m);
            else if (rc == MIF_NO_MESSAGE)
                rc = mif_check_message(c->ctx, 0);
            break;
        default:
            rc = check_post(c->ctx, MIF_REQ_GET_CONFIGURATION_DATA, 0, 0);
            if (rc == MIF_E_UNKNOWN_PVD) /* pvd 0 is no PvD: the post itself was served */
                rc = MIF_OK;
            break;
        }
        c->calls++;
        if (rc != MIF_OK && rc != MIF_NO_MESSAGE) {
            c->last = rc;
            return NULL;
        }
    }
}

static void close_wakes_every_caller(void)
{
    enum { N = 7 };
    static const enum role roles[N] = { WAIT_FOREVER, WAIT_FOREVER, WAIT_FOREVER, GET_LOOP,
                                        GET_LOOP, POST_LOOP, POST_LOOP };
    struct caller callers[N];
    pthread_t threads[N];
    mif_ctx *ctx = open_ctx();
    int i;
    if (ctx == NULL)
        return;
    check_drain(ctx);
    if (bed_ok) {
        /* An outstanding translation: a thread in check(-1) then reads DNS itself. */
        mif_request req;
        uint64_t pvd = check_pvd_of(ctx, CHECK_BED_IF, MIF_FAMILY_IPV4);
        mif_request_init(&req, MIF_REQ_TRANSLATE_NAME);
        req.pvd = pvd;
        req.translation_id = 1;
        req.name = "waits.example";
        CHECK_RC(mif_post_message(ctx, &req), MIF_OK);
    }
    for (i = 0; i < N; i++) {
        callers[i].ctx = ctx;
        callers[i].role = roles[i];
        callers[i].last = MIF_OK;
        callers[i].calls = 0;
    }
    /* The three waiters first, until they are at their wait (and, after a moment,
     * inside it): a caller that started after the close would get MIF_E_CLOSED as well,
     * without testing the wake-up. The messages drained first, the waits have nothing
     * to return for. The looping callers start after them, so they cannot hold the
     * waiters back from their wait (under valgrind without --fair-sched=yes, four tight
     * loops kept a new thread from its first instruction for over 30 s in a CI run). */
    for (i = 0; i < N; i++) {
        if (roles[i] == WAIT_FOREVER)
            REQUIRE(pthread_create(&threads[i], NULL, caller_main, &callers[i]) == 0);
    }
    {
        long long until = check_now_ms() + 30000;
        while (__atomic_load_n(&waiting, __ATOMIC_SEQ_CST) < 3 && check_now_ms() < until)
            check_sleep_ms(10);
        CHECK(__atomic_load_n(&waiting, __ATOMIC_SEQ_CST) >= 3);
    }
    check_sleep_ms(200);
    for (i = 0; i < N; i++) {
        if (roles[i] != WAIT_FOREVER)
            REQUIRE(pthread_create(&threads[i], NULL, caller_main, &callers[i]) == 0);
    }
    {
        long long until = check_now_ms() + 30000;
        while (__atomic_load_n(&looping, __ATOMIC_SEQ_CST) < N - 3 && check_now_ms() < until)
            check_sleep_ms(10);
        CHECK(__atomic_load_n(&looping, __ATOMIC_SEQ_CST) >= N - 3);
    }
    check_sleep_ms(200); /* the loops are in their calls when the context closes */
    mif_close(ctx);
    for (i = 0; i < N; i++) {
        pthread_join(threads[i], NULL);
        check_note("%s: %ld calls, ended with %s", role_names[callers[i].role], callers[i].calls,
                   mif_strerror(callers[i].last));
        CHECK_RC(callers[i].last, MIF_E_CLOSED);
    }
}

/* ---- calls with a closed handle ------------------------------------------------------ */

static void calls_after_close_are_refused(void)
{
    mif_ctx *ctx = open_ctx();
    mif_message *m = (mif_message *)&m; /* sentinel: must stay untouched */
    mif_message *const sentinel = m;
    mif_ctx *never = (mif_ctx *)(uintptr_t)0x1234567; /* never a handle */
    int fd;
    if (ctx == NULL)
        return;
    mif_close(ctx);
    CHECK_RC(check_post(ctx, MIF_REQ_ANNOUNCE_INTERFACES, 0, 0), MIF_E_CLOSED);
    CHECK_RC(mif_check_message(ctx, 0), MIF_E_CLOSED);
    CHECK_RC(mif_check_message(ctx, -1), MIF_E_CLOSED);
    CHECK_RC(mif_get_message(ctx, &m), MIF_E_CLOSED);
    CHECK(m == sentinel);
    CHECK_EQ_INT(mif_fd(ctx), -1);
    fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    CHECK_RC(mif_bind_socket(ctx, fd, 0, 0), MIF_E_CLOSED);
    close(fd);
    mif_close(ctx); /* twice: nothing happens */
    CHECK_RC(mif_check_message(never, 0), MIF_E_CLOSED);
    CHECK_EQ_INT(mif_fd(never), -1);
    mif_close(never);
}

/* ---- fork ---------------------------------------------------------------------------- */

/* In a child: counts a failed check and says which (on stdout: stderr is watched). */
#define CHILD_CHECK(cond) (void)((cond) || (printf("# child: %s:%d: %s failed\n", __FILE__, __LINE__, #cond), fflush(stdout), bad++))

/* In the child: what the parent's context answers, then a context of its own. */
static int child_checks(mif_ctx *inherited, int capture)
{
    mif_message *m = NULL;
    int bad = 0;
    int saved = dup(2);
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    /* What the library prints about the inherited context goes to the parent's pipe
     * (MIF_LOG=debug: everything it would print). */
    dup2(capture, 2);
    CHILD_CHECK(mif_get_message(inherited, &m) == MIF_E_FORKED && m == NULL);
    CHILD_CHECK(mif_check_message(inherited, 0) == MIF_E_FORKED);
    CHILD_CHECK(mif_check_message(inherited, -1) == MIF_E_FORKED);
    CHILD_CHECK(check_post(inherited, MIF_REQ_ANNOUNCE_INTERFACES, 0, 0) == MIF_E_FORKED);
    CHILD_CHECK(mif_fd(inherited) == -1);
    CHILD_CHECK(mif_bind_socket(inherited, fd, 0, 0) == MIF_E_FORKED);
    close(fd);
    mif_close(inherited);
    CHILD_CHECK(mif_check_message(inherited, 0) == MIF_E_FORKED); /* still the parent's */
    dup2(saved, 2);
    close(saved);
    close(capture);
    return bad;
}

/*
 * Ends a child with `status` by exec, as most children of a threaded program end: the
 * memory the parent's threads held (the engine's, on stacks that do not exist in the
 * child) would otherwise be counted by valgrind's leak check at the child's exit.
 */
static void child_exit(int status)
{
    char code[16];
    snprintf(code, sizeof code, "exit %d", status);
    execl("/bin/sh", "sh", "-c", code, (char *)NULL);
    _exit(127);
}

static void forked_child_is_refused(void)
{
    mif_ctx *ctx = open_ctx();
    int err[2];
    pid_t pid;
    int status = -1;
    char printed[512];
    ssize_t n;
    struct pollfd p;
    if (ctx == NULL)
        return;
    CHECK_RC(check_post(ctx, MIF_REQ_ANNOUNCE_INTERFACES, 0, 0), MIF_OK);
    CHECK_RC(mif_check_message(ctx, 0), MIF_OK);
    REQUIRE(pipe2(err, O_CLOEXEC) == 0);
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        close(err[0]);
        child_exit(child_checks(ctx, err[1]));
    }
    close(err[1]);
    REQUIRE(pid > 0);
    n = read(err[0], printed, sizeof printed - 1);
    close(err[0]);
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status));
    check_note("child: exit status %d (0: every check passed)", WEXITSTATUS(status));
    CHECK_EQ_INT(WEXITSTATUS(status), 0);
    if (n > 0) {
        printed[n] = '\0';
        check_note("the child printed: %s", printed);
    }
    CHECK_EQ_INT(n, 0);
    /* The parent's context: its messages still wait and its descriptor says so. */
    p.fd = mif_fd(ctx);
    p.events = POLLIN;
    p.revents = 0;
    CHECK_EQ_INT(poll(&p, 1, 0), 1);
    CHECK(check_drain(ctx) > 0);
    CHECK_RC(mif_check_message(ctx, 0), MIF_NO_MESSAGE);
    mif_close(ctx);
}

static volatile int churn_stop;

static void *churn_main(void *arg)
{
    mif_ctx *ctx = (mif_ctx *)arg;
    while (!__atomic_load_n(&churn_stop, __ATOMIC_RELAXED)) {
        check_post(ctx, MIF_REQ_ANNOUNCE_INTERFACES, 0, 0);
        mif_check_message(ctx, 0);
        check_drain(ctx);
        check_post(ctx, MIF_REQ_STOP_ANNOUNCING_INTERFACES, 0, 0);
    }
    return NULL;
}

static void fork_while_another_thread_calls(void)
{
    enum { CHILDREN = 100 };
    mif_ctx *ctx = open_ctx();
    pthread_t churn;
    int i, ok = 0;
    if (ctx == NULL)
        return;
    churn_stop = 0;
    REQUIRE(pthread_create(&churn, NULL, churn_main, ctx) == 0);
    for (i = 0; i < CHILDREN; i++) {
        int status = -1;
        pid_t pid;
        fflush(stdout);
        pid = fork();
        if (pid == 0) {
            /* Only what is defined between fork() and exec in a threaded program: calls
             * on the inherited context (opening a new one is for after the exec). */
            int bad = mif_check_message(ctx, 0) != MIF_E_FORKED;
            bad += check_post(ctx, MIF_REQ_ANNOUNCE_INTERFACES, 0, 0) != MIF_E_FORKED;
            mif_close(ctx);
            child_exit(bad);
        }
        if (!CHECK(pid > 0))
            break;
        if (waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0)
            ok++;
    }
    __atomic_store_n(&churn_stop, 1, __ATOMIC_RELAXED);
    pthread_join(churn, NULL);
    check_note("%d of %d children finished their checks", ok, CHILDREN);
    CHECK_EQ_INT(ok, CHILDREN);
    mif_close(ctx);
}

int main(void)
{
    check_watchdog(280);
    unsetenv("MIF_CONFIG");
    /* Everything the library could print is printed: the forked child's calls on the
     * parent's context must still print nothing. */
    setenv("MIF_LOG", "debug", 1);
    bed_ok = check_blackhole_bed() && check_make_root(root, sizeof root, "", "[" CHECK_BED_IF "]\ndns = " CHECK_BLACKHOLE "\n");
    if (!bed_ok)
        check_note("the blackhole bed could not be made");
    RUN_CASE(close_wakes_every_caller);
    RUN_CASE(calls_after_close_are_refused);
    RUN_CASE(forked_child_is_refused);
    RUN_CASE(fork_while_another_thread_calls);
    if (root[0] != '\0')
        check_remove_root(root);
    return check_done();
}
