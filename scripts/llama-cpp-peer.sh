# Sourced by bench-compare.sh and compare-embeddings.sh (from the repository root, with their arguments): sets
# `venv`, a virtual environment outside the repository with llama-cpp-python==0.3.36 built from source (made when
# missing, about 10 minutes; SHIMMY_BENCH_VENV names it), and `models`, the arguments or else the default model and
# its Q4_0, Q8_0 and F16 variants (made with `shimmy quantize` when missing); builds shimmy.
venv="${SHIMMY_BENCH_VENV:-${TMPDIR:-/tmp}/shimmy-bench-venv}"
if ! "$venv/bin/python" -c "import llama_cpp, numpy" 2>/dev/null; then
  echo "building llama-cpp-python==0.3.36 into $venv (about 10 minutes)" >&2
  python3 -m venv "$venv"
  CMAKE_ARGS="-DGGML_NATIVE=ON" "$venv/bin/pip" install --quiet --no-cache-dir llama-cpp-python==0.3.36
fi
bash scripts/setup.sh
swift build -c release --product shimmy >/dev/null
models=("$@")
if [ ${#models[@]} -eq 0 ]; then
  dir="$PWD/models/variants"; mkdir -p "$dir"
  models=("$PWD/models/SmolLM2-135M-Instruct.Q4_1.gguf")
  for t in Q4_0 Q8_0 F16; do
    f="$dir/SmolLM2-135M-Instruct.$t.gguf"
    [ -f "$f" ] || .build/release/shimmy quantize "$PWD/models/SmolLM2-135M-Instruct.Q4_1.gguf" "$f" "$t"
    models+=("$f")
  done
fi
