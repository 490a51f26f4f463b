"""Locate the native libraries of the (stand-in) MLC-LLM package.

Modelled on upstream ``mlc_llm/libinfo.py``. This file is also executed
standalone by ``python/setup.py`` (without importing the package), so it must
only depend on the standard library.
"""
import os
import sys

# Upstream's shape (measured 2026-11-29): libinfo says 0.1.dev0 while the
# root pyproject.toml says 0.20.0.dev0. Here: 0.0.1.dev0 against 0.1.0.dev0.
__version__ = "0.0.1.dev0"

MLC_LIBRARY_PATH = os.environ.get("MLC_LIBRARY_PATH", None)


def get_env_paths(env_var, splitter):
    """Return the existing entries of a PATH-like environment variable."""
    value = os.environ.get(env_var, "")
    return [p.strip() for p in value.split(splitter) if p.strip()]


def get_dll_directories():
    """Directories searched for the native libraries, in order."""
    curr_dir = os.path.dirname(os.path.realpath(os.path.expanduser(__file__)))
    source_dir = os.path.abspath(os.path.join(curr_dir, "..", ".."))
    dll_path = [
        curr_dir,  # legacy layout: setup.py copies the libraries here
        os.path.join(curr_dir, "lib"),  # scikit-build-core wheel (Unix)
        os.path.join(curr_dir, "bin"),  # scikit-build-core wheel (Windows DLLs)
        os.path.join(source_dir, "build"),  # source checkout
        os.path.join(source_dir, "build", "Release"),  # multi-config generators
    ]
    if MLC_LIBRARY_PATH:
        dll_path.append(MLC_LIBRARY_PATH)
    if sys.platform.startswith("linux") or sys.platform.startswith("freebsd"):
        dll_path.extend(get_env_paths("LD_LIBRARY_PATH", ":"))
    elif sys.platform.startswith("darwin"):
        dll_path.extend(get_env_paths("DYLD_LIBRARY_PATH", ":"))
    elif sys.platform.startswith("win32"):
        dll_path.extend(get_env_paths("PATH", ";"))
    result = []
    for path in dll_path:
        path = os.path.abspath(path)
        if os.path.isdir(path) and path not in result:
            result.append(path)
    return result


def lib_file_name(name):
    """Platform specific file name of the shared library ``name``."""
    if sys.platform.startswith("win32"):
        return f"{name}.dll"
    if sys.platform.startswith("darwin"):
        return f"lib{name}.dylib"
    return f"lib{name}.so"  # linux, freebsd


def find_lib_path(name, optional=False):
    """Find the shared library ``name`` (e.g. "mlc_llm", "tvm_runtime").

    Returns the list of existing paths, best first. Raises RuntimeError listing
    every candidate when nothing is found, unless ``optional`` is true (then
    returns None).
    """
    dll_dirs = get_dll_directories()
    candidates = [os.path.join(d, lib_file_name(name)) for d in dll_dirs]
    found = [p for p in candidates if os.path.isfile(p)]
    if not found:
        if optional:
            return None
        message = (
            f"Cannot find library {lib_file_name(name)}; searched:\n  "
            + "\n  ".join(candidates or ["(no existing search directory)"])
            + "\nBuild it with CMake or set MLC_LIBRARY_PATH."
        )
        raise RuntimeError(message)
    if sys.platform.startswith("win32") and hasattr(os, "add_dll_directory"):
        for path in found:
            os.add_dll_directory(os.path.dirname(path))
    return found
