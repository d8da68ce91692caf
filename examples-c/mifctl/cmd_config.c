/*
 * mifctl config: asks each PvD for its configuration data
 * (MIF_REQ_GET_CONFIGURATION_DATA) once its configuration is learned, prints the
 * answers and exits. The smallest command that opens a context: a model for a new one.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "mifctl.h"

/* Element types asked one by one for each PvD's DNS servers (their provenance). */
static const uint32_t source_types[] = {
    MIF_ELEMENT_RA, MIF_ELEMENT_DHCPV4, MIF_ELEMENT_DHCPV6, MIF_ELEMENT_STATIC, MIF_ELEMENT_SYSTEM,
};
#define SOURCE_TYPES (sizeof source_types / sizeof source_types[0])
#define MAX_SOURCED 64

/* Which element types gave each DNS server of the answer being completed. */
struct server_sources {
    size_t n;
    mif_address addr[MAX_SOURCED];
    unsigned types[MAX_SOURCED]; /* bit i: source_types[i] */
};

struct config_run {
    struct session s;
    size_t answers;           /* configuration data messages printed */
    struct id_set learning;   /* PvDs whose configuration is still being learned */
    struct id_set asked;      /* PvDs we posted MIF_REQ_GET_CONFIGURATION_DATA for */
    struct id_set pending;    /* ... and whose answer has not been taken yet */
    mif_message *held;        /* the merged answer, printed once its sources are in */
    size_t sources_left;      /* typed answers still to come for `held` */
    struct server_sources sources;
};

/* One block per PvD:
 *
 *   mif0/ipv4 (pvd 1 on mif0, ifindex 2)
 *     dns servers     198.51.100.1
 *     search domains  a.example
 *     routers         198.51.100.1
 *     mtu             1500
 */
/* "198.51.100.1 (dhcpv4, static)" for each DNS server. */
static void text_servers_with_sources(const struct server_sources *src, const mif_message *msg)
{
    size_t i, k, t;
    for (i = 0; i < msg->dns_server_count; i++) {
        char text[MIF_ADDRESS_TEXT_SIZE];
        const char *sep = " (";
        format_address(&msg->dns_servers[i], text);
        printf(" %s", text);
        for (k = 0; k < src->n; k++) {
            if (memcmp(&src->addr[k], &msg->dns_servers[i], sizeof(mif_address)) != 0)
                continue;
            for (t = 0; t < SOURCE_TYPES; t++) {
                if (src->types[k] & (1u << t)) {
                    printf("%s%s", sep, mif_element_type_name(source_types[t]));
                    sep = ", ";
                }
            }
        }
        if (strcmp(sep, ", ") == 0)
            putchar(')');
    }
}

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
    fputs("  configuration  ", stdout);
    fputs(msg->config_state == MIF_CONFIG_STATE_LEARNING ? " learning" : " complete", stdout);
    fputs("\n  dns servers    ", stdout);
    if (msg->dns_server_count == 0)
        fputs(" -", stdout);
    text_servers_with_sources(&c->sources, msg);
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
    if (msg->captive_portal)
        printf("  captive portal  %s\n", msg->captive_portal);
    if (msg->pref64_len != 0) {
        char text[MIF_ADDRESS_TEXT_SIZE];
        format_address(&msg->pref64, text);
        printf("  nat64 prefix    %s/%" PRIu32 "\n", text, msg->pref64_len);
    }
}

/* JSON: "dns_server_sources":{"198.51.100.1":["dhcpv4","static"],...} */
static void json_server_sources(struct json_line *j, const void *arg)
{
    const struct config_run *c = arg;
    const mif_message *msg = c->held;
    size_t i, k, t;
    json_key(j, "dns_server_sources");
    putchar('{');
    for (i = 0; i < msg->dns_server_count; i++) {
        char text[MIF_ADDRESS_TEXT_SIZE];
        int n = 0;
        format_address(&msg->dns_servers[i], text);
        printf("%s\"%s\":[", i ? "," : "", text);
        for (k = 0; k < c->sources.n; k++) {
            if (memcmp(&c->sources.addr[k], &msg->dns_servers[i], sizeof(mif_address)) != 0)
                continue;
            for (t = 0; t < SOURCE_TYPES; t++)
                if (c->sources.types[k] & (1u << t))
                    printf("%s\"%s\"", n++ ? "," : "", mif_element_type_name(source_types[t]));
        }
        putchar(']');
    }
    putchar('}');
}

/* Prints the held merged answer with its servers' sources, and lets it go. */
static void print_held(struct config_run *c)
{
    if (c->s.json)
        print_json_with(c->held, json_server_sources, c);
    else
        print_config_text(c, c->held);
    c->answers++;
    mif_message_free(c->held);
    c->held = NULL;
}

/* One typed answer (MIF_INFO_DNS_SERVERS of one element type): its servers' source. */
static void note_sources(struct config_run *c, const mif_message *msg)
{
    size_t t, i, k;
    for (t = 0; t < SOURCE_TYPES && source_types[t] != msg->element_type; t++)
        ;
    if (t == SOURCE_TYPES || msg->msg_type != MIF_MSG_CONFIGURATION_DATA)
        return;
    for (i = 0; i < msg->dns_server_count; i++) {
        for (k = 0; k < c->sources.n; k++)
            if (memcmp(&c->sources.addr[k], &msg->dns_servers[i], sizeof(mif_address)) == 0)
                break;
        if (k == c->sources.n) {
            if (k == MAX_SOURCED)
                continue;
            c->sources.addr[k] = msg->dns_servers[i];
            c->sources.types[k] = 0;
            c->sources.n++;
        }
        c->sources.types[k] |= 1u << t;
    }
}

/* Asks a PvD for its configuration data, once. */
static bool ask(struct config_run *c, uint64_t pvd)
{
    mif_request req;
    bool ok;

    size_t t;

    if (id_set_has(&c->asked, pvd))
        return true;
    mif_request_init(&req, MIF_REQ_GET_CONFIGURATION_DATA);
    req.pvd = pvd;
    req.element_type = MIF_ELEMENT_ANY;
    req.info_id = MIF_INFO_ALL;
    if (!post_request(&c->s, &req, &ok) || !ok)
        return true; /* gone meanwhile, or the engine failed (its message follows) */
    if (!id_set_add(&c->asked, pvd) || !id_set_add(&c->pending, pvd))
        return out_of_memory();
    /* Then each element type's DNS servers: where each server came from. Every answer
     * is queued before its post returns, so they follow the merged one in this order. */
    for (t = 0; t < SOURCE_TYPES; t++) {
        mif_request_init(&req, MIF_REQ_GET_CONFIGURATION_DATA);
        req.pvd = pvd;
        req.element_type = source_types[t];
        req.info_id = MIF_INFO_DNS_SERVERS;
        if (!post_request(&c->s, &req, &ok) || !ok)
            return true;
    }
    return true;
}

/* Handles one message. Returns false when the command must end with status 1. */
static bool config_message(void *run, mif_message *msg, bool *keep)
{
    struct config_run *c = run;

    switch (msg->msg_type) {
    case MIF_MSG_INTERFACE_ANNOUNCEMENT:
    case MIF_MSG_NO_INTERFACE_ANNOUNCEMENT:
        return follow_interface(&c->s, msg);
    case MIF_MSG_PVD_ANNOUNCEMENT:
        /* A PvD still learning its configuration (a fresh context awaits its routers'
         * answer; a link just came up) is asked once it is complete. */
        if (msg->config_state == MIF_CONFIG_STATE_LEARNING) {
            if (!id_set_has(&c->asked, msg->pvd) && !id_set_add(&c->learning, msg->pvd))
                return out_of_memory();
            return true;
        }
        return ask(c, msg->pvd); /* once per PvD (a rename or a link flap announces it again) */
    case MIF_MSG_PVD_CONFIGURATION_COMPLETE:
        if (!id_set_has(&c->learning, msg->pvd))
            return true;
        id_set_remove(&c->learning, msg->pvd);
        return ask(c, msg->pvd);
    case MIF_MSG_NO_PVD_ANNOUNCEMENT:
        id_set_remove(&c->learning, msg->pvd);
        return true;
    case MIF_MSG_CONFIGURATION_LEARNING:
        if (msg->element_type != MIF_ELEMENT_ANY)
            return true; /* a typed answer of the same round: the merged one decides */
        /* Learning again since we asked (its link came up again): ask once complete. */
        id_set_remove(&c->pending, msg->pvd);
        id_set_remove(&c->asked, msg->pvd);
        if (!id_set_add(&c->learning, msg->pvd))
            return out_of_memory();
        return true;
    case MIF_MSG_CONFIGURATION_DATA:
    case MIF_MSG_NO_CONFIGURATION_DATA:
        if (msg->element_type == MIF_ELEMENT_ANY) {
            /* The merged answer: held until the typed ones (its servers' sources) are in. */
            if (c->held)
                print_held(c);
            c->held = msg;
            *keep = true;
            c->sources_left = SOURCE_TYPES;
            c->sources.n = 0;
            return true;
        }
        if (c->held == NULL || c->held->pvd != msg->pvd)
            return true;
        note_sources(c, msg);
        if (--c->sources_left == 0) {
            id_set_remove(&c->pending, msg->pvd);
            print_held(c);
        }
        return true;
    default:
        return true; /* No PvD...: nothing to do */
    }
}

/* After each round of messages. Handling an interface posts MIF_REQ_ANNOUNCE_PVDS,
 * handling a complete PvD posts MIF_REQ_GET_CONFIGURATION_DATA, and the library queues
 * each one's whole answer (the interfaces, that interface's PvDs, that PvD's data)
 * before the post returns. A PvD still learning its configuration is asked when the
 * library says it is complete (its routers answered, or the learning window passed).
 * So once a round ends with nothing learning and nothing waiting, every PvD present
 * has been answered: no timer, no guessing. */
static int config_progress(void *run)
{
    struct config_run *c = run;

    /* A merged answer whose typed answers did not all come (its PvD went between the
     * posts): printed with the sources that came. */
    if (c->held) {
        id_set_remove(&c->pending, c->held->pvd);
        print_held(c);
    }
    /* `pending` is empty here with this library; waiting for it anyway keeps the
     * tool correct with one that answers Get Configuration Data later. */
    if (c->pending.len > 0 || c->learning.len > 0)
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
        "open (a Router Solicitation, when it may open a raw ICMPv6 socket) and says\n"
        "when each PvD's configuration is complete (its routers answered, or the\n"
        "--learning window passed): config asks each PvD then, and waits no longer.\n"
        "\n"
        "options:\n"
        "  -i, --interface IF      only the PvDs of the interface named IF\n"
        "  -s, --settle MS         the same as --learning MS (an older name)\n"
        "  -j, --json              one JSON object per PvD and line:\n"
        "                          configuration_data or no_configuration_data, with\n"
        "                          dns_server_sources: each server's element types\n"
        "  -v, --verbose           debug lines on stderr\n"
        "  -h, --help              this help\n"
        "\n");
    usage_library_options(out);
}

/* config's own option, -s/--settle MS: the library's learning window. */
static int config_option(void *run, int opt, const char *value)
{
    struct config_run *c = run;
    unsigned long long v;

    if (opt != 's')
        return 0;
    if (!parse_number_arg(PROG " config", "--settle", "not milliseconds from 10 to 60000", value, 10, 60000, &v))
        return -1;
    c->s.lib.learning_ms = (uint32_t)v;
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

int cmd_config(int argc, char **argv)
{
    struct config_run c;
    int status;

    memset(&c, 0, sizeof c);
    if (!parse_command_line(&config_command_line, argc, argv, &c.s, &c, &status))
        return status;
    if (!session_open(&c.s))
        return 1;
    status = run_config(&c);
    mif_message_free(c.held);
    id_set_free(&c.learning);
    id_set_free(&c.asked);
    id_set_free(&c.pending);
    return session_close(&c.s, status);
}
