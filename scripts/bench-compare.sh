#!/usr/bin/env bash
# Benchmarks shimmy against llama.cpp (llama-cpp-python==0.3.36, built from source into a throwaway virtual
# environment outside the repository) on the same GGUF files, interleaved. Not part of the test suite.
#   bash scripts/bench-compare.sh [MODEL.gguf ...]      (default: the default model and its Q4_0/Q8_0/F16 variants)
set -euo pipefail
cd "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source scripts/llama-cpp-peer.sh
"$venv/bin/python" scripts/bench-compare.py --shimmy .build/release/shimmy "${models[@]}" ${BENCH_ARGS:-}
