#!/usr/bin/env bash
# Stops the node started by scripts/start.sh (SIGTERM: clean shutdown).
cd "$(dirname "$0")/.."
pidf=var/data/mmsqld.pid
if [ -f $pidf ] && kill "$(cat $pidf)" 2>/dev/null; then
  for _ in $(seq 100); do kill -0 "$(cat $pidf 2>/dev/null)" 2>/dev/null || break; sleep 0.1; done
  echo "mmsqld stopped"
else
  echo "mmsqld is not running"
fi
