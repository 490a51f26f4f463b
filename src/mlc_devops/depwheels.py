"""Find the wheels that provide a wheel's missing native libraries: given files, wheel directories, pip.

Only what is needed is fetched: a wheel given with ``--with``, a wheel of a
declared requirement found in a ``--find-links`` directory, then requirements
whose names share a word with a missing library, one at a time with
``pip download --no-deps`` (pip's cache makes repeats cheap), until nothing is
missing. Upstream MLC-LLM's full dependency set (torch, transformers,
flashinfer-python, ...) is about 5.3 GB installed (measured 2026-11-29); it is
never fetched for this.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from pathlib import Path

from packaging.markers import InvalidMarker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename
from packaging.version import InvalidVersion, Version

from mlc_devops import run as run_mod
from mlc_devops.errors import MlcDevopsError
from mlc_devops.wheel import reader, resolution


@dataclass
class Gathered:
    """Providers found, the wheel files they came from, and what was tried (for messages)."""

    providers: list[resolution.Provider] = field(default_factory=list)
    files: dict[str, Path] = field(default_factory=dict)  # canonical name -> wheel file
    notes: list[str] = field(default_factory=list)
    fetched: set[str] = field(default_factory=set)  # canonical names pip downloaded (now or prefetched)


def top_level_modules(
    members: Sequence[str], dist_info: str | None = None, top_level: str | None = None
) -> tuple[str, ...]:
    """Import names of a wheel: its ``top_level.txt`` when present, else the first path parts of its files."""
    if top_level:
        return tuple(sorted({line.strip() for line in top_level.splitlines() if line.strip()}))
    names = set()
    for member in members:
        head = member.split("/", 1)[0]
        if head.endswith((".dist-info", ".data")) or head == dist_info:
            continue
        if "/" in member:
            names.add(head)
        elif member.endswith(".py"):
            names.add(member[:-3])
    return tuple(sorted(n for n in names if n.isidentifier()))


def read_provider(path: Path, declared: frozenset[str]) -> resolution.Provider:
    """The native libraries and import names of the wheel at ``path``."""
    info = reader.read_wheel(path)
    members = info.members
    dist_info, top = reader.top_level(path, members)
    libraries = {Path(lib.path).name: lib.path for lib in info.libraries}
    return resolution.Provider(
        name=info.canonical_name,
        version=info.version,
        declared=info.canonical_name in declared,
        libraries=libraries,
        modules=top_level_modules(members, dist_info, top),
    )


def applicable(
    requires: Sequence[reader.Dependency], environment: Mapping[str, str] | None = None
) -> list[Requirement]:
    """The Requires-Dist entries that apply to this interpreter, without extras-only ones."""
    out = []
    for dep in requires:
        if dep.optional:
            continue
        try:
            req = Requirement(dep.requirement)
            if req.marker is not None and not req.marker.evaluate(dict(environment) if environment else None):
                continue
        except (InvalidRequirement, InvalidMarker):
            continue
        out.append(req)
    return out


def _wheel_in_dirs(req: Requirement, dirs: Sequence[str]) -> Path | None:
    best: tuple[Version, Path] | None = None
    for directory in dirs:
        for path in Path(directory).glob("*.whl"):
            try:
                name, version, _b, _t = parse_wheel_filename(path.name)
            except (InvalidWheelFilename, InvalidVersion):
                continue
            fits = name == canonicalize_name(req.name) and req.specifier.contains(version, prereleases=True)
            if fits and (best is None or version > best[0]):
                best = (version, path)
    return best[1] if best else None


def find_links_candidates(requires: Sequence[reader.Dependency], find_links: Sequence[str]) -> dict[str, Path]:
    """The wheel :func:`gather` would take from ``find_links`` for each declared requirement that applies
    (canonical name -> file): the newest that fits, as pip would choose."""
    out: dict[str, Path] = {}
    for req in applicable(requires):
        found = _wheel_in_dirs(req, find_links)
        if found is not None:
            out.setdefault(str(canonicalize_name(req.name)), found)
    return out


def download_command(
    requirement: str,
    dest: Path,
    *,
    find_links: Sequence[str],
    offline: bool,
    index_url: str | None,
    python: str = sys.executable,
) -> list[str]:
    """``pip download`` of one requirement's wheel, without its dependencies and without building sdists."""
    cmd = [python, "-m", "pip", "download", "--disable-pip-version-check", "--no-input", "--no-deps"]
    cmd += ["--only-binary=:all:", "-d", str(dest)]
    if offline:
        cmd.append("--no-index")
    elif index_url:
        cmd += ["--index-url", index_url]
    for link in find_links:
        cmd += ["--find-links", link]
    cmd.append(requirement)
    return cmd


def requirement_key(requirement: str) -> str | None:
    """One spelling of a requirement (``packaging``'s, the name canonical), so that a pyproject entry and
    the Requires-Dist it became compare equal; None when it does not parse. Pure."""
    try:
        parsed = Requirement(requirement)
    except InvalidRequirement:
        return None
    parsed.name = str(canonicalize_name(parsed.name))
    return str(parsed)


class Prefetch:
    """Downloads begun early (:func:`prefetch`): ``futures`` for :func:`gather`'s ``prefetched``, and
    :meth:`stop` for a build that ends before validation took them."""

    def __init__(self) -> None:
        self.futures: dict[str, Future[Path | None]] = {}
        self._running: list[subprocess.Popen[bytes]] = []
        self._lock = threading.Lock()
        self._stopped = False

    def download(self, command: Sequence[str], folder: Path, env: Mapping[str, str]) -> Path | None:
        """Run one ``pip download`` into ``folder``; its wheel, or None when it failed or was stopped."""
        folder.mkdir(parents=True, exist_ok=True)
        with self._lock:
            if self._stopped:
                return None
            try:
                proc = subprocess.Popen(
                    list(command),
                    env=dict(env),
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    start_new_session=os.name == "posix",
                )
            except OSError:
                return None
            self._running.append(proc)
        returncode = proc.wait()
        wheels = sorted(folder.glob("*.whl"))
        return wheels[0] if returncode == 0 and wheels else None

    def stop(self, grace: float = 5.0) -> None:
        """End the downloads still running (SIGTERM to each one's process group, SIGKILL after
        ``grace`` seconds) and wait for them, so that a failed or interrupted build does not wait on the
        network, and their folder can go."""
        with self._lock:
            self._stopped = True
            running = [proc for proc in self._running if proc.poll() is None]
        for proc in running:
            run_mod.signal_group(proc, signal.SIGTERM)
        for proc in running:
            try:
                proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                run_mod.signal_group(proc, signal.SIGKILL)
                proc.wait()
        for future in self.futures.values():
            future.cancel()


def prefetch(
    requirements: Sequence[str],
    dest: Path,
    env: Mapping[str, str],
    pool: Executor,
    *,
    find_links: Sequence[str] = (),
    offline: bool = False,
    index_url: str | None = None,
    python: str = sys.executable,
) -> Prefetch:
    """Begin ``pip download --no-deps`` of each requirement into its own folder under ``dest``, in
    ``pool``; its ``futures`` are ``{requirement_key: future wheel path or None}`` for
    :func:`gather`'s ``prefetched``.

    A build begins these while it compiles, for the providers its last validation needed, so that
    the download validation would run after the build (about 1 s against PyPI for upstream's
    apache-tvm-ffi, measured 2026-12-07) overlaps the build instead: the same command, run
    earlier, so the wheel is what pip gives now.
    """
    out = Prefetch()
    for index, requirement in enumerate(requirements):
        key = requirement_key(requirement)
        if key is None or key in out.futures:
            continue
        folder = dest / f"prefetch-{index}"
        command = download_command(
            key, folder, find_links=find_links, offline=offline, index_url=index_url, python=python
        )
        out.futures[key] = pool.submit(out.download, command, folder, env)
    return out


def gather(
    requires: Sequence[reader.Dependency],
    missing: set[str],
    work: Path,
    env: Mapping[str, str],
    *,
    with_packages: Sequence[str] = (),
    find_links: Sequence[str] = (),
    offline: bool = False,
    index_url: str | None = None,
    prefetched: Mapping[str, Future[Path | None]] | None = None,
) -> Gathered:
    """Wheels that provide libraries in ``missing``; fetched into ``work`` when not given.

    ``--with`` entries are read (files) or fetched (requirements) whatever is
    missing, since they were asked for. A requirement in ``prefetched`` (from
    :func:`prefetch`, same find-links, index and offline settings) takes that
    download's wheel when it got one, else is fetched here. Raises nothing for a
    requirement that cannot be fetched: it is noted, and the library stays unresolved.
    """
    reqs = applicable(requires)
    declared = frozenset(str(canonicalize_name(r.name)) for r in reqs)
    out = Gathered()
    work.mkdir(parents=True, exist_ok=True)

    def take(path: Path, how: str) -> None:
        provider = read_provider(path, declared)
        if provider.name in out.files:
            return
        out.providers.append(provider)
        out.files[provider.name] = path
        missing.difference_update(provider.libraries)
        out.notes.append(f"{provider.name} {provider.version}: {how}")

    def fetch(requirement: str) -> Path | None:
        early = (prefetched or {}).get(requirement_key(requirement) or "")
        if early is not None and not early.cancelled() and (path := early.result()) is not None:
            return path
        dest = work / f"dl-{len(out.notes)}-{len(out.files)}"
        dest.mkdir()
        cmd = download_command(requirement, dest, find_links=find_links, offline=offline, index_url=index_url)
        try:
            result = run_mod.run(cmd, env=env, check=False)
        except MlcDevopsError as exc:
            out.notes.append(f"{requirement}: not fetched ({exc.message})")
            return None
        wheels = sorted(dest.glob("*.whl"))
        if result.returncode != 0 or not wheels:
            reason = (result.output.strip().splitlines() or ["no output"])[-1]
            out.notes.append(f"{requirement}: not fetched ({reason})")
            return None
        return wheels[0]

    for item in with_packages:
        path = Path(item)
        if item.endswith(".whl") and path.is_file():
            take(path, f"given ({path.name})")
        elif (fetched := fetch(item)) is not None:
            take(fetched, "given with --with, fetched by pip")
            out.fetched.add(str(canonicalize_name(parse_wheel_filename(fetched.name)[0])))
    for req in reqs:
        name = str(canonicalize_name(req.name))
        if name not in out.files and (found := _wheel_in_dirs(req, find_links)) is not None:
            take(found, f"from {found.parent}")
    by_name = {str(canonicalize_name(r.name)): r for r in reqs}
    for name in resolution.rank_requirements(list(by_name), missing):
        if not missing:
            break
        if name in out.files:
            continue
        fetched = fetch(str(by_name[name]))
        if fetched is not None:
            take(fetched, "fetched by pip download --no-deps")
            out.fetched.add(name)
    skipped = [n for n in by_name if n not in out.files]
    if missing and skipped:
        out.notes.append(
            f"not fetched, since their names match no missing library: {', '.join(skipped)} "
            "(pass --find-links with their wheels to include them)"
        )
    return out
