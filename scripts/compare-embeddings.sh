#!/usr/bin/env bash
# Compares shimmy's embeddings with llama.cpp's (llama-cpp-python==0.3.36, built from source into a throwaway
# virtual environment outside the repository, as bench-compare.sh does) on the same GGUF files. Not part of the
# test suite.
#   bash scripts/compare-embeddings.sh [MODEL.gguf ...]      (default: the default model and its Q4_0/Q8_0/F16 variants)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
venv="${SHIMMY_BENCH_VENV:-${TMPDIR:-/tmp}/shimmy-bench-venv}"
if ! "$venv/bin/python" -c "import llama_cpp, numpy" 2>/dev/null; then
  echo "compare-embeddings: building llama-cpp-python==0.3.36 into $venv (about 10 minutes)" >&2
  python3 -m venv "$venv"
  CMAKE_ARGS="-DGGML_NATIVE=ON" "$venv/bin/pip" install --quiet --no-cache-dir llama-cpp-python==0.3.36
fi
bash scripts/setup.sh
swift build -c release --product shimmy >/dev/null
models=("$@")
if [ ${#models[@]} -eq 0 ]; then
  dir="$root/models/variants"; mkdir -p "$dir"
  models=("$root/models/SmolLM2-135M-Instruct.Q4_1.gguf")
  for t in Q4_0 Q8_0 F16; do
    f="$dir/SmolLM2-135M-Instruct.$t.gguf"
    [ -f "$f" ] || .build/release/shimmy quantize "$root/models/SmolLM2-135M-Instruct.Q4_1.gguf" "$f" "$t"
    models+=("$f")
  done
fi
"$venv/bin/python" scripts/compare-embeddings.py --shimmy .build/release/shimmy "${models[@]}"
