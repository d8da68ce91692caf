/*
 * test_bad_inputs: a table of bad inputs, each answered by the code the header names
 * for it.  Every row runs on a fresh context.  On failure, out-parameters stay as they
 * were (pre-set to a sentinel) and a failed post queues nothing and leaves the context
 * usable.  The rows marked "control" are valid inputs next to the bad ones: they show
 * that the bad row fails for the reason it names.
 *
 * Needs `lo` (up, with 127.0.0.1 and ::1: run.sh brings it up) and, for the rows
 * that need a translation or a connect to stay outstanding, the blackhole bed of
 * bed.h (veth mt0 with a DNS server / destination that never answers), made once
 * inside the private namespace run.sh gives this binary.  Those rows open their
 * context on a scratch root directory whose etc/mif.conf gives mt0 that DNS server.
 */
#include "mif.h"
#include "check.h"
#include "bed.h"

#include <fcntl.h>
#include <limits.h>

enum call { POST, OPEN, CHECKMSG, GET, BIND };
enum { IFX_VALUE = 0, IFX_LO };     /* ifindex: the value, or lo's index */
/* pvd: the value, or a PvD of this context: lo/ipv4, lo/ipv6, mt0/ipv4 (the bed) */
enum { PVD_VALUE = 0, PVD_LO, PVD_LO6, PVD_MT };
enum {
    PREP_NONE = 0,
    PREP_QUEUE,        /* a message waits first */
    PREP_START_STOP,   /* the matching start and this stop first */
    PREP_TRANSLATE,    /* an outstanding translation with the same id and pvd first */
    PREP_CONNECT,      /* an outstanding connect with the same id and pvd first */
    PREP_DEFAULT,      /* MIF_REQ_CONNECT_TO_PVD lo/ipv4 first */
};
enum { FD_UDP4 = 0, FD_MINUS1, FD_PIPE, FD_TCP4, FD_UDP6, FD_UNIX, FD_CLOSED };  /* BIND, WATCH_SOCKET: which descriptor */
#define NAME_64_LABEL "a234567890123456789012345678901234567890123456789012345678901234.example"
#define NAME_63_LABEL "a23456789012345678901234567890123456789012345678901234567890123.example"
#define L63 "a23456789012345678901234567890123456789012345678901234567890123"
#define NAME_253 L63 "." L63 "." L63 ".a234567890123456789012345678901234567890123456789012345678901"
#define NAME_254 L63 "." L63 "." L63 ".a2345678901234567890123456789012345678901234567890123456789012"

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
    uint64_t translation_id;
    const char *qname;     /* translate: the name (NULL stays NULL) */
    uint64_t connection_id;
    const char *remote;    /* connect: remote address text (NULL: family 0) */
    int remote_family;     /* non-zero: overrides remote.family */
    uint32_t remote_scope; /* non-zero: overrides remote.scope_id */
    uint8_t remote_reserved; /* non-zero: remote.reserved[1] */
    uint8_t local_reserved;  /* non-zero: local.reserved[2] */
    uint16_t remote_port;
    const char *local;     /* connect from: local address text (NULL: family 0) */
    uint16_t reserved2;
    uint32_t reserved3;
    int fd_kind;           /* BIND */
    int bind_source;       /* BIND */
    uint32_t opt_flags;
    int32_t rcvbuf;
    uint32_t test_flags;
    uint32_t attempt_delay;
    uint32_t horizon;          /* OPEN: opts.going_away_horizon_ms */
    uint32_t opt_reserved3;    /* OPEN: opts.reserved3 */
    int timeout;
    int prep;
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
    { .name = "opts.flags 4 (unknown)", .call = OPEN, .use_opts = 1, .opt_flags = 4, .want = MIF_E_INVALID_ARGUMENT },
    { .name = "opts.flags 0x80000000", .call = OPEN, .use_opts = 1, .opt_flags = 0x80000000u, .want = MIF_E_INVALID_ARGUMENT },
    { .name = "opts.test_netlink_rcvbuf -1", .call = OPEN, .use_opts = 1, .rcvbuf = -1, .want = MIF_E_INVALID_ARGUMENT },
    { .name = "opts.test_netlink_rcvbuf INT32_MIN", .call = OPEN, .use_opts = 1, .rcvbuf = INT32_MIN, .want = MIF_E_INVALID_ARGUMENT },
    { .name = "control: opts.test_flags MIF_TEST_NO_BINDTODEVICE (bit 2)", .call = OPEN, .use_opts = 1, .test_flags = MIF_TEST_NO_BINDTODEVICE, .want = MIF_OK },
    { .name = "opts.test_flags unknown bit 4", .call = OPEN, .use_opts = 1, .test_flags = 4, .want = MIF_E_INVALID_ARGUMENT },
    { .name = "opts.test_flags unknown bit 31", .call = OPEN, .use_opts = 1, .test_flags = 0x80000000u, .want = MIF_E_INVALID_ARGUMENT },
    { .name = "opts.connect_attempt_delay_ms 5", .call = OPEN, .use_opts = 1, .attempt_delay = 5, .want = MIF_E_INVALID_ARGUMENT },
    { .name = "opts.connect_attempt_delay_ms 9", .call = OPEN, .use_opts = 1, .attempt_delay = 9, .want = MIF_E_INVALID_ARGUMENT },
    { .name = "control: opts.connect_attempt_delay_ms 10", .call = OPEN, .use_opts = 1, .attempt_delay = 10, .want = MIF_OK },
    { .name = "control: opts.connect_attempt_delay_ms 2000", .call = OPEN, .use_opts = 1, .attempt_delay = 2000, .want = MIF_OK },
    { .name = "opts.connect_attempt_delay_ms 2001", .call = OPEN, .use_opts = 1, .attempt_delay = 2001, .want = MIF_E_INVALID_ARGUMENT },
    { .name = "opts.going_away_horizon_ms 999", .call = OPEN, .use_opts = 1, .horizon = 999, .want = MIF_E_INVALID_ARGUMENT },
    { .name = "opts.going_away_horizon_ms 1000", .call = OPEN, .use_opts = 1, .horizon = 1000, .want = MIF_OK },
    { .name = "opts.going_away_horizon_ms 3600000", .call = OPEN, .use_opts = 1, .horizon = 3600000, .want = MIF_OK },
    { .name = "opts.going_away_horizon_ms 3600001", .call = OPEN, .use_opts = 1, .horizon = 3600001, .want = MIF_E_INVALID_ARGUMENT },
    { .name = "opts.reserved3 1", .call = OPEN, .use_opts = 1, .opt_reserved3 = 1, .want = MIF_E_INVALID_ARGUMENT },
    { .name = "opts.connect_attempt_delay_ms 3000", .call = OPEN, .use_opts = 1, .attempt_delay = 3000, .want = MIF_E_INVALID_ARGUMENT },

    /* request types (16 and 17 would be Application Connectivity Management: not accepted) */
    { .name = "request type 0", .call = POST, .type = 0, .want = MIF_E_UNKNOWN_REQUEST_TYPE },
    { .name = "request type 25", .call = POST, .type = 25, .want = MIF_E_UNKNOWN_REQUEST_TYPE },
    { .name = "request type 26", .call = POST, .type = 26, .want = MIF_E_UNKNOWN_REQUEST_TYPE },

    /* connection viability and intents (draft 3.2.7.26) */
    { .name = "watch_connection: no Connected with this id", .call = POST, .type = MIF_REQ_WATCH_CONNECTION, .connection_id = 42, .want = MIF_E_UNKNOWN_CONNECTION },
    { .name = "stop_watching_connection: not watched", .call = POST, .type = MIF_REQ_STOP_WATCHING_CONNECTION, .connection_id = 42, .want = MIF_E_UNKNOWN_CONNECTION },
    { .name = "connection_idle: not watched", .call = POST, .type = MIF_REQ_CONNECTION_IDLE, .connection_id = 42, .want = MIF_E_UNKNOWN_CONNECTION },
    { .name = "connection_can_be_broken: not watched", .call = POST, .type = MIF_REQ_CONNECTION_CAN_BE_BROKEN, .connection_id = 42, .want = MIF_E_UNKNOWN_CONNECTION },
    { .name = "connection_active: not watched", .call = POST, .type = MIF_REQ_CONNECTION_ACTIVE, .connection_id = 42, .want = MIF_E_UNKNOWN_CONNECTION },
    { .name = "get_connection_states: ifindex 999999", .call = POST, .type = MIF_REQ_GET_CONNECTION_STATES, .ifindex = 999999, .want = MIF_E_UNKNOWN_INTERFACE },
    { .name = "control: get_connection_states: every interface", .call = POST, .type = MIF_REQ_GET_CONNECTION_STATES, .want = MIF_OK },
    { .name = "watch_socket: fd -1", .call = POST, .type = MIF_REQ_WATCH_SOCKET, .fd_kind = FD_MINUS1, .want = MIF_E_BAD_DESCRIPTOR },
    { .name = "watch_socket: a closed descriptor", .call = POST, .type = MIF_REQ_WATCH_SOCKET, .fd_kind = FD_CLOSED, .want = MIF_E_BAD_DESCRIPTOR },
    { .name = "watch_socket: a pipe", .call = POST, .type = MIF_REQ_WATCH_SOCKET, .fd_kind = FD_PIPE, .want = MIF_E_NOT_A_SOCKET },
    { .name = "watch_socket: AF_UNIX socket", .call = POST, .type = MIF_REQ_WATCH_SOCKET, .fd_kind = FD_UNIX, .want = MIF_E_NOT_A_SOCKET },
    { .name = "watch_socket: unbound TCP socket", .call = POST, .type = MIF_REQ_WATCH_SOCKET, .fd_kind = FD_TCP4, .want = MIF_E_NO_PATH },
    { .name = "watch_socket: size short of socket", .call = POST, .type = MIF_REQ_WATCH_SOCKET, .fd_kind = FD_UDP4, .size_set = 1, .size = offsetof(mif_request, socket), .want = MIF_E_BAD_SIZE },
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
    { .name = "reserved 1: translate_name", .call = POST, .type = MIF_REQ_TRANSLATE_NAME, .pvd_kind = PVD_LO, .qname = "a.example", .reserved = 1, .want = MIF_E_INVALID_ARGUMENT },
    { .name = "reserved 1: connect_to_address", .call = POST, .type = MIF_REQ_CONNECT_TO_ADDRESS, .pvd_kind = PVD_LO, .remote = "127.0.0.1", .remote_port = 9, .reserved = 1, .want = MIF_E_INVALID_ARGUMENT },
    { .name = "reserved2 1: connect_to_address", .call = POST, .type = MIF_REQ_CONNECT_TO_ADDRESS, .pvd_kind = PVD_LO, .remote = "127.0.0.1", .remote_port = 9, .reserved2 = 1, .want = MIF_E_INVALID_ARGUMENT },
    { .name = "reserved2 0xffff: connect_to_address", .call = POST, .type = MIF_REQ_CONNECT_TO_ADDRESS, .pvd_kind = PVD_LO, .remote = "127.0.0.1", .remote_port = 9, .reserved2 = 0xffff, .want = MIF_E_INVALID_ARGUMENT },
    { .name = "reserved3 1: connect_to_address", .call = POST, .type = MIF_REQ_CONNECT_TO_ADDRESS, .pvd_kind = PVD_LO, .remote = "127.0.0.1", .remote_port = 9, .reserved3 = 1, .want = MIF_E_INVALID_ARGUMENT },
    { .name = "reserved2 1: connect_from_address", .call = POST, .type = MIF_REQ_CONNECT_FROM_ADDRESS, .pvd_kind = PVD_LO, .remote = "127.0.0.1", .remote_port = 9, .local = "127.0.0.1", .reserved2 = 1, .want = MIF_E_INVALID_ARGUMENT },
    { .name = "reserved3 0x80000000: connect_from_address", .call = POST, .type = MIF_REQ_CONNECT_FROM_ADDRESS, .pvd_kind = PVD_LO, .remote = "127.0.0.1", .remote_port = 9, .local = "127.0.0.1", .reserved3 = 0x80000000u, .want = MIF_E_INVALID_ARGUMENT },
    { .name = "control: connect_to_address lo/ipv4 -> 127.0.0.1:9", .call = POST, .type = MIF_REQ_CONNECT_TO_ADDRESS, .pvd_kind = PVD_LO, .remote = "127.0.0.1", .remote_port = 9, .want = MIF_OK },

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
    { .name = "control: get_configuration_data: captive portal (5)", .call = POST, .type = MIF_REQ_GET_CONFIGURATION_DATA, .pvd_kind = PVD_LO, .info_id = MIF_INFO_CAPTIVE_PORTAL, .want = MIF_OK },
    { .name = "control: get_configuration_data: NAT64 prefix (6)", .call = POST, .type = MIF_REQ_GET_CONFIGURATION_DATA, .pvd_kind = PVD_LO, .info_id = MIF_INFO_PREF64, .want = MIF_OK },
    { .name = "get_configuration_data: info_id 7", .call = POST, .type = MIF_REQ_GET_CONFIGURATION_DATA, .pvd_kind = PVD_LO, .info_id = 7, .want = MIF_E_UNKNOWN_INFO_ID },
    { .name = "get_configuration_data: info_id 0xffffffff", .call = POST, .type = MIF_REQ_GET_CONFIGURATION_DATA, .pvd_kind = PVD_LO, .info_id = 0xffffffffu, .want = MIF_E_UNKNOWN_INFO_ID },
    { .name = "control: get_configuration_data: any/all on lo/ipv4", .call = POST, .type = MIF_REQ_GET_CONFIGURATION_DATA, .pvd_kind = PVD_LO, .want = MIF_OK },
    { .name = "control: get_configuration_data: system/mtu on lo/ipv4", .call = POST, .type = MIF_REQ_GET_CONFIGURATION_DATA, .pvd_kind = PVD_LO, .element_type = MIF_ELEMENT_SYSTEM, .info_id = MIF_INFO_MTU, .want = MIF_OK },
    { .name = "announce_config_elements: pvd 999999", .call = POST, .type = MIF_REQ_ANNOUNCE_CONFIG_ELEMENTS, .pvd = 999999, .want = MIF_E_UNKNOWN_PVD },
    { .name = "stop_announcing_config_elements: pvd 999999", .call = POST, .type = MIF_REQ_STOP_ANNOUNCING_CONFIG_ELEMENTS, .pvd = 999999, .want = MIF_E_UNKNOWN_PVD },
    { .name = "get_configuration_data: pvd 999999", .call = POST, .type = MIF_REQ_GET_CONFIGURATION_DATA, .pvd = 999999, .want = MIF_E_UNKNOWN_PVD },
    { .name = "get_configuration_data: pvd 0", .call = POST, .type = MIF_REQ_GET_CONFIGURATION_DATA, .pvd = 0, .want = MIF_E_UNKNOWN_PVD },
    { .name = "get_configuration_data: pvd UINT64_MAX, element static", .call = POST, .type = MIF_REQ_GET_CONFIGURATION_DATA, .pvd = UINT64_MAX, .element_type = MIF_ELEMENT_STATIC, .info_id = MIF_INFO_DNS_SERVERS, .want = MIF_E_UNKNOWN_PVD },

    /* translate name: the name */
    { .name = "translate: name NULL", .call = POST, .type = MIF_REQ_TRANSLATE_NAME, .pvd_kind = PVD_LO, .translation_id = 1, .qname = NULL, .want = MIF_E_NULL_ARGUMENT },
    { .name = "translate: name empty", .call = POST, .type = MIF_REQ_TRANSLATE_NAME, .pvd_kind = PVD_LO, .translation_id = 1, .qname = "", .want = MIF_E_BAD_NAME },
    { .name = "translate: name \"a..b\"", .call = POST, .type = MIF_REQ_TRANSLATE_NAME, .pvd_kind = PVD_LO, .translation_id = 1, .qname = "a..b", .want = MIF_E_BAD_NAME },
    { .name = "translate: a label of 64 octets", .call = POST, .type = MIF_REQ_TRANSLATE_NAME, .pvd_kind = PVD_LO, .translation_id = 1, .qname = NAME_64_LABEL, .want = MIF_E_BAD_NAME },
    { .name = "control: translate: a label of 63 octets", .call = POST, .type = MIF_REQ_TRANSLATE_NAME, .pvd_kind = PVD_LO, .translation_id = 1, .qname = NAME_63_LABEL, .want = MIF_OK },
    { .name = "translate: a name of 254 octets", .call = POST, .type = MIF_REQ_TRANSLATE_NAME, .pvd_kind = PVD_LO, .translation_id = 1, .qname = NAME_254, .want = MIF_E_BAD_NAME },
    { .name = "control: translate: a name of 253 octets", .call = POST, .type = MIF_REQ_TRANSLATE_NAME, .pvd_kind = PVD_LO, .translation_id = 1, .qname = NAME_253, .want = MIF_OK },
    { .name = "control: translate: a name of 253 octets and the root dot", .call = POST, .type = MIF_REQ_TRANSLATE_NAME, .pvd_kind = PVD_LO, .translation_id = 1, .qname = NAME_253 ".", .want = MIF_OK },
    { .name = "translate: invalid UTF-8 (0xff 0xfe)", .call = POST, .type = MIF_REQ_TRANSLATE_NAME, .pvd_kind = PVD_LO, .translation_id = 1, .qname = "\xff\xfe.example", .want = MIF_E_BAD_NAME },
    { .name = "translate: invalid UTF-8 (truncated sequence)", .call = POST, .type = MIF_REQ_TRANSLATE_NAME, .pvd_kind = PVD_LO, .translation_id = 1, .qname = "caf\xc3", .want = MIF_E_BAD_NAME },
    { .name = "control: translate: UTF-8 name (IDNA)", .call = POST, .type = MIF_REQ_TRANSLATE_NAME, .pvd_kind = PVD_LO, .translation_id = 1, .qname = "b\xc3\xbc" "cher.example", .want = MIF_OK },
    /* translate name: the pvd and the id */
    { .name = "translate: pvd 999999", .call = POST, .type = MIF_REQ_TRANSLATE_NAME, .pvd = 999999, .translation_id = 1, .qname = "a.example", .want = MIF_E_UNKNOWN_PVD },
    { .name = "translate: pvd 0", .call = POST, .type = MIF_REQ_TRANSLATE_NAME, .pvd = 0, .translation_id = 1, .qname = "a.example", .want = MIF_E_UNKNOWN_PVD },
    { .name = "translate: pvd 0 with a default PvD (translation ignores it)", .call = POST, .type = MIF_REQ_TRANSLATE_NAME, .pvd = 0, .translation_id = 1, .qname = "a.example", .prep = PREP_DEFAULT, .want = MIF_E_UNKNOWN_PVD },
    { .name = "translate: id of an outstanding translation", .call = POST, .type = MIF_REQ_TRANSLATE_NAME, .pvd_kind = PVD_MT, .translation_id = 7, .qname = "a.example", .prep = PREP_TRANSLATE, .want = MIF_E_DUPLICATE_ID },
    { .name = "control: translate: another id than the outstanding translation", .call = POST, .type = MIF_REQ_TRANSLATE_NAME, .pvd_kind = PVD_MT, .translation_id = 8, .qname = "a.example", .prep = PREP_TRANSLATE, .want = MIF_OK },
    { .name = "control: translate on the bed (stays outstanding)", .call = POST, .type = MIF_REQ_TRANSLATE_NAME, .pvd_kind = PVD_MT, .translation_id = 7, .qname = "a.example", .want = MIF_OK },
    { .name = "stop_translating_name: unknown id", .call = POST, .type = MIF_REQ_STOP_TRANSLATING_NAME, .translation_id = 12345, .want = MIF_E_UNKNOWN_TRANSLATION },
    { .name = "stop_translating_name: id 0, none outstanding", .call = POST, .type = MIF_REQ_STOP_TRANSLATING_NAME, .translation_id = 0, .want = MIF_E_UNKNOWN_TRANSLATION },
    { .name = "stop_translating_name: another id than the outstanding one", .call = POST, .type = MIF_REQ_STOP_TRANSLATING_NAME, .pvd_kind = PVD_MT, .translation_id = 8, .prep = PREP_TRANSLATE, .want = MIF_E_UNKNOWN_TRANSLATION },
    { .name = "control: stop_translating_name of the outstanding translation", .call = POST, .type = MIF_REQ_STOP_TRANSLATING_NAME, .pvd_kind = PVD_MT, .translation_id = 7, .prep = PREP_TRANSLATE, .want = MIF_OK },

    /* connect: the remote address */
    { .name = "connect: remote family 0", .call = POST, .type = MIF_REQ_CONNECT_TO_ADDRESS, .pvd_kind = PVD_LO, .connection_id = 1, .remote = NULL, .remote_port = 9, .want = MIF_E_BAD_ADDRESS },
    { .name = "connect: remote family 7", .call = POST, .type = MIF_REQ_CONNECT_TO_ADDRESS, .pvd_kind = PVD_LO, .connection_id = 1, .remote = "127.0.0.1", .remote_family = 7, .remote_port = 9, .want = MIF_E_BAD_ADDRESS },
    { .name = "connect: remote family 2 (AF_INET, not MIF_FAMILY_IPV4)", .call = POST, .type = MIF_REQ_CONNECT_TO_ADDRESS, .pvd_kind = PVD_LO, .connection_id = 1, .remote = "127.0.0.1", .remote_family = 2, .remote_port = 9, .want = MIF_E_BAD_ADDRESS },
    { .name = "connect: port 0", .call = POST, .type = MIF_REQ_CONNECT_TO_ADDRESS, .pvd_kind = PVD_LO, .connection_id = 1, .remote = "127.0.0.1", .remote_port = 0, .want = MIF_E_BAD_ADDRESS },
    { .name = "connect: remote 0.0.0.0", .call = POST, .type = MIF_REQ_CONNECT_TO_ADDRESS, .pvd_kind = PVD_LO, .connection_id = 1, .remote = "0.0.0.0", .remote_port = 9, .want = MIF_E_BAD_ADDRESS },
    { .name = "connect: remote ::", .call = POST, .type = MIF_REQ_CONNECT_TO_ADDRESS, .pvd_kind = PVD_LO6, .connection_id = 1, .remote = "::", .remote_port = 9, .want = MIF_E_BAD_ADDRESS },
    { .name = "connect: remote 224.0.0.1 (multicast)", .call = POST, .type = MIF_REQ_CONNECT_TO_ADDRESS, .pvd_kind = PVD_LO, .connection_id = 1, .remote = "224.0.0.1", .remote_port = 9, .want = MIF_E_BAD_ADDRESS },
    { .name = "connect: remote 239.255.255.250 (multicast)", .call = POST, .type = MIF_REQ_CONNECT_TO_ADDRESS, .pvd_kind = PVD_LO, .connection_id = 1, .remote = "239.255.255.250", .remote_port = 9, .want = MIF_E_BAD_ADDRESS },
    { .name = "connect: remote ff02::1 (multicast)", .call = POST, .type = MIF_REQ_CONNECT_TO_ADDRESS, .pvd_kind = PVD_LO6, .connection_id = 1, .remote = "ff02::1", .remote_port = 9, .want = MIF_E_BAD_ADDRESS },
    { .name = "connect: IPv6 remote on an IPv4 PvD", .call = POST, .type = MIF_REQ_CONNECT_TO_ADDRESS, .pvd_kind = PVD_LO, .connection_id = 1, .remote = "::1", .remote_port = 9, .want = MIF_E_BAD_ADDRESS },
    { .name = "connect: remote 255.255.255.255 (broadcast)", .call = POST, .type = MIF_REQ_CONNECT_TO_ADDRESS, .pvd_kind = PVD_LO, .connection_id = 1, .remote = "255.255.255.255", .remote_port = 9, .want = MIF_E_BAD_ADDRESS },
    { .name = "connect: IPv4 remote with a scope id", .call = POST, .type = MIF_REQ_CONNECT_TO_ADDRESS, .pvd_kind = PVD_LO, .connection_id = 1, .remote = "127.0.0.1", .remote_scope = 1, .remote_port = 9, .want = MIF_E_BAD_ADDRESS },
    { .name = "connect: remote reserved byte set", .call = POST, .type = MIF_REQ_CONNECT_TO_ADDRESS, .pvd_kind = PVD_LO, .connection_id = 1, .remote = "127.0.0.1", .remote_reserved = 1, .remote_port = 9, .want = MIF_E_INVALID_ARGUMENT },
    { .name = "connect_from: local reserved byte set", .call = POST, .type = MIF_REQ_CONNECT_FROM_ADDRESS, .pvd_kind = PVD_LO, .connection_id = 1, .remote = "127.0.0.1", .remote_port = 9, .local = "127.0.0.1", .local_reserved = 0x80, .want = MIF_E_INVALID_ARGUMENT },
    { .name = "connect: IPv4 remote on an IPv6 PvD", .call = POST, .type = MIF_REQ_CONNECT_TO_ADDRESS, .pvd_kind = PVD_LO6, .connection_id = 1, .remote = "127.0.0.1", .remote_port = 9, .want = MIF_E_BAD_ADDRESS },
    { .name = "control: connect lo/ipv6 -> [::1]:9", .call = POST, .type = MIF_REQ_CONNECT_TO_ADDRESS, .pvd_kind = PVD_LO6, .connection_id = 1, .remote = "::1", .remote_port = 9, .want = MIF_OK },
    { .name = "connect_from: port 0", .call = POST, .type = MIF_REQ_CONNECT_FROM_ADDRESS, .pvd_kind = PVD_LO, .connection_id = 1, .remote = "127.0.0.1", .remote_port = 0, .local = "127.0.0.1", .want = MIF_E_BAD_ADDRESS },
    { .name = "connect_from: remote multicast", .call = POST, .type = MIF_REQ_CONNECT_FROM_ADDRESS, .pvd_kind = PVD_LO, .connection_id = 1, .remote = "224.0.0.1", .remote_port = 9, .local = "127.0.0.1", .want = MIF_E_BAD_ADDRESS },
    /* connect from: the source */
    { .name = "connect_from: a source of another network", .call = POST, .type = MIF_REQ_CONNECT_FROM_ADDRESS, .pvd_kind = PVD_LO, .connection_id = 1, .remote = "127.0.0.1", .remote_port = 9, .local = "198.51.100.99", .want = MIF_E_BAD_SOURCE },
    { .name = "connect_from: a source of another PvD (mt0's on lo/ipv4)", .call = POST, .type = MIF_REQ_CONNECT_FROM_ADDRESS, .pvd_kind = PVD_LO, .connection_id = 1, .remote = "127.0.0.1", .remote_port = 9, .local = CHECK_BED_ADDR, .want = MIF_E_BAD_SOURCE },
    { .name = "connect_from: an IPv6 source on lo/ipv4", .call = POST, .type = MIF_REQ_CONNECT_FROM_ADDRESS, .pvd_kind = PVD_LO, .connection_id = 1, .remote = "127.0.0.1", .remote_port = 9, .local = "::1", .want = MIF_E_BAD_SOURCE },
    { .name = "connect_from: source family 0", .call = POST, .type = MIF_REQ_CONNECT_FROM_ADDRESS, .pvd_kind = PVD_LO, .connection_id = 1, .remote = "127.0.0.1", .remote_port = 9, .local = NULL, .want = MIF_E_BAD_SOURCE },
    { .name = "control: connect_from 127.0.0.1 on lo/ipv4", .call = POST, .type = MIF_REQ_CONNECT_FROM_ADDRESS, .pvd_kind = PVD_LO, .connection_id = 1, .remote = "127.0.0.1", .remote_port = 9, .local = "127.0.0.1", .want = MIF_OK },
    /* connect: the PvD and the id */
    { .name = "connect: pvd 999999", .call = POST, .type = MIF_REQ_CONNECT_TO_ADDRESS, .pvd = 999999, .connection_id = 1, .remote = "127.0.0.1", .remote_port = 9, .want = MIF_E_UNKNOWN_PVD },
    { .name = "connect: pvd 0 without a default", .call = POST, .type = MIF_REQ_CONNECT_TO_ADDRESS, .pvd = 0, .connection_id = 1, .remote = "127.0.0.1", .remote_port = 9, .want = MIF_E_NO_DEFAULT_PVD },
    { .name = "connect_from: pvd 0 without a default", .call = POST, .type = MIF_REQ_CONNECT_FROM_ADDRESS, .pvd = 0, .connection_id = 1, .remote = "127.0.0.1", .remote_port = 9, .local = "127.0.0.1", .want = MIF_E_NO_DEFAULT_PVD },
    { .name = "control: connect: pvd 0 with a default", .call = POST, .type = MIF_REQ_CONNECT_TO_ADDRESS, .pvd = 0, .connection_id = 1, .remote = "127.0.0.1", .remote_port = 9, .prep = PREP_DEFAULT, .want = MIF_OK },
    { .name = "connect_to_pvd: pvd 999999", .call = POST, .type = MIF_REQ_CONNECT_TO_PVD, .pvd = 999999, .want = MIF_E_UNKNOWN_PVD },
    { .name = "control: connect_to_pvd lo/ipv6", .call = POST, .type = MIF_REQ_CONNECT_TO_PVD, .pvd_kind = PVD_LO6, .want = MIF_OK },
    { .name = "connect: id of an outstanding connect", .call = POST, .type = MIF_REQ_CONNECT_TO_ADDRESS, .pvd_kind = PVD_MT, .connection_id = 5, .remote = CHECK_BLACKHOLE, .remote_port = 80, .prep = PREP_CONNECT, .want = MIF_E_DUPLICATE_ID },
    { .name = "connect_from: id of an outstanding connect", .call = POST, .type = MIF_REQ_CONNECT_FROM_ADDRESS, .pvd_kind = PVD_MT, .connection_id = 5, .remote = CHECK_BLACKHOLE, .remote_port = 80, .local = CHECK_BED_ADDR, .prep = PREP_CONNECT, .want = MIF_E_DUPLICATE_ID },
    { .name = "control: connect on the bed (stays outstanding)", .call = POST, .type = MIF_REQ_CONNECT_TO_ADDRESS, .pvd_kind = PVD_MT, .connection_id = 5, .remote = CHECK_BLACKHOLE, .remote_port = 80, .want = MIF_OK },
    { .name = "cancel_connect: unknown id", .call = POST, .type = MIF_REQ_CANCEL_CONNECT, .connection_id = 999, .want = MIF_E_UNKNOWN_CONNECTION },
    { .name = "cancel_connect: id 0, none outstanding", .call = POST, .type = MIF_REQ_CANCEL_CONNECT, .connection_id = 0, .want = MIF_E_UNKNOWN_CONNECTION },
    { .name = "cancel_connect: another id than the outstanding connect", .call = POST, .type = MIF_REQ_CANCEL_CONNECT, .pvd_kind = PVD_MT, .connection_id = 6, .prep = PREP_CONNECT, .want = MIF_E_UNKNOWN_CONNECTION },
    { .name = "control: connect: another id than the outstanding connect", .call = POST, .type = MIF_REQ_CONNECT_TO_ADDRESS, .pvd_kind = PVD_MT, .connection_id = 6, .remote = CHECK_BLACKHOLE, .remote_port = 80, .prep = PREP_CONNECT, .want = MIF_OK },
    { .name = "control: cancel_connect of the outstanding connect", .call = POST, .type = MIF_REQ_CANCEL_CONNECT, .pvd_kind = PVD_MT, .connection_id = 5, .remote = CHECK_BLACKHOLE, .remote_port = 80, .prep = PREP_CONNECT, .want = MIF_OK },

    /* mif_bind_socket */
    { .name = "bind_socket: NULL ctx", .call = BIND, .null_ctx = 1, .pvd_kind = PVD_LO, .fd_kind = FD_UDP4, .want = MIF_E_NULL_ARGUMENT },
    { .name = "bind_socket: pvd 999999", .call = BIND, .pvd = 999999, .fd_kind = FD_UDP4, .want = MIF_E_UNKNOWN_PVD },
    { .name = "bind_socket: pvd 0 without a default", .call = BIND, .pvd = 0, .fd_kind = FD_UDP4, .want = MIF_E_NO_DEFAULT_PVD },
    { .name = "bind_socket: fd -1", .call = BIND, .pvd_kind = PVD_LO, .fd_kind = FD_MINUS1, .want = MIF_E_INVALID_ARGUMENT },
    { .name = "bind_socket: fd -1, bind_source", .call = BIND, .pvd_kind = PVD_LO, .fd_kind = FD_MINUS1, .bind_source = 1, .want = MIF_E_INVALID_ARGUMENT },
    { .name = "bind_socket: a pipe", .call = BIND, .pvd_kind = PVD_LO, .fd_kind = FD_PIPE, .want = MIF_E_INVALID_ARGUMENT },
    { .name = "bind_socket: IPv6 socket on lo/ipv4", .call = BIND, .pvd_kind = PVD_LO, .fd_kind = FD_UDP6, .want = MIF_E_BAD_ADDRESS },
    { .name = "bind_socket: AF_UNIX socket", .call = BIND, .pvd_kind = PVD_LO, .fd_kind = FD_UNIX, .want = MIF_E_BAD_ADDRESS },
    { .name = "control: bind_socket: UDP on lo/ipv4", .call = BIND, .pvd_kind = PVD_LO, .fd_kind = FD_UDP4, .want = MIF_OK },
    { .name = "control: bind_socket: UDP on lo/ipv4, bind_source", .call = BIND, .pvd_kind = PVD_LO, .fd_kind = FD_UDP4, .bind_source = 1, .want = MIF_OK },
    { .name = "control: bind_socket: pvd 0 with a default", .call = BIND, .pvd = 0, .fd_kind = FD_UDP4, .prep = PREP_DEFAULT, .want = MIF_OK },
    { .name = "control: bind_socket: TCP on lo/ipv4, bind_source", .call = BIND, .pvd_kind = PVD_LO, .fd_kind = FD_TCP4, .bind_source = 1, .want = MIF_OK },
    { .name = "bind_socket: TCP without SO_BINDTODEVICE (MIF_TEST_NO_BINDTODEVICE)", .call = BIND, .pvd_kind = PVD_LO, .fd_kind = FD_TCP4, .test_flags = MIF_TEST_NO_BINDTODEVICE, .want = MIF_E_PERMISSION },
    { .name = "control: bind_socket: UDP without SO_BINDTODEVICE (MIF_TEST_NO_BINDTODEVICE)", .call = BIND, .pvd_kind = PVD_LO, .fd_kind = FD_UDP4, .bind_source = 1, .test_flags = MIF_TEST_NO_BINDTODEVICE, .want = MIF_OK },

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
static char bed_root[256];   /* the scratch root of the bed's contexts ("" if none) */
static int bed_ok;

/* The ids PREP_TRANSLATE and PREP_CONNECT use. */
#define PREP_TID 7
#define PREP_CID 5

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
    buf.opts.test_netlink_rcvbuf = r->rcvbuf;
    buf.opts.test_flags = r->test_flags;
    buf.opts.connect_attempt_delay_ms = r->attempt_delay;
    buf.opts.going_away_horizon_ms = r->horizon;
    buf.opts.reserved3 = r->opt_reserved3;

    rc = mif_open(r->use_opts ? &buf.opts : NULL, r->null_arg ? NULL : &ctx);
    CHECK_RC(rc, r->want);
    if (rc == MIF_OK) {
        if (CHECK(ctx != (mif_ctx *)CHECK_SENTINEL && ctx != NULL))
            mif_close(ctx);
    } else {
        CHECK(ctx == (mif_ctx *)CHECK_SENTINEL); /* untouched on failure */
    }
}

/* Opens the row's context: on the bed's root (slow DNS and connects) for PVD_MT rows. */
static mif_result open_for(const struct row *r, mif_ctx **ctx)
{
    mif_options opts;
    if (r->pvd_kind != PVD_MT && r->test_flags == 0)
        return mif_open(NULL, ctx);
    if (r->pvd_kind != PVD_MT) {
        mif_options_init(&opts);
        opts.test_flags = r->test_flags;
        return mif_open(&opts, ctx);
    }
    if (!CHECK(bed_ok))
        return MIF_E_SYSTEM;
    mif_options_init(&opts);
    opts.root_dir = bed_root;
    opts.dns_timeout_ms = 600000;     /* the blackholed server never answers: stays outstanding */
    opts.dns_tries = 1;
    opts.connect_timeout_ms = 600000;
    return mif_open(&opts, ctx);
}

/* The descriptor a BIND or WATCH_SOCKET row passes; -2 when it could not be made. */
static int make_fd(int kind, int pipefd[2])
{
    int fd = -1;
    switch (kind) {
    case FD_UDP4:
        fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        break;
    case FD_TCP4:
        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        break;
    case FD_UDP6:
        fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        break;
    case FD_UNIX:
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        break;
    case FD_PIPE:
        if (!CHECK(pipe2(pipefd, O_CLOEXEC) == 0))
            return -2;
        return pipefd[0];
    case FD_CLOSED:
        /* A number that was a descriptor a moment ago. */
        fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (!CHECK(fd >= 0))
            return -2;
        close(fd);
        return fd;
    default:
        return -1;
    }
    return CHECK(fd >= 0) ? fd : -2;
}

static mif_result bind_row(const struct row *r, mif_ctx *ctx, uint64_t pvd)
{
    int pipefd[2] = { -1, -1 };
    int fd = make_fd(r->fd_kind, pipefd);
    mif_result rc;
    if (fd == -2)
        return MIF_E_SYSTEM;
    rc = mif_bind_socket(r->null_ctx ? NULL : ctx, fd, pvd, r->bind_source);
    if (fd >= 0) {
        /* The descriptor stays the application's: still open after the call. */
        CHECK(fcntl(fd, F_GETFD) >= 0);
        close(fd);
    }
    if (pipefd[1] >= 0)
        close(pipefd[1]);
    return rc;
}

static void run_row(void)
{
    const struct row *r = current;
    mif_ctx *ctx = NULL;
    uint32_t lo = if_nametoindex("lo");
    uint64_t pvd = 0, lo4 = 0;
    mif_result rc;

    if (r->call == OPEN) {
        run_open_row(r);
        return;
    }
    REQUIRE(CHECK(lo != 0));
    REQUIRE(CHECK_RC(open_for(r, &ctx), MIF_OK));
    if (r->pvd_kind == PVD_LO || r->prep == PREP_DEFAULT) {
        lo4 = check_pvd_of(ctx, "lo", MIF_FAMILY_IPV4);
        if (!CHECK(lo4 != 0)) {
            check_note("lo has no IPv4 PvD: is lo up with 127.0.0.1 (run.sh brings it up)?");
            goto out;
        }
    }
    switch (r->pvd_kind) {
    case PVD_LO:
        pvd = lo4;
        break;
    case PVD_LO6:
        pvd = check_pvd_of(ctx, "lo", MIF_FAMILY_IPV6);
        break;
    case PVD_MT:
        pvd = check_pvd_of(ctx, CHECK_BED_IF, MIF_FAMILY_IPV4);
        if (pvd != 0 && !check_wait_dns_element(ctx, pvd))
            goto out;
        break;
    default:
        pvd = r->pvd;
    }
    if (r->pvd_kind != PVD_VALUE && !CHECK(pvd != 0))
        goto out;

    union { mif_request req; unsigned char bytes[sizeof(mif_request) + 64]; } buf;
    memset(&buf, 0, sizeof buf);
    mif_request_init(&buf.req, r->type);
    if (r->size_set)
        buf.req.size = r->size;
    buf.req.ifindex = r->ifindex_kind == IFX_LO ? lo : r->ifindex;
    buf.req.pvd = pvd;
    buf.req.reserved = r->reserved;
    buf.req.element_type = r->element_type;
    buf.req.info_id = r->info_id;
    buf.req.translation_id = r->translation_id;
    buf.req.name = r->qname;
    buf.req.connection_id = r->connection_id;
    if (r->remote != NULL)
        buf.req.remote = check_address(r->remote);
    if (r->remote_family != 0)
        buf.req.remote.family = (uint8_t)r->remote_family;
    if (r->remote_scope != 0)
        buf.req.remote.scope_id = r->remote_scope;
    buf.req.remote.reserved[1] = r->remote_reserved;
    buf.req.remote_port = r->remote_port;
    if (r->local != NULL)
        buf.req.local = check_address(r->local);
    buf.req.local.reserved[2] = r->local_reserved;
    buf.req.reserved2 = r->reserved2;
    buf.req.reserved3 = r->reserved3;

    switch (r->prep) {
    case PREP_QUEUE:
        CHECK_RC(check_post(ctx, MIF_REQ_ANNOUNCE_INTERFACES, 0, 0), MIF_OK);
        CHECK_RC(mif_check_message(ctx, 0), MIF_OK);
        break;
    case PREP_START_STOP:
        CHECK_RC(check_post(ctx, start_of(r->type), buf.req.ifindex, buf.req.pvd), MIF_OK);
        CHECK_RC(check_post(ctx, r->type, buf.req.ifindex, buf.req.pvd), MIF_OK);
        check_drain(ctx);
        break;
    case PREP_TRANSLATE: {
        mif_request t;
        mif_request_init(&t, MIF_REQ_TRANSLATE_NAME);
        t.pvd = pvd;
        t.translation_id = PREP_TID;
        t.name = "outstanding.example";
        CHECK_RC(mif_post_message(ctx, &t), MIF_OK);
        break;
    }
    case PREP_CONNECT: {
        mif_request c;
        mif_request_init(&c, MIF_REQ_CONNECT_TO_ADDRESS);
        c.pvd = pvd;
        c.connection_id = PREP_CID;
        c.remote = check_address(CHECK_BLACKHOLE);
        c.remote_port = 443;
        CHECK_RC(mif_post_message(ctx, &c), MIF_OK);
        break;
    }
    case PREP_DEFAULT:
        CHECK_RC(check_post(ctx, MIF_REQ_CONNECT_TO_PVD, 0, lo4), MIF_OK);
        break;
    default:
        break;
    }
    /* What the preparation queued or left outstanding produces no message meanwhile. */
    if (r->prep != PREP_QUEUE)
        CHECK_RC(mif_check_message(ctx, 0), MIF_NO_MESSAGE);

    switch (r->call) {
    case POST:
        if (r->type == MIF_REQ_WATCH_SOCKET) {
            int pipefd[2] = { -1, -1 };
            int fd = make_fd(r->fd_kind, pipefd);
            buf.req.socket = fd;
            rc = fd == -2 ? MIF_E_SYSTEM : mif_post_message(r->null_ctx ? NULL : ctx, r->null_arg ? NULL : &buf.req);
            if (fd >= 0 && r->fd_kind != FD_CLOSED)
                close(fd);
            if (pipefd[1] >= 0)
                close(pipefd[1]);
            break;
        }
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
    case BIND:
        rc = bind_row(r, ctx, pvd);
        break;
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
        /* A refused duplicate leaves the outstanding request alone: it can still be stopped. */
        if (r->prep == PREP_TRANSLATE) {
            mif_request t;
            mif_message *done = NULL;
            mif_request_init(&t, MIF_REQ_STOP_TRANSLATING_NAME);
            t.translation_id = PREP_TID;
            CHECK_RC(check_post(ctx, MIF_REQ_STOP_ANNOUNCING_INTERFACES, 0, 0), MIF_OK);
            check_drain(ctx);
            if (CHECK_RC(mif_post_message(ctx, &t), MIF_OK) && CHECK_RC(mif_get_message(ctx, &done), MIF_OK)) {
                check_message_well_formed(done);
                CHECK_EQ_INT(done->msg_type, MIF_MSG_NAME_TRANSLATION_DONE);
                CHECK_EQ_INT(done->translation_id, PREP_TID);
                CHECK_EQ_INT(done->translation_status, MIF_TRANSLATION_CANCELLED);
                CHECK_EQ_STR(done->name, "outstanding.example");
                mif_message_free(done);
            }
        }
        if (r->prep == PREP_CONNECT) {
            mif_request c;
            mif_message *nc = NULL;
            mif_request_init(&c, MIF_REQ_CANCEL_CONNECT);
            c.connection_id = PREP_CID;
            CHECK_RC(check_post(ctx, MIF_REQ_STOP_ANNOUNCING_INTERFACES, 0, 0), MIF_OK);
            check_drain(ctx);
            if (CHECK_RC(mif_post_message(ctx, &c), MIF_OK) && CHECK_RC(mif_get_message(ctx, &nc), MIF_OK)) {
                check_message_well_formed(nc);
                CHECK_EQ_INT(nc->msg_type, MIF_MSG_NOT_CONNECTED);
                CHECK_EQ_INT(nc->connection_id, PREP_CID);
                CHECK_EQ_INT(nc->error, ECANCELED);
                mif_message_free(nc);
            }
        }
    }
out:
    mif_close(ctx);
}

int main(void)
{
    size_t i;
    check_watchdog(280);
    unsetenv("MIF_CONFIG"); /* the bed's contexts read <root>/etc/mif.conf */
    bed_ok = check_blackhole_bed() &&
             check_make_root(bed_root, sizeof bed_root, "",
                             "[" CHECK_BED_IF "]\ndns = " CHECK_BLACKHOLE "\n");
    if (!bed_ok)
        check_note("the blackhole bed could not be made: its rows fail");
    for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        current = &rows[i];
        check_run(rows[i].name, run_row);
    }
    if (bed_root[0] != '\0')
        check_remove_root(bed_root);
    return check_done();
}
