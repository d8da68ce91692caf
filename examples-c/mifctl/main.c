/*
 * mifctl: a small command-line tool for libmif, and an example of its C API.
 *
 *   mifctl monitor [--json] [--interface IF] [--verbose] [LIBRARY OPTIONS]
 *   mifctl config [--interface IF] [--json] [--verbose] [LIBRARY OPTIONS]
 *   mifctl resolve NAME [--interface IF | --pvd PVD] [--json] [--verbose] [LIBRARY OPTIONS]
 *   mifctl connect ADDRESS PORT [--interface IF | --pvd PVD] [--from SRC] [--send TEXT]
 *                  [--json] [--attempt-delay MS] [--timeout MS] [--verbose] [LIBRARY OPTIONS]
 *   mifctl want-connect [--json] [--verbose] [LIBRARY OPTIONS]
 *   mifctl version
 *   mifctl help [COMMAND]
 *
 * LIBRARY OPTIONS (every command that opens a context): --root DIR, --config FILE,
 * --dns-timeout MS, --dns-tries N, --test-rcvbuf BYTES (fields of mif_options).
 *
 * "monitor" shows how an application follows the host's networks with libmif
 * (cmd_monitor.c says how, step by step), live, until Ctrl-C.
 * "config" asks each PvD for its configuration data (MIF_REQ_GET_CONFIGURATION_DATA)
 * once and exits; "resolve" translates a name on each PvD (MIF_REQ_TRANSLATE_NAME),
 * each PvD through its own DNS servers, and prints the answers as they come.
 * "connect" opens a TCP connection through one PvD (MIF_REQ_CONNECT_TO_ADDRESS or
 * MIF_REQ_CONNECT_FROM_ADDRESS), takes the connected socket from MIF_MSG_CONNECTED,
 * and may send a line through it and print the answer.
 *
 * Only <mif.h> and the C library are used. Exit status: 0 success, 1 runtime
 * error (including an engine failure; for resolve also "no address found", for
 * connect "not connected"), 2 bad usage (for resolve and connect also a request
 * the library refuses).
 *
 * This file holds the command table, the usage text, "version" and main();
 * mifctl.h says where the rest is.
 *
 * Adding a command: write cmd_NAME.c with `int cmd_NAME(int argc, char **argv)`
 * (argv[0] is "mifctl NAME", so getopt messages name the command), declare it in
 * mifctl.h and add a line to `commands[]` below; the Makefile compiles every .c file
 * of this folder. A command that opens a context follows the pattern of the four
 * here: its run state embeds a `struct session` (the shared options, the context,
 * the interfaces whose PvDs it follows), and session.c does the rest:
 * parse_command_line() reads its options, session_open() sets up the signals and
 * opens the context, run_message_loop() takes the messages and hands each to the
 * command's handler, and session_close() ends it all. cmd_config.c is the smallest
 * example.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "mifctl.h"

/* ------------------------------------------------------------------------- */
/* version                                                                    */
/* ------------------------------------------------------------------------- */

static int cmd_version(int argc, char **argv)
{
    if (argc > 1) {
        if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
            printf("usage: " PROG " version\n\nPrints the libmif version.\n");
            return 0;
        }
        fprintf(stderr, PROG " version: unexpected argument '%s'\n", argv[1]);
        return 2;
    }
    printf("%s\n", mif_version());
    return 0;
}

/* ------------------------------------------------------------------------- */
/* Command table and main                                                     */
/* ------------------------------------------------------------------------- */

struct command {
    const char *name;
    int (*run)(int argc, char **argv); /* argv[0] is "mifctl NAME"; returns the exit status */
    const char *summary;
};

static const struct command commands[] = {
    { "monitor", cmd_monitor, "show interfaces, PvDs, addresses and configuration as they change" },
    { "config", cmd_config, "print each PvD's DNS servers, search domains, routers and MTU" },
    { "resolve", cmd_resolve, "translate a name on each PvD, through its own DNS servers" },
    { "connect", cmd_connect, "open a TCP connection through a PvD; optionally send a line" },
    { "want-connect", cmd_want_connect, "say the application wants to connect; print what the library did" },
    { "version", cmd_version, "print the libmif version" },
};

static void usage(FILE *out)
{
    fprintf(out, "usage: " PROG " COMMAND [OPTIONS]\n\ncommands:\n");
    for (size_t i = 0; i < COUNT_OF(commands); i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "  %-10s %s\n", "help", "this help, or 'help COMMAND' for a command's options");
    fprintf(out, "\nRun '" PROG " COMMAND --help' for a command's options.\n");
}

static const struct command *find_command(const char *name)
{
    for (size_t i = 0; i < COUNT_OF(commands); i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

/* Runs a command with argv[0] set to "mifctl NAME" (for getopt's messages). */
static int run_command(const struct command *cmd, int argc, char **argv)
{
    char name[64];

    snprintf(name, sizeof name, PROG " %s", cmd->name);
    argv[0] = name;
    optind = 1;
    return cmd->run(argc, argv);
}

int main(int argc, char **argv)
{
    const struct command *cmd;

    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "help") == 0) {
        if (argc == 2) {
            usage(stdout);
            return 0;
        }
        cmd = find_command(argv[2]);
        if (cmd == NULL || argc > 3) {
            if (cmd == NULL)
                fprintf(stderr, PROG ": help: unknown command '%s'\n", argv[2]);
            else
                fprintf(stderr, PROG ": help: unexpected argument '%s'\n", argv[3]);
            usage(stderr);
            return 2;
        }
        {
            char help[] = "--help";
            char *help_argv[] = { argv[2], help, NULL };
            return run_command(cmd, 2, help_argv);
        }
    }
    cmd = find_command(strcmp(argv[1], "--version") == 0 ? "version" : argv[1]);
    if (cmd == NULL) {
        if (argv[1][0] == '-')
            fprintf(stderr, PROG ": unknown option '%s'\n", argv[1]);
        else
            fprintf(stderr, PROG ": unknown command '%s'\n", argv[1]);
        usage(stderr);
        return 2;
    }
    return run_command(cmd, argc - 1, argv + 1);
}
