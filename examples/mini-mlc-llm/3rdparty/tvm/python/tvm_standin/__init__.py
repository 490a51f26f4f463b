"""STAND-IN for apache-tvm's ``tvm`` package (named apart, so the two never clash).

It loads the runtime library and nothing more: the stand-in has no compiler and
cannot compile or run a model. Like upstream's ``tvm``, it imports the tvm-ffi
package first, which loads ``libtvm_ffi`` that ``libtvm_runtime`` NEEDs.
"""
import ctypes

import tvm_ffi_standin  # noqa: F401

from . import libinfo

__version__ = libinfo.__version__

_LIB_PATH = libinfo.find_lib_path("tvm_runtime")[0]
_LIB = ctypes.CDLL(_LIB_PATH, getattr(ctypes, "RTLD_GLOBAL", 0))
_LIB.tvm_standin_version.restype = ctypes.c_char_p


def runtime_path():
    """Path of the loaded libtvm_runtime."""
    return _LIB_PATH


def runtime_version():
    """Version string compiled into libtvm_runtime."""
    return _LIB.tvm_standin_version().decode("utf-8")
