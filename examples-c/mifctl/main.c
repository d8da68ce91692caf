/*
 * mifctl: a small command-line tool for libmif, and an example of its C API.
 *
 *   mifctl monitor [--json] [--interface IF] [--verbose] [LIBRARY OPTIONS]
 *   mifctl config [--interface IF] [--json] [--verbose] [LIBRARY OPTIONS]
 *   mifctl resolve NAME [--interface IF | --pvd PVD] [--json] [--verbose] [LIBRARY OPTIONS]
 *   mifctl connect ADDRESS PORT [--interface IF | --pvd PVD] [--from SRC] [--send TEXT]
 *                  [--json] [--attempt-delay MS] [--timeout MS] [--verbose] [LIBRARY OPTIONS]
 *   mifctl version
 *   mifctl help [COMMAND]
 *
 * LIBRARY OPTIONS (every command that opens a context): --root DIR, --config FILE,
 * --dns-timeout MS, --dns-tries N, --test-rcvbuf BYTES (fields of mif_options).
 *
 * "monitor" shows how an application follows the host's networks with libmif:
 *
 *   1. mif_open() a context;
 *   2. post MIF_REQ_ANNOUNCE_INTERFACES;
 *   3. for each interface announced, post MIF_REQ_ANNOUNCE_PVDS(ifindex);
 *      for each provisioning domain (PvD) announced, post MIF_REQ_ANNOUNCE_ADDRESSES(pvd)
 *      and MIF_REQ_ANNOUNCE_CONFIG_ELEMENTS(pvd);
 *   4. wait for mif_fd() to become readable with poll(), take every waiting message
 *      with mif_get_message() and free each with mif_message_free();
 *   5. mif_close() the context.
 *
 * "config" asks each PvD for its configuration data (MIF_REQ_GET_CONFIGURATION_DATA)
 * once and exits; "resolve" translates a name on each PvD (MIF_REQ_TRANSLATE_NAME),
 * each PvD through its own DNS servers, and prints the answers as they come.
 * "connect" opens a TCP connection through one PvD (MIF_REQ_CONNECT_TO_ADDRESS or
 * MIF_REQ_CONNECT_FROM_ADDRESS), takes the connected socket from MIF_MSG_CONNECTED,
 * and may send a line through it and print the answer.
 *
 * Only <mif.h> and the C library are used. Exit status: 0 success, 1 runtime
 * error (including an engine failure; for resolve also "no address found", for
 * connect "not connected"), 2 bad usage (for resolve and connect also a request
 * the library refuses).
 *
 * Adding a command: write `static int cmd_NAME(int argc, char **argv)` (argv[0] is
 * "mifctl NAME", so getopt messages name the command) and add a line to `commands[]`.
 * A command that opens a context follows the pattern of the four here: its run state
 * embeds a `struct session` (the shared options, the context, the interfaces whose
 * PvDs it follows), parse_command_line() reads its options, session_open() sets up
 * the signals and opens the context, run_message_loop() takes the messages and
 * hands each to the command's handler, and session_close() ends it all. cmd_config
 * is the smallest example.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mif.h"

#define PROG "mifctl"

/* ------------------------------------------------------------------------- */
/* Small helpers                                                              */
/* ------------------------------------------------------------------------- */

/* Length of a NUL-terminated string stored in a fixed-size array (never reads past it). */
#define FIELD_LEN(arr) strnlen((arr), sizeof(arr))

/* Length of the valid UTF-8 sequence starting at p (at most avail bytes), or 0 if
 * the bytes there are not valid UTF-8 (overlong forms and surrogates are rejected). */
static size_t utf8_sequence_len(const unsigned char *p, size_t avail)
{
    unsigned char c = p[0];
    size_t n;
    uint32_t cp, min;

    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2; cp = c & 0x1f; min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3; cp = c & 0x0f; min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4; cp = c & 0x07; min = 0x10000;
    } else {
        return 0;
    }
    if (avail < n)
        return 0;
    for (size_t k = 1; k < n; k++) {
        if ((p[k] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[k] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

/* Writes s[0..len) for a terminal: control characters and bytes that are not valid
 * UTF-8 become \xNN, so an odd interface name cannot play tricks with the terminal. */
static void put_text(FILE *out, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;

    while (i < len) {
        size_t n = utf8_sequence_len(p + i, len - i);
        if (n == 0 || p[i] < 0x20 || p[i] == 0x7f) {
            fprintf(out, "\\x%02x", p[i]);
            i++;
        } else {
            fwrite(p + i, 1, n, out);
            i += n;
        }
    }
}

/* Writes s[0..len) as a JSON string. '"' and '\\' are escaped, control characters
 * (and DEL) become \u00XX. Valid UTF-8 is copied; a byte that is not part of valid
 * UTF-8 is written as \u00XX too (its Latin-1 reading), so every line stays valid JSON. */
static void put_json_string(FILE *out, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;

    putc('"', out);
    while (i < len) {
        unsigned char c = p[i];
        size_t n = utf8_sequence_len(p + i, len - i);
        if (c == '"' || c == '\\') {
            putc('\\', out);
            putc(c, out);
            i++;
        } else if (n == 0 || c < 0x20 || c == 0x7f) {
            fprintf(out, "\\u%04x", c);
            i++;
        } else {
            fwrite(p + i, 1, n, out);
            i += n;
        }
    }
    putc('"', out);
}

/* A small set of 64-bit ids (interface indexes, PvD ids). A handful of entries, so a
 * plain array is the simplest correct choice. */
struct id_set {
    uint64_t *ids;
    size_t len, cap;
};

static bool id_set_has(const struct id_set *set, uint64_t id)
{
    for (size_t i = 0; i < set->len; i++)
        if (set->ids[i] == id)
            return true;
    return false;
}

/* Returns false only when out of memory. */
static bool id_set_add(struct id_set *set, uint64_t id)
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

static void id_set_remove(struct id_set *set, uint64_t id)
{
    for (size_t i = 0; i < set->len; i++) {
        if (set->ids[i] == id) {
            set->ids[i] = set->ids[--set->len];
            return;
        }
    }
}

static void id_set_free(struct id_set *set)
{
    free(set->ids);
    set->ids = NULL;
    set->len = set->cap = 0;
}

/* Names for the numeric fields of a mif_message. NULL for values this tool does not
 * know (a newer library may add some); callers then print the number. */
static const char *family_name(uint8_t family)
{
    switch (family) {
    case MIF_FAMILY_IPV4: return "ipv4";
    case MIF_FAMILY_IPV6: return "ipv6";
    default: return NULL;
    }
}

static const char *scope_name(uint8_t scope)
{
    switch (scope) {
    case MIF_SCOPE_GLOBAL: return "global";
    case MIF_SCOPE_SITE: return "site";
    case MIF_SCOPE_LINK: return "link";
    case MIF_SCOPE_HOST: return "host";
    default: return NULL;
    }
}

struct flag_name {
    uint32_t bit;
    const char *name;
};

static const struct flag_name address_flag_names[] = {
    { MIF_ADDRESS_TEMPORARY, "temporary" },
    { MIF_ADDRESS_DEPRECATED, "deprecated" },
    { MIF_ADDRESS_TENTATIVE, "tentative" },
    { MIF_ADDRESS_DADFAILED, "dadfailed" },
    { MIF_ADDRESS_PERMANENT, "permanent" },
    { MIF_ADDRESS_OPTIMISTIC, "optimistic" },
};

static const struct flag_name link_flag_names[] = {
    { MIF_LINK_UP, "up" },
    { MIF_LINK_RUNNING, "running" },
    { MIF_LINK_LOOPBACK, "loopback" },
    { MIF_LINK_POINTOPOINT, "pointopoint" },
};

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------------------- */
/* Library options, common to every command that opens a context              */
/* ------------------------------------------------------------------------- */

/* getopt_long values of the library options (above any short option character). */
enum {
    OPT_TEST_RCVBUF = 1000,
    OPT_ROOT,
    OPT_CONFIG,
    OPT_DNS_TIMEOUT,
    OPT_DNS_TRIES,
    OPT_ATTEMPT_DELAY, /* connect's own options, not library options for every command */
    OPT_CONNECT_TIMEOUT,
};

/* Put at the end of a command's `struct option` table, before the terminator. */
#define LIBRARY_LONG_OPTIONS                                         \
    { "root", required_argument, NULL, OPT_ROOT },                   \
    { "config", required_argument, NULL, OPT_CONFIG },               \
    { "dns-timeout", required_argument, NULL, OPT_DNS_TIMEOUT },     \
    { "dns-tries", required_argument, NULL, OPT_DNS_TRIES },         \
    { "test-rcvbuf", required_argument, NULL, OPT_TEST_RCVBUF }

/* What the library options set; zero means "the library's default" throughout. */
struct library_options {
    const char *root_dir;    /* --root */
    const char *config_file; /* --config */
    uint32_t dns_timeout_ms; /* --dns-timeout */
    uint32_t dns_tries;      /* --dns-tries */
    int32_t netlink_rcvbuf;  /* --test-rcvbuf */
    uint32_t connect_attempt_delay_ms; /* connect --attempt-delay */
    uint32_t connect_timeout_ms;       /* connect --timeout */
};

/* Parses a decimal number in [min, max]; no sign, no spaces, no trailing text. */
static bool parse_number(const char *s, unsigned long long min, unsigned long long max,
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
static bool parse_number_arg(const char *cmd, const char *what, const char *problem, const char *text,
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
static void usage_library_options(FILE *out)
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
    opts.netlink_rcvbuf = lo->netlink_rcvbuf;
    opts.connect_attempt_delay_ms = lo->connect_attempt_delay_ms;
    opts.connect_timeout_ms = lo->connect_timeout_ms;
    rc = mif_open(&opts, ctx);
    if (rc != MIF_OK) {
        fprintf(stderr, PROG ": cannot open a libmif context: %s\n", mif_strerror(rc));
        return false;
    }
    return true;
}

/* An address as text, or "(family N)" for a family this tool cannot format. */
static void format_address(const mif_address *a, char buf[MIF_ADDRESS_TEXT_SIZE])
{
    if (mif_address_format(a, buf, MIF_ADDRESS_TEXT_SIZE) != MIF_OK)
        snprintf(buf, MIF_ADDRESS_TEXT_SIZE, "(family %u)", a->family);
}

/* ------------------------------------------------------------------------- */
/* JSON output: one object per line                                          */
/* ------------------------------------------------------------------------- */

struct json_line {
    FILE *out;
    int fields;
};

static void json_key(struct json_line *j, const char *key)
{
    fputs(j->fields++ ? "," : "{", j->out);
    put_json_string(j->out, key, strlen(key));
    putc(':', j->out);
}

static void json_str(struct json_line *j, const char *key, const char *s, size_t len)
{
    json_key(j, key);
    put_json_string(j->out, s, len);
}

static void json_uint(struct json_line *j, const char *key, uint64_t v)
{
    json_key(j, key);
    fprintf(j->out, "%" PRIu64, v);
}

/* A name if known, else the raw number. */
static void json_name_or_number(struct json_line *j, const char *key, const char *name, unsigned v)
{
    if (name != NULL)
        json_str(j, key, name, strlen(name));
    else
        json_uint(j, key, v);
}

static void json_lifetime(struct json_line *j, const char *key, uint32_t seconds)
{
    json_key(j, key);
    if (seconds == MIF_LIFETIME_INFINITE)
        fputs("null", j->out);
    else
        fprintf(j->out, "%" PRIu32, seconds);
}

static void json_null(struct json_line *j, const char *key)
{
    json_key(j, key);
    fputs("null", j->out);
}

/* A string owned by a message (may be NULL: then null). */
static void json_str_or_null(struct json_line *j, const char *key, const char *s)
{
    if (s == NULL)
        json_null(j, key);
    else
        json_str(j, key, s, strlen(s));
}

/* An address as a JSON string; "" for a family this tool cannot format. */
static void put_json_address(FILE *out, const mif_address *a)
{
    char text[MIF_ADDRESS_TEXT_SIZE];

    if (mif_address_format(a, text, sizeof text) != MIF_OK)
        text[0] = '\0';
    put_json_string(out, text, strlen(text));
}

static void json_address(struct json_line *j, const char *key, const mif_address *a)
{
    json_key(j, key);
    put_json_address(j->out, a);
}

static void json_address_list(struct json_line *j, const char *key, const mif_address *list, size_t n)
{
    json_key(j, key);
    putc('[', j->out);
    for (size_t i = 0; i < n; i++) {
        if (i)
            putc(',', j->out);
        put_json_address(j->out, &list[i]);
    }
    putc(']', j->out);
}

static void json_string_list(struct json_line *j, const char *key, const char *const *list, size_t n)
{
    json_key(j, key);
    putc('[', j->out);
    for (size_t i = 0; i < n; i++) {
        const char *s = list[i] ? list[i] : "";
        if (i)
            putc(',', j->out);
        put_json_string(j->out, s, strlen(s));
    }
    putc(']', j->out);
}

static void json_flags(struct json_line *j, const char *key, uint32_t bits,
                       const struct flag_name *names, size_t count)
{
    int n = 0;

    json_key(j, key);
    putc('[', j->out);
    for (size_t i = 0; i < count; i++) {
        if (bits & names[i].bit) {
            if (n++)
                putc(',', j->out);
            put_json_string(j->out, names[i].name, strlen(names[i].name));
        }
    }
    putc(']', j->out);
}

/* "ipv4", "ipv6", or the number of a family this tool does not know. */
static void json_family(struct json_line *j, const char *key, uint8_t family)
{
    json_name_or_number(j, key, family_name(family), family);
}

/* The element type's name ("ra", "static", "any"...), or its number if unknown. */
static void json_element_type(struct json_line *j, const char *key, uint32_t element_type)
{
    const char *name = mif_element_type_name(element_type);
    json_name_or_number(j, key, strcmp(name, "unknown") == 0 ? NULL : name, element_type);
}

/* The data lists of a configuration element or configuration data message. */
static void json_config_lists(struct json_line *j, const mif_message *msg)
{
    json_address_list(j, "dns_servers", msg->dns_servers, msg->dns_server_count);
    json_string_list(j, "search_domains", msg->search_domains, msg->search_domain_count);
    json_address_list(j, "routers", msg->routers, msg->router_count);
    if (msg->mtu == 0)
        json_null(j, "mtu");
    else
        json_uint(j, "mtu", msg->mtu);
}

static const char *name_source_name(uint32_t source)
{
    switch (source) {
    case MIF_NAME_SOURCE_HOSTS: return "hosts";
    case MIF_NAME_SOURCE_DNS: return "dns";
    default: return NULL;
    }
}

/* Every line starts with the message type's name: {"msg":"pvd_announcement" */
static void json_msg_type(struct json_line *j, const mif_message *msg)
{
    const char *type = mif_message_type_name(msg->msg_type);

    json_str(j, "msg", type, strlen(type));
}

/* The PvD a message is about: "pvd":7,"pvd_name":"mif0/ipv6" */
static void json_pvd(struct json_line *j, const mif_message *msg)
{
    json_uint(j, "pvd", msg->pvd);
    json_str(j, "pvd_name", msg->pvd_name, FIELD_LEN(msg->pvd_name));
}

/* Ends the object and the line. */
static void json_end(struct json_line *j)
{
    fputs("}\n", j->out);
}

/* Name translation messages: the translation first, then where and what. */
static void json_translation(struct json_line *j, const mif_message *msg)
{
    const char *name = msg->name ? msg->name : "";

    json_uint(j, "translation_id", msg->translation_id);
    json_pvd(j, msg);
    json_str(j, "ifname", msg->ifname, FIELD_LEN(msg->ifname));
    json_str(j, "name", name, strlen(name));
    if (msg->msg_type == MIF_MSG_NAME_TRANSLATION) {
        json_address(j, "address", &msg->address);
        /* "family" is the address's; the PvD's is "pvd_family" (an IPv4 PvD's servers
         * also answer AAAA queries). */
        json_family(j, "family", msg->address.family);
        json_family(j, "pvd_family", msg->family);
        json_uint(j, "ttl", msg->ttl);
        json_name_or_number(j, "source", name_source_name(msg->name_source), msg->name_source);
    } else {
        const char *status = mif_translation_status_name(msg->translation_status);
        json_name_or_number(j, "status", strcmp(status, "unknown") == 0 ? NULL : status,
                            msg->translation_status);
    }
}

/* Announcements and configuration data: the interface, then for PvD, address and
 * configuration messages the PvD and what the message says of it. */
static void json_announcement(struct json_line *j, const mif_message *msg)
{
    json_uint(j, "ifindex", msg->ifindex);
    json_str(j, "ifname", msg->ifname, FIELD_LEN(msg->ifname));
    switch (msg->msg_type) {
    case MIF_MSG_INTERFACE_ANNOUNCEMENT:
    case MIF_MSG_NO_INTERFACE_ANNOUNCEMENT:
        json_flags(j, "link_flags", msg->link_flags, link_flag_names, COUNT_OF(link_flag_names));
        break;
    case MIF_MSG_ADDRESS_ANNOUNCEMENT:
    case MIF_MSG_NO_ADDRESS_ANNOUNCEMENT:
    case MIF_MSG_PVD_ANNOUNCEMENT:
    case MIF_MSG_NO_PVD_ANNOUNCEMENT:
        json_pvd(j, msg);
        json_family(j, "family", msg->family);
        if (msg->msg_type == MIF_MSG_PVD_ANNOUNCEMENT || msg->msg_type == MIF_MSG_NO_PVD_ANNOUNCEMENT)
            break;
        json_address(j, "address", &msg->address);
        json_uint(j, "prefix_len", msg->prefix_len);
        json_name_or_number(j, "scope", scope_name(msg->scope), msg->scope);
        json_flags(j, "flags", msg->address_flags, address_flag_names, COUNT_OF(address_flag_names));
        json_lifetime(j, "valid_lifetime", msg->valid_lifetime);
        json_lifetime(j, "preferred_lifetime", msg->preferred_lifetime);
        break;
    case MIF_MSG_CONFIG_ELEMENT_ANNOUNCEMENT:
    case MIF_MSG_NO_CONFIG_ELEMENT_ANNOUNCEMENT:
    case MIF_MSG_CONFIGURATION_DATA:
    case MIF_MSG_NO_CONFIGURATION_DATA:
        json_pvd(j, msg);
        json_family(j, "family", msg->family);
        json_element_type(j, "element", msg->element_type);
        if (msg->msg_type == MIF_MSG_CONFIG_ELEMENT_ANNOUNCEMENT ||
            msg->msg_type == MIF_MSG_NO_CONFIG_ELEMENT_ANNOUNCEMENT) {
            json_uint(j, "element_id", msg->element_id);
            if (msg->source.family == 0)
                json_null(j, "source");
            else
                json_address(j, "source", &msg->source);
            json_str_or_null(j, "origin", msg->origin);
            json_lifetime(j, "lifetime", msg->lifetime);
        }
        json_config_lists(j, msg);
        break;
    default:
        break; /* a message type newer than this tool: msg, ifindex and ifname only */
    }
}

/* One library message as one JSON line (connect's results have their own,
 * print_connect_json). */
static void print_json(const mif_message *msg)
{
    struct json_line j = { stdout, 0 };

    json_msg_type(&j, msg);
    if (msg->msg_type == MIF_MSG_ENGINE_FAILED) {
        const char *text = msg->text ? msg->text : mif_strerror(msg->status);
        json_key(&j, "status");
        fprintf(j.out, "%" PRId32, msg->status);
        json_str(&j, "error", text, strlen(text));
    } else if (msg->msg_type == MIF_MSG_NAME_TRANSLATION || msg->msg_type == MIF_MSG_NAME_TRANSLATION_DONE) {
        json_translation(&j, msg);
    } else {
        json_announcement(&j, msg);
    }
    json_end(&j);
}

/* ------------------------------------------------------------------------- */
/* The session: what every command that opens a context shares               */
/* ------------------------------------------------------------------------- */

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

/* Parses a command's options into `s` and, through cl->option, into `run`, then
 * checks the number of operands. Returns true to go on (the operands are then
 * argv[optind]...), false when the command must end with exit status *status: 0
 * after --help, 2 after a usage error (printed). */
static bool parse_command_line(const struct command_line *cl, int argc, char **argv,
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

/* --- Signals --- */

static volatile sig_atomic_t stop_requested;

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

/* --- Opening and closing --- */

/* Sets up the signals, then opens the context. Returns false after printing why
 * (exit status 1). */
static bool session_open(struct session *s)
{
    if (setup_signals(&s->wait_mask) != 0) {
        perror(PROG ": signals");
        return false;
    }
    return open_context(&s->lib, &s->ctx);
}

/* Closes the context and frees what the session holds. Returns the command's exit
 * status: `status`, or 1 if stdout cannot be flushed. */
static int session_close(struct session *s, int status)
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
static bool post_request(const struct session *s, const mif_request *req, bool *subscribed)
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
static bool subscribe(const struct session *s, mif_request_type type, uint64_t id, struct id_set *subs)
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
static bool out_of_memory(void)
{
    fprintf(stderr, PROG ": out of memory\n");
    return false;
}

/* The first request of config, resolve and connect: MIF_REQ_ANNOUNCE_INTERFACES.
 * Returns false after printing why it failed (exit status 1). If the engine already
 * failed, its MIF_MSG_ENGINE_FAILED message is waiting and ends the command. */
static bool announce_interfaces(const struct session *s)
{
    bool ok;

    if (post(s, MIF_REQ_ANNOUNCE_INTERFACES, 0, 0, &ok) && !ok)
        return false;
    return true;
}

/* Is this interface message about an interface the command follows? Without
 * --interface, every one; with it, the one of that name. Once followed, an interface
 * stays followed (also after a rename) until it goes. */
static bool interface_selected(const struct session *s, const mif_message *msg)
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
static bool follow_interface(struct session *s, const mif_message *msg)
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
static bool is_only_pvd(const struct session *s, const mif_message *msg)
{
    if (s->only_pvd_is_id)
        return msg->pvd == s->only_pvd_id;
    return strncmp(msg->pvd_name, s->only_pvd, sizeof msg->pvd_name) == 0;
}

/* True, after saying so, when --interface names an interface that does not exist
 * (the command then exits with status 1). */
static bool interface_missing(const struct session *s)
{
    if (s->only_ifname == NULL || s->interface_seen)
        return false;
    fprintf(stderr, "%s: no interface named '%s'\n", s->cmd, s->only_ifname);
    return true;
}

/* Says why the command found no PvD to work on (it then exits with status 1).
 * `family` is the family it needs ("ipv4", "ipv6"), or NULL for any. */
static void report_no_pvd(const struct session *s, const char *family)
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

static bool flush_stdout(void)
{
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, PROG ": writing to stdout: %s\n", strerror(errno));
        return false;
    }
    return true;
}

/* A command's handler for one message (never MIF_MSG_ENGINE_FAILED: drain_messages
 * reports that itself). `run` is the command's run state. Returns false when the
 * command must end with exit status 1, after printing why. The message is freed
 * after the call, unless the handler sets *keep: it then owns the message. */
typedef bool message_handler(void *run, mif_message *msg, bool *keep);

/* Takes the waiting messages, at most `batch` of them (0: all), and hands each to
 * `handle`; flushes stdout at the end. Returns false when the command must end with
 * exit status 1 (engine failure, a handler's error, I/O). */
static bool drain_messages(struct session *s, message_handler *handle, void *run, size_t batch)
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
        } else {
            ok = handle(run, msg, &keep);
        }
        if (!keep)
            mif_message_free(msg);
    }
    return flush_stdout() && ok;
}

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

/* The loop of every command: take and handle the waiting messages, see whether the
 * command is done (progress) or was told to stop (on_signal), then wait with ppoll()
 * until mif_fd is readable or a signal arrives; again. Returns the exit status. */
static int run_message_loop(struct session *s, const struct message_loop *loop, void *run)
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

/* ------------------------------------------------------------------------- */
/* monitor                                                                    */
/* ------------------------------------------------------------------------- */

struct monitor {
    struct session s;
    bool color;
    struct id_set address_subs;  /* PvD ids we posted MIF_REQ_ANNOUNCE_ADDRESSES for */
    struct id_set element_subs;  /* PvD ids we posted MIF_REQ_ANNOUNCE_CONFIG_ELEMENTS for */
};

/* --- Text: aligned lines for people --- */

#define COLOR_ADD "\033[32m"
#define COLOR_REMOVE "\033[31m"
#define COLOR_NOTE "\033[33m"
#define COLOR_RESET "\033[0m"

/* "+ interface  3 " / "- address      ": sign, kind, and an optional number column. */
static void text_head(const struct monitor *m, bool added, const char *kind, const char *number)
{
    if (m->color)
        fputs(added ? COLOR_ADD : COLOR_REMOVE, stdout);
    printf("%c %-9s", added ? '+' : '-', kind);
    if (m->color)
        fputs(COLOR_RESET, stdout);
    printf(" %2s ", number);
}

static void text_lifetime(const char *label, uint32_t seconds)
{
    if (seconds == MIF_LIFETIME_INFINITE)
        printf("%s forever", label);
    else
        printf("%s %" PRIu32 "s", label, seconds);
}

/* " a b c": a list of addresses, each after a space. */
static void text_address_list(const mif_address *list, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char addr[MIF_ADDRESS_TEXT_SIZE];
        format_address(&list[i], addr);
        printf(" %s", addr);
    }
}

static void text_string_list(const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        putchar(' ');
        if (list[i] != NULL)
            put_text(stdout, list[i], strlen(list[i]));
    }
}

/* "dns A B  search x.example  router R  mtu 1400", or "no data": one line's worth of
 * a configuration element's data. */
static void text_config_lists(const mif_message *msg)
{
    int n = 0;

    if (msg->dns_server_count > 0) {
        fputs("dns", stdout);
        text_address_list(msg->dns_servers, msg->dns_server_count);
        n++;
    }
    if (msg->search_domain_count > 0) {
        fputs(n++ ? "  search" : "search", stdout);
        text_string_list(msg->search_domains, msg->search_domain_count);
    }
    if (msg->router_count > 0) {
        fputs(n++ ? "  router" : "router", stdout);
        text_address_list(msg->routers, msg->router_count);
    }
    if (msg->mtu != 0)
        printf("%smtu %" PRIu32, n++ ? "  " : "", msg->mtu);
    if (n == 0)
        fputs("no data", stdout);
}

/* "ra #3" / "static #5": an element's type and id. */
static void text_element(uint32_t element_type, uint64_t element_id)
{
    const char *name = mif_element_type_name(element_type);

    if (strcmp(name, "unknown") == 0)
        printf("type %" PRIu32, element_type);
    else
        fputs(name, stdout);
    printf(" #%" PRIu64, element_id);
}

static void print_text(const struct monitor *m, const mif_message *msg)
{
    char number[24];
    bool added = true;

    switch (msg->msg_type) {
    case MIF_MSG_NO_INTERFACE_ANNOUNCEMENT:
        added = false;
        /* fall through */
    case MIF_MSG_INTERFACE_ANNOUNCEMENT: {
        /* "+ interface  3 mif0 (up, running)" */
        uint32_t f = msg->link_flags;
        snprintf(number, sizeof number, "%" PRIu32, msg->ifindex);
        text_head(m, added, "interface", number);
        put_text(stdout, msg->ifname, FIELD_LEN(msg->ifname));
        printf(" (%s", (f & MIF_LINK_UP) ? "up" : "down");
        if (f & MIF_LINK_RUNNING)
            fputs(", running", stdout);
        else if (f & MIF_LINK_UP)
            fputs(", no carrier", stdout);
        if (f & MIF_LINK_LOOPBACK)
            fputs(", loopback", stdout);
        if (f & MIF_LINK_POINTOPOINT)
            fputs(", pointopoint", stdout);
        fputs(")\n", stdout);
        break;
    }
    case MIF_MSG_NO_PVD_ANNOUNCEMENT:
        added = false;
        /* fall through */
    case MIF_MSG_PVD_ANNOUNCEMENT:
        /* "+ pvd        7 mif0/ipv6 on mif0" */
        snprintf(number, sizeof number, "%" PRIu64, msg->pvd);
        text_head(m, added, "pvd", number);
        put_text(stdout, msg->pvd_name, FIELD_LEN(msg->pvd_name));
        fputs(" on ", stdout);
        put_text(stdout, msg->ifname, FIELD_LEN(msg->ifname));
        putchar('\n');
        break;
    case MIF_MSG_NO_ADDRESS_ANNOUNCEMENT:
        added = false;
        /* fall through */
    case MIF_MSG_ADDRESS_ANNOUNCEMENT: {
        /* "+ address      fd6d:6966:a::2/64 on mif0/ipv6  valid 3599s preferred 1799s  [deprecated]" */
        char addr[MIF_ADDRESS_TEXT_SIZE];
        const char *scope = scope_name(msg->scope);
        int n = 0;

        format_address(&msg->address, addr);
        text_head(m, added, "address", "");
        printf("%s/%u on ", addr, msg->prefix_len);
        put_text(stdout, msg->pvd_name, FIELD_LEN(msg->pvd_name));
        if (!added) {
            putchar('\n');
            break;
        }
        if (msg->scope != MIF_SCOPE_GLOBAL) {
            if (scope != NULL)
                printf("  scope %s", scope);
            else
                printf("  scope %u", msg->scope);
        }
        fputs("  ", stdout);
        text_lifetime("valid", msg->valid_lifetime);
        putchar(' ');
        text_lifetime("preferred", msg->preferred_lifetime);
        for (size_t i = 0; i < COUNT_OF(address_flag_names); i++) {
            uint32_t bit = address_flag_names[i].bit;
            /* Flags that make an address unusable, or soon, stand out. */
            bool note = m->color && (bit & (MIF_ADDRESS_DEPRECATED | MIF_ADDRESS_TENTATIVE |
                                            MIF_ADDRESS_DADFAILED));
            if (!(msg->address_flags & bit))
                continue;
            fputs(n++ == 0 ? "  [" : ", ", stdout);
            printf("%s%s%s", note ? COLOR_NOTE : "", address_flag_names[i].name, note ? COLOR_RESET : "");
        }
        if (n > 0)
            putchar(']');
        putchar('\n');
        break;
    }
    case MIF_MSG_NO_CONFIG_ELEMENT_ANNOUNCEMENT:
        added = false;
        /* fall through */
    case MIF_MSG_CONFIG_ELEMENT_ANNOUNCEMENT:
        /* "+ config       ra #3 on mif0/ipv6 from fe80::1%2 (rtnetlink, 29s): dns fd6d:6966:a::1"
         * "- config       ra #3 on mif0/ipv6 from fe80::1%2 (rtnetlink)" */
        text_head(m, added, "config", "");
        text_element(msg->element_type, msg->element_id);
        fputs(" on ", stdout);
        put_text(stdout, msg->pvd_name, FIELD_LEN(msg->pvd_name));
        if (msg->source.family != 0) {
            char addr[MIF_ADDRESS_TEXT_SIZE];
            format_address(&msg->source, addr);
            printf(" from %s", addr);
        }
        fputs(" (", stdout);
        if (msg->origin != NULL)
            put_text(stdout, msg->origin, strlen(msg->origin));
        else
            fputs("unknown origin", stdout);
        if (added && msg->lifetime != MIF_LIFETIME_INFINITE)
            printf(", %" PRIu32 "s", msg->lifetime);
        putchar(')');
        if (added) {
            fputs(": ", stdout);
            text_config_lists(msg);
        }
        putchar('\n');
        break;
    case MIF_MSG_ENGINE_FAILED:
        break; /* reported by drain_messages, on stderr */
    default:
        printf("? %-9s %2s (message type %" PRIu32 ", ifindex %" PRIu32 ")\n",
               mif_message_type_name(msg->msg_type), "", msg->msg_type, msg->ifindex);
        break;
    }
}

/* Prints a message and keeps the subscriptions in step with it. */
static bool monitor_message(void *run, mif_message *msg, bool *keep)
{
    struct monitor *m = run;
    bool is_interface = msg->msg_type == MIF_MSG_INTERFACE_ANNOUNCEMENT ||
                        msg->msg_type == MIF_MSG_NO_INTERFACE_ANNOUNCEMENT;

    (void)keep; /* every message is freed once printed */
    /* PvD, address and element messages only come for subscriptions we made. */
    if (is_interface && !interface_selected(&m->s, msg))
        return true;
    if (m->s.json)
        print_json(msg);
    else
        print_text(m, msg);

    switch (msg->msg_type) {
    case MIF_MSG_INTERFACE_ANNOUNCEMENT:
    case MIF_MSG_NO_INTERFACE_ANNOUNCEMENT:
        return follow_interface(&m->s, msg);
    case MIF_MSG_PVD_ANNOUNCEMENT:
        /* Addresses first, then configuration elements: each subscription's initial
         * iteration is queued before its post returns, so they come in that order.
         * If the PvD is gone meanwhile both posts get MIF_E_UNKNOWN_PVD (normal). */
        if (!subscribe(&m->s, MIF_REQ_ANNOUNCE_ADDRESSES, msg->pvd, &m->address_subs) ||
            !subscribe(&m->s, MIF_REQ_ANNOUNCE_CONFIG_ELEMENTS, msg->pvd, &m->element_subs))
            return out_of_memory();
        return true;
    case MIF_MSG_NO_PVD_ANNOUNCEMENT:
        /* The address and element subscriptions end with their PvD; a PvD that comes
         * back (same id, e.g. after link down/up) is subscribed to again. */
        id_set_remove(&m->address_subs, msg->pvd);
        id_set_remove(&m->element_subs, msg->pvd);
        return true;
    default:
        return true;
    }
}

/* SIGINT/SIGTERM: the monitor's normal end. */
static int monitor_on_signal(void *run)
{
    struct monitor *m = run;

    if (m->s.verbose)
        fprintf(stderr, PROG ": debug: stopping on signal\n");
    return 0;
}

/* Most messages taken in one go before looking at signals again (the descriptor is
 * level-triggered, so what is left is picked up by the next poll at once). */
#define BATCH_MAX 1024

static int run_monitor(struct monitor *m)
{
    static const struct message_loop loop = {
        .handle = monitor_message,
        .batch = BATCH_MAX,
        .progress = NULL, /* runs until Ctrl-C or SIGTERM */
        .on_signal = monitor_on_signal,
    };
    mif_request req;
    mif_result rc;

    mif_request_init(&req, MIF_REQ_ANNOUNCE_INTERFACES);
    rc = mif_post_message(m->s.ctx, &req);
    if (rc != MIF_OK && rc != MIF_E_ENGINE_FAILED) {
        fprintf(stderr, PROG ": announce_interfaces: %s\n", mif_strerror(rc));
        return 1;
    }
    /* (If the engine already failed, its MIF_MSG_ENGINE_FAILED message is waiting.) */
    return run_message_loop(&m->s, &loop, m);
}

static void usage_monitor(FILE *out)
{
    fprintf(out,
        "usage: " PROG " monitor [--json] [--interface IF] [--verbose] [LIBRARY OPTIONS]\n"
        "\n"
        "Shows the host's interfaces, their provisioning domains (PvDs), their\n"
        "addresses and their configuration elements (DNS servers, search domains,\n"
        "routers, MTU, from RAs, DHCP leases, static files, resolv.conf), then every\n"
        "change as it happens, until Ctrl-C or SIGTERM.\n"
        "Lines start with '+' (present or updated) or '-' (gone).\n"
        "\n"
        "options:\n"
        "  -j, --json              one JSON object per line\n"
        "  -i, --interface IF      only the interface named IF (followed by index once\n"
        "                          seen, also when renamed; may appear later)\n"
        "  -v, --verbose           debug lines on stderr\n"
        "  -h, --help              this help\n"
        "\n");
    usage_library_options(out);
    fprintf(out,
        "\n"
        "Colors: only on a terminal, and never when NO_COLOR is set.\n");
}

static const struct option monitor_long_options[] = {
    JSON_INTERFACE_LONG_OPTIONS,
    VERBOSE_HELP_LONG_OPTIONS,
    LIBRARY_LONG_OPTIONS,
    { NULL, 0, NULL, 0 },
};

static const struct command_line monitor_command_line = {
    .short_options = "+ji:vh", /* '+': the options end at the first argument */
    .long_options = monitor_long_options,
    .operands = { NULL },
    .usage = usage_monitor,
    .option = NULL,
};

static int cmd_monitor(int argc, char **argv)
{
    struct monitor m;
    int status;

    memset(&m, 0, sizeof m);
    if (!parse_command_line(&monitor_command_line, argc, argv, &m.s, &m, &status))
        return status;

    {
        bool tty = isatty(STDOUT_FILENO);
        const char *term = getenv("TERM");
        m.color = !m.s.json && tty && getenv("NO_COLOR") == NULL &&
                  !(term != NULL && strcmp(term, "dumb") == 0);
        if (tty)
            fprintf(stderr, PROG ": monitoring, Ctrl-C to stop\n");
    }

    if (!session_open(&m.s))
        return 1;
    status = run_monitor(&m);
    id_set_free(&m.address_subs);
    id_set_free(&m.element_subs);
    return session_close(&m.s, status);
}

/* ------------------------------------------------------------------------- */
/* config                                                                     */
/* ------------------------------------------------------------------------- */

struct config_run {
    struct session s;
    long settle_ms;           /* --settle */
    size_t answers;           /* configuration data messages printed */
    struct id_set asked;      /* PvDs we posted MIF_REQ_GET_CONFIGURATION_DATA for */
    struct id_set pending;    /* ... and whose answer has not been taken yet */
};

/* One block per PvD:
 *
 *   mif0/ipv4 (pvd 1 on mif0, ifindex 2)
 *     dns servers     198.51.100.1
 *     search domains  a.example
 *     routers         198.51.100.1
 *     mtu             1500
 */
static void print_config_text(const struct config_run *c, const mif_message *msg)
{
    if (c->answers > 0)
        putchar('\n');
    put_text(stdout, msg->pvd_name, FIELD_LEN(msg->pvd_name));
    printf(" (pvd %" PRIu64 " on ", msg->pvd);
    put_text(stdout, msg->ifname, FIELD_LEN(msg->ifname));
    printf(", ifindex %" PRIu32 ")\n", msg->ifindex);
    if (msg->msg_type == MIF_MSG_NO_CONFIGURATION_DATA) {
        fputs("  no configuration data\n", stdout);
        return;
    }
    fputs("  dns servers    ", stdout);
    if (msg->dns_server_count == 0)
        fputs(" -", stdout);
    text_address_list(msg->dns_servers, msg->dns_server_count);
    fputs("\n  search domains ", stdout);
    if (msg->search_domain_count == 0)
        fputs(" -", stdout);
    text_string_list(msg->search_domains, msg->search_domain_count);
    fputs("\n  routers        ", stdout);
    if (msg->router_count == 0)
        fputs(" -", stdout);
    text_address_list(msg->routers, msg->router_count);
    fputs("\n  mtu            ", stdout);
    if (msg->mtu == 0)
        fputs(" unknown\n", stdout);
    else
        printf(" %" PRIu32 "\n", msg->mtu);
}

/* Handles one message. Returns false when the command must end with status 1. */
static bool config_message(void *run, mif_message *msg, bool *keep)
{
    struct config_run *c = run;
    mif_request req;
    bool ok;

    (void)keep;
    switch (msg->msg_type) {
    case MIF_MSG_INTERFACE_ANNOUNCEMENT:
    case MIF_MSG_NO_INTERFACE_ANNOUNCEMENT:
        return follow_interface(&c->s, msg);
    case MIF_MSG_PVD_ANNOUNCEMENT:
        /* Once per PvD (a rename or a link flap announces it again). */
        if (id_set_has(&c->asked, msg->pvd))
            return true;
        mif_request_init(&req, MIF_REQ_GET_CONFIGURATION_DATA);
        req.pvd = msg->pvd;
        req.element_type = MIF_ELEMENT_ANY;
        req.info_id = MIF_INFO_ALL;
        if (!post_request(&c->s, &req, &ok) || !ok)
            return true; /* gone meanwhile, or the engine failed (its message follows) */
        if (!id_set_add(&c->asked, msg->pvd) || !id_set_add(&c->pending, msg->pvd))
            return out_of_memory();
        return true;
    case MIF_MSG_CONFIGURATION_DATA:
    case MIF_MSG_NO_CONFIGURATION_DATA:
        id_set_remove(&c->pending, msg->pvd);
        if (c->s.json)
            print_json(msg);
        else
            print_config_text(c, msg);
        c->answers++;
        return true;
    default:
        return true; /* No PvD...: nothing to do */
    }
}

/* After each round of messages. Handling an interface posts MIF_REQ_ANNOUNCE_PVDS,
 * handling a PvD posts MIF_REQ_GET_CONFIGURATION_DATA, and the library queues each
 * one's whole answer (the interfaces, that interface's PvDs, that PvD's data) before
 * the post returns. So once a round ends with nothing waiting after all these posts,
 * the initial iteration is complete and every PvD present has been answered: no
 * timer, no guessing. */
static int config_progress(void *run)
{
    struct config_run *c = run;

    /* `pending` is empty here with this library; waiting for it anyway keeps the
     * tool correct with one that answers Get Configuration Data later. */
    if (c->pending.len > 0)
        return KEEP_GOING;
    if (interface_missing(&c->s))
        return 1;
    if (c->answers == 0 && !c->s.json)
        fprintf(stderr, PROG " config: no provisioning domain%s%s\n",
                c->s.only_ifname ? " on " : "", c->s.only_ifname ? c->s.only_ifname : "");
    return 0;
}

static int config_on_signal(void *run)
{
    (void)run;
    return 1;
}

static int run_config(struct config_run *c)
{
    static const struct message_loop loop = {
        .handle = config_message,
        .batch = 0,
        .progress = config_progress,
        .on_signal = config_on_signal,
    };

    if (!announce_interfaces(&c->s))
        return 1;
    return run_message_loop(&c->s, &loop, c);
}

/* --settle: waits `ms` milliseconds. Signals are blocked except inside ppoll, so
 * Ctrl-C ends the wait: returns false then. */
static bool settle(const struct session *s, long ms)
{
    struct timespec t = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

    return !(ppoll(NULL, 0, &t, &s->wait_mask) < 0 && errno == EINTR);
}

static void usage_config(FILE *out)
{
    fprintf(out,
        "usage: " PROG " config [--interface IF] [--json] [--verbose] [LIBRARY OPTIONS]\n"
        "\n"
        "Prints the configuration data of every provisioning domain (PvD) present:\n"
        "DNS servers, search domains, default routers and MTU, merged from all its\n"
        "configuration elements (Get Configuration Data, element type 'any', all\n"
        "information), then exits. Exit status 0, 1 on errors (also when --interface\n"
        "names no interface), 2 on bad usage.\n"
        "\n"
        "The kernel keeps no Router Advertisement DNS options to read back: a new\n"
        "context learns them from the next RA. The library asks routers for one at\n"
        "open (a Router Solicitation, when it may open a raw ICMPv6 socket), so config\n"
        "first waits --settle milliseconds for the answers.\n"
        "\n"
        "options:\n"
        "  -i, --interface IF      only the PvDs of the interface named IF\n"
        "  -s, --settle MS         wait MS ms after opening before asking (default 1000)\n"
        "  -j, --json              one JSON object per PvD and line:\n"
        "                          configuration_data or no_configuration_data\n"
        "  -v, --verbose           debug lines on stderr\n"
        "  -h, --help              this help\n"
        "\n");
    usage_library_options(out);
}

/* config's own option, -s/--settle MS. */
static int config_option(void *run, int opt, const char *value)
{
    struct config_run *c = run;
    char *end;

    if (opt != 's')
        return 0;
    errno = 0;
    c->settle_ms = strtol(value, &end, 10);
    if (errno != 0 || *value == '\0' || *end != '\0' || c->settle_ms < 0 || c->settle_ms > 60000) {
        fprintf(stderr, PROG " config: --settle takes milliseconds from 0 to 60000\n");
        return -1;
    }
    return 1;
}

static const struct option config_long_options[] = {
    JSON_INTERFACE_LONG_OPTIONS,
    { "settle", required_argument, NULL, 's' },
    VERBOSE_HELP_LONG_OPTIONS,
    LIBRARY_LONG_OPTIONS,
    { NULL, 0, NULL, 0 },
};

static const struct command_line config_command_line = {
    .short_options = "ji:s:vh",
    .long_options = config_long_options,
    .operands = { NULL },
    .usage = usage_config,
    .option = config_option,
};

static int cmd_config(int argc, char **argv)
{
    struct config_run c;
    int status;

    memset(&c, 0, sizeof c);
    c.settle_ms = 1000;
    if (!parse_command_line(&config_command_line, argc, argv, &c.s, &c, &status))
        return status;
    if (!session_open(&c.s))
        return 1;
    if (c.settle_ms > 0 && !settle(&c.s, c.settle_ms))
        status = 1;
    else
        status = run_config(&c);
    id_set_free(&c.asked);
    id_set_free(&c.pending);
    return session_close(&c.s, status);
}

/* ------------------------------------------------------------------------- */
/* resolve                                                                    */
/* ------------------------------------------------------------------------- */

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
        /* MIF_E_UNKNOWN_TRANSLATION: it ended meanwhile; its Done is waiting. */
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

static int cmd_resolve(int argc, char **argv)
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

/* ------------------------------------------------------------------------- */
/* connect                                                                    */
/* ------------------------------------------------------------------------- */

/* Our connection id: the application chooses it; one connect per run. */
#define CONNECTION_ID 1
/* --send: the reply ends at end of stream or after this long without data... */
#define RECEIVE_SILENCE_MS 2000
/* ... or at this many bytes (the JSON output keeps the whole reply in memory). */
#define RECEIVE_MAX (1024 * 1024)

struct connect_run {
    struct session s;
    const char *address_arg;     /* ADDRESS as given, for messages */
    mif_address remote;          /* ADDRESS */
    uint16_t port;               /* PORT */
    const char *from_arg;        /* --from as given, or NULL */
    mif_address local;           /* --from; family 0 when not given */
    const char *send_text;       /* --send, or NULL */
    bool initial_done;           /* the initial iteration has been handled */
    bool have_pvd;               /* a PvD has been chosen: */
    uint64_t pvd;                /*   its id, */
    uint32_t pvd_ifindex;        /*   its interface, */
    char pvd_name[MIF_PVD_NAME_SIZE]; /* and its name */
    bool cancelled;              /* MIF_REQ_CANCEL_CONNECT was posted */
    mif_message *result;         /* our Connected / Not Connected message, once taken */
};

/* The symbolic name of an errno value a connect may end with; NULL for others
 * (the caller then prints the number). */
static const char *errno_name(int e)
{
    switch (e) {
    case ECONNREFUSED: return "ECONNREFUSED";
    case ETIMEDOUT: return "ETIMEDOUT";
    case EHOSTUNREACH: return "EHOSTUNREACH";
    case ENETUNREACH: return "ENETUNREACH";
    case ENETDOWN: return "ENETDOWN";
    case EHOSTDOWN: return "EHOSTDOWN";
    case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
    case EADDRINUSE: return "EADDRINUSE";
    case ECANCELED: return "ECANCELED";
    case ECONNRESET: return "ECONNRESET";
    case ECONNABORTED: return "ECONNABORTED";
    case EPERM: return "EPERM";
    case EACCES: return "EACCES";
    case EINVAL: return "EINVAL";
    case EAFNOSUPPORT: return "EAFNOSUPPORT";
    case ENODEV: return "ENODEV";
    case ENOBUFS: return "ENOBUFS";
    case ENOMEM: return "ENOMEM";
    case EMFILE: return "EMFILE";
    case ENFILE: return "ENFILE";
    case EPROTO: return "EPROTO";
    case EIO: return "EIO";
    default: return NULL;
    }
}

static bool is_ipv6_link_local(const mif_address *a)
{
    return a->family == MIF_FAMILY_IPV6 && a->bytes[0] == 0xfe && (a->bytes[1] & 0xc0) == 0x80;
}

/* Parses an IPv4 or IPv6 address: "198.51.100.1", "fd6d:6966:a::1", and for IPv6
 * link-local addresses a scope, "fe80::1%mif0" or "fe80::1%3". Returns false after
 * printing a usage error; `what` names the argument. */
static bool parse_ip_address(const char *cmd, const char *what, const char *text, mif_address *out)
{
    char buf[INET6_ADDRSTRLEN];
    const char *percent = strchr(text, '%');
    size_t len = percent != NULL ? (size_t)(percent - text) : strlen(text);

    memset(out, 0, sizeof *out);
    if (len >= sizeof buf) {
        fprintf(stderr, "%s: %s: not an IPv4 or IPv6 address: '%s'\n", cmd, what, text);
        return false;
    }
    memcpy(buf, text, len);
    buf[len] = '\0';
    if (percent == NULL && inet_pton(AF_INET, buf, out->bytes) == 1) {
        out->family = MIF_FAMILY_IPV4;
        return true;
    }
    if (inet_pton(AF_INET6, buf, out->bytes) != 1) {
        fprintf(stderr, "%s: %s: not an IPv4 or IPv6 address: '%s'\n", cmd, what, text);
        return false;
    }
    out->family = MIF_FAMILY_IPV6;
    if (percent != NULL) {
        const char *scope = percent + 1;
        unsigned long long v;

        if (!is_ipv6_link_local(out)) {
            fprintf(stderr, "%s: %s: a scope (%%...) goes only with a link-local address: '%s'\n",
                    cmd, what, text);
            return false;
        }
        if (parse_number(scope, 1, UINT32_MAX, &v)) {
            out->scope_id = (uint32_t)v;
        } else if (scope[0] != '\0' && strlen(scope) < IF_NAMESIZE &&
                   (out->scope_id = if_nametoindex(scope)) != 0) {
            /* an interface name */
        } else {
            fprintf(stderr, "%s: %s: no interface '%s' for the scope of '%s'\n", cmd, what, scope, text);
            return false;
        }
    }
    return true;
}

/* "198.51.100.1:8080", "[fd6d:6966:a::1]:8080", "[fe80::1%3]:8080". */
static void format_endpoint(const mif_address *a, uint16_t port, char *buf, size_t len)
{
    char addr[MIF_ADDRESS_TEXT_SIZE];

    format_address(a, addr);
    if (a->family == MIF_FAMILY_IPV6)
        snprintf(buf, len, "[%s]:%u", addr, (unsigned)port);
    else
        snprintf(buf, len, "%s:%u", addr, (unsigned)port);
}

/* Is this announced PvD the one to connect through? The first that matches is taken.
 * (Loopback interfaces are followed only with --interface, --pvd or a scope.) */
static bool connect_pvd_wanted(const struct connect_run *c, const mif_message *msg)
{
    if (c->s.only_pvd != NULL) {
        /* Whatever its family: if it is not the destination's, the library refuses
         * the connect (MIF_E_BAD_ADDRESS) and the user sees why. */
        return is_only_pvd(&c->s, msg);
    }
    if (msg->family != c->remote.family)
        return false;
    if (c->s.only_ifname != NULL)
        return true; /* only that interface's PvDs are subscribed to */
    if (c->remote.scope_id != 0)
        return msg->ifindex == c->remote.scope_id; /* fe80::1%mif0: that interface's PvD */
    return true;
}

/* Handles one message. Our connect's result is kept in c->result (and *keep set: the
 * message is ours to free). Returns false when the command must end now (out of
 * memory). */
static bool connect_message(void *run, mif_message *msg, bool *keep)
{
    struct connect_run *c = run;

    switch (msg->msg_type) {
    case MIF_MSG_INTERFACE_ANNOUNCEMENT:
    case MIF_MSG_NO_INTERFACE_ANNOUNCEMENT:
        /* Only the interfaces and PvDs present at the start are considered. */
        if (c->initial_done)
            return true;
        return follow_interface(&c->s, msg);
    case MIF_MSG_PVD_ANNOUNCEMENT:
        if (c->initial_done || c->have_pvd || !connect_pvd_wanted(c, msg))
            return true;
        c->have_pvd = true;
        c->pvd = msg->pvd;
        c->pvd_ifindex = msg->ifindex;
        memcpy(c->pvd_name, msg->pvd_name, sizeof c->pvd_name);
        c->pvd_name[sizeof c->pvd_name - 1] = '\0';
        if (c->s.verbose)
            fprintf(stderr, PROG ": debug: chose pvd %" PRIu64 " (%s, ifindex %" PRIu32 ")\n",
                    c->pvd, c->pvd_name, c->pvd_ifindex);
        return true;
    case MIF_MSG_CONNECTED:
    case MIF_MSG_NOT_CONNECTED:
        if (msg->connection_id == CONNECTION_ID && c->result == NULL) {
            c->result = msg;
            *keep = true;
        } else if (msg->msg_type == MIF_MSG_CONNECTED && msg->fd >= 0) {
            close(msg->fd); /* not ours (cannot happen); the socket is ours to close all the same */
        }
        return true;
    default:
        return true;
    }
}

/* Posts MIF_REQ_CONNECT_TO_ADDRESS (MIF_REQ_CONNECT_FROM_ADDRESS with --from) on the
 * chosen PvD. Returns false after printing why the library refused it. */
static bool post_connect(struct connect_run *c)
{
    mif_request req;
    mif_result rc;
    char remote[MIF_ADDRESS_TEXT_SIZE + 8];

    mif_request_init(&req, c->local.family != 0 ? MIF_REQ_CONNECT_FROM_ADDRESS : MIF_REQ_CONNECT_TO_ADDRESS);
    req.pvd = c->pvd;
    req.connection_id = CONNECTION_ID;
    req.remote = c->remote;
    req.remote_port = c->port;
    if (c->local.family != 0)
        req.local = c->local;
    rc = mif_post_message(c->s.ctx, &req);
    if (rc == MIF_OK) {
        if (c->s.verbose)
            fprintf(stderr, PROG ": debug: posted %s #%d on pvd %" PRIu64 "\n",
                    mif_request_type_name(req.request_type), CONNECTION_ID, c->pvd);
        return true;
    }
    format_endpoint(&c->remote, c->port, remote, sizeof remote);
    fprintf(stderr, PROG " connect: %s to %s", mif_request_type_name(req.request_type), remote);
    if (c->local.family != 0) {
        char local[MIF_ADDRESS_TEXT_SIZE];
        format_address(&c->local, local);
        fprintf(stderr, " from %s", local);
    }
    fputs(" on ", stderr);
    put_text(stderr, c->pvd_name, strlen(c->pvd_name));
    fprintf(stderr, ": %s\n", mif_strerror(rc));
    return false;
}

/* After each round of messages. The first round ends the initial iteration, as in
 * resolve (every PvD present has been seen): choose the PvD and post the connect.
 * Then done once the connect's result has been taken. */
static int connect_progress(void *run)
{
    struct connect_run *c = run;

    if (c->initial_done)
        return c->result != NULL ? 0 : KEEP_GOING;
    c->initial_done = true;
    if (!c->have_pvd) {
        const char *family = family_name(c->remote.family);
        if (c->remote.scope_id != 0 && c->s.only_ifname == NULL && c->s.only_pvd == NULL)
            fprintf(stderr, PROG " connect: interface %" PRIu32 " (the scope of %s) has no %s provisioning domain\n",
                    c->remote.scope_id, c->address_arg, family);
        else
            report_no_pvd(&c->s, family);
        return 1;
    }
    if (c->remote.scope_id != 0 && c->remote.scope_id != c->pvd_ifindex) {
        fprintf(stderr, PROG " connect: the scope of %s (ifindex %" PRIu32 ") is not the interface of %s (ifindex %" PRIu32 ")\n",
                c->address_arg, c->remote.scope_id, c->pvd_name, c->pvd_ifindex);
        return 2;
    }
    return post_connect(c) ? KEEP_GOING : 2;
}

/* SIGINT/SIGTERM while the connect runs: cancel it, once. The final Not Connected
 * (ECANCELED) is queued before the post returns, and a Connected message still
 * waiting is withdrawn (its socket closed by the library). MIF_E_UNKNOWN_CONNECTION
 * means the connect ended meanwhile: its result is waiting. */
static int connect_on_signal(void *run)
{
    struct connect_run *c = run;
    mif_request req;
    mif_result rc;

    if (c->cancelled)
        return KEEP_GOING;
    if (c->s.verbose)
        fprintf(stderr, PROG ": debug: cancelling on signal\n");
    mif_request_init(&req, MIF_REQ_CANCEL_CONNECT);
    req.connection_id = CONNECTION_ID;
    rc = mif_post_message(c->s.ctx, &req);
    if (c->s.verbose)
        fprintf(stderr, PROG ": debug: posted cancel_connect #%d: %s\n", CONNECTION_ID, mif_strerror(rc));
    if (rc != MIF_OK && rc != MIF_E_UNKNOWN_CONNECTION && rc != MIF_E_ENGINE_FAILED)
        fprintf(stderr, PROG ": cancel_connect #%d: %s\n", CONNECTION_ID, mif_strerror(rc));
    c->cancelled = true;
    return KEEP_GOING;
}

/* Connected:     "Connected to 198.51.100.1:8080 from 198.51.100.2:40123 via mif0/ipv4 (pvd 1, mif0) in 0.5 ms"
 * Not Connected: "Not connected to 198.51.100.1:9 via mif0/ipv4 (pvd 1, mif0) after 0.3 ms:
 *                 ECONNREFUSED (Connection refused): 198.51.100.2: Connection refused" */
static void print_connect_text(const mif_message *msg)
{
    char remote[MIF_ADDRESS_TEXT_SIZE + 8];
    bool connected = msg->msg_type == MIF_MSG_CONNECTED;
    double ms = (double)msg->elapsed_us / 1000.0;

    format_endpoint(&msg->remote, msg->remote_port, remote, sizeof remote);
    printf("%s to %s", connected ? "Connected" : "Not connected", remote);
    if (connected) {
        char local[MIF_ADDRESS_TEXT_SIZE + 8];
        format_endpoint(&msg->local, msg->local_port, local, sizeof local);
        printf(" from %s", local);
    }
    fputs(" via ", stdout);
    put_text(stdout, msg->pvd_name, FIELD_LEN(msg->pvd_name));
    printf(" (pvd %" PRIu64 ", ", msg->pvd);
    put_text(stdout, msg->ifname, FIELD_LEN(msg->ifname));
    printf(") %s %.1f ms", connected ? "in" : "after", ms);
    if (!connected) {
        const char *name = errno_name(msg->error);
        if (name != NULL)
            printf(": %s (%s)", name, strerror(msg->error));
        else
            printf(": errno %" PRId32 " (%s)", msg->error, strerror(msg->error));
        if (msg->text != NULL && msg->text[0] != '\0') {
            fputs(": ", stdout);
            put_text(stdout, msg->text, strlen(msg->text));
        }
    }
    putchar('\n');
}

/* {"msg":"connected","connection_id":1,"pvd":1,"pvd_name":"mif0/ipv4","ifname":"mif0",
 *  "local":"198.51.100.2:40123","remote":"198.51.100.1:8080","ms":0.5,"error":null}
 * {"msg":"not_connected",...,"local":null,...,"error":"ECONNREFUSED","errno":111,"text":"..."} */
static void print_connect_json(const mif_message *msg)
{
    struct json_line j = { stdout, 0 };
    char endpoint[MIF_ADDRESS_TEXT_SIZE + 8];

    json_msg_type(&j, msg);
    json_uint(&j, "connection_id", msg->connection_id);
    json_pvd(&j, msg);
    json_str(&j, "ifname", msg->ifname, FIELD_LEN(msg->ifname));
    if (msg->msg_type == MIF_MSG_CONNECTED) {
        format_endpoint(&msg->local, msg->local_port, endpoint, sizeof endpoint);
        json_str(&j, "local", endpoint, strlen(endpoint));
    } else {
        json_null(&j, "local");
    }
    format_endpoint(&msg->remote, msg->remote_port, endpoint, sizeof endpoint);
    json_str(&j, "remote", endpoint, strlen(endpoint));
    json_key(&j, "ms");
    fprintf(j.out, "%.1f", (double)msg->elapsed_us / 1000.0);
    if (msg->msg_type == MIF_MSG_CONNECTED) {
        json_null(&j, "error");
    } else {
        const char *text = msg->text != NULL ? msg->text : strerror(msg->error);
        json_name_or_number(&j, "error", errno_name(msg->error), (unsigned)msg->error);
        json_key(&j, "errno");
        fprintf(j.out, "%" PRId32, msg->error);
        json_str(&j, "text", text, strlen(text));
    }
    json_end(&j);
}

/* Writes what came back for a terminal: like put_text, but newlines, tabs and the
 * '\r' of a "\r\n" pass. */
static void put_received(const char *s, size_t len)
{
    size_t start = 0;

    for (size_t i = 0; i <= len; i++) {
        if (i == len || s[i] == '\n' || s[i] == '\t' || (s[i] == '\r' && i + 1 < len && s[i + 1] == '\n')) {
            put_text(stdout, s + start, i - start);
            if (i < len)
                putchar(s[i]);
            start = i + 1;
        }
    }
}

/* How many bytes at the end of p[0..len) begin a UTF-8 sequence that the next read
 * may complete (0 to 3): the text output holds them back rather than escape them. */
static size_t utf8_incomplete_tail(const unsigned char *p, size_t len)
{
    for (size_t k = 1; k <= 3 && k <= len; k++) {
        unsigned char b = p[len - k];
        size_t need;

        if ((b & 0xc0) == 0x80)
            continue; /* a continuation byte: its lead byte is further back */
        need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc2 ? 2 : 1;
        return need > k ? k : 0;
    }
    return 0;
}

/* Writes all of data[0..len) to the (non-blocking) socket. Returns 1 when sent, 0 on
 * SIGINT/SIGTERM, -1 after printing an error. */
static int send_all(int fd, const char *data, size_t len, const sigset_t *wait_mask)
{
    size_t off = 0;

    while (off < len) {
        /* MSG_NOSIGNAL: a peer that has gone gives EPIPE, not a SIGPIPE that kills us. */
        ssize_t n = send(fd, data + off, len - off, MSG_NOSIGNAL);
        struct pollfd pfd = { .fd = fd, .events = POLLOUT, .revents = 0 };

        if (n >= 0) {
            off += (size_t)n;
            continue;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            fprintf(stderr, PROG " connect: send: %s\n", strerror(errno));
            return -1;
        }
        if (stop_requested)
            return 0;
        if (ppoll(&pfd, 1, NULL, wait_mask) < 0) {
            if (errno == EINTR)
                return 0;
            perror(PROG ": poll");
            return -1;
        }
    }
    return 1;
}

/* --send: writes TEXT and a newline through the connected socket, then prints what
 * comes back until end of stream ("eof"), a reset by the peer ("reset"),
 * RECEIVE_SILENCE_MS without data ("silence"), RECEIVE_MAX bytes ("limit"), another
 * read error ("error") or a signal ("signal"). Text: the bytes as they come; JSON:
 * one "received" line at the end, with "end" saying why. Returns the exit status:
 * 0, or 1 on a send error, a read error other than a reset, or a signal. */
static int connect_exchange(struct connect_run *c, int fd)
{
    size_t text_len = strlen(c->send_text);
    char *line = malloc(text_len + 2);
    char *got = NULL;               /* JSON: everything received */
    size_t got_len = 0;
    char buf[4096 + 3];             /* text: a read, after up to 3 held-back bytes */
    size_t held = 0;
    bool newline_pending = false;   /* text: output does not end with a newline */
    const char *end = NULL;         /* why receiving ended */
    int read_errno = 0;
    int sent, status = 0;

    /* Non-blocking, so that every wait is a ppoll() that SIGINT/SIGTERM can end. */
    if (line == NULL || fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0) {
        fprintf(stderr, PROG " connect: %s\n", line == NULL ? "out of memory" : strerror(errno));
        free(line);
        return 1;
    }
    memcpy(line, c->send_text, text_len);
    line[text_len] = '\n';
    sent = send_all(fd, line, text_len + 1, &c->s.wait_mask);
    free(line);
    if (sent <= 0)
        return 1;
    if (c->s.verbose)
        fprintf(stderr, PROG ": debug: sent %zu bytes\n", text_len + 1);
    if (c->s.json && (got = malloc(RECEIVE_MAX)) == NULL) {
        fprintf(stderr, PROG " connect: out of memory\n");
        return 1;
    }

    while (end == NULL) {
        struct pollfd pfd = { .fd = fd, .events = POLLIN, .revents = 0 };
        struct timespec silence = { RECEIVE_SILENCE_MS / 1000, (RECEIVE_SILENCE_MS % 1000) * 1000000L };
        ssize_t n;
        int ready;

        if (stop_requested) {
            end = "signal";
            break;
        }
        ready = ppoll(&pfd, 1, &silence, &c->s.wait_mask);
        if (ready < 0) {
            if (errno == EINTR)
                continue; /* the signal is seen at the top of the loop */
            read_errno = errno;
            end = "error";
            break;
        }
        if (ready == 0) {
            end = "silence";
            break;
        }
        if (c->s.json)
            n = recv(fd, got + got_len, RECEIVE_MAX - got_len, 0);
        else
            n = recv(fd, buf + held, sizeof buf - held, 0);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                continue;
            if (errno == ECONNRESET) {
                /* Common: a server that closes without reading all we sent. What came
                 * before the reset has been received; not an error of ours. */
                end = "reset";
            } else {
                read_errno = errno;
                end = "error";
            }
        } else if (n == 0) {
            end = "eof";
        } else if (c->s.json) {
            got_len += (size_t)n;
            if (got_len == RECEIVE_MAX)
                end = "limit";
        } else {
            size_t len = held + (size_t)n;
            size_t keep = utf8_incomplete_tail((const unsigned char *)buf, len);

            put_received(buf, len - keep);
            if (len > keep)
                newline_pending = buf[len - keep - 1] != '\n';
            memmove(buf, buf + len - keep, keep);
            held = keep;
            if (!flush_stdout()) {
                end = "output";
                status = 1;
            }
        }
    }

    if (c->s.json) {
        struct json_line j = { stdout, 0 };
        json_str(&j, "msg", "received", 8);
        json_str(&j, "text", got, got_len);
        json_uint(&j, "bytes", got_len);
        json_str(&j, "end", end, strlen(end));
        json_end(&j);
        free(got);
    } else if (held > 0 || newline_pending) {
        put_received(buf, held); /* an incomplete sequence at the very end: escaped */
        putchar('\n');
    }
    if (read_errno != 0) {
        fprintf(stderr, PROG " connect: receive: %s\n", strerror(read_errno));
        status = 1;
    } else if (strcmp(end, "reset") == 0 && !c->s.json) {
        fprintf(stderr, PROG " connect: connection reset by the peer\n");
    } else if (strcmp(end, "signal") == 0) {
        status = 1;
    }
    if (c->s.verbose)
        fprintf(stderr, PROG ": debug: receiving ended: %s\n", end);
    return status;
}

static int run_connect(struct connect_run *c)
{
    static const struct message_loop loop = {
        .handle = connect_message,
        .batch = 0,
        .progress = connect_progress,
        .on_signal = connect_on_signal,
    };
    const mif_message *result;
    int status;

    if (!announce_interfaces(&c->s))
        return 1;

    /* 1. The initial iteration, as in resolve: interfaces, then each one's PvDs;
     * 2. connect_progress chooses the PvD and posts the connect;
     * 3. wait for its result; Ctrl-C cancels it (and its result is then waiting). */
    status = run_message_loop(&c->s, &loop, c);
    if (status != 0)
        return status;

    result = c->result;
    if (c->s.json)
        print_connect_json(result);
    else
        print_connect_text(result);
    if (!flush_stdout())
        return 1;
    if (result->msg_type != MIF_MSG_CONNECTED)
        return 1;

    /* 4. The socket is ours now (mif_message_free does not close it). */
    if (c->send_text != NULL && !stop_requested)
        status = connect_exchange(c, result->fd);
    else
        status = stop_requested ? 1 : 0;
    return status;
}

static void usage_connect(FILE *out)
{
    fprintf(out,
        "usage: " PROG " connect ADDRESS PORT [--interface IF | --pvd PVD] [--from SRC]\n"
        "                      [--send TEXT] [--json] [--attempt-delay MS] [--timeout MS]\n"
        "                      [--verbose] [LIBRARY OPTIONS]\n"
        "\n"
        "Opens a TCP connection to ADDRESS (IPv4 or IPv6; a link-local IPv6 address may\n"
        "carry a scope: fe80::1%%mif0 or fe80::1%%3) port PORT through one provisioning\n"
        "domain (PvD) of the destination's family: the library races the PvD's source\n"
        "addresses (RFC 8305), pins every attempt to the PvD's link and hands over the\n"
        "connected socket. Prints Connected (remote, local, PvD, time) or Not connected\n"
        "(errno name and text), then closes the socket, unless --send is given.\n"
        "\n"
        "Which PvD: with --pvd, that one; with --interface, that interface's PvD of the\n"
        "destination's family; for a link-local ADDRESS with a scope, the IPv6 PvD of\n"
        "the scope's interface; otherwise the first PvD of the destination's family in\n"
        "the order the library announces them (by interface index), loopback\n"
        "interfaces aside. Only PvDs present at the start are considered.\n"
        "\n"
        "Ctrl-C or SIGTERM while connecting cancels the connect (Cancel Connect) and\n"
        "prints its result (normally Not connected, ECANCELED); while receiving, it\n"
        "stops receiving.\n"
        "Exit status: 0 connected (with --send: and TEXT sent, whether the reply ended\n"
        "with the peer closing, resetting or going silent), 1 not connected, no such\n"
        "PvD, a signal, a send or receive error; 2 on bad usage or a connect the library\n"
        "refuses (unknown PvD, a source that is not the PvD's, wrong family...).\n"
        "\n"
        "options:\n"
        "  -i, --interface IF      connect through the PvD of interface IF (loopback too)\n"
        "  -p, --pvd PVD           connect through that PvD: its id (as this command's own\n"
        "                          context numbers them) or its name, e.g. mif0/ipv4\n"
        "  -f, --from SRC          connect from source address SRC, which must be a valid\n"
        "                          address of the PvD (Connect From Address)\n"
        "  -s, --send TEXT         once connected, send TEXT and a newline, then print what\n"
        "                          comes back until the peer closes or %d s pass without\n"
        "                          data, and close the socket\n"
        "  -j, --json              one JSON object per line: connected or not_connected,\n"
        "                          then with --send one received object: text, bytes,\n"
        "                          end (eof, reset, silence, limit, error or signal)\n"
        "      --attempt-delay MS  wait MS milliseconds (10 to 2000, default 250) before\n"
        "                          racing the next source address\n"
        "      --timeout MS        give up after MS milliseconds (default 10000): ETIMEDOUT\n"
        "  -v, --verbose           debug lines on stderr\n"
        "  -h, --help              this help\n"
        "\n", RECEIVE_SILENCE_MS / 1000);
    usage_library_options(out);
}

/* connect's own options. */
static int connect_option(void *run, int opt, const char *value)
{
    struct connect_run *c = run;
    unsigned long long v;

    switch (opt) {
    case 'f':
        c->from_arg = value;
        return 1;
    case 's':
        c->send_text = value;
        return 1;
    case OPT_ATTEMPT_DELAY:
        if (!parse_number_arg(c->s.cmd, "--attempt-delay", "not a number of milliseconds from 10 to 2000", value,
                              10, 2000, &v))
            return -1;
        c->s.lib.connect_attempt_delay_ms = (uint32_t)v;
        return 1;
    case OPT_CONNECT_TIMEOUT:
        if (!parse_number_arg(c->s.cmd, "--timeout", "not a number of milliseconds (1 or more)", value,
                              1, UINT32_MAX, &v))
            return -1;
        c->s.lib.connect_timeout_ms = (uint32_t)v;
        return 1;
    default:
        return 0;
    }
}

static const struct option connect_long_options[] = {
    JSON_INTERFACE_LONG_OPTIONS,
    PVD_LONG_OPTION,
    { "from", required_argument, NULL, 'f' },
    { "send", required_argument, NULL, 's' },
    { "attempt-delay", required_argument, NULL, OPT_ATTEMPT_DELAY },
    { "timeout", required_argument, NULL, OPT_CONNECT_TIMEOUT },
    VERBOSE_HELP_LONG_OPTIONS,
    LIBRARY_LONG_OPTIONS,
    { NULL, 0, NULL, 0 },
};

static const struct command_line connect_command_line = {
    /* No '+': options may follow ADDRESS and PORT. */
    .short_options = "ji:p:f:s:vh",
    .long_options = connect_long_options,
    .operands = { "ADDRESS", "PORT", NULL },
    .usage = usage_connect,
    .option = connect_option,
};

static int cmd_connect(int argc, char **argv)
{
    struct connect_run c;
    unsigned long long v;
    int status;

    memset(&c, 0, sizeof c);
    if (!parse_command_line(&connect_command_line, argc, argv, &c.s, &c, &status))
        return status;
    c.address_arg = argv[optind];
    if (!parse_ip_address(argv[0], "ADDRESS", argv[optind], &c.remote))
        return 2;
    if (!parse_number_arg(argv[0], "PORT", "not a port number from 1 to 65535", argv[optind + 1], 1, 65535, &v))
        return 2;
    c.port = (uint16_t)v;
    if (c.from_arg != NULL) {
        if (!parse_ip_address(argv[0], "--from", c.from_arg, &c.local))
            return 2;
        if (c.local.family != c.remote.family) {
            fprintf(stderr, PROG " connect: --from %s is not of the family of %s\n", c.from_arg, c.address_arg);
            return 2;
        }
    }
    /* Loopback interfaces' PvDs only with --interface, --pvd or a scope (fe80::1%lo). */
    c.s.skip_loopback = c.s.only_pvd == NULL && c.remote.scope_id == 0;

    if (!session_open(&c.s))
        return 1;
    status = run_connect(&c);
    if (c.result != NULL) {
        if (c.result->msg_type == MIF_MSG_CONNECTED && c.result->fd >= 0)
            close(c.result->fd); /* ours since mif_get_message; mif_message_free leaves it */
        mif_message_free(c.result);
    }
    return session_close(&c.s, status);
}

/* ------------------------------------------------------------------------- */
/* version                                                                    */
/* ------------------------------------------------------------------------- */

static int cmd_version(int argc, char **argv)
{
    if (argc > 1) {
        if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
            printf("usage: " PROG " version\n\nPrints the libmif version.\n");
            return 0;
        }
        fprintf(stderr, PROG " version: unexpected argument '%s'\n", argv[1]);
        return 2;
    }
    printf("%s\n", mif_version());
    return 0;
}

/* ------------------------------------------------------------------------- */
/* Command table and main                                                     */
/* ------------------------------------------------------------------------- */

struct command {
    const char *name;
    int (*run)(int argc, char **argv); /* argv[0] is "mifctl NAME"; returns the exit status */
    const char *summary;
};

static const struct command commands[] = {
    { "monitor", cmd_monitor, "show interfaces, PvDs, addresses and configuration as they change" },
    { "config", cmd_config, "print each PvD's DNS servers, search domains, routers and MTU" },
    { "resolve", cmd_resolve, "translate a name on each PvD, through its own DNS servers" },
    { "connect", cmd_connect, "open a TCP connection through a PvD; optionally send a line" },
    { "version", cmd_version, "print the libmif version" },
};

static void usage(FILE *out)
{
    fprintf(out, "usage: " PROG " COMMAND [OPTIONS]\n\ncommands:\n");
    for (size_t i = 0; i < COUNT_OF(commands); i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "  %-10s %s\n", "help", "this help, or 'help COMMAND' for a command's options");
    fprintf(out, "\nRun '" PROG " COMMAND --help' for a command's options.\n");
}

static const struct command *find_command(const char *name)
{
    for (size_t i = 0; i < COUNT_OF(commands); i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

/* Runs a command with argv[0] set to "mifctl NAME" (for getopt's messages). */
static int run_command(const struct command *cmd, int argc, char **argv)
{
    char name[64];

    snprintf(name, sizeof name, PROG " %s", cmd->name);
    argv[0] = name;
    optind = 1;
    return cmd->run(argc, argv);
}

int main(int argc, char **argv)
{
    const struct command *cmd;

    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "help") == 0) {
        if (argc == 2) {
            usage(stdout);
            return 0;
        }
        cmd = find_command(argv[2]);
        if (cmd == NULL || argc > 3) {
            if (cmd == NULL)
                fprintf(stderr, PROG ": help: unknown command '%s'\n", argv[2]);
            else
                fprintf(stderr, PROG ": help: unexpected argument '%s'\n", argv[3]);
            usage(stderr);
            return 2;
        }
        {
            char help[] = "--help";
            char *help_argv[] = { argv[2], help, NULL };
            return run_command(cmd, 2, help_argv);
        }
    }
    cmd = find_command(strcmp(argv[1], "--version") == 0 ? "version" : argv[1]);
    if (cmd == NULL) {
        if (argv[1][0] == '-')
            fprintf(stderr, PROG ": unknown option '%s'\n", argv[1]);
        else
            fprintf(stderr, PROG ": unknown command '%s'\n", argv[1]);
        usage(stderr);
        return 2;
    }
    return run_command(cmd, argc - 1, argv + 1);
}
