"""Byte-level tokenizer backed by the Rust crate in 3rdparty/tokenizers-cpp.

Ids 0, 1, 2 are ``<pad>``, ``<bos>``, ``<eos>``; byte ``b`` of the UTF-8 text
is id ``b + 3``. ``encode`` never emits special ids; ``decode`` drops them.
"""
import ctypes
import json
import os
from typing import List, Sequence, Union

from .base import _LIB

#: ``model.type`` a tokenizer.json must declare to be accepted.
MODEL_TYPE = "mlc-standin-byte"
NUM_SPECIAL_IDS = 3


class Tokenizer:
    """Tokenizer loaded from a tokenizer.json file or a directory holding one."""

    def __init__(self, path: Union[str, os.PathLike]) -> None:
        path = os.fspath(path)
        if os.path.isdir(path):
            path = os.path.join(path, "tokenizer.json")
        if not os.path.isfile(path):
            raise FileNotFoundError(
                f"Tokenizer path {path!r} does not exist: pass a tokenizer.json file "
                "or a directory containing one"
            )
        with open(path, encoding="utf-8") as f:
            try:
                config = json.load(f)
            except json.JSONDecodeError as err:
                raise ValueError(f"{path} is not valid JSON: {err}") from err
        model_type = (config.get("model") or {}).get("type") if isinstance(config, dict) else None
        if model_type != MODEL_TYPE:
            raise ValueError(f"{path}: model.type is {model_type!r}, expected {MODEL_TYPE!r}")
        self.path = path
        self.config = config

    def encode(self, text: str) -> List[int]:
        """Token ids of ``text``."""
        data = text.encode("utf-8")
        needed = _LIB.mlc_llm_encode(data, len(data), None, 0)
        ids = (ctypes.c_uint32 * needed)()
        _LIB.mlc_llm_encode(data, len(data), ids, needed)
        return list(ids)

    def decode(self, ids: Sequence[int]) -> str:
        """Text of ``ids`` (special ids are skipped)."""
        arr = (ctypes.c_uint32 * len(ids))(*ids)
        needed = _LIB.mlc_llm_decode(arr, len(ids), None, 0)
        buf = ctypes.create_string_buffer(needed)
        _LIB.mlc_llm_decode(arr, len(ids), buf, needed)
        return buf.raw[:needed].decode("utf-8", errors="replace")

    @property
    def vocab_size(self) -> int:
        """Number of ids: the special ids plus one per byte value."""
        return NUM_SPECIAL_IDS + 256
