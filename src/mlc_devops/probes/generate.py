"""Greedy generation through mlc_llm's own engine, inside a clean environment where the wheel pair is installed.

Run as ``python generate.py '<json>'`` with ``{"mode": "generate", "model": DIR,
"model_lib": FILE, "device": "cuda", "prompt": [ids], "steps": N,
"top_logprobs": K}``, or ``{"mode": "capabilities"}``. Prints one JSON object as
its last line.

Two engine APIs exist upstream and both are driven the same way, request by
request with a stream callback that hands back token ids:
``mlc_llm.serve.sync_engine.SyncMLCEngine`` (upstream since mid-2024, current)
and ``mlc_llm.serve.Engine`` with a ``KVCacheConfig`` (mlc-llm 34497eae,
2024-03). Both take the prompt as token ids (``data.TokenData``), so the
tokenizer plays no part in what is compared; greedy is ``top_p=0`` at
``temperature=1`` (see :func:`_greedy_config`) with ``ignore_eos``.
"""

# ruff: noqa: PLC0415  # which engine API to import depends on the mlc_llm installed: imports sit where it is known
from __future__ import annotations

import glob
import importlib.util
import json
import os
import sys
import time
from typing import Any

# Where upstream's paged-KV-cache attention kernels have CPU versions: these
# function names appear in tvm/relax/frontend/nn/llm/ (apache/tvm, 2025-02) and
# nowhere in mlc-llm 34497eae's python/mlc_llm/nn/kv_cache.py, whose kernels are GPU-only.
CPU_KERNEL_MARKERS = ("_attention_prefill_cpu", "_attention_decode_cpu")


def _package_dir(name: str) -> str | None:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return next(iter(spec.submodule_search_locations))


def capabilities() -> dict[str, Any]:
    """What the installed pair can do, read from its sources without importing it."""
    found: list[str] = []
    for package in ("tvm", "mlc_llm"):
        root = _package_dir(package)
        if root is None:
            continue
        for path in glob.glob(os.path.join(root, "**", "*.py"), recursive=True):
            try:
                with open(path, encoding="utf-8", errors="replace") as handle:
                    text = handle.read()
            except OSError:
                continue
            if any(marker in text for marker in CPU_KERNEL_MARKERS):
                found.append(os.path.relpath(path, os.path.dirname(root)))
    engine = "SyncMLCEngine" if importlib.util.find_spec("mlc_llm.serve.sync_engine") else "Engine"
    try:
        import tvm  # type: ignore[import-not-found]

        libinfo = {str(k): str(v) for k, v in tvm.support.libinfo().items() if str(k).startswith("USE_")}
    except Exception as exc:  # reported, and the check goes on without it
        libinfo = {"error": f"{type(exc).__name__}: {exc}"[:500]}
    return {"ok": True, "cpu_kernels": sorted(found), "engine": engine, "libinfo": libinfo}


def _greedy_config(gen_cls: Any, steps: int, top_logprobs: int) -> Any:
    # Greedy with true log-probabilities: temperature 0 would be clamped to 1e-5 and the reported
    # probabilities would be one-hot; top_p 0 keeps only the arg-max (cpu_sampler.cc's top_p == 0
    # case; the GPU sampler's top-p cut-off at 0), while the probabilities stay softmax(logits).
    return gen_cls(
        temperature=1.0,
        top_p=0.0,
        max_tokens=steps,
        ignore_eos=True,
        logprobs=top_logprobs > 0,
        top_logprobs=top_logprobs,
    )


def generate(spec: dict[str, Any]) -> dict[str, Any]:
    """Run one greedy request; return the tokens, each step's log-probabilities and the timings."""
    from mlc_llm.serve import data  # type: ignore[import-not-found]

    prompt = [int(t) for t in spec["prompt"]]
    steps = int(spec["steps"])
    top = int(spec.get("top_logprobs", 5))
    tokens: list[int] = []
    logprobs: list[Any] = []
    stamps: list[float] = []
    finished: list[str] = []

    def callback(delta_outputs: Any) -> None:
        for delta in delta_outputs:
            _rid, outputs = delta.unpack()
            out = outputs[0]
            if len(out.delta_token_ids):
                tokens.extend(int(t) for t in out.delta_token_ids)
                stamps.extend([time.perf_counter()] * len(out.delta_token_ids))
            if out.delta_logprob_json_strs:
                logprobs.extend(json.loads(s) for s in out.delta_logprob_json_strs)
            if out.finish_reason is not None:
                finished.append(str(out.finish_reason))

    started = time.perf_counter()
    if importlib.util.find_spec("mlc_llm.serve.sync_engine"):
        from mlc_llm.protocol.generation_config import GenerationConfig  # type: ignore[import-not-found]
        from mlc_llm.serve.config import EngineConfig  # type: ignore[import-not-found]
        from mlc_llm.serve.sync_engine import SyncMLCEngine  # type: ignore[import-not-found]

        engine: Any = SyncMLCEngine(
            model=spec["model"],
            device=spec["device"],
            model_lib=spec["model_lib"],
            mode="local",
            engine_config=EngineConfig(max_num_sequence=1),
            request_stream_callback=callback,
        )
        api = "SyncMLCEngine"
        request = engine.create_request(
            "0", inputs=[data.TokenData(prompt)], generation_config=_greedy_config(GenerationConfig, steps, top)
        )
    else:
        from mlc_llm.serve import (
            Engine,
            GenerationConfig,
            KVCacheConfig,
            Request,
        )
        from mlc_llm.serve.engine import ModelInfo  # type: ignore[import-not-found]

        engine = Engine(
            ModelInfo(spec["model"], model_lib_path=spec["model_lib"], device=spec["device"]),
            KVCacheConfig(page_size=16, max_num_sequence=1, max_total_sequence_length=len(prompt) + steps + 16),
            request_stream_callback=callback,
        )
        api = "Engine"
        request = Request(
            request_id="0",
            inputs=[data.TokenData(prompt)],
            generation_config=_greedy_config(GenerationConfig, steps, top),
        )
    loaded = time.perf_counter()
    first = time.perf_counter()
    engine.add_request(request)
    while not finished:
        engine.step()
    done = time.perf_counter()
    try:
        import tvm

        device_name = str(tvm.device(spec["device"]).device_name)
    except Exception:  # the name is for the report only; older TVMs lack it for some devices
        device_name = ""
    prefill_s = (stamps[0] - first) if stamps else None
    decode_s = (stamps[-1] - stamps[0]) if len(stamps) > 1 else None
    return {
        "ok": True,
        "engine": api,
        "device_name": device_name,
        "tokens": tokens,
        "logprobs": logprobs,
        "finish_reason": finished[0],
        "load_s": round(loaded - started, 3),
        "generate_s": round(done - first, 3),
        "prefill_s": None if prefill_s is None else round(prefill_s, 4),
        "prefill_tokens_per_s": round(len(prompt) / prefill_s, 1) if prefill_s else None,
        "decode_tokens_per_s": round((len(stamps) - 1) / decode_s, 1) if decode_s else None,
    }


def main(argv: list[str]) -> int:
    spec = json.loads(argv[1])
    mode = spec.get("mode", "generate")
    try:
        result = capabilities() if mode == "capabilities" else generate(spec)
    except Exception as exc:  # the engine raises TVMError and friends: report them as data
        print(json.dumps({"ok": False, "error": f"{type(exc).__name__}: {exc}"[:4000]}))
        return 1
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
