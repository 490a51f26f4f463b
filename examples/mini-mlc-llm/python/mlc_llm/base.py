"""Load the native libraries (tvm_runtime first, globally, then mlc_llm)."""
import ctypes
import os
import sys

# Like upstream (through tvm): tvm_ffi(_standin) loads libtvm_ffi, which libtvm_runtime
# and libmlc_llm NEED and which this wheel does not ship.
import tvm_ffi_standin  # noqa: F401

from . import libinfo


def _cdll(path, global_symbols=False):
    if sys.platform.startswith("win32"):
        return ctypes.CDLL(path, winmode=0)
    return ctypes.CDLL(path, ctypes.RTLD_GLOBAL if global_symbols else ctypes.RTLD_LOCAL)


def _tvm_package():
    """The stand-in TVM package when it is installed (the TVM wheel of the pair), else None."""
    try:
        import tvm_standin  # pylint: disable=import-outside-toplevel
    except ImportError:
        return None
    return tvm_standin


def _load_libs():
    """Load tvm_runtime (RTLD_GLOBAL) and then mlc_llm.

    Like upstream, which imports ``tvm`` first: with the TVM wheel installed, its
    libtvm_runtime is the process's, and libmlc_llm's NEEDED libtvm_runtime.so
    resolves to it by SONAME; the copy in this wheel stays unused (measured on
    upstream 79d603f0 with apache-tvm: the process ran apache-tvm's). Without it,
    tvm_runtime is taken from libmlc_llm's own directory when it is there.
    """
    mlc_path = libinfo.find_lib_path("mlc_llm")[0]
    tvm = _tvm_package()
    if tvm is not None:
        return tvm._LIB, tvm.runtime_path(), _cdll(mlc_path), mlc_path  # pylint: disable=protected-access
    sibling = os.path.join(os.path.dirname(mlc_path), libinfo.lib_file_name("tvm_runtime"))
    tvm_path = sibling if os.path.isfile(sibling) else libinfo.find_lib_path("tvm_runtime")[0]
    tvm_lib = _cdll(tvm_path, global_symbols=True)
    return tvm_lib, tvm_path, _cdll(mlc_path), mlc_path


_TVM_LIB, _TVM_LIB_PATH, _LIB, _MLC_LIB_PATH = _load_libs()

_LIB.mlc_llm_version.restype = ctypes.c_char_p
_LIB.mlc_llm_version.argtypes = []
_LIB.mlc_llm_backends.restype = ctypes.c_char_p
_LIB.mlc_llm_backends.argtypes = []
_LIB.mlc_llm_encode.restype = ctypes.c_size_t
_LIB.mlc_llm_encode.argtypes = [
    ctypes.c_char_p,
    ctypes.c_size_t,
    ctypes.POINTER(ctypes.c_uint32),
    ctypes.c_size_t,
]
_LIB.mlc_llm_decode.restype = ctypes.c_size_t
_LIB.mlc_llm_decode.argtypes = [
    ctypes.POINTER(ctypes.c_uint32),
    ctypes.c_size_t,
    ctypes.c_char_p,
    ctypes.c_size_t,
]
_LIB.mlc_llm_tokenize_roundtrip.restype = ctypes.c_int
_LIB.mlc_llm_tokenize_roundtrip.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_size_t]


def lib_path():
    """Path of the loaded libmlc_llm."""
    return _MLC_LIB_PATH


def tvm_lib_path():
    """Path of the loaded libtvm_runtime."""
    return _TVM_LIB_PATH


def native_version():
    """Version string compiled into libmlc_llm."""
    return _LIB.mlc_llm_version().decode("utf-8")


def backends():
    """Backends compiled into the TVM runtime, e.g. ["cpu", "vulkan"]."""
    return _LIB.mlc_llm_backends().decode("utf-8").split(",")


def tokenize_roundtrip(text):
    """Encode and decode ``text`` in native code (mlc_llm_tokenize_roundtrip)."""
    data = text.encode("utf-8")
    buf = ctypes.create_string_buffer(len(data) + 1)
    status = _LIB.mlc_llm_tokenize_roundtrip(data, buf, len(buf))
    if status < 0:
        raise RuntimeError(f"mlc_llm_tokenize_roundtrip failed with status {status}")
    return buf.raw[:status].decode("utf-8")
