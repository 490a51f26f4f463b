"""How fast ``mlc-devops build`` is on a scalable stand-in, and what the tool itself costs.

    python benchmarks/build_speed.py [--n 60] [--rust-units 12] [--out FILE.json] [--markdown docs/build-speed.md]
    python benchmarks/build_speed.py --source DIR      # the same protocol on any checkout (its build/ is removed)
    python benchmarks/build_speed.py --only overhead   # a cold build to fill the caches, then only scenario 5

On a fresh copy of the stand-in with N generated translation units and a
generated Rust workspace (benchmarks/scalable_standin.py; cargo's target dir in
build/ as upstream's tokenizers-cpp), with empty compiler caches of its own
(ccache for C and C++, sccache for rustc, the tool's default when both are
installed), an empty validation cache of its own (``MLC_VALIDATION_CACHE``) and no kept build
environment yet (``MLC_BUILD_ENV``: the cold build makes it);
the generated tree is committed to a git repository of its own, as a checkout is,
so the tool stamps the wheel with the commit's time and an unchanged tree builds
a byte-identical wheel:

1. cold: no build/, no cargo target, empty caches;
2. warm: after a clean (``rm -rf build/``), caches kept (and cargo's target dir, where it is outside build/);
3. no-op: nothing changed;
4. one file: one translation unit edited (a real code change);
5. overhead: ``mlc-devops build`` against plain ``pip wheel --no-deps -w dist .`` on the same tree,
   alternated, in the same state before each run (after a clean, cache warm; and no-op). Plain pip
   gets the environment the tool would give the build (launcher, cache settings, jobs, cargo target
   dir, the commit's SOURCE_DATE_EPOCH), and both build isolated (or, with --no-build-isolation, both
   not: the tool is told either way, since its default, auto, turns isolation off where the build
   backend is installed), so the ratio is what the tool adds: preflight, config, validation, report.
   Isolated, the tool builds in its kept build environment and plain pip in a temporary one of its own
   (pip's default), so the tool is faster by what pip's isolation costs; --no-build-isolation compares
   the two with nothing but the tool's own work between them.
6. no-op variants: without isolation, and with ``--build-env fresh`` (pip's temporary environment, as the
   tool built before it kept one: scikit-build-core then configures afresh every build).

Targets (issue 12): warm <= 10% of cold, no-op <= 3% of cold, tool overhead <= 2%. The Rust share
of a build is cargo's own "Finished ... in S s" over the build's wall time (from the build log);
each run records the hits and misses of both caches (C/C++ and Rust) from the build report,
the load average (1 min) when it started and ended, and the CPU time (user + system) of its
process tree, which other work on shared cores inflates far less than wall time. Writes every
run and a summary as JSON; ``--markdown FILE`` replaces the table between the
``<!-- build-speed:begin -->`` and ``<!-- build-speed:end -->`` markers in FILE. Not part of the
test suite: it takes minutes (N=300 on 2 cores: about ten).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "src"))
sys.path.insert(0, str(HERE.parent / "tests"))

import scalable_standin  # noqa: E402
from standin import build_ffi_wheel, git  # noqa: E402

from mlc_devops import cache, options  # noqa: E402

TARGETS = {"warm": 0.10, "noop": 0.03, "overhead": 0.02}
# cargo's last line: "Finished `release` profile [optimized] target(s) in 48.23s" (or "in 1m 05s").
CARGO_FINISHED = re.compile(r"Finished .* target\(s\) in (?:(\d+)m )?([\d.]+)s")
LOG_NAME = "mlc-devops-build.log"
BEGIN, END = "<!-- build-speed:begin -->", "<!-- build-speed:end -->"
TOOL_VARS = ("CARGO_TARGET_DIR", "CARGO_BUILD_TARGET_DIR", "RUSTC_WRAPPER", "CARGO_BUILD_RUSTC_WRAPPER")
# Dropped too: with it, an editable install of the tool compiles its 60-odd modules on every run
# (0.075 s measured with cProfile), which an installed tool (pip writes its .pyc) and pip itself do not.
PYTHON_VARS = ("PYTHONDONTWRITEBYTECODE",)


def clean_env(extra: dict[str, str]) -> dict[str, str]:
    """The caller's environment without cache or MLC settings, the benchmark's own cache dirs added."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("CCACHE_", "SCCACHE_", "MLC_", "CMAKE_")) and k not in (*TOOL_VARS, *PYTHON_VARS)
    }
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env.update(extra)
    return env


def cargo_seconds(log_text: str) -> float | None:
    """Seconds cargo reported for its builds in one build log (the sum of its "Finished" lines), or None."""
    total, found = 0.0, False
    for match in CARGO_FINISHED.finditer(log_text):
        total += int(match.group(1) or 0) * 60 + float(match.group(2))
        found = True
    return round(total, 2) if found else None


class Bench:
    def __init__(self, ws: Path, work: Path, env: dict[str, str], cache_kind: str, jobs: int, isolation: bool) -> None:
        self.ws, self.work, self.env = ws, work, env
        self.cache_kind, self.jobs, self.isolation = cache_kind, jobs, isolation
        self.runs: list[dict[str, Any]] = []
        self.load: list[float | None] = []
        self.cpu: float | None = None
        self.tool_dist = work / "dist-tool"
        self.pip_dist = work / "dist-pip"

    def clean(self) -> None:
        shutil.rmtree(self.ws / "build", ignore_errors=True)

    def tool(self, scenario: str, *, isolation: bool | None = None, build_env: str | None = None) -> dict[str, Any]:
        shutil.rmtree(self.tool_dist, ignore_errors=True)
        cmd = [
            sys.executable,
            "-m",
            "mlc_devops",
            "build",
            "--source",
            str(self.ws),
            "--dist",
            str(self.tool_dist),
            "--cache",
            self.cache_kind,
            "--jobs",
            str(self.jobs),
            "--json",
        ]
        # explicit either way: the tool's default (auto) turns isolation off where the build backend is
        # installed, and plain pip's is on, so without it the two sides would not build alike
        cmd.append(
            "--build-isolation" if (self.isolation if isolation is None else isolation) else "--no-build-isolation"
        )
        if build_env is not None:
            cmd += ["--build-env", build_env]
        seconds, proc = self._timed(cmd, cwd=self.work)
        report = json.loads(proc.stdout)
        log = self.ws / "build" / LOG_NAME
        run = {
            "scenario": scenario,
            "command": "mlc-devops build",
            "seconds": seconds,
            "phases": report["phases"],
            "compiler_cache": report["compiler_cache"],
            "cargo_s": cargo_seconds(log.read_text(encoding="utf-8", errors="replace")) if log.is_file() else None,
        }
        return self._record(run)

    def pip(self, scenario: str, env: dict[str, str]) -> dict[str, Any]:
        shutil.rmtree(self.pip_dist, ignore_errors=True)
        cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(self.pip_dist), "."]
        if not self.isolation:
            cmd.append("--no-build-isolation")
        seconds, _proc = self._timed(cmd, cwd=self.ws, env=env)
        wheels = list(self.pip_dist.glob("*.whl"))
        if len(wheels) != 1:
            raise SystemExit(f"build_speed: pip wheel made {len(wheels)} wheels, not one")
        return self._record({"scenario": scenario, "command": "pip wheel", "seconds": seconds})

    def _timed(
        self, cmd: Sequence[str], *, cwd: Path, env: dict[str, str] | None = None
    ) -> tuple[float, subprocess.CompletedProcess[str]]:
        self.load = [load_average()]
        cpu_before = children_cpu()
        started = time.perf_counter()
        proc = subprocess.run(list(cmd), cwd=cwd, env=env or self.env, capture_output=True, text=True, check=False)
        seconds = time.perf_counter() - started
        cpu_after = children_cpu()
        self.cpu = round(cpu_after - cpu_before, 3) if cpu_before is not None and cpu_after is not None else None
        self.load.append(load_average())
        if proc.returncode != 0:
            sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-4000:])
            raise SystemExit(f"build_speed: {' '.join(cmd[:6])} ... failed with exit code {proc.returncode}")
        return round(seconds, 3), proc

    def _record(self, run: dict[str, Any]) -> dict[str, Any]:
        run["load_average"] = list(self.load)
        run["cpu_s"] = self.cpu
        self.runs.append(run)
        cc = run.get("compiler_cache", {})
        rust = cc.get("rust") or {}
        stats = (
            f"  steps {cc.get('compile_steps')}, hits {cc.get('hits')}, misses {cc.get('misses')}; "
            f"Rust hits {rust.get('hits')}, misses {rust.get('misses')}; cargo {run.get('cargo_s')} s"
            if cc
            else ""
        )
        print(f"  {run['scenario']:<16} {run['command']:<17} {run['seconds']:8.2f} s{stats}", flush=True)
        return run

    def pip_env(self) -> dict[str, str]:
        """What the tool adds to the build's environment, for plain pip: like with like."""
        path = shutil.which(self.cache_kind, path=self.env["PATH"])
        launcher = cache.Launcher(self.cache_kind, path) if path else cache.Launcher("none", None)
        sccache = shutil.which("sccache", path=self.env["PATH"])
        rust = cache.rust_wrapper(launcher, sccache=sccache, env=self.env)
        own = cache.wants_own_server(launcher, self.env, rust=rust)
        # Plain pip's sccache server (a port of its own) starts on demand; stop_pip_server ends it.
        extra = cache.launcher_env(
            launcher, self.ws, self.env, rust=rust, server_port=cache.free_port() if own else None
        )
        out = {**self.env, **extra, "CMAKE_BUILD_PARALLEL_LEVEL": str(self.jobs)}
        epoch = commit_time(self.ws)
        if epoch is not None and not out.get("SOURCE_DATE_EPOCH"):
            out["SOURCE_DATE_EPOCH"] = epoch  # as the tool sets it from the checkout's commit
        return out

    def stop_pip_server(self, pip_env: dict[str, str]) -> None:
        sccache = pip_env.get("RUSTC_WRAPPER") or (pip_env.get("CMAKE_CXX_COMPILER_LAUNCHER") or "")
        if "SCCACHE_SERVER_PORT" in pip_env and sccache.endswith(("sccache", "sccache.exe")):
            subprocess.run([sccache, "--stop-server"], env=pip_env, capture_output=True, check=False)


def load_average() -> float | None:
    """The 1-minute load average now, where the system has one."""
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        return None


def children_cpu() -> float | None:
    """User and system CPU seconds of every finished child process (and theirs), where the system counts them.

    Wall time on shared cores counts other people's builds too; CPU time counts this run's work alone
    (the compilers' and pip's included, the detached sccache servers not, on either side)."""
    try:
        import resource  # noqa: PLC0415 - POSIX only
    except ImportError:
        return None
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return float(usage.ru_utime + usage.ru_stime)


def commit_time(ws: Path) -> str | None:
    """The commit time of the checkout at ``ws`` (seconds), as the tool reads it for SOURCE_DATE_EPOCH."""
    if not (ws / ".git").exists():
        return None
    proc = subprocess.run(["git", "log", "-1", "--format=%ct"], cwd=ws, capture_output=True, text=True, check=False)
    return proc.stdout.strip() or None


def commit_tree(ws: Path) -> None:
    """Make the generated tree a checkout: one commit of everything in it."""
    git("init", "-q", cwd=ws)
    git("add", "-A", cwd=ws)
    git("commit", "-q", "-m", "scalable stand-in", cwd=ws)


def median(runs: list[dict[str, Any]], scenario: str, command: str = "mlc-devops build") -> float:
    seconds = [float(r["seconds"]) for r in runs if r["scenario"] == scenario and r["command"] == command]
    return round(statistics.median(seconds), 3)


# Phases of a tool run that are the tool's own work (the rest is pip, CMake and the compilers).
OWN_PHASES = ("preflight", "config", "build env", "validate")


def own_seconds(run: dict[str, Any]) -> float:
    """The tool's own work in one run: its own phases, and whatever no phase timed (start-up, the
    cache counts, the report, publishing): wall time minus every phase."""
    phases: dict[str, float] = run["phases"]
    return float(sum(phases.get(p, 0.0) for p in OWN_PHASES) + run["seconds"] - sum(phases.values()))


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    cold = median(runs, "cold")
    out: dict[str, Any] = {"cold_s": cold}
    for name in ("warm", "noop", "one-file"):
        if not any(r["scenario"] == name for r in runs):
            continue
        seconds = median(runs, name)
        out[f"{name}_s"] = seconds
        out[f"{name}_vs_cold"] = round(seconds / cold, 4)
    loads = [x for r in runs for x in r.get("load_average", []) if x is not None]
    if loads:
        out["load_average"] = {"min": min(loads), "median": statistics.median(loads), "max": max(loads)}
    for name in ("noop-no-isolation", "noop-fresh"):
        if any(r["scenario"] == name for r in runs):
            out[f"{name}_s"] = median(runs, name)
            out[f"{name}_vs_cold"] = round(out[f"{name}_s"] / cold, 4)
    out["steps"] = {}
    for run in runs:
        cc = run.get("compiler_cache")
        if cc and run["scenario"] not in out["steps"]:
            rust = cc.get("rust") or {}
            out["steps"][run["scenario"]] = {
                **{k: cc.get(k) for k in ("compile_steps", "hits", "misses")},
                "rust_hits": rust.get("hits"),
                "rust_misses": rust.get("misses"),
                "cargo_s": run.get("cargo_s"),
            }
    cold_run = next(r for r in runs if r["scenario"] == "cold")
    if cold_run.get("cargo_s") is not None:
        out["cold_cargo_s"] = cold_run["cargo_s"]
        out["cold_rust_share"] = round(float(cold_run["cargo_s"]) / float(cold_run["seconds"]), 4)
    for name in ("pair-warm", "pair-noop"):
        tool, pip = median(runs, name), median(runs, name, "pip wheel")
        out[f"{name}_tool_s"], out[f"{name}_pip_s"] = tool, pip
        out[f"{name}_overhead"] = round(tool / pip - 1, 4)
        out[f"{name}_overhead_s"] = round(tool - pip, 3)
        fastest = {
            c: min(r["seconds"] for r in runs if r["scenario"] == name and r["command"] == c)
            for c in ("mlc-devops build", "pip wheel")
        }
        out[f"{name}_overhead_min"] = round(fastest["mlc-devops build"] / fastest["pip wheel"] - 1, 4)
        own = statistics.median(own_seconds(r) for r in runs if r["scenario"] == name and "phases" in r)
        out[f"{name}_own_s"] = round(own, 3)
        out[f"{name}_own_vs_pip"] = round(own / pip, 4)
        cpu = {
            c: [float(r["cpu_s"]) for r in runs if r["scenario"] == name and r["command"] == c and r.get("cpu_s")]
            for c in ("mlc-devops build", "pip wheel")
        }
        if cpu["mlc-devops build"] and cpu["pip wheel"]:
            tool_cpu, pip_cpu = statistics.median(cpu["mlc-devops build"]), statistics.median(cpu["pip wheel"])
            out[f"{name}_tool_cpu_s"], out[f"{name}_pip_cpu_s"] = round(tool_cpu, 3), round(pip_cpu, 3)
            out[f"{name}_cpu_overhead"] = round(tool_cpu / pip_cpu - 1, 4)
        validate = statistics.median(
            float(r["phases"].get("validate", 0.0)) for r in runs if r["scenario"] == name and "phases" in r
        )
        out[f"{name}_validate_s"] = round(validate, 3)
    values = {"warm": out.get("warm_vs_cold"), "noop": out.get("noop_vs_cold"), "overhead": out["pair-warm_overhead"]}
    out["targets"] = {
        name: {"limit": TARGETS[name], "value": value, "met": value <= TARGETS[name]}
        for name, value in values.items()
        if value is not None
    }
    return out


def machine(jobs: int, cache_kind: str) -> dict[str, Any]:
    def version(cmd: list[str]) -> str | None:
        try:
            text = subprocess.run(cmd, capture_output=True, text=True, check=False).stdout
        except OSError:
            return None
        return text.splitlines()[0].strip() if text.strip() else None

    memory = options.memory_bytes()
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cores": options.cpu_count(),
        "memory_gib": round(memory / options.GB, 1) if memory else None,
        "jobs": jobs,
        "compiler": version(["c++", "--version"]),
        "cmake": version(["cmake", "--version"]),
        "cache": version([cache_kind, "--version"]),
        "cargo": version(["cargo", "--version"]),
        "sccache": version([shutil.which("sccache", path=clean_env({})["PATH"]) or "sccache", "--version"]),
    }


def table(result: dict[str, Any]) -> str:
    s, m, p = result["summary"], result["machine"], result["parameters"]
    yes = {True: "met", False: "**not met**"}
    t = s["targets"]

    def steps(name: str) -> str:
        st = s["steps"].get(name, {})

        def cell(key: str) -> str:
            value = st.get(key)
            return "" if value is None else str(value)

        return " | ".join(cell(k) for k in ("compile_steps", "hits", "misses", "rust_hits", "rust_misses", "cargo_s"))

    def limit(name: str) -> str:
        return f"<= {TARGETS[name]:.0%} | {yes[t[name]['met']]}"

    rows = [
        "| scenario | seconds | vs cold | C/C++ compile steps | ccache hits | misses | Rust crates from sccache | "
        "Rust misses | cargo s | target | |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|",
        f"| cold: empty caches, no build/ | {s['cold_s']:.1f} | 100% | {steps('cold')} | | |",
    ]
    if "warm_s" in s:
        rows.append(
            f"| warm: after `rm -rf build/`, caches kept | {s['warm_s']:.1f} | {s['warm_vs_cold']:.1%} | "
            f"{steps('warm')} | {limit('warm')} |"
        )
    if "noop_s" in s:
        rows.append(
            f"| no-op rebuild | {s['noop_s']:.1f} | {s['noop_vs_cold']:.1%} | {steps('noop')} | {limit('noop')} |"
        )
    if "one-file_s" in s:
        rows.append(
            f"| one file changed | {s['one-file_s']:.1f} | {s['one-file_vs_cold']:.1%} | {steps('one-file')} | | |"
        )
    if "noop-no-isolation_s" in s:
        rows.append(
            f"| no-op rebuild, `--no-build-isolation` | {s['noop-no-isolation_s']:.1f} | "
            f"{s['noop-no-isolation_vs_cold']:.1%} | {steps('noop-no-isolation')} | | |"
        )
    if "noop-fresh_s" in s:
        rows.append(
            f"| no-op rebuild, `--build-env fresh` (pip's temporary environment) | {s['noop-fresh_s']:.1f} | "
            f"{s['noop-fresh_vs_cold']:.1%} | {steps('noop-fresh')} | | |"
        )
    rows += [
        "",
        "| side by side, alternated | `mlc-devops build` | `pip wheel --no-deps -w dist .` | overhead | target | |",
        "|---|---:|---:|---:|---|---|",
        f"| after a clean, caches warm | {s['pair-warm_tool_s']:.2f} s | {s['pair-warm_pip_s']:.2f} s | "
        f"{s['pair-warm_overhead']:+.1%} ({s['pair-warm_overhead_s']:+.2f} s) | {limit('overhead')} |",
        f"| no-op | {s['pair-noop_tool_s']:.2f} s | {s['pair-noop_pip_s']:.2f} s | "
        f"{s['pair-noop_overhead']:+.1%} ({s['pair-noop_overhead_s']:+.2f} s) | | |",
        "",
    ]
    if "cold_rust_share" in s:
        rows += [
            f"Rust share of the cold build: cargo reported {s['cold_cargo_s']:.1f} s of the "
            f"{s['cold_s']:.1f} s wall ({s['cold_rust_share']:.1%}; cargo runs beside the C++ compiles).",
            "",
        ]
    source = (
        f"source {p['source']}"
        if p.get("source")
        else f"N = {p['n']} generated translation units (+ the stand-in's 4 C++ files; each compiled for "
        f"libmlc_llm and libmlc_llm_module) and {p.get('rust_crates', 0)} Rust crates "
        f"({p.get('rust_units')} generated modules each under tokenizers-c)"
    )
    rows += [
        f"Fastest runs instead of medians: {s['pair-warm_overhead_min']:+.1%} after a clean, "
        f"{s['pair-noop_overhead_min']:+.1%} as a no-op. The tool's own work, accounted in its runs "
        f"(preflight, config, validation, and what no phase times: start-up, cache counts, report): "
        f"{s['pair-warm_own_s']:.2f} s, {s['pair-warm_own_vs_pip']:.1%} of plain pip's warm build here; "
        f"of it validation {s['pair-warm_validate_s']:.2f} s after a clean, {s['pair-noop_validate_s']:.2f} s "
        "as a no-op (medians).",
        "",
    ]
    if "pair-warm_cpu_overhead" in s:
        rows += [
            "CPU time of the process tree (user + system, medians), which other people's work on the shared "
            f"cores does not inflate as it does wall time: after a clean {s['pair-warm_tool_cpu_s']:.2f} s against "
            f"{s['pair-warm_pip_cpu_s']:.2f} s ({s['pair-warm_cpu_overhead']:+.1%}), as a no-op "
            f"{s['pair-noop_tool_cpu_s']:.2f} s against {s['pair-noop_pip_cpu_s']:.2f} s "
            f"({s['pair-noop_cpu_overhead']:+.1%}).",
            "",
        ]
    if "load_average" in s:
        la = s["load_average"]
        rows += [
            f"Load average (1 min) at the start and end of the runs: {la['min']:.1f} to {la['max']:.1f}, "
            f"median {la['median']:.1f}, on {m['cores']} cores.",
            "",
        ]
    rows += [
        f"{source}; cache {p['cache']} (Rust: {p.get('rust_cache', 'sccache')}), {p['jobs']} jobs, "
        f"{m['cores']} cores, {m['memory_gib']} GiB; {p['reps']} repetitions (medians); build isolation "
        f"{'on' if p['isolation'] else 'off'}; {m['compiler']}; {m['cache']}; {m.get('sccache')}; "
        f"{m['cargo']}; measured {result['finished']}.",
    ]
    return "\n".join(rows)


def write_markdown(path: Path, text: str) -> None:
    doc = path.read_text(encoding="utf-8") if path.exists() else f"{BEGIN}\n{END}\n"
    if BEGIN not in doc or END not in doc:
        raise SystemExit(f"build_speed: {path} has no {BEGIN} ... {END} markers")
    head, _, rest = doc.partition(BEGIN)
    _, _, tail = rest.partition(END)
    path.write_text(f"{head}{BEGIN}\n{text}\n{END}{tail}", encoding="utf-8")


def run(args: argparse.Namespace) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="mlc-build-speed-", dir=args.workdir))
    jobs = args.jobs or options.default_jobs(options.cpu_count(), options.memory_bytes())
    wheelhouse = work / "wheelhouse"
    wheelhouse.mkdir()
    build_ffi_wheel(wheelhouse)  # the stand-in's libraries NEED libtvm_ffi from this wheel
    env = clean_env(
        {
            "CCACHE_DIR": str(work / "ccache"),
            "SCCACHE_DIR": str(work / "sccache"),
            "MLC_FIND_LINKS": os.environ.get("MLC_FIND_LINKS", str(wheelhouse)),
            "MLC_VALIDATION_CACHE": str(work / "validation"),
            "MLC_BUILD_ENV": str(work / "build-env"),  # the cold build makes the kept build environment
        }
    )
    try:
        if args.source:
            ws = args.source.resolve()
            for name in ("build", cache.CARGO_TARGET_NAME):  # cold: no build/, no cargo target of the tool's
                shutil.rmtree(ws / name, ignore_errors=True)
            print(f"build_speed: source {ws}, cache {args.cache}, {jobs} jobs, caches in {work}", flush=True)
        else:
            ws = scalable_standin.generate(work / "mlc-llm", args.n, rust_units=args.rust_units)
            commit_tree(ws)
            print(
                f"build_speed: N={args.n}, {args.rust_units} Rust modules a crate, cache {args.cache}, "
                f"{jobs} jobs, in {work}",
                flush=True,
            )
        bench = Bench(ws, work, env, args.cache, jobs, not args.no_build_isolation)
        started = dt.datetime.now(dt.timezone.utc)
        bench.tool("cold")
        everything = args.only == "all"
        for _ in range(args.reps if everything else 0):
            bench.clean()
            bench.tool("warm")
        for _ in range(args.reps if everything else 0):
            bench.tool("noop")
        if everything and not args.source:  # a real code change needs a generated unit to edit
            for rev in range(args.reps):
                scalable_standin.edit_one(ws, (rev * 37) % max(1, args.n), rev)
                bench.tool("one-file")
        pip_env = bench.pip_env()
        for _ in range(args.reps):  # alternated, each after a clean with the caches warm
            bench.clean()
            bench.tool("pair-warm")
            bench.clean()
            bench.pip("pair-warm", pip_env)
        for _ in range(args.reps):
            bench.tool("pair-noop")
            bench.pip("pair-noop", pip_env)
        bench.stop_pip_server(pip_env)
        if everything and not args.no_build_isolation:
            # scikit-build-core clears build/CMakeCache.txt and build/CMakeFiles when the isolated
            # environment's path changes, which pip's isolation does on every build: the root
            # project's objects are compiled again (cache hits). Without isolation, a no-op is one.
            bench.tool("prime-no-isolation", isolation=False)
            for _ in range(args.reps):
                bench.tool("noop-no-isolation", isolation=False)
            # pip's own isolation, a new temporary environment every build, as the tool did before it kept one
            bench.tool("prime-fresh", build_env="fresh")
            for _ in range(args.reps):
                bench.tool("noop-fresh", build_env="fresh")
        sccache = shutil.which("sccache", path=env["PATH"])
        result = {
            "schema": "mlc-devops/build-speed/v2",
            "parameters": {
                "n": None if args.source else args.n,
                "rust_units": None if args.source else args.rust_units,
                "rust_crates": None if args.source else len(scalable_standin.RUST_CRATES) + 1,
                "source": str(ws) if args.source else None,
                "cache": args.cache,
                "rust_cache": "sccache" if sccache else "none",
                "jobs": jobs,
                "reps": args.reps,
                "isolation": not args.no_build_isolation,
                "only": args.only,
            },
            "machine": machine(jobs, args.cache),
            "started": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "finished": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "runs": bench.runs,
        }
        result["summary"] = summarise(bench.runs)
        return result
    finally:
        if args.keep:
            print(f"build_speed: kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--n",
        type=int,
        default=scalable_standin.DEFAULT_N,
        help=f"generated translation units (default {scalable_standin.DEFAULT_N})",
    )
    parser.add_argument(
        "--rust-units",
        type=int,
        default=scalable_standin.DEFAULT_RUST_UNITS,
        help=f"modules in each generated Rust crate (default {scalable_standin.DEFAULT_RUST_UNITS})",
    )
    parser.add_argument(
        "--source", type=Path, metavar="DIR", help="measure this checkout instead of the stand-in (removes its build/)"
    )
    parser.add_argument("--reps", type=int, default=3, help="repetitions of each warm scenario (default 3)")
    parser.add_argument(
        "--only",
        choices=("all", "overhead"),
        default="all",
        help="overhead: the cold build (to fill the caches), then only the tool against plain pip (default all)",
    )
    parser.add_argument(
        "--cache", choices=("ccache", "sccache"), default="ccache", help="compiler cache (default ccache)"
    )
    parser.add_argument("--jobs", type=int, help="parallel jobs (default: the tool's, cores capped by memory)")
    parser.add_argument("--no-build-isolation", action="store_true", help="both sides build without isolation")
    parser.add_argument(
        "--out", type=Path, default=Path("build-speed.json"), help="JSON result (default ./build-speed.json)"
    )
    parser.add_argument("--markdown", type=Path, help="replace the marked table in this markdown file")
    parser.add_argument("--workdir", help="where the temporary tree goes (default: the system's temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the generated tree and caches")
    parser.add_argument(
        "--from-json", type=Path, metavar="FILE", help="measure nothing: summarise the runs of an earlier result again"
    )
    args = parser.parse_args(argv)
    if args.n < 1 or args.reps < 1:
        parser.error("--n and --reps must be at least 1")
    if args.from_json:
        result = json.loads(args.from_json.read_text(encoding="utf-8"))
        result["summary"] = summarise(result["runs"])
    else:
        result = run(args)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    text = table(result)
    print(text)
    if args.markdown:
        write_markdown(args.markdown, text)
    print(f"build_speed: wrote {args.out}" + (f" and {args.markdown}" if args.markdown else ""))
    return 0 if all(t["met"] for t in result["summary"]["targets"].values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
