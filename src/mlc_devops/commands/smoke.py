"""``mlc-devops smoke WHEEL``: install into a clean environment, import, load, round-trip text."""

from __future__ import annotations

import argparse
import json
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mlc_devops import gpu as gpu_mod
from mlc_devops import run as run_mod
from mlc_devops import venv
from mlc_devops.commands import _args
from mlc_devops.errors import CheckFailed, UsageError
from mlc_devops.ui import Console

SAMPLE_TEXT = "Hello, MLC-LLM! héllo wörld 世界 🚀"

# Runs inside the clean environment; prints one JSON object.
CHECK_SCRIPT = r"""
import ctypes, importlib, json, os, sys
out = {"python": sys.version.split()[0]}
try:
    pkg = importlib.import_module("mlc_llm")
except Exception as exc:  # noqa
    print(json.dumps({"ok": False, "stage": "import", "error": f"{type(exc).__name__}: {exc}"}))
    sys.exit(1)
out["module"] = os.path.dirname(pkg.__file__)
out["version"] = getattr(pkg, "__version__", None)
suffixes = (".so", ".dll", ".dylib")
libs = []
for dirpath, _dirs, files in os.walk(out["module"]):
    for name in sorted(files):
        if name.endswith(suffixes) or ".so." in name:
            libs.append(os.path.join(dirpath, name))
libs.sort(key=lambda p: (0 if "tvm" in os.path.basename(p) else 1, p))
loaded = []
for path in libs:
    try:
        if hasattr(os, "add_dll_directory"):
            os.add_dll_directory(os.path.dirname(path))
        ctypes.CDLL(path, mode=getattr(ctypes, "RTLD_GLOBAL", 0))
    except OSError as exc:
        print(json.dumps({"ok": False, "stage": "load", "library": os.path.basename(path), "error": str(exc)}))
        sys.exit(1)
    loaded.append(os.path.relpath(path, out["module"]))
out["loaded"] = loaded
if not loaded:
    print(json.dumps({"ok": False, "stage": "load", "error": "the installed package holds no native library"}))
    sys.exit(1)
tokenizer = sys.argv[1] if len(sys.argv) > 1 and sys.argv[1] else None
if tokenizer:
    text = sys.argv[2]
    try:
        from mlc_llm.tokenizers import Tokenizer
        tok = Tokenizer(tokenizer)
        ids = list(tok.encode(text))
        back = tok.decode(ids)
    except Exception as exc:  # noqa
        print(json.dumps({"ok": False, "stage": "tokenizer", "error": f"{type(exc).__name__}: {exc}"}))
        sys.exit(1)
    out["tokenizer"] = {"tokens": len(ids), "round_trip": back == text}
    if back != text:
        out.update({"ok": False, "stage": "tokenizer", "error": f"round trip changed the text: {back!r}"})
        print(json.dumps(out))
        sys.exit(1)
out["ok"] = True
print(json.dumps(out))
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("wheel", help="the wheel to check")
    _args.add_install(parser)
    parser.add_argument("--index-url", help="package index for dependencies (default: pip's configuration)")
    parser.add_argument(
        "--tokenizer", help="tokenizer file or folder: round-trip text through mlc_llm.tokenizers.Tokenizer"
    )
    parser.add_argument("--python", help="interpreter to create the environment with (default: this one)")
    parser.add_argument("--keep-venv", help="create the environment here and keep it")
    parser.add_argument(
        "--gpu",
        action="store_true",
        help="also run the wheel's CUDA kernel on the GPU against a CPU reference, and report device and driver",
    )
    parser.add_argument("--gpu-elements", type=int, default=1 << 16, help="vector length for --gpu (default 65536)")


def smoke(
    wheel: Path,
    env: Mapping[str, str],
    console: Console,
    *,
    offline: bool = False,
    with_packages: list[str] | None = None,
    index_url: str | None = None,
    tokenizer: str | None = None,
    python: str | None = None,
    keep_venv: Path | None = None,
    gpu: bool = False,
    gpu_elements: int = 1 << 16,
) -> dict[str, Any]:
    if not wheel.is_file():
        raise UsageError(f"wheel {wheel} does not exist", hint="pass the path of a built .whl")
    if wheel.suffix != ".whl":
        raise UsageError(f"{wheel} is not a .whl file")
    tok = str(Path(tokenizer).resolve()) if tokenizer else ""
    if tokenizer and not Path(tokenizer).exists():
        raise UsageError(f"tokenizer {tokenizer} does not exist")
    venv_env = venv.clean_env(env)
    with venv.fresh(env, python=python, keep=keep_venv) as interpreter:
        with console.phase("install"):
            requirements = [str(wheel.resolve()), *(with_packages or [])]
            console.say(f"    installing {wheel.name}" + (" offline, alone" if offline else " with its dependencies"))
            run_mod.run(
                venv.install_command(
                    str(interpreter), requirements, offline=offline, index_url=index_url, no_deps=offline
                ),
                env=venv_env,
                what="pip install",
                error=CheckFailed,
            )
        with tempfile.TemporaryDirectory(prefix="mlc-devops-smoke-") as cwd:
            with console.phase("import and load"):
                result = run_mod.run(
                    [str(interpreter), "-c", CHECK_SCRIPT, tok, SAMPLE_TEXT], cwd=cwd, env=venv_env, check=False
                )
            gpu_result = None
            if gpu and result.returncode == 0:
                with console.phase("gpu kernel"):
                    gpu_result = run_mod.run(
                        [str(interpreter), "-c", gpu_mod.GPU_SCRIPT, str(gpu_elements)],
                        cwd=cwd,
                        env=venv_env,
                        check=False,
                    )
    lines = [ln for ln in result.output.strip().splitlines() if ln.startswith("{")]
    try:
        data: dict[str, Any] = json.loads(lines[-1])
    except (IndexError, ValueError):
        raise CheckFailed("the smoke check printed no result", detail=result.output[-2000:]) from None
    if result.returncode != 0 or not data.get("ok"):
        stage = data.get("stage", "check")
        raise CheckFailed(
            f"smoke {stage} failed: {data.get('error', 'unknown error')}",
            detail=result.output[-2000:] if stage == "import" else "",
        )
    if gpu_result is not None:
        gpu_lines = [ln for ln in gpu_result.output.strip().splitlines() if ln.startswith("{")]
        if not gpu_lines:
            raise CheckFailed("smoke --gpu: the GPU probe printed no result", detail=gpu_result.output[-2000:])
        data["gpu"] = gpu_mod.interpret(json.loads(gpu_lines[-1]), _built_for(wheel))
    return data


def _built_for(wheel: Path) -> list[str] | None:
    """The CUDA architectures the build report beside the wheel records, if there is one."""
    report = wheel.with_name(wheel.name + ".build.json")
    try:
        archs = json.loads(report.read_text(encoding="utf-8")).get("cuda_architectures")
    except (OSError, ValueError):
        return None
    return [str(a) for a in archs] if isinstance(archs, list) else None


def run(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    console = Console.from_env(env)
    data = smoke(
        Path(args.wheel),
        env,
        console,
        offline=args.offline,
        with_packages=args.with_packages,
        index_url=args.index_url,
        tokenizer=args.tokenizer,
        python=args.python,
        keep_venv=Path(args.keep_venv) if args.keep_venv else None,
        gpu=args.gpu,
        gpu_elements=args.gpu_elements,
    )
    if args.json:
        print(json.dumps({"schema": "mlc-devops/smoke/v1", **data}, indent=2))
    else:
        print(f"import mlc_llm {data.get('version') or ''} from {data['module']}: ok")
        for lib in data["loaded"]:
            print(f"loaded {lib}")
        if "tokenizer" in data:
            print(f"tokenizer round trip: ok ({data['tokenizer']['tokens']} tokens)")
        if "gpu" in data:
            g = data["gpu"]
            print(
                f"gpu: {g['device']} ({g['arch']}), driver {g['driver']}: {g['check']} on {g['elements']} random "
                f"elements passed (worst error {g['max_ulp_ratio']:.2f} of the float32 tolerance)"
            )
        print("smoke: passed")
    return 0
