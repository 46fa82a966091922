#!/usr/bin/env python3
"""Write tiny, deterministic, random-weight llama GGUF models for llm-parity.

No weights are downloaded: the tensors come from a seeded PCG64 bit stream and
the tokenizer is a byte-level BPE trained here on the paragraph below.

Outputs (in --out-dir):
  tiny-llama.gguf        chat model (2 layers, n_embd 64, 4 heads, n_ff 128, ctx 2048, F32)
  tiny-llama-embed.gguf  same weights + llama.pooling_type = MEAN (for embeddings)

The files are byte-for-byte reproducible for a given gguf package version
(pinned to 0.19.0 by servers.sh); their sha256 sums are printed.

Usage: make_tiny_gguf.py [--out-dir DIR] [--seed N]
"""
from __future__ import annotations

import argparse
import hashlib
import os
import re
import sys
from collections import Counter
from pathlib import Path

import numpy as np

try:
    import gguf
except ImportError:  # pragma: no cover
    sys.exit("make_tiny_gguf.py needs the 'gguf' package (servers.sh install puts it in venv-llama)")

# --------------------------------------------------------------- hyperparams --
N_LAYER = 2
N_EMBD = 64
N_HEAD = 4
N_HEAD_KV = 4
N_FF = 128
N_CTX = 2048
N_MERGES = 200
RMS_EPS = 1e-5
ROPE_THETA = 10000.0

SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]

CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + (message['content'] or '') + '<|im_end|>' + '\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)

TRAINING_TEXT = """\
The quick brown fox jumps over the lazy dog while the weather stays sunny and warm.
An OpenAI-compatible server answers chat completions, streams tokens as server-sent
events, and returns embeddings for text. A conformance harness sends the same request
to every target and compares the status code, the headers and the shape of the JSON
body. When the model is unknown the server should answer with an error object that
has a message, a type, a param and a code. Streaming responses end with a data line
that says DONE. Tool calls carry a function name and arguments encoded as a JSON
string; the finish reason then says tool_calls instead of stop or length. Usage
counts prompt tokens, completion tokens and total tokens. Hello, world! How are you
today? I am fine, thank you. Please tell me the weather in Paris, London and Tokyo.
{"location": "Paris", "unit": "celsius", "ok": true, "count": 42, "items": [1, 2, 3]}
system user assistant tool function message content role name arguments
0123456789 The the THE and And AND of to in is it that for on with as was at by.
"""

# GPT-2 style pre-tokenizer, ASCII approximation of the \p{L}/\p{N} original.
PRETOKENIZE_RE = re.compile(
    r"""'s|'t|'re|'ve|'m|'ll|'d| ?[A-Za-z]+| ?[0-9]+| ?[^\sA-Za-z0-9]+|\s+(?!\S)|\s+"""
)


def bytes_to_unicode() -> dict[int, str]:
    """The GPT-2 reversible byte -> printable unicode character map."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


def train_bpe(text: str, n_merges: int) -> tuple[list[str], list[str]]:
    """Return (tokens, merges). tokens[0:256] are the byte tokens (id == byte value)."""
    b2u = bytes_to_unicode()
    tokens = [b2u[b] for b in range(256)]
    known = set(tokens)
    words: Counter[tuple[str, ...]] = Counter()
    for piece in PRETOKENIZE_RE.findall(text):
        words[tuple(b2u[b] for b in piece.encode("utf-8"))] += 1

    merges: list[str] = []
    for _ in range(n_merges):
        pairs: Counter[tuple[str, str]] = Counter()
        for word, count in words.items():
            for a, b in zip(word, word[1:]):
                pairs[(a, b)] += count
        if not pairs:
            break
        # most frequent pair; ties broken by the pair itself so the result is stable
        (a, b), _count = min(pairs.items(), key=lambda kv: (-kv[1], kv[0]))
        merges.append(f"{a} {b}")
        merged = a + b
        if merged not in known:
            known.add(merged)
            tokens.append(merged)
        new_words: Counter[tuple[str, ...]] = Counter()
        for word, count in words.items():
            out: list[str] = []
            i = 0
            while i < len(word):
                if i + 1 < len(word) and word[i] == a and word[i + 1] == b:
                    out.append(merged)
                    i += 2
                else:
                    out.append(word[i])
                    i += 1
            new_words[tuple(out)] += count
        words = new_words
    return tokens, merges


class DeterministicRNG:
    """Uniform floats from the raw PCG64 bit stream.

    numpy guarantees the bit stream of its BitGenerators across versions (the
    Generator distribution methods are not guaranteed), so derive floats from
    random_raw() ourselves to keep the files identical across numpy versions.
    """

    def __init__(self, seed: int):
        self.bitgen = np.random.PCG64(seed)

    def uniform(self, shape: tuple[int, ...], scale: float) -> np.ndarray:
        n = int(np.prod(shape))
        raw = np.asarray(self.bitgen.random_raw(n), dtype=np.uint64)
        unit = (raw >> np.uint64(11)).astype(np.float64) * (1.0 / 9007199254740992.0)  # [0, 1)
        return ((unit * 2.0 - 1.0) * scale).astype(np.float32).reshape(shape)


def build_tensors(n_vocab: int, seed: int) -> list[tuple[str, np.ndarray]]:
    rng = DeterministicRNG(seed)
    ones = lambda: np.ones((N_EMBD,), dtype=np.float32)  # noqa: E731
    tensors: list[tuple[str, np.ndarray]] = [("token_embd.weight", rng.uniform((n_vocab, N_EMBD), 0.5))]
    head_dim = N_EMBD // N_HEAD
    for i in range(N_LAYER):
        p = f"blk.{i}."
        tensors += [
            (p + "attn_norm.weight", ones()),
            (p + "attn_q.weight", rng.uniform((N_HEAD * head_dim, N_EMBD), 0.2)),
            (p + "attn_k.weight", rng.uniform((N_HEAD_KV * head_dim, N_EMBD), 0.2)),
            (p + "attn_v.weight", rng.uniform((N_HEAD_KV * head_dim, N_EMBD), 0.2)),
            (p + "attn_output.weight", rng.uniform((N_EMBD, N_HEAD * head_dim), 0.2)),
            (p + "ffn_norm.weight", ones()),
            (p + "ffn_gate.weight", rng.uniform((N_FF, N_EMBD), 0.2)),
            (p + "ffn_up.weight", rng.uniform((N_FF, N_EMBD), 0.2)),
            (p + "ffn_down.weight", rng.uniform((N_EMBD, N_FF), 0.2)),
        ]
    tensors += [
        ("output_norm.weight", ones()),
        ("output.weight", rng.uniform((n_vocab, N_EMBD), 0.5)),
    ]
    return tensors


def write_model(path: Path, tokens: list[str], merges: list[str], token_types: list[int],
                tensors: list[tuple[str, np.ndarray]], name: str, pooling: "gguf.PoolingType | None") -> str:
    ids = {t: i for i, t in enumerate(tokens)}
    tmp = path.with_name(path.name + ".tmp")
    w = gguf.GGUFWriter(str(tmp), arch="llama")
    w.add_name(name)
    w.add_description("llm-parity tiny random-weight test model (not trained; outputs are noise)")
    w.add_file_type(int(gguf.LlamaFileType.ALL_F32))
    w.add_vocab_size(len(tokens))
    w.add_context_length(N_CTX)
    w.add_embedding_length(N_EMBD)
    w.add_block_count(N_LAYER)
    w.add_feed_forward_length(N_FF)
    w.add_head_count(N_HEAD)
    w.add_head_count_kv(N_HEAD_KV)
    w.add_rope_dimension_count(N_EMBD // N_HEAD)
    w.add_rope_freq_base(ROPE_THETA)
    w.add_layer_norm_rms_eps(RMS_EPS)
    if pooling is not None:
        w.add_pooling_type(pooling)

    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("gpt-2")
    w.add_token_list(tokens)
    w.add_token_types(token_types)
    w.add_token_merges(merges)
    w.add_bos_token_id(ids["<|endoftext|>"])
    w.add_eos_token_id(ids["<|im_end|>"])
    w.add_eot_token_id(ids["<|im_end|>"])
    w.add_pad_token_id(ids["<|endoftext|>"])
    w.add_add_bos_token(False)
    w.add_add_eos_token(False)
    w.add_chat_template(CHAT_TEMPLATE)

    for tname, arr in tensors:
        w.add_tensor(tname, arr)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    os.replace(tmp, path)
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out-dir", default=".", help="directory for the .gguf files (default: .)")
    ap.add_argument("--seed", type=int, default=20261121, help="PCG64 seed for the weights")
    args = ap.parse_args()

    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)

    tokens, merges = train_bpe(TRAINING_TEXT, N_MERGES)
    n_normal = len(tokens)
    tokens = tokens + SPECIAL_TOKENS
    token_types = [int(gguf.TokenType.NORMAL)] * n_normal + [int(gguf.TokenType.CONTROL)] * len(SPECIAL_TOKENS)
    tensors = build_tensors(len(tokens), args.seed)

    for fname, name, pooling in (
        ("tiny-llama.gguf", "tiny-llama", None),
        ("tiny-llama-embed.gguf", "tiny-llama-embed", gguf.PoolingType.MEAN),
    ):
        path = out / fname
        digest = write_model(path, tokens, merges, token_types, tensors, name, pooling)
        print(f"{path}  {path.stat().st_size} bytes  sha256 {digest}")
    print(f"vocab {len(tokens)} tokens (256 bytes + {n_normal - 256} merged + {len(SPECIAL_TOKENS)} special), "
          f"{len(merges)} merges, {N_LAYER} layers, n_embd {N_EMBD}, {N_HEAD} heads, n_ff {N_FF}, ctx {N_CTX}, F32")
    return 0


if __name__ == "__main__":
    sys.exit(main())
