#!/usr/bin/env bash
# Acceptance checks of `shimmy serve` with real clients: the openai, ollama and websockets packages and raw HTTP.
# Usage: scripts/server-acceptance/run.sh [path/to/shimmy]   (default .build/release/shimmy)
# Makes a venv under ${TMPDIR:-/tmp}, starts the server on a free port with the default model, runs
# acceptance.py, stops the server. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/../.."
SHIMMY="${1:-.build/release/shimmy}"
MODEL="${SHIMMY_ACCEPTANCE_MODEL:-models/SmolLM2-135M-Instruct.Q4_1.gguf}"
[ -x "$SHIMMY" ] || { echo "no shimmy binary at $SHIMMY (swift build -c release)" >&2; exit 2; }
[ -f "$MODEL" ] || { echo "no model at $MODEL (scripts/setup.sh)" >&2; exit 2; }

VENV="${TMPDIR:-/tmp}/shimmy-acceptance-venv"
if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
fi
"$VENV/bin/pip" install --quiet --disable-pip-version-check openai ollama websockets requests

PORT=$("$VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
LOG="${TMPDIR:-/tmp}/shimmy-acceptance-server.log"
"$SHIMMY" serve --bind "127.0.0.1:$PORT" --model "$MODEL" --parallel 2 --max-queue 0 >"$LOG" 2>&1 &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true' EXIT

for _ in $(seq 1 100); do
    if curl -sf "http://127.0.0.1:$PORT/health" >/dev/null 2>&1; then break; fi
    if ! kill -0 "$SERVER" 2>/dev/null; then echo "server exited:" >&2; cat "$LOG" >&2; exit 1; fi
    sleep 0.1
done

status=0
"$VENV/bin/python" scripts/server-acceptance/acceptance.py --base "http://127.0.0.1:$PORT" --shimmy "$SHIMMY" \
    --model-path "$MODEL" || status=$?
if [ "$status" -ne 0 ]; then
    echo "--- server log (last 40 lines) ---" >&2
    tail -n 40 "$LOG" >&2
fi
exit "$status"
