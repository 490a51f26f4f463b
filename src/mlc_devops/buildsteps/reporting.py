"""The build reports' sections, assembled from what the build found, and the pair entries naming each other."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from mlc_devops import fsutil, options, tvmbuild, urls, workspace
from mlc_devops.buildsteps.decisions import cmake_used
from mlc_devops.buildsteps.sourceinfo import submodules, tree_section, tvm_git_root, tvm_source_uri
from mlc_devops.report import BuildReport, report_path_for
from mlc_devops.ui import Console

TVM_PHASE = "tvm "  # the TVM wheel's phases: "tvm configure", "tvm compile", ...; its report's alone

# What every build report names (tools.VERSION_PROBES keys), besides nvcc and the compiler caches.

# What both wheels' reports take from validation's result (validate.validate).
REPORT_WHEEL_KEYS = ("filename", "sha256", "size", "libraries", "tags")
REPORT_VALIDATION_KEYS = (
    "package",
    "module_version",
    "glibc",
    "loaded",
    "resolution",
    "providers",
    "findings",
    "notes",
    "reused",
)


def pick(info: Mapping[str, Any], keys: Sequence[str]) -> dict[str, Any]:
    return {k: info[k] for k in keys}


def pair_entry(other: Mapping[str, Any], role: str, source_path: str) -> dict[str, Any]:
    """The ``pair`` entry of a report, naming the other wheel of the pair from that wheel's own report. Pure.

    ``{"role": "tvm"|"mlc_llm", "name", "version", "filename", "sha256", "source": {"path", "commit"},
    "origin": "built"}``: the digest is the one the other report records of its published wheel.
    """
    name, version = tvmbuild.wheel_project(str(other["wheel"]["filename"]))
    return {
        "role": role,
        "name": name,
        "version": version,
        "filename": other["wheel"]["filename"],
        "sha256": other["wheel"]["sha256"],
        "source": {"path": source_path, "commit": other["source"]["commit"]},
        "origin": "built",
    }


def prebuilt_entry(wheel: Path, choice: options.TvmChoice) -> dict[str, Any]:
    """The mlc_llm report's ``pair`` entry for a prebuilt TVM wheel: its digest, and its source commit when a
    build report came with it (``<wheel>.build.json`` beside it where ``--tvm`` named it)."""
    from mlc_devops.supply import report as report_mod  # noqa: PLC0415

    name, version = tvmbuild.wheel_project(wheel.name)
    beside = report_path_for(wheel)
    commit = report_mod.load(beside).source.commit if beside.is_file() else None
    return {
        "role": "tvm",
        "name": name,
        "version": version,
        "filename": wheel.name,
        "sha256": fsutil.sha256_file(wheel),
        "source": {"path": None, "commit": commit},
        "origin": "prebuilt",
        "from": urls.recorded(choice.value or "", "--tvm URL") if choice.kind == "index" else choice.value,
    }


def tvm_report(
    ws: workspace.Workspace,
    plan: tvmbuild.Plan,
    built: tvmbuild.Built,
    info: Mapping[str, Any],
    opts: options.BuildOptions,
    env: Mapping[str, str],
    console: Console,
    *,
    outputs: Sequence[Path],
    log_text: str,
    cache_section: dict[str, Any],
    tool_versions: Mapping[str, str | None],
    times: tuple[str, str],
) -> BuildReport:
    """The TVM wheel's build report: the mlc_llm report's schema and fields, of the TVM source, plus ``tvm``:
    ``{"llvm": {"config", "version"} | None, "cuda": {"toolkit", "driver_library", "note"} | None,
    "config_cmake": {name: value}, "targets", "cmake_args", "retag": {"from", "to", "reason"} | None,
    "build_dir"}``. Facts: the TVM source's git, the log of its build, validation of its wheel."""
    root = plan.source.root
    return BuildReport(
        layout=plan.source.layout,
        backends=list(plan.backends),
        cuda_architectures=list(plan.cuda_architectures),
        build_type=plan.build_type,
        jobs=opts.jobs,
        build_isolation=built.isolation,
        source={
            "path": str(root),
            "uri": tvm_source_uri(ws, plan.source, env),
            "commit": workspace.git_commit(tvm_git_root(ws.root, root), env),
            "commit_time": workspace.git_commit_time(tvm_git_root(ws.root, root), env),
        },
        submodules=submodules(root, env),
        tree=tree_section(root, env, console, outputs=outputs, warn=False),
        cargo={"locks": [], "missing": []},
        tool_versions={
            **tool_versions,
            **({"llvm": plan.llvm_version} if plan.llvm_version else {}),
            **cmake_used(log_text),
        },
        phases={k: v for k, v in console.timings.items() if k.startswith(TVM_PHASE)},
        started=times[0],
        finished=times[1],
        wheel=pick(info, REPORT_WHEEL_KEYS),
        cmake_floor={"version": workspace.version_text(built.cmake_floor[0]), "file": built.cmake_floor[1]},
        validation=pick(info, REPORT_VALIDATION_KEYS),
        compiler_cache=cache_section,
        tvm={
            "llvm": {"config": plan.llvm_config, "version": plan.llvm_version} if plan.llvm_config else None,
            "cuda": {"toolkit": plan.cuda_root, "driver_library": plan.cuda_driver, "note": " ".join(plan.notes)}
            if plan.cuda
            else None,
            "config_cmake": dict(plan.switches),
            "targets": list(plan.targets),
            "cmake_args": list(plan.user_args),
            "retag": built.retag,
            "build_dir": str(plan.build_dir),
        },
    )
