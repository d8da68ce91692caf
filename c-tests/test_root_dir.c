/*
 * test_root_dir: nothing the library reads leaves mif_options.root_dir.
 *
 * Every file is looked up as if the root were "/" (as under chroot): an absolute
 * symlink points inside the root, a "..", in a symlink or in a path from the options,
 * stops at the root. Checked through what the application sees:
 * - the hosts file (etc/hosts) as a symlink to a file outside the root, absolute or
 *   by "..": its names are not found; a symlink to another file inside the root is
 *   read;
 * - the static configuration file (mif_options.config_file) given as "../x" or as a
 *   symlink out of the root: its DNS server is not taken; inside the root it is.
 * - the hosts file changed while a context lives, each way files are changed (written
 *   in place at the same length, renamed over, removed, its directory swapped, a
 *   symlink's target rewritten): the very next translation, posted with no pause,
 *   answers from the new text (the library stats the file only when an inotify watch
 *   reports a change, docs/name-translation.md). The in-place write is the case only
 *   the watch's event shows (same inode, same size); the others would be seen by a
 *   stat too, and hold the watch to what the stat did. The unit tests of
 *   src/os/hosts_file.rs count the stats the watch spares.
 *
 * Uses only lo in the private network namespace c-tests/run.sh gives it.
 */
#include <stdlib.h>
#include <sys/stat.h>

#include "mif.h"
#include "check.h"
#include "bed.h"

static char base[256];   /* holds root/ and the files outside it */
static char root[300];

static const char outside_hosts[] = "198.51.100.99 secret.example\n";
static const char outside_conf[] = "[lo]\ndns = 198.51.100.53\n";

static mif_ctx *open_ctx(const char *config_file)
{
    mif_options opts;
    mif_ctx *ctx = NULL;
    mif_options_init(&opts);
    opts.root_dir = root;
    opts.config_file = config_file;
    if (!CHECK_RC(mif_open(&opts, &ctx), MIF_OK))
        return NULL;
    return ctx;
}

static int make_link(const char *target, const char *rel)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    unlink(path);
    if (symlink(target, path) != 0) {
        check_note("symlink %s -> %s: %s", path, target, strerror(errno));
        return 0;
    }
    return 1;
}

/* Addresses lo's IPv4 PvD finds for `name` in a context opened for the question. */
static int addresses_of(const char *name)
{
    int addresses;
    mif_ctx *ctx = open_ctx(NULL);
    if (ctx == NULL)
        return -1;
    addresses = check_hosts_addresses(ctx, name);
    mif_close(ctx);
    return addresses;
}

/* Overwrites the start of root/rel in place (same inode, no truncation). */
static int write_in_place(const char *rel, const char *text)
{
    char path[512];
    FILE *f;
    snprintf(path, sizeof path, "%s/%s", root, rel);
    f = fopen(path, "r+");
    if (f == NULL || fputs(text, f) == EOF || fclose(f) != 0) {
        check_note("%s: %s", path, strerror(errno));
        return 0;
    }
    return 1;
}

static int rename_in_root(const char *from, const char *to)
{
    char a[512], b[512];
    snprintf(a, sizeof a, "%s/%s", root, from);
    snprintf(b, sizeof b, "%s/%s", root, to);
    if (rename(a, b) != 0) {
        check_note("rename %s -> %s: %s", a, b, strerror(errno));
        return 0;
    }
    return 1;
}

static void hosts_changes_reach_the_next_translation(void)
{
    mif_ctx *ctx;
    char path[512];
    /* The earlier cases leave a symlink there: never written through. */
    snprintf(path, sizeof path, "%s/etc/hosts", root);
    unlink(path);
    REQUIRE(check_write_file(root, "etc/hosts", "198.51.100.1 edit.example\n"));
    ctx = open_ctx(NULL);
    REQUIRE(ctx != NULL);
    /* Each change is followed at once by a name only the new text has: a name not
     * found waits for lo's DNS configuration to be learned, longer than the watch is
     * trusted (HOSTS_RECHECK), so those come after, and the name before each change
     * is asked again first (the look that arms the watch). */
    CHECK_EQ_INT(check_hosts_addresses(ctx, "edit.example"), 1);
    CHECK_EQ_INT(check_hosts_addresses(ctx, "edit.example"), 1);
    /* The same length, the same inode: only the watch's event tells. */
    REQUIRE(write_in_place("etc/hosts", "198.51.100.2 tide.example\n"));
    CHECK_EQ_INT(check_hosts_addresses(ctx, "tide.example"), 1);
    CHECK_EQ_INT(check_hosts_addresses(ctx, "edit.example"), 0);
    /* Renamed over, as editors and package managers write. */
    CHECK_EQ_INT(check_hosts_addresses(ctx, "tide.example"), 1);
    REQUIRE(check_write_file(root, "etc/hosts.new", "198.51.100.3 two.example\n198.51.100.4 two.example\n"));
    REQUIRE(rename_in_root("etc/hosts.new", "etc/hosts"));
    CHECK_EQ_INT(check_hosts_addresses(ctx, "two.example"), 2);
    CHECK_EQ_INT(check_hosts_addresses(ctx, "tide.example"), 0);
    /* Removed. */
    CHECK_EQ_INT(check_hosts_addresses(ctx, "two.example"), 2);
    snprintf(path, sizeof path, "%s/etc/hosts", root);
    CHECK(unlink(path) == 0);
    CHECK_EQ_INT(check_hosts_addresses(ctx, "two.example"), 0);
    /* Back, then its directory swapped for another. */
    REQUIRE(check_write_file(root, "etc/hosts", "198.51.100.5 back.example\n"));
    CHECK_EQ_INT(check_hosts_addresses(ctx, "back.example"), 1);
    CHECK_EQ_INT(check_hosts_addresses(ctx, "back.example"), 1);
    snprintf(path, sizeof path, "%s/etc2", root);
    REQUIRE(mkdir(path, 0755) == 0);
    REQUIRE(check_write_file(root, "etc2/hosts", "198.51.100.6 swap.example\n"));
    REQUIRE(check_write_file(root, "etc2/resolv.conf", "# nothing\n"));
    REQUIRE(rename_in_root("etc", "etc-old"));
    REQUIRE(rename_in_root("etc2", "etc"));
    CHECK_EQ_INT(check_hosts_addresses(ctx, "swap.example"), 1);
    CHECK_EQ_INT(check_hosts_addresses(ctx, "back.example"), 0);
    /* A symlink inside the root: its target changes with no event on the link's path. */
    REQUIRE(check_write_file(root, "etc/real-hosts", "198.51.100.7 real.example\n"));
    REQUIRE(make_link("/etc/real-hosts", "etc/hosts"));
    CHECK_EQ_INT(check_hosts_addresses(ctx, "real.example"), 1);
    CHECK_EQ_INT(check_hosts_addresses(ctx, "real.example"), 1);
    /* Another length: with no watch on a symlinked file, only its stamp tells (a
     * rewrite of the same length may keep the modification time on kernels with
     * coarse timestamps). */
    REQUIRE(check_write_file(root, "etc/real-hosts", "198.51.100.8 rewritten.example\n"));
    CHECK_EQ_INT(check_hosts_addresses(ctx, "rewritten.example"), 1);
    CHECK_EQ_INT(check_hosts_addresses(ctx, "real.example"), 0);
    mif_close(ctx);
    check_sh("rm -rf '%s/etc-old' && rm -f '%s/etc/hosts' '%s/etc/real-hosts'", root, root, root);
}

static void hosts_symlinks_stay_inside(void)
{
    char target[600];
    snprintf(target, sizeof target, "%s/outside-hosts", base);
    REQUIRE(make_link(target, "etc/hosts"));
    CHECK_EQ_INT(addresses_of("secret.example"), 0);
    REQUIRE(make_link("../../../../../../../../outside-hosts", "etc/hosts"));
    CHECK_EQ_INT(addresses_of("secret.example"), 0);
    /* Control: the same name from a file inside the root, by an absolute symlink. */
    REQUIRE(check_write_file(root, "etc/real-hosts", outside_hosts));
    REQUIRE(make_link("/etc/real-hosts", "etc/hosts"));
    CHECK_EQ_INT(addresses_of("secret.example"), 1);
}

/* DNS servers lo's IPv4 PvD has from the configuration files, with this config_file. */
static int dns_servers_with(const char *config_file)
{
    mif_ctx *ctx = open_ctx(config_file);
    mif_request req;
    mif_message *m;
    int n = -1;
    if (ctx == NULL)
        return -1;
    mif_request_init(&req, MIF_REQ_GET_CONFIGURATION_DATA);
    req.pvd = check_pvd_of(ctx, "lo", MIF_FAMILY_IPV4);
    req.info_id = MIF_INFO_DNS_SERVERS;
    CHECK_RC(mif_post_message(ctx, &req), MIF_OK);
    if (CHECK_RC(mif_get_message(ctx, &m), MIF_OK)) {
        n = m->msg_type == MIF_MSG_CONFIGURATION_DATA ? (int)m->dns_server_count : 0;
        mif_message_free(m);
    }
    mif_close(ctx);
    return n;
}

static void config_file_stays_inside(void)
{
    char target[600];
    CHECK_EQ_INT(dns_servers_with("../outside.conf"), 0);
    CHECK_EQ_INT(dns_servers_with("/../../../outside.conf"), 0);
    snprintf(target, sizeof target, "%s/outside.conf", base);
    REQUIRE(make_link(target, "etc/mif.conf"));
    CHECK_EQ_INT(dns_servers_with(NULL), 0);
    /* Control: the same file inside the root is read. */
    REQUIRE(check_write_file(root, "etc/inside.conf", outside_conf));
    CHECK_EQ_INT(dns_servers_with("/etc/inside.conf"), 1);
    REQUIRE(make_link("/etc/inside.conf", "etc/mif.conf"));
    CHECK_EQ_INT(dns_servers_with(NULL), 1);
}

static int make_tree(void)
{
    snprintf(base, sizeof base, "/tmp/mif-rootdir-XXXXXX");
    if (mkdtemp(base) == NULL)
        return 0;
    snprintf(root, sizeof root, "%s/root", base);
    return mkdir(root, 0700) == 0 && check_write_file(root, "etc/resolv.conf", "# nothing\n") &&
           check_write_file(base, "outside-hosts", outside_hosts) &&
           check_write_file(base, "outside.conf", outside_conf);
}

int main(void)
{
    check_watchdog(280);
    unsetenv("MIF_CONFIG");
    check_require_private_netns();
    if (!make_tree()) {
        check_note("cannot make the scratch tree under /tmp: %s", strerror(errno));
        return 1;
    }
    RUN_CASE(hosts_symlinks_stay_inside);
    RUN_CASE(config_file_stays_inside);
    RUN_CASE(hosts_changes_reach_the_next_translation);
    check_sh("rm -rf '%s'", base);
    return check_done();
}
