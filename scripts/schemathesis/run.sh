#!/usr/bin/env bash
# Property-based API check of `shimmy serve` with schemathesis against its own /openapi.json.
# Usage: scripts/schemathesis/run.sh [path/to/shimmy]   (default .build/release/shimmy)
# Env: SCHEMATHESIS_MAX_EXAMPLES (default 20), SCHEMATHESIS_MAX_TIME (seconds, default 180), SHIMMY_SCHEMATHESIS_MODEL (default: the default model).
# Makes a venv under ${TMPDIR:-/tmp}, starts the server on a free 127.0.0.1 port, runs schemathesis with
# the checks not_a_server_error, response_schema_conformance, status_code_conformance and
# content_type_conformance, stops the server. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/../.."
SHIMMY="${1:-.build/release/shimmy}"
MODEL="${SHIMMY_SCHEMATHESIS_MODEL:-models/SmolLM2-135M-Instruct.Q4_1.gguf}"
EXAMPLES="${SCHEMATHESIS_MAX_EXAMPLES:-20}"
[ -x "$SHIMMY" ] || { echo "no shimmy binary at $SHIMMY (swift build -c release)" >&2; exit 2; }
[ -f "$MODEL" ] || { echo "no model at $MODEL (scripts/setup.sh)" >&2; exit 2; }

VENV="${TMPDIR:-/tmp}/shimmy-schemathesis-venv"
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
[ -x "$VENV/bin/schemathesis" ] || "$VENV/bin/pip" install --quiet --disable-pip-version-check schemathesis

PORT=$("$VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
LOG="${TMPDIR:-/tmp}/shimmy-schemathesis-server.log"
# A short context keeps fuzzed generations cheap: max_tokens is cut to the room the context leaves.
"$SHIMMY" serve --bind "127.0.0.1:$PORT" --model "$MODEL" --parallel 4 --max-queue 64 --context-length 512 >"$LOG" 2>&1 &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true' EXIT

for _ in $(seq 1 200); do
    if curl -sf "http://127.0.0.1:$PORT/health" >/dev/null 2>&1; then break; fi
    if ! kill -0 "$SERVER" 2>/dev/null; then echo "server exited:" >&2; cat "$LOG" >&2; exit 1; fi
    sleep 0.1
done

status=0
timeout 600 "$VENV/bin/schemathesis" run "http://127.0.0.1:$PORT/openapi.json" \
    --checks not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance \
    --max-examples "$EXAMPLES" --request-timeout 60 --max-time "${SCHEMATHESIS_MAX_TIME:-180}" --suppress-health-check all --no-color || status=$?
if ! kill -0 "$SERVER" 2>/dev/null; then echo "the server died during the run" >&2; status=1; fi
if [ "$status" -ne 0 ]; then
    echo "--- server log (last 40 lines) ---" >&2
    tail -n 40 "$LOG" >&2
fi
exit "$status"
