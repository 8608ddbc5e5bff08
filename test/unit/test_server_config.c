/* Unit tests for server/config.c: mysqld option names, my.cnf files. */
#include "server/config.h"
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* config_parse prints its complaints on stderr; they are expected here. */
static int parse(mm_options *o, int argc, char **argv) { return config_parse(argc, argv, o); }

TEST(defaults_and_command_line) {
  mm_options o;
  char *argv[] = {"mmsqld", "--datadir=/tmp/x", "--port", "3399", "--server_id=4",
                  "--auto-increment-offset=3", "--max-allowed-packet=16M", NULL};
  CHECK_EQ_INT(parse(&o, 7, argv), 0);
  CHECK_EQ_STR(o.datadir, "/tmp/x");
  CHECK_EQ_INT(o.port, 3399);
  CHECK_EQ_INT(o.server_id, 4);
  CHECK_EQ_INT(o.auto_increment_offset, 3);
  CHECK_EQ_INT(o.max_allowed_packet, 16u << 20);
  CHECK_EQ_STR(o.bind_address, "127.0.0.1");
  CHECK_EQ_STR(o.pid_file, "/tmp/x/mmsqld.pid");
  CHECK(o.general_log_file == NULL);
  config_free(&o);
}

TEST(errors) {
  mm_options o;
  char *a1[] = {"mmsqld", "--port=1", NULL};
  CHECK_EQ_INT(parse(&o, 2, a1), -1); /* no datadir */
  config_free(&o);
  char *a2[] = {"mmsqld", "--datadir=/x", "--no-such-option=1", NULL};
  CHECK_EQ_INT(parse(&o, 3, a2), -1);
  config_free(&o);
  char *a3[] = {"mmsqld", "--datadir=/x", "--auto-increment-offset=17", NULL};
  CHECK_EQ_INT(parse(&o, 3, a3), -1);
  config_free(&o);
  char *a4[] = {"mmsqld", "--datadir=/x", "--port=abc", NULL};
  CHECK_EQ_INT(parse(&o, 3, a4), -1);
  config_free(&o);
}

TEST(defaults_file_sections_and_precedence) {
  char path[] = "/tmp/mmsql-cnf-XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  FILE *f = fdopen(fd, "w");
  fprintf(f, "# comment\n[client]\nport=1\n[mysqld]\nport=2000\ndatadir=/d\nuser=mysql\n"
             "[mmsqld]\nport = 3000\ngeneral_log\nroot-password=\"pw\"\n");
  fclose(f);
  char arg[64];
  snprintf(arg, sizeof arg, "--defaults-file=%s", path);
  mm_options o;
  char *argv[] = {"mmsqld", arg, NULL};
  CHECK_EQ_INT(parse(&o, 2, argv), 0);
  CHECK_EQ_INT(o.port, 3000);
  CHECK_EQ_STR(o.datadir, "/d");
  CHECK_EQ_STR(o.root_password, "pw");
  CHECK_EQ_STR(o.general_log_file, "/d/general.log");
  config_free(&o);
  char *argv2[] = {"mmsqld", arg, "--port=4000", "--skip-general-log", NULL};
  CHECK_EQ_INT(parse(&o, 4, argv2), 0);
  CHECK_EQ_INT(o.port, 4000);
  CHECK(o.general_log_file == NULL);
  config_free(&o);
  unlink(path);
}

int main(void) {
  RUN(defaults_and_command_line);
  RUN(errors);
  RUN(defaults_file_sections_and_precedence);
  return unit_report("server_config");
}
