#!/usr/bin/env bash
# Load test of `shimmy serve` on 127.0.0.1: 64 connections mixing streaming, non-streaming, WebSocket and
# aborting clients (scripts/load/load.py). Usage: scripts/load/run.sh [path/to/shimmy] [load.py options]
# e.g. scripts/load/run.sh .build/release/shimmy --seconds 60 --max-requests 5000
# Makes a venv under ${TMPDIR:-/tmp}, starts the server on a free port with the default model
# (--parallel 4, queue 16), runs the load, stops the server. Exits non-zero on failure.
set -euo pipefail
cd "$(dirname "$0")/../.."
SHIMMY="${1:-.build/release/shimmy}"
shift || true
MODEL="${SHIMMY_LOAD_MODEL:-models/SmolLM2-135M-Instruct.Q4_1.gguf}"
[ -x "$SHIMMY" ] || { echo "no shimmy binary at $SHIMMY (swift build -c release)" >&2; exit 2; }
[ -f "$MODEL" ] || { echo "no model at $MODEL (scripts/setup.sh)" >&2; exit 2; }

VENV="${TMPDIR:-/tmp}/shimmy-load-venv"
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/python" -c 'import websockets' 2>/dev/null || "$VENV/bin/pip" install --quiet --disable-pip-version-check websockets

PORT=$("$VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
LOG="${TMPDIR:-/tmp}/shimmy-load-server.log"
"$SHIMMY" serve --bind "127.0.0.1:$PORT" --model "$MODEL" --parallel 4 --max-queue 16 >"$LOG" 2>&1 &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true' EXIT
for _ in $(seq 1 200); do
    if curl -sf "http://127.0.0.1:$PORT/health" >/dev/null 2>&1; then break; fi
    if ! kill -0 "$SERVER" 2>/dev/null; then echo "server exited:" >&2; cat "$LOG" >&2; exit 1; fi
    sleep 0.1
done
status=0
"$VENV/bin/python" scripts/load/load.py --port "$PORT" --pid "$SERVER" "$@" || status=$?
if ! kill -0 "$SERVER" 2>/dev/null; then echo "the server died" >&2; status=1; fi
[ "$status" -eq 0 ] || { echo "--- server log (last 40 lines) ---" >&2; tail -n 40 "$LOG" >&2; }
exit "$status"
