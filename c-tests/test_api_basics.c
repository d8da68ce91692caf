/*
 * test_api_basics: open/close, the notification fd's kind and flags, the static
 * strings (strerror, type names, version), mif_address_format, and the NULL-tolerant
 * free/close.  Changes nothing in the kernel.
 */
#include "mif.h"
#include "check.h"
#include "bed.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <limits.h>
#include <regex.h>

static void open_close_null_options(void)
{
    mif_ctx *ctx = NULL;
    REQUIRE(CHECK_RC(mif_open(NULL, &ctx), MIF_OK));
    CHECK(ctx != NULL);
    CHECK(mif_fd(ctx) >= 0);
    mif_close(ctx);
}

static void options_init_defaults(void)
{
    mif_options opts;
    memset(&opts, 0xA5, sizeof opts);
    REQUIRE(CHECK_RC(mif_options_init(&opts), MIF_OK));
    CHECK_EQ_INT(opts.size, sizeof(mif_options));
    CHECK_EQ_INT(opts.flags, 0);
    CHECK(opts.root_dir == NULL);
    CHECK_EQ_INT(opts.test_netlink_rcvbuf, 0);
    CHECK_EQ_INT(opts.test_flags, 0);
    CHECK(opts.config_file == NULL);
    CHECK_EQ_INT(opts.dns_timeout_ms, 0);
    CHECK_EQ_INT(opts.dns_tries, 0);
    CHECK_EQ_INT(opts.connect_attempt_delay_ms, 0);
    CHECK_EQ_INT(opts.connect_timeout_ms, 0);
    CHECK_RC(mif_options_init(NULL), MIF_E_NULL_ARGUMENT);
    CHECK_RC(mif_options_init_sized(NULL, sizeof(mif_options)), MIF_E_NULL_ARGUMENT);
}

static void request_init_defaults(void)
{
    mif_request req;
    memset(&req, 0xA5, sizeof req);
    REQUIRE(CHECK_RC(mif_request_init(&req, MIF_REQ_ANNOUNCE_PVDS), MIF_OK));
    CHECK_EQ_INT(req.size, sizeof(mif_request));
    CHECK_EQ_INT(req.request_type, MIF_REQ_ANNOUNCE_PVDS);
    CHECK_EQ_INT(req.ifindex, 0);
    CHECK_EQ_INT(req.reserved, 0);
    CHECK_EQ_INT(req.pvd, 0);
    CHECK_EQ_INT(req.element_type, 0);
    CHECK_EQ_INT(req.info_id, 0);
    CHECK_EQ_INT(req.translation_id, 0);
    CHECK(req.name == NULL);
    CHECK_EQ_INT(req.connection_id, 0);
    CHECK_EQ_INT(req.remote_port, 0);
    CHECK_EQ_INT(req.reserved2, 0);
    CHECK_EQ_INT(req.reserved3, 0);
    {
        /* Every byte of the addresses is zero (family 0 = unused). */
        static const unsigned char zero[sizeof(mif_address)];
        CHECK(memcmp(&req.remote, zero, sizeof zero) == 0);
        CHECK(memcmp(&req.local, zero, sizeof zero) == 0);
    }
    /* The type is checked by mif_post_message, not here. */
    CHECK_RC(mif_request_init(&req, 999), MIF_OK);
    CHECK_EQ_INT(req.request_type, 999);
    CHECK_RC(mif_request_init(NULL, MIF_REQ_ANNOUNCE_INTERFACES), MIF_E_NULL_ARGUMENT);
    CHECK_RC(mif_request_init_sized(NULL, sizeof(mif_request), MIF_REQ_ANNOUNCE_INTERFACES), MIF_E_NULL_ARGUMENT);
}

/* The macros are the *_sized functions with this program's struct sizes. */
static void init_macros_pass_sizeof(void)
{
    mif_options a, b;
    mif_request c, d;
    memset(&a, 0x5A, sizeof a);
    memset(&b, 0xA5, sizeof b);
    CHECK_RC(mif_options_init(&a), MIF_OK);
    CHECK_RC(mif_options_init_sized(&b, sizeof b), MIF_OK);
    CHECK(memcmp(&a, &b, sizeof a) == 0);
    memset(&c, 0x5A, sizeof c);
    memset(&d, 0xA5, sizeof d);
    CHECK_RC(mif_request_init(&c, MIF_REQ_TRANSLATE_NAME), MIF_OK);
    CHECK_RC(mif_request_init_sized(&d, sizeof d, MIF_REQ_TRANSLATE_NAME), MIF_OK);
    CHECK(memcmp(&c, &d, sizeof c) == 0);
}

static void open_close_with_options(void)
{
    mif_options opts;
    mif_ctx *ctx = NULL;
    REQUIRE(CHECK_RC(mif_options_init(&opts), MIF_OK));
    REQUIRE(CHECK_RC(mif_open(&opts, &ctx), MIF_OK));
    CHECK(ctx != NULL);
    mif_close(ctx);

    /* root_dir is copied: the caller's string may go away after mif_open. */
    char dir[] = "/";
    opts.root_dir = dir;
    opts.test_netlink_rcvbuf = 1 << 20;
    ctx = NULL;
    REQUIRE(CHECK_RC(mif_open(&opts, &ctx), MIF_OK));
    dir[0] = 'x';
    CHECK_RC(mif_check_message(ctx, 0), MIF_NO_MESSAGE);
    mif_close(ctx);
}

static void two_contexts_are_independent(void)
{
    mif_ctx *a = NULL, *b = NULL;
    REQUIRE(CHECK_RC(mif_open(NULL, &a), MIF_OK));
    if (!CHECK_RC(mif_open(NULL, &b), MIF_OK)) {
        mif_close(a);
        return;
    }
    CHECK(a != b);
    CHECK(mif_fd(a) != mif_fd(b));
    CHECK_RC(check_post(a, MIF_REQ_ANNOUNCE_INTERFACES, 0, 0), MIF_OK);
    CHECK_RC(mif_check_message(a, 0), MIF_OK);
    /* A subscription on one context queues nothing on the other. */
    CHECK_RC(mif_check_message(b, 0), MIF_NO_MESSAGE);
    CHECK_RC(check_post(b, MIF_REQ_STOP_ANNOUNCING_INTERFACES, 0, 0), MIF_E_NOT_SUBSCRIBED);
    mif_close(a);
    CHECK_RC(mif_check_message(b, 0), MIF_NO_MESSAGE);
    mif_close(b);
}

static void fd_is_cloexec_nonblocking_epoll(void)
{
    mif_ctx *ctx = NULL;
    char path[64], target[128];
    ssize_t n;
    REQUIRE(CHECK_RC(mif_open(NULL, &ctx), MIF_OK));
    int fd = mif_fd(ctx);
    if (CHECK(fd >= 0)) {
        CHECK_EQ_INT(mif_fd(ctx), fd); /* stable */
        int fdflags = fcntl(fd, F_GETFD);
        int flflags = fcntl(fd, F_GETFL);
        CHECK(fdflags >= 0 && (fdflags & FD_CLOEXEC));
        CHECK(flflags >= 0 && (flflags & O_NONBLOCK));
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        n = readlink(path, target, sizeof target - 1);
        if (CHECK(n > 0)) {
            target[n] = '\0';
            CHECK_EQ_STR(target, "anon_inode:[eventpoll]");
        }
    }
    CHECK_EQ_INT(mif_fd(NULL), -1);
    mif_close(ctx);
}

static const mif_result all_codes[] = {
    MIF_OK, MIF_NO_MESSAGE,
    MIF_E_NULL_ARGUMENT, MIF_E_BAD_SIZE, MIF_E_UNKNOWN_REQUEST_TYPE, MIF_E_INVALID_ARGUMENT,
    MIF_E_UNKNOWN_INTERFACE, MIF_E_UNKNOWN_PVD, MIF_E_NOT_SUBSCRIBED,
    MIF_E_UNKNOWN_ELEMENT_TYPE, MIF_E_UNKNOWN_INFO_ID,
    MIF_E_BAD_NAME, MIF_E_BAD_ADDRESS, MIF_E_BAD_SELECTION, MIF_E_DUPLICATE_ID, MIF_E_UNKNOWN_TRANSLATION,
    MIF_E_UNKNOWN_CONNECTION, MIF_E_BAD_SOURCE, MIF_E_NO_DEFAULT_PVD, MIF_E_CLOSED, MIF_E_FORKED,
    MIF_E_BUSY, MIF_E_QUEUE_FULL, MIF_E_BAD_DESCRIPTOR, MIF_E_NOT_A_SOCKET, MIF_E_NO_PATH, MIF_E_LIMIT_REACHED,
    MIF_E_ENGINE_FAILED, MIF_E_INTERRUPTED, MIF_E_SYSTEM, MIF_E_INTERNAL, MIF_E_PERMISSION,
};
#define N_CODES (sizeof all_codes / sizeof all_codes[0])

static void strerror_every_code(void)
{
    size_t i, j;
    for (i = 0; i < N_CODES; i++) {
        const char *s = mif_strerror(all_codes[i]);
        if (!CHECK(s != NULL))
            continue;
        if (!CHECK(strlen(s) >= 5) || !CHECK(strcmp(s, "unknown status") != 0))
            check_note("mif_strerror(%d) = \"%s\"", (int)all_codes[i], s);
        CHECK(mif_strerror(all_codes[i]) == s); /* static */
        for (j = 0; j < i; j++) {
            const char *t = mif_strerror(all_codes[j]);
            if (t != NULL && !CHECK(strcmp(s, t) != 0))
                check_note("codes %d and %d share \"%s\"", (int)all_codes[i], (int)all_codes[j], s);
        }
    }
}

static void strerror_unknown_codes(void)
{
    static const mif_result unknown[] = { -1, 2, 99, 109, 199, 216, 299, 305, 999, INT_MAX, INT_MIN };
    size_t i;
    for (i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        const char *s = mif_strerror(unknown[i]);
        if (!CHECK_EQ_STR(s, "unknown status"))
            check_note("mif_strerror(%d)", (int)unknown[i]);
    }
}

static void message_type_names(void)
{
    static const struct { mif_message_type t; const char *name; } names[] = {
        { MIF_MSG_INTERFACE_ANNOUNCEMENT, "interface_announcement" },
        { MIF_MSG_NO_INTERFACE_ANNOUNCEMENT, "no_interface_announcement" },
        { MIF_MSG_PVD_ANNOUNCEMENT, "pvd_announcement" },
        { MIF_MSG_NO_PVD_ANNOUNCEMENT, "no_pvd_announcement" },
        { MIF_MSG_ADDRESS_ANNOUNCEMENT, "address_announcement" },
        { MIF_MSG_NO_ADDRESS_ANNOUNCEMENT, "no_address_announcement" },
        { MIF_MSG_CONFIG_ELEMENT_ANNOUNCEMENT, "config_element_announcement" },
        { MIF_MSG_NO_CONFIG_ELEMENT_ANNOUNCEMENT, "no_config_element_announcement" },
        { MIF_MSG_CONFIGURATION_DATA, "configuration_data" },
        { MIF_MSG_NO_CONFIGURATION_DATA, "no_configuration_data" },
        { MIF_MSG_NAME_TRANSLATION, "name_translation" },
        { MIF_MSG_NAME_TRANSLATION_DONE, "name_translation_done" },
        { MIF_MSG_CONNECTED, "connected" },
        { MIF_MSG_NOT_CONNECTED, "not_connected" },
        { MIF_MSG_PVD_CONFIGURATION_COMPLETE, "pvd_configuration_complete" },
        { MIF_MSG_CONFIGURATION_LEARNING, "configuration_learning" },
        { MIF_MSG_QUEUE_OVERFLOW, "queue_overflow" },
        { MIF_MSG_LOG, "log" },
        { MIF_MSG_INTERFACE_GOING_AWAY, "interface_going_away" },
        { MIF_MSG_INTERFACE_GOING_AWAY_CANCELLED, "interface_going_away_cancelled" },
        { MIF_MSG_INTERFACE_GOING_UP, "interface_going_up" },
        { MIF_MSG_CONNECTION_GOING_AWAY, "connection_going_away" },
        { MIF_MSG_CONNECTION_GOING_AWAY_CANCELLED, "connection_going_away_cancelled" },
        { MIF_MSG_CONNECTION_GONE, "connection_gone" },
        { MIF_MSG_CONNECTION_STATES, "connection_states" },
        { MIF_MSG_WANT_CONNECT_OUTCOME, "want_connect_outcome" },
        { MIF_MSG_ENGINE_FAILED, "engine_failed" },
    };
    static const mif_message_type unknown[] = { 0, 27, 99, 101, 1000, 0xffffffffu };
    size_t i;
    for (i = 0; i < sizeof names / sizeof names[0]; i++)
        CHECK_EQ_STR(mif_message_type_name(names[i].t), names[i].name);
    for (i = 0; i < sizeof unknown / sizeof unknown[0]; i++)
        CHECK_EQ_STR(mif_message_type_name(unknown[i]), "unknown");
}

static void request_type_names(void)
{
    static const struct { mif_request_type t; const char *name; } names[] = {
        { MIF_REQ_ANNOUNCE_INTERFACES, "announce_interfaces" },
        { MIF_REQ_STOP_ANNOUNCING_INTERFACES, "stop_announcing_interfaces" },
        { MIF_REQ_ANNOUNCE_PVDS, "announce_pvds" },
        { MIF_REQ_STOP_ANNOUNCING_PVDS, "stop_announcing_pvds" },
        { MIF_REQ_ANNOUNCE_ADDRESSES, "announce_addresses" },
        { MIF_REQ_STOP_ANNOUNCING_ADDRESSES, "stop_announcing_addresses" },
        { MIF_REQ_ANNOUNCE_CONFIG_ELEMENTS, "announce_config_elements" },
        { MIF_REQ_STOP_ANNOUNCING_CONFIG_ELEMENTS, "stop_announcing_config_elements" },
        { MIF_REQ_GET_CONFIGURATION_DATA, "get_configuration_data" },
        { MIF_REQ_TRANSLATE_NAME, "translate_name" },
        { MIF_REQ_STOP_TRANSLATING_NAME, "stop_translating_name" },
        { MIF_REQ_CONNECT_TO_ADDRESS, "connect_to_address" },
        { MIF_REQ_CONNECT_FROM_ADDRESS, "connect_from_address" },
        { MIF_REQ_CONNECT_TO_PVD, "connect_to_pvd" },
        { MIF_REQ_CANCEL_CONNECT, "cancel_connect" },
        { MIF_REQ_CONNECT_TO_NAME, "connect_to_name" },
        { MIF_REQ_WATCH_CONNECTION, "watch_connection" },
        { MIF_REQ_WATCH_SOCKET, "watch_socket" },
        { MIF_REQ_STOP_WATCHING_CONNECTION, "stop_watching_connection" },
        { MIF_REQ_CONNECTION_IDLE, "connection_idle" },
        { MIF_REQ_CONNECTION_CAN_BE_BROKEN, "connection_can_be_broken" },
        { MIF_REQ_CONNECTION_ACTIVE, "connection_active" },
        { MIF_REQ_GET_CONNECTION_STATES, "get_connection_states" },
        { MIF_REQ_WANT_CONNECT, "want_connect" },
    };
    static const mif_request_type unknown[] = { 0, 25, 26, 100, 999, 0xffffffffu };
    size_t i;
    for (i = 0; i < sizeof names / sizeof names[0]; i++)
        CHECK_EQ_STR(mif_request_type_name(names[i].t), names[i].name);
    for (i = 0; i < sizeof unknown / sizeof unknown[0]; i++)
        CHECK_EQ_STR(mif_request_type_name(unknown[i]), "unknown");
}

static void reason_names(void)
{
    CHECK_EQ_STR(mif_going_away_reason_name(MIF_GOING_AWAY_CARRIER_LOST), "carrier_lost");
    CHECK_EQ_STR(mif_going_away_reason_name(MIF_GOING_AWAY_ADDRESSES_DEPRECATED), "addresses_deprecated");
    CHECK_EQ_STR(mif_going_away_reason_name(MIF_GOING_AWAY_LIFETIME_ENDING), "lifetime_ending");
    CHECK_EQ_STR(mif_going_away_reason_name(MIF_GOING_AWAY_ROUTER_WITHDRAWN), "router_withdrawn");
    CHECK_EQ_STR(mif_going_away_reason_name(MIF_GOING_AWAY_ROUTER_LIFETIME_ENDING), "router_lifetime_ending");
    CHECK_EQ_STR(mif_going_away_reason_name(0), "unknown");
    CHECK_EQ_STR(mif_going_away_reason_name(MIF_GOING_AWAY_LEASE_ENDING), "lease_ending");
    CHECK_EQ_STR(mif_going_away_reason_name(7), "unknown");
    CHECK_EQ_STR(mif_going_up_reason_name(MIF_GOING_UP_NO_CARRIER), "no_carrier");
    CHECK_EQ_STR(mif_going_up_reason_name(MIF_GOING_UP_NO_ADDRESS), "no_address");
    CHECK_EQ_STR(mif_going_up_reason_name(MIF_GOING_UP_CONFIGURING), "configuring");
    CHECK_EQ_STR(mif_going_up_reason_name(4), "unknown");
}

static void element_type_names(void)
{
    static const struct { uint32_t t; const char *name; } names[] = {
        { MIF_ELEMENT_ANY, "any" }, { MIF_ELEMENT_RA, "ra" }, { MIF_ELEMENT_DHCPV4, "dhcpv4" },
        { MIF_ELEMENT_DHCPV6, "dhcpv6" }, { MIF_ELEMENT_STATIC, "static" },
        { MIF_ELEMENT_SYSTEM, "system" },
    };
    static const uint32_t unknown[] = { 6, 100, 0xffffffffu };
    size_t i;
    for (i = 0; i < sizeof names / sizeof names[0]; i++)
        CHECK_EQ_STR(mif_element_type_name(names[i].t), names[i].name);
    for (i = 0; i < sizeof unknown / sizeof unknown[0]; i++)
        CHECK_EQ_STR(mif_element_type_name(unknown[i]), "unknown");
}

static void translation_status_names(void)
{
    static const struct { uint32_t t; const char *name; } names[] = {
        { MIF_TRANSLATION_DONE, "done" }, { MIF_TRANSLATION_NO_SUCH_NAME, "no_such_name" },
        { MIF_TRANSLATION_NO_DATA, "no_data" }, { MIF_TRANSLATION_TIMEOUT, "timeout" },
        { MIF_TRANSLATION_SERVER_FAILURE, "server_failure" },
        { MIF_TRANSLATION_NO_SERVERS, "no_servers" }, { MIF_TRANSLATION_CANCELLED, "cancelled" },
    };
    static const uint32_t unknown[] = { 0, 8, 100, 0xffffffffu };
    size_t i;
    for (i = 0; i < sizeof names / sizeof names[0]; i++) {
        CHECK_EQ_STR(mif_translation_status_name(names[i].t), names[i].name);
        CHECK(mif_translation_status_name(names[i].t) == mif_translation_status_name(names[i].t));
    }
    for (i = 0; i < sizeof unknown / sizeof unknown[0]; i++)
        CHECK_EQ_STR(mif_translation_status_name(unknown[i]), "unknown");
}

static mif_address make_addr(const char *text, uint32_t scope_id)
{
    mif_address a;
    memset(&a, 0, sizeof a);
    if (inet_pton(AF_INET, text, a.bytes) == 1) {
        a.family = MIF_FAMILY_IPV4;
    } else if (inet_pton(AF_INET6, text, a.bytes) == 1) {
        a.family = MIF_FAMILY_IPV6;
        a.scope_id = scope_id;
    }
    return a;
}

static void address_format_ok(void)
{
    static const struct { const char *in; uint32_t scope; const char *out; } v[] = {
        { "198.51.100.7", 0, "198.51.100.7" },
        { "203.0.113.255", 0, "203.0.113.255" },
        { "0.0.0.0", 0, "0.0.0.0" },
        { "fd6d:6966:a::1", 0, "fd6d:6966:a::1" },
        { "fd6d:6966:0:0:1:0:0:1", 0, "fd6d:6966::1:0:0:1" },
        { "::", 0, "::" },
        { "::1", 0, "::1" },
        { "fe80::1", 3, "fe80::1%3" },
        { "fe80::a8bb:ccff:fedd:eeff", 4294967295u, "fe80::a8bb:ccff:fedd:eeff%4294967295" },
        { "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 4294967295u,
          "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff%4294967295" },
    };
    size_t i;
    for (i = 0; i < sizeof v / sizeof v[0]; i++) {
        mif_address a = make_addr(v[i].in, v[i].scope);
        char buf[MIF_ADDRESS_TEXT_SIZE];
        memset(buf, 'X', sizeof buf);
        if (!CHECK(a.family != 0))
            continue;
        if (CHECK_RC(mif_address_format(&a, buf, sizeof buf), MIF_OK))
            CHECK_EQ_STR(buf, v[i].out);
        /* Exactly enough room (text + NUL) is enough. */
        char exact[MIF_ADDRESS_TEXT_SIZE];
        size_t need = strlen(v[i].out) + 1;
        CHECK(need <= MIF_ADDRESS_TEXT_SIZE);
        memset(exact, 'X', sizeof exact);
        if (CHECK_RC(mif_address_format(&a, exact, need), MIF_OK))
            CHECK_EQ_STR(exact, v[i].out);
        CHECK(exact[need] == 'X'); /* nothing written past len */
    }
}

static int all_x(const char *buf, size_t len)
{
    size_t i;
    for (i = 0; i < len; i++)
        if (buf[i] != 'X')
            return 0;
    return 1;
}

static void address_format_errors(void)
{
    static const struct { const char *in; uint32_t scope; } v[] = {
        { "198.51.100.7", 0 }, { "fd6d:6966:a::1", 0 }, { "fe80::1", 3 },
    };
    size_t i, len;
    char buf[MIF_ADDRESS_TEXT_SIZE];
    for (i = 0; i < sizeof v / sizeof v[0]; i++) {
        mif_address a = make_addr(v[i].in, v[i].scope);
        char full[MIF_ADDRESS_TEXT_SIZE];
        REQUIRE(CHECK_RC(mif_address_format(&a, full, sizeof full), MIF_OK));
        /* Every length below text + NUL: invalid, and the buffer untouched. */
        for (len = 0; len <= strlen(full); len++) {
            memset(buf, 'X', sizeof buf);
            if (!CHECK_RC(mif_address_format(&a, buf, len), MIF_E_INVALID_ARGUMENT) ||
                !CHECK(all_x(buf, sizeof buf)))
                check_note("address %s, len %zu", full, len);
        }
    }
    /* Unknown families. */
    static const uint8_t families[] = { 0, 2, 5, 10, 255 };
    for (i = 0; i < sizeof families; i++) {
        mif_address a = make_addr("198.51.100.7", 0);
        a.family = families[i];
        memset(buf, 'X', sizeof buf);
        CHECK_RC(mif_address_format(&a, buf, sizeof buf), MIF_E_INVALID_ARGUMENT);
        CHECK(all_x(buf, sizeof buf));
    }
    /* NULL pointers. */
    mif_address a = make_addr("198.51.100.7", 0);
    CHECK_RC(mif_address_format(NULL, buf, sizeof buf), MIF_E_NULL_ARGUMENT);
    CHECK_RC(mif_address_format(&a, NULL, sizeof buf), MIF_E_NULL_ARGUMENT);
}

static void version_string(void)
{
    const char *v = mif_version();
    regex_t re;
    REQUIRE(CHECK(v != NULL));
    CHECK(v[0] != '\0');
    REQUIRE(CHECK(regcomp(&re, "^[0-9]+\\.[0-9]+\\.[0-9]+([-+][0-9A-Za-z.+-]+)?$", REG_EXTENDED | REG_NOSUB) == 0));
    if (!CHECK(regexec(&re, v, 0, NULL, 0) == 0))
        check_note("mif_version() = \"%s\"", v);
    regfree(&re);
    CHECK(mif_version() == v); /* static */
}

#if MIF_VERSION_NUM < 0x000100
#error "MIF_VERSION_NUM must be usable in #if"
#endif

static void version_numbers(void)
{
    char want[32];
    /* The header's numbers, the running library's number and its string agree (and
     * the library's build checks them against Cargo.toml). */
    CHECK_EQ_INT(mif_version_num(), MIF_VERSION_NUM);
    CHECK_EQ_INT(MIF_VERSION_NUM, (MIF_VERSION_MAJOR << 16) | (MIF_VERSION_MINOR << 8) | MIF_VERSION_PATCH);
    snprintf(want, sizeof want, "%u.%u.%u", (unsigned)MIF_VERSION_MAJOR, (unsigned)MIF_VERSION_MINOR,
             (unsigned)MIF_VERSION_PATCH);
    CHECK_EQ_STR(mif_version(), want);
}

static void address_parse(void)
{
    static const struct { const char *text; mif_result want; const char *formatted; } cases[] = {
        { "198.51.100.7", MIF_OK, "198.51.100.7" },
        { "fd6d:6966:a::53", MIF_OK, "fd6d:6966:a::53" },
        { "FD6D:6966:A:0:0:0:0:53", MIF_OK, "fd6d:6966:a::53" },
        { "fe80::1%3", MIF_OK, "fe80::1%3" },
        { "fe80::1%lo", MIF_OK, "fe80::1%1" }, /* lo is ifindex 1 in every namespace */
        { "::", MIF_OK, "::" },
        { "", MIF_E_INVALID_ARGUMENT, NULL },
        { "198.51.100", MIF_E_INVALID_ARGUMENT, NULL },
        { "198.51.100.256", MIF_E_INVALID_ARGUMENT, NULL },
        { " 198.51.100.7", MIF_E_INVALID_ARGUMENT, NULL },
        { "198.51.100.7 ", MIF_E_INVALID_ARGUMENT, NULL },
        { "198.51.100.7%1", MIF_E_INVALID_ARGUMENT, NULL },
        { "fe80::1%", MIF_E_INVALID_ARGUMENT, NULL },
        { "fe80::1%4294967296", MIF_E_INVALID_ARGUMENT, NULL },
        { "fe80::1%no-such-if0", MIF_E_UNKNOWN_INTERFACE, NULL },
        { "fd6d::1::2", MIF_E_INVALID_ARGUMENT, NULL },
        { "example.com", MIF_E_INVALID_ARGUMENT, NULL },
    };
    size_t i;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        mif_address a;
        char text[MIF_ADDRESS_TEXT_SIZE];
        memset(&a, 0xAB, sizeof a);
        if (!CHECK_RC(mif_address_parse(cases[i].text, &a), cases[i].want)) {
            check_note("mif_address_parse(\"%s\")", cases[i].text);
            continue;
        }
        if (cases[i].formatted == NULL) {
            CHECK(a.family == 0xAB); /* untouched on failure */
            continue;
        }
        CHECK(a.reserved[0] == 0 && a.reserved[1] == 0 && a.reserved[2] == 0);
        CHECK_RC(mif_address_format(&a, text, sizeof text), MIF_OK);
        CHECK_EQ_STR(text, cases[i].formatted);
    }
    CHECK_RC(mif_address_parse(NULL, NULL), MIF_E_NULL_ARGUMENT);
    CHECK_RC(mif_address_parse("198.51.100.7", NULL), MIF_E_NULL_ARGUMENT);
}

/* After MIF_E_SYSTEM, errno is the failing system call's: binding a socket that is
 * already bound fails in bind() with EINVAL. */
static void errno_after_system_error(void)
{
    mif_ctx *ctx = NULL;
    struct sockaddr_in sin;
    int fd;
    uint64_t pvd;
    mif_result rc;
    REQUIRE(CHECK_RC(mif_open(NULL, &ctx), MIF_OK));
    pvd = check_pvd_of(ctx, "lo", MIF_FAMILY_IPV4);
    fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (CHECK(pvd != 0 && fd >= 0) && CHECK(bind(fd, (struct sockaddr *)&sin, sizeof sin) == 0)) {
        errno = 0;
        rc = mif_bind_socket(ctx, fd, pvd, 1);
        CHECK_RC(rc, MIF_E_SYSTEM);
        CHECK_EQ_INT(errno, EINVAL);
    }
    if (fd >= 0)
        close(fd);
    mif_close(ctx);
}

static void null_free_and_close_are_harmless(void)
{
    mif_message_free(NULL);
    mif_close(NULL);
    mif_message_free(NULL);
    mif_close(NULL);
    CHECK(1);
}

int main(void)
{
    check_watchdog(120);
    RUN_CASE(version_numbers);
    RUN_CASE(address_parse);
    RUN_CASE(open_close_null_options);
    RUN_CASE(options_init_defaults);
    RUN_CASE(request_init_defaults);
    RUN_CASE(init_macros_pass_sizeof);
    RUN_CASE(open_close_with_options);
    RUN_CASE(two_contexts_are_independent);
    RUN_CASE(fd_is_cloexec_nonblocking_epoll);
    RUN_CASE(strerror_every_code);
    RUN_CASE(strerror_unknown_codes);
    RUN_CASE(message_type_names);
    RUN_CASE(request_type_names);
    RUN_CASE(element_type_names);
    RUN_CASE(reason_names);
    RUN_CASE(translation_status_names);
    RUN_CASE(address_format_ok);
    RUN_CASE(address_format_errors);
    RUN_CASE(version_string);
    RUN_CASE(errno_after_system_error);
    RUN_CASE(null_free_and_close_are_harmless);
    return check_done();
}
