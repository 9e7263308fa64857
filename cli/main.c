/* eddy: the command line. Subcommands are dispatched by name; each prints
 * its own --help. Exit codes: 0 ok, 1 failure, 2 usage. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const struct {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
} commands[] = {
    {"broker", cmd_broker, "run a Kafka-protocol broker in the foreground"},
    {"log", cmd_log, "inspect and exercise a partition log directory directly"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: eddy <command> [options]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nRun 'eddy <command> --help' for a command's options.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(stdout);
        return CLI_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "eddy: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return CLI_USAGE;
}
