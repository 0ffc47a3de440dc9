#!/usr/bin/env bash
# Builds the libFuzzer harnesses in Fuzz/ with swiftc (-sanitize=fuzzer,address) and runs each for a bounded time.
#
#   scripts/fuzz.sh                     # every target, 60 s each
#   scripts/fuzz.sh http 600            # one target (gguf, http, websocket, json, or all), 600 s
#   FUZZ_JOBS=4 scripts/fuzz.sh all 300 # libFuzzer -jobs/-workers (default 1)
#   FUZZ_BUILD_ONLY=1 scripts/fuzz.sh   # build the binaries, run nothing
#
# Binaries and working corpora go to .build-fuzz/ (git-ignored). Each run starts from a copy of the committed seed
# corpus Fuzz/corpus/<target>/ plus the regression inputs Fuzz/regressions/<target>/; the committed folders are
# never written. A crash input lands in .build-fuzz/crashes/<target>/: minimize it (-minimize_crash=1), copy it into
# Fuzz/regressions/<target>/ and fix the parser. Prints the executions per target at the end.
set -euo pipefail
# A Swift runtime failure in a fuzzer must exit at once, not wait for the backtracer.
export SWIFT_BACKTRACE=enable=no

cd "$(dirname "$0")/.."
root="$(pwd)"
target="${1:-all}"
seconds="${2:-60}"
jobs="${FUZZ_JOBS:-1}"
out="$root/.build-fuzz"
bin="$out/bin"
mkdir -p "$bin"

# -O, not -Ounchecked: overflow and bounds traps are exactly what fuzzing should find.
flags=(-sanitize=fuzzer,address -parse-as-library -O -g)

# The linker warns once per ASan helper symbol; keep the build output readable.
quiet() { "$@" 2>&1 | { grep -v "Cannot export local symbol" || true; }; return "${PIPESTATUS[0]}"; }

build() {
    local name="$1"
    case "$name" in
    gguf)
        quiet swiftc "${flags[@]}" -module-name GGUF Sources/GGUF/*.swift Fuzz/GGUF/*.swift -o "$bin/fuzz-gguf"
        ;;
    http)
        quiet swiftc "${flags[@]}" -module-name ShimmyServer Sources/ShimmyServer/HTTP/HTTPRequestParser.swift \
            Sources/ShimmyServer/HTTP/HTTPRequest.swift Fuzz/HTTP/*.swift -o "$bin/fuzz-http"
        ;;
    websocket)
        quiet swiftc "${flags[@]}" -module-name ShimmyServer Sources/ShimmyServer/WebSocket/WebSocketFrameParser.swift \
            Sources/ShimmyServer/WebSocket/WebSocketFrame.swift Fuzz/WebSocket/*.swift -o "$bin/fuzz-websocket"
        ;;
    json)
        # The request decoders import Shimmy only for its value types: build those two files as a small
        # Shimmy module instead of the engine (which needs BLAS, NUMA and swift-log).
        local mod="$out/modules"
        mkdir -p "$mod"
        quiet swiftc "${flags[@]}" -module-name Shimmy -emit-module -emit-module-path "$mod/Shimmy.swiftmodule" \
            -emit-object -o "$mod/Shimmy.o" -wmo \
            Sources/Shimmy/InferenceSession.swift Sources/Shimmy/ShimmyError.swift
        quiet swiftc "${flags[@]}" -module-name ShimmyServer -I "$mod" "$mod/Shimmy.o" \
            Sources/ShimmyServer/JSON/*.swift Sources/ShimmyServer/API/APIError.swift \
            Sources/ShimmyServer/API/FieldReader.swift Sources/ShimmyServer/API/DecodedGeneration.swift \
            Sources/ShimmyServer/API/OpenAIRequestDecoder.swift Sources/ShimmyServer/API/OllamaRequestDecoder.swift \
            Sources/ShimmyServer/HTTP/HTTPResponse.swift Sources/ShimmyServer/HTTP/HTTPDate.swift \
            Sources/ShimmyServer/HTTP/HTTPRequestParser.swift Sources/ShimmyServer/HTTP/HTTPRequest.swift \
            Fuzz/JSON/*.swift -o "$bin/fuzz-json"
        ;;
    *)
        echo "unknown target '$name' (gguf, http, websocket, json, all)" >&2
        exit 2
        ;;
    esac
}

run() {
    local name="$1"
    local work="$out/work/$name" crashes="$out/crashes/$name" log="$out/logs/$name.log"
    rm -rf "$work"
    mkdir -p "$work" "$crashes" "$(dirname "$log")"
    cp Fuzz/corpus/"$name"/* "$work"/ 2>/dev/null || true
    cp Fuzz/regressions/"$name"/* "$work"/ 2>/dev/null || true
    echo "== $name: ${seconds}s, $jobs job(s), log $log"
    local status=0
    local extra=()
    [ -f "Fuzz/corpus/$name.dict" ] && extra+=(-dict="$root/Fuzz/corpus/$name.dict")
    [ "$jobs" -gt 1 ] && extra+=(-jobs="$jobs" -workers="$jobs")
    # With -jobs libFuzzer writes fuzz-<n>.log into the working directory: run inside the log folder.
    (cd "$(dirname "$log")" && rm -f fuzz-*.log && nice -n 19 "$bin/fuzz-$name" "$work" "${extra[@]}" \
        -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
        -artifact_prefix="$crashes/") >"$log" 2>&1 || status=$?
    if [ "$jobs" -gt 1 ]; then cat "$(dirname "$log")"/fuzz-*.log >>"$log" 2>/dev/null || true; fi
    local executed
    executed=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | awk '{s += $2} END {print s + 0}')
    echo "$name: $executed executions, exit $status"
    if [ "$status" -ne 0 ]; then
        tail -n 40 "$log"
        failed=1
    fi
}

targets=("$target")
[ "$target" = all ] && targets=(gguf http websocket json)
for name in "${targets[@]}"; do
    echo "== building $name"
    build "$name"
done
[ -n "${FUZZ_BUILD_ONLY:-}" ] && exit 0
failed=0
for name in "${targets[@]}"; do run "$name"; done
exit "$failed"
