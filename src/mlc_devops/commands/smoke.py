"""``mlc-devops smoke WHEEL``: install into a clean environment, import, load, round-trip text."""

from __future__ import annotations

import argparse
import hashlib
import json
import tempfile
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any

from packaging.utils import canonicalize_name

from mlc_devops import findings, modelcheck, options, probes
from mlc_devops import gpu as gpu_mod
from mlc_devops import run as run_mod
from mlc_devops.commands import _args
from mlc_devops.errors import CheckFailed, UsageError
from mlc_devops.report import report_path_for
from mlc_devops.ui import Console
from mlc_devops.wheel import reader, resolution, venv

SAMPLE_TEXT = "Hello, MLC-LLM! héllo wörld 世界 🚀"

# Measured on upstream MLC-LLM 79d603f0 (2026-11-29): installing its wheel with every declared
# dependency (torch, flashinfer-python, transformers, datasets, ...) took 121 s and 5.3 GB.
UPSTREAM_DEPENDENCY_NOTE = (
    "upstream MLC-LLM's declared dependencies (torch, flashinfer-python, transformers, ...) install about "
    "5.3 GB (121 s measured); for a lean check of the import and libraries, pass --offline with "
    "--with for what the import needs (a TVM wheel, apache-tvm-ffi, psutil)"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = UPSTREAM_DEPENDENCY_NOTE
    parser.add_argument("wheel", help="the wheel to check")
    _args.add_install(parser)
    parser.add_argument("--index-url", help="package index for dependencies (default: pip's configuration)")
    parser.add_argument(
        "--tvm",
        metavar="PATH",
        help="the TVM wheel to install with it (a wheel file or a folder of wheels; env MLC_TVM); default: the pair "
        "that the build report beside the wheel names",
    )

    parser.add_argument(
        "--tokenizer", help="tokenizer file or folder: round-trip text through mlc_llm.tokenizers.Tokenizer"
    )
    parser.add_argument("--python", help="interpreter to create the environment with (default: this one)")
    parser.add_argument("--keep-venv", help="create the environment here and keep it")
    parser.add_argument(
        "--inherit-site-packages",
        action="store_true",
        help="let the environment see the interpreter's own installed packages after its own (torch on a GPU "
        "machine, for --model); the wheel and what --with names are still installed fresh",
    )
    parser.add_argument(
        "--gpu",
        action="store_true",
        help="also run the wheel's CUDA kernel on the GPU against a CPU reference, and report device and driver",
    )
    parser.add_argument("--gpu-elements", type=int, default=1 << 16, help="vector length for --gpu (default 65536)")
    parser.add_argument(
        "--model",
        choices=modelcheck.MODEL_CHOICES,
        help="also make a model on the spot (tiny: float32, checked against a NumPy reference; 1b: random, about "
        "1.1 billion parameters, checked across two runs), convert, configure and compile it with upstream's "
        "steps, and generate greedily through mlc_llm's engine",
    )
    parser.add_argument(
        "--device", choices=modelcheck.DEVICE_CHOICES, default="cpu", help="device for --model (default cpu)"
    )
    parser.add_argument(
        "--steps", type=int, default=modelcheck.DEFAULT_STEPS, help="greedy steps compared for --model (default 16)"
    )
    parser.add_argument(
        "--step-timeout",
        type=float,
        default=1800.0,
        help="seconds each --model step may take before it is stopped (default 1800)",
    )


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
    find_links: tuple[str, ...] = (),
    model: modelcheck.Plan | None = None,
    step_timeout: float | None = None,
    inherit_site_packages: bool = False,
) -> dict[str, Any]:
    """Install ``wheel`` into a clean venv, import it, ask its finder where its libraries are, round-trip text.

    Returns the probe's JSON (``version``; ``present``: the wheel's libraries the
    import loaded; ``from_dependencies``; ``finder``; ``tokenizer``; ``gpu``). Raises CheckFailed (exit 1) naming the
    stage that failed; an import that needs a module no Requires-Dist entry
    covers is reported as an undeclared dependency, with the fix.
    """
    if not wheel.is_file():
        raise UsageError(f"wheel {wheel} does not exist", hint="pass the path of a built .whl")
    if wheel.suffix != ".whl":
        raise UsageError(f"{wheel} is not a .whl file")
    tok = str(Path(tokenizer).resolve()) if tokenizer else ""
    if tokenizer and not Path(tokenizer).exists():
        raise UsageError(f"tokenizer {tokenizer} does not exist")
    info = reader.read_wheel(wheel)
    members = info.members
    package = reader.package_name(members, info.name)
    libraries = [m for m in members if reader.is_native(m)]
    venv_env = venv.clean_env(env)
    leaked = venv.leaky_variables(env)
    if leaked:
        console.say(f"    checking without {', '.join(leaked)} (users do not have them)")
    if inherit_site_packages:
        console.say("    the environment sees the interpreter's own packages after its own (--inherit-site-packages)")
    with venv.fresh(env, python=python, keep=keep_venv, inherit=inherit_site_packages) as interpreter:
        with console.phase("install"):
            requirements = [str(wheel.resolve()), *(with_packages or [])]
            if model is not None and not inherit_site_packages:
                requirements += modelcheck.extra_requirements(requirements, offline=offline)
            console.say(f"    installing {wheel.name}" + (" offline, alone" if offline else " with its dependencies"))
            if not offline and info.requires_dist:
                console.say(f"    ({len(info.requires_dist)} declared dependencies)")
            # Where pip keeps downloaded and built wheels between smoke runs (issue 12: upstream's are GBs).
            cache_dir = run_mod.run([*venv.pip_for(interpreter), "cache", "dir"], env=venv_env, check=False)
            where = cache_dir.output.strip().splitlines()[-1:] if cache_dir.returncode == 0 else []
            console.say(
                f"    pip's cache, reused between runs: {where[0]}"
                if where
                else "    pip's cache: off (PIP_NO_CACHE_DIR)"
            )
            run_mod.run(
                venv.install_command(
                    str(interpreter),
                    requirements,
                    offline=offline,
                    index_url=index_url,
                    no_deps=offline,
                    find_links=find_links,
                    pip=venv.pip_for(interpreter),
                ),
                env=venv_env,
                what="pip install",
                error=CheckFailed,
                on_line=_pip_progress(console),
            )
        spec = {"package": package, "libraries": libraries, "tokenizer": tok, "text": SAMPLE_TEXT}
        with tempfile.TemporaryDirectory(prefix="mlc-devops-smoke-") as cwd:
            with console.phase("import and load"):
                result = run_mod.run(
                    [str(interpreter), probes.path("smoke"), json.dumps(spec)], cwd=cwd, env=venv_env, check=False
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
            model_outcome = None
            if model is not None and result.returncode == 0:
                model_outcome = modelcheck.run(
                    str(interpreter), venv_env, console, model, Path(cwd), timeout=step_timeout
                )
    lines = [ln for ln in result.output.strip().splitlines() if ln.startswith("{")]
    if not lines:
        raise CheckFailed(
            f"the smoke check {run_mod.describe_exit(result.returncode)} before printing a result",
            detail="\n".join(result.output.strip().splitlines()[-20:]),
            hint="the last lines of its output are above",
        )
    data: dict[str, Any] = json.loads(lines[-1])
    if result.returncode != 0 or not data.get("ok"):
        stage = data.get("stage", "check")
        missing = data.get("missing")
        if stage == "import" and missing:
            raise missing_module_error(str(missing), info, list(data.get("installed", [])), offline=offline)
        raise CheckFailed(
            f"smoke {stage} failed: {data.get('error', 'unknown error')}",
            detail=result.output[-2000:] if stage == "import" else "",
        )
    mismatch = findings.version_mismatch(info.version, data.get("version"), "import")
    data["findings"] = [mismatch.as_dict()] if mismatch else []
    if gpu_result is not None:
        gpu_lines = [ln for ln in gpu_result.output.strip().splitlines() if ln.startswith("{")]
        if not gpu_lines:
            raise CheckFailed("smoke --gpu: the GPU probe printed no result", detail=gpu_result.output[-2000:])
        data["gpu"] = gpu_mod.interpret(json.loads(gpu_lines[-1]), _built_for(wheel))
    if model_outcome is not None:
        data["model"] = model_outcome.as_dict()
    return data


def pair_packages(wheel: Path, choice: options.TvmChoice, console: Console) -> list[str]:
    """The TVM wheel to install beside ``wheel``, as a path in a one-item list; empty when there is none.

    ``choice`` (``--tvm``, ``MLC_TVM``): a wheel file, or the TVM wheel in a folder
    (:func:`tvmbuild.pick_wheel`). Otherwise the ``pair`` of the build report beside the wheel
    (``<wheel>.build.json``, written by ``build --tvm``): its file beside the wheel, whose SHA-256
    must be the one recorded. Raises UsageError for a named file that is missing, CheckFailed
    when the file beside the wheel is not the one the report names.
    """
    from mlc_devops import tvmbuild  # noqa: PLC0415
    from mlc_devops.supply import report as report_mod  # noqa: PLC0415

    if choice.kind == "wheel":
        path = Path(choice.value or "")
        if not path.is_file():
            raise UsageError(f"--tvm {path}: no such wheel file")
        console.say(f"    the TVM wheel of the pair: {path.name} (--tvm)")
        return [str(path.resolve())]
    if choice.kind == "directory":
        found = tvmbuild.pick_wheel(Path(choice.value or ""), exclude=reader.read_wheel(wheel).name)
        console.say(f"    the TVM wheel of the pair: {found.name} (from {found.parent})")
        return [str(found.resolve())]
    report_path = report_mod.report_path_for(wheel)
    if not report_path.is_file():
        return []
    pair = report_mod.load(report_path).pair
    if pair is None or pair.role != "tvm":
        return []
    beside = wheel.parent / pair.filename
    if not beside.is_file():
        raise UsageError(
            f"{report_path.name} pairs the wheel with {pair.filename}, which is not beside it in {wheel.parent}",
            hint="copy it there, or pass --tvm with the TVM wheel",
        )
    digest = hashlib.sha256(beside.read_bytes()).hexdigest()
    if digest != pair.sha256:
        raise CheckFailed(
            f"{pair.filename} beside the wheel has SHA-256 {digest[:12]}..., but {report_path.name} pairs the "
            f"wheel with {pair.sha256[:12]}...",
            hint="rebuild the pair, or pass --tvm with the TVM wheel",
        )
    console.say(f"    the TVM wheel of the pair: {pair.filename} (named by {report_path.name}, SHA-256 checked)")
    return [str(beside.resolve())]


def missing_module_error(module: str, info: reader.WheelInfo, installed: list[str], *, offline: bool) -> CheckFailed:
    """The error for ``import`` failing on a missing module: undeclared, or declared but not installed. Pure.

    A module is taken as covered by a declared requirement that is not installed
    and whose name holds every word of the module's name (``tvm_ffi`` and
    apache-tvm-ffi); an installed requirement evidently does not provide it.
    """
    top = module.split(".", 1)[0]
    present = {str(canonicalize_name(n)) for n in installed}
    words = resolution.library_tokens(top)
    covering = [
        d.name
        for d in info.requires_dist
        if d.name not in present and words <= frozenset(d.name.replace("_", "-").split("-"))
    ]
    if covering:
        how = "it was installed with --offline, alone" if offline else "pip did not install it"
        return CheckFailed(
            f"import {info.name} needs {top}, from the declared dependency {covering[0]}, "
            f"which is not installed ({how})",
            hint=f"pass --with {covering[0]}" + (" (a wheel file, with --offline)" if offline else ""),
        )
    return CheckFailed(
        f"import {info.name} needs {top}, an undeclared dependency: no Requires-Dist entry of the wheel covers it",
        hint=f"add {top} to [project].dependencies, or pass --with {top}",
    )


def dependency_lines(present: list[str], libraries: list[str], from_dependencies: list[str]) -> list[str]:
    """What the import loaded from other packages, for people. Pure.

    One line with the count, and one for each library of the same name as one the
    wheel ships but that came from elsewhere (upstream with apache-tvm: the
    process runs apache-tvm's libtvm_runtime.so, not the wheel's).
    """
    if not from_dependencies:
        return []
    out = [f"loaded by the import from its dependencies: {len(from_dependencies)} libraries (--json lists them)"]
    ours = {PurePosixPath(p).name: p for p in libraries if p not in present}
    for path in from_dependencies:
        name = PurePosixPath(path).name
        if name in ours:
            out.append(f"{name}: the process uses {path} from a dependency, not the wheel's {ours[name]}")
    return out


def _pip_progress(console: Console) -> Any:
    """Show pip's progress lines (what it collects and installs) while it works."""

    def on_line(line: str) -> None:
        if line.startswith(("Collecting ", "Installing collected", "Successfully installed")):
            console.say("    " + (line if len(line) < 160 else line[:157] + "..."))

    return on_line


def _built_for(wheel: Path) -> list[str] | None:
    """The CUDA architectures the build report beside the wheel records, if there is one."""
    report = report_path_for(wheel)
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
        with_packages=[
            *args.with_packages,
            *pair_packages(Path(args.wheel), options.resolve_smoke_tvm(args.tvm, env), console),
        ],
        index_url=args.index_url,
        tokenizer=args.tokenizer,
        python=args.python,
        keep_venv=Path(args.keep_venv) if args.keep_venv else None,
        gpu=args.gpu,
        gpu_elements=args.gpu_elements,
        find_links=options.resolve_find_links(args.find_links, env),
        model=modelcheck.plan(args.model, args.device, args.steps) if args.model else None,
        step_timeout=args.step_timeout,
        inherit_site_packages=args.inherit_site_packages,
    )
    if args.json:
        print(json.dumps({"schema": "mlc-devops/smoke/v1", **data}, indent=2))
    else:
        print(f"import {data['module'].rsplit('/', 1)[-1]} {data.get('version') or ''} from {data['module']}: ok")
        for name, where in sorted(data.get("finder", {}).items()):
            print(f"finder: {name} -> {where}")
        for path in data.get("present", []):
            print(f"loaded by the import: {path}")
        for line in dependency_lines(
            data.get("present", []), data.get("libraries", []), data.get("from_dependencies", [])
        ):
            print(line)
        for finding in data["findings"]:
            console.warn(f"finding: {finding['message']}")
        if "tokenizer" in data:
            print(f"tokenizer round trip: ok ({data['tokenizer']['tokens']} tokens)")
        if "gpu" in data:
            g = data["gpu"]
            print(
                f"gpu: {g['device']} ({g['arch']}), driver {g['driver']}: {g['check']} on {g['elements']} random "
                f"elements passed (worst error {g['max_ulp_ratio']:.2f} of the float32 tolerance)"
            )
        if "model" in data:
            for line in modelcheck.summary_lines(data["model"]):
                print(line)
        print("smoke: passed")
    return 0
