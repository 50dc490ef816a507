# Sourced by test.sh and bench.sh: make sure the MariaDB the MySQL tests and
# benchmarks use answers on 127.0.0.1:3306 (root, no password), starting it if
# it is installed but stopped. $1 names the caller in messages.
mariadb_up() {
  if command -v mysqladmin >/dev/null 2>&1; then
    mysqladmin -h127.0.0.1 -P3306 -uroot --connect-timeout=2 ping >/dev/null 2>&1
  else
    (exec 3<>/dev/tcp/127.0.0.1/3306) 2>/dev/null
  fi
}

ensure_mariadb() {
  local who=$1
  if ! mariadb_up && [ -x /usr/sbin/mariadbd ]; then
    echo "$who: MariaDB not answering on 127.0.0.1:3306; starting it"
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd || true
    for _ in $(seq 1 60); do mariadb_up && break; sleep 1; done
  fi
  if ! mariadb_up; then
    echo "$who: MariaDB is not reachable on 127.0.0.1:3306 (root, no password); it is needed" >&2
    return 1
  fi
}
