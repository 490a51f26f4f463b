"""The model check of ``smoke --model``: make a model, compile it with the installed pair, compare its tokens.

The steps are upstream's own (``python -m mlc_llm convert_weight``,
``gen_config``, ``compile``; the same flags in mlc-llm 34497eae and 79d603f0),
then greedy generation through mlc_llm's engine (probes/generate.py) and a
NumPy forward pass of the same weights (probes/reference.py). Decisions here
are pure; :func:`run` is the edge that starts the processes.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlc_devops import probes
from mlc_devops import run as run_mod
from mlc_devops.errors import CheckFailed, UsageError
from mlc_devops.ui import Console

MODEL_CHOICES = ("tiny", "1b")
DEVICE_CHOICES = ("cpu", "cuda", "vulkan", "rocm", "metal", "opencl")
DEFAULT_STEPS = 16
SEED = 20241128
# A fixed prompt of token ids inside every preset's vocabulary (tiny: 384 entries), starting with <s> (id 0);
# ids, not text, so the comparison does not depend on the tokenizer.
PROMPT = (0, 72, 101, 108, 108, 111, 44, 32, 77, 76, 67, 33)

# Log-probability tolerance of the first step, float32 model (q0f32): the engine's
# GPU kernels sum in another order than NumPy (tree reductions, fused softmax), and
# log-softmax differences of float32 logits of magnitude ~10 stay near 1e-5 per
# operation; 2 layers compound to well under 1e-3. A wrong kernel (mask, rotary,
# grouped-query mapping) moves log-probabilities by 1e-1 or more.
LOGPROB_ATOL = 2e-3

# Peak memory bandwidth in bytes per second, from NVIDIA's data sheets, by a word of
# the device name: decode of a model whose weights are B bytes cannot beat bandwidth / B tokens per second.
BANDWIDTH = {"H200": 4.8e12, "H100": 3.35e12, "A100": 2.0e12, "L40S": 0.864e12}


@dataclass(frozen=True)
class Plan:
    """What one model check runs: preset, quantization, device, steps and whether a reference exists."""

    model: str
    device: str
    quantization: str
    steps: int
    reference: bool
    runs: int


@dataclass
class Outcome:
    """What the check found: phases with their seconds, the engine's output, the comparison."""

    plan: Plan
    phases: dict[str, float] = field(default_factory=dict)
    generation: dict[str, Any] = field(default_factory=dict)
    comparison: dict[str, Any] = field(default_factory=dict)
    model: dict[str, Any] = field(default_factory=dict)
    bandwidth: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "model": self.plan.model,
            "device": self.plan.device,
            "quantization": self.plan.quantization,
            "steps": self.plan.steps,
            "phases": {k: round(v, 2) for k, v in self.phases.items()},
            "made": self.model,
            "generation": self.generation,
            "comparison": self.comparison,
            "bandwidth": self.bandwidth,
            "notes": self.notes,
        }


def plan(model: str, device: str, steps: int = DEFAULT_STEPS) -> Plan:
    """The check for ``--model``/``--device``. Pure.

    ``tiny`` is float32 (q0f32) and compared with the NumPy reference; ``1b`` is
    float16 (q0f16), has no reference, and is run twice so that its greedy
    tokens are compared across runs. Raises UsageError (exit 2) on an unknown
    model or device, or fewer than 16 steps (issue 14 asks for at least 16).
    """
    if model not in MODEL_CHOICES:
        raise UsageError(f"unknown model {model!r}", hint=f"choose one of {', '.join(MODEL_CHOICES)}")
    if device not in DEVICE_CHOICES:
        raise UsageError(f"unknown device {device!r}", hint=f"choose one of {', '.join(DEVICE_CHOICES)}")
    if steps < DEFAULT_STEPS:
        raise UsageError(f"--steps {steps} is too few", hint=f"compare at least {DEFAULT_STEPS} greedy steps")
    tiny = model == "tiny"
    return Plan(model, device, "q0f32" if tiny else "q0f16", steps, reference=tiny, runs=1 if tiny else 2)


def upstream_commands(
    python: str, hf_dir: Path, out: Path, p: Plan, compile_extra: Sequence[str] = ()
) -> list[tuple[str, list[str]]]:
    """Upstream's three steps as (phase, argv). Pure.

    Flags checked against python/mlc_llm/cli/{convert_weight,gen_config,compile}.py
    at mlc-llm 34497eae and 79d603f0. The conversation template ``LM`` (plain
    language model) exists in both.
    """
    q = ["--quantization", p.quantization, "--model-type", "llama"]
    cli = probes.path("mlc_cli")  # python -m mlc_llm, past the installed version's known defects
    window = str(max(256, len(PROMPT) + p.steps + 16))
    return [
        (
            "convert_weight",
            [python, cli, "convert_weight", str(hf_dir), *q, "--device", p.device, "-o", str(out)],
        ),
        (
            "gen_config",
            [
                python,
                cli,
                "gen_config",
                str(hf_dir),
                *q,
                "--conv-template",
                "LM",
                "--context-window-size",
                window,
                "--prefill-chunk-size",
                window,
                "--max-batch-size",
                "1",
                "-o",
                str(out),
            ],
        ),
        (
            "compile",
            [
                python,
                cli,
                "compile",
                str(out / "mlc-chat-config.json"),
                *q,
                "--device",
                p.device,
                *compile_extra,
                "-o",
                str(model_lib(out, p.device)),
            ],
        ),
    ]


def compile_options(device: str, libinfo: Mapping[str, str]) -> tuple[list[str], str | None]:
    """Extra ``mlc_llm compile`` flags for what the pair's TVM was built with, and why. Pure.

    mlc_llm's default ``--opt O2`` dispatches float matrix products (q0f16, q0f32)
    to cuBLAS on CUDA and raises "CUBLAS is not enabled." when TVM was built
    without it (python/mlc_llm/compiler_pass/cublas_dispatch.py, 34497eae, seen
    here). ``--opt cublas_gemm=0`` keeps the other O2 choices (the string form's
    defaults in interface/compiler_flags.py, both versions) and compiles TVM's own kernels.
    """
    if device == "cuda" and libinfo.get("USE_CUBLAS", "OFF").upper() not in ("ON", "1", "TRUE"):
        return [
            "--opt",
            "cublas_gemm=0",
        ], "the pair's TVM has no cuBLAS (USE_CUBLAS off): compiling with --opt cublas_gemm=0"
    return [], None


def failure_excerpt(output: str, lines: int = 60) -> str:
    """The end of a failed step's output without TVM's ``[bt]`` backtrace frames, which hide the cause. Pure.

    A TVM error raised while another is being handled prints two Python
    tracebacks, each with C++ frames; the first one's message is the cause.
    """
    kept = [ln for ln in output.strip().splitlines() if not ln.lstrip().startswith("[bt]")]
    return "\n".join(kept[-lines:])


# Failures of an old TVM under a new CUDA toolkit, as seen on an H200 with CUDA 13.0 and driver 580
# (mlc-llm 34497eae with its TVM pin 31175052, 2026-11-30): (text in the output, what it means).
KNOWN_FAILURES = (
    (
        "has already been defined (previous definition at line",
        "the TVM of this pair defines half-precision helpers (htanh, ...) that this CUDA toolkit's "
        "cuda_fp16.hpp defines too (seen with CUDA 13.0 and TVM 31175052): float16 models need a TVM "
        "newer than the pair's or an older CUDA toolkit",
    ),
    (
        "CUDA_ERROR_ILLEGAL_INSTRUCTION",
        "a kernel that this pair's TVM generated hit an illegal instruction on the GPU (seen on an H200 "
        "with CUDA 13.0 and TVM 31175052, decode step, every sampling setting): the pair's code "
        "generation does not support this GPU and toolkit",
    ),
)


def known_failure(output: str) -> str | None:
    """What a failure whose output holds a known pattern means, or None. Pure."""
    return next((meaning for text, meaning in KNOWN_FAILURES if text in output), None)


FIX_MARKER = "mlc-devops: fix applied: "


def fixes_applied(output: str) -> list[str]:
    """The upstream defects probes/mlc_cli.py got past, from its output lines. Pure."""
    return [
        "upstream defect got past: " + line.split(FIX_MARKER, 1)[1].strip()
        for line in output.splitlines()
        if FIX_MARKER in line
    ]


def model_lib(out: Path, device: str) -> Path:
    """Where the compiled model library goes. Pure."""
    return out / f"model-{device}.so"


def cpu_blocker(device: str, capabilities: Mapping[str, Any]) -> str | None:
    """Why a CPU check cannot run on this pair, or None. Pure.

    Upstream added CPU versions of the paged-KV-cache attention kernels in
    February 2025 (tvm/relax/frontend/nn/llm/, ``_attention_prefill_cpu``);
    without them, compiling for the CPU fails in those kernels.
    """
    if device != "cpu" or capabilities.get("cpu_kernels"):
        return None
    return (
        "this pair has no CPU versions of the paged KV-cache attention kernels (upstream added them in "
        "February 2025), so a model compiled for the CPU cannot run: check it on a GPU (--device cuda)"
    )


def compare_logprobs(reference: Sequence[float], engine: Sequence[float], atol: float = LOGPROB_ATOL) -> dict[str, Any]:
    """Compare the top-k log-probabilities of the first step, rank by rank. Pure.

    Both sides are sorted descending before comparing, so a tie that the two
    orderings break differently does not count. Returns ``ok``, ``max_diff``,
    ``atol`` and ``k``.
    """
    k = min(len(reference), len(engine))
    ref = sorted(reference, reverse=True)[:k]
    got = sorted(engine, reverse=True)[:k]
    diff = max((abs(a - b) for a, b in zip(ref, got)), default=0.0)
    return {"ok": k > 0 and diff <= atol, "max_diff": diff, "atol": atol, "k": k}


def compare_tokens(reference: Sequence[int], engine: Sequence[int], steps: int) -> dict[str, Any]:
    """Greedy tokens step by step; the first step where they differ, or None. Pure."""
    first = next((i for i, (a, b) in enumerate(zip(reference, engine)) if a != b), None)
    if first is None and min(len(reference), len(engine)) < steps:
        first = min(len(reference), len(engine))
    return {"ok": first is None, "first_diverging_step": first, "steps": steps}


def bandwidth_bound(device_name: str, weight_bytes: int) -> float | None:
    """Tokens per second that memory bandwidth allows for one decode step reading every weight once. Pure."""
    for word, bandwidth in BANDWIDTH.items():
        if word in device_name and weight_bytes > 0:
            return bandwidth / weight_bytes
    return None


def engine_first_logprobs(logprobs: Sequence[Mapping[str, Any]]) -> list[float]:
    """The first step's top log-probabilities from mlc_llm's logprob JSON (``top_logprobs``). Pure."""
    if not logprobs:
        return []
    first = logprobs[0]
    top = first.get("top_logprobs") or []
    return [float(t["logprob"]) for t in top]


def _probe(
    interpreter: str,
    name: str,
    spec: Mapping[str, Any],
    env: Mapping[str, str],
    cwd: Path,
    what: str,
    timeout: float | None = None,
) -> dict[str, Any]:
    result = run_mod.run(
        [interpreter, probes.path(name), json.dumps(spec)], env=env, cwd=cwd, check=False, timeout=timeout
    )
    lines = [ln for ln in result.output.strip().splitlines() if ln.startswith("{")]
    data: dict[str, Any] = json.loads(lines[-1]) if lines else {}
    if result.returncode != 0 or not data.get("ok", True):
        error = str(data.get("error") or run_mod.describe_exit(result.returncode))
        cause = [ln for ln in error.splitlines() if not ln.lstrip().startswith("[bt]")]
        raise CheckFailed(
            f"smoke --model: {what} failed: {' '.join(ln.strip() for ln in cause[-3:])}",
            detail=failure_excerpt(result.output),
            hint=known_failure(result.output),
        )
    return data


def run(
    interpreter: str,
    env: Mapping[str, str],
    console: Console,
    p: Plan,
    workdir: Path,
    *,
    timeout: float | None = None,
) -> Outcome:
    """Make the model, run upstream's steps, generate, compare. Raises CheckFailed naming the phase that failed."""
    outcome = Outcome(p)
    hf_dir, out = workdir / "hf", workdir / "mlc"
    out.mkdir(parents=True, exist_ok=True)
    caps = _probe(interpreter, "generate", {"mode": "capabilities"}, env, workdir, "reading the pair's capabilities")
    blocker = cpu_blocker(p.device, caps)
    if blocker:
        raise CheckFailed(f"smoke --model {p.model} --device cpu: {blocker}")
    started = time.monotonic()
    with console.phase("make model"):
        outcome.model = _probe(
            interpreter,
            "tinymodel",
            {"directory": str(hf_dir), "preset": p.model, "seed": SEED, "merges_format": "strings"},
            env,
            workdir,
            "making the model",
        )
    outcome.phases["make_model"] = time.monotonic() - started
    reference: dict[str, Any] = {}
    if p.reference:
        started = time.monotonic()
        with console.phase("reference"):
            reference = _probe(
                interpreter,
                "reference",
                {"model": str(hf_dir), "prompt": list(PROMPT), "steps": p.steps, "top_k": 5},
                env,
                workdir,
                "the NumPy reference",
            )
        outcome.phases["reference"] = time.monotonic() - started
    compile_extra, why = compile_options(p.device, caps.get("libinfo") or {})
    if why:
        console.say(f"    {why}")
        outcome.notes.append(why)
    for phase, argv in upstream_commands(interpreter, hf_dir, out, p, compile_extra):
        started = time.monotonic()
        with console.phase(phase.replace("_", " ")):
            console.say(f"    $ mlc_llm {phase} ({p.quantization}, {p.device})")
            result = run_mod.run(argv, env=env, cwd=workdir, check=False, timeout=timeout)
        outcome.phases[phase] = time.monotonic() - started
        outcome.notes += fixes_applied(result.output)
        if result.returncode != 0:
            raise CheckFailed(
                f"smoke --model: mlc_llm {phase} {run_mod.describe_exit(result.returncode)}"
                + (" (timed out)" if result.timed_out else ""),
                detail=failure_excerpt(result.output),
                hint=known_failure(result.output),
            )
    runs: list[dict[str, Any]] = []
    for i in range(p.runs):
        started = time.monotonic()
        with console.phase("generate" if p.runs == 1 else f"generate, run {i + 1}"):
            runs.append(
                _probe(
                    interpreter,
                    "generate",
                    {
                        "model": str(out),
                        "model_lib": str(model_lib(out, p.device)),
                        "device": p.device,
                        "prompt": list(PROMPT),
                        "steps": p.steps,
                        "top_logprobs": 5,
                    },
                    env,
                    workdir,
                    "generation through mlc_llm's engine",
                    timeout,
                )
            )
        outcome.phases["generate" if i == 0 else f"generate_{i + 1}"] = time.monotonic() - started
    outcome.generation = {k: v for k, v in runs[0].items() if k != "ok"}
    weight_bytes = int(outcome.model.get("weights_bytes") or 0)
    bound = bandwidth_bound(str(runs[0].get("device_name") or ""), weight_bytes)
    if bound is not None:
        outcome.bandwidth = {"weight_bytes": weight_bytes, "bound_tokens_per_s": round(bound, 1)}
    if p.reference:
        tokens = compare_tokens(reference["tokens"], runs[0]["tokens"], p.steps)
        ref_top = [float(t["logprob"]) for t in reference["first_top"]]
        logits = compare_logprobs(ref_top, engine_first_logprobs(runs[0]["logprobs"]))
        outcome.comparison = {
            "against": "numpy reference",
            "tokens": tokens,
            "first_step_logprobs": logits,
            "reference_tokens": reference["tokens"],
        }
    else:
        tokens = compare_tokens(runs[0]["tokens"], runs[1]["tokens"], p.steps)
        outcome.comparison = {"against": "a second run", "tokens": tokens}
        logits = {"ok": True}
    if not (tokens["ok"] and logits["ok"]):
        where = tokens["first_diverging_step"]
        raise CheckFailed(
            f"smoke --model {p.model}: the engine's output differs from {outcome.comparison['against']}"
            + (f": greedy tokens diverge at step {where}" if where is not None else "")
            + (
                f"; first-step log-probabilities differ by up to {logits['max_diff']:.3g} "
                f"(tolerance {logits['atol']:g})"
                if "max_diff" in logits
                else ""
            ),
            detail=json.dumps(outcome.as_dict(), indent=2)[:4000],
        )
    return outcome


# What the model check needs in the smoke environment besides the pair: tokenizers trains the
# byte-level BPE tokenizer; numpy runs the reference; upstream's convert_weight reads safetensors
# through torch (safe_open(..., framework="pt") in python/mlc_llm/loader/utils.py, 34497eae and 79d603f0).
CHECK_REQUIREMENTS = ("tokenizers", "numpy", "safetensors", "torch")


def extra_requirements(requirements: Sequence[str], *, offline: bool) -> list[str]:
    """Requirements the model check adds to the install, unless given already. Pure.

    A requirement counts as given when a wheel file or requirement names it
    (``tokenizers-0.22.1-...whl``, ``tokenizers==0.22``). Offline, nothing can be
    fetched: a missing one raises UsageError (exit 2) naming the ``--with`` to pass.
    """
    named = " ".join(Path(r).name.lower().replace("-", "_") for r in requirements)
    missing = [r for r in CHECK_REQUIREMENTS if r not in named]
    if missing and offline:
        raise UsageError(
            f"smoke --model needs {', '.join(missing)} in the environment, and --offline fetches nothing",
            hint=" ".join(f"--with <{m} wheel>" for m in missing),
        )
    return missing


def summary_lines(model: Mapping[str, Any]) -> list[str]:
    """Lines for people from :meth:`Outcome.as_dict`. Pure."""
    gen = model.get("generation", {})
    cmp = model.get("comparison", {})
    phases = ", ".join(f"{k} {v:.1f} s" for k, v in model.get("phases", {}).items())
    out = [
        f"model {model['model']} ({model['quantization']}) on {model['device']}: {phases}",
        f"engine {gen.get('engine')}: prefill {gen.get('prefill_tokens_per_s')} tokens/s, "
        f"decode {gen.get('decode_tokens_per_s')} tokens/s",
    ]
    tokens = cmp.get("tokens", {})
    line = f"greedy tokens equal to {cmp.get('against')} for {tokens.get('steps')} steps"
    logits = cmp.get("first_step_logprobs")
    if logits:
        line += (
            f"; first-step top-{logits['k']} log-probabilities within {logits['max_diff']:.2g} "
            f"(tolerance {logits['atol']:g})"
        )
    out.append(line)
    bandwidth = model.get("bandwidth") or {}
    if bandwidth:
        out.append(
            f"decode bound by memory bandwidth: {bandwidth['bound_tokens_per_s']:.0f} tokens/s "
            f"for {bandwidth['weight_bytes'] / 1e9:.2f} GB of weights (measured {gen.get('decode_tokens_per_s')})"
        )
    return out
