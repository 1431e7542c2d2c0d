#!/bin/sh
# The mariadb image's entrypoint (busybox sh): the environment contract of the official mysql/mariadb images, enough
# for the example charts. On an empty /var/lib/mysql it creates the system tables, then the root password
# (MYSQL_ROOT_PASSWORD, MYSQL_RANDOM_ROOT_PASSWORD=yes or MYSQL_ALLOW_EMPTY_PASSWORD=yes), MYSQL_DATABASE, and
# MYSQL_USER with MYSQL_PASSWORD (granted that database), then runs /docker-entrypoint-initdb.d/*.sql; then it
# execs mariadbd. MARIADB_* names are read too. Started as root it hands the data folder to nonroot (65532) and
# mariadbd drops to that user itself; started as any other user it runs as that user.
# PORT (default 3306) and BIND (default 0.0.0.0) set where it listens.
set -eu

for name in ROOT_PASSWORD RANDOM_ROOT_PASSWORD ALLOW_EMPTY_PASSWORD DATABASE USER PASSWORD; do
  eval "value=\${MYSQL_$name:-\${MARIADB_$name:-}}"
  eval "$name=\$value"
done

datadir=/var/lib/mysql
user_flag=""
if [ "$(id -u)" = "0" ]; then
  mkdir -p "$datadir" /run/mysqld
  chown -R 65532:65532 "$datadir" /run/mysqld
  user_flag="--user=nonroot"
else
  user_flag="--user=$(id -u)"
fi

sql_string() { printf "'%s'" "$(printf '%s' "$1" | sed "s/\\\\/\\\\\\\\/g; s/'/\\\\'/g")"; }
sql_name() { printf '`%s`' "$(printf '%s' "$1" | sed 's/`/``/g')"; }

if [ ! -d "$datadir/mysql" ]; then
  if [ -z "$ROOT_PASSWORD" ] && [ "$RANDOM_ROOT_PASSWORD" != "yes" ] && [ "$ALLOW_EMPTY_PASSWORD" != "yes" ]; then
    echo "mariadb: set MYSQL_ROOT_PASSWORD, MYSQL_RANDOM_ROOT_PASSWORD=yes or MYSQL_ALLOW_EMPTY_PASSWORD=yes" >&2
    exit 1
  fi
  if [ "$RANDOM_ROOT_PASSWORD" = "yes" ]; then
    ROOT_PASSWORD="$(head -c 24 /dev/urandom | base64 | tr -d '/+=')"
    echo "mariadb: generated root password: $ROOT_PASSWORD"
  fi
  echo "mariadb: initializing $datadir"
  mariadb-install-db $user_flag --datadir="$datadir" --auth-root-authentication-method=normal \
    --skip-test-db --skip-name-resolve --rpm >/tmp/install-db.log 2>&1 || { cat /tmp/install-db.log >&2; exit 1; }
  init=/tmp/init.sql
  {
    echo "SET @@SESSION.SQL_LOG_BIN=0;"
    echo "FLUSH PRIVILEGES;"
    echo "DELETE FROM mysql.global_priv WHERE User='';"
    echo "ALTER USER 'root'@'localhost' IDENTIFIED BY $(sql_string "$ROOT_PASSWORD");"
    echo "CREATE USER 'root'@'%' IDENTIFIED BY $(sql_string "$ROOT_PASSWORD");"
    echo "GRANT ALL ON *.* TO 'root'@'%' WITH GRANT OPTION;"
    if [ -n "$DATABASE" ]; then
      echo "CREATE DATABASE IF NOT EXISTS $(sql_name "$DATABASE");"
    fi
    if [ -n "$USER" ] && [ -n "$PASSWORD" ]; then
      echo "CREATE USER $(sql_string "$USER")@'%' IDENTIFIED BY $(sql_string "$PASSWORD");"
      if [ -n "$DATABASE" ]; then
        echo "GRANT ALL ON $(sql_name "$DATABASE").* TO $(sql_string "$USER")@'%';"
      fi
    fi
    if [ -n "$DATABASE" ]; then echo "USE $(sql_name "$DATABASE");"; fi
    for f in /docker-entrypoint-initdb.d/*.sql; do
      [ -f "$f" ] || continue
      echo "mariadb: running $f" >&2
      cat "$f"
      echo
    done
  } >"$init"
  mariadbd $user_flag --datadir="$datadir" --bootstrap --skip-networking <"$init" >/tmp/bootstrap.log 2>&1 ||
    { cat /tmp/bootstrap.log >&2; exit 1; }
  rm -f "$init"
  echo "mariadb: initialized"
fi

exec mariadbd $user_flag --datadir="$datadir" --port="${PORT:-3306}" --bind-address="${BIND:-0.0.0.0}" "$@"
