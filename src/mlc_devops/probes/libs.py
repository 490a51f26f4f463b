"""Shared by the probes: which shared libraries are in this process, and loading one library.

Standard library only; imported by the probes next to it as a sibling module
(the probe's directory is first on ``sys.path`` when it runs by file path).
"""

from __future__ import annotations

import ctypes
import importlib
import os
import sys


def loaded_libraries() -> dict[str, str]:
    """File name -> real path of each shared library mapped into this process (Linux: /proc/self/maps).

    Empty where /proc is missing (macOS, Windows): there nothing is known loaded.
    """
    out: dict[str, str] = {}
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as maps:
            for line in maps:
                parts = line.split(None, 5)
                if len(parts) == 6 and parts[5].startswith("/"):
                    path = parts[5].strip()
                    name = os.path.basename(path)
                    if ".so" in name or name.endswith((".dylib", ".dll")):
                        out.setdefault(name, os.path.realpath(path))
    except OSError:
        pass
    return out


def outside(prefix: str) -> list[str]:
    """The files a check depends on beyond the environment at ``prefix``: real paths of the shared
    libraries in this process that live elsewhere (libc, libstdc++, the interpreter's modules) and of
    the interpreter itself, sorted; empty where the process's libraries cannot be listed (no /proc)."""
    present = loaded_libraries()
    if not present:
        return []
    root = os.path.realpath(prefix) + os.sep
    return sorted({p for p in present.values() if not p.startswith(root)} | {os.path.realpath(sys.executable)})


def import_all(modules: list[str]) -> dict[str, str]:
    """Import each module; module -> "ok" or the error, whatever it is."""
    out = {}
    for module in modules:
        try:
            importlib.import_module(module)
            out[module] = "ok"
        except Exception as exc:
            out[module] = f"{type(exc).__name__}: {exc}"
    return out


def under(base: str) -> list[str]:
    """The libraries in this process that live under ``base`` (site-packages), relative to it, sorted."""
    root = os.path.realpath(base) + os.sep
    return sorted(os.path.relpath(p, root) for p in loaded_libraries().values() if p.startswith(root))


def load_one(path: str) -> tuple[str, str]:
    """Load ``path`` unless a library of its name is already in the process.

    Returns ``(status, detail)``: "loaded", "present" (this very file is in the
    process), "skipped" (another file of that name is: its path) or "failed"
    (the loader's error).
    """
    present = loaded_libraries()
    name = os.path.basename(path)
    if os.path.realpath(path) in present.values():
        return "present", ""
    if name in present:
        return "skipped", present[name]
    try:
        if hasattr(os, "add_dll_directory"):
            os.add_dll_directory(os.path.dirname(path))
        ctypes.CDLL(path, mode=getattr(ctypes, "RTLD_GLOBAL", 0))
    except OSError as exc:
        return "failed", str(exc)
    return "loaded", ""


def site_dir() -> str:
    """Where this environment installs a platform wheel (platlib)."""
    import sysconfig  # noqa: PLC0415

    return sysconfig.get_paths()["platlib"]


def python_version() -> str:
    return sys.version.split()[0]
