"""Validation's load check, inside a clean environment holding the wheel and its library providers.

Imports each provider's modules (``import tvm_ffi`` loads libtvm_ffi as users
get it), then the package itself as users do, then loads whatever library of
the wheel is not in the process yet, never a second copy of one that is.
Argument: JSON ``{"providers": [module, ...], "package": name, "libraries":
[path relative to site-packages, ...]}``. Prints one JSON object.
"""

from __future__ import annotations

import importlib
import json
import os
import sys

import libs  # type: ignore[import-not-found]  # the sibling module, first on sys.path


def main(argv: list[str]) -> int:
    spec = json.loads(argv[1])
    out: dict[str, object] = {"python": libs.python_version()}
    providers: dict[str, str] = {}
    for module in spec["providers"]:
        try:
            importlib.import_module(module)
            providers[module] = "ok"
        except Exception as exc:
            providers[module] = f"{type(exc).__name__}: {exc}"
    out["providers"] = providers
    try:
        pkg = importlib.import_module(spec["package"])
        out["import"] = {"ok": True, "version": getattr(pkg, "__version__", None)}
    except ModuleNotFoundError as exc:
        out["import"] = {"ok": False, "error": f"ModuleNotFoundError: {exc}", "missing_module": exc.name}
    except Exception as exc:
        out["import"] = {"ok": False, "error": f"{type(exc).__name__}: {exc}", "oserror": isinstance(exc, OSError)}
    base = libs.site_dir()
    out.update(libs.load_all([os.path.join(base, p) for p in spec["libraries"]], base))
    print(json.dumps(out))
    return 1 if out["failed"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
