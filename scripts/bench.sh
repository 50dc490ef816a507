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
# The agent binary too: its own peak RSS is measured in its own process.
go build -o bin/tongban ./cmd/tongban
go build -o bin/agent ./cmd/agent
exec bin/tongban bench -agent-bin bin/agent "$@"
