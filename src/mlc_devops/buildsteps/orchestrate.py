"""The build from start to end: config -> compile -> wheel -> repair -> validate -> report -> publish.

The wheel is built as upstream builds it for the layout at hand (root:
``pip wheel --no-deps -w dist .`` through scikit-build-core; legacy: cmake and
a build, then ``pip wheel python/``), into a staging folder under build/. Only
a wheel that passed validation is moved into dist/, with its report beside it,
so a failed or interrupted build leaves nothing there.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib
import shutil
import sys
import tempfile
import threading
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlc_devops import backends, cache, checks, fsutil, lock, options, platforms, tools, workspace
from mlc_devops import run as run_mod
from mlc_devops import validation_cache as vcache
from mlc_devops.buildsteps import builddir, decisions, native
from mlc_devops.errors import BuildFailed, FindingsFailed, PrerequisiteMissing, UsageError
from mlc_devops.ui import Console

if TYPE_CHECKING:
    from mlc_devops import tvmbuild
    from mlc_devops.report import BuildReport

LOG_NAME = "mlc-devops-build.log"
WHEELHOUSE = "mlc-devops-wheelhouse"


def utc_now() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class BuildResult:
    wheel: Path
    report_path: Path
    report: BuildReport


def build(
    opts: options.BuildOptions,
    env: Mapping[str, str],
    console: Console,
    *,
    clean_dist: bool = False,
    wait: bool = False,
    probes: tools.VersionProbes | None = None,
) -> BuildResult:
    """Build the wheel (and with ``opts.tvm`` source, the TVM wheel first), validate, report, publish.

    The questions whose answers the report needs and the build does not (the
    programs' versions, the checkout's origin, commit and submodules) are asked
    in threads while the build runs: they are child processes, so on a rebuild
    they cost no wall time of their own (issue 12, goal 4). ``probes``: the
    versions' probes, begun by the caller (``build`` begins them before it
    imports this module, so they run meanwhile) and closed by it; else begun here.
    """
    pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="build-facts")
    probes = probes if probes is not None else tools.VersionProbes(env, pool=pool)
    try:
        with contextlib.ExitStack() as server:  # this build's sccache server ends with the build
            return _build(opts, env, console, pool, probes, server, clean_dist=clean_dist, wait=wait)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


# What the steps after the build import (validation reuse's wheel reader with packaging's requirements
# and email's parser, the SBOM's tree and cargo readers, the steps themselves, TVM's pairing): 0.03-0.07 s
# that the tool would spend after pip returns, measured with cProfile on the scalable stand-in, and 0.02 s
# before pip starts where this module imported the steps itself (issue 12, goal 4). Imported here in a
# function where a step runs before the build (TVM's, repair's floor).
AFTER_THE_BUILD_MODULES = (
    "mlc_devops.wheel.reader",
    "mlc_devops.wheel.validate",
    "mlc_devops.buildsteps.wheelsteps",
    "mlc_devops.buildsteps.sourceinfo",
    "mlc_devops.buildsteps.reporting",
    "mlc_devops.buildsteps.publish",
    "mlc_devops.report",
    "mlc_devops.supply.tree",
    "mlc_devops.supply.cargo",
)


def _import_for_after_the_build() -> None:
    """Import :data:`AFTER_THE_BUILD_MODULES` in a thread while the build runs (the import lock makes
    a later import of the same module in the main thread wait for this one, never run it twice), and ask
    the interpreter's wheel tags and pip's version, which each process keeps. Begun as pip starts, not
    before: this is Python work, so beside preflight it held the GIL that preflight waited for (measured
    with a timeline on the scalable stand-in: up to 0.03 s later to pip)."""
    for name in AFTER_THE_BUILD_MODULES:
        importlib.import_module(name)
    # and what validation asks of this interpreter, which the build does not change (0.013 s)
    importlib.import_module("mlc_devops.wheel.validate").supported_tags()
    vcache.pip_version()


def _prefetch_providers(
    ws: workspace.Workspace,
    env: Mapping[str, str],
    opts: options.BuildOptions,
    pool: ThreadPoolExecutor,
    cleanup: contextlib.ExitStack,
) -> dict[str, Future[Path | None]]:
    """Begin downloading, while the build compiles, the providers that pip fetched for the last validation
    of this project (:func:`mlc_devops.validation_cache.last_fetched`, none when the validation cache is
    off) with :func:`mlc_devops.depwheels.prefetch`; the downloads' folder goes when the build ends."""
    folder = options.resolve_validation_cache(None, env, platforms.current().name).path
    if folder is None or not folder.is_dir():
        return {}
    requirements = decisions.prefetch_requirements(
        workspace.project_dependencies(ws), vcache.last_fetched(folder, ws.project_name)
    )
    if not requirements:
        return {}
    from mlc_devops import depwheels  # noqa: PLC0415

    downloads = Path(tempfile.mkdtemp(prefix="mlc-devops-prefetch-"))
    begun = depwheels.prefetch(requirements, downloads, env, pool, find_links=opts.find_links)

    def remove() -> None:
        begun.stop()  # one still running when the build ends early is not waited for
        shutil.rmtree(downloads, ignore_errors=True)

    cleanup.callback(remove)
    return begun.futures


def _build(
    opts: options.BuildOptions,
    env: Mapping[str, str],
    console: Console,
    pool: ThreadPoolExecutor,
    probes: tools.VersionProbes,
    server: contextlib.ExitStack,
    *,
    clean_dist: bool,
    wait: bool,
) -> BuildResult:
    ws = workspace.detect(opts.source, opts.layout)
    probes.start(tools.build_probes(opts.config.backends))
    commit_time_asked = pool.submit(workspace.git_commit_time, ws.root, env)
    # The caches are chosen, and this build's sccache server started and the counts before asked, while
    # preflight runs: 0.02-0.03 s less before pip starts (issue 12, goal 4).
    sccache_path = run_mod.which("sccache", env)
    launcher = cache.choose(
        opts.cache,
        ccache=run_mod.which("ccache", env),
        sccache=sccache_path,
        env=env,
        remote=opts.cache_remote,
    )
    wiring = cache.wire(launcher, ws.root, env, remote=opts.cache_remote, sccache=sccache_path)
    caches = _CacheServer(wiring, {**env, **wiring.env}, pool)
    server.callback(caches.stop)
    tool_names = (["nvcc"] if "cuda" in opts.config.backends else []) + (
        [launcher.kind] if launcher.kind != "none" else []
    )
    report_tools = [
        *tools.REPORT_TOOLS,
        *tool_names,
        *(["sccache"] if wiring.rust is not None and launcher.kind != "sccache" else []),
    ]
    probes.start(report_tools)
    plat = platforms.current()
    console.say(f"source:   {ws.root}")
    console.say(f"layout:   {ws.layout}: {workspace.LAYOUT_DESCRIPTIONS[ws.layout]}")
    console.say(f"backends: {', '.join(sorted(opts.config.backends))}; jobs: {opts.jobs}")
    started = utc_now()

    with console.phase("preflight"):
        (floor, floor_file), rust_floor = checks.floors_of(ws)
        results = checks.run_checks(
            ws,
            opts.config,
            env,
            build_isolation=opts.build_isolation,
            tvm_source_dir_explicit=opts.origins.get("tvm_source_dir", options.Resolved(None, "default")).origin
            != "default",
            probes=probes,
            cmake_floor=(floor, floor_file),
            rust_floor=rust_floor,
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
            from mlc_devops.wheel import repair  # noqa: PLC0415

            repair.auditwheel_program(env)  # before compiling, not after
        cmake_check = next((c for c in results if c.name == "cmake"), None)
        isolation = decisions.choose_isolation(
            opts.build_isolation,
            # asked only when it decides (auto): reading the installed distributions takes 0.04-0.06 s
            backend_here=opts.build_isolation is None and workspace.requirements_met(workspace.build_requirements(ws)),
            cmake_ok=ws.layout == "legacy" or (cmake_check is not None and cmake_check.status == "ok"),
        )
        console.say(f"    pip build isolation: {'on' if isolation else 'off'}")
        tvm_plan = None
        if opts.tvm.kind == "source":
            from mlc_devops import tvmbuild  # noqa: PLC0415

            tvm_plan = tvmbuild.plan(ws.root, ws.build_dir, opts, env, console)
        if tvm_plan is not None:
            lacking = tvmbuild.missing_backends(opts.config.backends, tvm_plan.backends)
            if lacking:
                console.warn(
                    f"the TVM wheel is built for {', '.join(tvm_plan.backends)} only; it generates no code for "
                    f"{', '.join(lacking)}, which the mlc_llm wheel is built with"
                )
    if any(c.name == "build cache" and c.status == "warn" for c in results):
        with lock.workspace_lock(ws.build_dir, wait=wait, on_wait=console.say):
            removed = builddir.start_afresh(ws.build_dir)
        if removed:
            console.say(f"    starting {ws.build_dir} afresh: removed {' and '.join(removed)} (compiler cache kept)")
    dist = opts.dist_dir if opts.dist is None or opts.dist.is_absolute() else Path.cwd() / opts.dist
    dist = dist.resolve()
    builddir.check_dist_writable(dist)
    build_dir = ws.build_dir
    fsutil.ensure_dir(build_dir, "build directory")

    with lock.workspace_lock(build_dir, wait=wait, on_wait=console.say), contextlib.ExitStack() as cleanup:
        before_asked = caches.counts_before()  # the counts of shared caches, now that no build of ours runs
        with console.phase("config"):
            config_path = build_dir / "config.cmake"
            wrote = fsutil.write_text_if_changed(config_path, backends.render(opts.config))
            console.say(f"    {'wrote' if wrote else 'kept, unchanged,'} {config_path}")
            if (ws.root / "config.cmake").is_file():
                console.warn(
                    f"{ws.root / 'config.cmake'} is ignored: CMakeLists.txt includes build/config.cmake first, "
                    "and mlc-devops writes that one from your options"
                )
        defines = cache.launcher_defines(launcher, windows=sys.platform.startswith("win"))
        console.say(f"    compiler cache: {cache.describe(wiring)}")
        archs = opts.config.cuda_architectures
        capacity = options.default_jobs(options.cpu_count(), options.memory_bytes())
        commit_time = commit_time_asked.result()
        build_env = decisions.build_environment(
            env,
            jobs=opts.jobs,
            launcher_vars=wiring.env,
            source_date_epoch=commit_time,
            cuda_threads=decisions.nvcc_threads(opts.jobs, capacity, archs) if "cuda" in opts.config.backends else None,
        )
        stats_before = before_asked.result()
        prefetched = _prefetch_providers(ws, build_env, opts, pool, cleanup)
        if prefetched:
            console.say(f"    downloading {', '.join(prefetched)} while building: the last validation took it from pip")
        tvm_prebuilt: Path | None = None
        tvm_started = tvm_finished = started
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
                    from mlc_devops import tvmbuild  # noqa: PLC0415
                    from mlc_devops.buildsteps import wheelsteps  # noqa: PLC0415

                    tvm_started = utc_now()
                    tvm_built = tvmbuild.build(tvm_plan, opts, build_env, defines, console, log)
                    if opts.repair:
                        tvm_built.wheel = wheelsteps.repair_wheel(
                            tvm_built.wheel, opts, plat, build_env, console, "tvm repair"
                        )
                    with console.phase("tvm validate"):
                        tvm_info = wheelsteps.validate_tvm(tvm_built.wheel, plat, build_env, opts)
                        wheelsteps.say_validation(console, tvm_info)
                    log.flush()
                    tvm_log = len(log_path.read_text(encoding="utf-8", errors="replace"))
                    tvm_stats = cache.collect(wiring, build_env)
                    tvm_finished = utc_now()
                elif opts.tvm.wanted:
                    from mlc_devops import tvmbuild  # noqa: PLC0415

                    with console.phase("tvm wheel"):
                        tvm_prebuilt = tvmbuild.fetch_prebuilt(
                            opts.tvm,
                            build_dir / tvmbuild.WORK_DIR / "prebuilt",
                            build_env,
                            exclude=ws.project_name,
                            project=_tvm_project_name(ws, opts),
                        )
                        console.say(f"    {tvm_prebuilt.name}: {opts.tvm.kind} {opts.tvm.value}")
                environment: dict[str, Any] = {}
                asked: dict[str, Future[Any]] = {}  # what the report needs, asked while pip runs

                def pip_environment() -> native.PipEnvironment:
                    # asked right before pip runs: the legacy layout's setup.py reads the compiled libraries
                    chosen = _build_environment(
                        ws, opts, build_env, console, log, cleanup, isolation=isolation, floor=floor, probes=probes
                    )
                    environment["report"] = chosen[1]
                    # begun as pip starts, not sooner: importing holds the GIL (0.03-0.06 s) that preflight
                    # and the build environment's checks would wait for
                    asked["facts"] = pool.submit(_source_facts, ws.root, env)
                    pool.submit(_import_for_after_the_build)
                    return chosen[0]

                def compiled() -> None:
                    # The compiles are done; packaging writes into build/ only. The caches' counts and the
                    # checkout's state are asked now, beside the packaging, not after it (upstream's git
                    # status over 18 submodules: 0.2-0.3 s; its packaging: 3.6 s).
                    asked["stats"] = pool.submit(cache.collect, wiring, build_env)
                    asked["tree"] = pool.submit(_tree_states, ws.root, env, _outputs(ws, build_dir, dist, build_env))
                    asked["cargo"] = pool.submit(_read_locks, ws.root)  # cargo wrote its Cargo.lock files

                build = native.build_root if ws.layout == "root" else native.build_legacy
                build(
                    ws,
                    opts,
                    build_env,
                    wheelhouse,
                    console,
                    log,
                    pip_environment,
                    defines=defines,
                    floor=floor,
                    compiled=compiled,
                )
            except BuildFailed as exc:
                exc.hint = exc.hint or f"the full log is {log_path}"
                raise
        # imported in a thread while the build ran (AFTER_THE_BUILD_MODULES): here they are ready
        from mlc_devops import tvmbuild  # noqa: PLC0415
        from mlc_devops.buildsteps import publish, reporting, sourceinfo, wheelsteps  # noqa: PLC0415
        from mlc_devops.report import BuildReport, report_path_for  # noqa: PLC0415
        from mlc_devops.wheel import validate, venv  # noqa: PLC0415

        wheels = sorted(wheelhouse.glob("*.whl"))
        if len(wheels) != 1:
            raise BuildFailed(f"expected one wheel from the build, found {len(wheels)}", hint=f"see {log_path}")
        # Asked when the compiles ended (compiled(), above), else now: the caches' counts, and the state
        # of the checkout the wheel came from.
        outputs = _outputs(ws, build_dir, dist, build_env)
        stats_after_asked = asked.get("stats") or pool.submit(cache.collect, wiring, build_env)
        tree_asked = asked.get("tree") or pool.submit(_tree_states, ws.root, env, outputs)
        tvm_wheel = tvm_built.wheel if tvm_built is not None else tvm_prebuilt if opts.tvm.wanted else None
        wheel = wheels[0]
        retagged = tvmbuild.retag(wheel, wheelhouse / "retagged") if ws.layout == "legacy" else None
        if retagged is not None:
            # mlc-llm's legacy python/setup.py declares has_ext_modules, as TVM's does, so pip tags the
            # wheel for the CPython that built it although ctypes loads its libraries (34497eae: cp311-cp311).
            wheel, mlc_retag = retagged
            console.say(f"    retagged {mlc_retag['from']} -> {mlc_retag['to']}: {mlc_retag['reason']}")
        if opts.repair:
            wheel = wheelsteps.repair_wheel(wheel, opts, plat, build_env, console)
        with console.phase("validate"):
            leaked = venv.leaky_variables(build_env)
            if leaked:
                console.say(f"    validating without {', '.join(leaked)} (users do not have them)")
            paired = (str(tvm_wheel),) if tvm_wheel is not None else ()
            info = validate.validate(
                wheel,
                plat,
                build_env,
                with_packages=(*opts.with_packages, *paired),
                find_links=opts.find_links,
                prefetched=prefetched,
            )
            if tvm_wheel is not None:
                info["findings"] = tvmbuild.name_pair(info["findings"], tvm_wheel.name)
            wheelsteps.say_validation(console, info)
        found = [*(tvm_info or {}).get("findings", []), *info["findings"]]
        if found and opts.fail_on_findings:
            raise FindingsFailed(
                f"{len(found)} finding(s) and --fail-on-findings: {found[0]['message']}",
                detail="\n".join(f["message"] for f in found[1:]),
                hint="fix them, or build without --fail-on-findings (MLC_FAIL_ON_FINDINGS)",
            )
        stats_after = stats_after_asked.result()
        cargo_target_used = Path(wiring.env.get("CARGO_TARGET_DIR", build_dir)).is_dir()
        log_text = log_path.read_text(encoding="utf-8", errors="replace")
        facts = (asked.get("facts") or pool.submit(_source_facts, ws.root, env)).result()
        # Keyword arguments in the report's order: each section is asked in turn, as the report is written.
        report = BuildReport(
            layout=ws.layout,
            backends=sorted(opts.config.backends),
            cuda_architectures=list(archs),
            build_type=opts.config.build_type,
            jobs=opts.jobs,
            build_isolation=isolation,
            build_environment=environment.get("report"),
            retag=retagged[1] if retagged is not None else None,
            source={
                "path": str(ws.root),
                "uri": facts["uri"],
                "commit": facts["commit"],
                "commit_time": commit_time,
            },
            submodules=facts["submodules"],
            tree=sourceinfo.tree_section(ws.root, env, console, outputs=outputs, states=tree_asked.result()),
            cargo=sourceinfo.cargo_section(
                ws.root,
                [str(lib["path"]) for lib in info["libraries"]],
                console,
                read=asked["cargo"].result() if "cargo" in asked else None,
            ),
            tool_versions={
                **probes.versions(report_tools),
                **decisions.cmake_used(log_text[tvm_log:]),
            },
            phases={k: v for k, v in console.timings.items() if not k.startswith(reporting.TVM_PHASE)},
            started=started,
            finished=utc_now(),
            wheel=reporting.pick(info, reporting.REPORT_WHEEL_KEYS),
            cmake_floor={"version": workspace.version_text(floor), "file": floor_file},
            validation=reporting.pick(info, reporting.REPORT_VALIDATION_KEYS),
            compiler_cache=cache.report(
                wiring,
                tvm_stats if tvm_built is not None else stats_before,
                stats_after,
                compile_steps=cache.count_compile_steps(log_text[tvm_log:]),
                cargo_target_used=cargo_target_used,
            ),
        )
        published: list[tuple[Path, BuildReport | None, str]] = [(wheel, report, ws.project_name)]
        if tvm_plan is not None and tvm_built is not None and tvm_info is not None:
            tvm_report = reporting.tvm_report(
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
                    wiring,
                    stats_before,
                    tvm_stats,
                    compile_steps=cache.count_compile_steps(log_text[:tvm_log]),
                    cargo_target_used=cargo_target_used,
                ),
                tool_versions=probes.versions(["cmake", "ninja", "c++", *tool_names]),
                times=(tvm_started, tvm_finished),
            )
            report.pair = reporting.pair_entry(tvm_report.to_json(), "tvm", tvm_plan.source.relative)
            tvm_report.pair = reporting.pair_entry(report.to_json(), "mlc_llm", ".")
            published.append((tvm_built.wheel, tvm_report, tvm_plan.source.project))
        elif tvm_wheel is not None:
            report.pair = reporting.prebuilt_entry(tvm_wheel, opts.tvm)
            published.append((tvm_wheel, None, tvmbuild.wheel_project(tvm_wheel.name)[0]))
        target = publish.publish(published, dist, console, clean_dist=clean_dist)
    return BuildResult(target, report_path_for(target), report)


class _CacheServer:
    """This build's own sccache server, started in the pool while preflight runs (:func:`cache.start_server`),
    and stopped by :meth:`stop` when the build ends, once, after the start (also where the build failed).
    The counts before the build are asked once the workspace lock is held (:meth:`counts_before`): where
    they are shared (ccache, a server of the user's), a build that waited for the lock would otherwise
    count the compiles of the build it waited for."""

    def __init__(self, wiring: cache.Wiring, env: Mapping[str, str], pool: ThreadPoolExecutor) -> None:
        self.wiring, self.env, self._pool = wiring, dict(env), pool
        self.started: Future[bool] = pool.submit(cache.start_server, wiring, self.env)
        self._stopped = False
        self._lock = threading.Lock()

    def counts_before(self) -> Future[cache.Stats | None]:
        """:func:`cache.counts_before`, asked in the pool once the start is done."""
        return self._pool.submit(lambda: cache.counts_before(self.wiring, self.env, started=self.started.result()))

    def stop(self) -> None:
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
        try:
            with contextlib.suppress(Exception):  # a start that failed has said so
                self.started.result()
        finally:  # a second interrupt while waiting for the start stops the server all the same
            cache.end(self.wiring, self.env)


def _outputs(ws: workspace.Workspace, build_dir: Path, dist: Path, build_env: Mapping[str, str]) -> list[Path]:
    """What the build writes in the checkout, left out of its state: build/, dist/, cargo's target, the caches."""
    from mlc_devops.buildsteps import sourceinfo  # noqa: PLC0415

    return [build_dir, dist, sourceinfo.cargo_target(ws.root, build_env), *cache.local_dirs(build_env, ws.root)]


def _tree_states(root: Path, env: Mapping[str, str], outputs: list[Path]) -> Any:
    """:func:`sourceinfo.tree_states`, its module imported in the thread that asks."""
    from mlc_devops.buildsteps import sourceinfo  # noqa: PLC0415

    return sourceinfo.tree_states(root, env, outputs)


def _read_locks(root: Path) -> Any:
    """:func:`mlc_devops.supply.cargo.read_locks`, its module imported in the thread that asks."""
    from mlc_devops.supply import cargo  # noqa: PLC0415

    return cargo.read_locks(root)


def _source_facts(root: Path, env: Mapping[str, str]) -> dict[str, Any]:
    """:func:`sourceinfo.source_facts`, its module imported in the thread that asks."""
    from mlc_devops.buildsteps import sourceinfo  # noqa: PLC0415

    return sourceinfo.source_facts(root, env)


def _build_environment(
    ws: workspace.Workspace,
    opts: options.BuildOptions,
    env: Mapping[str, str],
    console: Console,
    log: Any,
    cleanup: contextlib.ExitStack,
    *,
    isolation: bool,
    floor: tuple[int, ...],
    probes: tools.VersionProbes,
) -> tuple[native.PipEnvironment, dict[str, Any]]:
    """Who runs ``pip wheel`` and the report's ``build_environment``: this interpreter (no isolation), pip's
    temporary environment (``--build-env fresh``), or the kept one of :mod:`mlc_devops.buildenv`, made on
    the first build of these requirements and held (a shared lock) until the build ends."""
    if not isolation:
        return native.PipEnvironment(sys.executable, False), {"kind": "current", "path": sys.prefix}
    if opts.build_env is None:
        return native.PipEnvironment(sys.executable, True), {"kind": "temporary"}
    from mlc_devops import buildenv  # noqa: PLC0415

    project = ws.root if ws.layout == "root" else ws.python_dir
    pyproject = ws.pyproject if ws.layout == "root" else _pyproject_or_none(ws.python_dir / "pyproject.toml")
    # scikit-build-core asks for cmake and ninja when the ones it finds fail cmake.version / ninja.version
    settings = {"cmake.version": f">={workspace.version_text(floor)}"} if ws.layout == "root" else {}
    found = {name: tools.describe(name, probes.raw(name)) for name in ("cmake", "ninja")}
    pip_config = {str(p): vcache.sha256(p) for p in vcache.pip_config_files(env)}
    spec = buildenv.spec_for(pyproject, settings=settings, found=found, env=env, pip_config=pip_config)
    with console.phase("build env"):
        parent = opts.build_env if opts.build_env.is_absolute() else Path.cwd() / opts.build_env  # pip runs elsewhere
        kept = buildenv.ensure(spec, parent, project, env, log=log, say=console.say)
        cleanup.callback(lock.release, kept.held)
        console.say(buildenv.describe(kept))
    return native.PipEnvironment(str(kept.python), False, buildenv.scripts_dir(kept.path)), kept.report()


def _pyproject_or_none(path: Path) -> dict[str, Any] | None:
    return workspace.load_pyproject(path) if path.is_file() else None


def _tvm_project_name(ws: workspace.Workspace, opts: options.BuildOptions) -> str | None:
    """The TVM source's own project name, for ``--tvm URL`` without ``#NAME``; None without a TVM source."""
    from mlc_devops import tvmbuild  # noqa: PLC0415

    try:
        return tvmbuild.read_source(ws.root, opts.config.tvm_source_dir).project
    except UsageError:
        return None
