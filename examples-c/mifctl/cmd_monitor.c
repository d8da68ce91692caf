/*
 * mifctl monitor: how an application follows the host's networks with libmif.
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
 * Steps 1, 4 and 5 are session.c's (session_open, run_message_loop, session_close);
 * this file posts the requests and prints the messages, as text or JSON (json.c).
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mifctl.h"

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
        if (added && msg->config_state == MIF_CONFIG_STATE_LEARNING)
            fputs("  (configuration: learning)", stdout);
        putchar('\n');
        break;
    case MIF_MSG_PVD_CONFIGURATION_COMPLETE:
        /* "  pvd        7 mif0/ipv6: configuration complete" */
        snprintf(number, sizeof number, "%" PRIu64, msg->pvd);
        text_head(m, true, "pvd", number);
        put_text(stdout, msg->pvd_name, FIELD_LEN(msg->pvd_name));
        fputs(": configuration complete\n", stdout);
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
        for (size_t i = 0; i < address_flag_count; i++) {
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
    case MIF_MSG_INTERFACE_GOING_AWAY:
    case MIF_MSG_INTERFACE_GOING_AWAY_CANCELLED: {
        const char *reason = going_away_reason_name(msg->going_away_reason);
        bool cancelled = msg->msg_type == MIF_MSG_INTERFACE_GOING_AWAY_CANCELLED;
        printf("%c going away %s%s", cancelled ? '+' : '!', msg->pvd != 0 ? msg->pvd_name : msg->ifname,
               cancelled ? ": no longer" : "");
        if (!cancelled) {
            if (msg->deadline_ms == 0)
                fputs(" now", stdout);
            else
                printf(" in %" PRIu64 ".%03" PRIu64 " s", (uint64_t)msg->deadline_ms / 1000,
                       (uint64_t)msg->deadline_ms % 1000);
        }
        printf(" (%s)\n", reason != NULL ? reason : "unknown reason");
        break;
    }
    case MIF_MSG_INTERFACE_GOING_UP: {
        const char *reason = going_up_reason_name(msg->going_up_reason);
        printf("~ going up  %s (%s)\n", msg->ifname, reason != NULL ? reason : "unknown reason");
        break;
    }
    case MIF_MSG_QUEUE_OVERFLOW:
        /* The library re-announces everything subscribed right behind this message. */
        printf("! overflow  %" PRIu64 " announcements left out; the complete state follows\n",
               (uint64_t)msg->dropped_messages);
        break;
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

int cmd_monitor(int argc, char **argv)
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
