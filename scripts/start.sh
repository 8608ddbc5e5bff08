#!/usr/bin/env bash
# Sets up and starts one mmsqld node on the embedded default data directory
# (./var/data inside the project) and prints how to connect.
#   scripts/start.sh [--port=N] [other mmsqld options]
# Stop it with: scripts/stop.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
make -j"$(nproc)" build/mmsqld
mkdir -p var
port=3306
for a in "$@"; do case "$a" in --port=*) port=${a#--port=};; esac; done
if [ -f var/data/mmsqld.pid ] && kill -0 "$(cat var/data/mmsqld.pid)" 2>/dev/null; then
  echo "mmsqld is already running (pid $(cat var/data/mmsqld.pid))"
else
  nohup build/mmsqld --datadir="$PWD/var/data" --port="$port" --log-error="$PWD/var/mmsqld.err" "$@" \
    >/dev/null 2>&1 &
  for _ in $(seq 50); do
    grep -q "ready for connections" var/mmsqld.err 2>/dev/null && break
    sleep 0.1
  done
  if ! grep -q "ready for connections" var/mmsqld.err; then
    echo "mmsqld failed to start; see var/mmsqld.err:"; tail -5 var/mmsqld.err; exit 1
  fi
  echo "mmsqld started (pid $(cat var/data/mmsqld.pid)), data in var/data, error log var/mmsqld.err"
fi
echo "Connect with:  mariadb -h127.0.0.1 -P$port -uroot"
