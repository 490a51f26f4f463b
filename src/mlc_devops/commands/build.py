"""``mlc-devops build``: config -> compile -> wheel -> repair -> validate -> report.

The wheel is built as upstream builds it for the layout at hand (root:
``pip wheel --no-deps -w dist .`` through scikit-build-core; legacy: cmake and
a build, then ``pip wheel python/``), into a staging folder under build/. Only
a wheel that passed validation is moved into dist/, with its report beside it,
so a failed or interrupted build leaves nothing there.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import importlib
import json
import re
import shutil
import sys
import tempfile
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlc_devops import (
    __version__,
    backends,
    cache,
    checks,
    fsutil,
    lock,
    options,
    platforms,
    tools,
    tvmbuild,
    urls,
    workspace,
)
from mlc_devops import run as run_mod
from mlc_devops.commands import _args
from mlc_devops.errors import BuildFailed, FindingsFailed, PrerequisiteMissing, UsageError, ValidationFailed
from mlc_devops.ui import Console, PhaseClock, Progress
from mlc_devops.wheel import repair, resolution, validate, venv

if TYPE_CHECKING:
    from mlc_devops.supply.tree import TreeState

REPORT_SCHEMA = "mlc-devops/build-report/v1"
REPORT_SUFFIX = ".build.json"
LOG_NAME = "mlc-devops-build.log"
WHEELHOUSE = "mlc-devops-wheelhouse"
TVM_PHASE = "tvm "  # the TVM wheel's phases: "tvm configure", "tvm compile", ...; its report's alone

# scikit-build-core's progress banners, and the phase each one starts.
SKBUILD_MARKERS = {
    "*** Configuring CMake": "configure",
    "*** Building project with": "compile",
    "*** Installing project into wheel": "package",
    "*** Making wheel": "package",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    _args.add_source(parser)
    _args.add_config(parser)
    parser.add_argument("-j", "--jobs", help="parallel compile jobs (env MLC_JOBS; default: cores capped by memory)")
    parser.add_argument("--dist", help="where the wheel goes (env MLC_DIST_DIR; default <source>/dist)")
    parser.add_argument(
        "--cache", choices=options.CACHE_CHOICES, help="compiler cache (env MLC_COMPILER_CACHE; default auto)"
    )
    parser.add_argument(
        "--cache-remote",
        dest="cache_remote",
        metavar="URL",
        help="shared compiler cache: redis://HOST:PORT (ccache or sccache), s3://BUCKET/PREFIX, "
        "gs://BUCKET/PREFIX (sccache), http://HOST/PATH (env MLC_CACHE_REMOTE)",
    )
    parser.add_argument("--layout", choices=options.LAYOUT_CHOICES, help="source layout (default: detect)")
    parser.add_argument("--repair", action="store_const", const="1", help="repair the wheel with auditwheel (Linux)")
    parser.add_argument(
        "--no-build-isolation",
        dest="build_isolation",
        action="store_const",
        const="0",
        help="build with the current environment's scikit-build-core/setuptools (offline)",
    )
    parser.add_argument(
        "--build-isolation",
        dest="build_isolation",
        action="store_const",
        const="1",
        help="build in pip's isolated environment, as upstream's CI does (env MLC_BUILD_ISOLATION; default auto)",
    )
    parser.add_argument("--clean-dist", action="store_true", help="remove older wheels of this project from dist/")
    parser.add_argument(
        "--with",
        dest="with_packages",
        action="append",
        default=[],
        metavar="PKG",
        help="a wheel file or requirement that validation may resolve libraries from although the wheel does not "
        "declare it (a TVM wheel for a legacy checkout): reported as an undeclared pairing",
    )
    parser.add_argument(
        "--find-links",
        dest="find_links",
        action="append",
        metavar="DIR",
        help="directory of wheels of the wheel's dependencies, for offline validation (env MLC_FIND_LINKS)",
    )
    parser.add_argument(
        "--fail-on-findings",
        dest="fail_on_findings",
        action="store_const",
        const="1",
        help="fail (exit 11) on findings: duplicated payloads, version mismatch, undeclared pairing "
        "(env MLC_FAIL_ON_FINDINGS)",
    )
    parser.add_argument(
        "--validation-cache",
        metavar="DIR|off",
        help="where passed validations are kept, to be reused for a byte-identical wheel with the same inputs; off "
        "validates afresh (env MLC_VALIDATION_CACHE; default: validation/ in the user's cache directory)",
    )
    parser.add_argument(
        "--wait", action="store_true", help="wait for another build of this workspace instead of refusing"
    )
    parser.add_argument(
        "--tvm",
        metavar="source|PATH|URL",
        help="also give the TVM wheel of the pair: source (build it from the checkout's TVM source, with LLVM and, "
        "for --backend cuda, CUDA code generation), a wheel file, a folder of wheels, or a package index URL "
        "(URL#NAME for the project); both build reports name each other (env MLC_TVM; default: none)",
    )
    parser.add_argument(
        "--llvm-config",
        dest="llvm_config",
        metavar="PATH",
        help="llvm-config of the LLVM that --tvm source builds TVM's compiler with (env MLC_LLVM_CONFIG; default: "
        "llvm-config on PATH, else the highest llvm-config-N)",
    )


# --- pure decisions -----------------------------------------------------------------


def root_wheel_command(
    python: str,
    source: Path,
    wheelhouse: Path,
    build_type: str,
    *,
    isolation: bool,
    defines: Mapping[str, str] | None = None,
    cmake_floor: tuple[int, ...] | None = None,
    build_dir: Path | None = None,
) -> list[str]:
    """``pip wheel`` at the root, as upstream's CI runs it, plus the tool's settings.

    ``build_dir`` becomes scikit-build-core's ``build-dir``, so that CMake configures
    where the tool wrote config.cmake whatever the project or the environment says
    (``SKBUILD_BUILD_DIR`` would still win over it: :func:`without_redirects` drops it).

    ``cmake_floor`` becomes scikit-build-core's ``cmake.version``: it uses a CMake
    that meets it and, in an isolated build, fetches one from PyPI when the one
    it finds is older (upstream's pyproject sets none, so by default it checks
    only the root CMakeLists' 3.18 and runs Debian 12's 3.25 into tvm-ffi's 3.26).
    """
    cmd = [
        python,
        "-m",
        "pip",
        "wheel",
        "--no-deps",
        "-w",
        str(wheelhouse),
        "-v",
        # CMake 4 from PyPI refuses submodules that ask for a minimum below 3.5 (msgpack in tokenizers-cpp).
        "-C",
        "cmake.define.CMAKE_POLICY_VERSION_MINIMUM=3.5",
        "-C",
        f"cmake.build-type={build_type}",
    ]
    if cmake_floor is not None:
        cmd += ["-C", f"cmake.version=>={workspace.version_text(cmake_floor)}"]
    if build_dir is not None:
        cmd += ["-C", f"build-dir={build_dir}"]
    for key, value in sorted((defines or {}).items()):
        cmd += ["-C", f"cmake.define.{key}={value}"]
    if not isolation:
        cmd.append("--no-build-isolation")
    cmd.append(str(source))
    return cmd


# Variables that move the build away from build/, where config.cmake is: dropped from the build's environment.
REDIRECTS = ("SKBUILD_BUILD_DIR",)


def without_redirects(env: Mapping[str, str]) -> dict[str, str]:
    """``env`` without :data:`REDIRECTS` (scikit-build-core's SKBUILD_* settings win over ``-C``). Pure."""
    return {k: v for k, v in env.items() if k not in REDIRECTS}


def backend_defines(config: backends.CMakeConfig) -> dict[str, str]:
    """The USE_* switches of config.cmake, passed again as ``-D`` so CMakeCache.txt records them. Pure.

    A stale entry from an earlier configure (which config.cmake's plain ``set`` would
    shadow) is overwritten, so the cache says what CMake was given; anything that still
    changes one (CMAKE_ARGS) shows up in :func:`check_configured`.
    """
    return checks.asked_switches(config)


def start_afresh(build_dir: Path) -> list[str]:
    """Remove CMake's state (CMakeCache.txt, CMakeFiles/) from ``build_dir``, as CMake's own error asks;
    returns the names removed. The compiler cache and cargo's target dir live outside build/ and stay."""
    removed = []
    cache_file = build_dir / checks.CACHE_FILE
    if cache_file.exists():
        cache_file.unlink()
        removed.append(checks.CACHE_FILE)
    files = build_dir / "CMakeFiles"
    if files.is_dir():
        shutil.rmtree(files)
        removed.append("CMakeFiles/")
    return removed


def check_configured(ws: workspace.Workspace, config: backends.CMakeConfig, env: Mapping[str, str]) -> None:
    """After configure: every USE_* in build/CMakeCache.txt is what the tool's config asked.

    Raises :class:`BuildFailed` (exit 4) naming the first switch that differs, asked vs configured,
    and the likely cause (:func:`checks.likely_override`), or when configure left no CMakeCache.txt in
    build/. Facts: build/CMakeCache.txt.
    """
    cache = checks.read_build_cache(ws.build_dir)
    if cache is None:
        raise BuildFailed(
            f"configure wrote no {checks.CACHE_FILE} in {ws.build_dir}, where mlc-devops wrote config.cmake",
            hint=checks.likely_override("", env, ws.layout),
        )
    wrong = checks.configured_mismatches(checks.asked_switches(config), cache)
    if wrong:
        raise BuildFailed(
            checks.mismatch_message(wrong[0]),
            hint=checks.likely_override(wrong[0].option, env, ws.layout),
            detail="\n".join(checks.mismatch_message(m) for m in wrong[1:]),
        )


def legacy_configure_command(
    source: Path,
    build_dir: Path,
    build_type: str,
    generator: str | None,
    defines: Mapping[str, str] | None = None,
    cmake: str = "cmake",
) -> list[str]:
    cmd = [
        cmake,
        "-S",
        str(source),
        "-B",
        str(build_dir),
        f"-DCMAKE_BUILD_TYPE={build_type}",
        "-DCMAKE_POLICY_VERSION_MINIMUM=3.5",
    ]
    cmd += [f"-D{key}={value}" for key, value in sorted((defines or {}).items())]
    if generator:
        cmd[1:1] = ["-G", generator]
    return cmd


def legacy_compile_command(build_dir: Path, jobs: int, build_type: str, cmake: str = "cmake") -> list[str]:
    return [cmake, "--build", str(build_dir), "--parallel", str(jobs), "--config", build_type]


def legacy_package_command(python: str, python_dir: Path, wheelhouse: Path, *, isolation: bool) -> list[str]:
    cmd = [python, "-m", "pip", "wheel", "--no-deps", "-w", str(wheelhouse), "-v"]
    if not isolation:
        cmd.append("--no-build-isolation")
    cmd.append(str(python_dir))
    return cmd


def choose_isolation(requested: bool | None, *, backend_here: bool, cmake_ok: bool) -> bool:
    """pip build isolation. Asked for: as asked. Auto: off when the build backend is importable here and
    the cmake on PATH meets the tree's floor (an isolated build reconfigures from scratch every time,
    since its temporary environment changes), on otherwise (pip then fetches what is missing)."""
    if requested is not None:
        return requested
    return not (backend_here and cmake_ok)


def choose_generator(*, windows: bool, ninja: bool) -> str | None:
    if windows:
        return None  # CMake's default there: the newest Visual Studio
    return "Ninja" if ninja else "Unix Makefiles"


# CUDA architecture names that stand for several architectures.
_MANY_ARCHS = {"all": 8, "all-major": 4, "native": 1}


def nvcc_threads(jobs: int, capacity: int, archs: Sequence[str]) -> int:
    """nvcc's --threads (one per architecture at most) so that jobs x threads stays within what the
    machine holds (``capacity``: cores capped by memory, the default --jobs)."""
    wanted = sum(_MANY_ARCHS.get(a, 1) for a in archs) or 1
    return max(1, min(wanted, capacity // max(1, jobs)))


def build_environment(
    base: Mapping[str, str],
    *,
    jobs: int,
    launcher_vars: Mapping[str, str],
    source_date_epoch: int | None,
    cuda_threads: int | None,
) -> dict[str, str]:
    env = dict(base)
    env["CMAKE_BUILD_PARALLEL_LEVEL"] = str(jobs)
    env.update(launcher_vars)
    if source_date_epoch is not None and options.resolve_one("source_date_epoch", env).origin == "default":
        env["SOURCE_DATE_EPOCH"] = str(source_date_epoch)  # the commit's time, unless the caller chose one
    if cuda_threads is not None:
        extra = f"--threads {cuda_threads}"
        env["CUDAFLAGS"] = f"{env['CUDAFLAGS']} {extra}" if env.get("CUDAFLAGS") else extra
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def stale_wheels(existing: Sequence[str], project: str, new_name: str) -> list[str]:
    """Wheels of the same project in dist/ that are not the one being written."""
    from packaging.utils import canonicalize_name, parse_wheel_filename  # noqa: PLC0415

    out = []
    for name in existing:
        try:
            other = parse_wheel_filename(name)[0]
        except ValueError:
            continue
        if canonicalize_name(other) == canonicalize_name(project) and name != new_name:
            out.append(name)
    return sorted(out)


_SKBUILD_CMAKE = re.compile(r"scikit-build-core \S+ using CMake (\d+(?:\.\d+)+)")
_CMAKE_VERSION_LINE = re.compile(r"^cmake version (\d+(?:\.\d+)+)", re.MULTILINE)


def cmake_used(log: str) -> dict[str, str]:
    """The CMake the build really ran, from its log: ``{"cmake": "3.31.10"}``, or empty when the log does not say.

    scikit-build-core prints ``*** scikit-build-core X using CMake Y (wheel)``;
    that CMake can differ from PATH's (fetched from PyPI to meet the floor).
    """
    match = _SKBUILD_CMAKE.search(log) or _CMAKE_VERSION_LINE.search(log)
    return {"cmake": match.group(1)} if match else {}


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


def _pick(info: Mapping[str, Any], keys: Sequence[str]) -> dict[str, Any]:
    return {k: info[k] for k in keys}


def utc_now() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class BuildResult:
    wheel: Path
    report_path: Path
    report: dict[str, Any] = field(default_factory=dict)


# --- the edge ------------------------------------------------------------------------


def _check_dist_writable(dist: Path) -> None:
    fsutil.ensure_dir(dist, "dist directory")
    try:
        with tempfile.NamedTemporaryFile(dir=dist, prefix=".mlc-devops-probe-"):
            pass
    except OSError as exc:
        raise PrerequisiteMissing(
            f"dist directory {dist} is not writable: {exc.strerror or exc}", hint="pass --dist to a writable directory"
        ) from None


# What every build report names (tools.VERSION_PROBES keys), besides nvcc and the compiler caches.
REPORT_TOOLS = ("cmake", "ninja", "c++", "cargo", "rustc")


def build(
    opts: options.BuildOptions,
    env: Mapping[str, str],
    console: Console,
    *,
    clean_dist: bool = False,
    wait: bool = False,
) -> BuildResult:
    """Build the wheel (and with ``opts.tvm`` source, the TVM wheel first), validate, report, publish.

    The questions whose answers the report needs and the build does not (the
    programs' versions, the checkout's origin, commit and submodules) are asked
    in threads while the build runs: they are child processes, so on a rebuild
    they cost no wall time of their own (issue 12, goal 4).
    """
    pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="build-facts")
    try:
        return _build(opts, env, console, pool, clean_dist=clean_dist, wait=wait)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def _source_facts(root: Path, env: Mapping[str, str]) -> dict[str, Any]:
    """The report's ``source`` (less ``commit_time``, which the build needs first) and ``submodules``."""
    return {
        "uri": _source_uri(root, env),
        "commit": workspace.git_commit(root, env),
        "submodules": _submodules(root, env),
    }


# What the steps after the build import (validation reuse's wheel reader with packaging's requirements
# and email's parser, the SBOM's tree and cargo readers): 0.03-0.07 s that the tool would spend after
# pip returns, measured with cProfile on the scalable stand-in (issue 12, goal 4).
AFTER_THE_BUILD_MODULES = ("mlc_devops.wheel.reader", "mlc_devops.supply.tree", "mlc_devops.supply.cargo")


def _import_for_after_the_build() -> None:
    """Import :data:`AFTER_THE_BUILD_MODULES` in a thread while the build runs (the import lock makes
    a later import of the same module in the main thread wait for this one, never run it twice)."""
    for name in AFTER_THE_BUILD_MODULES:
        importlib.import_module(name)


def _build(
    opts: options.BuildOptions,
    env: Mapping[str, str],
    console: Console,
    pool: ThreadPoolExecutor,
    *,
    clean_dist: bool,
    wait: bool,
) -> BuildResult:
    ws = workspace.detect(opts.source, opts.layout)
    probes = tools.VersionProbes(env, pool=pool)
    probes.start([*REPORT_TOOLS, *(["nvcc"] if "cuda" in opts.config.backends else [])])
    source_facts = pool.submit(_source_facts, ws.root, env)
    pool.submit(_import_for_after_the_build)
    plat = platforms.current()
    console.say(f"source:   {ws.root}")
    console.say(f"layout:   {ws.layout}: {workspace.LAYOUT_DESCRIPTIONS[ws.layout]}")
    console.say(f"backends: {', '.join(sorted(opts.config.backends))}; jobs: {opts.jobs}")
    started = utc_now()

    with console.phase("preflight"):
        results = checks.run_checks(
            ws,
            opts.config,
            env,
            build_isolation=opts.build_isolation,
            tvm_source_dir_explicit=opts.origins.get("tvm_source_dir", options.Resolved(None, "default")).origin
            != "default",
            probes=probes,
        )
        for check in results:
            if check.status == "warn":
                console.warn(checks.format_check(check))
        bad = checks.blocking(results)
        if bad:
            raise PrerequisiteMissing(
                f"{bad[0].name}: {bad[0].detail}",
                hint=bad[0].fix,
                detail="\n".join(checks.format_check(c) for c in bad),
            )
        if opts.repair and plat.can_repair:
            repair.auditwheel_program(env)  # before compiling, not after
        cmake_check = next((c for c in results if c.name == "cmake"), None)
        floor, floor_file = checks.cmake_floor_of(ws)
        isolation = choose_isolation(
            opts.build_isolation,
            # asked only when it decides (auto): reading the installed distributions takes 0.04-0.06 s
            backend_here=opts.build_isolation is None and workspace.requirements_met(workspace.build_requirements(ws)),
            cmake_ok=ws.layout == "legacy" or (cmake_check is not None and cmake_check.status == "ok"),
        )
        console.say(f"    pip build isolation: {'on' if isolation else 'off'}")
        tvm_plan = tvmbuild.plan(ws.root, ws.build_dir, opts, env, console) if opts.tvm.kind == "source" else None
        if tvm_plan is not None:
            lacking = tvmbuild.missing_backends(opts.config.backends, tvm_plan.backends)
            if lacking:
                console.warn(
                    f"the TVM wheel is built for {', '.join(tvm_plan.backends)} only; it generates no code for "
                    f"{', '.join(lacking)}, which the mlc_llm wheel is built with"
                )
    if any(c.name == "build cache" and c.status == "warn" for c in results):
        with lock.workspace_lock(ws.build_dir, wait=wait, on_wait=console.say):
            removed = start_afresh(ws.build_dir)
        if removed:
            console.say(f"    starting {ws.build_dir} afresh: removed {' and '.join(removed)} (compiler cache kept)")
    dist = opts.dist_dir if opts.dist is None or opts.dist.is_absolute() else Path.cwd() / opts.dist
    dist = dist.resolve()
    _check_dist_writable(dist)
    build_dir = ws.build_dir
    fsutil.ensure_dir(build_dir, "build directory")

    with lock.workspace_lock(build_dir, wait=wait, on_wait=console.say), contextlib.ExitStack() as cleanup:
        with console.phase("config"):
            config_path = build_dir / "config.cmake"
            fsutil.write_text_atomic(config_path, backends.render(opts.config))
            console.say(f"    wrote {config_path}")
            if (ws.root / "config.cmake").is_file():
                console.warn(
                    f"{ws.root / 'config.cmake'} is ignored: CMakeLists.txt includes build/config.cmake first, "
                    "and mlc-devops writes that one from your options"
                )
        sccache_path = run_mod.which("sccache", env)
        launcher = cache.choose(
            opts.cache,
            ccache=run_mod.which("ccache", env),
            sccache=sccache_path,
            env=env,
            remote=opts.cache_remote,
        )
        wiring = cache.wire(launcher, ws.root, env, remote=opts.cache_remote, sccache=sccache_path)
        defines = cache.launcher_defines(launcher, windows=sys.platform.startswith("win"))
        console.say(f"    compiler cache: {cache.describe(wiring)}")
        archs = opts.config.cuda_architectures
        capacity = options.default_jobs(options.cpu_count(), options.memory_bytes())
        commit_time = workspace.git_commit_time(ws.root, env)
        build_env = build_environment(
            env,
            jobs=opts.jobs,
            launcher_vars=wiring.env,
            source_date_epoch=commit_time,
            cuda_threads=nvcc_threads(opts.jobs, capacity, archs) if "cuda" in opts.config.backends else None,
        )
        stats_before = cache.begin(wiring, build_env)  # sccache: this build's own server and settings
        tool_names = (["nvcc"] if "cuda" in opts.config.backends else []) + (
            [launcher.kind] if launcher.kind != "none" else []
        )
        report_tools = [
            *REPORT_TOOLS,
            *tool_names,
            *(["sccache"] if wiring.rust is not None and launcher.kind != "sccache" else []),
        ]
        probes.start(report_tools)
        tvm_prebuilt: Path | None = None
        tvm_started = tvm_finished = started
        cleanup.callback(cache.end, wiring, build_env)
        wheelhouse = build_dir / WHEELHOUSE
        shutil.rmtree(wheelhouse, ignore_errors=True)
        wheelhouse.mkdir(parents=True)
        log_path = build_dir / LOG_NAME
        tvm_built: tvmbuild.Built | None = None
        tvm_info: dict[str, Any] | None = None
        tvm_stats: cache.Stats | None = None
        tvm_log = 0
        with open(log_path, "w", encoding="utf-8") as log:
            try:
                if tvm_plan is not None:
                    tvm_started = utc_now()
                    tvm_built = tvmbuild.build(tvm_plan, opts, build_env, defines, console, log)
                    if opts.repair:
                        tvm_built.wheel = _repair(tvm_built.wheel, opts, plat, build_env, console, "tvm repair")
                    with console.phase("tvm validate"):
                        tvm_info = _validate_tvm(tvm_built.wheel, plat, build_env, opts)
                        say_validation(console, tvm_info)
                    log.flush()
                    tvm_log = len(log_path.read_text(encoding="utf-8", errors="replace"))
                    tvm_stats = cache.collect(wiring, build_env)
                    tvm_finished = utc_now()
                elif opts.tvm.wanted:
                    with console.phase("tvm wheel"):
                        tvm_prebuilt = tvmbuild.fetch_prebuilt(
                            opts.tvm,
                            build_dir / tvmbuild.WORK_DIR / "prebuilt",
                            build_env,
                            exclude=ws.project_name,
                            project=_tvm_project_name(ws, opts),
                        )
                        console.say(f"    {tvm_prebuilt.name}: {opts.tvm.kind} {opts.tvm.value}")
                if ws.layout == "root":
                    _build_root(
                        ws, opts, build_env, wheelhouse, console, log, isolation=isolation, defines=defines, floor=floor
                    )
                else:
                    _build_legacy(
                        ws, opts, build_env, wheelhouse, console, log, isolation=isolation, defines=defines, floor=floor
                    )
            except BuildFailed as exc:
                exc.hint = exc.hint or f"the full log is {log_path}"
                raise
        wheels = sorted(wheelhouse.glob("*.whl"))
        if len(wheels) != 1:
            raise BuildFailed(f"expected one wheel from the build, found {len(wheels)}", hint=f"see {log_path}")
        # Asked while the wheel is repaired and validated (processes of their own, which nothing after
        # the compiles changes): the caches' counts, and the state of the checkout the wheel came from.
        outputs = [build_dir, dist, _cargo_target(ws.root, build_env), *cache.local_dirs(build_env, ws.root)]
        stats_after_asked = pool.submit(cache.collect, wiring, build_env)
        tree_asked = pool.submit(_tree_states, ws.root, env, outputs)
        tvm_wheel = tvm_built.wheel if tvm_built is not None else tvm_prebuilt if opts.tvm.wanted else None
        wheel = wheels[0]
        retagged = tvmbuild.retag(wheel, wheelhouse / "retagged") if ws.layout == "legacy" else None
        if retagged is not None:
            # mlc-llm's legacy python/setup.py declares has_ext_modules, as TVM's does, so pip tags the
            # wheel for the CPython that built it although ctypes loads its libraries (34497eae: cp311-cp311).
            wheel, mlc_retag = retagged
            console.say(f"    retagged {mlc_retag['from']} -> {mlc_retag['to']}: {mlc_retag['reason']}")
        if opts.repair:
            wheel = _repair(wheel, opts, plat, build_env, console)
        with console.phase("validate"):
            leaked = venv.leaky_variables(build_env)
            if leaked:
                console.say(f"    validating without {', '.join(leaked)} (users do not have them)")
            paired = (str(tvm_wheel),) if tvm_wheel is not None else ()
            info = validate.validate(
                wheel, plat, build_env, with_packages=(*opts.with_packages, *paired), find_links=opts.find_links
            )
            if tvm_wheel is not None:
                info["findings"] = tvmbuild.name_pair(info["findings"], tvm_wheel.name)
            say_validation(console, info)
        found = [*(tvm_info or {}).get("findings", []), *info["findings"]]
        if found and opts.fail_on_findings:
            raise FindingsFailed(
                f"{len(found)} finding(s) and --fail-on-findings: {found[0]['message']}",
                detail="\n".join(f["message"] for f in found[1:]),
                hint="fix them, or build without --fail-on-findings (MLC_FAIL_ON_FINDINGS)",
            )
        stats_after = stats_after_asked.result()
        log_text = log_path.read_text(encoding="utf-8", errors="replace")
        facts = source_facts.result()
        report = {
            "schema": REPORT_SCHEMA,
            "tool": {"name": "mlc-devops", "version": __version__},
            "layout": ws.layout,
            "backends": sorted(opts.config.backends),
            "cuda_architectures": list(archs),
            "build_type": opts.config.build_type,
            "jobs": opts.jobs,
            "build_isolation": isolation,
            "retag": retagged[1] if retagged is not None else None,
            "source": {
                "path": str(ws.root),
                "uri": facts["uri"],
                "commit": facts["commit"],
                "commit_time": commit_time,
            },
            "submodules": facts["submodules"],
            "tree": _tree(ws.root, env, console, outputs=outputs, states=tree_asked.result()),
            "cargo": _cargo(ws.root, [str(lib["path"]) for lib in info["libraries"]], console),
            "tool_versions": {
                **probes.versions(report_tools),
                **cmake_used(log_text[tvm_log:]),
            },
            "phases": {k: v for k, v in console.timings.items() if not k.startswith(TVM_PHASE)},
            "started": started,
            "finished": utc_now(),
            "wheel": _pick(info, REPORT_WHEEL_KEYS),
            "cmake_floor": {"version": workspace.version_text(floor), "file": floor_file},
            "validation": _pick(info, REPORT_VALIDATION_KEYS),
            "compiler_cache": cache.report(
                wiring,
                tvm_stats if tvm_built is not None else stats_before,
                stats_after,
                compile_steps=cache.count_compile_steps(log_text[tvm_log:]),
            ),
        }
        published: list[tuple[Path, dict[str, Any] | None, str]] = [(wheel, report, ws.project_name)]
        if tvm_plan is not None and tvm_built is not None and tvm_info is not None:
            tvm_report = _tvm_report(
                ws,
                tvm_plan,
                tvm_built,
                tvm_info,
                opts,
                env,
                console,
                outputs=[build_dir, dist, *cache.local_dirs(build_env, ws.root)],
                log_text=log_text[:tvm_log],
                cache_section=cache.report(
                    wiring, stats_before, tvm_stats, compile_steps=cache.count_compile_steps(log_text[:tvm_log])
                ),
                tool_versions=probes.versions(["cmake", "ninja", "c++", *tool_names]),
                times=(tvm_started, tvm_finished),
            )
            report["pair"] = pair_entry(tvm_report, "tvm", tvm_plan.source.relative)
            tvm_report["pair"] = pair_entry(report, "mlc_llm", ".")
            published.append((tvm_built.wheel, tvm_report, tvm_plan.source.project))
        elif tvm_wheel is not None:
            report["pair"] = prebuilt_entry(tvm_wheel, opts.tvm)
            published.append((tvm_wheel, None, tvmbuild.wheel_project(tvm_wheel.name)[0]))
        target = _publish(published, dist, console, clean_dist=clean_dist)
    return BuildResult(target, target.with_name(target.name + REPORT_SUFFIX), report)


def _validate_tvm(
    wheel: Path, plat: platforms.Platform, env: dict[str, str], opts: options.BuildOptions
) -> dict[str, Any]:
    """Validate the TVM wheel as the mlc_llm wheel is (:func:`validate.validate`); a library that nothing
    provides gets the hint to repair (TVM's libtvm.so NEEDs LLVM's shared library, which only the build
    machine has until auditwheel bundles it)."""
    try:
        return validate.validate(wheel, plat, env, find_links=opts.find_links)
    except ValidationFailed as exc:
        if not opts.repair and plat.can_repair and ": not found;" in exc.message:
            exc.hint = (
                "pass --repair: auditwheel bundles what TVM's libraries link (LLVM's shared library) into its wheel"
            )
        raise


def _tvm_project_name(ws: workspace.Workspace, opts: options.BuildOptions) -> str | None:
    """The TVM source's own project name, for ``--tvm URL`` without ``#NAME``; None without a TVM source."""
    try:
        return tvmbuild.read_source(ws.root, opts.config.tvm_source_dir).project
    except UsageError:
        return None


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
    beside = report_mod.report_path_for(wheel)
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


def tvm_git_root(checkout: Path, tvm_root: Path) -> Path:
    """Where the TVM source's git facts (origin, commit) come from: its own repository (a submodule, a
    clone), or the checkout's when it is a folder the checkout tracks itself, with no ``.git`` of its own
    (the stand-in's 3rdparty/tvm): its files are then those of the checkout's commit."""
    if not (tvm_root / ".git").exists() and tvm_root.resolve().is_relative_to(checkout.resolve()):
        return checkout
    return tvm_root


def _tvm_source_uri(ws: workspace.Workspace, source: tvmbuild.Source, env: Mapping[str, str]) -> str | None:
    """The TVM source's URL: the checkout's .gitmodules entry for its path (what upstream declares), else
    the origin of the TVM repository (:func:`tvm_git_root`: the checkout's, for a folder it tracks itself)."""
    gitmodules = ws.root / ".gitmodules"
    if gitmodules.is_file():
        for module in workspace.parse_gitmodules(gitmodules.read_text(encoding="utf-8")):
            if module.path == source.relative and module.url:
                url = urls.recorded(module.url, "submodule URL")
                return url if url.startswith("git+") else f"git+{url}"
    return _source_uri(tvm_git_root(ws.root, source.root), env)


def _tvm_report(
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
) -> dict[str, Any]:
    """The TVM wheel's build report: the mlc_llm report's schema and fields, of the TVM source, plus ``tvm``:
    ``{"llvm": {"config", "version"} | None, "cuda": {"toolkit", "driver_library", "note"} | None,
    "config_cmake": {name: value}, "targets", "cmake_args", "retag": {"from", "to", "reason"} | None,
    "build_dir"}``. Facts: the TVM source's git, the log of its build, validation of its wheel."""
    root = plan.source.root
    return {
        "schema": REPORT_SCHEMA,
        "tool": {"name": "mlc-devops", "version": __version__},
        "layout": plan.source.layout,
        "backends": list(plan.backends),
        "cuda_architectures": list(plan.cuda_architectures),
        "build_type": plan.build_type,
        "jobs": opts.jobs,
        "build_isolation": built.isolation,
        "source": {
            "path": str(root),
            "uri": _tvm_source_uri(ws, plan.source, env),
            "commit": workspace.git_commit(tvm_git_root(ws.root, root), env),
            "commit_time": workspace.git_commit_time(tvm_git_root(ws.root, root), env),
        },
        "submodules": _submodules(root, env),
        "tree": _tree(root, env, console, outputs=outputs, warn=False),
        "cargo": {"locks": [], "missing": []},
        "tool_versions": {
            **tool_versions,
            **({"llvm": plan.llvm_version} if plan.llvm_version else {}),
            **cmake_used(log_text),
        },
        "phases": {k: v for k, v in console.timings.items() if k.startswith(TVM_PHASE)},
        "started": times[0],
        "finished": times[1],
        "wheel": _pick(info, REPORT_WHEEL_KEYS),
        "cmake_floor": {"version": workspace.version_text(built.cmake_floor[0]), "file": built.cmake_floor[1]},
        "validation": _pick(info, REPORT_VALIDATION_KEYS),
        "compiler_cache": cache_section,
        "tvm": {
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
    }


def say_validation(console: Console, info: Mapping[str, Any]) -> None:
    """Validation's result for people: what loaded, where NEEDED entries came from beyond the wheel, findings."""
    console.say(f"    {info['filename']}: tags ok; loaded {', '.join(str(x) for x in info['loaded']) or 'nothing'}")
    counts: dict[str, int] = {}
    for item in info["resolution"]:
        counts[item["kind"]] = counts.get(item["kind"], 0) + 1
    if counts:
        console.say(
            f"    NEEDED entries resolved: {sum(counts.values())} ("
            + ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
            + ")"
        )
    entries = [resolution.Resolution(i["library"], i["needed"], i["kind"], i["where"]) for i in info["resolution"]]
    for line in resolution.summary_lines(entries):
        console.say(f"    {line}")
    for note in info["notes"]:
        console.say(f"    {note}")
    for finding in info["findings"]:
        console.warn(f"finding: {finding['message']}")


def _stream(console: Console, log: Any, extra: Sequence[Any] = ()) -> Any:
    progress = Progress(console)

    def on_line(line: str) -> None:
        progress.feed(line)
        for watcher in extra:
            watcher.feed(line)

    return on_line


def _build_root(
    ws: workspace.Workspace,
    opts: options.BuildOptions,
    env: dict[str, str],
    wheelhouse: Path,
    console: Console,
    log: Any,
    *,
    isolation: bool,
    defines: Mapping[str, str],
    floor: tuple[int, ...],
) -> None:
    cmd = root_wheel_command(
        sys.executable,
        ws.root,
        wheelhouse,
        opts.config.build_type,
        isolation=isolation,
        defines={**defines, **backend_defines(opts.config)},
        cmake_floor=floor,
        build_dir=ws.build_dir,
    )
    console.say("==> prepare (pip and the isolated build environment)" if isolation else "==> prepare")
    clock = PhaseClock(console, SKBUILD_MARKERS, "prepare")
    try:
        run_mod.run(
            cmd,
            cwd=ws.root,
            env=without_redirects(env),
            capture=False,
            log=log,
            on_line=_stream(console, log, [clock]),
            what="pip wheel (scikit-build-core)",
        )
    finally:
        clock.finish()
    check_configured(ws, opts.config, env)


def _build_legacy(
    ws: workspace.Workspace,
    opts: options.BuildOptions,
    env: dict[str, str],
    wheelhouse: Path,
    console: Console,
    log: Any,
    *,
    isolation: bool,
    defines: Mapping[str, str],
    floor: tuple[int, ...],
) -> None:
    generator = choose_generator(windows=sys.platform.startswith("win"), ninja=run_mod.which("ninja", env) is not None)
    cmake = tools.cmake_program(floor, env)
    if cmake != "cmake":
        console.say(f"    cmake: {cmake} (the one on PATH is older than {workspace.version_text(floor)})")
    run_mod.run([cmake, "--version"], env=env, capture=False, log=log, what="cmake --version")  # into the log
    with console.phase("configure"):
        run_mod.run(
            [
                *legacy_configure_command(
                    ws.root,
                    ws.build_dir,
                    opts.config.build_type,
                    generator,
                    {**defines, **backend_defines(opts.config)},
                    cmake,
                ),
                # last, so that the user's -D wins, as scikit-build-core appends it in the root layout
                *tvmbuild.cmake_args(env),
            ],
            cwd=ws.root,
            env=env,
            capture=False,
            log=log,
            what="cmake configure",
        )
        check_configured(ws, opts.config, env)
    with console.phase("compile"):
        run_mod.run(
            legacy_compile_command(ws.build_dir, opts.jobs, opts.config.build_type, cmake),
            cwd=ws.root,
            env=env,
            capture=False,
            log=log,
            on_line=_stream(console, log),
            what="cmake --build",
        )
    with console.phase("package"):
        run_mod.run(
            legacy_package_command(sys.executable, ws.python_dir, wheelhouse, isolation=isolation),
            cwd=ws.python_dir,
            env=env,
            capture=False,
            log=log,
            what="pip wheel python/",
        )


def _repair(
    wheel: Path,
    opts: options.BuildOptions,
    plat: platforms.Platform,
    env: dict[str, str],
    console: Console,
    phase: str = "repair",
) -> Path:
    if not plat.can_repair:
        console.say(f"    {phase}: not needed on {plat.name}; the wheel ships as built")
        return wheel
    with console.phase(phase):
        repaired = repair.repair(wheel, opts.config.backends, env)
        console.say(f"    repaired: {repaired.name}")
        return repaired


def _publish(
    wheels: Sequence[tuple[Path, dict[str, Any] | None, str]], dist: Path, console: Console, *, clean_dist: bool
) -> Path:
    """Move each ``(wheel, report or None, project)`` into ``dist`` together (one :func:`fsutil.publish`); the
    first wheel's path in dist. A wheel already there (a prebuilt TVM named from dist/) stays as it is."""
    files: list[tuple[Path, bytes | Path]] = []
    for wheel, report, project in wheels:
        target = dist / wheel.name
        stale = stale_wheels([p.name for p in dist.glob("*.whl")], project, wheel.name)
        if stale:
            if clean_dist:
                for name in stale:
                    (dist / name).unlink()
                    report_file = dist / (name + REPORT_SUFFIX)
                    if report_file.exists():
                        report_file.unlink()
                console.say(f"    removed older wheels from {dist}: {', '.join(stale)}")
            else:
                console.warn(
                    f"{dist} also holds {', '.join(stale)} from earlier builds; pass --clean-dist to remove them"
                )
        if target.exists() and target.samefile(wheel):
            continue
        if target.exists():
            console.say(f"    replacing {target.name} in {dist}")
        files.append((target, wheel))
        if report is not None:
            report_text = json.dumps(report, indent=2, sort_keys=True) + "\n"
            files.append((dist / (wheel.name + REPORT_SUFFIX), report_text.encode("utf-8")))
    fsutil.publish(files)
    return dist / wheels[0][0].name


def _source_uri(root: Path, env: Mapping[str, str]) -> str | None:
    url = workspace.git_remote_url(root, env)
    if not url:
        return None
    url = urls.recorded(url, "origin URL")
    return url if url.startswith("git+") else f"git+{url}"


def _submodules(root: Path, env: Mapping[str, str]) -> list[dict[str, Any]]:
    gitmodules = root / ".gitmodules"
    modules = workspace.parse_gitmodules(gitmodules.read_text(encoding="utf-8")) if gitmodules.is_file() else []
    states = {s.path: s for s in workspace.submodule_states(root, env)}
    return [
        {
            "path": m.path,
            "url": urls.recorded(m.url, "submodule URL"),
            "commit": states[m.path].commit if m.path in states else None,
        }
        for m in modules
    ]


def _cargo_target(root: Path, build_env: Mapping[str, str]) -> Path:
    """cargo's target directory for this build: the one its environment names, else the tool's default."""
    named = build_env.get("CARGO_TARGET_DIR") or build_env.get("CARGO_BUILD_TARGET_DIR")
    return Path(named) if named else cache.cargo_target_dir(root)


def _tree_states(root: Path, env: Mapping[str, str], outputs: Sequence[Path]) -> list[TreeState]:
    """:func:`mlc_devops.supply.tree.tree_states`, imported when asked."""
    from mlc_devops.supply import tree  # noqa: PLC0415

    return tree.tree_states(root, env, outputs)


def _tree(
    root: Path,
    env: Mapping[str, str],
    console: Console,
    *,
    outputs: Sequence[Path],
    warn: bool = True,
    states: Sequence[TreeState] | None = None,
) -> dict[str, Any]:
    """The report's ``tree``: ``{"state": clean|dirty|unknown, "repositories": [...]}``, from git status.

    Asked after the build, of the top level and each checked-out submodule
    (:func:`mlc_devops.supply.tree.tree_states`), unless ``states`` already
    holds the answer; the tool's outputs are left out. Warns when the tree is
    dirty: the wheel holds code in no commit.
    """
    from mlc_devops.supply import tree  # noqa: PLC0415

    if states is None:
        states = tree.tree_states(root, env, outputs)
    state = tree.overall(states)
    if state == "dirty" and warn:
        console.warn(
            "the checkout has changes in no commit ("
            + "; ".join(s.summary() for s in states if s.dirty)
            + "): the wheel is recorded as built from a dirty tree; attest and release refuse it "
            "unless given --allow-dirty"
        )
    return {"state": state, "repositories": [s.as_json() for s in states]}


def _cargo(root: Path, libraries: Sequence[str], console: Console) -> dict[str, Any]:
    """The report's ``cargo``: the Cargo.lock files the build resolved, their SHA-256 and crates.

    ``{"locks": [{"path", "sha256", "manifest", "libraries", "packages": [...]}], "missing": [...]}``,
    read from the checkout after the build (:func:`mlc_devops.supply.cargo.find_locks`);
    warns for a linked crate whose lock is missing, since its crates cannot be listed.
    """
    from mlc_devops.supply import cargo  # noqa: PLC0415

    locks, missing = cargo.find_locks(root, libraries)
    for manifest in missing:
        console.warn(f"no Cargo.lock for {manifest}: the SBOM cannot list the crates it compiles")
    for found in locks:
        console.say(f"    {found.path}: {len(found.crates)} crate(s) in {', '.join(found.libraries) or 'no library'}")
    return {"locks": [found.as_json() for found in locks], "missing": missing}


def run(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    env = options.with_validation_cache(env, args.validation_cache)
    console = Console.from_env(env)
    opts = options.resolve(_args.flags(args), env)
    result = build(opts, env, console, clean_dist=args.clean_dist, wait=args.wait)
    if args.json:
        print(json.dumps({"wheel": str(result.wheel), "report": str(result.report_path), **result.report}, indent=2))
    else:
        total = sum(v for v in console.timings.values())
        console.say(f"built {result.wheel} in {total:.1f}s (report: {result.report_path.name})")
        pair = result.report.get("pair")
        if pair is not None:
            console.say(f"paired with {pair['filename']} ({pair['origin']}), beside it")
        print(result.wheel)
    return 0
