"""STAND-IN for apache-tvm-ffi's ``tvm_ffi`` package (named apart, so the two never clash).

Importing it loads ``lib/libtvm_ffi`` into the process, as the real package
does, so that libraries which NEED it (libtvm_runtime, libmlc_llm) resolve it.
"""
import ctypes
import os
import sys

__version__ = "0.1.0"


def _lib_name():
    if sys.platform.startswith("win32"):
        return "tvm_ffi.dll"
    if sys.platform.startswith("darwin"):
        return "libtvm_ffi.dylib"
    return "libtvm_ffi.so"


_HERE = os.path.dirname(os.path.abspath(__file__))
_SUB = "bin" if sys.platform.startswith("win32") else "lib"
LIB_PATH = os.path.join(_HERE, _SUB, _lib_name())
_LIB = ctypes.CDLL(LIB_PATH, mode=getattr(ctypes, "RTLD_GLOBAL", 0))
_LIB.TVMFFIStandinABIVersion.restype = ctypes.c_int


def abi_version():
    """ABI version reported by the loaded libtvm_ffi."""
    return _LIB.TVMFFIStandinABIVersion()
