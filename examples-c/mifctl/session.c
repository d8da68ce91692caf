/*
 * session.c: what every command that opens a context shares. The library options and
 * the command line, the signals, opening and closing the context, the requests that
 * follow interfaces and their PvDs, and the message loop that hands each message to the
 * command's handler.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mifctl.h"

/* ------------------------------------------------------------------------- */
/* Sets of ids                                                                */
/* ------------------------------------------------------------------------- */

bool id_set_has(const struct id_set *set, uint64_t id)
{
    for (size_t i = 0; i < set->len; i++)
        if (set->ids[i] == id)
            return true;
    return false;
}

/* Returns false only when out of memory. */
bool id_set_add(struct id_set *set, uint64_t id)
{
    if (id_set_has(set, id))
        return true;
    if (set->len == set->cap) {
        size_t cap = set->cap ? set->cap * 2 : 16;
        uint64_t *ids = realloc(set->ids, cap * sizeof *ids);
        if (ids == NULL)
            return false;
        set->ids = ids;
        set->cap = cap;
    }
    set->ids[set->len++] = id;
    return true;
}

void id_set_remove(struct id_set *set, uint64_t id)
{
    for (size_t i = 0; i < set->len; i++) {
        if (set->ids[i] == id) {
            set->ids[i] = set->ids[--set->len];
            return;
        }
    }
}

void id_set_free(struct id_set *set)
{
    free(set->ids);
    set->ids = NULL;
    set->len = set->cap = 0;
}

/* ------------------------------------------------------------------------- */
/* Library options, common to every command that opens a context              */
/* ------------------------------------------------------------------------- */

/* Parses a decimal number in [min, max]; no sign, no spaces, no trailing text. */
bool parse_number(const char *s, unsigned long long min, unsigned long long max,
                         unsigned long long *out)
{
    char *end;
    unsigned long long v;

    if (s[0] < '0' || s[0] > '9')
        return false; /* strtoull would accept "-1", " 1" and "+1" */
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return false;
    *out = v;
    return true;
}

/* parse_number for a command-line value: after a bad one, prints
 * "CMD: WHAT: PROBLEM: 'TEXT'" and returns false (a usage error, exit status 2). */
bool parse_number_arg(const char *cmd, const char *what, const char *problem, const char *text,
                             unsigned long long min, unsigned long long max, unsigned long long *out)
{
    if (parse_number(text, min, max, out))
        return true;
    fprintf(stderr, "%s: %s: %s: '%s'\n", cmd, what, problem, text);
    return false;
}

/* Handles option `c` if it is a library option. Returns 1 when handled, 0 when `c` is
 * not a library option, -1 after printing a usage error (exit status 2). `cmd` is
 * "mifctl NAME", for messages. */
static int library_option(struct library_options *lo, int c, const char *arg, const char *cmd)
{
    unsigned long long v;
    struct stat st;

    switch (c) {
    case OPT_ROOT:
        if (arg[0] == '\0' || stat(arg, &st) != 0 || !S_ISDIR(st.st_mode)) {
            fprintf(stderr, "%s: --root: not a directory: '%s'\n", cmd, arg);
            return -1;
        }
        lo->root_dir = arg;
        return 1;
    case OPT_CONFIG:
        /* Not checked for existence: the library watches it and reads it when it appears. */
        if (arg[0] == '\0') {
            fprintf(stderr, "%s: --config: empty file name\n", cmd);
            return -1;
        }
        lo->config_file = arg;
        return 1;
    case OPT_DNS_TIMEOUT:
        if (!parse_number_arg(cmd, "--dns-timeout", "not a number of milliseconds (1 or more)", arg,
                              1, UINT32_MAX, &v))
            return -1;
        lo->dns_timeout_ms = (uint32_t)v;
        return 1;
    case OPT_DNS_TRIES:
        if (!parse_number_arg(cmd, "--dns-tries", "not a number of rounds (1 or more)", arg, 1, UINT32_MAX, &v))
            return -1;
        lo->dns_tries = (uint32_t)v;
        return 1;
    case OPT_HORIZON:
        if (!parse_number_arg(cmd, "--horizon", "not milliseconds from 1000 to 3600000", arg, 1000, 3600000, &v))
            return -1;
        lo->horizon_ms = (uint32_t)v;
        return 1;
    case OPT_LEARNING:
        if (!parse_number_arg(cmd, "--learning", "not milliseconds from 10 to 60000", arg, 10, 60000, &v))
            return -1;
        lo->learning_ms = (uint32_t)v;
        return 1;
    case OPT_LOG: {
        static const char *const levels[] = { "off", "error", "warn", "info", "debug" };
        for (v = 0; v < sizeof levels / sizeof levels[0]; v++) {
            if (strcmp(arg, levels[v]) == 0) {
                lo->log_level = (uint32_t)v; /* MIF_LOG_NONE ... MIF_LOG_DEBUG */
                return 1;
            }
        }
        fprintf(stderr, "%s: --log: not off, error, warn, info or debug: '%s'\n", cmd, arg);
        return -1;
    }
    case OPT_TEST_RCVBUF:
        if (!parse_number_arg(cmd, "--test-rcvbuf", "not a byte count", arg, 0, INT32_MAX, &v))
            return -1;
        lo->netlink_rcvbuf = (int32_t)v;
        return 1;
    default:
        return 0;
    }
}

/* The library options' part of a command's --help. */
void usage_library_options(FILE *out)
{
    fprintf(out,
        "library options (as for every command that opens a libmif context):\n"
        "      --root DIR          look up every configuration and state file under DIR\n"
        "                          instead of / (DIR/etc/mif.conf, DIR/etc/resolv.conf,\n"
        "                          DIR/etc/hosts, DIR/run/...)\n"
        "      --config FILE       the static configuration file (default: $MIF_CONFIG,\n"
        "                          else /etc/mif.conf); FILE, absolute or relative, is\n"
        "                          taken under ROOT\n"
        "      --dns-timeout MS    wait at most MS milliseconds for one DNS server's\n"
        "                          answer (default 1000)\n"
        "      --dns-tries N       go N times over a PvD's DNS servers (default 2)\n"
        "      --learning MS       how long a PvD's configuration may still be arriving\n"
        "                          after the context opens or a link comes up (default\n"
        "                          4000); translations on a PvD wait for it that long\n"
        "      --horizon MS        how long before an address lifetime, router lifetime\n"
        "                          or lease ends its PvD is announced going away\n"
        "                          (default 60000)\n"
        "      --log LEVEL         print the library's diagnostics up to LEVEL (off,\n"
        "                          error, warn, info, debug) on stderr, from its\n"
        "                          MIF_MSG_LOG messages (default off)\n"
        "      --test-rcvbuf BYTES (testing) tiny rtnetlink receive buffer, to force\n"
        "                          ENOBUFS overruns and resyncs\n");
}

/* Opens a context with these options; prints the error (exit status 1) on failure. */
static bool open_context(const struct library_options *lo, mif_ctx **ctx)
{
    mif_options opts;
    mif_result rc;

    mif_options_init(&opts);
    opts.root_dir = lo->root_dir;
    opts.config_file = lo->config_file;
    opts.dns_timeout_ms = lo->dns_timeout_ms;
    opts.dns_tries = lo->dns_tries;
    opts.config_learning_ms = lo->learning_ms;
    opts.going_away_horizon_ms = lo->horizon_ms;
    opts.test_netlink_rcvbuf = lo->netlink_rcvbuf;
    opts.log_level = lo->log_level;
    opts.connect_attempt_delay_ms = lo->connect_attempt_delay_ms;
    opts.connect_timeout_ms = lo->connect_timeout_ms;
    rc = mif_open(&opts, ctx);
    if (rc != MIF_OK) {
        fprintf(stderr, PROG ": cannot open a libmif context: %s\n", mif_strerror(rc));
        return false;
    }
    return true;
}

/* ------------------------------------------------------------------------- */
/* Command lines                                                              */
/* ------------------------------------------------------------------------- */

/* Parses a command's options into `s` and, through cl->option, into `run`, then
 * checks the number of operands. Returns true to go on (the operands are then
 * argv[optind]...), false when the command must end with exit status *status: 0
 * after --help, 2 after a usage error (printed). */
bool parse_command_line(const struct command_line *cl, int argc, char **argv,
                               struct session *s, void *run, int *status)
{
    const char *cmd = argv[0];
    int opt, want = 0, given;

    s->cmd = cmd;
    *status = 2;
    while ((opt = getopt_long(argc, argv, cl->short_options, cl->long_options, NULL)) != -1) {
        int handled = 1;

        switch (opt) {
        case 'j':
            s->json = true;
            break;
        case 'i':
            if (optarg[0] == '\0' || strlen(optarg) >= MIF_IFNAME_SIZE) {
                fprintf(stderr, "%s: invalid interface name '%s' (1 to %d bytes)\n", cmd, optarg,
                        MIF_IFNAME_SIZE - 1);
                return false;
            }
            s->only_ifname = optarg;
            break;
        case 'p': {
            unsigned long long id;
            if (optarg[0] == '\0' || strlen(optarg) >= MIF_PVD_NAME_SIZE) {
                fprintf(stderr, "%s: --pvd: not a PvD id or name: '%s'\n", cmd, optarg);
                return false;
            }
            s->only_pvd = optarg;
            s->only_pvd_is_id = parse_number(optarg, 0, UINT64_MAX, &id);
            s->only_pvd_id = s->only_pvd_is_id ? id : 0;
            break;
        }
        case 'v':
            s->verbose = true;
            break;
        case 'h':
            cl->usage(stdout);
            *status = 0;
            return false;
        default:
            handled = library_option(&s->lib, opt, optarg, cmd);
            if (handled == 0 && cl->option != NULL)
                handled = cl->option(run, opt, optarg);
            break;
        }
        if (handled < 0)
            return false;
        if (handled == 0) { /* getopt has printed the problem */
            fprintf(stderr, "Try '%s --help'.\n", cmd);
            return false;
        }
    }

    /* "missing NAME", "missing ADDRESS and PORT", "unexpected argument 'x'" */
    while (cl->operands[want] != NULL)
        want++;
    given = argc - optind;
    if (given != want) {
        if (given < want) {
            fprintf(stderr, "%s: missing", cmd);
            for (int i = given; i < want; i++)
                fprintf(stderr, "%s%s", i > given ? " and " : " ", cl->operands[i]);
            fputc('\n', stderr);
        } else {
            fprintf(stderr, "%s: unexpected argument '%s'\n", cmd, argv[optind + want]);
        }
        fprintf(stderr, "Try '%s --help'.\n", cmd);
        return false;
    }
    if (s->only_ifname != NULL && s->only_pvd != NULL) {
        fprintf(stderr, "%s: --interface and --pvd exclude each other\n", cmd);
        return false;
    }
    return true;
}

/* ------------------------------------------------------------------------- */
/* Signals                                                                    */
/* ------------------------------------------------------------------------- */

volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

/* Installs SIGINT/SIGTERM handlers (no SA_RESTART, so a wait returns EINTR) and blocks
 * both signals, saving the previous mask in *wait_mask. The signals are then only
 * delivered inside ppoll(), which unblocks them atomically while it waits: no signal
 * can slip in between "check the flag" and "start waiting". Blocking them before
 * mif_open() also keeps them off the library's engine thread, which inherits the mask. */
static int setup_signals(sigset_t *wait_mask)
{
    struct sigaction sa;
    sigset_t block;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART */
    if (sigaction(SIGINT, &sa, NULL) != 0 || sigaction(SIGTERM, &sa, NULL) != 0)
        return -1;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    if (sigprocmask(SIG_BLOCK, &block, wait_mask) != 0)
        return -1;
    sigdelset(wait_mask, SIGINT);
    sigdelset(wait_mask, SIGTERM);
    return 0;
}

/* ------------------------------------------------------------------------- */
/* Opening and closing                                                        */
/* ------------------------------------------------------------------------- */

/* Sets up the signals, then opens the context. Returns false after printing why
 * (exit status 1). */
bool session_open(struct session *s)
{
    if (setup_signals(&s->wait_mask) != 0) {
        perror(PROG ": signals");
        return false;
    }
    return open_context(&s->lib, &s->ctx);
}

/* Closes the context and frees what the session holds. Returns the command's exit
 * status: `status`, or 1 if stdout cannot be flushed. */
int session_close(struct session *s, int status)
{
    mif_close(s->ctx);
    id_set_free(&s->pvd_subs);
    if (fflush(stdout) != 0)
        status = 1;
    return status;
}

/* ------------------------------------------------------------------------- */
/* Requests and the interface -> PvD subscriptions                            */
/* ------------------------------------------------------------------------- */

/* "ifindex 3" or "pvd 7": what a request is about, for messages. */
static void describe_target(char *buf, size_t len, mif_request_type type, uint32_t ifindex, uint64_t pvd)
{
    if (type == MIF_REQ_ANNOUNCE_INTERFACES)
        snprintf(buf, len, "(all)");
    else if (type == MIF_REQ_ANNOUNCE_PVDS || type == MIF_REQ_STOP_ANNOUNCING_PVDS)
        snprintf(buf, len, "ifindex %" PRIu32, ifindex);
    else
        snprintf(buf, len, "pvd %" PRIu64, pvd);
}

/* Posts a subscription request (or a Get Configuration Data, which is answered the
 * same way: before the post returns); *subscribed tells whether it took. Returns
 * false only when the engine has failed (its MIF_MSG_ENGINE_FAILED message then
 * follows and ends the command). */
bool post_request(const struct session *s, const mif_request *req, bool *subscribed)
{
    mif_result rc;
    char target[32];

    rc = mif_post_message(s->ctx, req);
    *subscribed = (rc == MIF_OK);
    describe_target(target, sizeof target, req->request_type, req->ifindex, req->pvd);
    switch (rc) {
    case MIF_OK:
        if (s->verbose)
            fprintf(stderr, PROG ": debug: posted %s %s\n", mif_request_type_name(req->request_type), target);
        return true;
    case MIF_E_UNKNOWN_INTERFACE:
    case MIF_E_UNKNOWN_PVD:
        /* Normal: the object went away after its announcement was queued; its
         * removal message is on its way. */
        if (s->verbose)
            fprintf(stderr, PROG ": debug: %s %s: %s (gone meanwhile, ignored)\n",
                    mif_request_type_name(req->request_type), target, mif_strerror(rc));
        return true;
    case MIF_E_ENGINE_FAILED:
        return false;
    default:
        fprintf(stderr, PROG ": %s %s failed: %s\n", mif_request_type_name(req->request_type), target,
                mif_strerror(rc));
        return true;
    }
}

/* A subscription request about an interface or a PvD; see post_request. */
static bool post(const struct session *s, mif_request_type type, uint32_t ifindex, uint64_t pvd,
                 bool *subscribed)
{
    mif_request req;

    mif_request_init(&req, type);
    req.ifindex = ifindex;
    req.pvd = pvd;
    return post_request(s, &req, subscribed);
}

/* Subscribes with `type` to `id` (an ifindex for MIF_REQ_ANNOUNCE_PVDS, else a PvD
 * id) unless `subs` says it is done already, and records it there. Returns false only
 * when out of memory. */
bool subscribe(const struct session *s, mif_request_type type, uint64_t id, struct id_set *subs)
{
    bool ok;

    if (id_set_has(subs, id))
        return true;
    if (type == MIF_REQ_ANNOUNCE_PVDS) {
        if (!post(s, type, (uint32_t)id, 0, &ok))
            return true; /* engine failed: its message ends the command */
    } else if (!post(s, type, 0, id, &ok)) {
        return true;
    }
    return !ok || id_set_add(subs, id);
}

/* Prints the error that ends a command when memory runs out; returns false, for
 * `return out_of_memory();` in a message handler. */
bool out_of_memory(void)
{
    fprintf(stderr, PROG ": out of memory\n");
    return false;
}

/* The first request of config, resolve and connect: MIF_REQ_ANNOUNCE_INTERFACES.
 * Returns false after printing why it failed (exit status 1). If the engine already
 * failed, its MIF_MSG_ENGINE_FAILED message is waiting and ends the command. */
bool announce_interfaces(const struct session *s)
{
    bool ok;

    if (post(s, MIF_REQ_ANNOUNCE_INTERFACES, 0, 0, &ok) && !ok)
        return false;
    return true;
}

/* Is this interface message about an interface the command follows? Without
 * --interface, every one; with it, the one of that name. Once followed, an interface
 * stays followed (also after a rename) until it goes. */
bool interface_selected(const struct session *s, const mif_message *msg)
{
    if (s->only_ifname == NULL)
        return true;
    if (id_set_has(&s->pvd_subs, msg->ifindex))
        return true;
    return strncmp(msg->ifname, s->only_ifname, sizeof msg->ifname) == 0;
}

/* Keeps the PvD subscriptions in step with an Interface or No Interface message:
 * subscribes to the PvDs of each interface the command follows, once. Returns false
 * when out of memory (printed); a failed engine is left for its
 * MIF_MSG_ENGINE_FAILED message. */
bool follow_interface(struct session *s, const mif_message *msg)
{
    if (msg->msg_type == MIF_MSG_NO_INTERFACE_ANNOUNCEMENT) {
        /* The library ends the PvD subscription with its interface. */
        id_set_remove(&s->pvd_subs, msg->ifindex);
        return true;
    }
    if (!interface_selected(s, msg))
        return true;
    if (s->only_ifname != NULL)
        s->interface_seen = true;
    else if (s->skip_loopback && (msg->link_flags & MIF_LINK_LOOPBACK))
        return true; /* loopback PvDs only when asked for */
    /* A rename re-announces the interface: subscribe() does not subscribe twice. */
    if (!subscribe(s, MIF_REQ_ANNOUNCE_PVDS, msg->ifindex, &s->pvd_subs))
        return out_of_memory();
    return true;
}

/* Is this PvD the one --pvd names, by id or by name? */
bool is_only_pvd(const struct session *s, const mif_message *msg)
{
    if (s->only_pvd_is_id)
        return msg->pvd == s->only_pvd_id;
    return strncmp(msg->pvd_name, s->only_pvd, sizeof msg->pvd_name) == 0;
}

/* True, after saying so, when --interface names an interface that does not exist
 * (the command then exits with status 1). */
bool interface_missing(const struct session *s)
{
    if (s->only_ifname == NULL || s->interface_seen)
        return false;
    fprintf(stderr, "%s: no interface named '%s'\n", s->cmd, s->only_ifname);
    return true;
}

/* Says why the command found no PvD to work on (it then exits with status 1).
 * `family` is the family it needs ("ipv4", "ipv6"), or NULL for any. */
void report_no_pvd(const struct session *s, const char *family)
{
    char what[40]; /* "provisioning domain" or "ipv4 provisioning domain" */

    snprintf(what, sizeof what, "%s%sprovisioning domain", family ? family : "", family ? " " : "");
    if (interface_missing(s))
        return;
    if (s->only_pvd != NULL)
        fprintf(stderr, "%s: no provisioning domain '%s'\n", s->cmd, s->only_pvd);
    else if (s->only_ifname != NULL)
        fprintf(stderr, "%s: interface '%s' has no %s\n", s->cmd, s->only_ifname, what);
    else
        fprintf(stderr, "%s: no %s (loopback aside)\n", s->cmd, what);
}

/* ------------------------------------------------------------------------- */
/* The message loop                                                           */
/* ------------------------------------------------------------------------- */

/* Waits with ppoll() until mif_fd is readable or SIGINT/SIGTERM arrives (see
 * setup_signals). Returns 1 when readable, 0 on a signal (stop_requested is then set),
 * -1 after printing an error. */
static int wait_for_messages(const struct session *s)
{
    struct pollfd pfd = { .fd = mif_fd(s->ctx), .events = POLLIN, .revents = 0 };
    int n = ppoll(&pfd, 1, NULL, &s->wait_mask);

    if (n < 0) {
        if (errno == EINTR)
            return 0;
        perror(PROG ": poll");
        return -1;
    }
    if (pfd.revents & (POLLERR | POLLHUP | POLLNVAL)) {
        fprintf(stderr, PROG ": poll: unexpected events 0x%x on mif_fd\n", (unsigned)pfd.revents);
        return -1;
    }
    return 1;
}

/* Prints an engine failure message; the command then ends with exit status 1. */
static void report_engine_failure(const mif_message *msg, bool json)
{
    if (json)
        print_json(msg);
    fprintf(stderr, PROG ": libmif engine failed: %s (%s)\n",
            msg->text ? msg->text : "no detail", mif_strerror(msg->status));
}

bool flush_stdout(void)
{
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, PROG ": writing to stdout: %s\n", strerror(errno));
        return false;
    }
    return true;
}

/* Takes the waiting messages, at most `batch` of them (0: all), and hands each to
 * `handle`; flushes stdout at the end. Returns false when the command must end with
 * exit status 1 (engine failure, a handler's error, I/O). */
bool drain_messages(struct session *s, message_handler *handle, void *run, size_t batch)
{
    bool ok = true;

    for (size_t taken = 0; ok && (batch == 0 || taken < batch); taken++) {
        mif_message *msg = NULL;
        bool keep = false;
        /* Never blocks: MIF_NO_MESSAGE when nothing waits (mif_check_message(ctx, 0)
         * would tell the same without taking a message). */
        mif_result rc = mif_get_message(s->ctx, &msg);

        if (rc == MIF_NO_MESSAGE)
            break;
        if (rc != MIF_OK) {
            fprintf(stderr, PROG ": mif_get_message: %s\n", mif_strerror(rc));
            ok = false;
            break;
        }
        if (msg->msg_type == MIF_MSG_ENGINE_FAILED) {
            report_engine_failure(msg, s->json);
            ok = false;
        } else if (msg->msg_type == MIF_MSG_LOG) {
            /* --log: the library's diagnostics, on stderr, apart from the output. */
            static const char *const names[] = { "?", "error", "warn", "info", "debug" };
            fprintf(stderr, PROG ": libmif[%s]: %s\n", msg->log_level <= MIF_LOG_DEBUG ? names[msg->log_level] : "?",
                    msg->text);
        } else {
            ok = handle(run, msg, &keep);
        }
        if (!keep)
            mif_message_free(msg);
    }
    return flush_stdout() && ok;
}

/* The loop of every command: take and handle the waiting messages, see whether the
 * command is done (progress) or was told to stop (on_signal), then wait with ppoll()
 * until mif_fd is readable or a signal arrives; again. Returns the exit status. */
int run_message_loop(struct session *s, const struct message_loop *loop, void *run)
{
    for (;;) {
        int status;

        if (!drain_messages(s, loop->handle, run, loop->batch))
            return 1;
        if (loop->progress != NULL && (status = loop->progress(run)) != KEEP_GOING)
            return status;
        if (stop_requested && (status = loop->on_signal(run)) != KEEP_GOING)
            return status;
        if (wait_for_messages(s) < 0)
            return 1;
    }
}
