#!/bin/sh
# Compiles include/mif.h on its own, the way applications will include it:
#   - as C99 and C11 with gcc, as C++11 and C++17 with g++,
#     each with -Wall -Wextra -Werror -pedantic (C also -Wstrict-prototypes);
#   - "alone":  a translation unit that includes only mif.h and uses its types;
#   - "twice":  a second translation unit that includes it twice (the include guard);
#   - "link":   both linked into one program (the header defines no symbols);
#   - "init macros": mif_options_init / mif_request_init are macros that pass
#     sizeof(mif_options) / sizeof(mif_request) and the type on to the *_sized
#     functions (checked at compile time), and calls through them compile;
#   - C++ only, "linkage": re-declaring the functions extern "C" after the header
#     compiles (it would not if the header gave them C++ linkage);
#   - "namespace": every macro the header defines starts with MIF_ / mif_ (a header
#     must not define generic names an application might use).
# Runs from any directory; exits 1 if any check failed.
# Prints "compile-header: N passed, M failed" at the end.
set -u

root=$(cd "$(dirname "$0")/.." && pwd)
inc="$root/include"
# gcc and g++ (override with MIF_HEADER_CC / MIF_HEADER_CXX, e.g. clang / clang++).
CC=${MIF_HEADER_CC:-gcc}
CXX=${MIF_HEADER_CXX:-g++}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mif-header.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

passed=0
failed=0

# check NAME COMMAND...: runs COMMAND, counts it, shows its output when it fails.
check() {
  name=$1
  shift
  if "$@" >"$tmp/out" 2>&1; then
    echo "ok - $name"
    passed=$((passed + 1))
  else
    echo "not ok - $name"
    sed 's/^/    /' "$tmp/out"
    failed=$((failed + 1))
  fi
}

# Translation unit 1: mif.h alone, every type and constant used, plus main().
cat >"$tmp/alone.c" <<'EOF'
#include "mif.h"

static int use_everything(void)
{
    mif_options opts;
    mif_request req;
    mif_message msg;
    mif_address addr;
    mif_ctx *ctx = 0;
    mif_result rc = MIF_OK;
    mif_message_type mt = MIF_MSG_INTERFACE_ANNOUNCEMENT;
    mif_request_type rt = MIF_REQ_ANNOUNCE_INTERFACES;
    int sum = 0;
    (void)opts; (void)req; (void)msg; (void)addr; (void)ctx;
    sum += (int)sizeof(mif_options) + (int)sizeof(mif_request) + (int)sizeof(mif_message);
    sum += rc + (int)mt + (int)rt + MIF_NO_MESSAGE;
    sum += MIF_E_NULL_ARGUMENT + MIF_E_BAD_SIZE + MIF_E_UNKNOWN_REQUEST_TYPE + MIF_E_INVALID_ARGUMENT;
    sum += MIF_E_UNKNOWN_INTERFACE + MIF_E_UNKNOWN_PVD + MIF_E_NOT_SUBSCRIBED;
    sum += MIF_E_ENGINE_FAILED + MIF_E_INTERRUPTED + MIF_E_SYSTEM + MIF_E_INTERNAL + MIF_E_PERMISSION;
    sum += MIF_MSG_NO_INTERFACE_ANNOUNCEMENT + MIF_MSG_PVD_ANNOUNCEMENT + MIF_MSG_NO_PVD_ANNOUNCEMENT;
    sum += MIF_MSG_ADDRESS_ANNOUNCEMENT + MIF_MSG_NO_ADDRESS_ANNOUNCEMENT + MIF_MSG_ENGINE_FAILED;
    sum += MIF_REQ_STOP_ANNOUNCING_INTERFACES + MIF_REQ_ANNOUNCE_PVDS + MIF_REQ_STOP_ANNOUNCING_PVDS;
    sum += MIF_REQ_ANNOUNCE_ADDRESSES + MIF_REQ_STOP_ANNOUNCING_ADDRESSES;
    sum += MIF_REQ_ANNOUNCE_CONFIG_ELEMENTS + MIF_REQ_STOP_ANNOUNCING_CONFIG_ELEMENTS + MIF_REQ_GET_CONFIGURATION_DATA;
    sum += MIF_MSG_CONFIG_ELEMENT_ANNOUNCEMENT + MIF_MSG_NO_CONFIG_ELEMENT_ANNOUNCEMENT;
    sum += MIF_MSG_CONFIGURATION_DATA + MIF_MSG_NO_CONFIGURATION_DATA;
    sum += MIF_E_UNKNOWN_ELEMENT_TYPE + MIF_E_UNKNOWN_INFO_ID;
    sum += MIF_E_BAD_NAME + MIF_E_BAD_ADDRESS + MIF_E_DUPLICATE_ID + MIF_E_UNKNOWN_TRANSLATION;
    sum += MIF_E_UNKNOWN_CONNECTION + MIF_E_BAD_SOURCE + MIF_E_NO_DEFAULT_PVD;
    sum += MIF_REQ_TRANSLATE_NAME + MIF_REQ_STOP_TRANSLATING_NAME + MIF_REQ_CONNECT_TO_ADDRESS;
    sum += MIF_REQ_CONNECT_FROM_ADDRESS + MIF_REQ_CONNECT_TO_PVD + MIF_REQ_CANCEL_CONNECT;
    sum += MIF_MSG_NAME_TRANSLATION + MIF_MSG_NAME_TRANSLATION_DONE + MIF_MSG_CONNECTED + MIF_MSG_NOT_CONNECTED;
    sum += MIF_TRANSLATION_DONE + MIF_TRANSLATION_NO_SUCH_NAME + MIF_TRANSLATION_NO_DATA + MIF_TRANSLATION_TIMEOUT;
    sum += MIF_TRANSLATION_SERVER_FAILURE + MIF_TRANSLATION_NO_SERVERS + MIF_TRANSLATION_CANCELLED;
    sum += MIF_NAME_SOURCE_HOSTS + MIF_NAME_SOURCE_DNS + MIF_TEST_NO_BINDTODEVICE;
    sum += (int)sizeof(req.name) + (int)sizeof(req.remote) + (int)sizeof(req.local) + (int)sizeof(msg.fd);
    sum += (int)sizeof(msg.name) + (int)sizeof(msg.dns_servers) + (int)sizeof(msg.search_domains);
    sum += MIF_ELEMENT_ANY + MIF_ELEMENT_RA + MIF_ELEMENT_DHCPV4 + MIF_ELEMENT_DHCPV6 + MIF_ELEMENT_STATIC + MIF_ELEMENT_SYSTEM;
    sum += MIF_INFO_ALL + MIF_INFO_DNS_SERVERS + MIF_INFO_SEARCH_DOMAINS + MIF_INFO_ROUTERS + MIF_INFO_MTU;
    sum += MIF_FAMILY_IPV4 + MIF_FAMILY_IPV6 + MIF_SCOPE_GLOBAL + MIF_SCOPE_SITE + MIF_SCOPE_LINK + MIF_SCOPE_HOST;
    sum += MIF_ADDRESS_TEMPORARY + MIF_ADDRESS_DEPRECATED + MIF_ADDRESS_TENTATIVE + MIF_ADDRESS_DADFAILED;
    sum += MIF_ADDRESS_PERMANENT + MIF_ADDRESS_OPTIMISTIC;
    sum += MIF_LINK_UP + MIF_LINK_RUNNING + MIF_LINK_LOOPBACK + MIF_LINK_POINTOPOINT + MIF_TEST_PANIC_ENGINE + MIF_TEST_PANIC_TRANSLATE;
    sum += MIF_IFNAME_SIZE + MIF_PVD_NAME_SIZE + MIF_ADDRESS_TEXT_SIZE;
    sum += (int)sizeof(msg.ifname) + (int)sizeof(msg.pvd_name);
    sum += MIF_LIFETIME_INFINITE == 4294967295u;
    return sum;
}

int main(void)
{
    return use_everything() == 0;
}
EOF

# Translation unit 2: mif.h twice (the guard); every function named (unevaluated, so
# linking needs no library).
cat >"$tmp/twice.c" <<'EOF'
#include "mif.h"
#include "mif.h"

int mif_header_twice(void);
int mif_header_twice(void)
{
    size_t n = sizeof(&mif_options_init_sized) + sizeof(&mif_request_init_sized) + sizeof(&mif_open)
             + sizeof(&mif_close) + sizeof(&mif_fd) + sizeof(&mif_post_message)
             + sizeof(&mif_check_message) + sizeof(&mif_get_message) + sizeof(&mif_message_free)
             + sizeof(&mif_strerror) + sizeof(&mif_message_type_name) + sizeof(&mif_element_type_name)
             + sizeof(&mif_translation_status_name) + sizeof(&mif_request_type_name)
             + sizeof(&mif_going_away_reason_name) + sizeof(&mif_going_up_reason_name)
             + sizeof(&mif_address_format) + sizeof(&mif_bind_socket) + sizeof(&mif_version);
    return (int)n;
}
EOF

# Translation unit 3 (compile only): mif_options_init / mif_request_init are macros
# (not functions) that pass the struct's compile-time size to the *_sized functions.
# The *_sized names are redefined as macros after the header, so the expansion is a
# constant expression checked by the compiler: size = sizeof(struct), type passed on.
cat >"$tmp/macros.c" <<'EOF'
#include "mif.h"

#ifndef mif_options_init
#error "mif_options_init is not a macro"
#endif
#ifndef mif_request_init
#error "mif_request_init is not a macro"
#endif

/* A real call through the macros compiles (and would link against -lmif). */
int mif_header_macro_calls(void);
int mif_header_macro_calls(void)
{
    mif_options opts;
    mif_request req;
    return mif_options_init(&opts) + mif_request_init(&req, MIF_REQ_ANNOUNCE_PVDS);
}

#define mif_options_init_sized(opts, size) (size)
#define mif_request_init_sized(req, size, type) ((size) * 1000u + (type))
#define MIF_HEADER_ASSERT(name, cond) typedef char name[(cond) ? 1 : -1]
MIF_HEADER_ASSERT(mif_header_opts_size, mif_options_init((mif_options *)0) == sizeof(mif_options));
MIF_HEADER_ASSERT(mif_header_req_size,
                  mif_request_init((mif_request *)0, 7) == sizeof(mif_request) * 1000u + 7);
EOF

# C++ only: the functions must have C linkage; redeclaring them extern "C" after the
# header is an error if the header declared them with C++ linkage.
cat >"$tmp/linkage.cpp" <<'EOF'
#include "mif.h"

extern "C" {
mif_result mif_options_init_sized(struct mif_options *opts, size_t size);
mif_result mif_request_init_sized(struct mif_request *req, size_t size, mif_request_type request_type);
mif_result mif_open(const struct mif_options *opts, struct mif_ctx **ctx_out);
void mif_close(struct mif_ctx *ctx);
int mif_fd(const struct mif_ctx *ctx);
mif_result mif_post_message(struct mif_ctx *ctx, const struct mif_request *req);
mif_result mif_check_message(struct mif_ctx *ctx, int timeout_ms);
mif_result mif_get_message(struct mif_ctx *ctx, struct mif_message **msg_out);
void mif_message_free(struct mif_message *msg);
const char *mif_strerror(mif_result code);
const char *mif_message_type_name(mif_message_type msg_type);
const char *mif_element_type_name(uint32_t element_type);
const char *mif_translation_status_name(uint32_t status);
const char *mif_request_type_name(mif_request_type request_type);
const char *mif_going_away_reason_name(mif_going_away_reason reason);
const char *mif_going_up_reason_name(mif_going_up_reason reason);
mif_result mif_address_format(const struct mif_address *addr, char *buf, size_t len);
mif_result mif_bind_socket(struct mif_ctx *ctx, int fd, uint64_t pvd, int bind_source);
const char *mif_version(void);
uint32_t mif_version_num(void);
mif_result mif_address_parse(const char *text, struct mif_address *out);
}

int mif_header_linkage(void);
int mif_header_linkage(void)
{
    return static_cast<int>(sizeof(mif_message));
}
EOF
cp "$tmp/alone.c" "$tmp/alone.cpp"
cp "$tmp/twice.c" "$tmp/twice.cpp"
cp "$tmp/macros.c" "$tmp/macros.cpp"

warn="-Wall -Wextra -Werror -pedantic"

for std in c99 c11; do
  check "$std alone" "$CC" -std=$std $warn -Wstrict-prototypes -I"$inc" -c "$tmp/alone.c" -o "$tmp/alone-$std.o"
  check "$std twice" "$CC" -std=$std $warn -Wstrict-prototypes -I"$inc" -c "$tmp/twice.c" -o "$tmp/twice-$std.o"
  check "$std link" "$CC" -o "$tmp/prog-$std" "$tmp/alone-$std.o" "$tmp/twice-$std.o"
  check "$std init macros" "$CC" -std=$std $warn -Wstrict-prototypes -I"$inc" -c "$tmp/macros.c" -o "$tmp/macros-$std.o"
done
for std in c++11 c++17; do
  check "$std alone" "$CXX" -std=$std $warn -I"$inc" -c "$tmp/alone.cpp" -o "$tmp/alone-$std.o"
  check "$std twice" "$CXX" -std=$std $warn -I"$inc" -c "$tmp/twice.cpp" -o "$tmp/twice-$std.o"
  check "$std link" "$CXX" -o "$tmp/prog-$std" "$tmp/alone-$std.o" "$tmp/twice-$std.o"
  check "$std linkage" "$CXX" -std=$std $warn -I"$inc" -c "$tmp/linkage.cpp" -o "$tmp/linkage-$std.o"
  check "$std init macros" "$CXX" -std=$std $warn -I"$inc" -c "$tmp/macros.cpp" -o "$tmp/macros-$std.o"
done

# Macros the header adds to an empty translation unit must all be ours.
namespace_check() {
  printf '#include "mif.h"\n' >"$tmp/with.c"
  "$CC" -std=c11 -I"$inc" -E -dM "$tmp/with.c" | sed -n 's/^#define \([A-Za-z0-9_]*\).*/\1/p' | sort >"$tmp/m-with" || return 1
  # What <stddef.h> and <stdint.h> define is theirs: compare with a TU of just those.
  printf '#include <stddef.h>\n#include <stdint.h>\n' >"$tmp/std.c"
  "$CC" -std=c11 -E -dM "$tmp/std.c" | sed -n 's/^#define \([A-Za-z0-9_]*\).*/\1/p' | sort >"$tmp/m-std" || return 1
  comm -13 "$tmp/m-std" "$tmp/m-with" | grep -v -E '^(MIF_|mif_)' >"$tmp/foreign"
  if [ -s "$tmp/foreign" ]; then
    echo "mif.h defines macros outside the MIF_ namespace:"
    sed 's/^/  /' "$tmp/foreign"
    return 1
  fi
}
check "namespace: every macro starts with MIF_" namespace_check

echo "compile-header: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
