/*
 * mifctl.h: what the files of mifctl (examples-c/mifctl/) share.
 *
 *   main.c         the command table, the usage text, "version" and main()
 *   session.c      what every command that opens a context shares: the library
 *                  options, the command line, the signals, opening and closing the
 *                  context, posting and subscribing, the message loop
 *   json.c         the --json output, one object per line (print_json)
 *   text.c         text for people: bytes made safe for a terminal, addresses, lists,
 *                  and the names of a message's numeric fields (the JSON output's too)
 *   cmd_monitor.c  mifctl monitor: the complete example of following the host's networks
 *   cmd_config.c   mifctl config: the smallest command that opens a context
 *   cmd_resolve.c  mifctl resolve
 *   cmd_connect.c  mifctl connect
 *   cmd_want_connect.c  mifctl want-connect
 *
 * What one file alone uses stays static there; this header declares the rest. Each
 * function is described where it is defined.
 */
#ifndef MIFCTL_H
#define MIFCTL_H

#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "mif.h"

#define PROG "mifctl"

/* Length of a NUL-terminated string stored in a fixed-size array (never reads past it). */
#define FIELD_LEN(arr) strnlen((arr), sizeof(arr))

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------------------- */
/* text.c                                                                     */
/* ------------------------------------------------------------------------- */

size_t utf8_sequence_len(const unsigned char *p, size_t avail);
void put_text(FILE *out, const char *s, size_t len);
void format_address(const mif_address *a, char buf[MIF_ADDRESS_TEXT_SIZE]);
void text_address_list(const mif_address *list, size_t n);
void text_string_list(const char *const *list, size_t n);

/* Names for the numeric fields of a mif_message. NULL for values this tool does not
 * know (a newer library may add some); callers then print the number. */
const char *family_name(uint8_t family);
const char *scope_name(uint8_t scope);
const char *name_source_name(uint32_t source);
const char *going_away_reason_name(uint32_t reason); /* NULL for an unknown reason */
const char *going_up_reason_name(uint32_t reason); /* NULL for an unknown reason */
const char *want_connect_outcome_name(uint32_t outcome); /* NULL for an unknown outcome */
const char *connection_gone_reason_name(uint32_t reason); /* NULL for an unknown reason */

struct flag_name {
    uint32_t bit;
    const char *name;
};

extern const struct flag_name address_flag_names[];
extern const size_t address_flag_count;

/* ------------------------------------------------------------------------- */
/* session.c                                                                  */
/* ------------------------------------------------------------------------- */

/* --- Sets of ids --- */

/* A small set of 64-bit ids (interface indexes, PvD ids). A handful of entries, so a
 * plain array is the simplest correct choice. */
struct id_set {
    uint64_t *ids;
    size_t len, cap;
};

bool id_set_has(const struct id_set *set, uint64_t id);
bool id_set_add(struct id_set *set, uint64_t id);
void id_set_remove(struct id_set *set, uint64_t id);
void id_set_free(struct id_set *set);

/* --- Library options --- */

/* getopt_long values of the library options (above any short option character). */
enum {
    OPT_TEST_RCVBUF = 1000,
    OPT_ROOT,
    OPT_CONFIG,
    OPT_DNS_TIMEOUT,
    OPT_DNS_TRIES,
    OPT_LEARNING,
    OPT_HORIZON,
    OPT_LOG,
    OPT_ATTEMPT_DELAY, /* connect's own options, not library options for every command */
    OPT_CONNECT_TIMEOUT,
    OPT_PREFER,
    OPT_AVOID,
    OPT_PROHIBIT,
    OPT_REQUIRE,
    OPT_FAMILY,
    OPT_REPORT,
    OPT_MPTCP,
};

/* Put at the end of a command's `struct option` table, before the terminator. */
#define LIBRARY_LONG_OPTIONS                                         \
    { "root", required_argument, NULL, OPT_ROOT },                   \
    { "config", required_argument, NULL, OPT_CONFIG },               \
    { "dns-timeout", required_argument, NULL, OPT_DNS_TIMEOUT },     \
    { "dns-tries", required_argument, NULL, OPT_DNS_TRIES },         \
    { "learning", required_argument, NULL, OPT_LEARNING },           \
    { "horizon", required_argument, NULL, OPT_HORIZON },             \
    { "log", required_argument, NULL, OPT_LOG },                     \
    { "test-rcvbuf", required_argument, NULL, OPT_TEST_RCVBUF }

/* What the library options set; zero means "the library's default" throughout. */
struct library_options {
    const char *root_dir;    /* --root */
    const char *config_file; /* --config */
    uint32_t dns_timeout_ms; /* --dns-timeout */
    uint32_t dns_tries;      /* --dns-tries */
    uint32_t learning_ms;    /* --learning (config --settle) */
    uint32_t horizon_ms;     /* --horizon */
    int32_t netlink_rcvbuf;  /* --test-rcvbuf */
    uint32_t log_level;      /* --log: MIF_LOG_* */
    uint32_t connect_attempt_delay_ms; /* connect --attempt-delay */
    uint32_t connect_timeout_ms;       /* connect --timeout */
};

bool parse_number(const char *s, unsigned long long min, unsigned long long max,
                  unsigned long long *out);
bool parse_number_arg(const char *cmd, const char *what, const char *problem, const char *text,
                      unsigned long long min, unsigned long long max, unsigned long long *out);
void usage_library_options(FILE *out);

/* --- The session, opened and closed --- */

/* Each command's run state embeds one, as its member `s`: the options every command
 * has, the context, the signal mask to wait with, and the interfaces whose PvDs the
 * command follows. */
struct session {
    const char *cmd;             /* "mifctl NAME", for messages */
    mif_ctx *ctx;
    bool json;                   /* --json */
    bool verbose;                /* --verbose */
    const char *only_ifname;     /* --interface, or NULL for all interfaces */
    const char *only_pvd;        /* --pvd (an id or a PvD name), or NULL */
    uint64_t only_pvd_id;        /* --pvd as a number, if only_pvd_is_id */
    bool only_pvd_is_id;
    struct library_options lib;  /* --root, --config, --dns-timeout... */
    sigset_t wait_mask;          /* the signal mask to wait with (see setup_signals) */
    bool skip_loopback;          /* follow no loopback interface (but one --interface names) */
    bool interface_seen;         /* --interface: the interface exists */
    struct id_set pvd_subs;      /* ifindexes we posted MIF_REQ_ANNOUNCE_PVDS for */
};

/* Set by SIGINT/SIGTERM (see setup_signals in session.c). */
extern volatile sig_atomic_t stop_requested;

bool session_open(struct session *s);
int session_close(struct session *s, int status);

/* --- Command lines --- */

/* A command's `struct option` table is
 *
 *     JSON_INTERFACE_LONG_OPTIONS, [PVD_LONG_OPTION,] its own options,
 *     VERBOSE_HELP_LONG_OPTIONS, LIBRARY_LONG_OPTIONS, { NULL, 0, NULL, 0 }
 *
 * and its getopt string "ji:", ["p:",] its own letters, "vh". parse_command_line
 * handles all but the command's own options. */
#define JSON_INTERFACE_LONG_OPTIONS                                  \
    { "json", no_argument, NULL, 'j' },                              \
    { "interface", required_argument, NULL, 'i' }
#define PVD_LONG_OPTION { "pvd", required_argument, NULL, 'p' }
#define VERBOSE_HELP_LONG_OPTIONS                                    \
    { "verbose", no_argument, NULL, 'v' },                           \
    { "help", no_argument, NULL, 'h' }

/* How a command's command line looks. */
struct command_line {
    const char *short_options;         /* the getopt string, as above */
    const struct option *long_options; /* the getopt_long table, as above */
    const char *operands[3];           /* the operands' names ("NAME"), NULL after the last */
    void (*usage)(FILE *out);          /* prints the command's --help */
    /* The command's own options, or NULL if it has none: returns 1 when `opt` is one
     * of them (stored in `run`, the command's run state), 0 when it is not, -1 after
     * printing a usage error. */
    int (*option)(void *run, int opt, const char *value);
};

bool parse_command_line(const struct command_line *cl, int argc, char **argv,
                        struct session *s, void *run, int *status);

/* --- Requests and the interface -> PvD subscriptions --- */

bool post_request(const struct session *s, const mif_request *req, bool *subscribed);
bool subscribe(const struct session *s, mif_request_type type, uint64_t id, struct id_set *subs);
bool out_of_memory(void);
bool announce_interfaces(const struct session *s);
bool interface_selected(const struct session *s, const mif_message *msg);
bool follow_interface(struct session *s, const mif_message *msg);
bool is_only_pvd(const struct session *s, const mif_message *msg);
bool interface_missing(const struct session *s);
void report_no_pvd(const struct session *s, const char *family);

/* --- The message loop --- */

bool flush_stdout(void);

/* A command's handler for one message (never MIF_MSG_ENGINE_FAILED: drain_messages
 * reports that itself). `run` is the command's run state. Returns false when the
 * command must end with exit status 1, after printing why. The message is freed
 * after the call, unless the handler sets *keep: it then owns the message. */
typedef bool message_handler(void *run, mif_message *msg, bool *keep);

bool drain_messages(struct session *s, message_handler *handle, void *run, size_t batch);

/* Returned by a command's progress and on_signal callbacks to go on; any other value
 * ends the command with that exit status. */
#define KEEP_GOING (-1)

/* What a command plugs into run_message_loop. */
struct message_loop {
    message_handler *handle;     /* each message */
    size_t batch;                /* most messages taken per round; 0: all that wait */
    /* After each round, or NULL if the command only ends on a signal. With batch 0,
     * nothing waited when the round ended. Returns KEEP_GOING or the exit status. */
    int (*progress)(void *run);
    /* After each round once SIGINT/SIGTERM has come. Returns KEEP_GOING or the exit
     * status. */
    int (*on_signal)(void *run);
};

int run_message_loop(struct session *s, const struct message_loop *loop, void *run);

/* ------------------------------------------------------------------------- */
/* json.c                                                                     */
/* ------------------------------------------------------------------------- */

/* One JSON object being written as one line. */
struct json_line {
    FILE *out;
    int fields;
};

void json_key(struct json_line *j, const char *key);
void json_str(struct json_line *j, const char *key, const char *s, size_t len);
void json_uint(struct json_line *j, const char *key, uint64_t v);
void json_name_or_number(struct json_line *j, const char *key, const char *name, unsigned v);
void json_null(struct json_line *j, const char *key);
void json_msg_type(struct json_line *j, const mif_message *msg);
void json_pvd(struct json_line *j, const mif_message *msg);
void json_end(struct json_line *j);
void print_json(const mif_message *msg);
void print_json_with(const mif_message *msg, void (*extra)(struct json_line *, const void *), const void *arg);

/* ------------------------------------------------------------------------- */
/* The commands, one file each (cmd_NAME.c)                                   */
/* ------------------------------------------------------------------------- */

/* argv[0] is "mifctl NAME"; each returns the command's exit status. */
int cmd_monitor(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_resolve(int argc, char **argv);
int cmd_connect(int argc, char **argv);
int cmd_want_connect(int argc, char **argv);

#endif /* MIFCTL_H */
