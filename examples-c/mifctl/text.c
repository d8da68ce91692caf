/*
 * text.c: text helpers the commands share: bytes made safe for a terminal, addresses
 * and lists of them as text, and the names of a message's numeric fields (which the
 * JSON output uses too).
 */
#include <stdio.h>
#include <string.h>

#include "mifctl.h"

/* Length of the valid UTF-8 sequence starting at p (at most avail bytes), or 0 if
 * the bytes there are not valid UTF-8 (overlong forms and surrogates are rejected). */
size_t utf8_sequence_len(const unsigned char *p, size_t avail)
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
void put_text(FILE *out, const char *s, size_t len)
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

/* An address as text, or "(family N)" for a family this tool cannot format. */
void format_address(const mif_address *a, char buf[MIF_ADDRESS_TEXT_SIZE])
{
    if (mif_address_format(a, buf, MIF_ADDRESS_TEXT_SIZE) != MIF_OK)
        snprintf(buf, MIF_ADDRESS_TEXT_SIZE, "(family %u)", a->family);
}

/* Names for the numeric fields of a mif_message. NULL for values this tool does not
 * know (a newer library may add some); callers then print the number. */
const char *family_name(uint8_t family)
{
    switch (family) {
    case MIF_FAMILY_IPV4: return "ipv4";
    case MIF_FAMILY_IPV6: return "ipv6";
    default: return NULL;
    }
}

const char *scope_name(uint8_t scope)
{
    switch (scope) {
    case MIF_SCOPE_GLOBAL: return "global";
    case MIF_SCOPE_SITE: return "site";
    case MIF_SCOPE_LINK: return "link";
    case MIF_SCOPE_HOST: return "host";
    default: return NULL;
    }
}

/* The address flags by name, in the order the output lists them. */
const struct flag_name address_flag_names[] = {
    { MIF_ADDRESS_TEMPORARY, "temporary" },
    { MIF_ADDRESS_DEPRECATED, "deprecated" },
    { MIF_ADDRESS_TENTATIVE, "tentative" },
    { MIF_ADDRESS_DADFAILED, "dadfailed" },
    { MIF_ADDRESS_PERMANENT, "permanent" },
    { MIF_ADDRESS_OPTIMISTIC, "optimistic" },
};

const size_t address_flag_count = COUNT_OF(address_flag_names);

const char *going_up_reason_name(uint32_t reason)
{
    switch (reason) {
    case MIF_GOING_UP_NO_CARRIER: return "no_carrier";
    case MIF_GOING_UP_NO_ADDRESS: return "no_address";
    case MIF_GOING_UP_CONFIGURING: return "configuring";
    default: return NULL;
    }
}

const char *going_away_reason_name(uint32_t reason)
{
    switch (reason) {
    case MIF_GOING_AWAY_CARRIER_LOST: return "carrier_lost";
    case MIF_GOING_AWAY_ADDRESSES_DEPRECATED: return "addresses_deprecated";
    case MIF_GOING_AWAY_LIFETIME_ENDING: return "lifetime_ending";
    case MIF_GOING_AWAY_ROUTER_WITHDRAWN: return "router_withdrawn";
    case MIF_GOING_AWAY_ROUTER_LIFETIME_ENDING: return "router_lifetime_ending";
    case MIF_GOING_AWAY_LEASE_ENDING: return "lease_ending";
    default: return NULL;
    }
}

const char *want_connect_outcome_name(uint32_t outcome)
{
    switch (outcome) {
    case MIF_WANT_CONNECT_NO_OP: return "no_op";
    case MIF_WANT_CONNECT_SOLICITED: return "solicited";
    case MIF_WANT_CONNECT_HOOK_RAN: return "hook_ran";
    case MIF_WANT_CONNECT_HOOK_TIMED_OUT: return "hook_timed_out";
    case MIF_WANT_CONNECT_HOOK_FAILED: return "hook_failed";
    case MIF_WANT_CONNECT_NOTHING_POSSIBLE: return "nothing_possible";
    default: return NULL;
    }
}

const char *connection_gone_reason_name(uint32_t reason)
{
    switch (reason) {
    case MIF_CONNECTION_GONE_ADDRESS_REMOVED: return "address_removed";
    case MIF_CONNECTION_GONE_PVD_LOST: return "pvd_lost";
    case MIF_CONNECTION_GONE_INTERFACE_REMOVED: return "interface_removed";
    default: return NULL;
    }
}

const char *name_source_name(uint32_t source)
{
    switch (source) {
    case MIF_NAME_SOURCE_HOSTS: return "hosts";
    case MIF_NAME_SOURCE_DNS: return "dns";
    case MIF_NAME_SOURCE_CACHE: return "cache";
    case MIF_NAME_SOURCE_LITERAL: return "literal";
    default: return NULL;
    }
}

/* " a b c": a list of addresses, each after a space. */
void text_address_list(const mif_address *list, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char addr[MIF_ADDRESS_TEXT_SIZE];
        format_address(&list[i], addr);
        printf(" %s", addr);
    }
}

void text_string_list(const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        putchar(' ');
        if (list[i] != NULL)
            put_text(stdout, list[i], strlen(list[i]));
    }
}
