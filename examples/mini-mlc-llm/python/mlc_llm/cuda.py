"""CUDA helpers; usable only when the libraries were built with USE_CUDA=ON."""
import ctypes
from typing import List, Sequence

from .base import _LIB, _TVM_LIB

# Status codes of mlc_llm_cuda_saxpy (TVM_STANDIN_CUDA_* in c_runtime_api.h).
OK = 0
ERROR_INVALID_ARGUMENT = 1
ERROR_NO_DEVICE = 2
ERROR_NO_KERNEL_IMAGE = 3
ERROR_OUT_OF_MEMORY = 4
ERROR_OTHER = 5

if hasattr(_LIB, "mlc_llm_cuda_saxpy"):
    _LIB.mlc_llm_cuda_saxpy.restype = ctypes.c_int
    _LIB.mlc_llm_cuda_saxpy.argtypes = [
        ctypes.POINTER(ctypes.c_float),
        ctypes.POINTER(ctypes.c_float),
        ctypes.c_float,
        ctypes.POINTER(ctypes.c_float),
        ctypes.c_int,
    ]
    _LIB.mlc_llm_cuda_error_string.restype = ctypes.c_char_p
    _LIB.mlc_llm_cuda_error_string.argtypes = [ctypes.c_int]
if hasattr(_TVM_LIB, "tvm_standin_cuda_last_error_name"):
    _TVM_LIB.tvm_standin_cuda_last_error_name.restype = ctypes.c_char_p
    _TVM_LIB.tvm_standin_cuda_last_error_name.argtypes = []


def available() -> bool:
    """True when libmlc_llm was built with USE_CUDA=ON (a GPU may still be absent)."""
    return hasattr(_LIB, "mlc_llm_cuda_saxpy")


class CUDAError(RuntimeError):
    """Raised by saxpy; ``status`` holds the native status code."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def saxpy(a: Sequence[float], b: Sequence[float], x: float) -> List[float]:
    """Return ``[a[i] * x + b[i]]`` computed by the CUDA kernel (float32)."""
    if not available():
        raise RuntimeError("mlc_llm was built without CUDA (set USE_CUDA ON in config.cmake)")
    if len(a) != len(b):
        raise ValueError(f"length mismatch: len(a)={len(a)}, len(b)={len(b)}")
    n = len(a)
    arr_a = (ctypes.c_float * n)(*a)
    arr_b = (ctypes.c_float * n)(*b)
    out = (ctypes.c_float * n)()
    status = _LIB.mlc_llm_cuda_saxpy(arr_a, arr_b, x, out, n)
    if status != OK:
        message = _LIB.mlc_llm_cuda_error_string(status).decode("utf-8")
        if hasattr(_TVM_LIB, "tvm_standin_cuda_last_error_name"):
            message += f" [{_TVM_LIB.tvm_standin_cuda_last_error_name().decode('utf-8')}]"
        raise CUDAError(status, f"CUDA saxpy failed with status {status}: {message}")
    return list(out)
