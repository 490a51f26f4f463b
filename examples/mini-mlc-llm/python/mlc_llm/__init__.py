"""STAND-IN for the MLC-LLM Python package (not MLC-LLM itself).

Importing the package loads the native libraries found by ``libinfo``:
libtvm_runtime first (RTLD_GLOBAL), then libmlc_llm.
"""
from . import libinfo
from .base import backends, lib_path, native_version, tokenize_roundtrip, tvm_lib_path
from .tokenizers import Tokenizer

__version__ = libinfo.__version__

__all__ = [
    "__version__",
    "backends",
    "lib_path",
    "native_version",
    "tokenize_roundtrip",
    "tvm_lib_path",
    "Tokenizer",
]
