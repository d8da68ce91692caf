/*
 * mifctl resolve: translates a name on each PvD (MIF_REQ_TRANSLATE_NAME), each PvD
 * through its own DNS servers, and prints the answers as they come.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mifctl.h"

struct translation {
    uint64_t id;   /* our translation_id */
    uint64_t pvd;
    bool done;     /* its MIF_MSG_NAME_TRANSLATION_DONE has been taken */
};

struct resolve_run {
    struct session s;
    const char *name;            /* the name to translate */
    bool initial_done;           /* the initial iteration has been handled */
    mif_result refused;          /* a Translate Name post was refused with this */
    struct translation *tr;      /* one per PvD asked, in the order asked */
    size_t tr_len, tr_cap;
    size_t outstanding;          /* translations without their Done yet */
    size_t addresses;            /* addresses received */
};

static struct translation *find_translation(struct resolve_run *r, uint64_t id)
{
    for (size_t i = 0; i < r->tr_len; i++)
        if (r->tr[i].id == id)
            return &r->tr[i];
    return NULL;
}

/* Posts MIF_REQ_TRANSLATE_NAME on the PvD of `msg`. Returns false on a fatal error
 * (out of memory, or the post refused: r->refused then says why). */
static bool start_translation(struct resolve_run *r, const mif_message *msg)
{
    mif_request req;
    mif_result rc;
    /* Ids are ours to choose: 1, 2, 3... in the order the PvDs are asked. */
    uint64_t id = r->tr_len + 1;

    for (size_t i = 0; i < r->tr_len; i++)
        if (r->tr[i].pvd == msg->pvd)
            return true; /* announced again (rename, link flap): asked already */
    if (r->tr_len == r->tr_cap) {
        size_t cap = r->tr_cap ? r->tr_cap * 2 : 8;
        struct translation *tr = realloc(r->tr, cap * sizeof *tr);
        if (tr == NULL)
            return out_of_memory();
        r->tr = tr;
        r->tr_cap = cap;
    }

    mif_request_init(&req, MIF_REQ_TRANSLATE_NAME);
    req.pvd = msg->pvd;
    req.translation_id = id;
    req.name = r->name;
    rc = mif_post_message(r->s.ctx, &req);
    switch (rc) {
    case MIF_OK:
        if (r->s.verbose)
            fprintf(stderr, PROG ": debug: posted translate_name #%" PRIu64 " on pvd %" PRIu64 "\n",
                    id, msg->pvd);
        r->tr[r->tr_len++] = (struct translation){ .id = id, .pvd = msg->pvd, .done = false };
        r->outstanding++;
        return true;
    case MIF_E_UNKNOWN_PVD:
        /* Normal: the PvD went away after its announcement was queued. */
        if (r->s.verbose)
            fprintf(stderr, PROG ": debug: translate_name on pvd %" PRIu64 ": %s (gone meanwhile, ignored)\n",
                    msg->pvd, mif_strerror(rc));
        return true;
    case MIF_E_ENGINE_FAILED:
        return true; /* its MIF_MSG_ENGINE_FAILED message follows and ends the command */
    default:
        fputs(PROG " resolve: cannot translate '", stderr);
        put_text(stderr, r->name, strlen(r->name));
        if (rc == MIF_E_BAD_NAME) {
            fputs("'", stderr); /* the name itself, whatever the PvD */
        } else {
            fputs("' on ", stderr);
            put_text(stderr, msg->pvd_name, FIELD_LEN(msg->pvd_name));
        }
        fprintf(stderr, ": %s\n", mif_strerror(rc));
        r->refused = rc;
        return false;
    }
}

/* "mif0/ipv4   " : the PvD column of the text output. */
static void text_pvd_column(const mif_message *msg)
{
    size_t len = FIELD_LEN(msg->pvd_name);

    put_text(stdout, msg->pvd_name, len);
    printf("%*s", len < 12 ? (int)(12 - len) : 1, "");
}

/* "mif0/ipv4   host.example.com  14.15.16.17  (dns, ttl 300)"
 * "mif0/ipv4   done: done" */
static void print_translation_text(const mif_message *msg)
{
    text_pvd_column(msg);
    if (msg->msg_type == MIF_MSG_NAME_TRANSLATION) {
        char addr[MIF_ADDRESS_TEXT_SIZE];
        const char *source = name_source_name(msg->name_source);

        format_address(&msg->address, addr);
        if (msg->name != NULL)
            put_text(stdout, msg->name, strlen(msg->name));
        printf("  %s  (", addr);
        if (source != NULL)
            fputs(source, stdout);
        else
            printf("source %" PRIu32, msg->name_source);
        if (msg->name_source != MIF_NAME_SOURCE_HOSTS)
            printf(", ttl %" PRIu32, msg->ttl);
        fputs(")\n", stdout);
    } else {
        const char *status = mif_translation_status_name(msg->translation_status);
        if (strcmp(status, "unknown") == 0)
            printf("done: status %" PRIu32 "\n", msg->translation_status);
        else
            printf("done: %s\n", status);
    }
}

/* Handles one message. Returns false when the command must end now (out of memory,
 * a refused post). */
static bool resolve_message(void *run, mif_message *msg, bool *keep)
{
    struct resolve_run *r = run;
    struct translation *t;

    (void)keep;
    switch (msg->msg_type) {
    case MIF_MSG_INTERFACE_ANNOUNCEMENT:
    case MIF_MSG_NO_INTERFACE_ANNOUNCEMENT:
        /* Only the interfaces and PvDs present at the start are asked; later ones
         * (live announcements after the initial iteration) are passed over. */
        if (r->initial_done)
            return true;
        return follow_interface(&r->s, msg);
    case MIF_MSG_PVD_ANNOUNCEMENT:
        if (r->initial_done || (r->s.only_pvd != NULL && !is_only_pvd(&r->s, msg)))
            return true;
        return start_translation(r, msg);
    case MIF_MSG_NAME_TRANSLATION:
    case MIF_MSG_NAME_TRANSLATION_DONE:
        t = find_translation(r, msg->translation_id);
        if (t == NULL || t->done)
            return true; /* not ours (cannot happen) */
        if (r->s.json)
            print_json(msg);
        else
            print_translation_text(msg);
        if (msg->msg_type == MIF_MSG_NAME_TRANSLATION) {
            r->addresses++;
        } else {
            t->done = true;
            r->outstanding--;
        }
        return true;
    default:
        return true; /* No PvD, No Interface...: a vanished PvD's translation ends by itself */
    }
}

/* After each round of messages. The first round ends the initial iteration: as in
 * config, every subscription's initial iteration is queued before its post returns,
 * and we post from inside the round, so when it ends with nothing waiting every PvD
 * present has been asked. Done when every translation has its Done. */
static int resolve_progress(void *run)
{
    struct resolve_run *r = run;

    if (!r->initial_done) {
        r->initial_done = true;
        if (r->tr_len == 0) {
            report_no_pvd(&r->s, NULL);
            return 1;
        }
    }
    if (r->outstanding > 0)
        return KEEP_GOING;
    return r->addresses > 0 ? 0 : 1;
}

/* SIGINT/SIGTERM: stops every outstanding translation. Each Stop queues that
 * translation's final Done (cancelled) before it returns, so draining afterwards
 * prints them all. Exit status 1. */
static int resolve_on_signal(void *run)
{
    struct resolve_run *r = run;

    if (r->s.verbose)
        fprintf(stderr, PROG ": debug: stopping on signal\n");
    for (size_t i = 0; i < r->tr_len; i++) {
        mif_request req;
        mif_result rc;

        if (r->tr[i].done)
            continue;
        mif_request_init(&req, MIF_REQ_STOP_TRANSLATING_NAME);
        req.translation_id = r->tr[i].id;
        rc = mif_post_message(r->s.ctx, &req);
        /* Its results are withdrawn even if it ended meanwhile (they were not taken);
         * MIF_E_UNKNOWN_TRANSLATION would mean its Done was taken already. */
        if (rc != MIF_OK && rc != MIF_E_UNKNOWN_TRANSLATION && rc != MIF_E_ENGINE_FAILED)
            fprintf(stderr, PROG ": stop_translating_name #%" PRIu64 ": %s\n", r->tr[i].id, mif_strerror(rc));
    }
    (void)drain_messages(&r->s, resolve_message, r, 0);
    return 1;
}

static int run_resolve(struct resolve_run *r)
{
    static const struct message_loop loop = {
        .handle = resolve_message,
        .batch = 0,
        .progress = resolve_progress,
        .on_signal = resolve_on_signal,
    };
    int status;

    if (!announce_interfaces(&r->s))
        return 1;
    status = run_message_loop(&r->s, &loop, r);
    /* A Translate Name the library refuses (a bad NAME...) is a usage error. */
    return r->refused != MIF_OK ? 2 : status;
}

static void usage_resolve(FILE *out)
{
    fprintf(out,
        "usage: " PROG " resolve NAME [--interface IF | --pvd PVD] [--json] [--verbose]\n"
        "                      [LIBRARY OPTIONS]\n"
        "\n"
        "Translates NAME on each provisioning domain (PvD): first the hosts file\n"
        "(ROOT/etc/hosts), then DNS through that PvD's own DNS servers, over its link.\n"
        "Prints each address as it arrives and each PvD's completion (done,\n"
        "no_such_name, no_data, timeout, server_failure, no_servers, cancelled).\n"
        "By default every PvD present at the start but those of loopback interfaces.\n"
        "Ctrl-C or SIGTERM stops the translations still running.\n"
        "Exit status: 0 if any address came back, 1 if none (or on errors or a\n"
        "signal), 2 on bad usage or a NAME the library refuses.\n"
        "\n"
        "options:\n"
        "  -i, --interface IF      only the PvDs of the interface named IF (loopback too)\n"
        "  -p, --pvd PVD           only that PvD: its id (as this command's own context\n"
        "                          numbers them) or its name, e.g. mif0/ipv6\n"
        "  -j, --json              one JSON object per line: name_translation (one per\n"
        "                          address; \"family\" is the address's, \"pvd_family\"\n"
        "                          the PvD's) and name_translation_done\n"
        "  -v, --verbose           debug lines on stderr\n"
        "  -h, --help              this help\n"
        "\n");
    usage_library_options(out);
}

static const struct option resolve_long_options[] = {
    JSON_INTERFACE_LONG_OPTIONS,
    PVD_LONG_OPTION,
    VERBOSE_HELP_LONG_OPTIONS,
    LIBRARY_LONG_OPTIONS,
    { NULL, 0, NULL, 0 },
};

static const struct command_line resolve_command_line = {
    /* No '+': options may follow NAME ("mifctl resolve host.example --json"). */
    .short_options = "ji:p:vh",
    .long_options = resolve_long_options,
    .operands = { "NAME", NULL },
    .usage = usage_resolve,
    .option = NULL,
};

int cmd_resolve(int argc, char **argv)
{
    struct resolve_run r;
    int status;

    memset(&r, 0, sizeof r);
    if (!parse_command_line(&resolve_command_line, argc, argv, &r.s, &r, &status))
        return status;
    r.name = argv[optind];
    /* Loopback interfaces' PvDs only with --interface or --pvd. */
    r.s.skip_loopback = r.s.only_pvd == NULL;

    if (!session_open(&r.s))
        return 1;
    status = run_resolve(&r);
    free(r.tr);
    return session_close(&r.s, status);
}
