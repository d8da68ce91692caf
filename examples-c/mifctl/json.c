/*
 * json.c: the --json output, one object per line. print_json writes any library
 * message; the json_* helpers build a line field by field (connect's own lines use
 * them too).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "mifctl.h"

/* The link flags by name (only the JSON output lists them all). */
static const struct flag_name link_flag_names[] = {
    { MIF_LINK_UP, "up" },
    { MIF_LINK_RUNNING, "running" },
    { MIF_LINK_LOOPBACK, "loopback" },
    { MIF_LINK_POINTOPOINT, "pointopoint" },
};

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

void json_key(struct json_line *j, const char *key)
{
    fputs(j->fields++ ? "," : "{", j->out);
    put_json_string(j->out, key, strlen(key));
    putc(':', j->out);
}

void json_str(struct json_line *j, const char *key, const char *s, size_t len)
{
    json_key(j, key);
    put_json_string(j->out, s, len);
}

void json_uint(struct json_line *j, const char *key, uint64_t v)
{
    json_key(j, key);
    fprintf(j->out, "%" PRIu64, v);
}

/* A name if known, else the raw number. */
void json_name_or_number(struct json_line *j, const char *key, const char *name, unsigned v)
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

void json_null(struct json_line *j, const char *key)
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
    json_str_or_null(j, "captive_portal", msg->captive_portal);
    if (msg->pref64_len == 0) {
        json_null(j, "pref64");
    } else {
        char text[MIF_ADDRESS_TEXT_SIZE + 8];
        format_address(&msg->pref64, text);
        snprintf(text + strlen(text), sizeof text - strlen(text), "/%" PRIu32, msg->pref64_len);
        json_str(j, "pref64", text, strlen(text));
    }
}

/* "config_state": "learning" or "complete" (PvD and configuration data messages). */
static void json_config_state(struct json_line *j, const mif_message *msg)
{
    if (msg->config_state == MIF_CONFIG_STATE_LEARNING)
        json_str(j, "config_state", "learning", strlen("learning"));
    else if (msg->config_state == MIF_CONFIG_STATE_COMPLETE)
        json_str(j, "config_state", "complete", strlen("complete"));
}

/* Every line starts with the message type's name: {"msg":"pvd_announcement" */
void json_msg_type(struct json_line *j, const mif_message *msg)
{
    const char *type = mif_message_type_name(msg->msg_type);

    json_str(j, "msg", type, strlen(type));
}

/* The PvD a message is about: "pvd":7,"pvd_name":"mif0/ipv6" */
void json_pvd(struct json_line *j, const mif_message *msg)
{
    json_uint(j, "pvd", msg->pvd);
    json_str(j, "pvd_name", msg->pvd_name, FIELD_LEN(msg->pvd_name));
}

/* Ends the object and the line. */
void json_end(struct json_line *j)
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
    case MIF_MSG_PVD_CONFIGURATION_COMPLETE:
        json_pvd(j, msg);
        json_family(j, "family", msg->family);
        json_config_state(j, msg);
        if (msg->msg_type != MIF_MSG_ADDRESS_ANNOUNCEMENT && msg->msg_type != MIF_MSG_NO_ADDRESS_ANNOUNCEMENT)
            break;
        json_address(j, "address", &msg->address);
        json_uint(j, "prefix_len", msg->prefix_len);
        json_name_or_number(j, "scope", scope_name(msg->scope), msg->scope);
        json_flags(j, "flags", msg->address_flags, address_flag_names, address_flag_count);
        json_lifetime(j, "valid_lifetime", msg->valid_lifetime);
        json_lifetime(j, "preferred_lifetime", msg->preferred_lifetime);
        break;
    case MIF_MSG_CONFIG_ELEMENT_ANNOUNCEMENT:
    case MIF_MSG_NO_CONFIG_ELEMENT_ANNOUNCEMENT:
    case MIF_MSG_CONFIGURATION_DATA:
    case MIF_MSG_NO_CONFIGURATION_DATA:
    case MIF_MSG_CONFIGURATION_LEARNING:
        json_pvd(j, msg);
        json_family(j, "family", msg->family);
        json_element_type(j, "element", msg->element_type);
        json_config_state(j, msg);
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
    case MIF_MSG_INTERFACE_GOING_AWAY:
    case MIF_MSG_INTERFACE_GOING_AWAY_CANCELLED:
        /* "pvd": null for the whole interface. */
        if (msg->pvd == 0) {
            json_null(j, "pvd");
        } else {
            json_pvd(j, msg);
            json_family(j, "family", msg->family);
        }
        if (msg->msg_type == MIF_MSG_INTERFACE_GOING_AWAY)
            json_uint(j, "deadline_ms", msg->deadline_ms);
        json_name_or_number(j, "reason", going_away_reason_name(msg->going_away_reason), msg->going_away_reason);
        break;
    case MIF_MSG_INTERFACE_GOING_UP:
        json_name_or_number(j, "reason", going_up_reason_name(msg->going_up_reason), msg->going_up_reason);
        break;
    case MIF_MSG_CONNECTION_GOING_AWAY:
    case MIF_MSG_CONNECTION_GOING_AWAY_CANCELLED:
    case MIF_MSG_CONNECTION_GONE:
        json_uint(j, "connection_id", msg->connection_id);
        json_pvd(j, msg);
        json_family(j, "family", msg->family);
        if (msg->msg_type == MIF_MSG_CONNECTION_GOING_AWAY)
            json_uint(j, "deadline_ms", msg->deadline_ms);
        if (msg->msg_type == MIF_MSG_CONNECTION_GONE) {
            json_address(j, "local", &msg->local);
            json_name_or_number(j, "reason", connection_gone_reason_name(msg->connection_gone_reason),
                                msg->connection_gone_reason);
        } else if (msg->going_away_reason == 0) {
            json_null(j, "reason"); /* re-stated after an overflow: no warning holds */
        } else {
            json_name_or_number(j, "reason", going_away_reason_name(msg->going_away_reason),
                                msg->going_away_reason);
        }
        break;
    case MIF_MSG_CONNECTION_STATES:
        json_uint(j, "active", msg->active_connections);
        json_uint(j, "idle", msg->idle_connections);
        json_uint(j, "breakable", msg->breakable_connections);
        break;
    case MIF_MSG_WANT_CONNECT_OUTCOME:
        json_name_or_number(j, "outcome", want_connect_outcome_name(msg->want_connect_outcome),
                            msg->want_connect_outcome);
        json_uint(j, "solicitations", msg->solicitations);
        json_key(j, "hook_status");
        printf("%" PRId32, msg->hook_status);
        if (msg->error != 0)
            json_str(j, "error", strerror(msg->error), strlen(strerror(msg->error)));
        else
            json_null(j, "error");
        break;
    default:
        break; /* a message type newer than this tool: msg, ifindex and ifname only */
    }
}

/* One library message as one JSON line (connect's results have their own,
 * print_connect_json). */
void print_json(const mif_message *msg)
{
    print_json_with(msg, NULL, NULL);
}

/* print_json, with `extra` adding fields at the end of the object. */
void print_json_with(const mif_message *msg, void (*extra)(struct json_line *, const void *), const void *arg)
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
    if (extra)
        extra(&j, arg);
    json_end(&j);
}
