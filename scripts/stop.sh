#!/usr/bin/env bash
# `pnpm stop`: stops the API and worker that `pnpm start` started (they finish or hand back their jobs).
set -euo pipefail
cd "$(dirname "$0")/.."
RUN="${COFFRE_HOME:-$PWD/.coffre}/run"
for file in "$RUN"/*.pid; do
  [ -f "$file" ] || continue
  pid=$(cat "$file")
  # pnpm start runs each process in its own session: pnpm, the shell it runs and node are one process
  # group, signalled together. Node finishes or hands back its jobs, then exits.
  if kill -0 -- "-$pid" 2>/dev/null; then
    kill -TERM -- "-$pid" 2>/dev/null || true
    for _ in $(seq 1 120); do kill -0 -- "-$pid" 2>/dev/null || break; sleep 0.5; done
    kill -0 -- "-$pid" 2>/dev/null && kill -KILL -- "-$pid" 2>/dev/null || true
    echo "stopped $(basename "$file" .pid)"
  fi
  rm -f "$file"
done
