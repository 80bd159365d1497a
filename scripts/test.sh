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
# Two vitest runs side by side: the fault-injection suite (its files one at a time, as its stall
# windows and kills need) beside the rest, whose files run two at a time (vitest.config.ts). Most of a
# test's time is spent waiting on PostgreSQL, Redis, pg_dump and the processes it starts, so the two
# share the machine's cores well. The faults' lines are prefixed with [faults].
faults_status_file="$(mktemp)"
trap 'kill "$faults_pid" 2>/dev/null || true; rm -f "$faults_status_file"' EXIT
( set +e; pnpm exec vitest run --project faults 2>&1 | sed -u 's/^/[faults] /'; echo "${PIPESTATUS[0]}" > "$faults_status_file" ) &
faults_pid=$!
others=0
pnpm exec vitest run --project unit --project security --project web || others=$?
wait "$faults_pid" || true
faults="$(cat "$faults_status_file")"
if [ "$others" != 0 ] || [ "$faults" != 0 ]; then
  echo "tests failed: unit, security and web exited $others; faults exited ${faults:-unknown}" >&2
  exit 1
fi
# The one-command start rebuilds the packages: nothing else may run while it does.
pnpm exec vitest run --project start
