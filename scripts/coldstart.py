#!/usr/bin/env python3
"""Cold start: milliseconds from starting `shimmy generate --max-tokens 1` to the first byte on its stdout.

    python3 scripts/coldstart.py [RUNS] [-- shimmy arguments...]     (default: 21 runs on the default model)
"""
import os, statistics, subprocess, sys, time

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
args = sys.argv[1:]
runs = int(args.pop(0)) if args and args[0].isdigit() else 21
if args[:1] == ["--"]:
    args = args[1:]
command = [os.path.join(root, ".build/release/shimmy")] + (args or
          ["generate", "--prompt", "Once upon a time", "--max-tokens", "1", "--temperature", "0"])
times = []
for _ in range(runs):
    start = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=root)
    first = child.stdout.read(1)
    times.append((time.perf_counter() - start) * 1000)
    child.communicate()
    if not first:
        sys.exit(f"no output from {' '.join(command)}")
print(f"first byte: median {statistics.median(times):.1f} ms, min {min(times):.1f}, max {max(times):.1f} "
      f"({runs} runs)")
