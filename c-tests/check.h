/*
 * check.h: the assertions and the case runner of libmif's C tests (c-tests/test_*.c).
 * What sets up and drives a case (namespace, shell, descriptors, listeners, scratch
 * roots, waits for messages) is in bed.h.
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
 *   check_note() prints a "# ..." line; check_fail() counts a failure a helper found.
 * - RUN_CASE(fn) runs one case and prints "ok - fn" or "not ok - fn".
 * - check_done() prints "# N cases, M failed" and returns the exit status (0 or 1).
 * - Counters are atomic: cases may CHECK from several threads.
 * - check_watchdog(seconds) ends the binary with a failure if it has not reached
 *   check_done() by then, so a hang (a wait that is never woken) fails instead of
 *   blocking CI.  It is a thread with every signal blocked; check_done() joins it.
 * - When mif.h was included first, assertions about libmif's results and messages:
 *   CHECK_RC, CHECK_SENTINEL (an out-parameter left untouched) and
 *   check_message_well_formed() (fields consistent with the message's type).
 *
 * Everything is static (inline), so each test is one translation unit.
 */
#ifndef MIF_CHECK_H
#define MIF_CHECK_H

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
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

/* ---- libmif results and messages (include mif.h before check.h) ---------------- */
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
    int n = snprintf(out, len, "%s if=%u %.16s pvd=%llu %.32s fam=%u addr=%s/%u",
                     mif_message_type_name(m->msg_type), m->ifindex, m->ifname,
                     (unsigned long long)m->pvd, m->pvd_name, m->family, addr, m->prefix_len);
    if (n < 0 || (size_t)n >= len)
        return;
    if (m->msg_type == MIF_MSG_NAME_TRANSLATION || m->msg_type == MIF_MSG_NAME_TRANSLATION_DONE)
        snprintf(out + n, len - (size_t)n, " tid=%llu status=%s name=%s",
                 (unsigned long long)m->translation_id,
                 mif_translation_status_name(m->translation_status), m->name ? m->name : "(null)");
    else if (m->msg_type == MIF_MSG_CONNECTED || m->msg_type == MIF_MSG_NOT_CONNECTED)
        snprintf(out + n, len - (size_t)n, " cid=%llu fd=%d error=%d text=%s",
                 (unsigned long long)m->connection_id, m->fd, m->error, m->text ? m->text : "(null)");
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
    case MIF_MSG_CONFIGURATION_LEARNING:
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
    /* Fields of the other message families are zero (fd: -1) where unused. */
    if (m->msg_type != MIF_MSG_NAME_TRANSLATION && m->msg_type != MIF_MSG_NAME_TRANSLATION_DONE) {
        ok &= CHECK(m->name == NULL);
        ok &= CHECK(m->translation_id == 0 && m->translation_status == 0);
        ok &= CHECK(m->name_source == 0 && m->ttl == 0);
    }
    {
        int connect = m->msg_type == MIF_MSG_CONNECTED || m->msg_type == MIF_MSG_NOT_CONNECTED;
        int watch = m->msg_type == MIF_MSG_CONNECTION_GOING_AWAY ||
                    m->msg_type == MIF_MSG_CONNECTION_GOING_AWAY_CANCELLED || m->msg_type == MIF_MSG_CONNECTION_GONE;
        if (!connect && !watch)
            ok &= CHECK(m->connection_id == 0);
        if (!connect && m->msg_type != MIF_MSG_WANT_CONNECT_OUTCOME)
            ok &= CHECK(m->error == 0);
        if (!connect) {
            ok &= CHECK(m->elapsed_us == 0);
            ok &= CHECK(m->remote.family == 0 && m->local_port == 0 && m->remote_port == 0);
        }
        if (!connect && m->msg_type != MIF_MSG_CONNECTION_GONE)
            ok &= CHECK(m->local.family == 0);
    }
    if (m->msg_type != MIF_MSG_CONNECTED)
        ok &= CHECK_EQ_INT(m->fd, -1);
    if (m->msg_type != MIF_MSG_CONNECTED && m->msg_type != MIF_MSG_NOT_CONNECTED)
        ok &= CHECK(m->report == NULL);
    if (m->msg_type != MIF_MSG_CONNECTED)
        ok &= CHECK_EQ_INT(m->mptcp, MIF_MPTCP_NOT_ASKED);
    if (m->msg_type != MIF_MSG_CONNECTED)
        ok &= CHECK_EQ_INT(m->replacement, 0);
    if (m->msg_type != MIF_MSG_CONNECTION_GOING_AWAY && m->msg_type != MIF_MSG_CONNECTION_GONE)
        ok &= CHECK_EQ_INT(m->continuity, MIF_CONTINUITY_NOT_MPTCP);
    ok &= CHECK(m->continuity <= MIF_CONTINUITY_UNKNOWN);
    ok &= CHECK(m->replacement <= 1);
    ok &= CHECK(m->mptcp <= MIF_MPTCP_UNAVAILABLE);
    if (m->report != NULL) {
        /* A Connect to Name's establishment report: counts and pointers agree, every row
         * is of a known kind, and a Connected message's one winner is its connection. */
        const mif_establishment_report *r = m->report;
        size_t i, winners = 0;
        ok &= CHECK((r->resolution_count == 0) == (r->resolutions == NULL));
        ok &= CHECK((r->attempt_count == 0) == (r->attempts == NULL));
        for (i = 0; ok && i < r->resolution_count; i++) {
            const mif_resolution_record *q = &r->resolutions[i];
            ok &= CHECK(q->record_type == 1 || q->record_type == 28);
            ok &= CHECK(check_nul_terminated(q->ifname, sizeof q->ifname) && q->ifindex != 0);
            ok &= CHECK(q->translation_status >= MIF_TRANSLATION_DONE &&
                        q->translation_status <= MIF_TRANSLATION_CANCELLED);
            ok &= CHECK((q->answers > 0) == (q->translation_status == MIF_TRANSLATION_DONE));
            ok &= CHECK(q->reserved == 0 && q->reserved2 == 0 && q->reserved3 == 0);
        }
        for (i = 0; ok && i < r->attempt_count; i++) {
            const mif_attempt_record *a = &r->attempts[i];
            ok &= CHECK(a->outcome >= MIF_ATTEMPT_CONNECTED && a->outcome <= MIF_ATTEMPT_ABANDONED);
            ok &= CHECK(check_nul_terminated(a->pvd_name, sizeof a->pvd_name));
            ok &= CHECK(a->remote.family == MIF_FAMILY_IPV4 || a->remote.family == MIF_FAMILY_IPV6);
            ok &= CHECK((a->outcome == MIF_ATTEMPT_FAILED) == (a->error > 0));
            if (a->outcome == MIF_ATTEMPT_CONNECTED) {
                winners++;
                ok &= CHECK(a->pvd == m->pvd && a->local_port == m->local_port &&
                            a->remote_port == m->remote_port &&
                            memcmp(a->remote.bytes, m->remote.bytes, sizeof a->remote.bytes) == 0);
            }
        }
        ok &= CHECK_EQ_INT(winners, m->msg_type == MIF_MSG_CONNECTED ? 1 : 0);
    }
    if (m->msg_type != MIF_MSG_QUEUE_OVERFLOW)
        ok &= CHECK(m->dropped_messages == 0);
    if (m->msg_type == MIF_MSG_LOG) {
        ok &= CHECK(m->log_level >= MIF_LOG_ERROR && m->log_level <= MIF_LOG_DEBUG);
        ok &= CHECK(m->text != NULL && m->text[0] != '\0' && strchr(m->text, '\n') == NULL);
        ok &= CHECK(m->ifindex == 0 && m->pvd == 0);
    } else {
        ok &= CHECK_EQ_INT(m->log_level, 0);
    }
    ok &= CHECK_EQ_INT(m->reserved, 0);
    ok &= CHECK_EQ_INT(m->reserved2, 0);
    ok &= CHECK_EQ_INT(m->reserved3, 0);
    ok &= CHECK_EQ_INT(m->reserved4, 0);
    if (m->msg_type != MIF_MSG_INTERFACE_GOING_AWAY && m->msg_type != MIF_MSG_INTERFACE_GOING_AWAY_CANCELLED &&
        m->msg_type != MIF_MSG_CONNECTION_GOING_AWAY && m->msg_type != MIF_MSG_CONNECTION_GOING_AWAY_CANCELLED)
        ok &= CHECK_EQ_INT(m->going_away_reason, 0);
    if (m->msg_type != MIF_MSG_INTERFACE_GOING_AWAY && m->msg_type != MIF_MSG_CONNECTION_GOING_AWAY)
        ok &= CHECK(m->deadline_ms == 0);
    if (m->msg_type != MIF_MSG_INTERFACE_GOING_UP)
        ok &= CHECK_EQ_INT(m->going_up_reason, 0);
    if (m->msg_type != MIF_MSG_CONNECTION_GONE)
        ok &= CHECK_EQ_INT(m->connection_gone_reason, 0);
    if (m->msg_type != MIF_MSG_CONNECTION_STATES)
        ok &= CHECK(m->active_connections == 0 && m->idle_connections == 0 && m->breakable_connections == 0);
    if (m->msg_type != MIF_MSG_WANT_CONNECT_OUTCOME)
        ok &= CHECK(m->want_connect_outcome == 0 && m->solicitations == 0 && m->hook_status == 0);
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
    case MIF_MSG_NO_CONFIGURATION_DATA:
    case MIF_MSG_CONFIGURATION_LEARNING:
    case MIF_MSG_PVD_CONFIGURATION_COMPLETE: {
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
        if (m->msg_type == MIF_MSG_CONFIGURATION_DATA || m->msg_type == MIF_MSG_NO_CONFIGURATION_DATA ||
            m->msg_type == MIF_MSG_CONFIGURATION_LEARNING) {
            ok &= CHECK(m->element_type <= MIF_ELEMENT_SYSTEM);
            ok &= CHECK(m->info_id <= MIF_INFO_PREF64);
            ok &= CHECK_EQ_INT(m->config_state, m->msg_type == MIF_MSG_CONFIGURATION_LEARNING
                                                    ? MIF_CONFIG_STATE_LEARNING : MIF_CONFIG_STATE_COMPLETE);
        }
        if (m->msg_type == MIF_MSG_PVD_ANNOUNCEMENT)
            ok &= CHECK(m->config_state == MIF_CONFIG_STATE_LEARNING || m->config_state == MIF_CONFIG_STATE_COMPLETE);
        if (m->msg_type == MIF_MSG_PVD_CONFIGURATION_COMPLETE)
            ok &= CHECK_EQ_INT(m->config_state, MIF_CONFIG_STATE_COMPLETE);
        /* The RA extras: a prefix length only with a NAT64 prefix, a URI only in data. */
        ok &= CHECK((m->pref64_len == 0) == (m->pref64.family == 0));
        ok &= CHECK(m->pref64_len == 0 || m->pref64.family == MIF_FAMILY_IPV6);
        ok &= CHECK(m->captive_portal == NULL || (config && m->captive_portal[0] != '\0'));
        break;
    }
    case MIF_MSG_NAME_TRANSLATION:
    case MIF_MSG_NAME_TRANSLATION_DONE:
        ok &= CHECK_EQ_INT(m->status, MIF_OK);
        ok &= CHECK(m->pvd != 0);
        ok &= CHECK(m->text == NULL);
        ok &= CHECK(m->name != NULL && m->name[0] != '\0');
        if (m->msg_type == MIF_MSG_NAME_TRANSLATION) {
            ok &= CHECK(m->address.family == MIF_FAMILY_IPV4 || m->address.family == MIF_FAMILY_IPV6);
            ok &= CHECK(m->name_source == MIF_NAME_SOURCE_HOSTS || m->name_source == MIF_NAME_SOURCE_DNS ||
                        m->name_source == MIF_NAME_SOURCE_CACHE || m->name_source == MIF_NAME_SOURCE_LITERAL);
            if (m->name_source == MIF_NAME_SOURCE_CACHE)
                ok &= CHECK(m->ttl >= 1);
            if (m->name_source == MIF_NAME_SOURCE_HOSTS || m->name_source == MIF_NAME_SOURCE_LITERAL)
                ok &= CHECK_EQ_INT(m->ttl, 0);
            ok &= CHECK_EQ_INT(m->translation_status, 0);
        } else {
            ok &= CHECK(m->translation_status >= MIF_TRANSLATION_DONE &&
                        m->translation_status <= MIF_TRANSLATION_CANCELLED);
            ok &= CHECK(m->address.family == 0 && m->name_source == 0 && m->ttl == 0);
        }
        break;
    case MIF_MSG_CONNECTED:
        ok &= CHECK_EQ_INT(m->status, MIF_OK);
        ok &= CHECK(m->fd >= 0);
        ok &= CHECK_EQ_INT(m->error, 0);
        ok &= CHECK(m->text == NULL);
        ok &= CHECK(m->pvd != 0 && m->ifindex != 0 && m->ifname[0] != '\0');
        ok &= CHECK(m->local.family == m->family && m->remote.family == m->family);
        ok &= CHECK(m->local_port != 0 && m->remote_port != 0);
        break;
    case MIF_MSG_NOT_CONNECTED:
        ok &= CHECK_EQ_INT(m->status, MIF_OK);
        ok &= CHECK(m->error > 0);
        ok &= CHECK(m->text != NULL && m->text[0] != '\0');
        ok &= CHECK(m->local.family == 0 && m->local_port == 0);
        break;
    case MIF_MSG_ENGINE_FAILED:
        ok &= CHECK(m->status != MIF_OK);
        ok &= CHECK(m->text != NULL);
        break;
    case MIF_MSG_QUEUE_OVERFLOW:
        ok &= CHECK_EQ_INT(m->status, MIF_OK);
        ok &= CHECK(m->dropped_messages > 0);
        ok &= CHECK(m->text == NULL && m->ifindex == 0 && m->pvd == 0);
        break;
    case MIF_MSG_LOG:
        ok &= CHECK_EQ_INT(m->status, MIF_OK); /* the rest is checked above */
        break;
    case MIF_MSG_INTERFACE_GOING_AWAY:
    case MIF_MSG_INTERFACE_GOING_AWAY_CANCELLED:
        ok &= CHECK_EQ_INT(m->status, MIF_OK);
        ok &= CHECK(m->ifindex != 0 && m->ifname[0] != '\0');
        ok &= CHECK(m->going_away_reason == MIF_GOING_AWAY_CARRIER_LOST ||
                    m->going_away_reason == MIF_GOING_AWAY_ADDRESSES_DEPRECATED ||
                    m->going_away_reason == MIF_GOING_AWAY_LIFETIME_ENDING ||
                    m->going_away_reason == MIF_GOING_AWAY_ROUTER_WITHDRAWN ||
                    m->going_away_reason == MIF_GOING_AWAY_ROUTER_LIFETIME_ENDING ||
                    m->going_away_reason == MIF_GOING_AWAY_LEASE_ENDING);
        /* The whole interface (pvd 0, no PvD name) or one PvD of it. */
        ok &= CHECK((m->pvd == 0) == (m->pvd_name[0] == '\0'));
        ok &= CHECK(m->text == NULL);
        break;
    case MIF_MSG_INTERFACE_GOING_UP:
        ok &= CHECK_EQ_INT(m->status, MIF_OK);
        ok &= CHECK(m->ifindex != 0 && m->ifname[0] != '\0');
        ok &= CHECK(m->going_up_reason == MIF_GOING_UP_NO_CARRIER || m->going_up_reason == MIF_GOING_UP_NO_ADDRESS ||
                    m->going_up_reason == MIF_GOING_UP_CONFIGURING);
        ok &= CHECK(m->pvd == 0 && m->pvd_name[0] == '\0' && m->text == NULL);
        break;
    case MIF_MSG_CONNECTION_GOING_AWAY:
    case MIF_MSG_CONNECTION_GOING_AWAY_CANCELLED:
    case MIF_MSG_CONNECTION_GONE:
        /* Our addition: one watched connection's path, on one PvD. */
        ok &= CHECK_EQ_INT(m->status, MIF_OK);
        ok &= CHECK(m->ifindex != 0 && m->ifname[0] != '\0');
        ok &= CHECK(m->pvd != 0 && m->pvd_name[0] != '\0' && m->text == NULL);
        ok &= CHECK(m->family == MIF_FAMILY_IPV4 || m->family == MIF_FAMILY_IPV6);
        if (m->msg_type == MIF_MSG_CONNECTION_GOING_AWAY)
            ok &= CHECK(m->going_away_reason >= MIF_GOING_AWAY_CARRIER_LOST &&
                        m->going_away_reason <= MIF_GOING_AWAY_LEASE_ENDING);
        if (m->msg_type == MIF_MSG_CONNECTION_GOING_AWAY_CANCELLED) /* 0: re-stated after an overflow */
            ok &= CHECK(m->going_away_reason <= MIF_GOING_AWAY_LEASE_ENDING);
        if (m->msg_type == MIF_MSG_CONNECTION_GONE) {
            ok &= CHECK(m->connection_gone_reason >= MIF_CONNECTION_GONE_ADDRESS_REMOVED &&
                        m->connection_gone_reason <= MIF_CONNECTION_GONE_INTERFACE_REMOVED);
            ok &= CHECK_EQ_INT(m->local.family, m->family);
        }
        break;
    case MIF_MSG_CONNECTION_STATES:
        ok &= CHECK_EQ_INT(m->status, MIF_OK);
        ok &= CHECK((m->ifindex == 0) == (m->ifname[0] == '\0'));
        ok &= CHECK(m->pvd == 0 && m->text == NULL);
        break;
    case MIF_MSG_WANT_CONNECT_OUTCOME:
        ok &= CHECK_EQ_INT(m->status, MIF_OK);
        ok &= CHECK(m->want_connect_outcome >= MIF_WANT_CONNECT_NO_OP &&
                    m->want_connect_outcome <= MIF_WANT_CONNECT_NOTHING_POSSIBLE);
        ok &= CHECK((m->want_connect_outcome == MIF_WANT_CONNECT_HOOK_FAILED) == (m->error > 0));
        ok &= CHECK(m->want_connect_outcome == MIF_WANT_CONNECT_HOOK_RAN || m->hook_status == 0);
        ok &= CHECK(m->want_connect_outcome != MIF_WANT_CONNECT_SOLICITED || m->solicitations > 0);
        ok &= CHECK(m->ifindex == 0 && m->pvd == 0 && m->text == NULL);
        break;
    default:
        check_note("unknown message type %u", m->msg_type);
        ok = check_fail();
    }
    if (!ok) {
        char line[512];
        check_describe(m, line, sizeof line);
        check_note("  in message: %s", line);
    }
    return ok;
}

#endif /* MIF_H */

#endif /* MIF_CHECK_H */
