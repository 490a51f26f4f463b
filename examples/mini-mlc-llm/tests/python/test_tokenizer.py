"""Tokenizer round trips through the native (Rust) tokenizer."""
import os

import pytest

import mlc_llm
from mlc_llm.tokenizers import Tokenizer

pytestmark = pytest.mark.unittest

DATA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
TOKENIZER_JSON = os.path.join(DATA_DIR, "tokenizer.json")


@pytest.fixture(name="tokenizer")
def fixture_tokenizer():
    return Tokenizer(TOKENIZER_JSON)


def test_ascii_roundtrip(tokenizer):
    text = "Hello, MLC-LLM!"
    ids = tokenizer.encode(text)
    assert ids[:2] == [ord("H") + 3, ord("e") + 3]
    assert len(ids) == len(text)
    assert tokenizer.decode(ids) == text


@pytest.mark.parametrize("text", ["héllo wörld", "日本語のテキスト", "emoji 🚀✨", ""])
def test_non_ascii_roundtrip(tokenizer, text):
    ids = tokenizer.encode(text)
    assert len(ids) == len(text.encode("utf-8"))
    assert all(3 <= i < tokenizer.vocab_size for i in ids)
    assert tokenizer.decode(ids) == text


def test_special_ids_are_skipped(tokenizer):
    assert tokenizer.decode([1] + tokenizer.encode("ok") + [2, 0]) == "ok"


def test_native_roundtrip():
    assert mlc_llm.tokenize_roundtrip("round trip ü") == "round trip ü"


def test_directory_path():
    assert Tokenizer(DATA_DIR).path == TOKENIZER_JSON


def test_missing_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        Tokenizer(tmp_path / "nope")
