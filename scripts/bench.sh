#!/usr/bin/env bash
# `pnpm bench`: the benchmark report (bench/run.ts). Not part of the tests. Arguments go to it,
# e.g. `pnpm bench --scale 4` or `pnpm bench --fresh`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/common.sh

ensure_node
ensure_debian_packages postgresql-client zstd age
# pgbench builds part of the source database; it comes with the server package.
command -v pgbench >/dev/null 2>&1 || ensure_debian_packages postgresql
export BENCH_PG_BIN="${BENCH_PG_BIN:-$(pg_bin_dir)}"
ensure_pnpm
export BENCH_PG_URL="${BENCH_PG_URL:-postgresql://postgres@127.0.0.1:5432/postgres}"
export BENCH_REDIS_URL="${BENCH_REDIS_URL:-redis://127.0.0.1:6379}"
ensure_services_and_dependencies "$BENCH_PG_URL" "$BENCH_REDIS_URL"
pnpm -s build >/dev/null
exec pnpm exec tsx bench/run.ts "$@"
