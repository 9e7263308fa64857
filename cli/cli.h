/* The `eddy` command: one binary, one function per subcommand group. */
#ifndef EDDY_CLI_H
#define EDDY_CLI_H

enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

int cmd_log(int argc, char **argv);
int cmd_broker(int argc, char **argv);
int cmd_topic(int argc, char **argv);
int cmd_group(int argc, char **argv);
int cmd_acl(int argc, char **argv);

#endif
