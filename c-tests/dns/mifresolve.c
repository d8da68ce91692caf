/*
 * mifresolve: a test driver for libmif's name translation, through <mif.h> only.
 *
 *   mifresolve --pvd-of IFNAME[/ipv4|/ipv6] [options] NAME...
 *   mifresolve --pvd-of IFNAME --self-test [options]
 *
 * Finds the provisioning domain "IFNAME/ipv4" (default family) by subscribing to
 * interfaces and that interface's PvDs (the initial iteration is queued before the
 * post returns), ends both subscriptions, then posts MIF_REQ_TRANSLATE_NAME for every
 * NAME (translation ids --id-base, --id-base+1, ...) and prints one JSON line per event:
 *
 *   {"msg":"posted","translation_id":1,"query":"host","result":0,"result_name":"..."}
 *   {"msg":"name_translation","translation_id":1,"pvd":3,"pvd_name":"mif0/ipv4",
 *    "name":"host.example.com","address":"198.51.100.7","ttl":300,"source":"dns"}
 *   {"msg":"name_translation_done","translation_id":1,"pvd":3,"pvd_name":"mif0/ipv4",
 *    "name":"host.example.com","status":"done"}
 *   {"msg":"stop_posted","translation_id":1,"result":0}
 *   {"msg":"end","fd_wakes":N,"fd_wakes_empty":M}
 *                                      (every translation done, linger over; how often
 *                                      poll() on mif_fd woke, and how often then no
 *                                      message came)
 *
 * Options:
 *   --root DIR            mif_options.root_dir (static file DIR/etc/mif.conf, DIR/etc/hosts)
 *   --pvd-of IF[/FAM]     the PvD to translate on (FAM ipv4 by default)
 *   --pvd-id N            use this PvD id instead (no lookup; for unknown-PvD tests)
 *   --timeout-ms N        mif_options.dns_timeout_ms
 *   --tries N             mif_options.dns_tries
 *   --no-bindtodevice     mif_options.test_flags |= MIF_TEST_NO_BINDTODEVICE
 *   --wait-fd             wait with poll() on mif_fd() instead of mif_check_message(),
 *                         asked for before the first post as an event loop would: with
 *                         up to 4 translations out, mif_get_message then reads the DNS
 *                         answers that woke it (fd mode); with more, the engine does
 *   --get-after-first     wait in mif_check_message until the second NAME is posted, then
 *                         by sleeping 10 ms between calls of mif_get_message, never
 *                         waiting on the library (with --one-by-one: the first name's
 *                         wait leaves the DNS sockets out of the engine's poll, the
 *                         second's post must give them back)
 *   --engine-leaves-dns   mif_options.test_flags |= MIF_TEST_ENGINE_LEAVES_DNS: only
 *                         application threads read answers
 *   --ask-fd              ask for mif_fd before the first post (fd mode) but wait in
 *                         mif_check_message
 *   --wait-forever        wait in mif_check_message(-1) (not in slices of at most 1 s):
 *                         a wait that nothing wakes hangs, for the test's own timeout
 *                         (refused with --stop-after-ms, --stop-when-file, --wait-fd)
 *   --stop-after-ms N     post MIF_REQ_STOP_TRANSLATING_NAME for every translation not
 *                         done N ms after the posts
 *   --stop-when-file P    the same, as soon as file P exists (checked every 10 ms): lets a
 *                         test stop translations once it has seen their queries leave
 *   --linger-ms N         after the last translation is done, keep reading (and printing)
 *                         messages for N ms more, so that a message that must not come
 *                         has had its chance
 *   --learning-ms N       mif_options.config_learning_ms (how long a PvD's configuration
 *                         may still be arriving; translations wait for it)
 *   --wait-ms N           give up (exit 3) if not all done after N ms (default 30000);
 *                         a guard against hanging, not a timing assertion
 *   --id-base N           first translation id (default 1)
 *   --one-by-one          post each NAME only after the previous one's translation is done
 *                         (the same name twice then shows the cache)
 *   --no-cache            mif_options.flags |= MIF_OPTION_NO_DNS_CACHE
 *   --self-test           the bad-input table (see self_test()): needs a PvD whose DNS
 *                         server never answers, so that translations stay outstanding
 *
 * Exit status: 0 fine, 1 a self-test case failed, 2 usage or setup error, 3 gave up waiting.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mif.h"
#include "../driver.h"

#define MAX_NAMES 64

static void fail_setup(const char *what, mif_result r)
{
    json_setup_error("msg", what, r);
}

static const char *source_name(uint32_t s)
{
    switch (s) {
    case MIF_NAME_SOURCE_HOSTS: return "hosts";
    case MIF_NAME_SOURCE_DNS: return "dns";
    case MIF_NAME_SOURCE_CACHE: return "cache";
    default: return "unknown";
    }
}

/* Translation ids and their state. An id may be used again once stopped (self-test). */
struct slot {
    uint64_t id;
    unsigned pending;   /* accepted posts of this id whose done has not arrived yet */
    bool stopped;       /* its latest use was stopped (self-test) */
};
static struct slot slots[MAX_NAMES];
static size_t nslots;

static struct slot *slot_of(uint64_t id)
{
    for (size_t i = 0; i < nslots; i++)
        if (slots[i].id == id)
            return &slots[i];
    return NULL;
}

static size_t outstanding_count(void)
{
    size_t n = 0;
    for (size_t i = 0; i < nslots; i++)
        n += slots[i].pending;
    return n;
}

/* Records an accepted post of `id`. */
static void accepted(uint64_t id)
{
    struct slot *s = slot_of(id);
    if (!s && nslots < MAX_NAMES) {
        s = &slots[nslots++];
        s->id = id;
    }
    if (s) {
        s->pending++;
        s->stopped = false;
    }
}

/* Messages taken so far (print_message counts them). */
static size_t messages_taken;

/* Prints a message; marks its translation done. Returns false on engine failure. */
static bool print_message(const mif_message *m)
{
    messages_taken++;
    char addr[MIF_ADDRESS_TEXT_SIZE];
    switch (m->msg_type) {
    case MIF_MSG_NAME_TRANSLATION:
        if (mif_address_format(&m->address, addr, sizeof addr) != MIF_OK)
            snprintf(addr, sizeof addr, "?");
        printf("{\"msg\":\"name_translation\",\"translation_id\":%" PRIu64 ",\"pvd\":%" PRIu64
               ",\"pvd_name\":", m->translation_id, m->pvd);
        json_quoted(m->pvd_name);
        printf(",\"name\":");
        json_quoted(m->name);
        printf(",\"address\":\"%s\",\"ttl\":%" PRIu32 ",\"source\":\"%s\"}\n", addr, m->ttl,
               source_name(m->name_source));
        break;
    case MIF_MSG_NAME_TRANSLATION_DONE: {
        struct slot *s = slot_of(m->translation_id);
        printf("{\"msg\":\"name_translation_done\",\"translation_id\":%" PRIu64 ",\"pvd\":%" PRIu64
               ",\"pvd_name\":", m->translation_id, m->pvd);
        json_quoted(m->pvd_name);
        printf(",\"name\":");
        json_quoted(m->name);
        printf(",\"status\":\"%s\"}\n", mif_translation_status_name(m->translation_status));
        if (s && s->pending > 0)
            s->pending--;
        break;
    }
    case MIF_MSG_ENGINE_FAILED:
        printf("{\"msg\":\"engine_failed\",\"status\":%d,\"text\":", (int)m->status);
        json_quoted(m->text);
        printf("}\n");
        fflush(stdout);
        return false;
    default:
        printf("{\"msg\":\"%s\"}\n", mif_message_type_name(m->msg_type));
        break;
    }
    fflush(stdout);
    return true;
}

/* The id of PvD `pvd_name` on interface `ifname`, or 0. */
static uint64_t find_pvd(mif_ctx *ctx, const char *ifname, const char *pvd_name)
{
    mif_message *m;
    uint32_t ifindex = 0;
    uint64_t pvd = 0;
    mif_result r = post_simple(ctx, MIF_REQ_ANNOUNCE_INTERFACES, 0);
    if (r != MIF_OK) {
        fail_setup("announce_interfaces", r);
        return 0;
    }
    while (mif_get_message(ctx, &m) == MIF_OK) {
        if (m->msg_type == MIF_MSG_INTERFACE_ANNOUNCEMENT && strncmp(m->ifname, ifname, sizeof m->ifname) == 0)
            ifindex = m->ifindex;
        mif_message_free(m);
    }
    if (ifindex != 0) {
        r = post_simple(ctx, MIF_REQ_ANNOUNCE_PVDS, ifindex);
        if (r != MIF_OK) {
            fail_setup("announce_pvds", r);
        } else {
            while (mif_get_message(ctx, &m) == MIF_OK) {
                if (m->msg_type == MIF_MSG_PVD_ANNOUNCEMENT && m->ifindex == ifindex
                    && strncmp(m->pvd_name, pvd_name, sizeof m->pvd_name) == 0)
                    pvd = m->pvd;
                mif_message_free(m);
            }
            post_simple(ctx, MIF_REQ_STOP_ANNOUNCING_PVDS, ifindex);
        }
    }
    post_simple(ctx, MIF_REQ_STOP_ANNOUNCING_INTERFACES, 0);
    /* Anything else the engine queued meanwhile (nothing about names yet). */
    while (mif_get_message(ctx, &m) == MIF_OK)
        mif_message_free(m);
    return pvd;
}

/* ------------------------------------------------------------------ self-test */

static int self_failures;

static void expect_result(const char *label, mif_result got, mif_result want)
{
    bool ok = got == want;
    printf("{\"msg\":\"self_test\",\"case\":");
    json_quoted(label);
    printf(",\"want\":%d,\"want_name\":", (int)want);
    json_quoted(mif_strerror(want));
    printf(",\"got\":%d,\"got_name\":", (int)got);
    json_quoted(mif_strerror(got));
    printf(",\"ok\":%s}\n", ok ? "true" : "false");
    fflush(stdout);
    if (!ok)
        self_failures++;
}

/* A name from labels of the given lengths (filled with letters), optional final dot. */
static void make_name(char *buf, size_t cap, const int *lens, size_t n, bool dot)
{
    size_t pos = 0;
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && pos + 1 < cap)
            buf[pos++] = '.';
        for (int k = 0; k < lens[i] && pos + 1 < cap; k++)
            buf[pos++] = (char)('a' + (i % 26));
    }
    if (dot && pos + 1 < cap)
        buf[pos++] = '.';
    buf[pos] = '\0';
}

/* Posts `name` as translation `id` on `pvd` expecting `want`; an accepted one is remembered
 * (to be stopped later). */
static void try_name(mif_ctx *ctx, uint64_t pvd, uint64_t id, const char *label, const char *name, mif_result want)
{
    mif_result r = post_translate(ctx, pvd, id, name);
    expect_result(label, r, want);
    if (r == MIF_OK)
        accepted(id);
}

/* The table. Translations that are accepted must stay outstanding until stopped: the
 * PvD's server must not answer (the runner blackholes it) and the timeout be long. */
static void self_test(mif_ctx *ctx, uint64_t pvd)
{
    char name[400];
    uint64_t id = 1000;

    try_name(ctx, pvd, id++, "empty name", "", MIF_E_BAD_NAME);
    try_name(ctx, pvd, id++, "only a dot", ".", MIF_E_BAD_NAME);
    try_name(ctx, pvd, id++, "empty label a..b", "a..b", MIF_E_BAD_NAME);
    try_name(ctx, pvd, id++, "leading dot", ".a.example", MIF_E_BAD_NAME);
    try_name(ctx, pvd, id++, "two trailing dots", "a.example..", MIF_E_BAD_NAME);
    {
        int l64[] = {64, 7};
        make_name(name, sizeof name, l64, 2, false);
        try_name(ctx, pvd, id++, "64-octet label", name, MIF_E_BAD_NAME);
        int l63[] = {63, 7};
        make_name(name, sizeof name, l63, 2, false);
        try_name(ctx, pvd, id++, "63-octet label (accepted)", name, MIF_OK);
    }
    {
        int l254[] = {63, 63, 63, 62};   /* 251 + 3 dots = 254 */
        make_name(name, sizeof name, l254, 4, false);
        try_name(ctx, pvd, id++, "254-octet name", name, MIF_E_BAD_NAME);
        make_name(name, sizeof name, l254, 4, true);
        try_name(ctx, pvd, id++, "254-octet name with a trailing dot", name, MIF_E_BAD_NAME);
        int l253[] = {63, 63, 63, 61};   /* 250 + 3 dots = 253 */
        make_name(name, sizeof name, l253, 4, false);
        try_name(ctx, pvd, id++, "253-octet name (accepted)", name, MIF_OK);
        make_name(name, sizeof name, l253, 4, true);
        try_name(ctx, pvd, id++, "253-octet name with a trailing dot (accepted)", name, MIF_OK);
    }
    try_name(ctx, pvd, id++, "invalid UTF-8 (ff fe)", "\xff\xfe.example", MIF_E_BAD_NAME);
    try_name(ctx, pvd, id++, "truncated UTF-8 (c3)", "b\xc3.example", MIF_E_BAD_NAME);
    try_name(ctx, pvd, id++, "overlong UTF-8 (c0 af)", "\xc0\xaf.example", MIF_E_BAD_NAME);
    try_name(ctx, pvd, id++, "UTF-16 surrogate in UTF-8 (ed a0 80)", "\xed\xa0\x80.example", MIF_E_BAD_NAME);
    {
        /* 57 x U+00FC is xn-- plus 59 = 63 octets; 58 is 64. */
        size_t pos = 0;
        for (int i = 0; i < 57; i++) {
            name[pos++] = '\xc3';
            name[pos++] = '\xbc';
        }
        strcpy(name + pos, ".example");
        try_name(ctx, pvd, id++, "IDNA label of 63 octets after punycode (accepted)", name, MIF_OK);
        pos = 0;
        for (int i = 0; i < 58; i++) {
            name[pos++] = '\xc3';
            name[pos++] = '\xbc';
        }
        strcpy(name + pos, ".example");
        try_name(ctx, pvd, id++, "IDNA label of 64 octets after punycode", name, MIF_E_BAD_NAME);
    }
    try_name(ctx, pvd, id++, "IDNA name b\\u00fccher.example (accepted)", "b\xc3\xbc" "cher.example", MIF_OK);

    /* NULL name. */
    {
        mif_request req;
        mif_request_init(&req, MIF_REQ_TRANSLATE_NAME);
        req.pvd = pvd;
        req.translation_id = id++;
        req.name = NULL;
        expect_result("NULL name", mif_post_message(ctx, &req), MIF_E_NULL_ARGUMENT);
    }
    /* Unknown PvDs. */
    try_name(ctx, 0, id++, "PvD id 0", "host.example.com", MIF_E_UNKNOWN_PVD);
    try_name(ctx, UINT64_MAX, id++, "PvD id UINT64_MAX", "host.example.com", MIF_E_UNKNOWN_PVD);
    try_name(ctx, pvd + 1000000, id++, "PvD id never announced", "host.example.com", MIF_E_UNKNOWN_PVD);

    /* Duplicate ids and stops. */
    uint64_t hold = 7;
    try_name(ctx, pvd, hold, "hold translation (accepted)", "host.example.com", MIF_OK);
    expect_result("duplicate outstanding id", post_translate(ctx, pvd, hold, "other.example.com"), MIF_E_DUPLICATE_ID);
    expect_result("duplicate outstanding id, bad name (name checked first)",
                  post_translate(ctx, pvd, hold, "a..b"), MIF_E_BAD_NAME);
    expect_result("duplicate outstanding id on an unknown PvD", post_translate(ctx, 0, hold, "x.example"),
                  MIF_E_UNKNOWN_PVD);
    expect_result("stop of an unknown id", post_stop_translating(ctx, 424242), MIF_E_UNKNOWN_TRANSLATION);
    expect_result("stop of a refused translation's id", post_stop_translating(ctx, 1000), MIF_E_UNKNOWN_TRANSLATION);
    expect_result("stop of the hold translation", post_stop_translating(ctx, hold), MIF_OK);
    slot_of(hold)->stopped = true;
    /* Its cancelled Done is not taken yet: a second stop replaces it (still one Done). */
    expect_result("second stop of the same id, its Done untaken", post_stop_translating(ctx, hold), MIF_OK);
    /* The cancelled translation's id is free again at once. */
    try_name(ctx, pvd, hold, "reuse of the stopped id (accepted)", "host.example.com", MIF_OK);

    /* Stop every accepted translation: each gets exactly one done "cancelled". */
    for (size_t i = 0; i < nslots; i++) {
        if (slots[i].stopped)
            continue;
        slots[i].stopped = true;
        mif_result r = post_stop_translating(ctx, slots[i].id);
        char label[64];
        snprintf(label, sizeof label, "stop of accepted translation %" PRIu64, slots[i].id);
        expect_result(label, r, MIF_OK);
    }
}

/* ------------------------------------------------------------------ main */

static void post_name(mif_ctx *ctx, uint64_t pvd, uint64_t id, const char *name)
{
    mif_result r = post_translate(ctx, pvd, id, name);
    printf("{\"msg\":\"posted\",\"translation_id\":%" PRIu64 ",\"query\":", id);
    json_quoted(name);
    printf(",");
    json_result(r);
    printf("}\n");
    fflush(stdout);
    if (r == MIF_OK)
        accepted(id);
}

static void usage(void)
{
    fprintf(stderr, "usage: mifresolve --pvd-of IF[/ipv4|/ipv6] [--root DIR] [--timeout-ms N] [--tries N]\n"
                    "       [--no-bindtodevice] [--wait-fd] [--stop-after-ms N] [--stop-when-file P] [--linger-ms N] [--wait-ms N]\n"
                    "       [--learning-ms N] [--one-by-one] [--no-cache] [--get-after-first]\n"
                    "       [--engine-leaves-dns] [--ask-fd] [--wait-forever]\n"
                    "       [--id-base N] [--pvd-id N] (--self-test | NAME...)\n");
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"root", required_argument, 0, 'r'},
        {"pvd-of", required_argument, 0, 'p'},
        {"pvd-id", required_argument, 0, 'P'},
        {"timeout-ms", required_argument, 0, 't'},
        {"tries", required_argument, 0, 'n'},
        {"no-bindtodevice", no_argument, 0, 'B'},
        {"wait-fd", no_argument, 0, 'F'},
        {"get-after-first", no_argument, 0, 'G'},
        {"engine-leaves-dns", no_argument, 0, 'E'},
        {"ask-fd", no_argument, 0, 'K'},
        {"wait-forever", no_argument, 0, 'W'},
        {"stop-after-ms", required_argument, 0, 's'},
        {"linger-ms", required_argument, 0, 'l'},
        {"stop-when-file", required_argument, 0, 'f'},
        {"wait-ms", required_argument, 0, 'w'},
        {"learning-ms", required_argument, 0, 'L'},
        {"id-base", required_argument, 0, 'i'},
        {"self-test", no_argument, 0, 'S'},
        {"one-by-one", no_argument, 0, 'O'},
        {"no-cache", no_argument, 0, 'C'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    const char *root = NULL, *pvd_of = NULL, *stop_file = NULL;
    uint64_t timeout_ms = 0, tries = 0, stop_after = 0, linger = 0, wait_ms = 30000, id_base = 1, pvd_id = 0;
    uint64_t learning_ms = 0;
    bool no_btd = false, self = false, have_stop = false, have_pvd_id = false, wait_fd = false;
    bool one_by_one = false, no_cache = false, get_after_first = false;
    bool engine_leaves_dns = false, ask_fd = false, wait_forever = false;
    int c;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        uint64_t *target = NULL;
        switch (c) {
        case 'r': root = optarg; break;
        case 'p': pvd_of = optarg; break;
        case 'P': target = &pvd_id; have_pvd_id = true; break;
        case 't': target = &timeout_ms; break;
        case 'n': target = &tries; break;
        case 'B': no_btd = true; break;
        case 'F': wait_fd = true; break;
        case 'G': get_after_first = true; break;
        case 'E': engine_leaves_dns = true; break;
        case 'K': ask_fd = true; break;
        case 'W': wait_forever = true; break;
        case 's': target = &stop_after; have_stop = true; break;
        case 'l': target = &linger; break;
        case 'f': stop_file = optarg; break;
        case 'w': target = &wait_ms; break;
        case 'L': target = &learning_ms; break;
        case 'i': target = &id_base; break;
        case 'S': self = true; break;
        case 'O': one_by_one = true; break;
        case 'C': no_cache = true; break;
        case 'h': usage(); return 0;
        default: usage(); return 2;
        }
        if (target && !parse_u64(optarg, target)) {
            fprintf(stderr, "mifresolve: bad number %s\n", optarg);
            return 2;
        }
    }
    if ((!pvd_of && !have_pvd_id) || (!self && optind >= argc) || argc - optind > MAX_NAMES
        || (wait_forever && (have_stop || stop_file || wait_fd))
        || timeout_ms > UINT32_MAX || tries > UINT32_MAX || learning_ms > UINT32_MAX) {
        usage();
        return 2;
    }

    mif_options opts;
    mif_options_init(&opts);
    opts.root_dir = root;
    opts.dns_timeout_ms = (uint32_t)timeout_ms;
    opts.dns_tries = (uint32_t)tries;
    opts.config_learning_ms = (uint32_t)learning_ms;
    if (no_cache)
        opts.flags |= MIF_OPTION_NO_DNS_CACHE;
    if (engine_leaves_dns)
        opts.test_flags |= MIF_TEST_ENGINE_LEAVES_DNS;
    mif_ctx *ctx = driver_open(&opts, no_btd, "msg");
    if (!ctx)
        return 2;
    mif_result r;

    uint64_t pvd = pvd_id;
    if (!have_pvd_id) {
        char ifname[MIF_IFNAME_SIZE + 1], pvd_name[MIF_PVD_NAME_SIZE];
        const char *slash = strchr(pvd_of, '/');
        size_t iflen = slash ? (size_t)(slash - pvd_of) : strlen(pvd_of);
        if (iflen == 0 || iflen >= MIF_IFNAME_SIZE) {
            usage();
            mif_close(ctx);
            return 2;
        }
        memcpy(ifname, pvd_of, iflen);
        ifname[iflen] = '\0';
        snprintf(pvd_name, sizeof pvd_name, "%s/%s", ifname, slash ? slash + 1 : "ipv4");
        pvd = find_pvd(ctx, ifname, pvd_name);
        if (pvd == 0) {
            printf("{\"msg\":\"error\",\"what\":\"no such PvD\",\"pvd_name\":");
            json_quoted(pvd_name);
            printf("}\n");
            mif_close(ctx);
            return 2;
        }
    }
    printf("{\"msg\":\"pvd\",\"pvd\":%" PRIu64 "}\n", pvd);
    fflush(stdout);

    if (wait_fd || ask_fd)
        (void)mif_fd(ctx);
    int next_name = optind; /* the next NAME to post */
    if (self) {
        self_test(ctx, pvd);
    } else {
        for (; next_name < argc && (!one_by_one || next_name == optind); next_name++)
            post_name(ctx, pvd, id_base + (uint64_t)(next_name - optind), argv[next_name]);
    }

    int64_t start = now_ms();
    int64_t give_up = start + (int64_t)wait_ms;
    int64_t stop_at = have_stop ? start + (int64_t)stop_after : -1;
    bool stopped = false;
    int64_t linger_until = -1;
    int status = 0;
    size_t fd_wakes = 0, fd_wakes_empty = 0;
    bool fd_woke = false;
    for (;;) {
        size_t before = messages_taken;
        if (!drain_with(ctx, print_message)) {
            status = 2;
            break;
        }
        if (fd_woke && messages_taken == before)
            fd_wakes_empty++;
        fd_woke = false;
        int64_t now = now_ms();
        if (!stopped && ((stop_at >= 0 && now >= stop_at) || (stop_file && access(stop_file, F_OK) == 0))) {
            stop_at = -1;
            stopped = true;
            for (size_t i = 0; i < nslots; i++) {
                if (slots[i].pending == 0)
                    continue;
                r = post_stop_translating(ctx, slots[i].id);
                printf("{\"msg\":\"stop_posted\",\"translation_id\":%" PRIu64 ",", slots[i].id);
                json_result(r);
                printf("}\n");
                fflush(stdout);
            }
            continue;
        }
        if (outstanding_count() == 0 && next_name < argc) {
            post_name(ctx, pvd, id_base + (uint64_t)(next_name - optind), argv[next_name]);
            next_name++;
            continue;
        }
        if (outstanding_count() == 0) {
            if (linger_until < 0)
                linger_until = now + (int64_t)linger;
            if (now >= linger_until)
                break;
        } else if (now >= give_up) {
            printf("{\"msg\":\"error\",\"what\":\"gave up waiting\",\"outstanding\":%zu}\n", outstanding_count());
            status = 3;
            break;
        }
        int64_t until = outstanding_count() == 0 ? linger_until : give_up;
        if (stop_at >= 0 && stop_at < until)
            until = stop_at;
        if (stop_file && !stopped && now + 10 < until)
            until = now + 10;
        if (wait_fd) {
            int64_t left = until - now;
            struct pollfd pfd = { .fd = mif_fd(ctx), .events = POLLIN };
            int n = poll(&pfd, 1, (int)(left < 0 ? 0 : left > 1000 ? 1000 : left));
            if (n < 0 && errno != EINTR) {
                printf("{\"msg\":\"error\",\"what\":\"poll: %s\"}\n", strerror(errno));
                status = 2;
                break;
            }
            if (n > 0) {
                fd_wakes++;
                fd_woke = true;
            }
        } else if (get_after_first && next_name > optind + 1) {
            int64_t left = until - now;
            (void)poll(NULL, 0, (int)(left < 0 ? 0 : left > 10 ? 10 : left));
        } else if (wait_forever && outstanding_count() > 0) {
            r = mif_check_message(ctx, -1);
            if (r != MIF_OK && r != MIF_E_INTERRUPTED) {
                fail_setup("mif_check_message", r);
                status = 2;
                break;
            }
        } else if (!wait_message(ctx, now, until, &r)) {
            fail_setup("mif_check_message", r);
            status = 2;
            break;
        }
    }
    if (status == 0) {
        printf("{\"msg\":\"end\",\"fd_wakes\":%zu,\"fd_wakes_empty\":%zu}\n", fd_wakes, fd_wakes_empty);
        if (self && self_failures)
            status = 1;
    }
    fflush(stdout);
    mif_close(ctx);
    return status;
}
