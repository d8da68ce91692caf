/*
 * test_abi: structs from older (smaller) or newer (larger) headers.
 *
 * A program compiled against an older mif.h has a smaller mif_request / mif_options
 * and passes that size to mif_request_init_sized / mif_options_init_sized (the header's
 * macros pass sizeof).  The library must then write exactly `size` bytes (a canary
 * right after the old struct stays intact), read no further than `size`, accept the
 * requests whose fields fit and refuse the others with MIF_E_BAD_SIZE.  A size below
 * the minimum is refused without writing anything; a size above this library's struct
 * is initialised (zeroed past the known fields) but refused by mif_post_message /
 * mif_open, since the library cannot know what the extra fields mean.
 *
 * Needs only `lo` (up, with 127.0.0.1 and ::1: run.sh brings it up); changes nothing
 * in the kernel.
 */
#include "mif.h"
#include "check.h"
#include "bed.h"

#include <stddef.h>

#define CANARY 0xC3
#define SLACK 64

/* mif_request as the first header had it: 24 bytes. */
struct old_request {
    uint32_t size;
    uint32_t request_type;
    uint32_t ifindex;
    uint32_t reserved;
    uint64_t pvd;
};

/* mif_options as the first header had it: 24 bytes on LP64. */
struct old_options {
    uint32_t size;
    uint32_t flags;
    const char *root_dir;
    int32_t test_netlink_rcvbuf;
    uint32_t test_flags;
};

/* An old struct, then a canary where a newer struct's fields would be. */
struct old_request_box {
    struct old_request req;
    unsigned char canary[sizeof(mif_request) + SLACK];
};
struct old_options_box {
    struct old_options opts;
    unsigned char canary[sizeof(mif_options) + SLACK];
};

/* Raw bytes with room past the current struct, 8-aligned. */
union request_bytes {
    mif_request req;
    uint64_t align;
    unsigned char b[sizeof(mif_request) + SLACK];
};
union options_bytes {
    mif_options opts;
    uint64_t align;
    unsigned char b[sizeof(mif_options) + SLACK];
};

#define FIELD_END(type, field) (offsetof(type, field) + sizeof(((type *)0)->field))

static int all_bytes(const unsigned char *p, size_t n, unsigned char v)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (p[i] != v)
            return 0;
    return 1;
}

static uint64_t lo4;          /* lo's IPv4 PvD in the running case's context */
static unsigned lo_index;

static mif_ctx *open_with_lo(void)
{
    mif_ctx *ctx = NULL;
    lo_index = if_nametoindex("lo");
    if (!CHECK(lo_index != 0) || !CHECK_RC(mif_open(NULL, &ctx), MIF_OK))
        return NULL;
    lo4 = check_pvd_of(ctx, "lo", MIF_FAMILY_IPV4);
    if (!CHECK(lo4 != 0)) {
        mif_close(ctx);
        return NULL;
    }
    return ctx;
}

_Static_assert(sizeof(struct old_request) == 24, "the old mif_request had 24 bytes");
_Static_assert(offsetof(struct old_request_box, canary) == 24, "no padding before the canary");

/* Init with the old size writes exactly 24 bytes: size 24, the type, zeros. */
static void old_request_init_keeps_canary(void)
{
    struct old_request_box box;
    memset(&box, CANARY, sizeof box);
    REQUIRE(CHECK_RC(mif_request_init_sized((mif_request *)&box.req, sizeof box.req, MIF_REQ_ANNOUNCE_INTERFACES), MIF_OK));
    CHECK_EQ_INT(box.req.size, 24);
    CHECK_EQ_INT(box.req.request_type, MIF_REQ_ANNOUNCE_INTERFACES);
    CHECK_EQ_INT(box.req.ifindex, 0);
    CHECK_EQ_INT(box.req.reserved, 0);
    CHECK_EQ_INT(box.req.pvd, 0);
    if (!CHECK(all_bytes(box.canary, sizeof box.canary, CANARY)))
        check_note("mif_request_init_sized wrote past the 24 bytes it was given");
}

/*
 * Posting the old struct: the types whose fields fit in 24 bytes work; the others are
 * refused with MIF_E_BAD_SIZE.  The canary (0xC3 where reserved2/reserved3, name, ...
 * would be) must not be read: a library reading it would see a bad pointer or
 * non-zero reserved fields.
 */
static void old_request_posts(void)
{
    static const struct { mif_request_type type; int uses; mif_result want; } v[] = {
        /* uses: 0 nothing, 1 ifindex = lo, 2 pvd = lo/ipv4 */
        { MIF_REQ_ANNOUNCE_INTERFACES, 0, MIF_OK },
        { MIF_REQ_STOP_ANNOUNCING_INTERFACES, 0, MIF_OK },
        { MIF_REQ_ANNOUNCE_PVDS, 1, MIF_OK },
        { MIF_REQ_STOP_ANNOUNCING_PVDS, 1, MIF_OK },
        { MIF_REQ_ANNOUNCE_ADDRESSES, 2, MIF_OK },
        { MIF_REQ_STOP_ANNOUNCING_ADDRESSES, 2, MIF_OK },
        { MIF_REQ_ANNOUNCE_CONFIG_ELEMENTS, 2, MIF_OK },
        { MIF_REQ_STOP_ANNOUNCING_CONFIG_ELEMENTS, 2, MIF_OK },
        { MIF_REQ_CONNECT_TO_PVD, 2, MIF_OK },
        { MIF_REQ_GET_CONFIGURATION_DATA, 2, MIF_E_BAD_SIZE },
        { MIF_REQ_TRANSLATE_NAME, 2, MIF_E_BAD_SIZE },
        { MIF_REQ_STOP_TRANSLATING_NAME, 0, MIF_E_BAD_SIZE },
        { MIF_REQ_CONNECT_TO_ADDRESS, 2, MIF_E_BAD_SIZE },
        { MIF_REQ_CONNECT_FROM_ADDRESS, 2, MIF_E_BAD_SIZE },
        { MIF_REQ_CANCEL_CONNECT, 0, MIF_E_BAD_SIZE },
        { MIF_REQ_CONNECT_TO_NAME, 0, MIF_E_BAD_SIZE },
    };
    mif_ctx *ctx = open_with_lo();
    size_t i;
    int announced_lo = 0;
    REQUIRE(ctx != NULL);
    for (i = 0; i < sizeof v / sizeof v[0]; i++) {
        struct old_request_box box;
        mif_result rc;
        memset(&box, CANARY, sizeof box);
        if (!CHECK_RC(mif_request_init_sized((mif_request *)&box.req, sizeof box.req, v[i].type), MIF_OK))
            continue;
        if (v[i].uses == 1)
            box.req.ifindex = lo_index;
        if (v[i].uses == 2)
            box.req.pvd = lo4;
        rc = mif_post_message(ctx, (const mif_request *)&box.req);
        if (!CHECK_RC(rc, v[i].want))
            check_note("24-byte %s", mif_request_type_name(v[i].type));
        CHECK(all_bytes(box.canary, sizeof box.canary, CANARY)); /* only read */
        if (v[i].type == MIF_REQ_ANNOUNCE_INTERFACES && rc == MIF_OK) {
            /* It really subscribed: lo is announced. */
            mif_message *m = check_wait_want(ctx, MIF_MSG_INTERFACE_ANNOUNCEMENT, "lo", 0, NULL, 10000);
            announced_lo = m != NULL;
            mif_message_free(m);
        }
        check_drain(ctx);
    }
    CHECK(announced_lo);
    mif_close(ctx);
}

/*
 * Per request type: the smallest size that holds every field it reads works; one byte
 * less is MIF_E_BAD_SIZE.  Everything past `size` is canary, so reading past it shows.
 */
static void minimum_size_per_type(void)
{
    struct sized {
        mif_request_type type;
        size_t min;
        mif_result want; /* at the minimum size */
    };
    const struct sized v[] = {
        { MIF_REQ_ANNOUNCE_INTERFACES, FIELD_END(mif_request, request_type), MIF_OK },
        { MIF_REQ_STOP_ANNOUNCING_INTERFACES, FIELD_END(mif_request, request_type), MIF_OK },
        { MIF_REQ_ANNOUNCE_PVDS, FIELD_END(mif_request, ifindex), MIF_OK },
        { MIF_REQ_STOP_ANNOUNCING_PVDS, FIELD_END(mif_request, ifindex), MIF_OK },
        { MIF_REQ_ANNOUNCE_ADDRESSES, FIELD_END(mif_request, pvd), MIF_OK },
        { MIF_REQ_STOP_ANNOUNCING_ADDRESSES, FIELD_END(mif_request, pvd), MIF_OK },
        { MIF_REQ_ANNOUNCE_CONFIG_ELEMENTS, FIELD_END(mif_request, pvd), MIF_OK },
        { MIF_REQ_STOP_ANNOUNCING_CONFIG_ELEMENTS, FIELD_END(mif_request, pvd), MIF_OK },
        { MIF_REQ_GET_CONFIGURATION_DATA, FIELD_END(mif_request, info_id), MIF_OK },
        { MIF_REQ_TRANSLATE_NAME, FIELD_END(mif_request, name), MIF_OK },
        { MIF_REQ_STOP_TRANSLATING_NAME, FIELD_END(mif_request, translation_id), MIF_E_UNKNOWN_TRANSLATION },
        { MIF_REQ_CONNECT_TO_ADDRESS, FIELD_END(mif_request, remote_port), MIF_OK },
        { MIF_REQ_CONNECT_FROM_ADDRESS, FIELD_END(mif_request, local), MIF_OK },
        { MIF_REQ_CONNECT_TO_PVD, FIELD_END(mif_request, pvd), MIF_OK },
        { MIF_REQ_CANCEL_CONNECT, FIELD_END(mif_request, connection_id), MIF_E_UNKNOWN_CONNECTION },
        { MIF_REQ_CONNECT_TO_NAME, FIELD_END(mif_request, connect_flags), MIF_OK },
    };
    mif_ctx *ctx = open_with_lo();
    size_t i;
    uint64_t next_id = 100;
    REQUIRE(ctx != NULL);
    for (i = 0; i < sizeof v / sizeof v[0]; i++) {
        mif_request full;
        int less;
        mif_request_init(&full, v[i].type);
        full.pvd = lo4;
        switch (v[i].type) {
        case MIF_REQ_ANNOUNCE_PVDS:
        case MIF_REQ_STOP_ANNOUNCING_PVDS:
            full.ifindex = lo_index;
            break;
        case MIF_REQ_GET_CONFIGURATION_DATA:
            full.element_type = MIF_ELEMENT_ANY;
            full.info_id = MIF_INFO_MTU;
            break;
        case MIF_REQ_TRANSLATE_NAME:
            full.translation_id = 424242;
            full.name = "abi.example";
            break;
        case MIF_REQ_STOP_TRANSLATING_NAME:
            full.translation_id = 434343;
            break;
        case MIF_REQ_CONNECT_FROM_ADDRESS:
            full.local = check_address("127.0.0.1");
            /* fall through */
        case MIF_REQ_CONNECT_TO_ADDRESS:
            full.connection_id = next_id++;
            full.remote = check_address("127.0.0.1");
            full.remote_port = 9;
            break;
        case MIF_REQ_CANCEL_CONNECT:
            full.connection_id = 99999;
            break;
        case MIF_REQ_CONNECT_TO_NAME:
            full.connection_id = next_id++;
            full.name = "abi.example";
            full.remote_port = 9;
            break;
        default:
            break;
        }
        for (less = 1; less >= 0; less--) {
            union request_bytes buf;
            size_t size = v[i].min - (size_t)less;
            mif_result rc;
            /* Stop requests need their subscription first. */
            if (!less && (v[i].type == MIF_REQ_STOP_ANNOUNCING_INTERFACES ||
                          v[i].type == MIF_REQ_STOP_ANNOUNCING_PVDS ||
                          v[i].type == MIF_REQ_STOP_ANNOUNCING_ADDRESSES ||
                          v[i].type == MIF_REQ_STOP_ANNOUNCING_CONFIG_ELEMENTS))
                CHECK_RC(check_post(ctx, v[i].type - 1, full.ifindex, full.pvd), MIF_OK);
            memset(&buf, CANARY, sizeof buf);
            memcpy(buf.b, &full, size);
            buf.req.size = (uint32_t)size;
            rc = mif_post_message(ctx, &buf.req);
            if (!CHECK_RC(rc, less ? MIF_E_BAD_SIZE : v[i].want))
                check_note("%s with size %zu (its fields end at %zu)", mif_request_type_name(v[i].type),
                           size, v[i].min);
            CHECK(all_bytes(buf.b + size, sizeof buf - size, CANARY));
            check_drain(ctx);
        }
    }
    mif_close(ctx); /* frees the translation and connect results, closing their sockets */
}

/* Sizes that do not cover size and request_type: refused, nothing written. */
static void request_init_below_minimum(void)
{
    static const size_t sizes[] = { 0, 1, 4, 7 };
    size_t i;
    for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        union request_bytes buf;
        memset(&buf, CANARY, sizeof buf);
        if (!CHECK_RC(mif_request_init_sized(&buf.req, sizes[i], MIF_REQ_ANNOUNCE_INTERFACES), MIF_E_BAD_SIZE))
            check_note("size %zu", sizes[i]);
        CHECK(all_bytes(buf.b, sizeof buf, CANARY));
    }
    /* 8 is the minimum: it writes exactly 8 bytes. */
    union request_bytes buf;
    memset(&buf, CANARY, sizeof buf);
    CHECK_RC(mif_request_init_sized(&buf.req, 8, MIF_REQ_ANNOUNCE_INTERFACES), MIF_OK);
    CHECK_EQ_INT(buf.req.size, 8);
    CHECK_EQ_INT(buf.req.request_type, MIF_REQ_ANNOUNCE_INTERFACES);
    CHECK(all_bytes(buf.b + 8, sizeof buf - 8, CANARY));
}

/*
 * A struct from a newer header (larger than ours): init writes exactly `size` bytes,
 * our fields as usual and zeros past them; post refuses it (MIF_E_BAD_SIZE) and
 * queues nothing.
 */
static void request_larger_than_ours(void)
{
    static const size_t extra[] = { 1, 8, 16, SLACK - 8 };
    mif_ctx *ctx = open_with_lo();
    size_t i;
    mif_request ours;
    REQUIRE(ctx != NULL);
    memset(&ours, 0x5A, sizeof ours);
    mif_request_init(&ours, MIF_REQ_ANNOUNCE_PVDS);
    for (i = 0; i < sizeof extra / sizeof extra[0]; i++) {
        union request_bytes buf;
        size_t size = sizeof(mif_request) + extra[i];
        memset(&buf, CANARY, sizeof buf);
        if (!CHECK_RC(mif_request_init_sized(&buf.req, size, MIF_REQ_ANNOUNCE_PVDS), MIF_OK))
            continue;
        CHECK_EQ_INT(buf.req.size, size);
        CHECK_EQ_INT(buf.req.request_type, MIF_REQ_ANNOUNCE_PVDS);
        /* Our part as mif_request_init makes it (apart from size)... */
        CHECK(memcmp(buf.b + 8, (const unsigned char *)&ours + 8, sizeof ours - 8) == 0);
        /* ...zeros up to `size`, and nothing written after. */
        CHECK(all_bytes(buf.b + sizeof(mif_request), extra[i], 0));
        CHECK(all_bytes(buf.b + size, sizeof buf - size, CANARY));
        buf.req.ifindex = lo_index;
        CHECK_RC(mif_post_message(ctx, &buf.req), MIF_E_BAD_SIZE);
        CHECK_RC(mif_check_message(ctx, 0), MIF_NO_MESSAGE);
    }
    mif_close(ctx);
}

_Static_assert(offsetof(struct old_options_box, canary) == sizeof(struct old_options), "no padding");

/* mif_options from an older header: exactly its bytes written; mif_open accepts it. */
static void old_options(void)
{
    struct old_options_box box;
    mif_ctx *ctx = NULL;
    char root[] = "/";

    memset(&box, CANARY, sizeof box);
    REQUIRE(CHECK_RC(mif_options_init_sized((mif_options *)&box.opts, sizeof box.opts), MIF_OK));
    CHECK_EQ_INT(box.opts.size, sizeof(struct old_options));
    CHECK_EQ_INT(box.opts.flags, 0);
    CHECK(box.opts.root_dir == NULL);
    CHECK_EQ_INT(box.opts.test_netlink_rcvbuf, 0);
    CHECK_EQ_INT(box.opts.test_flags, 0);
    if (!CHECK(all_bytes(box.canary, sizeof box.canary, CANARY)))
        check_note("mif_options_init_sized wrote past the %zu bytes it was given", sizeof box.opts);

    /*
     * Opens with it: the canary sits where config_file, the DNS and connect options
     * are (0xC3C3C3C3 would be an invalid attempt delay, and a wild pointer).
     */
    box.opts.root_dir = root;
    REQUIRE(CHECK_RC(mif_open((const mif_options *)&box.opts, &ctx), MIF_OK));
    CHECK(all_bytes(box.canary, sizeof box.canary, CANARY));
    CHECK_RC(check_post(ctx, MIF_REQ_ANNOUNCE_INTERFACES, 0, 0), MIF_OK);
    CHECK(check_drain(ctx) >= 1);
    mif_close(ctx);

    /* Smaller still: only size, and size + flags. */
    static const size_t sizes[] = { 4, 8, 16 };
    size_t i;
    for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        union options_bytes buf;
        memset(&buf, CANARY, sizeof buf);
        if (!CHECK_RC(mif_options_init_sized(&buf.opts, sizes[i]), MIF_OK))
            continue;
        CHECK_EQ_INT(buf.opts.size, sizes[i]);
        CHECK(all_bytes(buf.b + 4, sizes[i] - 4, 0));
        CHECK(all_bytes(buf.b + sizes[i], sizeof buf - sizes[i], CANARY));
        ctx = NULL;
        if (CHECK_RC(mif_open(&buf.opts, &ctx), MIF_OK))
            mif_close(ctx);
    }
}

static void options_below_minimum(void)
{
    static const size_t sizes[] = { 0, 1, 3 };
    size_t i;
    for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        union options_bytes buf;
        memset(&buf, CANARY, sizeof buf);
        if (!CHECK_RC(mif_options_init_sized(&buf.opts, sizes[i]), MIF_E_BAD_SIZE))
            check_note("size %zu", sizes[i]);
        CHECK(all_bytes(buf.b, sizeof buf, CANARY));
    }
}

static void options_larger_than_ours(void)
{
    static const size_t extra[] = { 1, 8, SLACK - 8 };
    size_t i;
    mif_options ours;
    memset(&ours, 0x5A, sizeof ours);
    mif_options_init(&ours);
    for (i = 0; i < sizeof extra / sizeof extra[0]; i++) {
        union options_bytes buf;
        size_t size = sizeof(mif_options) + extra[i];
        mif_ctx *ctx = (mif_ctx *)CHECK_SENTINEL;
        memset(&buf, CANARY, sizeof buf);
        if (!CHECK_RC(mif_options_init_sized(&buf.opts, size), MIF_OK))
            continue;
        CHECK_EQ_INT(buf.opts.size, size);
        CHECK(memcmp(buf.b + 4, (const unsigned char *)&ours + 4, sizeof ours - 4) == 0);
        CHECK(all_bytes(buf.b + sizeof(mif_options), extra[i], 0));
        CHECK(all_bytes(buf.b + size, sizeof buf - size, CANARY));
        CHECK_RC(mif_open(&buf.opts, &ctx), MIF_E_BAD_SIZE);
        CHECK(ctx == (mif_ctx *)CHECK_SENTINEL);
    }
}

int main(void)
{
    check_watchdog(120);
    RUN_CASE(old_request_init_keeps_canary);
    RUN_CASE(old_request_posts);
    RUN_CASE(minimum_size_per_type);
    RUN_CASE(request_init_below_minimum);
    RUN_CASE(request_larger_than_ours);
    RUN_CASE(old_options);
    RUN_CASE(options_below_minimum);
    RUN_CASE(options_larger_than_ours);
    return check_done();
}
