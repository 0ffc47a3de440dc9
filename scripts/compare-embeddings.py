"""Compares shimmy's embedding routes with llama.cpp (llama-cpp-python 0.3.36) on the same GGUF files.

For each file it starts `shimmy serve` on a free port and embeds a few texts (short, one word, non-ASCII, special
tokens, ~360 tokens, code) through /v1/embeddings (float and base64, text and token ids), /api/embed and
/api/embeddings, against llama.cpp with pooling LAST (normalized as llama.cpp's server does) and against llama.cpp's
last-token-only hidden state (the path shimmy runs: the last layer on that one row), read with ggml's eval callback. Prints the largest absolute
difference and the cosine per text and route, and the token counts. A check, not part of the test suite.

usage: python compare-embeddings.py --shimmy .build/release/shimmy MODEL.gguf [...]
"""
import argparse
import base64
import ctypes
import json
import os
import socket
import subprocess
import time
import urllib.request

import llama_cpp
import numpy as np
from llama_cpp import Llama

LONG = " ".join(f"Paragraph {i}: the quick brown fox jumps over the lazy dog while the committee reviews clause {i * 7}."
                for i in range(16))
TEXTS = {
    "short": "The sky is blue.",
    "word": "hello",
    "non-ASCII": "Größe, naïve café — 日本語のテキスト 🙂 Привет мир",
    "special": "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n",
    "long": LONG,
    "code": "def f(x):\n    return [i*i for i in range(x)]  # squares\n",
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post(base, path, body):
    request = urllib.request.Request(base + path, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=300) as response:
        return json.load(response)


class LastRow:
    """llama.cpp's final hidden state (tensor `result_norm`) in its generation path: embeddings off and only the last
    token an output, so the last layer runs on that one row, as in shimmy. Read with the scheduler's eval callback
    (llama.cpp's embedding mode marks every token an output, and its F16 kernels then sum in another order)."""

    def __init__(self, gguf):
        libdir = os.path.join(os.path.dirname(llama_cpp.__file__), "lib")
        ggml = ctypes.CDLL(os.path.join(libdir, "libggml-base.so"))
        ggml.ggml_get_name.restype, ggml.ggml_get_name.argtypes = ctypes.c_char_p, [ctypes.c_void_p]
        ggml.ggml_nbytes.restype, ggml.ggml_nbytes.argtypes = ctypes.c_size_t, [ctypes.c_void_p]
        ggml.ggml_nelements.restype, ggml.ggml_nelements.argtypes = ctypes.c_int64, [ctypes.c_void_p]
        ggml.ggml_backend_tensor_get.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_size_t]
        self.captured = {}

        @llama_cpp.ggml_backend_sched_eval_callback
        def callback(tensor, ask, _):
            if ggml.ggml_get_name(tensor) != b"result_norm":
                return not ask
            if not ask:
                values = np.empty(ggml.ggml_nelements(tensor), dtype=np.float32)
                ggml.ggml_backend_tensor_get(tensor, values.ctypes.data, 0, ggml.ggml_nbytes(tensor))
                self.captured["v"] = values
            return True

        self.callback = callback  # kept alive as long as the context
        llama_cpp.llama_backend_init()
        self.model = llama_cpp.llama_model_load_from_file(gguf.encode(), llama_cpp.llama_model_default_params())
        params = llama_cpp.llama_context_default_params()
        params.n_ctx, params.n_batch, params.n_ubatch, params.n_threads, params.n_threads_batch = 2048, 512, 512, 1, 1
        params.embeddings = False
        params.flash_attn_type = llama_cpp.LLAMA_FLASH_ATTN_TYPE_DISABLED
        params.cb_eval = callback
        self.ctx = llama_cpp.llama_init_from_model(self.model, params)

    def __call__(self, tokens):
        llama_cpp.llama_memory_clear(llama_cpp.llama_get_memory(self.ctx), True)
        batch = llama_cpp.llama_batch_init(len(tokens), 0, 1)
        try:
            batch.n_tokens = len(tokens)
            for i, t in enumerate(tokens):
                batch.token[i], batch.pos[i], batch.n_seq_id[i] = t, i, 1
                batch.seq_id[i][0] = 0
                batch.logits[i] = 1 if i == len(tokens) - 1 else 0
            self.captured.clear()
            assert llama_cpp.llama_decode(self.ctx, batch) == 0
        finally:
            llama_cpp.llama_batch_free(batch)
        return self.captured["v"]


def compare(a, b):
    """Largest difference, cosine and bit equality of two f32 vectors (JSON numbers read back as f32 first: shimmy
    writes each value's shortest decimal)."""
    a, b = np.asarray(a, np.float32), np.asarray(b, np.float32)
    wide_a, wide_b = a.astype(np.float64), b.astype(np.float64)
    cosine = float(wide_a @ wide_b / (np.linalg.norm(wide_a) * np.linalg.norm(wide_b)))
    return float(np.max(np.abs(wide_a - wide_b))), cosine, bool(np.array_equal(a, b))


def check(shimmy, gguf):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([shimmy, "serve", "--bind", f"127.0.0.1:{port}", "--model", gguf, "--context-length", "2048"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(base + "/health", timeout=1)
                break
            except OSError:
                time.sleep(0.05)
        pooled = Llama(model_path=gguf, embedding=True, pooling_type=llama_cpp.LLAMA_POOLING_TYPE_LAST, n_ctx=2048,
                       n_threads=1, n_threads_batch=1, verbose=False)
        last_row = LastRow(gguf)
        # shimmy parses special tokens in text, as llama.cpp's server does; llama-cpp-python's embed() does not
        tokenize = pooled.tokenize
        pooled.tokenize = lambda text, add_bos=True, special=False: tokenize(text, add_bos, True)
        print(f"\n{gguf}")
        worst = 0.0
        for name, text in TEXTS.items():
            tokens = tokenize(text.encode(), add_bos=True, special=True)
            raw = np.array(pooled.embed(text, normalize=False), np.float32)
            unit = np.array(pooled.embed(text, normalize=True), np.float32)
            row = last_row(tokens)
            v1 = post(base, "/v1/embeddings", {"input": text, "encoding_format": "float"})
            b64 = post(base, "/v1/embeddings", {"input": text, "encoding_format": "base64"})
            ids = post(base, "/v1/embeddings", {"input": tokens, "encoding_format": "float"})
            embed = post(base, "/api/embed", {"model": "default", "input": text})
            older = post(base, "/api/embeddings", {"model": "default", "prompt": text})
            # llama-cpp-python normalizes in double; llama.cpp's server as shimmy does (f32 squares summed in double)
            rows = [("/v1/embeddings float vs llama.cpp pooling last, normalized", v1["data"][0]["embedding"], unit),
                    ("/v1/embeddings base64 vs the same",
                     np.frombuffer(base64.b64decode(b64["data"][0]["embedding"]), "<f4"), unit),
                    ("/v1/embeddings token ids vs the same", ids["data"][0]["embedding"], unit),
                    ("/api/embed vs the same", embed["embeddings"][0], unit),
                    ("/api/embeddings (raw) vs llama.cpp pooling last, raw", older["embedding"], raw),
                    ("/api/embeddings (raw) vs llama.cpp's last row alone", older["embedding"], row)]
            counts = (len(tokens), v1["usage"]["prompt_tokens"], embed["prompt_eval_count"])
            print(f"  [{name}] tokens llama.cpp {counts[0]}, /v1 {counts[1]}, /api/embed {counts[2]}"
                  + ("" if counts[0] == counts[1] == counts[2] else "  MISMATCH"))
            for label, a, b in rows:
                difference, cosine, same = compare(a, b)
                worst = max(worst, difference)
                print(f"    {label:58s} max |diff| {difference:.2e}  cos {cosine:.9f}" + ("  bit for bit" if same else ""))
        print(f"  largest difference: {worst:.2e}")
    finally:
        server.terminate()
        server.wait()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--shimmy", required=True)
    parser.add_argument("models", nargs="+")
    args = parser.parse_args()
    for gguf in args.models:
        check(args.shimmy, gguf)


if __name__ == "__main__":
    main()
