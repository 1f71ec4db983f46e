#!/usr/bin/env bash
# Install what the tests need (host packages, a venv in .venv) and run the whole suite.
# Usage, as root on Debian 12 / Ubuntu: scripts/run-tests.sh [pytest args]
# Exits non-zero on any failure, and when no test ran (pytest's exit code 5).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
require_root
install_host_packages
install_packages "${TEST_PACKAGES[@]}"
make_venv .venv "[test]" -e
# Unit tests first (seconds), then the integration suite on real LXC (one shared deployment).
[ "$#" -gt 0 ] || set -- tests/unit tests/integration
# --durations: the slowest tests' times are part of the output (the suite must stay under 45 min).
exec .venv/bin/python -m pytest -ra --durations=25 "$@"
