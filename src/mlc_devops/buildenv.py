"""The kept build environment: a project's build requirements in a virtual environment made once and reused.

pip's build isolation makes a new temporary environment for every build, and
scikit-build-core, seeing another environment than the one it configured
``build/`` in, clears ``CMakeCache.txt`` and configures afresh: an isolated
no-op rebuild then compiles every object again, from the compiler cache at best
(issue 12: 4.1-4.2% of a cold build where a true no-op is 2.3-2.4%). A kept
environment is isolated the same way (a virtual environment without the
interpreter's site-packages, holding what ``[build-system] requires`` and the
backend's ``get_requires_for_build_wheel`` ask for), but its path does not
change, so the next build finds its configure still valid. It is made once per
:class:`Spec` (the requirements, the backend, the interpreter, pip's settings,
the CMake and ninja the backend would find) in ``build-env/<key>`` of the
user's cache directory, and the build runs ``pip wheel --no-build-isolation``
with its interpreter.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import shutil
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any, Callable

from mlc_devops import fsutil, lock, platforms
from mlc_devops import run as run_mod
from mlc_devops.errors import BuildFailed, PrerequisiteMissing

FORMAT = 1  # bumped when what an environment holds, or how it is made, changes
MARKER = "mlc-devops-build-env.json"  # written last: an environment without it is incomplete
KEEP = 4  # environments kept; the least recently used beyond that are removed
# pyproject.toml without [build-system]: pip's fallback (PEP 517, "Source trees" without build-backend).
DEFAULT_BACKEND = "setuptools.build_meta:__legacy__"
DEFAULT_REQUIRES = ("setuptools>=40.8.0",)
# pip's settings that change what it installs: their values go into the key by digest (an index URL may
# hold a token). PIP_* variables that change only pip's output (PIP_PROGRESS_BAR, ...) change the key too.
PIP_PREFIX = "PIP_"
# Printed before the hook's answer, so that a backend printing on stdout does not spoil it.
ANSWER = "mlc-devops-build-requires:"
HOOK = f"""\
import importlib, json, os, sys
backend_spec, backend_path, settings = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
for entry in reversed(backend_path):
    sys.path.insert(0, os.path.abspath(entry))
module, _, attribute = backend_spec.partition(":")
backend = importlib.import_module(module)
for part in filter(None, attribute.split(".")):
    backend = getattr(backend, part)
hook = getattr(backend, "get_requires_for_build_wheel", None)
print({ANSWER!r} + json.dumps(list(hook(settings)) if hook is not None else []))
"""


@dataclass(frozen=True)
class Spec:
    """What a kept environment is made from; two builds with equal specs share one environment.

    ``requires`` and ``backend``/``backend_path``: the project's ``[build-system]`` (PEP 517/518);
    ``settings``: the config settings the backend's ``get_requires_for_build_wheel`` is asked with
    (scikit-build-core adds ``cmake`` and ``ninja`` to its answer when the ones it finds are older than
    ``cmake.version``/``ninja.version``: scikit_build_core/build/__init__.py); ``interpreter`` and
    ``python``: the interpreter that makes the environment (its resolved path and ``sys.version``); ``found``: the
    programs the backend would find on PATH, with their versions (``{"cmake": "3.25.1", "ninja": None}``);
    ``pip``: a digest of the ``PIP_*`` and ``SKBUILD_*`` variables and pip's configuration files (index,
    find-links, constraints); ``tool``: the project's ``[tool.scikit-build]``.
    """

    requires: tuple[str, ...]
    backend: str
    backend_path: tuple[str, ...] = ()
    settings: Mapping[str, str] = field(default_factory=dict)
    interpreter: str = ""
    python: str = ""
    found: Mapping[str, str | None] = field(default_factory=dict)
    pip: str = ""
    tool: str = ""  # the project's [tool.scikit-build] table, as JSON

    def key(self) -> str:
        """The environment's name: 16 hex digits of the SHA-256 of the spec and :data:`FORMAT`. Pure."""
        data = {**asdict(self), "format": FORMAT}
        data["settings"] = dict(sorted(self.settings.items()))
        data["found"] = dict(sorted(self.found.items()))
        text = json.dumps(data, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


# The backend's settings from the environment (scikit-build-core's SKBUILD_*, which win over -C and can
# change its answer to get_requires_for_build_wheel): in the key like pip's.
BACKEND_PREFIXES = ("SKBUILD_",)


def pip_digest(env: Mapping[str, str], config_files: Mapping[str, str | None] | None = None) -> str:
    """SHA-256 over the ``PIP_*`` and ``SKBUILD_*`` variables of ``env`` and the digests of pip's
    configuration files (``{path: sha256 or None}``), or "" when there is none of either. Pure."""
    items = sorted((k, v) for k, v in env.items() if k.startswith((PIP_PREFIX, *BACKEND_PREFIXES)))
    files = sorted((config_files or {}).items())
    if not items and not files:
        return ""
    return hashlib.sha256(json.dumps([items, files]).encode("utf-8")).hexdigest()


def spec_for(
    pyproject: Mapping[str, Any] | None,
    *,
    settings: Mapping[str, str],
    found: Mapping[str, str | None],
    env: Mapping[str, str],
    interpreter: str | None = None,
    python: str | None = None,
    pip_config: Mapping[str, str | None] | None = None,
) -> Spec:
    """The :class:`Spec` of a project whose parsed ``pyproject.toml`` is ``pyproject`` (None: no file). Pure.

    Without ``[build-system]`` the requirements and backend are pip's fallback (:data:`DEFAULT_REQUIRES`,
    :data:`DEFAULT_BACKEND`), as PEP 517 says a frontend does for a source tree without one.
    ``[tool.scikit-build]`` goes into ``tool`` (its ``cmake.version``, ``ninja.version`` and overrides
    change the backend's answer); ``pip_config``: pip's configuration files by digest. Not in the key: the
    code of an in-tree backend (``backend-path``) and a legacy ``setup.py``'s ``setup_requires``.
    """
    system = (pyproject or {}).get("build-system")
    system = system if isinstance(system, Mapping) else {}
    requires = system.get("requires")
    if not (isinstance(requires, list) and all(isinstance(r, str) for r in requires)):
        requires = list(DEFAULT_REQUIRES)
    backend = system.get("build-backend")
    backend_path = system.get("backend-path")
    return Spec(
        requires=tuple(requires),
        backend=backend if isinstance(backend, str) and backend else DEFAULT_BACKEND,
        backend_path=tuple(backend_path) if isinstance(backend_path, list) else (),
        settings=dict(settings),
        tool=_tool_table(pyproject),
        # resolved: a virtual environment's python and python3 are one interpreter, and venv makes the
        # environment from the interpreter underneath, whichever environment asks
        interpreter=interpreter if interpreter is not None else os.path.realpath(sys.executable),
        python=python if python is not None else sys.version,
        found=dict(found),
        pip=pip_digest(env, pip_config),
    )


def _tool_table(pyproject: Mapping[str, Any] | None) -> str:
    tool = (pyproject or {}).get("tool")
    table = tool.get("scikit-build") if isinstance(tool, Mapping) else None
    return json.dumps(table, sort_keys=True, default=str) if isinstance(table, Mapping) and table else ""


def parse_answer(output: str) -> list[str]:
    """The requirements that the hook script printed after :data:`ANSWER`. BuildFailed without one. Pure."""
    for line in reversed(output.splitlines()):
        if line.startswith(ANSWER):
            try:
                value = json.loads(line[len(ANSWER) :])
            except ValueError:
                break
            if isinstance(value, list) and all(isinstance(v, str) for v in value):
                return value
    raise BuildFailed("the build backend's get_requires_for_build_wheel gave no answer", detail=output[-2000:])


@dataclass(frozen=True)
class Kept:
    """A kept environment: where, its interpreter, whether this build made it, and what it holds."""

    path: Path
    python: Path
    key: str
    created: bool
    packages: dict[str, str]  # distribution name -> version, as installed
    requires: tuple[str, ...]  # what was installed: [build-system] requires, then the backend's answer
    made_at: str
    seconds: float  # how long making it took (0.0 when reused)
    # The shared lock this build holds on it while pip runs (lock.release when the build ends), so that
    # no other build's prune removes it meanwhile; None where there are no shared locks (Windows).
    held: int | None = field(default=None, compare=False)

    def report(self) -> dict[str, Any]:
        """The build report's ``build_environment``: ``{"kind": "kept", "path", "key", "created", "made_at",
        "requires", "packages"}``."""
        return {
            "kind": "kept",
            "path": str(self.path),
            "key": self.key,
            "created": self.created,
            "made_at": self.made_at,
            "requires": list(self.requires),
            "packages": dict(sorted(self.packages.items())),
        }


PACKAGES = (
    "import importlib.metadata as m, json; "
    "print(json.dumps({d.metadata['Name']: d.version for d in m.distributions() if d.metadata['Name']}))"
)


def _read_marker(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((path / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("format") == FORMAT else None


def ensure(
    spec: Spec,
    parent: Path,
    source: Path,
    env: Mapping[str, str],
    *,
    log: IO[str] | None = None,
    say: Callable[[str], None] = lambda _: None,
) -> Kept:
    """The kept environment of ``spec`` under ``parent``: reused when complete, else made now.

    Making it: ``python -m venv`` (with pip, from ensurepip: offline), ``pip install`` of
    ``spec.requires``, then the backend's ``get_requires_for_build_wheel(spec.settings)`` asked in it
    (in ``source``, as pip asks it) and its answer installed; then every requirement is checked against
    what is installed. Another build making the same environment is waited for (``<key>.lock`` beside
    it). A failure removes what was made and raises BuildFailed (PrerequisiteMissing without the venv
    module or a writable ``parent``); nothing half-made is reused: the marker is written last, and a
    reuse checks that what it lists is installed. The returned :class:`Kept` holds a shared lock on it
    (``held``: give it up with :func:`mlc_devops.lock.release` when the build ends); the least recently
    used environments beyond :data:`KEEP` that nobody holds are removed.
    """
    key = spec.key()
    path = parent / key
    fsutil.ensure_dir(parent, "build environment directory")
    lock_path = parent / f"{key}.lock"
    try:
        fd = lock.hold(lock_path, on_wait=say, what=f"the build environment {path}")
    except OSError as exc:
        raise PrerequisiteMissing(
            f"cannot lock the build environment {path}: {exc.strerror or exc}",
            hint="give a writable folder with --build-env DIR (MLC_BUILD_ENV), or --build-env fresh",
        ) from None
    try:
        kept = _reuse(path, key) or _remake(spec, path, key, source, env, log=log, say=say)
        held = lock.share(fd)
    except BaseException:
        lock.release(fd)
        raise
    prune(parent, keep=KEEP)
    return dataclasses.replace(kept, held=held)


def scripts_dir(path: Path) -> Path:
    """The scripts folder of the virtual environment at ``path``: bin/, or Scripts/ on Windows. Pure."""
    return path / platforms.current().venv_bin


def site_packages(path: Path, python_version: tuple[int, int] | None = None) -> Path:
    """The site-packages folder of the virtual environment at ``path`` (venv's layout). Pure."""
    if platforms.current().name == "windows":
        return path / "Lib" / "site-packages"
    major, minor = python_version or sys.version_info[:2]
    return path / "lib" / f"python{major}.{minor}" / "site-packages"


def installed_names(folder: Path) -> set[str]:
    """The canonical names of the distributions installed in ``folder`` (their ``*.dist-info``)."""
    from packaging.utils import canonicalize_name  # noqa: PLC0415

    try:
        entries = [e.name for e in os.scandir(folder)]
    except OSError:
        return set()
    return {
        str(canonicalize_name(name[: -len(".dist-info")].split("-")[0]))
        for name in entries
        if name.endswith(".dist-info")
    }


def _reuse(path: Path, key: str) -> Kept | None:
    marker = _read_marker(path)
    python = Path(platforms.current().venv_python(path))
    if marker is None or not python.exists():
        return None
    packages = {str(k): str(v) for k, v in dict(marker.get("packages") or {}).items()}
    from packaging.utils import canonicalize_name  # noqa: PLC0415

    if not {str(canonicalize_name(n)) for n in packages} <= installed_names(site_packages(path)):
        return None  # partly removed: made again
    with contextlib.suppress(OSError):
        os.utime(path / MARKER)
    return Kept(
        path,
        python,
        key,
        False,
        packages,
        tuple(marker.get("requires") or ()),
        str(marker.get("made_at") or ""),
        0.0,
    )


def _remake(
    spec: Spec,
    path: Path,
    key: str,
    source: Path,
    env: Mapping[str, str],
    *,
    log: IO[str] | None,
    say: Callable[[str], None],
) -> Kept:
    python = Path(platforms.current().venv_python(path))
    started = time.monotonic()
    _remove(path)
    try:
        packages, requires, made_at = _make(spec, path, python, source, env, log=log, say=say)
        seconds = time.monotonic() - started
        record = {
            "format": FORMAT,
            "key": key,
            "spec": {**asdict(spec), "settings": dict(spec.settings), "found": dict(spec.found)},
            "made_at": made_at,
            "requires": list(requires),
            "packages": packages,
            "seconds": round(seconds, 3),
        }
        fsutil.write_text_atomic(path / MARKER, json.dumps(record, indent=2, sort_keys=True) + "\n")
    except BaseException:
        _remove(path)
        raise
    return Kept(path, python, key, True, packages, requires, made_at, seconds)


def _remove(path: Path) -> None:
    """Remove an environment, its marker first: one whose removal stops half-way is never reused."""
    with contextlib.suppress(FileNotFoundError):
        (path / MARKER).unlink()
    shutil.rmtree(path, ignore_errors=True)


def unmet(requires: Sequence[str], packages: Mapping[str, str]) -> list[str]:
    """The requirements of ``requires`` that ``packages`` (name -> version, as installed) does not meet,
    markers evaluated for this interpreter. Pure."""
    from packaging.requirements import InvalidRequirement, Requirement  # noqa: PLC0415
    from packaging.utils import canonicalize_name  # noqa: PLC0415
    from packaging.version import InvalidVersion, Version  # noqa: PLC0415

    have = {str(canonicalize_name(k)): v for k, v in packages.items()}
    out = []
    for text in requires:
        try:
            req = Requirement(text)
        except InvalidRequirement:
            out.append(text)
            continue
        if req.marker is not None and not req.marker.evaluate():
            continue
        version = have.get(str(canonicalize_name(req.name)))
        try:
            ok = version is not None and req.specifier.contains(Version(version), prereleases=True)
        except InvalidVersion:
            ok = False
        if not ok:
            out.append(text)
    return out


def _make(
    spec: Spec,
    path: Path,
    python: Path,
    source: Path,
    env: Mapping[str, str],
    *,
    log: IO[str] | None,
    say: Callable[[str], None],
) -> tuple[dict[str, str], tuple[str, ...], str]:
    from mlc_devops.wheel import venv  # noqa: PLC0415

    clean = venv.clean_env(env)
    say(f"    making the build environment {path} (once for these build requirements)")
    try:
        run_mod.run(
            [sys.executable, "-m", "venv", str(path)],
            env=clean,
            log=log,
            what="python -m venv",
            error=PrerequisiteMissing,
        )
    except PrerequisiteMissing as exc:
        exc.hint = "install the venv module (Debian: apt-get install python3-venv), or build with --build-env fresh"
        raise
    if not python.exists():
        raise BuildFailed(f"the build environment {path} has no interpreter {python.name}")
    pip = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "--no-input"]
    requires = list(spec.requires)
    if requires:
        say(f"    installing {', '.join(requires)}")
        _install([*pip, *requires], clean, log, "pip install (build requirements)", source)
    answer = run_mod.run(
        # -I: neither the source folder nor PYTHONPATH on sys.path, as pip's hook runner has it
        [
            str(python),
            "-I",
            "-c",
            HOOK,
            spec.backend,
            json.dumps(list(spec.backend_path)),
            json.dumps(dict(spec.settings)),
        ],
        cwd=source,
        env=clean,
        log=log,
        what=f"{spec.backend} get_requires_for_build_wheel",
    ).output
    extra = [r for r in parse_answer(answer) if r not in requires]
    if extra:
        say(f"    installing what the build backend asks for: {', '.join(extra)}")
        _install([*pip, *extra], clean, log, "pip install (the backend's requirements)", source)
    listed = run_mod.run([str(python), "-I", "-c", PACKAGES], env=clean).output.strip().splitlines()
    try:
        packages = {str(k): str(v) for k, v in json.loads(listed[-1]).items()}
    except (IndexError, ValueError, AttributeError):
        raise BuildFailed(
            f"cannot list what the build environment {path} holds", detail="\n".join(listed[-20:])
        ) from None
    missing = unmet([*requires, *extra], packages)
    if missing:
        raise BuildFailed(
            f"pip reported success, but the build environment {path} lacks {', '.join(missing)}",
            hint="pip's settings may install elsewhere (PIP_TARGET, PIP_PREFIX, PIP_USER); unset them, or build "
            "with --build-env fresh",
        )
    made_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return packages, (*requires, *extra), made_at


def _install(cmd: list[str], env: Mapping[str, str], log: IO[str] | None, what: str, source: Path) -> None:
    try:
        run_mod.run(cmd, env=env, log=log, what=what)
    except BuildFailed as exc:
        exc.hint = (
            f"check [build-system] requires in {source / 'pyproject.toml'} and pip's index settings "
            "(PIP_INDEX_URL, PIP_FIND_LINKS); --build-env fresh leaves the build environment to pip"
        )
        raise


def prune(parent: Path, *, keep: int) -> list[Path]:
    """Remove the complete environments under ``parent`` beyond the ``keep`` most recently used (by their
    marker's modification time). One being made (no marker yet) or used by a build (its lock held, shared
    or not) is left; lock files are never removed (a build waiting on one would lock a file nobody else
    sees). Not on Windows, where a build in progress holds no lock on its environment. Returns the removed
    ones."""
    if os.name == "nt":  # pragma: no cover - Windows only
        return []
    complete = []
    for child in parent.iterdir() if parent.is_dir() else ():
        with contextlib.suppress(OSError):
            if child.is_dir() and (child / MARKER).is_file():
                complete.append(((child / MARKER).stat().st_mtime, child))
    removed = []
    for _, child in sorted(complete, reverse=True)[keep:]:
        try:
            fd = lock.try_hold(parent / f"{child.name}.lock")
        except OSError:
            continue
        if fd is None:
            continue  # a build holds it
        try:
            _remove(child)
        finally:
            lock.release(fd)
        removed.append(child)
    return removed


def describe(kept: Kept) -> str:
    """One line for the console: which environment, and whether it was made or reused."""
    if kept.created:
        return f"    build environment: made {kept.path} in {kept.seconds:.1f}s (kept for the next build)"
    return f"    build environment: {kept.path} (kept, made {kept.made_at})"
