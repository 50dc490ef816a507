#!/usr/bin/env bash
# Runs `tongban bench` (make bench). Makes sure the MariaDB it measures on is
# up (127.0.0.1:3306, root, no password), as scripts/test.sh does. Extra
# arguments go to `tongban bench`.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/mariadb.sh
ensure_mariadb bench

# A built binary, so the connector plugin process is this binary re-run.
mkdir -p bin
go build -o bin/tongban ./cmd/tongban
exec bin/tongban bench "$@"
