"""Shared by the probes: which shared libraries are in this process, and loading one more without duplicates.

Standard library only; imported by the probes next to it as a sibling module
(the probe's directory is first on ``sys.path`` when it runs by file path).
"""

from __future__ import annotations

import ctypes
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


def load_all(paths: list[str], base: str) -> dict[str, list[dict[str, str]]]:
    """Load each library in ``paths`` unless it (or one of its name) is already in the process.

    Retries in rounds so that order does not matter. Returns ``loaded``,
    ``present`` (already loaded, by the import or as a dependency), ``skipped``
    (another copy of that name is loaded: never load a second copy) and
    ``failed``, each a list of ``{"path": relative to base, ...}``.
    """
    out: dict[str, list[dict[str, str]]] = {"loaded": [], "present": [], "skipped": [], "failed": []}
    pending = list(paths)
    errors: dict[str, str] = {}
    progress = True
    while pending and progress:
        progress = False
        for path in list(pending):
            rel = os.path.relpath(path, base)
            present = loaded_libraries()
            name = os.path.basename(path)
            if os.path.realpath(path) in present.values():
                out["present"].append({"path": rel})
            elif name in present:
                out["skipped"].append({"path": rel, "loaded_from": present[name]})
            else:
                try:
                    if hasattr(os, "add_dll_directory"):
                        os.add_dll_directory(os.path.dirname(path))
                    ctypes.CDLL(path, mode=getattr(ctypes, "RTLD_GLOBAL", 0))
                except OSError as exc:
                    errors[path] = str(exc).replace(base + os.sep, "")
                    continue
                out["loaded"].append({"path": rel})
            pending.remove(path)
            progress = True
    out["failed"] = [{"path": os.path.relpath(p, base), "error": errors.get(p, "")} for p in pending]
    return out


def site_dir() -> str:
    """Where this environment installs a platform wheel (platlib)."""
    import sysconfig  # noqa: PLC0415

    return sysconfig.get_paths()["platlib"]


def python_version() -> str:
    return sys.version.split()[0]
