#!/usr/bin/env python3
"""Load test of a running `shimmy serve` on 127.0.0.1.

N concurrent clients (default 64) loop over a mix of requests for --seconds (default 300) or --max-requests:
/api/generate (plain and streaming), /v1/chat/completions (plain and streaming), /ws/generate, and clients that
abort a stream after its first bytes. Every prompt is greedy (temperature 0) with a fixed max_tokens; its expected
text is computed once, alone, before the load, and every completed answer must equal it exactly (a mixed-up or
lost token shows as a difference). 503 answers (queue full) are expected under overload and counted, not errors.

Reports requests, errors, mismatches, 503s, p50/p99 latency, and the server's RSS (VmRSS of --pid) at start,
after warm-up, at the end of the load (last sample while it still runs) and idle after it. Exits non-zero on any
error or mismatch, if the server died, if RSS at the end of the load is not within 10% of RSS after warm-up, or if
the idle RSS after the load is more than 10% above it.
"""
import argparse
import asyncio
import json
import random
import sys
import time

import websockets

PROMPTS = [
    "The capital of France is",
    "Write a haiku about the sea.",
    "List three colors:",
    "What is 2 + 2?",
    "Once upon a time",
    "Explain gravity in one sentence.",
]
MAX_TOKENS = 16
KINDS = ["generate", "generate_stream", "chat", "chat_stream", "websocket", "abort"]


class Failure(Exception):
    pass


class Overloaded(Exception):
    pass


def rss_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


async def http(host, port, method, path, body, abort_after_bytes=None, timeout=300):
    """One HTTP/1.1 request with Connection: close. Returns (status, body bytes) or None when aborted."""
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 30)
    try:
        data = json.dumps(body).encode() if body is not None else b""
        head = (f"{method} {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n").encode()
        writer.write(head + data)
        await writer.drain()
        raw = b""
        if abort_after_bytes is not None:
            while b"\r\n\r\n" not in raw or len(raw.split(b"\r\n\r\n", 1)[1]) < abort_after_bytes:
                chunk = await asyncio.wait_for(reader.read(4096), timeout)
                if not chunk:
                    break
                raw += chunk
            status = int(raw.split(b" ", 2)[1]) if raw.startswith(b"HTTP/1.1 ") else 0
            if status == 503:
                raise Overloaded()
            return None
        raw = await asyncio.wait_for(reader.read(-1), timeout)
    finally:
        writer.close()
        try:
            await writer.wait_closed()
        except (ConnectionError, OSError):
            pass
    header, _, payload = raw.partition(b"\r\n\r\n")
    lines = header.split(b"\r\n")
    if not lines or not lines[0].startswith(b"HTTP/1.1 "):
        raise Failure(f"malformed status line {lines[:1]!r}")
    status = int(lines[0].split(b" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(b":")
        headers[k.strip().lower()] = v.strip()
    if headers.get(b"transfer-encoding", b"").lower() == b"chunked":
        out, rest = b"", payload
        while True:
            size_line, _, rest = rest.partition(b"\r\n")
            size = int(size_line.split(b";")[0], 16)
            if size == 0:
                break
            out += rest[:size]
            rest = rest[size + 2:]
        payload = out
    elif b"content-length" in headers:
        if len(payload) != int(headers[b"content-length"]):
            raise Failure(f"body {len(payload)} bytes, Content-Length {headers[b'content-length']!r}")
    return status, payload


def sse_events(payload):
    events = []
    for block in payload.decode().split("\n\n"):
        block = block.strip()
        if not block:
            continue
        if not block.startswith("data: "):
            raise Failure(f"malformed SSE block {block[:80]!r}")
        events.append(block[6:])
    if not events or events[-1] != "[DONE]":
        raise Failure(f"stream does not end with [DONE]: {events[-1:]!r}")
    return [json.loads(e) for e in events[:-1]]


async def run_one(a, kind, prompt):
    """Runs one request; returns its text (None for an abort)."""
    gen = {"model": a.model, "prompt": prompt, "max_tokens": MAX_TOKENS, "temperature": 0}
    chat = {"model": a.model, "messages": [{"role": "user", "content": prompt}], "max_tokens": MAX_TOKENS,
            "temperature": 0}
    if kind == "websocket":
        try:
            async with websockets.connect(f"ws://{a.host}:{a.port}/ws/generate", open_timeout=30) as ws:
                await ws.send(json.dumps(gen))
                tokens = []
                while True:
                    message = json.loads(await asyncio.wait_for(ws.recv(), 300))
                    if "token" in message:
                        tokens.append(message["token"])
                    elif message == {"done": True}:
                        return "".join(tokens)
                    elif message.get("error", {}).get("code") == "server_busy":
                        raise Overloaded()
                    else:
                        raise Failure(f"websocket frame {message!r}")
        except websockets.exceptions.InvalidStatus as e:
            if e.response.status_code == 503:
                raise Overloaded()
            raise Failure(f"websocket handshake {e.response.status_code}")
    if kind == "abort":
        path, body = random.choice([("/api/generate", dict(gen, stream=True)),
                                    ("/v1/chat/completions", dict(chat, stream=True))])
        await http(a.host, a.port, "POST", path, body, abort_after_bytes=random.choice([1, 40, 200]))
        return None
    path, body = {
        "generate": ("/api/generate", gen),
        "generate_stream": ("/api/generate", dict(gen, stream=True)),
        "chat": ("/v1/chat/completions", chat),
        "chat_stream": ("/v1/chat/completions", dict(chat, stream=True)),
    }[kind]
    status, payload = await http(a.host, a.port, "POST", path, body)
    if status == 503:
        raise Overloaded()
    if status != 200:
        raise Failure(f"{kind}: status {status}: {payload[:200]!r}")
    if kind == "generate":
        return json.loads(payload)["choices"][0]["text"]
    if kind == "chat":
        return json.loads(payload)["choices"][0]["message"]["content"]
    events = sse_events(payload)
    if kind == "generate_stream":
        return "".join(e["choices"][0].get("text", "") for e in events if e.get("choices"))
    return "".join(e["choices"][0].get("delta", {}).get("content") or "" for e in events if e.get("choices"))


def family(kind):
    return "chat" if kind.startswith("chat") else "generate"


async def main():
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--pid", type=int, required=True, help="server process id, for RSS and liveness")
    p.add_argument("--model", default="default")
    p.add_argument("--seconds", type=float, default=300)
    p.add_argument("--max-requests", type=int, default=1_000_000)
    p.add_argument("--connections", type=int, default=64)
    p.add_argument("--warmup", type=float, default=None, help="seconds of load before the RSS baseline")
    a = p.parse_args()
    if a.host not in ("127.0.0.1", "localhost", "::1"):
        sys.exit("load.py only targets loopback")
    warmup = a.warmup if a.warmup is not None else min(30.0, a.seconds / 5)

    rss_start = rss_kb(a.pid)
    expected = {}
    for prompt in PROMPTS:
        expected[("generate", prompt)] = await run_one(a, "generate", prompt)
        expected[("chat", prompt)] = await run_one(a, "chat", prompt)
    # a second, independent check that the alone-answers are deterministic
    for prompt in PROMPTS:
        again = await run_one(a, "generate", prompt)
        if again != expected[("generate", prompt)]:
            sys.exit(f"greedy output is not deterministic for {prompt!r}: {again!r} vs {expected[('generate', prompt)]!r}")

    stats = {"requests": 0, "completed": 0, "aborted": 0, "overloaded": 0, "errors": 0, "mismatches": 0}
    by_kind = {k: 0 for k in KINDS}
    latencies = []
    problems = []
    start = time.monotonic()
    deadline = start + a.seconds
    issued = 0
    rss_warm = None

    async def client(index):
        nonlocal issued
        rng = random.Random(index)
        while time.monotonic() < deadline and issued < a.max_requests:
            issued += 1
            kind = KINDS[rng.randrange(len(KINDS))]
            prompt = PROMPTS[rng.randrange(len(PROMPTS))]
            t0 = time.monotonic()
            stats["requests"] += 1
            by_kind[kind] += 1
            try:
                text = await run_one(a, kind, prompt)
            except Overloaded:
                stats["overloaded"] += 1
                await asyncio.sleep(rng.uniform(0.2, 1.0))   # back off like a client honouring Retry-After
                continue
            except Exception as e:  # noqa: BLE001 - every other failure is an error to report
                stats["errors"] += 1
                if len(problems) < 20:
                    problems.append(f"{kind} {prompt!r}: {type(e).__name__}: {e}")
                continue
            if kind == "abort":
                stats["aborted"] += 1
                continue
            latencies.append(time.monotonic() - t0)
            stats["completed"] += 1
            want = expected[(family(kind), prompt)]
            if text != want:
                stats["mismatches"] += 1
                if len(problems) < 20:
                    problems.append(f"{kind} {prompt!r}: got {text!r}, alone {want!r}")

    rss_loaded = None   # the last sample taken while the load still runs

    async def sampler():
        nonlocal rss_warm, rss_loaded
        await asyncio.sleep(warmup)
        rss_warm = rss_kb(a.pid)
        while time.monotonic() < deadline - 1:
            await asyncio.sleep(min(5.0, max(0.0, deadline - 1 - time.monotonic())))
            rss_loaded = rss_kb(a.pid)

    sample = asyncio.create_task(sampler())
    await asyncio.gather(*(client(i) for i in range(a.connections)))
    elapsed = time.monotonic() - start
    sample.cancel()
    if rss_warm is None:
        rss_warm = rss_kb(a.pid)
    if rss_loaded is None:
        rss_loaded = rss_kb(a.pid)
    await asyncio.sleep(1)
    rss_end = rss_kb(a.pid)
    alive = rss_end is not None

    # the server still answers correctly after the load
    if alive:
        try:
            after = await run_one(a, "generate", PROMPTS[0])
            if after != expected[("generate", PROMPTS[0])]:
                problems.append(f"after the load: {after!r}")
                stats["mismatches"] += 1
        except Exception as e:  # noqa: BLE001
            problems.append(f"after the load: {e}")
            stats["errors"] += 1

    latencies.sort()

    def pct(q):
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000 if latencies else float("nan")

    def mib(kb):
        return f"{kb / 1024:.1f} MiB" if kb is not None else "gone"

    print(f"duration:     {elapsed:.1f} s, {a.connections} connections, max_tokens {MAX_TOKENS}")
    print(f"requests:     {stats['requests']} ({', '.join(f'{k} {v}' for k, v in by_kind.items())})")
    print(f"completed:    {stats['completed']}  aborted mid-stream: {stats['aborted']}  "
          f"503 (queue full): {stats['overloaded']}")
    print(f"errors:       {stats['errors']}  mismatched answers: {stats['mismatches']}")
    print(f"latency:      p50 {pct(0.50):.0f} ms  p99 {pct(0.99):.0f} ms (completed requests)")
    print(f"server RSS:   start {mib(rss_start)}  after warm-up ({warmup:.0f} s) {mib(rss_warm)}  "
          f"end of load {mib(rss_loaded)}  idle after {mib(rss_end)}")
    for line in problems:
        print("  problem:", line)
    failed = False
    if not alive:
        print("FAIL: the server died")
        failed = True
    if stats["errors"] or stats["mismatches"]:
        print("FAIL: errors or mismatched answers")
        failed = True
    if alive and rss_warm and rss_loaded and abs(rss_loaded / rss_warm - 1) > 0.10:
        print(f"FAIL: RSS at the end of the load is {rss_loaded / rss_warm:.2f}x RSS after warm-up (bound ±10%)")
        failed = True
    if alive and rss_warm and rss_end > 1.10 * rss_warm:
        print(f"FAIL: RSS grew {rss_end / rss_warm:.2f}x after warm-up")
        failed = True
    if stats["completed"] == 0:
        print("FAIL: nothing completed")
        failed = True
    print("FAIL" if failed else "PASS")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
