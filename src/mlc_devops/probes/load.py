"""Load checks inside a clean environment that holds the wheel and the packages providing its libraries.

Two modes, one process each, so that libraries which are alternatives of one
another (upstream's libmlc_llm.so and libmlc_llm_module.so register the same
global functions, and abort when both are in one process) never meet:

- ``import SPEC``: import the providers (``import tvm_ffi`` loads libtvm_ffi as
  users get it), then the package as users do; report what that loaded.
  SPEC: ``{"providers": [module], "package": name}``.
- ``library SPEC``: import the providers, load the libraries the one under
  test needs from elsewhere in the wheel, then that library.
  SPEC: ``{"providers": [module], "preload": [path], "library": path}``,
  paths relative to site-packages.

Prints one JSON object; ``outside`` in it names the files beyond the environment that the
process had mapped (the interpreter, libc, ...), which a reused check must find unchanged.
"""

from __future__ import annotations

import importlib
import json
import os
import sys

import libs  # type: ignore[import-not-found]  # the sibling module, first on sys.path


def check_import(spec: dict[str, object]) -> dict[str, object]:
    out: dict[str, object] = {"python": libs.python_version(), "providers": libs.import_all(list(spec["providers"]))}  # type: ignore[call-overload]
    package = str(spec["package"])
    try:
        pkg = importlib.import_module(package)
        out["import"] = {"ok": True, "version": getattr(pkg, "__version__", None)}
    except ModuleNotFoundError as exc:
        out["import"] = {"ok": False, "error": f"ModuleNotFoundError: {exc}", "missing_module": exc.name}
    except Exception as exc:
        out["import"] = {"ok": False, "error": f"{type(exc).__name__}: {exc}", "oserror": isinstance(exc, OSError)}
    out["loaded"] = libs.under(libs.site_dir())
    out["outside"] = libs.outside(sys.prefix)
    return out


def check_library(spec: dict[str, object]) -> dict[str, object]:
    base = libs.site_dir()
    out: dict[str, object] = {"providers": libs.import_all(list(spec["providers"]))}  # type: ignore[call-overload]
    for rel in list(spec.get("preload", [])):  # type: ignore[call-overload]
        status, detail = libs.load_one(os.path.join(base, rel))
        if status == "failed":
            out.update({"library": spec["library"], "status": "failed", "error": f"{rel}: {detail}"})
            return out
    status, detail = libs.load_one(os.path.join(base, str(spec["library"])))
    out.update({"library": spec["library"], "status": status})
    if status == "failed":
        out["error"] = detail.replace(base + os.sep, "")
    elif status == "skipped":
        out["loaded_from"] = detail
    out["outside"] = libs.outside(sys.prefix)
    return out


def main(argv: list[str]) -> int:
    spec = json.loads(argv[2])
    result = check_import(spec) if argv[1] == "import" else check_library(spec)
    print(json.dumps(result))
    return 1 if result.get("status") == "failed" else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
