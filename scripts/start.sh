#!/usr/bin/env bash
# `pnpm start`: the all-in-one local coffre. Installs what is missing, uses the PostgreSQL and Redis
# at DATABASE_URL / REDIS_URL (or starts private ones under .coffre/), applies migrations, creates a
# demo source database when no source is configured, starts the API and one worker in the
# background, takes a first backup, and prints the URL and the admin token. `pnpm stop` stops them.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/common.sh

ensure_node
ensure_debian_packages postgresql-client zstd age
ensure_pnpm

mkdir -p "$COFFRE_HOME/run" "$COFFRE_HOME/logs"
chmod 700 "$COFFRE_HOME"
ENV_FILE="$COFFRE_HOME/env"

# Settings made once and kept: the secret key seals stored credentials, and the admin token is the
# one printed below. Values given in the environment win, and are what a new file keeps.
GIVEN_SECRET_KEY="${SECRET_KEY:-}"
GIVEN_ADMIN_TOKEN="${ADMIN_TOKEN:-}"
if [ ! -f "$ENV_FILE" ]; then
  # Created inside a subshell, under its umask: only this file is private (not the build, the logs or
  # the backups), and never readable by others, not even for a moment.
  (
    umask 077
    {
      printf 'SECRET_KEY=%q\n' "${GIVEN_SECRET_KEY:-$(node -e 'console.log(require("crypto").randomBytes(32).toString("hex"))')}"
      printf 'ADMIN_TOKEN=%q\n' "${GIVEN_ADMIN_TOKEN:-cof_$(node -e 'console.log(require("crypto").randomBytes(24).toString("base64url"))')}"
    } >"$ENV_FILE"
  )
fi
set -a
# shellcheck disable=SC1090
source "$ENV_FILE"
set +a
[ -z "$GIVEN_SECRET_KEY" ] || export SECRET_KEY="$GIVEN_SECRET_KEY"
[ -z "$GIVEN_ADMIN_TOKEN" ] || export ADMIN_TOKEN="$GIVEN_ADMIN_TOKEN"

# Artifacts are encrypted to a local age key unless recipients are configured (keep the key safe:
# without it the backups cannot be read).
if [ -z "${AGE_RECIPIENTS:-}" ] && command -v age-keygen >/dev/null 2>&1; then
  KEY_FILE="$COFFRE_HOME/age-key.txt"
  [ -f "$KEY_FILE" ] || (umask 077 && age-keygen -o "$KEY_FILE" 2>/dev/null)
  export AGE_IDENTITY_FILE="${AGE_IDENTITY_FILE:-$KEY_FILE}"
  export AGE_RECIPIENTS="$(age-keygen -y "$KEY_FILE")"
fi

export DATABASE_URL="${DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/coffre}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"
export BACKUP_DIR="${BACKUP_DIR:-$PWD/backups}"
export PORT="${PORT:-3000}"
export HOST="${HOST:-127.0.0.1}"

ensure_postgres "$DATABASE_URL"
ensure_redis "$REDIS_URL"

# The settings this start runs with, for another worker or coffre doctor/cleanup/storage on this
# machine: set -a; . .coffre/settings.env; set +a. Rewritten by each start, private.
(
  umask 077
  rm -f "$COFFRE_HOME/settings.env"
  {
    echo "# written by pnpm start at $(date -u +%Y-%m-%dT%H:%M:%SZ): the settings it ran the API and worker with"
    for name in DATABASE_URL REDIS_URL QUEUE_PREFIX SECRET_KEY BACKUP_DIR TMP_DIR AGE_IDENTITY_FILE AGE_RECIPIENTS FILES_ROOTS COFFRE_HOME; do
      [ -z "${!name:-}" ] || printf '%s=%q\n' "$name" "${!name}"
    done
  } >"$COFFRE_HOME/settings.env"
)

if [ ! -d node_modules ] || [ pnpm-lock.yaml -nt node_modules/.modules.yaml ]; then
  say "installing dependencies"
  pnpm install --frozen-lockfile >/dev/null
fi
say "building"
pnpm -s build >"$COFFRE_HOME/logs/build.log" 2>&1 || die "the build failed: see $COFFRE_HOME/logs/build.log"
say "applying migrations"
pnpm -s db:migrate

# A demo source with sample data, unless a source is configured.
if [ -z "${SOURCE_DATABASE_URL:-}" ]; then
  DEMO_DATABASE="${DEMO_DATABASE:-coffre_demo}"
  [[ "$DEMO_DATABASE" =~ ^[a-z_][a-z0-9_]{0,62}$ ]] || die "DEMO_DATABASE must be a plain database name (lower-case letters, digits, _): got \"$DEMO_DATABASE\""
  DEMO_URL=$(node -e 'const u = new URL(process.argv[1]); u.pathname = "/" + process.argv[2]; console.log(u.toString())' "$DATABASE_URL" "$DEMO_DATABASE")
  if ! psql -X -q -d "$DEMO_URL" -c 'SELECT 1 FROM order_lines LIMIT 1' >/dev/null 2>&1; then
    say "creating the demo database $DEMO_DATABASE"
    MAINT_URL=$(node -e 'const u = new URL(process.argv[1]); u.pathname = "/postgres"; console.log(u.toString())' "$DATABASE_URL")
    psql -X -q -d "$MAINT_URL" -c "CREATE DATABASE \"$DEMO_DATABASE\"" >/dev/null 2>&1 || true
    psql -X -q -v ON_ERROR_STOP=1 --single-transaction -d "$DEMO_URL" -f scripts/demo.sql >/dev/null
  fi
  export SOURCE_DATABASE_URL="$DEMO_URL"
fi

# Restart cleanly when run again.
bash scripts/stop.sh >/dev/null 2>&1 || true

start_process() { # name script
  # In a session of its own: pnpm runs node through a shell, and `pnpm stop` signals the whole group.
  setsid nohup pnpm -s "$2" >>"$COFFRE_HOME/logs/$1.log" 2>&1 </dev/null &
  echo $! >"$COFFRE_HOME/run/$1.pid"
}
say "starting the API and a worker (logs in $COFFRE_HOME/logs)"
start_process api api
start_process worker worker

URL="http://$HOST:$PORT"
for _ in $(seq 1 60); do
  curl -fsS "$URL/api/health" >/dev/null 2>&1 && break
  sleep 1
done
curl -fsS "$URL/api/health" >/dev/null || die "the API did not become healthy: see $COFFRE_HOME/logs/api.log"

say "taking a first backup"
# The token reaches curl in a private file, never in its arguments (they show in ps).
AUTH="@$COFFRE_HOME/run/auth-header"
(umask 077 && rm -f "$COFFRE_HOME/run/auth-header" && printf 'Authorization: Bearer %s\n' "$ADMIN_TOKEN" >"$COFFRE_HOME/run/auth-header")
trap 'rm -f "$COFFRE_HOME/run/auth-header"' EXIT
BACKUP=$(curl -fsS -X POST -H "$AUTH" -H 'Content-Type: application/json' -d '{"name":"first-backup-'"$(date -u +%Y%m%d-%H%M%S)"'"}' "$URL/api/backups")
ID=$(node -e 'console.log(JSON.parse(process.argv[1]).id)' "$BACKUP")
STATUS=pending
for _ in $(seq 1 300); do
  ROW=$(curl -fsS -H "$AUTH" "$URL/api/backups/$ID")
  STATUS=$(node -e 'console.log(JSON.parse(process.argv[1]).status)' "$ROW")
  [ "$STATUS" = completed ] || [ "$STATUS" = failed ] && break
  sleep 1
done
node -e '
  const b = JSON.parse(process.argv[1]);
  if (b.status !== "completed") { console.error(`coffre: the first backup ${b.status}: ${b.errorMessage ?? "still running"}`); process.exit(1); }
  console.error(`coffre: first backup completed: ${b.name}, ${b.sizeBytes} bytes, ${b.tablesCount} tables, ${b.recordsCount} rows, sha256 ${b.checksumSha256.slice(0, 16)}…`);
' "$ROW"

cat >&2 <<EOF

  coffre is running at   $URL
  admin token            $ADMIN_TOKEN
  API documentation      $URL/api/docs
  queues (Bull Board)    $URL/admin/queues
  backups are written to $BACKUP_DIR${AGE_IDENTITY_FILE:+ (encrypted; key in $AGE_IDENTITY_FILE)}

  Try:   curl -H "Authorization: Bearer $ADMIN_TOKEN" $URL/api/backups
  Stop:  pnpm stop

EOF
