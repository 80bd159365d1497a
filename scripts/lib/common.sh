# Shared by scripts/start.sh, scripts/test.sh and .ci/run: find or install what coffre needs, and
# start PostgreSQL and Redis when nothing answers. Sourced, not run.

PNPM_VERSION="12.21.0"
COFFRE_HOME="${COFFRE_HOME:-$PWD/.coffre}"

say() { printf '\033[1mcoffre:\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31mcoffre:\033[0m %s\n' "$*" >&2; exit 1; }

# ensure_debian_packages PKG... — installs the missing ones (as root), or says what to install.
ensure_debian_packages() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    die "missing Debian packages: ${missing[*]} (run: sudo apt-get install -y ${missing[*]})"
  fi
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null 2>&1 ||
    { apt-get update >/dev/null 2>&1 && apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null; } ||
    die "could not install ${missing[*]}"
}

# Corepack's signature check fails against some registries: pnpm comes from npm instead.
ensure_pnpm() {
  if command -v pnpm >/dev/null 2>&1 && [ "$(pnpm --version 2>/dev/null | cut -d. -f1)" -ge 12 ]; then return 0; fi
  command -v npm >/dev/null 2>&1 || die "Node.js 20 or newer is required (with npm)"
  say "installing pnpm $PNPM_VERSION with npm"
  npm install -g "pnpm@$PNPM_VERSION" >/dev/null 2>&1 || die "could not install pnpm (npm install -g pnpm@$PNPM_VERSION)"
}

ensure_node() {
  command -v node >/dev/null 2>&1 || die "Node.js 20.19 or newer is required"
  local major
  major=$(node -p 'process.versions.node.split(".")[0]')
  [ "$major" -ge 20 ] || die "Node.js 20.19 or newer is required (found $(node --version))"
}

pg_answers() { # URL
  pg_isready -q -d "$1" -t 3 >/dev/null 2>&1
}

redis_answers() { # URL
  node -e '
    const net = require("node:net"); const u = new URL(process.argv[1]);
    const s = net.connect(Number(u.port || 6379), u.hostname, () => s.write("PING\r\n"));
    s.setTimeout(2000, () => process.exit(1)); s.on("error", () => process.exit(1));
    s.on("data", (d) => process.exit(/PONG|NOAUTH/.test(String(d)) ? 0 : 1));' "$1" >/dev/null 2>&1
}

pg_bin_dir() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$dir" ] && [ -x "$dir/initdb" ] && echo "$dir"
}

# ensure_postgres URL — returns when something answers at URL: the machine's cluster (started if it
# is installed but stopped), or a private cluster under $COFFRE_HOME/postgres on the URL's port.
ensure_postgres() {
  local url="$1"
  pg_answers "$url" && return 0
  if command -v pg_ctlcluster >/dev/null 2>&1 && ls /etc/postgresql/*/main >/dev/null 2>&1; then
    say "starting the machine's PostgreSQL cluster"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n 1)" main start >/dev/null 2>&1 || true
    for _ in $(seq 1 30); do pg_answers "$url" && return 0; sleep 1; done
  fi
  ensure_debian_packages postgresql
  local bin port data
  bin=$(pg_bin_dir) || die "PostgreSQL's initdb was not found after installing postgresql"
  port=$(node -e 'console.log(new URL(process.argv[1]).port || 5432)' "$url")
  data="$COFFRE_HOME/postgres"
  if [ ! -f "$data/PG_VERSION" ]; then
    say "creating a private PostgreSQL cluster in $data"
    mkdir -p "$data"
    as_postgres_user "$data" "$bin/initdb" -D "$data" -U postgres --auth=trust -E UTF8 >/dev/null
  fi
  say "starting the private PostgreSQL on port $port"
  as_postgres_user "$data" "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w -o "-p $port -k $data -c listen_addresses=127.0.0.1" start >/dev/null ||
    die "PostgreSQL did not start: see $data/server.log"
  pg_answers "$url" || die "PostgreSQL started but does not answer at $url"
}

# initdb and postgres refuse to run as root: run them as the postgres user, owning the data directory.
as_postgres_user() {
  local data="$1"; shift
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
    chown -R postgres: "$data"
    chmod 700 "$data"
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# ensure_redis URL — a private redis-server on the URL's port when nothing answers there.
ensure_redis() {
  local url="$1"
  redis_answers "$url" && return 0
  command -v redis-server >/dev/null 2>&1 || ensure_debian_packages redis-server
  local port dir
  port=$(node -e 'console.log(new URL(process.argv[1]).port || 6379)' "$url")
  dir="$COFFRE_HOME/redis"
  mkdir -p "$dir"
  say "starting a private Redis on port $port"
  redis-server --daemonize yes --bind 127.0.0.1 --port "$port" --dir "$dir" --appendonly yes \
    --maxmemory-policy noeviction --logfile "$dir/redis.log" --pidfile "$dir/redis.pid" >/dev/null ||
    die "redis-server did not start: see $dir/redis.log"
  for _ in $(seq 1 30); do redis_answers "$url" && return 0; sleep 0.2; done
  die "Redis started but does not answer at $url"
}

# ensure_services_and_dependencies PG_URL REDIS_URL — PostgreSQL and Redis answer, and the checkout's
# dependencies are installed (again when the lockfile changed).
ensure_services_and_dependencies() {
  ensure_postgres "$1"
  ensure_redis "$2"
  if [ ! -d node_modules ] || [ pnpm-lock.yaml -nt node_modules/.modules.yaml ]; then
    pnpm install --frozen-lockfile
  fi
}
