"""Locate the stand-in TVM's native library, as upstream's ``tvm/_ffi/libinfo.py`` does.

``TVM_LIBRARY_PATH`` first (what python/setup.py is given to package a CMake
build), then the package folder (setup.py copies the library there) and its
``lib/`` (scikit-build-core installs it there). Also executed standalone by
python/setup.py, so it uses the standard library only.
"""
import os
import sys

__version__ = "0.1.0"


def lib_file_name(name):
    """Platform specific file name of the shared library ``name``."""
    if sys.platform.startswith("win32"):
        return f"{name}.dll"
    if sys.platform.startswith("darwin"):
        return f"lib{name}.dylib"
    return f"lib{name}.so"


def get_dll_directories():
    """Folders searched for the library, in order."""
    here = os.path.dirname(os.path.realpath(os.path.expanduser(__file__)))
    dirs = [os.environ["TVM_LIBRARY_PATH"]] if os.environ.get("TVM_LIBRARY_PATH") else []
    dirs += [here, os.path.join(here, "lib"), os.path.join(here, "bin")]
    return [d for d in dirs if os.path.isdir(d)]


def find_lib_path(name="tvm_runtime"):
    """Existing paths of the library ``name``, best first; RuntimeError naming the candidates when none."""
    candidates = [os.path.join(d, lib_file_name(name)) for d in get_dll_directories()]
    found = [p for p in candidates if os.path.isfile(p)]
    if not found:
        raise RuntimeError(f"Cannot find {lib_file_name(name)}; searched: {', '.join(candidates) or 'nothing'}")
    return found
