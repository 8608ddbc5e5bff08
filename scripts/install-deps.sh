#!/usr/bin/env bash
# Installs the Debian packages mmsql needs to build, test and benchmark.
# Idempotent: packages already present are skipped by apt-get.
set -euo pipefail
PKGS=(
  build-essential make pkg-config clang libclang-rt-14-dev
  libsqlite3-dev librocksdb-dev libssl-dev
  mariadb-client sysbench
  python3-pymysql python3-mysqldb python3-pytest
)
if [ "${1:-}" = "--bench" ]; then
  PKGS+=(mariadb-server galera-4)
fi
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
