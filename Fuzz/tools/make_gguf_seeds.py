"""Writes the small GGUF seed files of Fuzz/corpus/gguf (run once; the outputs are committed).

Usage: python3 Fuzz/tools/make_gguf_seeds.py Fuzz/corpus/gguf
Needs `pip install gguf numpy`. Each file stays a few KiB so the corpus stays small.
"""
import os
import sys

import numpy as np
import gguf


def write(path, arch, metadata, tensors, alignment=None):
    w = gguf.GGUFWriter(path, arch)
    if alignment is not None:
        w.add_custom_alignment(alignment)
    for kind, key, value in metadata:
        getattr(w, kind)(key, value)
    for name, array, raw_type in tensors:
        if raw_type is None:
            w.add_tensor(name, array)
        else:
            w.add_tensor(name, array, raw_dtype=raw_type)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def main(out):
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(1)
    write(os.path.join(out, "empty.gguf"), "llama", [], [])
    write(os.path.join(out, "metadata-types.gguf"), "llama", [
        ("add_uint8", "t.u8", 7), ("add_int8", "t.i8", -7), ("add_uint16", "t.u16", 700),
        ("add_int16", "t.i16", -700), ("add_uint32", "t.u32", 70000), ("add_int32", "t.i32", -70000),
        ("add_float32", "t.f32", 1.5), ("add_uint64", "t.u64", 1 << 40), ("add_int64", "t.i64", -(1 << 40)),
        ("add_float64", "t.f64", 2.25), ("add_bool", "t.bool", True), ("add_string", "t.str", "héllo"),
        ("add_array", "t.strs", ["a", "bb", "ccc"]), ("add_array", "t.ints", [1, 2, 3]),
        ("add_array", "t.floats", [0.5, 1.5]),
    ], [])
    tokens = ["<unk>", "<s>", "</s>"] + [chr(c) for c in range(ord("a"), ord("a") + 20)]
    write(os.path.join(out, "tiny-llama-f32.gguf"), "llama", [
        ("add_uint32", "llama.context_length", 64), ("add_uint32", "llama.embedding_length", 8),
        ("add_uint32", "llama.block_count", 1), ("add_uint32", "llama.feed_forward_length", 16),
        ("add_uint32", "llama.attention.head_count", 2), ("add_uint32", "llama.attention.head_count_kv", 1),
        ("add_float32", "llama.attention.layer_norm_rms_epsilon", 1e-5), ("add_string", "tokenizer.ggml.model", "gpt2"),
        ("add_array", "tokenizer.ggml.tokens", tokens), ("add_array", "tokenizer.ggml.merges", ["a b", "ab c"]),
        ("add_uint32", "tokenizer.ggml.bos_token_id", 1), ("add_uint32", "tokenizer.ggml.eos_token_id", 2),
    ], [
        ("token_embd.weight", rng.standard_normal((len(tokens), 8), dtype=np.float32), None),
        ("blk.0.attn_norm.weight", np.ones(8, dtype=np.float32), None),
        ("output_norm.weight", np.ones(8, dtype=np.float32), None),
    ])
    write(os.path.join(out, "f16-tensor.gguf"), "llama", [("add_string", "general.name", "f16")], [
        ("w", rng.standard_normal((4, 32)).astype(np.float16), None),
    ], alignment=64)
    quant = {
        "q4_0": (gguf.GGMLQuantizationType.Q4_0, 18), "q4_1": (gguf.GGMLQuantizationType.Q4_1, 20),
        "q8_0": (gguf.GGMLQuantizationType.Q8_0, 34),
    }
    for name, (qtype, block_bytes) in quant.items():
        raw = rng.integers(0, 255, size=(2, block_bytes * 2), dtype=np.uint8)
        write(os.path.join(out, f"{name}-tensor.gguf"), "llama", [("add_string", "general.name", name)], [
            ("w", raw, qtype),
        ])


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "Fuzz/corpus/gguf")
