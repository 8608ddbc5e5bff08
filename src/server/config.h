/*
 * server/config.h - mmsqld's options: mysqld's names, from the command line
 * and from my.cnf-style files.
 *
 * Sources, later ones winning: built-in defaults; --defaults-file=F (or
 * --defaults-extra-file=F) sections [mysqld], [server], [mmsqld]; the
 * command line.  Option names accept '-' and '_' alike, as mysqld does;
 * boolean options accept --opt, --opt=1/ON, --skip-opt.
 */
#ifndef MM_SERVER_CONFIG_H
#define MM_SERVER_CONFIG_H

#include "sql/instance.h"

/* Fill opts from argv.  Returns 0 on success; 1 if the program should exit
 * with status 0 (--help, --version); -1 on error (message printed). */
int config_parse(int argc, char **argv, mm_options *opts);
void config_free(mm_options *opts);
/* Print usage to stdout. */
void config_usage(const char *prog);

#endif
