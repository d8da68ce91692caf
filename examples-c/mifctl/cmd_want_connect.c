/*
 * mifctl want-connect: posts Wants to connect (draft 3.2.7.26.1, MIF_REQ_WANT_CONNECT)
 * and prints what the library did (MIF_MSG_WANT_CONNECT_OUTCOME): nothing (every up
 * interface has a PvD), Router Solicitations, the operator's hook and its status.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "mifctl.h"

struct want_run {
    struct session s;
    bool answered;
};

static bool want_message(void *run, mif_message *msg, bool *keep)
{
    struct want_run *w = run;
    const char *name;

    (void)keep;
    if (msg->msg_type != MIF_MSG_WANT_CONNECT_OUTCOME)
        return true;
    w->answered = true;
    if (w->s.json) {
        print_json(msg);
        return true;
    }
    name = want_connect_outcome_name(msg->want_connect_outcome);
    switch (msg->want_connect_outcome) {
    case MIF_WANT_CONNECT_NO_OP:
        puts("nothing to do: every interface that is up has a provisioning domain");
        break;
    case MIF_WANT_CONNECT_SOLICITED:
        printf("asked the routers: %" PRIu32 " router solicitation(s)\n", msg->solicitations);
        break;
    case MIF_WANT_CONNECT_HOOK_RAN:
        printf("the hook ran: exit status %" PRId32 " (%" PRIu32 " router solicitation(s))\n", msg->hook_status,
               msg->solicitations);
        break;
    case MIF_WANT_CONNECT_HOOK_TIMED_OUT:
        puts("the hook ran past its timeout and was killed");
        break;
    case MIF_WANT_CONNECT_HOOK_FAILED:
        printf("the hook could not be started: %s\n", strerror(msg->error));
        break;
    case MIF_WANT_CONNECT_NOTHING_POSSIBLE:
        puts("nothing possible: no link to solicit on (or no permission), no hook configured");
        break;
    default:
        printf("outcome %s (%" PRIu32 ")\n", name ? name : "unknown", msg->want_connect_outcome);
    }
    return true;
}

static int want_progress(void *run)
{
    struct want_run *w = run;
    return w->answered ? 0 : KEEP_GOING;
}

static int want_on_signal(void *run)
{
    (void)run;
    return 1;
}

static void usage_want_connect(FILE *out)
{
    fprintf(out,
        "usage: " PROG " want-connect [--json] [--verbose] [LIBRARY OPTIONS]\n"
        "\n"
        "Tells the library the application wants to connect (draft 3.2.7.26.1) and\n"
        "prints what it did: nothing when every interface that is up has a\n"
        "provisioning domain; else Router Solicitations on up IPv6 links without one\n"
        "(when permitted), a re-read of the link managers' files, and the operator's\n"
        "want_connect_hook when the static configuration names one (its exit status).\n"
        "Exit status 0 once the library answered, 1 on errors, 2 on bad usage.\n"
        "\n"
        "options:\n"
        "  -j, --json              one JSON object: want_connect_outcome with outcome,\n"
        "                          solicitations, hook_status, error\n"
        "  -v, --verbose           debug lines on stderr\n"
        "  -h, --help              this help\n"
        "\n");
    usage_library_options(out);
}

static const struct option want_long_options[] = {
    JSON_INTERFACE_LONG_OPTIONS,
    VERBOSE_HELP_LONG_OPTIONS,
    LIBRARY_LONG_OPTIONS,
    { NULL, 0, NULL, 0 },
};

static const struct command_line want_command_line = {
    .short_options = "ji:vh",
    .long_options = want_long_options,
    .operands = { NULL },
    .usage = usage_want_connect,
    .option = NULL,
};

int cmd_want_connect(int argc, char **argv)
{
    static const struct message_loop loop = {
        .handle = want_message,
        .batch = 0,
        .progress = want_progress,
        .on_signal = want_on_signal,
    };
    struct want_run w;
    mif_request req;
    bool ok;
    int status;

    memset(&w, 0, sizeof w);
    if (!parse_command_line(&want_command_line, argc, argv, &w.s, &w, &status))
        return status;
    if (!session_open(&w.s))
        return 1;
    mif_request_init(&req, MIF_REQ_WANT_CONNECT);
    if (!post_request(&w.s, &req, &ok) || !ok)
        return session_close(&w.s, 1);
    status = run_message_loop(&w.s, &loop, &w);
    return session_close(&w.s, status);
}
