"""Regenerates the tokenizer fixtures in this folder from llama.cpp (llama-cpp-python, vocab_only).

    python generate.py LLAMA_CPP_PYTHON_VENV_PYTHON   # run with a python that has llama_cpp and gguf

Each fixture takes the default model's vocabulary (SmolLM2-135M-Instruct) and, for the BPE files, swaps
tokenizer.ggml.pre to exercise another pre-tokenizer; the SPM file uses a small synthetic vocabulary.
Texts are random mixes of the hard cases (Unicode categories, whitespace kinds, contractions, digits,
special-token strings, invalid UTF-8). Output: {pre, cases: [{hex, parse_special, add_special, ids, detok_hex}]}.
"""
import json, os, random, sys, tempfile

import gguf
import llama_cpp

HERE = os.path.dirname(os.path.abspath(__file__))
MODEL = os.path.join(HERE, "..", "..", "models", "SmolLM2-135M-Instruct.Q4_1.gguf")

ATOMS = [
    "hello", "World", "HTTP", "naïve", "Straße", "ǅungla", "Ωmega", "日本語", "中文", "한국어", "ไทย", "हिन्दी", "العربية",
    "Z͑ͫ", "é", "e\u0301", "ﬁ", "Ⅻ", "①", "½", "²", "٣", "１２", "0", "7", "42", "1234", "98765", "3.14", "1,000",
    "'s", "'S", "'t", "'T", "'re", "'RE", "'Re", "'ve", "'VE", "'m", "'M", "'ll", "'LL", "'lL", "'d", "'D", "'x", "'",
    "don't", "I'M", "we'Ve", "' s", "''", "‘", "’",
    " ", "  ", "   ", "\t", "\n", "\r\n", "\r", "\n\n", " \n", "\n ", "\v", "\f", "\u00a0", "\u2000", "\u2009", "\u3000",
    "\u0085", "\u2028", "\u1680", "\u200b", "\u200d", "\ufeff", "\u00ad",
    ".", ",", "!", "?", "...", "—", "–", "-", "_", "$", "+", "<", "=", ">", "^", "~", "|", "`", "@", "#", "%", "&", "*",
    "(", ")", "[", "]", "{", "}", "\\", "/", ":", ";", "\"", "«", "»", "¿", "¡", "§", "©", "°", "€", "£", "¥", "∑", "√", "→",
    "😀", "👍🏽", "🇺🇸", "❤️", "👨\u200d👩\u200d👧", "🤖", "\U0001F9D1",
    "\x00", "\x01", "\x1f", "\x7f", "\ue000", "\U000f0000", "\u0378", "\U000E0001", "\u1c89", "\u0897", "\U00011380",
    "<|im_start|>", "<|im_end|>", "<|endoftext|>", "<reponame>", "<filename>", "<|im_start", "im_end|>",
    "<s>", "</s>", "[INST]",
]
# F4 90 80 80 (past U+10FFFF) is left out: llama.cpp aborts on it ("invalid codepoint").
RAW = [b"\xff", b"\xc3", b"\xe2\x82", b"\xed\xa0\x80", b"\xc0\xaf", b"\x80", b"\xf8\x88\x80\x80\x80"]


def random_text(rng, allow_raw):
    parts = []
    for _ in range(rng.randint(1, 12)):
        if allow_raw and rng.random() < 0.08:
            parts.append(rng.choice(RAW))
        else:
            parts.append(rng.choice(ATOMS).encode())
    return b"".join(parts)


def make_variant(pre, path):
    reader = gguf.GGUFReader(MODEL)
    writer = gguf.GGUFWriter(path, "llama")
    for name, field in reader.fields.items():
        if name.startswith("GGUF.") or name == "general.architecture":
            continue
        if name == "tokenizer.ggml.pre":
            continue
        vtype = field.types[0]
        if vtype == gguf.GGUFValueType.ARRAY:
            writer.add_array(name, field.contents())
        else:
            writer.add_key_value(name, field.contents(), vtype)
    if pre is not None:
        writer.add_string("tokenizer.ggml.pre", pre)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def make_spm(path):
    """A small SentencePiece vocabulary: control tokens, byte tokens, pieces with scores."""
    pieces = ["▁", "e", "t", "a", "o", "n", "h", "l", "r", "s", "d", "w", "▁t", "he", "▁the", "ll", "▁he", "llo", "▁hello",
              "▁w", "or", "ld", "▁wor", "▁world", "in", "▁a", "an", "▁an", "and", "▁and", "é", "日", "本", "日本", "▁日本",
              "ñ", "▁ñ", "😀", "▁▁", "▁▁▁", "st", "▁st", "ing", "▁string", "!", ",", ".", "'", "▁'", "s", "re", "▁is"]
    tokens = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)] + ["<|user|>", "<ctrl>"]
    types = [2, 3, 3] + [6] * 256 + [4, 3]
    scores = [0.0, 0.0, 0.0] + [0.0] * 256 + [0.0, 0.0]
    for i, p in enumerate(pieces):
        if p in tokens:
            continue
        tokens.append(p)
        types.append(1)
        scores.append(-float(i) * 0.5 - (1.0 if len(p) < 2 else 0.0))
    writer = gguf.GGUFWriter(path, "llama")
    writer.add_string("general.name", "tiny spm")
    writer.add_uint32("llama.context_length", 64)
    writer.add_uint32("llama.embedding_length", 8)
    writer.add_uint32("llama.block_count", 1)
    writer.add_uint32("llama.feed_forward_length", 16)
    writer.add_uint32("llama.attention.head_count", 1)
    writer.add_float32("llama.attention.layer_norm_rms_epsilon", 1e-5)
    writer.add_string("tokenizer.ggml.model", "llama")
    writer.add_array("tokenizer.ggml.tokens", tokens)
    writer.add_array("tokenizer.ggml.scores", scores)
    writer.add_array("tokenizer.ggml.token_type", types)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return tokens, types, scores


def detokenize(llm, ids):
    """llama_detokenize(remove_special=False, unparse_special=True), i.e. common_detokenize(special=True)."""
    import ctypes
    arr = (llama_cpp.llama_token * max(1, len(ids)))(*ids)
    size = 64 + 64 * len(ids)
    buf = ctypes.create_string_buffer(size)
    n = llama_cpp.llama_detokenize(llm._model.vocab, arr, len(ids), buf, size, False, True)
    assert 0 <= n <= size
    return buf.raw[:n]


def random_codepoints(rng):
    """Random code points from all over Unicode (no surrogates), with spaces and digits between."""
    blocks = [(0x20, 0x7E), (0xA0, 0x24F), (0x300, 0x36F), (0x370, 0x52F), (0x600, 0x6FF), (0x900, 0x97F),
              (0xE00, 0xE7F), (0x1100, 0x11FF), (0x2000, 0x206F), (0x20A0, 0x214F), (0x2150, 0x218F),
              (0x2460, 0x24FF), (0x2E80, 0x2FDF), (0x3000, 0x30FF), (0x4E00, 0x9FFF), (0xAC00, 0xD7A3),
              (0xE000, 0xF8FF), (0xFE00, 0xFFFF), (0x10000, 0x1D7FF), (0x1F000, 0x1FAFF), (0x20000, 0x2A6DF),
              (0xE0000, 0xE01EF), (0x1C80, 0x1C8F), (0x0870, 0x089F), (0x11380, 0x113FF)]
    out = []
    for _ in range(rng.randint(1, 16)):
        r = rng.random()
        if r < 0.15:
            out.append(rng.choice([" ", "  ", "\n", "\t", "1", "23", "'s", "x"]))
            continue
        if r < 0.75:
            lo, hi = rng.choice(blocks)
        else:
            lo, hi = 0x80, 0x323AF
        cpt = rng.randint(lo, hi)
        if 0xD800 <= cpt <= 0xDFFF:
            cpt = 0xFFFD
        out.append(chr(cpt))
    return "".join(out).encode()


def run(path, texts, add_specials, parse_specials=(True, False)):
    llm = llama_cpp.Llama(path, vocab_only=True, verbose=False)
    cases = []
    for text in texts:
        for parse_special in parse_specials:
            for add_special in add_specials:
                ids = llm.tokenize(text, add_bos=add_special, special=parse_special)
                detok = detokenize(llm, ids)
                cases.append({"hex": text.hex(), "parse_special": parse_special, "add_special": add_special,
                              "ids": ids, "detok_hex": detok.hex()})
    return cases


def main():
    rng = random.Random(20261123)
    texts = [random_text(rng, allow_raw=True) for _ in range(150)]
    with tempfile.TemporaryDirectory() as tmp:
        for pre in ["smollm", "llama-bpe", "qwen2", "gpt-2", "default"]:
            path = os.path.join(tmp, f"{pre}.gguf")
            make_variant(pre, path)
            cases = run(path, texts, [False])
            with open(os.path.join(HERE, f"bpe-{pre}.json"), "w") as f:
                json.dump({"pre": pre, "source": "llama-cpp-python 0.3.36 llama_tokenize / llama_detokenize",
                           "cases": cases}, f, separators=(",", ":"))
        uni_rng = random.Random(4242)
        uni_texts = [random_codepoints(uni_rng) for _ in range(250)]
        for pre in ["smollm", "llama-bpe", "default"]:
            path = os.path.join(tmp, f"{pre}.gguf")
            cases = run(path, uni_texts, [False], parse_specials=(True,))
            with open(os.path.join(HERE, f"bpe-unicode-{pre}.json"), "w") as f:
                json.dump({"pre": pre, "source": "llama-cpp-python 0.3.36 llama_tokenize / llama_detokenize",
                           "cases": cases}, f, separators=(",", ":"))
        # other tokenizer.ggml.pre names that share one of the regexes (settings such as clean_spaces differ)
        alias_rng = random.Random(99)
        alias_texts = [random_text(alias_rng, allow_raw=False) for _ in range(40)]
        alias_cases = []
        for pre in ["exaone", "minerva-7b", "mellum2", "command-r", "starcoder", "jais", "megrez", "stablelm2",
                    "glm4", "chatglm-bpe", "dbrx", "trillion", "deepseek-r1-qwen", "llama3", "olmo", "qwen35"]:
            path = os.path.join(tmp, f"alias-{pre}.gguf")
            make_variant(pre, path)
            for c in run(path, alias_texts, [False, True], parse_specials=(True,)):
                c["pre"] = pre
                alias_cases.append(c)
        with open(os.path.join(HERE, "bpe-aliases.json"), "w") as f:
            json.dump({"pre": "(per case)", "source": "llama-cpp-python 0.3.36 llama_tokenize / llama_detokenize",
                       "cases": alias_cases}, f, separators=(",", ":"))
        path = os.path.join(tmp, "spm.gguf")
        tokens, types, scores = make_spm(path)
        spm_rng = random.Random(7)
        words = ["hello", "world", " ", "  ", "the", "and", "日本", "é", "ñ", "😀", "string", "!", ",", "'s", "is", "<s>",
                 "</s>", "<|user|>", "<ctrl>", "\n", "\t", "x", "Q", "ü"]
        spm_texts = [b""] + ["".join(spm_rng.choice(words) for _ in range(spm_rng.randint(1, 8))).encode() for _ in range(120)]
        cases = run(path, spm_texts, [False, True])
        with open(os.path.join(HERE, "spm-synthetic.json"), "w") as f:
            json.dump({"tokens": tokens, "token_types": types, "scores": scores,
                       "source": "llama-cpp-python 0.3.36 llama_tokenize / llama_detokenize", "cases": cases}, f,
                      separators=(",", ":"))


if __name__ == "__main__":
    main()
