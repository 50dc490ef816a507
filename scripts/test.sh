#!/usr/bin/env bash
# Runs the whole test suite. Makes sure the MariaDB the MySQL tests use is up
# (127.0.0.1:3306, root, no password) and starts it if it is installed but stopped.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/mariadb.sh
ensure_mariadb test

exec go test -count=1 -timeout "${TEST_TIMEOUT:-20m}" ./... "$@"
