#!/usr/bin/env bash
# `pnpm stop`: stops the API and worker that `pnpm start` started (they finish or hand back their jobs).
set -euo pipefail
cd "$(dirname "$0")/.."
RUN="${COFFRE_HOME:-$PWD/.coffre}/run"
for file in "$RUN"/*.pid; do
  [ -f "$file" ] || continue
  pid=$(cat "$file")
  # pnpm starts node as a child: stop the whole process group of the pnpm process.
  if kill -0 "$pid" 2>/dev/null; then
    pkill -TERM -P "$pid" 2>/dev/null || true
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
    echo "stopped $(basename "$file" .pid)"
  fi
  rm -f "$file"
done
