/* eddy: the command line. Subcommands are dispatched by name; each prints
 * its own --help. Exit codes: 0 ok, 1 failure, 2 usage. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_client.h"

/* cmd_app.c; belongs beside the others in cli.h. */
int cmd_app(int argc, char **argv);
/* cmd_user.c */
int cmd_user(int argc, char **argv);

static const struct {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
} commands[] = {
    {"broker", cmd_broker, "run a Kafka-protocol broker in the foreground"},
    {"log", cmd_log, "inspect and exercise a partition log directory directly"},
    {"topic", cmd_topic, "create, list, describe, delete, produce to and consume topics"},
    {"group", cmd_group, "list, describe, delete consumer groups; reset their offsets"},
    {"app", cmd_app, "reset a streams application so that it reprocesses its input"},
    {"acl", cmd_acl, "add, list and delete ACLs (brokers with an authorizer)"},
    {"user", cmd_user, "add, delete, list SCRAM users (SASL logins) on the cluster"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: eddy [-b HOST:PORT] [-X KEY=VALUE] [--command-config FILE] <command> "
                 "[options]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n-X KEY=VALUE (repeatable) and --command-config FILE (a properties file) set\n"
                 "client settings, such as security.protocol, sasl.mechanism, sasl.username,\n"
                 "sasl.password (docs/cli.md).\n"
                 "\nRun 'eddy <command> --help' for a command's options.\n");
}

/* -b/--bootstrap-server, -X and --command-config may stand before or after
 * the subcommand: take them out of argv wherever they are. */
static int take_bootstrap(int argc, char **argv)
{
    int out = 0;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "-X") && i + 1 < argc && i > 0) {
            if (cli_settings_count < CLI_MAX_SETTINGS)
                cli_settings[cli_settings_count++] = argv[i + 1];
            else
                cli_settings_overflow = 1;
            i++;
            continue;
        }
        if (!strcmp(argv[i], "--command-config") && i + 1 < argc && i > 0) {
            cli_command_config = argv[++i];
            continue;
        }
        if ((!strcmp(argv[i], "-b") || !strcmp(argv[i], "--bootstrap-server")) && i + 1 < argc &&
            i > 0) {
            cli_bootstrap = argv[++i];
            continue;
        }
        if (!strncmp(argv[i], "--bootstrap-server=", 19)) {
            cli_bootstrap = argv[i] + 19;
            continue;
        }
        argv[out++] = argv[i];
    }
    argv[out] = NULL;
    return out;
}

int main(int argc, char **argv)
{
    /* `eddy log` and `eddy broker` have no -b: leave their arguments alone. */
    if (argc < 2 || (strcmp(argv[1], "log") && strcmp(argv[1], "broker")))
        argc = take_bootstrap(argc, argv);
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
