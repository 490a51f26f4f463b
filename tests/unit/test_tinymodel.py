"""The tiny model maker and the NumPy reference forward pass (probes/tinymodel.py, probes/reference.py)."""

from __future__ import annotations

import hashlib
import importlib
import json
import math
import os
import struct
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from tokenizers import Tokenizer

from mlc_devops import probes


def _load_probes() -> tuple[ModuleType, ModuleType]:
    # As when run by file path: the probes' folder first on sys.path, so reference imports its sibling.
    folder = str(Path(probes.path("tinymodel")).parent)
    sys.path.insert(0, folder)
    try:
        return importlib.import_module("tinymodel"), importlib.import_module("reference")
    finally:
        sys.path.remove(folder)


tinymodel, reference = _load_probes()

TEXTS = [
    "The engine runs it token by token.",
    "ünïcödé, emoji \N{WHITE HEAVY CHECK MARK}, tabs\tand\nnew lines, and  two spaces",
    "",
    "a <b> c </d> <sx",
]


@pytest.fixture(scope="module")
def tiny() -> dict[str, Any]:
    return dict(tinymodel.preset("tiny"))


@pytest.fixture(scope="module")
def tiny_weights(tiny: dict[str, Any]) -> dict[str, np.ndarray]:
    return dict(tinymodel.make_weights(tiny, 0))


# --- config and weights --------------------------------------------------------


def test_tiny_config_is_a_grouped_query_llama(tiny: dict[str, Any]) -> None:
    assert tiny["architectures"] == ["LlamaForCausalLM"]
    assert tiny["model_type"] == "llama"
    assert tiny["num_key_value_heads"] < tiny["num_attention_heads"]
    assert tiny["num_attention_heads"] % tiny["num_key_value_heads"] == 0
    assert tiny["head_dim"] * tiny["num_attention_heads"] == tiny["hidden_size"]
    assert tiny["tie_word_embeddings"] is False
    assert tiny["torch_dtype"] == "float32"
    for key in ("rms_norm_eps", "rope_theta", "max_position_embeddings", "bos_token_id", "eos_token_id"):
        assert key in tiny
    with pytest.raises(ValueError, match="unknown preset"):
        tinymodel.preset("7b")


def test_weights_have_the_hugging_face_names_and_torch_linear_shapes(
    tiny: dict[str, Any], tiny_weights: dict[str, np.ndarray]
) -> None:
    h, inter, d = tiny["hidden_size"], tiny["intermediate_size"], tiny["head_dim"]
    q_out, kv_out, vocab = tiny["num_attention_heads"] * d, tiny["num_key_value_heads"] * d, tiny["vocab_size"]
    want = {"model.embed_tokens.weight": (vocab, h), "model.norm.weight": (h,), "lm_head.weight": (vocab, h)}
    for i in range(tiny["num_hidden_layers"]):
        p = f"model.layers.{i}."
        want.update(
            {
                p + "input_layernorm.weight": (h,),
                p + "self_attn.q_proj.weight": (q_out, h),
                p + "self_attn.k_proj.weight": (kv_out, h),
                p + "self_attn.v_proj.weight": (kv_out, h),
                p + "self_attn.o_proj.weight": (h, q_out),
                p + "post_attention_layernorm.weight": (h,),
                p + "mlp.gate_proj.weight": (inter, h),
                p + "mlp.up_proj.weight": (inter, h),
                p + "mlp.down_proj.weight": (h, inter),
            }
        )
    assert {name: a.shape for name, a in tiny_weights.items()} == want
    assert {a.dtype for a in tiny_weights.values()} == {np.dtype(np.float32)}
    assert tinymodel.parameter_count(tiny) == sum(a.size for a in tiny_weights.values())


def test_the_1b_preset_counts_tinyllama_parameters_without_allocating() -> None:
    config = tinymodel.preset("1b")
    per_layer = (
        2 * 2048 * 2048  # q, o
        + 2 * 2048 * (4 * 64)  # k, v: 4 kv heads of 64
        + 3 * 2048 * 5632  # gate, up, down
        + 2 * 2048  # two norms
    )
    expected = 22 * per_layer + 2 * 32000 * 2048 + 2048
    assert expected == 1_100_048_384
    assert tinymodel.parameter_count(config) == expected
    assert config["torch_dtype"] == "float16"
    assert (config["num_attention_heads"], config["num_key_value_heads"], config["head_dim"]) == (32, 4, 64)


def test_same_seed_same_bytes_other_seed_other_values(
    tiny: dict[str, Any], tiny_weights: dict[str, np.ndarray]
) -> None:
    again = tinymodel.make_weights(tiny, 0)
    other = tinymodel.make_weights(tiny, 1)
    for name, array in tiny_weights.items():
        assert array.tobytes() == again[name].tobytes(), name
        assert not np.array_equal(array, other[name]), name


def test_weights_are_scaled_for_unit_activations(tiny_weights: dict[str, np.ndarray]) -> None:
    for name, array in tiny_weights.items():
        if array.ndim == 1:
            assert abs(float(array.mean()) - 1.0) < 0.02, name
            assert 0.03 < float(array.std()) < 0.07, name
        elif "embed_tokens" in name:
            assert 0.95 < float(array.std()) < 1.05
        else:
            assert abs(float(array.std()) * math.sqrt(array.shape[1]) - 1.0) < 0.05, name


def test_drawing_in_pieces_changes_no_value(monkeypatch: pytest.MonkeyPatch) -> None:
    whole = tinymodel.make_tensor("lm_head.weight", (300, 70), 3, np.float32)
    monkeypatch.setattr(tinymodel, "_CHUNK", 1000)
    assert np.array_equal(tinymodel.make_tensor("lm_head.weight", (300, 70), 3, np.float32), whole)
    half = tinymodel.make_tensor("lm_head.weight", (300, 70), 3, np.float16)
    assert half.dtype == np.float16
    assert np.array_equal(half, whole.astype(np.float16))


def test_dtypes_other_than_float32_and_float16_are_refused(tiny: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="bfloat16"):
        tinymodel.make_weights({**tiny, "torch_dtype": "bfloat16"}, 0)
    with pytest.raises(ValueError, match="seed"):
        tinymodel.make_tensor("x", (2,), -1, np.float32)
    with pytest.raises(ValueError, match="multiple"):
        tinymodel.tensor_shapes({**tiny, "num_key_value_heads": 3})


# --- safetensors -----------------------------------------------------------------


def _mixed() -> dict[str, np.ndarray]:
    return {
        "b.f32": np.arange(12, dtype=np.float32).reshape(3, 4) / 7,
        "a.f16": np.array([1.5, -2.25, 65504.0], dtype=np.float16),
        "c.i64": np.array([[-(2**40), 3]], dtype=np.int64),
        "d.u8": np.array([0, 255, 7], dtype=np.uint8),
        "e.bool": np.array([True, False]),
        "f.scalar": np.array(3.0, dtype=np.float64),
        "g.empty": np.zeros((0, 5), dtype=np.float32),
    }


def test_safetensors_round_trip(tmp_path: Path) -> None:
    tensors = _mixed()
    path = str(tmp_path / "x.safetensors")
    digest = tinymodel.write_safetensors(path, tensors, {"format": "pt"})
    assert digest == hashlib.sha256(Path(path).read_bytes()).hexdigest()
    back = tinymodel.read_safetensors(path)
    assert list(back) == sorted(tensors)
    for name, array in tensors.items():
        assert back[name].dtype == array.dtype, name
        assert back[name].shape == array.shape, name
        assert np.array_equal(back[name], array), name


def test_safetensors_layout_is_the_specs(tmp_path: Path) -> None:
    # 8-byte little-endian header length, JSON header, then the data: contiguous, little-endian, C order.
    tensors = _mixed()
    path = tmp_path / "x.safetensors"
    tinymodel.write_safetensors(str(path), tensors, {"format": "pt"})
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    assert raw[8:9] == b"{"
    assert (8 + n) % 8 == 0  # data aligned, the JSON padded with spaces
    assert header.pop("__metadata__") == {"format": "pt"}
    names = {"F32": "b.f32", "F16": "a.f16", "I64": "c.i64", "U8": "d.u8", "BOOL": "e.bool", "F64": "f.scalar"}
    for dtype, name in names.items():
        assert header[name]["dtype"] == dtype
    at = 0
    for name in sorted(header):
        begin, end = header[name]["data_offsets"]
        assert begin == at, name
        assert header[name]["shape"] == list(tensors[name].shape)
        assert raw[8 + n + begin : 8 + n + end] == tensors[name].astype(tensors[name].dtype.newbyteorder("<")).tobytes()
        at = end
    assert 8 + n + at == len(raw)


def test_a_file_written_by_hand_to_the_spec_reads(tmp_path: Path) -> None:
    data = struct.pack("<3f", 1.0, 2.0, -0.5) + struct.pack("<2e", 0.25, 8.0)
    header = {
        "w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 12]},
        "h": {"dtype": "F16", "shape": [1, 2], "data_offsets": [12, 16]},
    }
    text = json.dumps(header).encode()
    path = tmp_path / "hand.safetensors"
    path.write_bytes(struct.pack("<Q", len(text)) + text + data)
    back = tinymodel.read_safetensors(str(path))
    assert back["w"].tolist() == [1.0, 2.0, -0.5]
    assert back["h"].tolist() == [[0.25, 8.0]]


@pytest.mark.parametrize(
    ("header", "extra", "message"),
    [
        ({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}, b"\0" * 4, "cover"),
        ({"w": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}, b"\0" * 12, "hole"),
        ({"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}, b"\0" * 8, "bytes for shape"),
        ({"w": {"dtype": "Q4", "shape": [2], "data_offsets": [0, 8]}}, b"\0" * 8, "unknown dtype"),
    ],
)
def test_a_malformed_file_is_refused(tmp_path: Path, header: dict[str, Any], extra: bytes, message: str) -> None:
    text = json.dumps(header).encode()
    path = tmp_path / "bad.safetensors"
    path.write_bytes(struct.pack("<Q", len(text)) + text + extra)
    with pytest.raises(ValueError, match=message):
        tinymodel.read_safetensors(str(path))


def test_a_header_longer_than_the_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "short.safetensors"
    path.write_bytes(struct.pack("<Q", 1000) + b"{}")
    with pytest.raises(ValueError, match="past the end"):
        tinymodel.read_safetensors(str(path))
    path.write_bytes(b"{}")
    with pytest.raises(ValueError, match="shorter"):
        tinymodel.read_safetensors(str(path))


# --- tokenizer ---------------------------------------------------------------------


@pytest.mark.parametrize("merges_format", ["pairs", "strings"])
def test_the_tokenizer_loads_back_exact_size_and_round_trips(merges_format: str) -> None:
    text = tinymodel.train_tokenizer(384, merges_format)
    merges = json.loads(text)["model"]["merges"]
    assert merges
    if merges_format == "pairs":
        assert all(isinstance(m, list) and len(m) == 2 for m in merges)
    else:
        assert all(isinstance(m, str) and m.count(" ") == 1 for m in merges)
    tok = Tokenizer.from_str(text)
    assert tok.get_vocab_size() == 384
    assert tok.token_to_id("<s>") == 0
    assert tok.token_to_id("</s>") == 1
    # as in Hugging Face tokenizers, the special tokens' text is the special token; decoding skips it by default
    marked = tok.encode("<s>hi</s>").ids
    assert (marked[0], marked[-1]) == (0, 1)
    assert tok.decode(tok.encode("<s>hi").ids, skip_special_tokens=False) == "<s>hi"
    for sample in TEXTS:
        ids = tok.encode(sample).ids
        assert tok.decode(ids) == sample
        assert 0 not in ids
        assert 1 not in ids


def test_both_merges_formats_encode_alike_and_training_is_deterministic() -> None:
    pairs = Tokenizer.from_str(tinymodel.train_tokenizer(384, "pairs"))
    strings = Tokenizer.from_str(tinymodel.train_tokenizer(384, "strings"))
    for sample in TEXTS:
        assert pairs.encode(sample).ids == strings.encode(sample).ids
    assert tinymodel.train_tokenizer(384, "strings") == tinymodel.train_tokenizer(384, "strings")
    # the training text compresses: fewer tokens than bytes
    line = tinymodel.TRAINING_TEXT[0]
    assert len(pairs.encode(line).ids) < len(line.encode()) / 2


def test_a_vocabulary_beyond_the_merges_is_filled_with_tokens_no_text_reaches() -> None:
    text = tinymodel.train_tokenizer(1000, "strings")
    tok = Tokenizer.from_str(text)
    assert tok.get_vocab_size() == 1000
    vocab = json.loads(text)["model"]["vocab"]
    reserved = {i for t, i in vocab.items() if t.startswith("<reserved_")}
    assert reserved == set(range(min(reserved), 1000))
    for sample in [*TEXTS, f"<reserved_{max(reserved)}>"]:
        ids = tok.encode(sample).ids
        assert not reserved & set(ids)
        assert tok.decode(ids) == sample
    assert tok.decode([999]) == "<reserved_999>"


def test_tokenizer_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match="merges_format"):
        tinymodel.train_tokenizer(384, "lines")
    with pytest.raises(ValueError, match="vocab_size"):
        tinymodel.train_tokenizer(200, "pairs")


# --- the model directory -------------------------------------------------------------


def test_write_model_lays_out_a_hugging_face_directory(tmp_path: Path) -> None:
    out = tinymodel.write_model(str(tmp_path / "m"), "tiny", 0, "strings")
    folder = tmp_path / "m"
    assert sorted(os.listdir(folder)) == [
        "config.json",
        "model.safetensors",
        "model.safetensors.index.json",
        "tokenizer.json",
        "tokenizer_config.json",
    ]
    assert json.loads((folder / "config.json").read_text()) == tinymodel.preset("tiny")
    index = json.loads((folder / "model.safetensors.index.json").read_text())
    shapes = tinymodel.tensor_shapes(tinymodel.preset("tiny"))
    assert index["weight_map"] == dict.fromkeys(shapes, "model.safetensors")
    assert index["metadata"]["total_size"] == 4 * sum(math.prod(s) for s in shapes.values())
    assert out["weights_sha256"] == hashlib.sha256((folder / "model.safetensors").read_bytes()).hexdigest()
    assert out["parameters"] == tinymodel.parameter_count(tinymodel.preset("tiny"))
    assert out["tokenizer"] == {"vocab_size": 384, "merges": 126, "reserved": 0, "merges_format": "strings"}
    weights = tinymodel.read_safetensors(str(folder / "model.safetensors"))
    expected = tinymodel.make_weights(tinymodel.preset("tiny"), 0)
    assert all(np.array_equal(weights[n], expected[n]) for n in expected)
    assert Tokenizer.from_file(str(folder / "tokenizer.json")).get_vocab_size() == 384
    tok_config = json.loads((folder / "tokenizer_config.json").read_text())
    assert (tok_config["bos_token"], tok_config["eos_token"]) == ("<s>", "</s>")


def test_write_model_is_byte_for_byte_repeatable(tmp_path: Path) -> None:
    first = tinymodel.write_model(str(tmp_path / "a"), "tiny", 5, "pairs")
    second = tinymodel.write_model(str(tmp_path / "b"), "tiny", 5, "pairs")
    third = tinymodel.write_model(str(tmp_path / "c"), "tiny", 6, "pairs")
    for name in first["files"]:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert first["weights_sha256"] == second["weights_sha256"] != third["weights_sha256"]


def test_the_model_maker_prints_its_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = {"directory": str(tmp_path / "m"), "preset": "tiny", "seed": 2, "merges_format": "strings"}
    assert tinymodel.main(["tinymodel.py", json.dumps(args)]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["ok"] is True
    assert out["weights_sha256"] == hashlib.sha256((tmp_path / "m" / "model.safetensors").read_bytes()).hexdigest()
    assert out["files"]["model.safetensors"] == (tmp_path / "m" / "model.safetensors").stat().st_size
    assert tinymodel.main(["tinymodel.py", json.dumps({**args, "preset": "huge"})]) == 1
    assert "unknown preset" in json.loads(capsys.readouterr().out)["error"]


# --- the reference's pieces, by hand ------------------------------------------------------


def test_rms_norm_by_hand() -> None:
    x = np.array([[3.0, 4.0]], dtype=np.float32)
    got = reference.rms_norm(x, np.array([1.0, 2.0], dtype=np.float32), 0.0)
    rms = math.sqrt((9 + 16) / 2)
    assert np.allclose(got, [[3 / rms, 8 / rms]], rtol=1e-6)
    # eps is added under the root
    assert np.allclose(reference.rms_norm(np.zeros((1, 2), np.float32), np.ones(2, np.float32), 1e-5), 0.0)


def test_rotary_is_the_identity_at_position_zero_and_turns_the_two_halves() -> None:
    x = np.random.default_rng(0).standard_normal((3, 2, 8)).astype(np.float32)
    cos, sin = reference.rotary_tables(np.array([0, 0, 0]), 8, 10000.0)
    assert np.array_equal(reference.apply_rotary(x, cos, sin), x)
    # position 1, dim 4, theta 100: inv_freq [1, 0.1]; pairs (0, 2) and (1, 3) turn by 1 and 0.1 radians
    cos, sin = reference.rotary_tables(np.array([1]), 4, 100.0)
    unit = np.array([[[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0]]], dtype=np.float32)
    got = reference.apply_rotary(unit, cos, sin)
    assert np.allclose(got[0, 0], [math.cos(1), 0, math.sin(1), 0], atol=1e-7)
    assert np.allclose(got[0, 1], [0, math.cos(0.1), 0, math.sin(0.1)], atol=1e-7)
    with pytest.raises(ValueError, match="even"):
        reference.rotary_tables(np.array([0]), 5, 10000.0)


def test_rotary_scores_depend_on_the_distance_only() -> None:
    rng = np.random.default_rng(1)
    q, k = rng.standard_normal((1, 1, 16)), rng.standard_normal((1, 1, 16))

    def score(m: int, n: int) -> float:
        cq, sq = reference.rotary_tables(np.array([m]), 16, 10000.0, np.float64)
        ck, sk = reference.rotary_tables(np.array([n]), 16, 10000.0, np.float64)
        return float(np.sum(reference.apply_rotary(q, cq, sq) * reference.apply_rotary(k, ck, sk)))

    assert score(5, 2) == pytest.approx(score(13, 10), rel=1e-9)
    assert score(5, 2) != pytest.approx(score(5, 3), rel=1e-3)


def test_attention_by_hand_causal_and_grouped() -> None:
    # one head, d=2: query 1 sees keys 0 and 1, query 0 sees key 0 only
    q = np.array([[[1.0, 0.0]], [[0.0, 2.0]]])
    k = np.array([[[1.0, 1.0]], [[0.0, 1.0]]])
    v = np.array([[[10.0, 0.0]], [[0.0, 20.0]]])
    got = reference.attention(q, k, v)
    assert np.allclose(got[0, 0], [10.0, 0.0])
    s0, s1 = 2 / math.sqrt(2), 2 / math.sqrt(2)  # q1.k0 = 2, q1.k1 = 2
    p0 = math.exp(s0) / (math.exp(s0) + math.exp(s1))
    assert np.allclose(got[1, 0], [10 * p0, 20 * (1 - p0)])
    # four query heads on two kv heads: heads 0, 1 read kv head 0; heads 2, 3 read kv head 1
    q4 = np.zeros((1, 4, 2))
    k2 = np.zeros((1, 2, 2))
    v2 = np.array([[[1.0, 1.0], [7.0, 7.0]]])
    assert reference.attention(q4, k2, v2)[0, :, 0].tolist() == [1.0, 1.0, 7.0, 7.0]
    with pytest.raises(ValueError, match="does not fit"):
        reference.attention(np.zeros((1, 3, 2)), k2, v2)


def test_silu_and_softmax() -> None:
    x = np.array([-200.0, -1.0, 0.0, 2.0], dtype=np.float32)
    want = [v / (1 + math.exp(-v)) if v > -100 else 0.0 for v in x.tolist()]
    assert np.allclose(reference.silu(x), want, rtol=1e-6, atol=1e-30)
    logits = np.array([1.0, 2.0, 3.0])
    assert np.allclose(np.exp(reference.log_softmax(logits)), reference.softmax(logits))
    assert reference.softmax(np.array([0.0, -np.inf])).tolist() == [1.0, 0.0]


def _one_layer() -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    # hidden 2, one head of 2, one kv head, intermediate 1, vocab 3, eps 0: small enough to compute with math.
    config = {
        "hidden_size": 2,
        "intermediate_size": 1,
        "num_attention_heads": 1,
        "num_key_value_heads": 1,
        "num_hidden_layers": 1,
        "vocab_size": 3,
        "rms_norm_eps": 0.0,
        "rope_theta": 10000.0,
    }
    f = np.float32
    weights = {
        "model.embed_tokens.weight": np.array([[3.0, 4.0], [1.0, -1.0], [0.5, 2.0]], f),
        "model.layers.0.input_layernorm.weight": np.array([1.0, 1.0], f),
        "model.layers.0.self_attn.q_proj.weight": np.array([[1.0, 0.0], [0.0, 1.0]], f),
        "model.layers.0.self_attn.k_proj.weight": np.array([[1.0, 0.0], [0.0, 1.0]], f),
        "model.layers.0.self_attn.v_proj.weight": np.array([[1.0, 0.0], [0.0, 1.0]], f),
        "model.layers.0.self_attn.o_proj.weight": np.array([[1.0, 0.0], [0.0, 1.0]], f),
        "model.layers.0.post_attention_layernorm.weight": np.array([1.0, 1.0], f),
        "model.layers.0.mlp.gate_proj.weight": np.array([[1.0, 0.0]], f),
        "model.layers.0.mlp.up_proj.weight": np.array([[0.0, 1.0]], f),
        "model.layers.0.mlp.down_proj.weight": np.array([[1.0], [0.0]], f),
        "model.norm.weight": np.array([1.0, 2.0], f),
        "lm_head.weight": np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], f),
    }
    return config, weights


def _norm(v: list[float]) -> list[float]:
    rms = math.sqrt(sum(x * x for x in v) / len(v))
    return [x / rms for x in v]


def test_a_one_layer_model_by_hand() -> None:
    config, weights = _one_layer()
    e0, e1 = [3.0, 4.0], [1.0, -1.0]
    n0, n1 = _norm(e0), _norm(e1)  # q, k, v are the normed inputs (identity projections)
    # position 0: no turn; position 1: head_dim 2, inv_freq [1], the pair (0, 1) turns by 1 radian
    c, s = math.cos(1.0), math.sin(1.0)
    q1 = [n1[0] * c - n1[1] * s, n1[1] * c + n1[0] * s]
    k0, k1 = n0, q1
    scores = [(q1[0] * k[0] + q1[1] * k[1]) / math.sqrt(2) for k in (k0, k1)]
    p = [math.exp(x) / sum(math.exp(y) for y in scores) for x in scores]
    attn1 = [p[0] * n0[i] + p[1] * n1[i] for i in range(2)]
    h1 = [e1[i] + attn1[i] for i in range(2)]
    x = _norm(h1)
    h2 = [h1[0] + x[0] / (1 + math.exp(-x[0])) * x[1], h1[1]]
    final = [a * w for a, w in zip(_norm(h2), [1.0, 2.0])]
    want_last = [final[0], final[1], final[0] + final[1]]
    # position 0 alone: attention returns its own value
    h0 = [e0[i] + n0[i] for i in range(2)]
    x0 = _norm(h0)
    g0 = [h0[0] + x0[0] / (1 + math.exp(-x0[0])) * x0[1], h0[1]]
    f0 = [a * w for a, w in zip(_norm(g0), [1.0, 2.0])]
    want_first = [f0[0], f0[1], f0[0] + f0[1]]
    got = reference.forward(weights, config, [0, 1])
    assert got.shape == (2, 3)
    assert got.dtype == np.float32
    assert np.allclose(got[0], want_first, rtol=1e-5, atol=1e-6)
    assert np.allclose(got[1], want_last, rtol=1e-5, atol=1e-6)


def test_later_tokens_do_not_change_earlier_logits(tiny: dict[str, Any], tiny_weights: dict[str, np.ndarray]) -> None:
    a = reference.forward(tiny_weights, tiny, [5, 9, 40, 41, 42])
    b = reference.forward(tiny_weights, tiny, [5, 9, 40, 300, 7])
    assert np.array_equal(a[:3], b[:3])
    assert not np.allclose(a[3:], b[3:], atol=1e-2)
    with pytest.raises(ValueError, match="token ids"):
        reference.forward(tiny_weights, tiny, [384])


def test_float32_rounding_stays_far_under_the_tolerance(
    tiny: dict[str, Any], tiny_weights: dict[str, np.ndarray]
) -> None:
    ids = list(range(2, 40, 3))
    single = reference.forward(tiny_weights, tiny, ids)
    double = reference.forward(tiny_weights, tiny, ids, dtype=np.float64)
    assert 0.8 < float(double.std()) < 1.2  # logits of unit scale, as the tolerance assumes
    assert float(np.max(np.abs(single - double))) < 1e-5
    assert reference.ATOL >= 10 * 1e-5
    # weights rounded to float16 are not float32: over ten times the tolerance
    half = {n: w.astype(np.float16) for n, w in tiny_weights.items()}
    assert float(np.max(np.abs(reference.forward(half, tiny, ids, dtype=np.float64) - double))) > 10 * reference.ATOL


def test_greedy_is_deterministic_and_its_cache_matches_recomputing(
    tiny: dict[str, Any], tiny_weights: dict[str, np.ndarray]
) -> None:
    prompt = [307, 222, 264, 72]
    tokens, first = reference.greedy(tiny_weights, tiny, prompt, 16)
    again, first_again = reference.greedy(tiny_weights, tiny, prompt, 16)
    assert tokens == again
    assert np.array_equal(first, first_again)
    assert len(tokens) == 16
    assert first.shape == (384,)
    full = reference.forward(tiny_weights, tiny, prompt + tokens)
    assert np.allclose(full[len(prompt) - 1], first, atol=1e-5)
    assert [int(np.argmax(row)) for row in full[len(prompt) - 1 : -1]] == tokens
    with pytest.raises(ValueError, match="steps"):
        reference.greedy(tiny_weights, tiny, prompt, 0)


# --- compare ---------------------------------------------------------------------------


def test_compare_passes_a_run_equal_to_the_reference() -> None:
    ref = np.linspace(-3, 3, 10)
    result = reference.compare([4, 5, 6], ref, [4, 5, 6], (ref + 5e-5).tolist())
    assert result["ok"] is True
    assert result["first_divergence"] is None
    assert result["matching_steps"] == 3
    assert result["max_abs_diff"] == pytest.approx(5e-5)
    assert result["compared"] == 10


def test_compare_names_the_first_diverging_step_and_the_largest_difference() -> None:
    ref = np.linspace(-3, 3, 10)
    got = ref.copy()
    got[7] += 0.01
    got[2] -= 0.002
    result = reference.compare([4, 5, 6, 7, 8], ref, [4, 5, 6, 1, 8], got.tolist())
    assert result["ok"] is False
    assert result["tokens_ok"] is False
    assert result["first_divergence"] == {"step": 3, "reference": 7, "got": 1}
    assert result["matching_steps"] == 3
    assert result["logits_ok"] is False
    assert result["max_abs_diff_id"] == 7
    assert result["max_abs_diff"] == pytest.approx(0.01)
    short = reference.compare([4, 5, 6], ref, [4], ref.tolist())
    assert short["first_divergence"] == {"step": 1, "reference": 5, "got": None}


def test_compare_takes_some_ids_and_log_probabilities() -> None:
    ref = np.array([0.5, 2.0, -1.0, 1.0])
    logprobs = reference.log_softmax(ref)
    top = {"1": float(logprobs[1]), "3": float(logprobs[3])}  # JSON keys are strings
    result = reference.compare([1], ref, [1], top, space="logprobs")
    assert result["ok"] is True
    assert result["compared"] == 2
    assert reference.compare([1], ref, [1], {1: 2.0, 3: 1.0})["ok"] is True
    assert reference.compare([1], ref, [1], {1: 2.0, 3: 1.0}, space="logprobs")["ok"] is False
    nan = reference.compare([1], ref, [1], [0.5, float("nan"), -1.0, 1.0])
    assert (nan["ok"], nan["nonfinite"], nan["max_abs_diff"]) == (False, 1, 0.0)
    with pytest.raises(ValueError, match="vocabulary"):
        reference.compare([1], ref, [1], [1.0, 2.0])
    with pytest.raises(ValueError, match="outside"):
        reference.compare([1], ref, [1], {9: 1.0})
    with pytest.raises(ValueError, match="space"):
        reference.compare([1], ref, [1], ref.tolist(), space="probs")


def test_the_reference_reads_a_model_directory_and_compares(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = str(tmp_path / "m")
    tinymodel.write_model(folder, "tiny", 0, "strings")
    args = {"model": folder, "prompt": [307, 222, 264, 72], "steps": 16, "top_k": 5}
    assert reference.main(["reference.py", json.dumps(args)]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    tokens, first = reference.greedy(
        tinymodel.make_weights(tinymodel.preset("tiny"), 0), tinymodel.preset("tiny"), args["prompt"], 16
    )
    assert out["tokens"] == tokens
    assert np.array_equal(np.array(out["first_logits"], dtype=np.float32), first)
    assert [t["id"] for t in out["first_top"]] == [int(i) for i in np.argsort(-first, kind="stable")[:5]]
    tok = Tokenizer.from_file(str(tmp_path / "m" / "tokenizer.json"))
    for top in out["first_top"]:  # the token's bytes, as an engine's logprobs name them
        decoded = tok.decode([top["id"]])
        if "\ufffd" not in decoded:
            assert bytes(top["bytes"]) == decoded.encode()
    same = {**args, "got": {"tokens": out["tokens"], "first_logits": out["first_logits"]}}
    assert reference.main(["reference.py", json.dumps(same)]) == 0
    assert json.loads(capsys.readouterr().out)["compare"]["ok"] is True
    wrong = {
        **args,
        "got": {"tokens": [*out["tokens"][:5], (out["tokens"][5] + 1) % 384], "first_logits": out["first_logits"]},
    }
    assert reference.main(["reference.py", json.dumps(wrong)]) == 1
    result = json.loads(capsys.readouterr().out)["compare"]
    assert result["first_divergence"]["step"] == 5
    assert reference.main(["reference.py", json.dumps({**args, "model": str(tmp_path / "none")})]) == 1
    assert json.loads(capsys.readouterr().out)["ok"] is False
