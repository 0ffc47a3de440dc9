#!/usr/bin/env bash
# Compares shimmy's embeddings with llama.cpp's (llama-cpp-python==0.3.36, built from source into a throwaway
# virtual environment outside the repository, the one bench-compare.sh uses) on the same GGUF files. Not part of the
# test suite.
#   bash scripts/compare-embeddings.sh [MODEL.gguf ...]      (default: the default model and its Q4_0/Q8_0/F16 variants)
set -euo pipefail
cd "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source scripts/llama-cpp-peer.sh
"$venv/bin/python" scripts/compare-embeddings.py --shimmy .build/release/shimmy "${models[@]}"
