/*
 * test_bad_inputs: a table of bad inputs, each answered by the code the header names
 * for it.  Every row runs on a fresh context.  On failure, out-parameters stay as they
 * were (pre-set to a sentinel) and a failed post queues nothing and leaves the context
 * usable.  The rows marked "control" are valid inputs next to the bad ones: they show
 * that the bad row fails for the reason it names.
 *
 * Needs only `lo` (up, with 127.0.0.1 and ::1: run.sh brings it up) and changes
 * nothing in the kernel.
 */
#include "mif.h"
#include "check.h"

#include <limits.h>

enum call { POST, OPEN, CHECKMSG, GET };
enum { IFX_VALUE = 0, IFX_LO };     /* ifindex: the value, or lo's index */
enum { PVD_VALUE = 0, PVD_LO };     /* pvd: the value, or lo's IPv4 PvD in this context */
enum { PREP_NONE = 0, PREP_QUEUE, PREP_START_STOP };

struct row {
    const char *name;
    enum call call;
    int null_ctx;          /* pass NULL as the context (or as ctx_out, for OPEN) */
    int null_arg;          /* pass NULL as req / msg_out / ctx_out */
    int use_opts;          /* OPEN: pass options (else NULL) */
    mif_request_type type;
    int size_set;          /* use `size` for req.size / opts.size */
    uint32_t size;
    int ifindex_kind;
    uint32_t ifindex;
    int pvd_kind;
    uint64_t pvd;
    uint32_t reserved;
    uint32_t element_type;
    uint32_t info_id;
    uint32_t opt_flags;
    int32_t rcvbuf;
    uint32_t test_flags;
    int timeout;
    int prep;              /* PREP_QUEUE: a message waits first; PREP_START_STOP: start+stop first */
    mif_result want;
};

#define REQ_SIZE ((uint32_t)sizeof(mif_request))
#define OPT_SIZE ((uint32_t)sizeof(mif_options))

static const struct row rows[] = {
    /* NULL pointers */
    { .name = "post: NULL ctx", .call = POST, .null_ctx = 1, .type = MIF_REQ_ANNOUNCE_INTERFACES, .want = MIF_E_NULL_ARGUMENT },
    { .name = "post: NULL req", .call = POST, .null_arg = 1, .want = MIF_E_NULL_ARGUMENT },
    { .name = "check: NULL ctx", .call = CHECKMSG, .null_ctx = 1, .timeout = 0, .want = MIF_E_NULL_ARGUMENT },
    { .name = "check: NULL ctx, timeout -1", .call = CHECKMSG, .null_ctx = 1, .timeout = -1, .want = MIF_E_NULL_ARGUMENT },
    { .name = "get: NULL ctx", .call = GET, .null_ctx = 1, .want = MIF_E_NULL_ARGUMENT },
    { .name = "get: NULL msg_out", .call = GET, .null_arg = 1, .want = MIF_E_NULL_ARGUMENT },
    { .name = "get: NULL msg_out, message waiting", .call = GET, .null_arg = 1, .prep = PREP_QUEUE, .want = MIF_E_NULL_ARGUMENT },
    { .name = "open: NULL ctx_out", .call = OPEN, .null_arg = 1, .want = MIF_E_NULL_ARGUMENT },
    { .name = "open: NULL ctx_out, with options", .call = OPEN, .null_arg = 1, .use_opts = 1, .want = MIF_E_NULL_ARGUMENT },

    /* mif_request.size */
    { .name = "req.size 0", .call = POST, .type = MIF_REQ_ANNOUNCE_INTERFACES, .size_set = 1, .size = 0, .want = MIF_E_BAD_SIZE },
    { .name = "req.size 4 (size only)", .call = POST, .type = MIF_REQ_ANNOUNCE_INTERFACES, .size_set = 1, .size = 4, .want = MIF_E_BAD_SIZE },
    { .name = "req.size 7", .call = POST, .type = MIF_REQ_ANNOUNCE_INTERFACES, .size_set = 1, .size = 7, .want = MIF_E_BAD_SIZE },
    { .name = "control: req.size 8 is enough for announce_interfaces", .call = POST, .type = MIF_REQ_ANNOUNCE_INTERFACES, .size_set = 1, .size = 8, .want = MIF_OK },
    { .name = "req.size 8 (size+type) for announce_pvds", .call = POST, .type = MIF_REQ_ANNOUNCE_PVDS, .ifindex_kind = IFX_LO, .size_set = 1, .size = 8, .want = MIF_E_BAD_SIZE },
    { .name = "req.size 11 for announce_pvds", .call = POST, .type = MIF_REQ_ANNOUNCE_PVDS, .ifindex_kind = IFX_LO, .size_set = 1, .size = 11, .want = MIF_E_BAD_SIZE },
    { .name = "req.size 8 for stop_announcing_pvds", .call = POST, .type = MIF_REQ_STOP_ANNOUNCING_PVDS, .ifindex_kind = IFX_LO, .size_set = 1, .size = 8, .want = MIF_E_BAD_SIZE },
    { .name = "control: req.size 12 is enough for announce_pvds", .call = POST, .type = MIF_REQ_ANNOUNCE_PVDS, .ifindex_kind = IFX_LO, .size_set = 1, .size = 12, .want = MIF_OK },
    { .name = "req.size 16 (no pvd) for announce_addresses", .call = POST, .type = MIF_REQ_ANNOUNCE_ADDRESSES, .pvd_kind = PVD_LO, .size_set = 1, .size = 16, .want = MIF_E_BAD_SIZE },
    { .name = "req.size 20 (half a pvd) for announce_addresses", .call = POST, .type = MIF_REQ_ANNOUNCE_ADDRESSES, .pvd_kind = PVD_LO, .size_set = 1, .size = 20, .want = MIF_E_BAD_SIZE },
    { .name = "req.size 16 for stop_announcing_addresses", .call = POST, .type = MIF_REQ_STOP_ANNOUNCING_ADDRESSES, .pvd_kind = PVD_LO, .size_set = 1, .size = 16, .want = MIF_E_BAD_SIZE },
    { .name = "req.size 16 for announce_config_elements", .call = POST, .type = MIF_REQ_ANNOUNCE_CONFIG_ELEMENTS, .pvd_kind = PVD_LO, .size_set = 1, .size = 16, .want = MIF_E_BAD_SIZE },
    { .name = "control: req.size 24 is enough for announce_config_elements", .call = POST, .type = MIF_REQ_ANNOUNCE_CONFIG_ELEMENTS, .pvd_kind = PVD_LO, .size_set = 1, .size = 24, .want = MIF_OK },
    { .name = "req.size 16 for stop_announcing_config_elements", .call = POST, .type = MIF_REQ_STOP_ANNOUNCING_CONFIG_ELEMENTS, .pvd_kind = PVD_LO, .size_set = 1, .size = 16, .want = MIF_E_BAD_SIZE },
    { .name = "req.size 24 (no element_type) for get_configuration_data", .call = POST, .type = MIF_REQ_GET_CONFIGURATION_DATA, .pvd_kind = PVD_LO, .size_set = 1, .size = 24, .want = MIF_E_BAD_SIZE },
    { .name = "req.size 28 (no info_id) for get_configuration_data", .call = POST, .type = MIF_REQ_GET_CONFIGURATION_DATA, .pvd_kind = PVD_LO, .size_set = 1, .size = 28, .want = MIF_E_BAD_SIZE },
    { .name = "req.size sizeof+1", .call = POST, .type = MIF_REQ_ANNOUNCE_INTERFACES, .size_set = 1, .size = REQ_SIZE + 1, .want = MIF_E_BAD_SIZE },
    { .name = "req.size sizeof+8", .call = POST, .type = MIF_REQ_ANNOUNCE_INTERFACES, .size_set = 1, .size = REQ_SIZE + 8, .want = MIF_E_BAD_SIZE },
    { .name = "req.size 4096", .call = POST, .type = MIF_REQ_ANNOUNCE_INTERFACES, .size_set = 1, .size = 4096, .want = MIF_E_BAD_SIZE },
    { .name = "req.size UINT32_MAX", .call = POST, .type = MIF_REQ_ANNOUNCE_INTERFACES, .size_set = 1, .size = UINT32_MAX, .want = MIF_E_BAD_SIZE },

    /* mif_options */
    { .name = "opts.size 0", .call = OPEN, .use_opts = 1, .size_set = 1, .size = 0, .want = MIF_E_BAD_SIZE },
    { .name = "opts.size 3", .call = OPEN, .use_opts = 1, .size_set = 1, .size = 3, .want = MIF_E_BAD_SIZE },
    { .name = "opts.size sizeof+1", .call = OPEN, .use_opts = 1, .size_set = 1, .size = OPT_SIZE + 1, .want = MIF_E_BAD_SIZE },
    { .name = "opts.size sizeof+8", .call = OPEN, .use_opts = 1, .size_set = 1, .size = OPT_SIZE + 8, .want = MIF_E_BAD_SIZE },
    { .name = "opts.size UINT32_MAX", .call = OPEN, .use_opts = 1, .size_set = 1, .size = UINT32_MAX, .want = MIF_E_BAD_SIZE },
    { .name = "control: opts from mif_options_init", .call = OPEN, .use_opts = 1, .want = MIF_OK },
    { .name = "opts.flags 1", .call = OPEN, .use_opts = 1, .opt_flags = 1, .want = MIF_E_INVALID_ARGUMENT },
    { .name = "opts.flags 0x80000000", .call = OPEN, .use_opts = 1, .opt_flags = 0x80000000u, .want = MIF_E_INVALID_ARGUMENT },
    { .name = "opts.netlink_rcvbuf -1", .call = OPEN, .use_opts = 1, .rcvbuf = -1, .want = MIF_E_INVALID_ARGUMENT },
    { .name = "opts.netlink_rcvbuf INT32_MIN", .call = OPEN, .use_opts = 1, .rcvbuf = INT32_MIN, .want = MIF_E_INVALID_ARGUMENT },
    { .name = "opts.test_flags unknown bit 2", .call = OPEN, .use_opts = 1, .test_flags = 2, .want = MIF_E_INVALID_ARGUMENT },
    { .name = "opts.test_flags unknown bit 31", .call = OPEN, .use_opts = 1, .test_flags = 0x80000000u, .want = MIF_E_INVALID_ARGUMENT },

    /* request types */
    { .name = "request type 0", .call = POST, .type = 0, .want = MIF_E_UNKNOWN_REQUEST_TYPE },
    { .name = "request type 10", .call = POST, .type = 10, .want = MIF_E_UNKNOWN_REQUEST_TYPE },
    { .name = "request type 999", .call = POST, .type = 999, .want = MIF_E_UNKNOWN_REQUEST_TYPE },
    { .name = "request type 0xffffffff", .call = POST, .type = 0xffffffffu, .want = MIF_E_UNKNOWN_REQUEST_TYPE },

    /* reserved field */
    { .name = "reserved 1: announce_interfaces", .call = POST, .type = MIF_REQ_ANNOUNCE_INTERFACES, .reserved = 1, .want = MIF_E_INVALID_ARGUMENT },
    { .name = "reserved 0xffffffff: announce_interfaces", .call = POST, .type = MIF_REQ_ANNOUNCE_INTERFACES, .reserved = 0xffffffffu, .want = MIF_E_INVALID_ARGUMENT },
    { .name = "reserved 1: stop_announcing_interfaces", .call = POST, .type = MIF_REQ_STOP_ANNOUNCING_INTERFACES, .reserved = 1, .prep = PREP_QUEUE, .want = MIF_E_INVALID_ARGUMENT },
    { .name = "reserved 1: announce_pvds", .call = POST, .type = MIF_REQ_ANNOUNCE_PVDS, .ifindex_kind = IFX_LO, .reserved = 1, .want = MIF_E_INVALID_ARGUMENT },
    { .name = "reserved 1: stop_announcing_pvds", .call = POST, .type = MIF_REQ_STOP_ANNOUNCING_PVDS, .ifindex_kind = IFX_LO, .reserved = 1, .want = MIF_E_INVALID_ARGUMENT },
    { .name = "reserved 1: announce_addresses", .call = POST, .type = MIF_REQ_ANNOUNCE_ADDRESSES, .pvd_kind = PVD_LO, .reserved = 1, .want = MIF_E_INVALID_ARGUMENT },
    { .name = "reserved 1: stop_announcing_addresses", .call = POST, .type = MIF_REQ_STOP_ANNOUNCING_ADDRESSES, .pvd_kind = PVD_LO, .reserved = 1, .want = MIF_E_INVALID_ARGUMENT },
    { .name = "reserved 1: announce_config_elements", .call = POST, .type = MIF_REQ_ANNOUNCE_CONFIG_ELEMENTS, .pvd_kind = PVD_LO, .reserved = 1, .want = MIF_E_INVALID_ARGUMENT },
    { .name = "reserved 1: stop_announcing_config_elements", .call = POST, .type = MIF_REQ_STOP_ANNOUNCING_CONFIG_ELEMENTS, .pvd_kind = PVD_LO, .reserved = 1, .want = MIF_E_INVALID_ARGUMENT },
    { .name = "reserved 1: get_configuration_data", .call = POST, .type = MIF_REQ_GET_CONFIGURATION_DATA, .pvd_kind = PVD_LO, .reserved = 1, .want = MIF_E_INVALID_ARGUMENT },

    /* unknown interface */
    { .name = "announce_pvds: ifindex 999999", .call = POST, .type = MIF_REQ_ANNOUNCE_PVDS, .ifindex = 999999, .want = MIF_E_UNKNOWN_INTERFACE },
    { .name = "announce_pvds: ifindex 0", .call = POST, .type = MIF_REQ_ANNOUNCE_PVDS, .ifindex = 0, .want = MIF_E_UNKNOWN_INTERFACE },
    { .name = "announce_pvds: ifindex UINT32_MAX", .call = POST, .type = MIF_REQ_ANNOUNCE_PVDS, .ifindex = UINT32_MAX, .want = MIF_E_UNKNOWN_INTERFACE },
    { .name = "stop_announcing_pvds: ifindex 999999", .call = POST, .type = MIF_REQ_STOP_ANNOUNCING_PVDS, .ifindex = 999999, .want = MIF_E_UNKNOWN_INTERFACE },
    { .name = "stop_announcing_pvds: ifindex 0", .call = POST, .type = MIF_REQ_STOP_ANNOUNCING_PVDS, .ifindex = 0, .want = MIF_E_UNKNOWN_INTERFACE },
    { .name = "control: announce_pvds: lo", .call = POST, .type = MIF_REQ_ANNOUNCE_PVDS, .ifindex_kind = IFX_LO, .want = MIF_OK },

    /* unknown provisioning domain */
    { .name = "announce_addresses: pvd 999999", .call = POST, .type = MIF_REQ_ANNOUNCE_ADDRESSES, .pvd = 999999, .want = MIF_E_UNKNOWN_PVD },
    { .name = "announce_addresses: pvd 0", .call = POST, .type = MIF_REQ_ANNOUNCE_ADDRESSES, .pvd = 0, .want = MIF_E_UNKNOWN_PVD },
    { .name = "announce_addresses: pvd UINT64_MAX", .call = POST, .type = MIF_REQ_ANNOUNCE_ADDRESSES, .pvd = UINT64_MAX, .want = MIF_E_UNKNOWN_PVD },
    { .name = "stop_announcing_addresses: pvd 999999", .call = POST, .type = MIF_REQ_STOP_ANNOUNCING_ADDRESSES, .pvd = 999999, .want = MIF_E_UNKNOWN_PVD },
    { .name = "stop_announcing_addresses: pvd 0", .call = POST, .type = MIF_REQ_STOP_ANNOUNCING_ADDRESSES, .pvd = 0, .want = MIF_E_UNKNOWN_PVD },
    { .name = "control: announce_addresses: lo/ipv4", .call = POST, .type = MIF_REQ_ANNOUNCE_ADDRESSES, .pvd_kind = PVD_LO, .want = MIF_OK },

    /* configuration element types and information identifiers */
    { .name = "get_configuration_data: element_type 6", .call = POST, .type = MIF_REQ_GET_CONFIGURATION_DATA, .pvd_kind = PVD_LO, .element_type = 6, .want = MIF_E_UNKNOWN_ELEMENT_TYPE },
    { .name = "get_configuration_data: element_type 0xffffffff", .call = POST, .type = MIF_REQ_GET_CONFIGURATION_DATA, .pvd_kind = PVD_LO, .element_type = 0xffffffffu, .want = MIF_E_UNKNOWN_ELEMENT_TYPE },
    { .name = "get_configuration_data: info_id 5", .call = POST, .type = MIF_REQ_GET_CONFIGURATION_DATA, .pvd_kind = PVD_LO, .info_id = 5, .want = MIF_E_UNKNOWN_INFO_ID },
    { .name = "get_configuration_data: info_id 0xffffffff", .call = POST, .type = MIF_REQ_GET_CONFIGURATION_DATA, .pvd_kind = PVD_LO, .info_id = 0xffffffffu, .want = MIF_E_UNKNOWN_INFO_ID },
    { .name = "control: get_configuration_data: any/all on lo/ipv4", .call = POST, .type = MIF_REQ_GET_CONFIGURATION_DATA, .pvd_kind = PVD_LO, .want = MIF_OK },
    { .name = "control: get_configuration_data: system/mtu on lo/ipv4", .call = POST, .type = MIF_REQ_GET_CONFIGURATION_DATA, .pvd_kind = PVD_LO, .element_type = MIF_ELEMENT_SYSTEM, .info_id = MIF_INFO_MTU, .want = MIF_OK },
    { .name = "announce_config_elements: pvd 999999", .call = POST, .type = MIF_REQ_ANNOUNCE_CONFIG_ELEMENTS, .pvd = 999999, .want = MIF_E_UNKNOWN_PVD },
    { .name = "stop_announcing_config_elements: pvd 999999", .call = POST, .type = MIF_REQ_STOP_ANNOUNCING_CONFIG_ELEMENTS, .pvd = 999999, .want = MIF_E_UNKNOWN_PVD },
    { .name = "get_configuration_data: pvd 999999", .call = POST, .type = MIF_REQ_GET_CONFIGURATION_DATA, .pvd = 999999, .want = MIF_E_UNKNOWN_PVD },
    { .name = "get_configuration_data: pvd 0", .call = POST, .type = MIF_REQ_GET_CONFIGURATION_DATA, .pvd = 0, .want = MIF_E_UNKNOWN_PVD },

    /* stop without start */
    { .name = "stop_announcing_interfaces without start", .call = POST, .type = MIF_REQ_STOP_ANNOUNCING_INTERFACES, .want = MIF_E_NOT_SUBSCRIBED },
    { .name = "stop_announcing_pvds (lo) without start", .call = POST, .type = MIF_REQ_STOP_ANNOUNCING_PVDS, .ifindex_kind = IFX_LO, .want = MIF_E_NOT_SUBSCRIBED },
    { .name = "stop_announcing_addresses (lo/ipv4) without start", .call = POST, .type = MIF_REQ_STOP_ANNOUNCING_ADDRESSES, .pvd_kind = PVD_LO, .want = MIF_E_NOT_SUBSCRIBED },
    { .name = "stop_announcing_config_elements (lo/ipv4) without start", .call = POST, .type = MIF_REQ_STOP_ANNOUNCING_CONFIG_ELEMENTS, .pvd_kind = PVD_LO, .want = MIF_E_NOT_SUBSCRIBED },
    { .name = "stop_announcing_interfaces twice", .call = POST, .type = MIF_REQ_STOP_ANNOUNCING_INTERFACES, .prep = PREP_START_STOP, .want = MIF_E_NOT_SUBSCRIBED },
    { .name = "stop_announcing_pvds (lo) twice", .call = POST, .type = MIF_REQ_STOP_ANNOUNCING_PVDS, .ifindex_kind = IFX_LO, .prep = PREP_START_STOP, .want = MIF_E_NOT_SUBSCRIBED },
    { .name = "stop_announcing_addresses (lo/ipv4) twice", .call = POST, .type = MIF_REQ_STOP_ANNOUNCING_ADDRESSES, .pvd_kind = PVD_LO, .prep = PREP_START_STOP, .want = MIF_E_NOT_SUBSCRIBED },
    { .name = "stop_announcing_config_elements (lo/ipv4) twice", .call = POST, .type = MIF_REQ_STOP_ANNOUNCING_CONFIG_ELEMENTS, .pvd_kind = PVD_LO, .prep = PREP_START_STOP, .want = MIF_E_NOT_SUBSCRIBED },

    /* check_message timeouts */
    { .name = "check: timeout -2", .call = CHECKMSG, .timeout = -2, .want = MIF_E_INVALID_ARGUMENT },
    { .name = "check: timeout INT_MIN", .call = CHECKMSG, .timeout = INT_MIN, .want = MIF_E_INVALID_ARGUMENT },
    { .name = "check: timeout -2, message waiting", .call = CHECKMSG, .timeout = -2, .prep = PREP_QUEUE, .want = MIF_E_INVALID_ARGUMENT },
};

static const struct row *current;

/* The id of lo's IPv4 PvD in this context, learned from a PvD announcement. */
static uint64_t lo_pvd(mif_ctx *ctx, uint32_t lo)
{
    uint64_t id = 0;
    if (!CHECK_RC(check_post(ctx, MIF_REQ_ANNOUNCE_PVDS, lo, 0), MIF_OK))
        return 0;
    mif_message *m = check_wait_want(ctx, MIF_MSG_PVD_ANNOUNCEMENT, "lo", MIF_FAMILY_IPV4, NULL, 10000);
    if (CHECK(m != NULL)) {
        id = m->pvd;
        mif_message_free(m);
    } else {
        check_note("lo has no IPv4 PvD: is lo up with 127.0.0.1 (run.sh brings it up)?");
    }
    CHECK_RC(check_post(ctx, MIF_REQ_STOP_ANNOUNCING_PVDS, lo, 0), MIF_OK);
    check_drain(ctx);
    return id;
}

static mif_request_type start_of(mif_request_type stop)
{
    switch (stop) {
    case MIF_REQ_STOP_ANNOUNCING_INTERFACES: return MIF_REQ_ANNOUNCE_INTERFACES;
    case MIF_REQ_STOP_ANNOUNCING_PVDS: return MIF_REQ_ANNOUNCE_PVDS;
    case MIF_REQ_STOP_ANNOUNCING_CONFIG_ELEMENTS: return MIF_REQ_ANNOUNCE_CONFIG_ELEMENTS;
    default: return MIF_REQ_ANNOUNCE_ADDRESSES;
    }
}

static void run_open_row(const struct row *r)
{
    /* Room past the struct, for sizes larger than this library's mif_options. */
    union { mif_options opts; unsigned char bytes[sizeof(mif_options) + 64]; } buf;
    mif_ctx *ctx = (mif_ctx *)CHECK_SENTINEL;
    mif_result rc;

    memset(&buf, 0, sizeof buf);
    REQUIRE(CHECK_RC(mif_options_init(&buf.opts), MIF_OK));
    if (r->size_set)
        buf.opts.size = r->size;
    buf.opts.flags = r->opt_flags;
    buf.opts.netlink_rcvbuf = r->rcvbuf;
    buf.opts.test_flags = r->test_flags;

    rc = mif_open(r->use_opts ? &buf.opts : NULL, r->null_arg ? NULL : &ctx);
    CHECK_RC(rc, r->want);
    if (rc == MIF_OK) {
        if (CHECK(ctx != (mif_ctx *)CHECK_SENTINEL && ctx != NULL))
            mif_close(ctx);
    } else {
        CHECK(ctx == (mif_ctx *)CHECK_SENTINEL); /* untouched on failure */
    }
}

static void run_row(void)
{
    const struct row *r = current;
    mif_ctx *ctx = NULL;
    uint32_t lo = if_nametoindex("lo");
    uint64_t pvd = 0;
    mif_result rc;

    if (r->call == OPEN) {
        run_open_row(r);
        return;
    }
    REQUIRE(CHECK(lo != 0));
    REQUIRE(CHECK_RC(mif_open(NULL, &ctx), MIF_OK));
    if (r->pvd_kind == PVD_LO) {
        pvd = lo_pvd(ctx, lo);
        if (!CHECK(pvd != 0))
            goto out;
    }

    union { mif_request req; unsigned char bytes[sizeof(mif_request) + 64]; } buf;
    memset(&buf, 0, sizeof buf);
    mif_request_init(&buf.req, r->type);
    if (r->size_set)
        buf.req.size = r->size;
    buf.req.ifindex = r->ifindex_kind == IFX_LO ? lo : r->ifindex;
    buf.req.pvd = r->pvd_kind == PVD_LO ? pvd : r->pvd;
    buf.req.reserved = r->reserved;
    buf.req.element_type = r->element_type;
    buf.req.info_id = r->info_id;

    if (r->prep == PREP_QUEUE) {
        CHECK_RC(check_post(ctx, MIF_REQ_ANNOUNCE_INTERFACES, 0, 0), MIF_OK);
        CHECK_RC(mif_check_message(ctx, 0), MIF_OK);
    } else if (r->prep == PREP_START_STOP) {
        CHECK_RC(check_post(ctx, start_of(r->type), buf.req.ifindex, buf.req.pvd), MIF_OK);
        CHECK_RC(check_post(ctx, r->type, buf.req.ifindex, buf.req.pvd), MIF_OK);
        check_drain(ctx);
    }

    switch (r->call) {
    case POST:
        rc = mif_post_message(r->null_ctx ? NULL : ctx, r->null_arg ? NULL : &buf.req);
        break;
    case CHECKMSG:
        rc = mif_check_message(r->null_ctx ? NULL : ctx, r->timeout);
        break;
    case GET: {
        mif_message *m = (mif_message *)CHECK_SENTINEL;
        rc = mif_get_message(r->null_ctx ? NULL : ctx, r->null_arg ? NULL : &m);
        if (rc != MIF_OK)
            CHECK(m == (mif_message *)CHECK_SENTINEL);
        else if (CHECK(m != (mif_message *)CHECK_SENTINEL))
            mif_message_free(m);
        break;
    }
    default:
        rc = MIF_E_INTERNAL;
    }
    CHECK_RC(rc, r->want);

    if (rc != MIF_OK) {
        /* A failed call queues nothing (and loses nothing already queued)... */
        CHECK_RC(mif_check_message(ctx, 0), r->prep == PREP_QUEUE ? MIF_OK : MIF_NO_MESSAGE);
        if (r->prep == PREP_QUEUE) {
            mif_message *m = NULL;
            if (CHECK_RC(mif_get_message(ctx, &m), MIF_OK)) {
                CHECK(m != NULL && m->msg_type == MIF_MSG_INTERFACE_ANNOUNCEMENT);
                mif_message_free(m);
            }
            check_drain(ctx);
        }
        /* ...and the context still works. */
        CHECK_RC(check_post(ctx, MIF_REQ_ANNOUNCE_INTERFACES, 0, 0), MIF_OK);
        mif_message *m = NULL;
        if (CHECK_RC(mif_get_message(ctx, &m), MIF_OK)) {
            check_message_well_formed(m);
            mif_message_free(m);
        }
    }
out:
    mif_close(ctx);
}

int main(void)
{
    size_t i;
    check_watchdog(240);
    for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        current = &rows[i];
        check_run(rows[i].name, run_row);
    }
    return check_done();
}
