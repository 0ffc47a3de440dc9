#!/usr/bin/env bash
# Runs the whole test suite: installs what is missing, builds in release mode (the real-model checks need optimised
# kernels), checks the hot kernels' machine code, runs the Swift tests, builds and runs the README's embedding example
# as a by-version dependency, then the server acceptance checks with real OpenAI/Ollama/WebSocket clients.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/setup.sh
swift build -c release -Xswiftc -enable-testing --product shimmy
python3 scripts/check-disasm.py .build/release/shimmy
swift test -c release -Xswiftc -enable-testing "$@"
bash scripts/check-embedding.sh
bash scripts/server-acceptance/run.sh .build/release/shimmy
bash scripts/schemathesis/run.sh .build/release/shimmy
