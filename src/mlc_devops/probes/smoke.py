"""The smoke check, inside a clean environment where the wheel and its dependencies are installed.

Imports the package as users do, asks the package's own library finder
(``<package>.libinfo.find_lib_path``, upstream's) where its libraries are,
reports which of the wheel's libraries the import loaded, and round-trips text
through ``<package>.tokenizers.Tokenizer`` when a tokenizer is given. It loads
no library itself: a second copy of one already in the process (the wheel's
libtvm_runtime after apache-tvm's) re-runs its static registrations and aborts;
validation loads each library alone. Argument: JSON ``{"package", "libraries":
[path relative to site-packages], "tokenizer", "text"}``. Prints one JSON object.
"""

from __future__ import annotations

import importlib
import json
import os
import sys

import libs  # type: ignore[import-not-found]  # the sibling module, first on sys.path


def _stem(path: str) -> str:
    name = os.path.basename(path)
    name = name[3:] if name.startswith("lib") else name
    return name.split(".")[0]


def finder(package: str, libraries: list[str]) -> dict[str, str]:
    """What ``<package>.libinfo.find_lib_path`` answers for each library's name; empty without a finder."""
    try:
        libinfo = importlib.import_module(f"{package}.libinfo")
    except ImportError:
        return {}
    find = getattr(libinfo, "find_lib_path", None)
    if find is None:
        return {}
    out = {}
    for stem in sorted({_stem(p) for p in libraries}):
        try:
            found = find(stem, optional=True)
        except TypeError:
            found = find(stem)
        except Exception as exc:
            out[stem] = f"error: {type(exc).__name__}: {exc}"
            continue
        out[stem] = str(found[0]) if found else "not found"
    return out


def installed() -> list[str]:
    """Names of the distributions installed in this environment."""
    from importlib import metadata  # noqa: PLC0415

    return sorted({str(d.metadata["Name"]) for d in metadata.distributions() if d.metadata["Name"]})


def main(argv: list[str]) -> int:
    spec = json.loads(argv[1])
    package = spec["package"]
    out: dict[str, object] = {"python": libs.python_version()}
    try:
        pkg = importlib.import_module(package)
    except ModuleNotFoundError as exc:
        failed = {"ok": False, "stage": "import", "error": f"ModuleNotFoundError: {exc}", "missing": exc.name}
        print(json.dumps({**failed, "installed": installed()}))
        return 1
    except Exception as exc:
        print(json.dumps({"ok": False, "stage": "import", "error": f"{type(exc).__name__}: {exc}"}))
        return 1
    out["module"] = os.path.dirname(pkg.__file__ or "")
    out["version"] = getattr(pkg, "__version__", None)
    out["finder"] = finder(package, spec["libraries"])
    in_process = libs.under(libs.site_dir())
    out["present"] = [p for p in spec["libraries"] if p in in_process]
    out["from_dependencies"] = [p for p in in_process if p not in spec["libraries"]]
    out["libraries"] = spec["libraries"]
    if spec.get("tokenizer"):
        text = spec["text"]
        try:
            tokenizers = importlib.import_module(f"{package}.tokenizers")
            tok = tokenizers.Tokenizer(spec["tokenizer"])
            ids = list(tok.encode(text))
            back = tok.decode(ids)
        except Exception as exc:
            out.update({"ok": False, "stage": "tokenizer", "error": f"{type(exc).__name__}: {exc}"})
            print(json.dumps(out))
            return 1
        out["tokenizer"] = {"tokens": len(ids), "round_trip": back == text}
        if back != text:
            out.update({"ok": False, "stage": "tokenizer", "error": f"round trip changed the text: {back!r}"})
            print(json.dumps(out))
            return 1
    out["ok"] = True
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
