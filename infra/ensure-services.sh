#!/usr/bin/env bash
# Make sure the Postgres, Redis and NATS (with JetStream) that `pnpm start` and the tests use
# are up on 127.0.0.1. Idempotent: silent when all three answer, otherwise one line per action.
# A missing server is installed from Debian packages. Runs as root (apt, pg_ctlcluster).
# Ports: PG_PORT (5432), REDIS_PORT (6379), NATS_PORT (4222); WAIT_SECS bounds each wait (30).
set -euo pipefail

PG_PORT="${PG_PORT:-5432}"
REDIS_PORT="${REDIS_PORT:-6379}"
NATS_PORT="${NATS_PORT:-4222}"
WAIT_SECS="${WAIT_SECS:-30}"
HOST=127.0.0.1

say() { echo "ensure-services: $*"; }
die() { echo "ensure-services: ERROR: $*" >&2; exit 1; }

apt_updated=""
apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  if [ -z "$apt_updated" ]; then # at most one (slow) update per run
    say "apt-get update"
    apt-get update -qq >/dev/null || die "apt-get update failed"
    apt_updated=1
  fi
  say "apt-get install $*"
  apt-get install -y -qq "$@" >/dev/null || die "apt-get install $* failed"
}

# Poll a check function until it succeeds; give up after WAIT_SECS.
wait_for() {
  local what=$1 check=$2 deadline=$((SECONDS + WAIT_SECS))
  until "$check"; do
    [ "$SECONDS" -lt "$deadline" ] || die "$what did not answer within ${WAIT_SECS}s"
    sleep 0.5
  done
}

# Print the first line the server on 127.0.0.1:$1 sends (after sending $2, if given, with \r\n
# escapes expanded); fail when nothing listens. Plain bash /dev/tcp: checks need no client tools.
tcp_line() {
  local line=""
  { exec 3<>"/dev/tcp/$HOST/$1"; } 2>/dev/null || return 1
  if [ -n "${2:-}" ]; then printf '%b' "$2" >&3; fi
  IFS= read -r -t 2 line <&3 || true
  exec 3<&-
  printf '%s' "${line%$'\r'}"
}

# --- Postgres ------------------------------------------------------------------------------
pg_up() { pg_isready -q -h "$HOST" -p "$PG_PORT" 2>/dev/null; }
pg_trusts() { psql -h "$HOST" -p "$PG_PORT" -U postgres -d postgres -w -Atqc 'select 1' >/dev/null 2>&1; }
# "version name status" of the local cluster configured for PG_PORT, if any.
pg_cluster() { pg_lsclusters -h 2>/dev/null | awk -v p="$PG_PORT" '$3 == p { print $1, $2, $4; exit }'; }

# pg_hba.conf is first-match, so trust lines must go above the packaged scram-sha-256 ones.
pg_trust_local() {
  local ver=$1 name=$2 net hba="/etc/postgresql/$1/$2/pg_hba.conf"
  for net in 127.0.0.1/32 ::1/128; do
    grep -Eq "^host[[:space:]]+all[[:space:]]+(all|postgres)[[:space:]]+${net}[[:space:]]+trust" "$hba" && continue
    say "pg_hba.conf: trust user postgres from $net ($ver/$name)"
    sed -i "1i host all postgres $net trust" "$hba"
  done
  say "reloading postgres $ver/$name"
  pg_ctlcluster --skip-systemctl-redirect "$ver" "$name" reload
}

ensure_postgres() {
  local ver name status
  if ! pg_up; then
    compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null || apt_install postgresql
    read -r ver name status <<<"$(pg_cluster)" || true
    if [ -z "${ver:-}" ]; then
      # Fresh install without a cluster (or none on this port): create one only if none exists,
      # never reconfigure someone else's cluster.
      [ -z "$(pg_lsclusters -h 2>/dev/null)" ] ||
        die "no local Postgres cluster listens on port $PG_PORT (see pg_lsclusters)"
      # shellcheck disable=SC2012 # version dirs are plain numbers like 15
      ver=$(ls /usr/lib/postgresql | sort -V | tail -1) name=main status=down
      say "creating postgres cluster $ver/$name on port $PG_PORT"
      pg_createcluster "$ver" "$name" --port "$PG_PORT" >/dev/null
    fi
    if [ "$status" != online ]; then
      say "starting postgres $ver/$name"
      pg_ctlcluster --skip-systemctl-redirect "$ver" "$name" start ||
        die "postgres $ver/$name failed to start (see /var/log/postgresql/)"
    fi
    wait_for "postgres on $HOST:$PG_PORT" pg_up
  fi
  pg_trusts && return 0
  read -r ver name status <<<"$(pg_cluster)" || true
  [ -n "${ver:-}" ] || die "postgres on $HOST:$PG_PORT wants a password for user postgres and is not a local cluster"
  pg_trust_local "$ver" "$name"
  wait_for "postgres trust auth on $HOST:$PG_PORT" pg_trusts
}

# --- Redis ---------------------------------------------------------------------------------
redis_up() { [ "$(tcp_line "$REDIS_PORT" 'PING\r\n')" = "+PONG" ]; }

ensure_redis() {
  local reply log=/var/log/redis/ci.log
  if reply=$(tcp_line "$REDIS_PORT" 'PING\r\n'); then
    [ "$reply" = "+PONG" ] && return 0
    die "$HOST:$REDIS_PORT is taken but does not answer PING like Redis: '${reply:0:80}'"
  fi
  [ -x /usr/bin/redis-server ] || apt_install redis-server
  redis_up && return 0 # the package's own service may have started it
  [ "$REDIS_PORT" = 6379 ] || log=/var/log/redis/ci-$REDIS_PORT.log
  mkdir -p /var/lib/redis /var/log/redis
  say "starting redis on $HOST:$REDIS_PORT"
  # No persistence: this Redis only holds caches, presence and queues that Postgres can rebuild.
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$REDIS_PORT" --save "" \
    --appendonly no --dir /var/lib/redis --logfile "$log" >/dev/null ||
    die "redis-server failed to start (see $log)"
  wait_for "redis on $HOST:$REDIS_PORT (log: $log)" redis_up
}

# --- NATS ----------------------------------------------------------------------------------
# A NATS server greets every client with `INFO {json}`; the json has "jetstream":true iff enabled.
nats_up() { [[ "$(tcp_line "$NATS_PORT")" == INFO* ]]; }

ensure_nats() {
  local info suffix=""
  if ! info=$(tcp_line "$NATS_PORT"); then
    [ -x /usr/sbin/nats-server ] || apt_install nats-server
    # Non-default ports get their own store/log/pidfile so two servers never share JetStream data.
    [ "$NATS_PORT" = 4222 ] || suffix="-$NATS_PORT"
    mkdir -p "/var/lib/nats-server$suffix"
    say "starting nats-server (JetStream) on $HOST:$NATS_PORT"
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server \
      --pidfile "/run/nats-server$suffix.pid" --make-pidfile -- \
      -a 127.0.0.1 -p "$NATS_PORT" -js -sd "/var/lib/nats-server$suffix" \
      -l "/var/log/nats-server$suffix.log" >/dev/null
    wait_for "nats on $HOST:$NATS_PORT (log: /var/log/nats-server$suffix.log)" nats_up
    info=$(tcp_line "$NATS_PORT") || true
  fi
  [[ "$info" == INFO* ]] || die "$HOST:$NATS_PORT is taken but does not greet like NATS: '${info:0:80}'"
  [[ "$info" == *'"jetstream":true'* ]] ||
    die "nats-server on $HOST:$NATS_PORT runs without JetStream; restart it with -js"
}

ensure_postgres
ensure_redis
ensure_nats
