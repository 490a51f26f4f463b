"""``python -m mlc_llm`` with the known upstream defects of the installed version got past, each one named.

Run as ``python mlc_cli.py SUBCOMMAND ARGS...`` inside the smoke environment.
Each fix below applies only when the installed source still has the defect
(read with ``inspect``), does what the later upstream fix does, and prints one
line ``mlc-devops: fix applied: <id>: <what>`` on stderr, which the model check
records in its notes. Then mlc_llm's own ``__main__`` runs unchanged.
"""

from __future__ import annotations

import inspect
import runpy
import sys
from typing import Any


def _fix_preshard_none() -> str | None:
    """mlc-llm 34497eae: convert_weight passes ``preshard_funcs=None`` without
    MLC_INTERNAL_PRESHARD_NUM and the Hugging Face loader tests ``name in
    preshard_funcs``: TypeError on every conversion. Treat None as no presharding."""
    try:
        from mlc_llm.loader import huggingface_loader  # type: ignore[import-not-found]  # noqa: PLC0415  # only once the fix is asked for
    except ImportError:
        return None
    loader = huggingface_loader.HuggingFaceLoader
    source = inspect.getsource(loader.load)
    if "if name in preshard_funcs" not in source or "preshard_funcs is" in source:
        return None
    original = loader.load

    def load(self: Any, device: Any = None, preshard_funcs: Any = None) -> Any:
        return original(self, device=device, preshard_funcs=preshard_funcs or {})

    loader.load = load
    return (
        "preshard-none: HuggingFaceLoader.load(preshard_funcs=None) raised TypeError; None is taken as no presharding"
    )


FIXES = (_fix_preshard_none,)


def main(argv: list[str]) -> None:
    here = sys.path[0] if sys.path else ""
    if here and inspect.getfile(main).startswith(here):
        sys.path.pop(0)  # the probes' folder: none of its modules may shadow one that mlc_llm imports
    for fix in FIXES:
        applied = fix()
        if applied:
            print(f"mlc-devops: fix applied: {applied}", file=sys.stderr, flush=True)
    sys.argv = ["mlc_llm", *argv[1:]]
    runpy.run_module("mlc_llm", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main(sys.argv)
