"""The NumPy reference forward pass of the Llama architecture, in float32, to check a compiled model against.

Runs inside a smoke environment (numpy; ``tokenizers`` only to name tokens) by
file path: ``python reference.py '{"model": DIR, "prompt": [ids], "steps": 16}'``
reads ``config.json`` and the safetensors weights of DIR (as
:mod:`tinymodel` writes them), runs greedy decoding and prints one JSON object
with the tokens and the first step's logits; given ``"got": {"tokens": [...],
"first_logits": [...] or {id: value}}`` it also compares them (:func:`compare`)
and exits 1 on a mismatch.

The computation is Hugging Face's ``LlamaForCausalLM`` (transformers'
``models/llama/modeling_llama.py``) and mlc-llm's Llama (upstream
``python/mlc_llm/model/llama/llama_model.py``, with the rotary embedding of
``python/mlc_llm/nn/kv_cache.py``, ``RopeMode.NORMAL``): embedding; per layer
RMSNorm, q/k/v projections, rotary embedding on the two halves of head_dim,
grouped-query causal attention, o_proj plus residual, RMSNorm, SwiGLU plus
residual; final RMSNorm; lm_head.

Tolerance, float32: a logit passes when ``|got - ref| <= ATOL + RTOL * |ref|``
with ``ATOL = RTOL = 1e-4``. Why: with :mod:`tinymodel`'s scaling the logits
have a standard deviation of about 1, and float32 rounding moves them by a few
1e-6 (measured on the "tiny" preset, seeds 0 to 2: this pass in float32
against the same pass in float64 differs by at most 2.9e-6; a unit test keeps
it under 1e-5), so 1e-4 leaves a margin of 30x for another summation order and
fast exp/rsqrt on a device. Lower precision does not fit: the same weights
rounded to float16, or to TF32's 10-bit mantissa, move the logits by 2.5e-3
to 3e-3, 25x the tolerance; a structural error (another rotary convention, no
causal mask, a norm weight missed) moves them by 0.1 to 1. The greedy tokens
of the "tiny" preset keep a margin of at least 1.5e-3 between the first and
second logit over 32 steps (seeds 0 to 2), so float32 noise cannot swap them.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import tinymodel  # type: ignore[import-not-found]  # the sibling module, first on sys.path

ATOL = 1e-4
RTOL = 1e-4

# Per layer, the keys (after the rotary embedding) and values seen so far: [positions, kv_heads, head_dim].
Cache = list[tuple[np.ndarray, np.ndarray]]


def rms_norm(x: np.ndarray, weight: np.ndarray, eps: float) -> np.ndarray:
    """``x / sqrt(mean(x**2, last axis) + eps) * weight``; x ``[..., hidden]``, weight ``[hidden]``, same shape out."""
    mean_square = np.mean(np.square(x), axis=-1, keepdims=True)
    return np.asarray((x / np.sqrt(mean_square + x.dtype.type(eps))) * weight)


def rotary_tables(
    positions: np.ndarray, dim: int, theta: float, dtype: Any = np.float32
) -> tuple[np.ndarray, np.ndarray]:
    """Cosine and sine of the rotary angles, each ``[len(positions), dim]``, in ``dtype``.

    Angle of position p at column j: ``p * theta ** (-2 * (j mod dim/2) / dim)``
    (inv_freq over even indices, repeated for the two halves, as Hugging Face's
    ``LlamaRotaryEmbedding``). Computed in float64, then cast. Raises
    ``ValueError`` for an odd dim.
    """
    if dim % 2:
        raise ValueError(f"rotary dim must be even, got {dim}")
    inv_freq = float(theta) ** (-np.arange(0, dim, 2, dtype=np.float64) / dim)
    angles = np.outer(np.asarray(positions, dtype=np.float64), inv_freq)
    angles = np.concatenate([angles, angles], axis=-1)
    return np.cos(angles).astype(dtype), np.sin(angles).astype(dtype)


def rotate_half(x: np.ndarray) -> np.ndarray:
    """``[-x2, x1]`` for ``x = [x1, x2]`` split in halves on the last axis; same shape."""
    half = x.shape[-1] // 2
    return np.asarray(np.concatenate([-x[..., half:], x[..., :half]], axis=-1))


def apply_rotary(x: np.ndarray, cos: np.ndarray, sin: np.ndarray) -> np.ndarray:
    """Rotate ``x [seq, heads, dim]`` by the tables ``[seq, dim]``: ``x * cos + rotate_half(x) * sin``."""
    return np.asarray(x * cos[:, None, :] + rotate_half(x) * sin[:, None, :])


def softmax(x: np.ndarray) -> np.ndarray:
    """Softmax over the last axis, shifted by the maximum; ``-inf`` entries get 0."""
    shifted = x - np.max(x, axis=-1, keepdims=True)
    e = np.exp(shifted)
    return np.asarray(e / np.sum(e, axis=-1, keepdims=True))


def log_softmax(x: np.ndarray) -> np.ndarray:
    """Log of :func:`softmax` over the last axis, computed without underflow."""
    shifted = x - np.max(x, axis=-1, keepdims=True)
    return np.asarray(shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True)))


def attention(q: np.ndarray, k: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Grouped-query causal attention: q ``[s_q, heads, d]``, k and v ``[s_kv, kv_heads, d]`` -> ``[s_q, heads, d]``.

    Query row i sits at position ``s_kv - s_q + i`` (the new tokens come last)
    and sees keys up to that position. Query head h reads key/value head
    ``h // (heads // kv_heads)`` (Hugging Face's ``repeat_kv``; mlc-llm's
    kernels' ``group_size``). Scores are scaled by ``1/sqrt(d)``. Raises
    ``ValueError`` when the heads do not divide or s_q > s_kv.
    """
    s_q, heads, d = q.shape
    s_kv, kv_heads, _ = k.shape
    if heads % kv_heads or s_q > s_kv:
        raise ValueError(f"query {q.shape} does not fit keys {k.shape}")
    group = heads // kv_heads
    k_rep = np.repeat(k, group, axis=1)
    v_rep = np.repeat(v, group, axis=1)
    scores = np.einsum("qhd,khd->hqk", q, k_rep) * q.dtype.type(1.0 / math.sqrt(d))
    query_pos = np.arange(s_kv - s_q, s_kv)[:, None]
    key_pos = np.arange(s_kv)[None, :]
    scores = np.where(key_pos <= query_pos, scores, q.dtype.type(-np.inf))
    probs = softmax(scores)
    return np.asarray(np.einsum("hqk,khd->qhd", probs, v_rep))


def silu(x: np.ndarray) -> np.ndarray:
    """``x * sigmoid(x)``, with the sigmoid written as ``(1 + tanh(x/2)) / 2`` so no exp overflows."""
    half = x.dtype.type(0.5)
    return np.asarray(x * (half + half * np.tanh(half * x)))


def prepare(weights: Mapping[str, np.ndarray], dtype: Any = np.float32) -> dict[str, np.ndarray]:
    """The weights as C-ordered arrays of ``dtype`` (float16 files are widened here), same names and shapes."""
    return {name: np.ascontiguousarray(w, dtype=dtype) for name, w in weights.items()}


def forward(
    weights: Mapping[str, np.ndarray],
    config: Mapping[str, Any],
    token_ids: Sequence[int],
    cache: Cache | None = None,
    *,
    dtype: Any = np.float32,
) -> np.ndarray:
    """Logits ``[len(token_ids), vocab]`` for ``token_ids``, computed in ``dtype`` (float32 unless told).

    Without a cache the tokens are positions 0.. and everything is recomputed.
    With a cache (a list, empty at first, one ``(k, v)`` per layer after the
    first call) the tokens continue the sequence it holds and it is extended in
    place: a prefill then one call per decoded token gives the same logits as
    recomputing the whole sequence. ``weights``: Hugging Face names
    (:func:`tinymodel.tensor_shapes`); pass :func:`prepare`'d weights to convert
    them once. Raises ``KeyError`` for a missing weight, ``ValueError`` for a
    token id outside the vocabulary.
    """
    vocab = int(config["vocab_size"])
    ids = np.asarray(token_ids, dtype=np.int64)
    if ids.ndim != 1 or ids.size == 0 or bool(np.any(ids < 0)) or bool(np.any(ids >= vocab)):
        raise ValueError(f"token ids must be a non-empty list in [0, {vocab}), got {list(token_ids)[:8]}")
    heads = int(config["num_attention_heads"])
    kv_heads = int(config.get("num_key_value_heads") or heads)
    d = tinymodel.head_dim(config)
    eps = float(config["rms_norm_eps"])
    layers = int(config["num_hidden_layers"])
    w = weights if all(a.dtype == np.dtype(dtype) for a in weights.values()) else prepare(weights, dtype)
    if cache is None:
        cache = []
    start = cache[0][0].shape[0] if cache else 0
    cos, sin = rotary_tables(np.arange(start, start + ids.size), d, float(config.get("rope_theta", 10000.0)), dtype)
    s = ids.size
    h = w["model.embed_tokens.weight"][ids]
    for i in range(layers):
        p = f"model.layers.{i}."
        x = rms_norm(h, w[p + "input_layernorm.weight"], eps)
        q = (x @ w[p + "self_attn.q_proj.weight"].T).reshape(s, heads, d)
        k = (x @ w[p + "self_attn.k_proj.weight"].T).reshape(s, kv_heads, d)
        v = (x @ w[p + "self_attn.v_proj.weight"].T).reshape(s, kv_heads, d)
        q = apply_rotary(q, cos, sin)
        k = apply_rotary(k, cos, sin)
        if len(cache) > i:
            k = np.concatenate([cache[i][0], k])
            v = np.concatenate([cache[i][1], v])
            cache[i] = (k, v)
        else:
            cache.append((k, v))
        out = attention(q, k, v).reshape(s, heads * d)
        h = h + out @ w[p + "self_attn.o_proj.weight"].T
        x = rms_norm(h, w[p + "post_attention_layernorm.weight"], eps)
        gate = x @ w[p + "mlp.gate_proj.weight"].T
        up = x @ w[p + "mlp.up_proj.weight"].T
        h = h + (silu(gate) * up) @ w[p + "mlp.down_proj.weight"].T
    h = rms_norm(h, w["model.norm.weight"], eps)
    return np.asarray(h @ w["lm_head.weight"].T)


def greedy(
    weights: Mapping[str, np.ndarray],
    config: Mapping[str, Any],
    prompt_ids: Sequence[int],
    steps: int,
    *,
    dtype: Any = np.float32,
) -> tuple[list[int], np.ndarray]:
    """Greedy decoding: ``steps`` new token ids, and the first step's logits ``[vocab]`` (after the prompt).

    Prefill of the prompt, then one token at a time through a KV cache. Each
    step takes ``argmax`` (the lowest id on a tie). It does not stop at EOS: run
    the engine with ``ignore_eos`` to compare. Raises ``ValueError`` as
    :func:`forward`, or for steps < 1.
    """
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    w = prepare(weights, dtype)
    cache: Cache = []
    logits = forward(w, config, prompt_ids, cache, dtype=dtype)[-1]
    first = logits
    tokens: list[int] = []
    for _ in range(steps):
        token = int(np.argmax(logits))
        tokens.append(token)
        if len(tokens) == steps:
            break
        logits = forward(w, config, [token], cache, dtype=dtype)[-1]
    return tokens, first


def _got_values(got: Sequence[float] | Mapping[Any, float], vocab: int) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(got, Mapping):
        ids = np.array([int(k) for k in got], dtype=np.int64)
        values = np.array([float(v) for v in got.values()], dtype=np.float64)
    else:
        values = np.asarray(got, dtype=np.float64)
        if values.shape != (vocab,):
            raise ValueError(f"got {values.shape[0] if values.ndim else 0} logits for a vocabulary of {vocab}")
        ids = np.arange(vocab)
    if ids.size and (bool(np.any(ids < 0)) or bool(np.any(ids >= vocab))):
        raise ValueError(f"a token id of the logits given is outside [0, {vocab})")
    return ids, values


def compare(
    reference_tokens: Sequence[int],
    reference_first_logits: Sequence[float] | np.ndarray,
    got_tokens: Sequence[int],
    got_first_logits: Sequence[float] | Mapping[Any, float],
    atol: float = ATOL,
    rtol: float = RTOL,
    *,
    space: str = "logits",
) -> dict[str, Any]:
    """Compare a run against the reference: every token, and the first step's logits within tolerance.

    ``got_first_logits``: all ``vocab`` values, or a mapping token id (int or
    its string, as JSON keys are) -> value for some of them (an engine's top-k).
    ``space``: ``"logits"``, or ``"logprobs"`` when the run reports
    log-probabilities (the reference's logits go through :func:`log_softmax`).
    A value passes when ``|got - ref| <= atol + rtol * |ref|``; a non-finite
    value fails. Returns ``ok`` (tokens and logits), ``tokens_ok``,
    ``logits_ok``, ``steps`` (the reference's), ``matching_steps`` (the leading
    steps that agree), ``first_divergence`` (None, or ``{"step", "reference",
    "got"}``, ``got`` None when the run stopped early), ``max_abs_diff`` and
    its ``max_abs_diff_id``, ``compared`` (values compared), ``nonfinite``,
    ``atol``, ``rtol``, ``space``. Raises ``ValueError`` for an unknown space,
    a full list of the wrong length or an id outside the vocabulary.
    """
    if space not in ("logits", "logprobs"):
        raise ValueError(f"space must be 'logits' or 'logprobs', got {space!r}")
    ref = np.asarray(reference_first_logits, dtype=np.float64)
    if space == "logprobs":
        ref = log_softmax(ref)
    ids, got = _got_values(got_first_logits, ref.shape[0])
    finite = np.isfinite(got)
    diff = np.abs(got - ref[ids])
    within = finite & (diff <= atol + rtol * np.abs(ref[ids]))
    worst = int(np.argmax(np.where(finite, diff, -1.0))) if finite.any() else None
    matching = 0
    for want, have in zip(reference_tokens, got_tokens):
        if int(want) != int(have):
            break
        matching += 1
    divergence = None
    if matching < len(reference_tokens):
        got_token = int(got_tokens[matching]) if matching < len(got_tokens) else None
        divergence = {"step": matching, "reference": int(reference_tokens[matching]), "got": got_token}
    tokens_ok = divergence is None
    logits_ok = bool(ids.size) and bool(within.all())
    return {
        "ok": tokens_ok and logits_ok,
        "tokens_ok": tokens_ok,
        "logits_ok": logits_ok,
        "steps": len(reference_tokens),
        "matching_steps": matching,
        "first_divergence": divergence,
        "max_abs_diff": float(diff[worst]) if worst is not None else None,
        "max_abs_diff_id": int(ids[worst]) if worst is not None else None,
        "compared": int(ids.size),
        "nonfinite": int((~finite).sum()),
        "atol": atol,
        "rtol": rtol,
        "space": space,
    }


def load_model(directory: str) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """``config.json`` and the weights of a Hugging Face layout directory (safetensors, through the index when present).

    Raises ``OSError`` for missing files, ``ValueError`` for a malformed safetensors file.
    """
    with open(os.path.join(directory, "config.json"), encoding="utf-8") as f:
        config = json.load(f)
    index = os.path.join(directory, "model.safetensors.index.json")
    if os.path.exists(index):
        with open(index, encoding="utf-8") as f:
            shards = sorted(set(json.load(f)["weight_map"].values()))
    else:
        shards = ["model.safetensors"]
    weights: dict[str, np.ndarray] = {}
    for shard in shards:
        weights.update(tinymodel.read_safetensors(os.path.join(directory, shard)))
    return config, weights


def _token_bytes(directory: str) -> dict[int, list[int]]:
    # Hugging Face's byte-level alphabet: printable Latin-1 bytes stand for themselves, the rest
    # for code points from 256 up, in byte order (what pre_tokenizers.ByteLevel.alphabet() lists).
    path = os.path.join(directory, "tokenizer.json")
    if not os.path.exists(path):
        return {}
    keep = [*range(ord("!"), ord("~") + 1), *range(0xA1, 0xAC + 1), *range(0xAE, 0xFF + 1)]
    char_to_byte = {chr(b): b for b in keep}
    extra = 0
    for b in range(256):
        if b not in char_to_byte.values():
            char_to_byte[chr(256 + extra)] = b
            extra += 1
    with open(path, encoding="utf-8") as f:
        vocab = json.load(f)["model"]["vocab"]
    return {int(i): [char_to_byte[c] for c in token if c in char_to_byte] for token, i in vocab.items()}


def main(argv: list[str]) -> int:
    spec = json.loads(argv[1])
    started = time.monotonic()
    try:
        config, weights = load_model(str(spec["model"]))
        prompt = [int(t) for t in spec["prompt"]]
        tokens, first = greedy(weights, config, prompt, int(spec.get("steps", 16)))
    except (OSError, ValueError, KeyError) as exc:
        print(json.dumps({"ok": False, "error": f"{type(exc).__name__}: {exc}"}))
        return 1
    top_k = int(spec.get("top_k", 5))
    order = np.argsort(-first, kind="stable")[:top_k]
    logprobs = log_softmax(first.astype(np.float64))
    names = _token_bytes(str(spec["model"]))
    out: dict[str, Any] = {
        "ok": True,
        "prompt": prompt,
        "tokens": tokens,
        "first_top": [
            {"id": int(i), "logit": float(first[i]), "logprob": float(logprobs[i]), "bytes": names.get(int(i))}
            for i in order
        ],
    }
    if spec.get("full_logits", first.size <= 4096):
        out["first_logits"] = [float(x) for x in first]
    got = spec.get("got")
    if got is not None:
        result = compare(
            tokens,
            first,
            got["tokens"],
            got["first_logits"],
            float(spec.get("atol", ATOL)),
            float(spec.get("rtol", RTOL)),
            space=str(got.get("space", "logits")),
        )
        out["compare"] = result
        out["ok"] = result["ok"]
    out["seconds"] = round(time.monotonic() - started, 3)
    print(json.dumps(out))
    return 0 if out["ok"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
