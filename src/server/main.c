/*
 * server/main.c - mmsqld: parse options, open the node's data directory,
 * listen for MySQL clients, and shut down cleanly on SIGTERM/SIGINT.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "proto/proto.h"
#include "server/config.h"
#include "sql/instance.h"
#include "util/mm.h"

static volatile int stop_flag;

static void on_signal(int sig) { stop_flag = sig; }

int main(int argc, char **argv) {
  mm_options opts;
  int r = config_parse(argc, argv, &opts);
  if (r != 0) return r > 0 ? 0 : 1;
  if (opts.log_error && *opts.log_error && mm_log_open(opts.log_error) != MM_OK) {
    fprintf(stderr, "mmsqld: cannot open error log '%s': %s\n", opts.log_error, strerror(errno));
    return 1;
  }
  signal(SIGPIPE, SIG_IGN);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);

  mm_log_note("mmsqld %s starting (datadir %s, port %d, server_id %u, auto_increment_offset %d)",
              MM_VERSION, opts.datadir, opts.port, opts.server_id, opts.auto_increment_offset);
  mm_instance *inst = NULL;
  mm_error err;
  if (mm_instance_open(&opts, &inst, &err) != MM_OK) {
    mm_log_error("%s", err.msg);
    if (opts.log_error && *opts.log_error) fprintf(stderr, "mmsqld: %s\n", err.msg);
    config_free(&opts);
    return 1;
  }
  int fd;
  if (proto_listen(opts.bind_address, opts.port, &fd, &err) != MM_OK) {
    mm_log_error("%s", err.msg);
    if (opts.log_error && *opts.log_error) fprintf(stderr, "mmsqld: %s\n", err.msg);
    mm_instance_close(inst);
    config_free(&opts);
    return 1;
  }
  FILE *pf = fopen(opts.pid_file, "w");
  if (pf) {
    fprintf(pf, "%d\n", (int)getpid());
    fclose(pf);
  }
  mm_log_note("ready for connections on %s:%d", opts.bind_address ? opts.bind_address : "*",
              proto_local_port(fd));
  proto_serve(inst, fd, &stop_flag);
  mm_log_note("received signal %d, shutting down", stop_flag);
  close(fd);
  mm_instance_close(inst);
  unlink(opts.pid_file);
  mm_log_note("shutdown complete");
  config_free(&opts);
  return 0;
}
