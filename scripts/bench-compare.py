#!/usr/bin/env python3
"""Side-by-side speed of shimmy and llama.cpp (llama-cpp-python) on the same GGUF files, interleaved.

Measures pp512 (one 512-token batch from an empty cache) and tg128 (128 single-token decodes after one token),
llama-bench style, at each thread count, and prints tokens/s and the ratio shimmy / llama.cpp. With -d D both tests
start after D cached tokens instead (llama-bench's "@ dD"; the D tokens are evaluated untimed); -p 0 or -n 0 skips
a test.
Run through scripts/bench-compare.sh, which makes the throwaway virtual environment.
"""
import argparse, ctypes, json, os, random, resource, statistics, subprocess, sys, time

import llama_cpp as L


@L.llama_log_callback
def _QUIET(level, text, user_data):
    """Drops llama.cpp's log lines so that only the table is printed."""


def llama_bench(path, threads, n_prompt, n_gen, reps, depth=0):
    mp = L.llama_model_default_params()
    model = L.llama_model_load_from_file(path.encode(), mp)
    if not model:
        raise SystemExit(f"llama.cpp cannot load {path}")
    cp = L.llama_context_default_params()
    cp.n_ctx = depth + n_prompt + n_gen + 16
    cp.n_batch = max(n_prompt, 512)
    cp.n_ubatch = max(n_prompt, 512)
    cp.n_threads = threads
    cp.n_threads_batch = threads
    ctx = L.llama_init_from_model(model, cp)
    vocab = L.llama_vocab_n_tokens(L.llama_model_get_vocab(model))
    mem = L.llama_get_memory(ctx)
    rng = random.Random(42)

    def decode(tokens):
        arr = (L.llama_token * len(tokens))(*tokens)
        if L.llama_decode(ctx, L.llama_batch_get_one(arr, len(tokens))) != 0:
            raise SystemExit("llama_decode failed")

    def start():
        L.llama_memory_clear(mem, True)
        toks = [rng.randrange(vocab) for _ in range(depth)]
        for i in range(0, depth, cp.n_batch):
            decode(toks[i:i + cp.n_batch])

    def pp():
        start()
        toks = [rng.randrange(vocab) for _ in range(n_prompt)]
        t = time.perf_counter(); decode(toks); L.llama_synchronize(ctx)
        return n_prompt / (time.perf_counter() - t)

    def tg():
        start()
        decode([rng.randrange(vocab)])
        t = time.perf_counter()
        for _ in range(n_gen):
            decode([rng.randrange(vocab)])
        L.llama_synchronize(ctx)
        return n_gen / (time.perf_counter() - t)

    res = {}
    for key, run, count in (("pp", pp, n_prompt), ("tg", tg, n_gen)):
        if count > 0:
            run()  # warm-up, as llama-bench does
            res[key] = [run() for _ in range(reps)]
    L.llama_free(ctx)
    L.llama_model_free(model)
    return res


def shimmy_bench(binary, path, threads, n_prompt, n_gen, reps, depth=0):
    out = subprocess.run([binary, "bench", "--model", path, "-p", str(n_prompt), "-n", str(n_gen), "-t", str(threads),
                          "-r", str(reps), "-d", str(depth), "--json"], check=True, capture_output=True, text=True).stdout
    rows = json.loads(out)["results"]
    return {r["test"][:2]: r["samples"] for r in rows}


def fmt(xs):
    return f"{statistics.mean(xs):8.1f} ± {statistics.stdev(xs) if len(xs) > 1 else 0:5.1f}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("models", nargs="+")
    ap.add_argument("--shimmy", default=".build/release/shimmy")
    ap.add_argument("-t", "--threads", default="1,2")
    ap.add_argument("-p", type=int, default=512)
    ap.add_argument("-n", type=int, default=128)
    ap.add_argument("-d", type=int, default=0, help="cached tokens before each test")
    ap.add_argument("-r", "--rounds", type=int, default=3, help="interleaved rounds (each: shimmy then llama.cpp)")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    L.llama_backend_init()
    L.llama_log_set(_QUIET, ctypes.c_void_p())
    table = []
    for path in a.models:
        for t in [int(x) for x in a.threads.split(",")]:
            s = {"pp": [], "tg": []}; l = {"pp": [], "tg": []}
            for _ in range(a.rounds):  # interleave so both see the same machine load
                for k, v in shimmy_bench(a.shimmy, path, t, a.p, a.n, 1, a.d).items(): s[k] += v
                for k, v in llama_bench(path, t, a.p, a.n, 1, a.d).items(): l[k] += v
            at = f" @ d{a.d}" if a.d else ""
            for test, key, count in ((f"pp{a.p}{at}", "pp", a.p), (f"tg{a.n}{at}", "tg", a.n)):
                if count == 0:
                    continue
                table.append({"model": os.path.basename(path), "threads": t, "test": test,
                              "shimmy": s[key], "llama_cpp": l[key],
                              "ratio": statistics.mean(s[key]) / statistics.mean(l[key])})
    if a.json:
        print(json.dumps(table, indent=1))
        return
    w = max([5] + [len(r["test"]) for r in table])
    print(f"| {'model':38} | t | {'test':{w}} | {'shimmy t/s':>16} | {'llama.cpp t/s':>16} | ratio |")
    print(f"|{'-'*40}|---|{'-'*(w + 2)}|{'-'*18}|{'-'*18}|-------|")
    for r in table:
        print(f"| {r['model']:38} | {r['threads']} | {r['test']:{w}} | {fmt(r['shimmy'])} | {fmt(r['llama_cpp'])} | {r['ratio']:5.2f} |")


if __name__ == "__main__":
    main()
