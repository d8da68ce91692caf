/*
 * check.h: the tiny assertion helper of libmif's C tests (c-tests/test_*.c).
 *
 * A test binary is a main() that runs several cases:
 *
 *     static void case_probe(void) { CHECK_EQ_INT(mif_check_message(ctx, 0), MIF_NO_MESSAGE); }
 *     int main(void) { RUN_CASE(case_probe); return check_done(); }
 *
 * - CHECK(cond), CHECK_EQ_INT(a, b), CHECK_EQ_STR(a, b), CHECK_RC(expr, code) print
 *   "# file:line: ..." with the values when they fail, count the failure against the
 *   running case and evaluate to 1 (passed) or 0 (failed), so a case can stop early:
 *   `if (!CHECK(msg != NULL)) return;`.  REQUIRE(cond) is that, as a statement.
 * - RUN_CASE(fn) runs one case and prints "ok - fn" or "not ok - fn".
 * - check_done() prints "# N cases, M failed" and returns the exit status (0 or 1).
 * - Counters are atomic: cases may CHECK from several threads.
 * - check_watchdog(seconds) ends the binary with a failure if it has not reached
 *   check_done() by then, so a hang (a wait that is never woken) fails instead of
 *   blocking CI.  It is a thread with every signal blocked; check_done() joins it.
 *
 * The second half holds what several tests share: check_private_netns() (tests that
 * run `ip` must run inside the private network namespace run.sh makes), check_sh()
 * (run a shell command), and, when mif.h was included first, message helpers.
 * Everything is static (inline), so each test is one translation unit.
 */
#ifndef MIF_CHECK_H
#define MIF_CHECK_H

#include <dirent.h>
#include <errno.h>
#include <net/if.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- assertions ------------------------------------------------------------ */

static int check_case_failures;  /* failures in the running case (atomic) */
static int check_failed_cases;
static int check_run_cases;

static inline void check_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline void check_note(const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    /* One write per line, so lines from several threads do not interleave. */
    printf("# %s\n", line);
    fflush(stdout);
}

static inline int check_fail(void)
{
    __atomic_add_fetch(&check_case_failures, 1, __ATOMIC_SEQ_CST);
    return 0;
}

static inline int check_bool(int ok, const char *expr, const char *file, int line)
{
    if (ok)
        return 1;
    check_note("%s:%d: CHECK(%s) failed", file, line, expr);
    return check_fail();
}

static inline int check_eq_int(long long a, long long b, const char *ea, const char *eb,
                               const char *file, int line)
{
    if (a == b)
        return 1;
    check_note("%s:%d: CHECK_EQ_INT(%s, %s) failed: %lld != %lld", file, line, ea, eb, a, b);
    return check_fail();
}

static inline int check_eq_str(const char *a, const char *b, const char *ea, const char *eb,
                               const char *file, int line)
{
    if (a != NULL && b != NULL && strcmp(a, b) == 0)
        return 1;
    check_note("%s:%d: CHECK_EQ_STR(%s, %s) failed: \"%s\" != \"%s\"", file, line, ea, eb,
               a ? a : "(null)", b ? b : "(null)");
    return check_fail();
}

#define CHECK(cond) check_bool(!!(cond), #cond, __FILE__, __LINE__)
#define CHECK_EQ_INT(a, b) check_eq_int((long long)(a), (long long)(b), #a, #b, __FILE__, __LINE__)
#define CHECK_EQ_STR(a, b) check_eq_str((a), (b), #a, #b, __FILE__, __LINE__)
#define REQUIRE(cond) do { if (!CHECK(cond)) return; } while (0)

static inline void check_run(const char *name, void (*fn)(void))
{
    __atomic_store_n(&check_case_failures, 0, __ATOMIC_SEQ_CST);
    fn();
    check_run_cases++;
    if (__atomic_load_n(&check_case_failures, __ATOMIC_SEQ_CST) == 0) {
        printf("ok - %s\n", name);
    } else {
        check_failed_cases++;
        printf("not ok - %s\n", name);
    }
    fflush(stdout);
}

#define RUN_CASE(fn) check_run(#fn, fn)

/* ---- watchdog ---------------------------------------------------------------- */

static pthread_mutex_t check_wd_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t check_wd_cond = PTHREAD_COND_INITIALIZER;
static int check_wd_done;
static int check_wd_seconds;
static int check_wd_running;
static pthread_t check_wd_thread;

static inline void *check_wd_main(void *arg)
{
    struct timespec deadline;
    int expired = 0;
    (void)arg;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += check_wd_seconds;
    pthread_mutex_lock(&check_wd_lock);
    while (!check_wd_done && !expired)
        expired = pthread_cond_timedwait(&check_wd_cond, &check_wd_lock, &deadline) == ETIMEDOUT;
    pthread_mutex_unlock(&check_wd_lock);
    if (expired) {
        printf("not ok - watchdog: still running after %d s (a wait that never ended?)\n",
               check_wd_seconds);
        fflush(stdout);
        _exit(3);
    }
    return NULL;
}

/* Call once, first thing in main(). */
static inline void check_watchdog(int seconds)
{
    sigset_t all, old;
    check_wd_seconds = seconds;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    if (pthread_create(&check_wd_thread, NULL, check_wd_main, NULL) == 0)
        check_wd_running = 1;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

static inline int check_done(void)
{
    if (check_wd_running) {
        pthread_mutex_lock(&check_wd_lock);
        check_wd_done = 1;
        pthread_cond_signal(&check_wd_cond);
        pthread_mutex_unlock(&check_wd_lock);
        pthread_join(check_wd_thread, NULL);
        check_wd_running = 0;
    }
    printf("# %d cases, %d failed\n", check_run_cases, check_failed_cases);
    fflush(stdout);
    return check_failed_cases == 0 ? 0 : 1;
}

/* ---- environment: time, shell commands, the private network namespace ---------- */

static inline long long check_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline void check_sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/*
 * Runs a shell command (through system()); returns 1 when it exited 0, else prints it
 * and returns 0.  Only for `ip` inside the private namespace: see check_private_netns().
 */
static inline int check_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline int check_sh(const char *fmt, ...)
{
    char cmd[512];
    va_list ap;
    int rc;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    fflush(stdout);
    rc = system(cmd);
    if (rc == -1 || !WIFEXITED(rc) || WEXITSTATUS(rc) != 0) {
        check_note("command failed (status %d): %s", rc, cmd);
        return 0;
    }
    return 1;
}

#define SH(...) CHECK(check_sh(__VA_ARGS__))

/*
 * Tests that change the kernel's network state (`ip link add`, `ip addr add`) must run
 * only in the fresh, empty network namespace run.sh gives each binary (unshare --net).
 * This returns 1 when the process's network namespace differs from PID 1's and holds no
 * interface but `lo`; otherwise it says why and returns 0.  Call it before any change.
 */
static inline int check_private_netns(void)
{
    char self[64] = "", init[64] = "";
    ssize_t n;
    struct if_nameindex *ifs, *i;
    int others = 0;

    n = readlink("/proc/self/ns/net", self, sizeof self - 1);
    if (n <= 0) {
        check_note("cannot read /proc/self/ns/net: %s", strerror(errno));
        return 0;
    }
    self[n] = '\0';
    n = readlink("/proc/1/ns/net", init, sizeof init - 1);
    if (n > 0) {
        init[n] = '\0';
        if (strcmp(self, init) == 0) {
            check_note("refusing to run: this process shares PID 1's network namespace (%s); "
                       "run it through c-tests/run.sh (unshare --net)", self);
            return 0;
        }
    } else if (errno != EACCES && errno != EPERM) {
        check_note("cannot read /proc/1/ns/net: %s", strerror(errno));
        return 0;
    }
    ifs = if_nameindex();
    if (ifs == NULL) {
        check_note("if_nameindex: %s", strerror(errno));
        return 0;
    }
    for (i = ifs; i->if_index != 0; i++) {
        if (strcmp(i->if_name, "lo") != 0) {
            check_note("refusing to run: interface %s exists, so this is not a fresh private "
                       "namespace; run it through c-tests/run.sh (unshare --net)", i->if_name);
            others++;
        }
    }
    if_freenameindex(ifs);
    return others == 0;
}

/* Exits with a failure (not a skip) when check_private_netns() says no. */
static inline void check_require_private_netns(void)
{
    if (!check_private_netns()) {
        printf("not ok - private network namespace required\n");
        fflush(stdout);
        exit(2);
    }
}

/* ---- libmif helpers (include mif.h before check.h) ------------------------------- */
#ifdef MIF_H

static inline int check_rc(mif_result got, mif_result want, const char *expr,
                           const char *file, int line)
{
    if (got == want)
        return 1;
    check_note("%s:%d: %s returned %d (%s), expected %d (%s)", file, line, expr, (int)got,
               mif_strerror(got), (int)want, mif_strerror(want));
    return check_fail();
}

/* CHECK_RC(mif_call(...), MIF_OK): the call's result must be that code. */
#define CHECK_RC(expr, want) check_rc((expr), (want), #expr, __FILE__, __LINE__)

/* A sentinel for out-parameters that must stay untouched on failure (never dereferenced). */
#define CHECK_SENTINEL ((void *)(uintptr_t)0x5e1f5e10u)

static inline int check_nul_terminated(const char *s, size_t size)
{
    return memchr(s, '\0', size) != NULL;
}

/* One line describing a message, for diagnostics. */
static inline void check_describe(const mif_message *m, char *out, size_t len)
{
    char addr[MIF_ADDRESS_TEXT_SIZE] = "-";
    if (m->address.family != 0)
        mif_address_format(&m->address, addr, sizeof addr);
    snprintf(out, len, "%s if=%u %.16s pvd=%llu %.32s fam=%u addr=%s/%u",
             mif_message_type_name(m->msg_type), m->ifindex, m->ifname,
             (unsigned long long)m->pvd, m->pvd_name, m->family, addr, m->prefix_len);
}

/*
 * Checks that a message is well formed: a known type, NUL-terminated names, fields
 * consistent with its type.  Returns 1 if so; else reports through CHECK and returns 0.
 */
static inline int check_message_well_formed(const mif_message *m)
{
    int ok = 1;
    int config = 0; /* a configuration element or data message */
    if (!CHECK(m != NULL))
        return 0;
    ok &= CHECK(check_nul_terminated(m->ifname, sizeof m->ifname));
    ok &= CHECK(check_nul_terminated(m->pvd_name, sizeof m->pvd_name));
    switch (m->msg_type) {
    case MIF_MSG_CONFIG_ELEMENT_ANNOUNCEMENT:
    case MIF_MSG_NO_CONFIG_ELEMENT_ANNOUNCEMENT:
    case MIF_MSG_CONFIGURATION_DATA:
    case MIF_MSG_NO_CONFIGURATION_DATA:
        config = 1;
        break;
    default:
        break;
    }
    /* Lists: a count and its pointer agree; entries are well formed. */
    ok &= CHECK((m->dns_server_count == 0) == (m->dns_servers == NULL));
    ok &= CHECK((m->router_count == 0) == (m->routers == NULL));
    ok &= CHECK(m->search_domain_count == 0 || m->search_domains != NULL);
    if (ok) {
        size_t i;
        for (i = 0; i < m->dns_server_count; i++)
            ok &= CHECK(m->dns_servers[i].family == MIF_FAMILY_IPV4 || m->dns_servers[i].family == MIF_FAMILY_IPV6);
        for (i = 0; i < m->router_count; i++)
            ok &= CHECK(m->routers[i].family == MIF_FAMILY_IPV4 || m->routers[i].family == MIF_FAMILY_IPV6);
        for (i = 0; i < m->search_domain_count; i++)
            ok &= CHECK(m->search_domains[i] != NULL && m->search_domains[i][0] != '\0');
    }
    if (!config) {
        /* Configuration fields are zero in every other message. */
        ok &= CHECK(m->origin == NULL);
        ok &= CHECK(m->dns_server_count == 0 && m->router_count == 0 && m->search_domain_count == 0);
        ok &= CHECK(m->element_id == 0 && m->element_type == 0 && m->info_id == 0);
    }
    switch (m->msg_type) {
    case MIF_MSG_INTERFACE_ANNOUNCEMENT:
    case MIF_MSG_NO_INTERFACE_ANNOUNCEMENT:
        ok &= CHECK_EQ_INT(m->status, MIF_OK);
        ok &= CHECK(m->ifindex != 0);
        ok &= CHECK(m->ifname[0] != '\0');
        ok &= CHECK(m->text == NULL);
        break;
    case MIF_MSG_PVD_ANNOUNCEMENT:
    case MIF_MSG_NO_PVD_ANNOUNCEMENT:
    case MIF_MSG_ADDRESS_ANNOUNCEMENT:
    case MIF_MSG_NO_ADDRESS_ANNOUNCEMENT:
    case MIF_MSG_CONFIG_ELEMENT_ANNOUNCEMENT:
    case MIF_MSG_NO_CONFIG_ELEMENT_ANNOUNCEMENT:
    case MIF_MSG_CONFIGURATION_DATA:
    case MIF_MSG_NO_CONFIGURATION_DATA: {
        char want[64];
        ok &= CHECK_EQ_INT(m->status, MIF_OK);
        ok &= CHECK(m->ifindex != 0);
        ok &= CHECK(m->ifname[0] != '\0');
        ok &= CHECK(m->pvd != 0);
        ok &= CHECK(m->family == MIF_FAMILY_IPV4 || m->family == MIF_FAMILY_IPV6);
        ok &= CHECK(m->text == NULL);
        if (ok) {
            snprintf(want, sizeof want, "%.16s/%s", m->ifname,
                     m->family == MIF_FAMILY_IPV4 ? "ipv4" : "ipv6");
            ok &= CHECK_EQ_STR(m->pvd_name, want);
        }
        if (m->msg_type == MIF_MSG_ADDRESS_ANNOUNCEMENT ||
            m->msg_type == MIF_MSG_NO_ADDRESS_ANNOUNCEMENT) {
            ok &= CHECK_EQ_INT(m->address.family, m->family);
            ok &= CHECK(m->prefix_len <= (m->family == MIF_FAMILY_IPV4 ? 32 : 128));
            ok &= CHECK(m->scope != MIF_SCOPE_LINK);
        }
        if (m->msg_type == MIF_MSG_CONFIG_ELEMENT_ANNOUNCEMENT ||
            m->msg_type == MIF_MSG_NO_CONFIG_ELEMENT_ANNOUNCEMENT) {
            ok &= CHECK(m->element_type >= MIF_ELEMENT_RA && m->element_type <= MIF_ELEMENT_SYSTEM);
            ok &= CHECK(m->element_id != 0);
            ok &= CHECK(m->origin != NULL && m->origin[0] != '\0');
        }
        if (m->msg_type == MIF_MSG_CONFIGURATION_DATA || m->msg_type == MIF_MSG_NO_CONFIGURATION_DATA) {
            ok &= CHECK(m->element_type <= MIF_ELEMENT_SYSTEM);
            ok &= CHECK(m->info_id <= MIF_INFO_MTU);
        }
        break;
    }
    case MIF_MSG_ENGINE_FAILED:
        ok &= CHECK(m->status != MIF_OK);
        ok &= CHECK(m->text != NULL);
        break;
    default:
        check_note("unknown message type %u", m->msg_type);
        ok = check_fail();
    }
    if (!ok) {
        char line[256];
        check_describe(m, line, sizeof line);
        check_note("  in message: %s", line);
    }
    return ok;
}

/*
 * Waits (at most timeout_ms in all; the limit only turns a hang into a failure) for a
 * message for which match(m, arg) is true.  Other messages are checked for form and
 * freed.  Returns the message (the caller frees it) or NULL.
 */
static inline mif_message *check_wait_for(mif_ctx *ctx, int (*match)(const mif_message *, const void *),
                                          const void *arg, int timeout_ms)
{
    long long deadline = check_now_ms() + timeout_ms;
    for (;;) {
        mif_message *m = NULL;
        mif_result rc = mif_get_message(ctx, &m);
        if (rc == MIF_OK) {
            check_message_well_formed(m);
            if (match(m, arg))
                return m;
            mif_message_free(m);
            continue;
        }
        if (!CHECK_RC(rc, MIF_NO_MESSAGE))
            return NULL;
        long long left = deadline - check_now_ms();
        if (left <= 0)
            return NULL;
        rc = mif_check_message(ctx, (int)left);
        if (rc != MIF_OK && rc != MIF_NO_MESSAGE && rc != MIF_E_INTERRUPTED) {
            CHECK_RC(rc, MIF_OK);
            return NULL;
        }
    }
}

/* Matchers for check_wait_for(). */
struct check_want {
    mif_message_type type;
    const char *ifname;    /* NULL: any */
    int family;            /* 0: any */
    const char *address;   /* text as mif_address_format writes it; NULL: any */
};

static inline int check_match(const mif_message *m, const void *arg)
{
    const struct check_want *w = (const struct check_want *)arg;
    char text[MIF_ADDRESS_TEXT_SIZE];
    if (m->msg_type != w->type)
        return 0;
    if (w->ifname != NULL && strncmp(m->ifname, w->ifname, sizeof m->ifname) != 0)
        return 0;
    if (w->family != 0 && m->family != w->family)
        return 0;
    if (w->address != NULL) {
        if (mif_address_format(&m->address, text, sizeof text) != MIF_OK)
            return 0;
        if (strcmp(text, w->address) != 0)
            return 0;
    }
    return 1;
}

/* check_wait_for() with a struct check_want. */
static inline mif_message *check_wait_want(mif_ctx *ctx, mif_message_type type, const char *ifname,
                                           int family, const char *address, int timeout_ms)
{
    struct check_want w;
    w.type = type;
    w.ifname = ifname;
    w.family = family;
    w.address = address;
    mif_message *m = check_wait_for(ctx, check_match, &w, timeout_ms);
    if (m == NULL)
        check_note("no %s for %s fam=%d addr=%s within %d ms", mif_message_type_name(type),
                   ifname ? ifname : "*", family, address ? address : "*", timeout_ms);
    return m;
}

/* Takes and frees every waiting message without waiting; returns how many. */
static inline int check_drain(mif_ctx *ctx)
{
    int n = 0;
    mif_message *m = NULL;
    while (mif_get_message(ctx, &m) == MIF_OK) {
        check_message_well_formed(m);
        mif_message_free(m);
        n++;
    }
    return n;
}

/* Posts a request of `type` with `ifindex` / `pvd`; returns the result. */
static inline mif_result check_post(mif_ctx *ctx, mif_request_type type, uint32_t ifindex, uint64_t pvd)
{
    mif_request req;
    mif_request_init(&req, type);
    req.ifindex = ifindex;
    req.pvd = pvd;
    return mif_post_message(ctx, &req);
}

#endif /* MIF_H */

#endif /* MIF_CHECK_H */
