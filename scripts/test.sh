#!/usr/bin/env bash
# `pnpm test`: every test. Starts PostgreSQL and Redis when they do not answer, builds, then runs
# vitest (extra arguments go to vitest, e.g. `pnpm test --project unit`).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/common.sh

ensure_node
ensure_debian_packages postgresql postgresql-client zstd age chromium redis-server redis-sentinel openssh-server rclone
ensure_pnpm
export TEST_PG_URL="${TEST_PG_URL:-postgresql://postgres@127.0.0.1:5432/postgres}"
export TEST_REDIS_URL="${TEST_REDIS_URL:-redis://127.0.0.1:6379}"
ensure_services_and_dependencies "$TEST_PG_URL" "$TEST_REDIS_URL"
pnpm -s build
if [ $# -gt 0 ]; then
  exec pnpm exec vitest run "$@"
fi
# The fault-injection suite kills workers at chosen moments and measures stall windows: it runs on its
# own, after the others, so that their load does not blur its timings.
pnpm exec vitest run --project unit --project security --project web
pnpm exec vitest run --project faults
# The one-command start rebuilds the packages: nothing else may run while it does.
pnpm exec vitest run --project start
