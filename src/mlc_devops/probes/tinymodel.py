"""Makes a Llama-architecture model on the spot, in Hugging Face layout, inside a smoke environment.

Runs where numpy and ``tokenizers`` are installed (the smoke environment, not
the tool's own), by file path: ``python tinymodel.py '{"directory": ...,
"preset": "tiny", "seed": 0, "merges_format": "strings"}'`` writes
``config.json``, ``model.safetensors``, ``model.safetensors.index.json``,
``tokenizer.json`` and ``tokenizer_config.json`` and prints one JSON object.
Nothing is downloaded: the weights come from a seeded NumPy generator and the
tokenizer is trained on the lines in :data:`TRAINING_TEXT`.

Names follow what mlc-llm's Llama loader maps (upstream
``python/mlc_llm/model/llama/llama_loader.py``, at 34497eae and today): the
Hugging Face names ``model.layers.{i}.self_attn.{q,k,v}_proj.weight`` are
concatenated into MLC's ``qkv_proj``, ``mlp.{gate,up}_proj`` into
``gate_up_proj``, the rest map one to one; ``lm_head.weight`` is separate
(``tie_word_embeddings`` false; 34497eae has no tied head at all).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import sys
import time
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import numpy as np

# The lines the tokenizer is trained on: plain English about the job at hand, written for this module.
TRAINING_TEXT = (
    "The tiny model is made on the spot, with no downloads and no model hub.",
    "Its weights are drawn from a seeded generator, so the same seed gives the same bytes.",
    "A byte-level tokenizer reads any text: every byte has a token of its own.",
    "The compiler turns the model into a library; the engine runs it token by token.",
    "A reference written with NumPy computes the same forward pass in float32.",
    "Greedy decoding picks the token with the largest logit at every step.",
    "When the tokens differ, the report names the first step where they diverge.",
    "Rotary embeddings turn each query and key by an angle that grows with the position.",
    "Grouped-query attention shares each key and value head among several query heads.",
    "Root mean square normalization scales a vector by the inverse of its RMS.",
    "The gated unit multiplies the SiLU of one projection by another, then projects down.",
    "Numbers such as 0, 1, 2, 16, 32, 64, 128 and 1024 appear in configurations.",
)

BOS = "<s>"
EOS = "</s>"
BOS_ID = 0
EOS_ID = 1
MERGES_FORMATS = ("pairs", "strings")

# Hugging Face's dtype names (config.json "torch_dtype") to NumPy's and safetensors' names.
_NUMPY_DTYPES: dict[str, Any] = {"float32": np.float32, "float16": np.float16}
# safetensors' dtype names (the format's specification, huggingface/safetensors README "Format").
_SAFETENSORS_DTYPES: dict[str, Any] = {
    "F64": np.float64,
    "F32": np.float32,
    "F16": np.float16,
    "I64": np.int64,
    "I32": np.int32,
    "I16": np.int16,
    "I8": np.int8,
    "U8": np.uint8,
    "BOOL": np.bool_,
}

_COMMON: dict[str, Any] = {
    "architectures": ["LlamaForCausalLM"],
    "model_type": "llama",
    "hidden_act": "silu",
    "attention_bias": False,
    "rms_norm_eps": 1e-5,
    "rope_theta": 10000.0,
    "tie_word_embeddings": False,
    "bos_token_id": BOS_ID,
    "eos_token_id": EOS_ID,
}

# head_dim 64 in both: the 2024 pin's FlashInfer dispatches head_dim 64 or 128 only
# (3rdparty/tvm/3rdparty/flashinfer/include/flashinfer/utils.cuh, DISPATCH_HEAD_DIM).
PRESETS: dict[str, dict[str, Any]] = {
    "tiny": {
        "hidden_size": 256,
        "intermediate_size": 704,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "head_dim": 64,
        "num_hidden_layers": 2,
        "max_position_embeddings": 512,
        "vocab_size": 384,
        "torch_dtype": "float32",
    },
    # TinyLlama-1.1B's shape (TinyLlama/TinyLlama-1.1B-Chat-v1.0 config.json on the Hugging Face hub),
    # weights random; float16 where that model has bfloat16, which NumPy lacks.
    "1b": {
        "hidden_size": 2048,
        "intermediate_size": 5632,
        "num_attention_heads": 32,
        "num_key_value_heads": 4,
        "head_dim": 64,
        "num_hidden_layers": 22,
        "max_position_embeddings": 2048,
        "vocab_size": 32000,
        "torch_dtype": "float16",
    },
}

# Elements drawn per call when a tensor is generated in pieces (64 MiB of float32).
_CHUNK = 1 << 24


def preset(name: str) -> dict[str, Any]:
    """The full ``config.json`` content of preset ``name`` (``"tiny"`` or ``"1b"``), a fresh dict.

    Raises ``ValueError`` for an unknown name.
    """
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; known: {', '.join(sorted(PRESETS))}")
    fresh: dict[str, Any] = json.loads(json.dumps({**_COMMON, **PRESETS[name]}))
    return fresh


def head_dim(config: Mapping[str, Any]) -> int:
    """Per-head width: ``config["head_dim"]``, else hidden_size // num_attention_heads (upstream's default)."""
    return int(config.get("head_dim") or config["hidden_size"] // config["num_attention_heads"])


def tensor_shapes(config: Mapping[str, Any]) -> dict[str, tuple[int, ...]]:
    """Hugging Face name to shape of every weight, in name order; Linear weights are ``[out, in]``.

    Pure: allocates nothing. Raises ``ValueError`` when the heads do not divide
    (query heads must be a multiple of key/value heads).
    """
    hidden = int(config["hidden_size"])
    inter = int(config["intermediate_size"])
    heads = int(config["num_attention_heads"])
    kv_heads = int(config.get("num_key_value_heads") or heads)
    vocab = int(config["vocab_size"])
    d = head_dim(config)
    if heads % kv_heads:
        raise ValueError(f"num_attention_heads {heads} is not a multiple of num_key_value_heads {kv_heads}")
    shapes: dict[str, tuple[int, ...]] = {
        "model.embed_tokens.weight": (vocab, hidden),
        "model.norm.weight": (hidden,),
        "lm_head.weight": (vocab, hidden),
    }
    for i in range(int(config["num_hidden_layers"])):
        p = f"model.layers.{i}."
        shapes[p + "input_layernorm.weight"] = (hidden,)
        shapes[p + "post_attention_layernorm.weight"] = (hidden,)
        shapes[p + "self_attn.q_proj.weight"] = (heads * d, hidden)
        shapes[p + "self_attn.k_proj.weight"] = (kv_heads * d, hidden)
        shapes[p + "self_attn.v_proj.weight"] = (kv_heads * d, hidden)
        shapes[p + "self_attn.o_proj.weight"] = (hidden, heads * d)
        shapes[p + "mlp.gate_proj.weight"] = (inter, hidden)
        shapes[p + "mlp.up_proj.weight"] = (inter, hidden)
        shapes[p + "mlp.down_proj.weight"] = (hidden, inter)
    return dict(sorted(shapes.items()))


def parameter_count(config: Mapping[str, Any]) -> int:
    """Number of weights the config describes (elements, not bytes), without allocating them."""
    return sum(math.prod(shape) for shape in tensor_shapes(config).values())


def numpy_dtype(config: Mapping[str, Any]) -> Any:
    """NumPy dtype of the weights from ``config["torch_dtype"]``; ``ValueError`` for bfloat16 or others."""
    name = str(config.get("torch_dtype", "float32"))
    if name not in _NUMPY_DTYPES:
        raise ValueError(f"torch_dtype {name!r} is not supported here (numpy has {', '.join(_NUMPY_DTYPES)})")
    return _NUMPY_DTYPES[name]


def _scale(name: str, shape: tuple[int, ...]) -> float:
    # Linear weights: 1/sqrt(fan_in), so a unit-RMS input gives unit-RMS outputs and attention
    # scores of order one; the embedding: unit normal, as RMSNorm follows it.
    if name.endswith("embed_tokens.weight"):
        return 1.0
    return 1.0 / math.sqrt(shape[-1])


def make_tensor(name: str, shape: tuple[int, ...], seed: int, dtype: Any) -> np.ndarray:
    """One weight, drawn from ``np.random.default_rng([seed, *name's UTF-8 bytes])``.

    Norm weights are ``1 + 0.05 * N(0, 1)``; Linear weights ``N(0, 1) / sqrt(fan_in)``;
    the embedding ``N(0, 1)``. Drawn in float32 pieces of at most 2**24 elements
    and cast into the result, so a float16 tensor never has a float64 copy.
    Each tensor has its own generator: the order tensors are made in changes nothing.
    Raises ``ValueError`` for a negative seed.
    """
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    rng = np.random.default_rng([seed, *name.encode()])
    out = np.empty(shape, dtype=dtype)
    flat = out.reshape(-1)
    is_norm = len(shape) == 1
    scale = 0.05 if is_norm else _scale(name, shape)
    for start in range(0, flat.size, _CHUNK):
        stop = min(start + _CHUNK, flat.size)
        piece = rng.standard_normal(stop - start, dtype=np.float32)
        piece *= np.float32(scale)
        if is_norm:
            piece += np.float32(1.0)
        flat[start:stop] = piece
    return out


def iter_weights(config: Mapping[str, Any], seed: int) -> Iterator[tuple[str, np.ndarray]]:
    """``(name, array)`` for every weight in name order, one at a time (the dtype is the config's)."""
    dtype = numpy_dtype(config)
    for name, shape in tensor_shapes(config).items():
        yield name, make_tensor(name, shape, seed, dtype)


def make_weights(config: Mapping[str, Any], seed: int) -> dict[str, np.ndarray]:
    """All weights of ``config`` at once: name -> array of :func:`tensor_shapes`' shape, the config's dtype.

    Holds everything in memory (the "1b" preset: 2.2 GB); :func:`write_model` streams instead.
    """
    return dict(iter_weights(config, seed))


def _dtype_name(dtype: Any) -> str:
    kind = np.dtype(dtype)
    for name, candidate in _SAFETENSORS_DTYPES.items():
        if np.dtype(candidate) == kind:
            return name
    raise ValueError(f"dtype {kind} has no safetensors name here")


def safetensors_header(
    specs: Iterable[tuple[str, Any, tuple[int, ...]]], metadata: Mapping[str, str] | None = None
) -> bytes:
    """The first bytes of a safetensors file for tensors ``(name, dtype, shape)``, laid out in that order.

    Layout (the safetensors specification, huggingface/safetensors README "Format"):
    an unsigned 64-bit little-endian N, then N bytes of UTF-8 JSON mapping each
    name to ``{"dtype", "shape", "data_offsets": [begin, end]}`` (byte offsets
    into the data that follows, contiguous, no holes) and an optional
    ``"__metadata__"`` of strings. The JSON is padded with spaces to a multiple
    of 8 bytes, so the data starts aligned, as the reference writer does.
    Raises ``ValueError`` for a repeated name or an unsupported dtype.
    """
    header: dict[str, Any] = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    offset = 0
    for name, dtype, shape in specs:
        if name in header:
            raise ValueError(f"tensor {name!r} given twice")
        size = math.prod(shape) * np.dtype(dtype).itemsize
        header[name] = {"dtype": _dtype_name(dtype), "shape": list(shape), "data_offsets": [offset, offset + size]}
        offset += size
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-(8 + len(text)) % 8)
    return len(text).to_bytes(8, "little") + text


def _le(array: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<"))


def _write_stream(
    path: str,
    specs: list[tuple[str, Any, tuple[int, ...]]],
    arrays: Iterable[tuple[str, np.ndarray]],
    metadata: Mapping[str, str] | None,
) -> str:
    digest = hashlib.sha256()
    with open(path, "wb") as out:
        head = safetensors_header(specs, metadata)
        out.write(head)
        digest.update(head)
        count = 0
        for name, array in arrays:
            if count >= len(specs):
                raise ValueError(f"tensor {name!r} is not in the header")
            want_name, want_dtype, want_shape = specs[count]
            if (name, array.dtype, tuple(array.shape)) != (want_name, np.dtype(want_dtype), tuple(want_shape)):
                raise ValueError(f"tensor {name!r} {array.dtype} {array.shape} is not the header's {specs[count]}")
            data = _le(array).tobytes()
            out.write(data)
            digest.update(data)
            count += 1
        if count != len(specs):
            raise ValueError(f"{len(specs) - count} tensors of the header were not given")
    return digest.hexdigest()


def write_safetensors(path: str, tensors: Mapping[str, np.ndarray], metadata: Mapping[str, str] | None = None) -> str:
    """Write ``tensors`` to ``path`` as one safetensors file, in name order; returns the file's sha256 (hex).

    Little-endian, C order (the format's rules); see :func:`safetensors_header`.
    Raises ``ValueError`` for a dtype safetensors has no name for here.
    """
    names = sorted(tensors)
    specs = [(n, tensors[n].dtype, tuple(tensors[n].shape)) for n in names]
    return _write_stream(path, specs, ((n, tensors[n]) for n in names), metadata)


def read_safetensors_header(path: str) -> tuple[dict[str, Any], int]:
    """The JSON header of a safetensors file and the offset where its data starts.

    Checks the layout: the header's length fits the file, the JSON is an object,
    every tensor's dtype is known, its byte range matches its shape and the
    ranges tile the data exactly (no hole, no overlap). Raises ``ValueError``
    otherwise.
    """
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        raw = f.read(8)
        if len(raw) < 8:
            raise ValueError(f"{path}: shorter than the 8-byte header length")
        n = int.from_bytes(raw, "little")
        if 8 + n > size:
            raise ValueError(f"{path}: header length {n} runs past the end of the file ({size} bytes)")
        header = json.loads(f.read(n).decode())
    if not isinstance(header, dict):
        raise ValueError(f"{path}: the header is not a JSON object")  # noqa: TRY004 - a malformed file: ValueError, as documented
    ranges = []
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] not in _SAFETENSORS_DTYPES:
            raise ValueError(f"{path}: {name}: unknown dtype {info['dtype']!r}")
        begin, end = info["data_offsets"]
        want = math.prod(info["shape"]) * np.dtype(_SAFETENSORS_DTYPES[info["dtype"]]).itemsize
        if end - begin != want:
            raise ValueError(f"{path}: {name}: {end - begin} bytes for shape {info['shape']} {info['dtype']}")
        ranges.append((begin, end, name))
    at = 0
    for begin, end, name in sorted(ranges):
        if begin != at:
            raise ValueError(f"{path}: {name} starts at {begin}, expected {at} (a hole or an overlap)")
        at = end
    if 8 + n + at != size:
        raise ValueError(f"{path}: the tensors cover {at} bytes, the file has {size - 8 - n} after the header")
    return header, 8 + n


def read_safetensors(path: str) -> dict[str, np.ndarray]:
    """Every tensor of a safetensors file: name -> read-only array (memory-mapped), in header order.

    Raises ``ValueError`` as :func:`read_safetensors_header` does.
    """
    header, start = read_safetensors_header(path)
    data = np.memmap(path, dtype=np.uint8, mode="r", offset=start) if os.path.getsize(path) > start else None
    out: dict[str, np.ndarray] = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        dtype = np.dtype(_SAFETENSORS_DTYPES[info["dtype"]]).newbyteorder("<")
        raw = data[begin:end] if data is not None else np.empty(0, dtype=np.uint8)
        out[name] = raw.view(dtype).reshape(info["shape"])
    return out


def _merges(merges: list[Any], merges_format: str) -> list[Any]:
    pairs = [m.split(" ") if isinstance(m, str) else list(m) for m in merges]
    if any(len(p) != 2 or any(" " in part for part in p) for p in pairs):
        raise ValueError("a merge has a space inside a token; the strings format cannot hold it")
    return pairs if merges_format == "pairs" else [" ".join(p) for p in pairs]


def train_tokenizer(vocab_size: int, merges_format: str = "pairs") -> str:
    """A byte-level BPE tokenizer trained on :data:`TRAINING_TEXT`, as ``tokenizer.json`` text.

    Exactly ``vocab_size`` ids: ``<s>`` (0) and ``</s>`` (1), the 256 byte tokens,
    the merges learnt from the text, and when the text gives too few merges
    ``<reserved_N>`` entries in the model's vocabulary that no text encodes to
    (the "1b" preset's 32000). No normalizer, no post-processor: encoding adds
    no BOS and decoding gives back the text.

    ``merges_format``: ``"pairs"`` writes merges as ``["a", "b"]`` lists, what
    tokenizers 0.20.0 and later write (huggingface/tokenizers PR #909);
    ``"strings"`` as ``"a b"``, the only form tokenizers 0.13 reads (mlc-llm
    34497eae's 3rdparty/tokenizers-cpp/rust/Cargo.toml pins tokenizers 0.13.4,
    whose ``models/bpe/serialization.rs`` reads merges as ``Vec<String>``);
    today's versions read both. Raises ``ValueError`` for an unknown format or
    a vocab_size under 258.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers  # noqa: PLC0415

    if merges_format not in MERGES_FORMATS:
        raise ValueError(f"merges_format must be one of {MERGES_FORMATS}, got {merges_format!r}")
    alphabet = pre_tokenizers.ByteLevel.alphabet()
    if vocab_size < len(alphabet) + 2:
        raise ValueError(f"vocab_size {vocab_size} is under the {len(alphabet) + 2} of bytes and specials")
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[BOS, EOS],
        initial_alphabet=alphabet,
        show_progress=False,
    )
    tok.train_from_iterator(list(TRAINING_TEXT), trainer=trainer)
    data = json.loads(tok.to_str())
    model = data["model"]
    vocab: dict[str, int] = model["vocab"]
    if vocab.get(BOS) != BOS_ID or vocab.get(EOS) != EOS_ID:
        raise ValueError(f"the trainer put {BOS} at {vocab.get(BOS)} and {EOS} at {vocab.get(EOS)}")
    for i in range(len(vocab), vocab_size):
        vocab[f"<reserved_{i}>"] = i
    model["merges"] = _merges(model["merges"], merges_format)
    return json.dumps(data, ensure_ascii=False, indent=1) + "\n"


def tokenizer_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """``tokenizer_config.json`` for the tokenizer of :func:`train_tokenizer` (transformers' fast-tokenizer keys)."""
    return {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": BOS,
        "eos_token": EOS,
        "add_bos_token": False,
        "add_eos_token": False,
        "clean_up_tokenization_spaces": False,
        "model_max_length": int(config["max_position_embeddings"]),
    }


def write_model(
    directory: str, preset_name: str = "tiny", seed: int = 0, merges_format: str = "pairs"
) -> dict[str, Any]:
    """Write the model of ``preset_name`` with weights from ``seed`` into ``directory`` (created if missing).

    Files: config.json, model.safetensors (one shard, written tensor by tensor,
    so memory holds one tensor at a time), model.safetensors.index.json (the
    ``weight_map``; mlc-llm 34497eae's ``support/auto_weight.py`` without it
    imports safetensors.torch to write one), tokenizer.json, tokenizer_config.json.
    Returns a summary: ``files`` (name -> bytes), ``parameters``, ``weights_sha256``,
    ``weights_bytes``, ``tokenizer`` (vocab_size, merges, reserved), ``config``.
    Raises ``ValueError`` for an unknown preset or merges format.
    """
    config = preset(preset_name)
    tokenizer_json = train_tokenizer(int(config["vocab_size"]), merges_format)
    os.makedirs(directory, exist_ok=True)
    shapes = tensor_shapes(config)
    dtype = numpy_dtype(config)
    specs = [(name, dtype, shape) for name, shape in shapes.items()]
    weights_path = os.path.join(directory, "model.safetensors")
    digest = _write_stream(weights_path, specs, iter_weights(config, seed), {"format": "pt"})
    data_bytes = sum(math.prod(s) for s in shapes.values()) * np.dtype(dtype).itemsize
    index = {"metadata": {"total_size": data_bytes}, "weight_map": dict.fromkeys(shapes, "model.safetensors")}
    texts = {
        "config.json": json.dumps(config, indent=2) + "\n",
        "model.safetensors.index.json": json.dumps(index, indent=2) + "\n",
        "tokenizer.json": tokenizer_json,
        "tokenizer_config.json": json.dumps(tokenizer_config(config), indent=2) + "\n",
    }
    for name, text in texts.items():
        with open(os.path.join(directory, name), "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
    model = json.loads(tokenizer_json)["model"]
    files = sorted([*texts, "model.safetensors"])
    return {
        "directory": directory,
        "preset": preset_name,
        "seed": seed,
        "parameters": parameter_count(config),
        "weights_sha256": digest,
        "weights_bytes": data_bytes,
        "files": {name: os.path.getsize(os.path.join(directory, name)) for name in files},
        "tokenizer": {
            "vocab_size": len(model["vocab"]),
            "merges": len(model["merges"]),
            "reserved": sum(1 for t in model["vocab"] if t.startswith("<reserved_")),
            "merges_format": merges_format,
        },
        "config": config,
    }


def main(argv: list[str]) -> int:
    spec = json.loads(argv[1])
    started = time.monotonic()
    try:
        out = write_model(
            str(spec["directory"]),
            str(spec.get("preset", "tiny")),
            int(spec.get("seed", 0)),
            str(spec.get("merges_format", "pairs")),
        )
    except (ValueError, OSError, KeyError) as exc:
        print(json.dumps({"ok": False, "error": f"{type(exc).__name__}: {exc}"}))
        return 1
    print(json.dumps({"ok": True, **out, "seconds": round(time.monotonic() - started, 3)}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
