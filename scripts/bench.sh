#!/usr/bin/env bash
# Runs `tongban bench` (make bench). Makes sure the MariaDB it measures on is
# up (127.0.0.1:3306, root, no password) and starts it if it is installed but
# stopped, as scripts/test.sh does. Extra arguments go to `tongban bench`.
set -euo pipefail
cd "$(dirname "$0")/.."

mariadb_up() {
  if command -v mysqladmin >/dev/null 2>&1; then
    mysqladmin -h127.0.0.1 -P3306 -uroot --connect-timeout=2 ping >/dev/null 2>&1
  else
    (exec 3<>/dev/tcp/127.0.0.1/3306) 2>/dev/null
  fi
}

if ! mariadb_up; then
  if [ -x /usr/sbin/mariadbd ]; then
    echo "bench: MariaDB not answering on 127.0.0.1:3306; starting it"
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd || true
    for _ in $(seq 1 60); do mariadb_up && break; sleep 1; done
  fi
fi
if ! mariadb_up; then
  echo "bench: MariaDB is not reachable on 127.0.0.1:3306 (root, no password); the benchmark needs it" >&2
  exit 1
fi

# A built binary, so the connector plugin process is this binary re-run.
mkdir -p bin
go build -o bin/tongban ./cmd/tongban
exec bin/tongban bench "$@"
