#!/usr/bin/env bash
# Deploy the all-in-one with defaults: host packages, osa-aio in /opt/osa-aio/venv (linked as
# /usr/local/bin/osa-aio), then `osa-aio bootstrap && osa-aio run`.
# Usage, as root on Debian 12 / Ubuntu: scripts/aio.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
require_root
install_host_packages
make_venv /opt/osa-aio/venv
ln -sf /opt/osa-aio/venv/bin/osa-aio /usr/local/bin/osa-aio

for step in bootstrap run; do
  set +e
  osa-aio "$step"
  rc=$?
  set -e
  if [ "$rc" -eq 3 ]; then
    echo "osa-aio $step is not built yet; the deploy stops here."
    exit 0
  fi
  [ "$rc" -eq 0 ] || exit "$rc"
done
