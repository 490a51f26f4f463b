"""Reuse the load check of a byte-identical wheel: the key of everything it depends on, the decision, the entries."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import json
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA = "mlc-devops/validation-cache/v1"
# Entries kept in the folder; the oldest (by last use) go first. One entry is a few kB.
KEEP = 256

# The package's modules whose code decides what a load check does or how its result is read: a change
# to any of them is a new key (the version alone does not change between commits).
CODE = (
    "__init__.py",
    "depwheels.py",
    "elf.py",
    "findings.py",
    "platforms.py",
    "run.py",
    "validation_cache.py",
    "probes/libs.py",
    "probes/load.py",
    "wheel/reader.py",
    "wheel/resolution.py",
    "wheel/validate.py",
    "wheel/venv.py",
)

# Variables of the build's environment that cannot change a load check, left out of the key so that
# they do not defeat reuse: what the tool sets for the compilers of each build (a fresh sccache port
# every build), the tool's own settings (MLC_FIND_LINKS is in the key by its wheels), and the shell
# session's or CI run's bookkeeping. Every other variable is in the key (by a digest: values can be secrets),
# since the import of the package and its providers may read any (upstream's MLC_LIBRARY_PATH, TVM_LIBRARY_PATH).
VOLATILE_NAMES = frozenset(
    {
        "_",
        "CFLAGS",
        "CMAKE_BUILD_PARALLEL_LEVEL",
        "COLORTERM",
        "COLUMNS",
        "CUDAFLAGS",
        "CXXFLAGS",
        "DISPLAY",
        "GPG_TTY",
        "INVOCATION_ID",
        "JOURNAL_STREAM",
        "LDFLAGS",
        "LINES",
        "LS_COLORS",
        "MAIL",
        "OLDPWD",
        "PROMPT_COMMAND",
        "PS1",
        "PS2",
        "PWD",
        "RUSTC_WRAPPER",
        "SHLVL",
        "SOURCE_DATE_EPOCH",
        "STY",
        "TERM",
        "TMUX",
        "TMUX_PANE",
        "WINDOW",
        "WINDOWID",
        "XAUTHORITY",
    }
)
VOLATILE_PREFIXES = (
    "ACTIONS_",
    "CARGO_",
    "CCACHE_",
    "CMAKE_",
    "GITHUB_",
    "HIST",
    "MLC_",
    "PYTEST_",
    "RUNNER_",
    "SCCACHE_",
    "SSH_",
    "TERM_",
    "XDG_SESSION_",
)
# MLC_* variables that are not the tool's settings: read by upstream's mlc_llm at import, so they stay in.
KEPT_MLC = ("MLC_LIBRARY_PATH", "MLC_LLM_HOME", "MLC_LLM_SOURCE_DIR", "MLC_JIT_POLICY", "MLC_DOWNLOAD_CACHE_POLICY")
# The dynamic loader's own configuration on Linux (ld.so(8)): libraries it finds, libraries it preloads.
LOADER_FILES = ("/etc/ld.so.cache", "/etc/ld.so.preload")


@dataclass(frozen=True)
class ProviderFile:
    """A wheel that the load check installs beside the wheel: its project, version and file digest."""

    name: str
    version: str
    sha256: str


@dataclass(frozen=True)
class Inputs:
    """Everything a validation depends on, each by an identity that changes when it does."""

    wheel_sha256: str
    providers: tuple[ProviderFile, ...]  # wheels it may install beside the wheel (--with files, find-links), by content
    requirements: tuple[str, ...]  # --with requirements that pip fetches (by content in the entry's ``fetched``)
    find_links: tuple[tuple[str, tuple[str, ...]], ...]  # each folder pip may take dependencies from: its wheels
    offline: bool
    index_url: str | None
    interpreter: str  # the venv's base interpreter, by path (its file is among the system files, by content)
    python_version: str  # sys.version: version and build
    platform: str
    tags_digest: str  # this interpreter's supported wheel tags (OS, libc, ABI)
    policy_digest: str  # auditwheel's manylinux policies, which say what the platform provides
    tool_version: str
    code_digest: str  # :data:`CODE`
    pip_version: str | None
    environment_digest: str  # :func:`environment_for_key`
    pip_config_digest: str  # pip's configuration files, which steer where dependencies come from
    loader_digest: str  # :data:`LOADER_FILES`


def environment_for_key(env: Mapping[str, str]) -> dict[str, str]:
    """The variables of the validation's environment that are in the key (all but the volatile ones). Pure."""
    return {
        k: v
        for k, v in env.items()
        if k not in VOLATILE_NAMES and (not k.startswith(VOLATILE_PREFIXES) or k in KEPT_MLC)
    }


def digest(data: Any) -> str:
    """SHA-256 of ``data`` as canonical JSON (sorted keys, no spaces). Pure."""
    return hashlib.sha256(json.dumps(data, sort_keys=True, separators=(",", ":")).encode("utf-8")).hexdigest()


def material(inputs: Inputs) -> dict[str, Any]:
    """The key's inputs as JSON, as the entry records them. Pure."""
    return {
        "schema": SCHEMA,
        "wheel_sha256": inputs.wheel_sha256,
        "providers": [provider_json(p) for p in sorted(inputs.providers, key=lambda p: (p.name, p.sha256))],
        "requirements": list(inputs.requirements),
        "find_links": [{"folder": folder, "wheels": list(wheels)} for folder, wheels in inputs.find_links],
        "offline": inputs.offline,
        "index_url": inputs.index_url,
        "interpreter": inputs.interpreter,
        "python_version": inputs.python_version,
        "platform": inputs.platform,
        "tags_digest": inputs.tags_digest,
        "policy_digest": inputs.policy_digest,
        "tool_version": inputs.tool_version,
        "code_digest": inputs.code_digest,
        "pip_version": inputs.pip_version,
        "environment_digest": inputs.environment_digest,
        "pip_config_digest": inputs.pip_config_digest,
        "loader_digest": inputs.loader_digest,
    }


def provider_json(provider: ProviderFile) -> dict[str, str]:
    return {"name": provider.name, "version": provider.version, "sha256": provider.sha256}


def cache_key(inputs: Inputs) -> str:
    """The entry's name: SHA-256 of :func:`material`. Pure."""
    return digest(material(inputs))


def changed_inputs(then: Mapping[str, Any], now: Mapping[str, Any]) -> list[str]:
    """The names of the key's inputs that differ between two :func:`material` records. Pure."""
    return sorted(k for k in set(then) | set(now) if then.get(k) != now.get(k))


@dataclass(frozen=True)
class Decision:
    reuse: bool
    reason: str


def decide(entry: Mapping[str, Any] | None, key: str, system_now: Mapping[str, str | None]) -> Decision:
    """Whether ``entry`` (the stored record for ``key``, if any) may stand for a validation now. Pure.

    It may when it is a complete record of a passed validation for this very key, and every file
    outside the validation environment that its load check's processes had mapped (the interpreter,
    libc, libstdc++, ...) still has the content it had then: ``system_now`` maps each recorded path
    to its SHA-256 now (None: gone). Providers that pip fetched are checked apart (:func:`same_fetched`).
    """
    if entry is None:
        return Decision(False, "no earlier validation of these inputs")
    if entry.get("schema") != SCHEMA or entry.get("key") != key:
        return Decision(False, "the stored entry is of another format or key")
    system = entry.get("system")
    complete = all(isinstance(entry.get(k), dict) for k in ("load", "result"))
    complete = complete and isinstance(entry.get("fetched"), list) and bool(entry.get("validated_at"))
    if not complete or not isinstance(system, dict):
        return Decision(False, "the stored entry is incomplete")
    if not system:
        return Decision(False, "the earlier check could not list the system libraries it used (no /proc/self/maps)")
    changed = sorted(path for path, sha in system.items() if system_now.get(path) != sha)
    if changed:
        return Decision(False, f"{len(changed)} system file(s) changed since: {', '.join(changed[:3])}")
    return Decision(True, "the same inputs, and the same system files")


def whole(entry: Mapping[str, Any]) -> bool:
    """Whether the whole result stands for itself: nothing came from pip's index, whose files the key cannot name
    before they are fetched. Else the providers are fetched again and compared (:func:`same_fetched`). Pure."""
    return not entry.get("fetched")


def same_fetched(entry: Mapping[str, Any], fetched_now: Sequence[ProviderFile]) -> Decision:
    """Whether the providers that pip fetched now are byte for byte those the recorded load check installed. Pure."""
    then = sorted((str(p.get("name")), str(p.get("sha256"))) for p in entry.get("fetched", []))
    now = sorted((p.name, p.sha256) for p in fetched_now)
    if then == now:
        return Decision(True, "the providers fetched again are byte-identical")
    return Decision(
        False,
        "pip fetched other providers: "
        + (", ".join(f"{p.name} {p.version} (sha256 {p.sha256[:12]})" for p in fetched_now) or "none"),
    )


def reused_note(entry: Mapping[str, Any], where: Path, findings_now: Sequence[Mapping[str, Any]], part: str) -> str:
    """The report's line for a reused validation (``part``: "validation" or "load check"): from when, for
    what, with which findings. Pure."""
    inputs = entry.get("inputs", {})
    providers = [*inputs.get("providers", []), *entry.get("fetched", [])]
    with_what = (
        "with " + ", ".join(f"{p['name']} {p['version']} (sha256 {str(p['sha256'])[:12]})" for p in providers)
        if providers
        else "with no provider wheels"
    )
    then = entry.get("findings", [])
    same = [(f.get("kind"), f.get("message")) for f in then] == [
        (f.get("kind"), f.get("message")) for f in findings_now
    ]
    count = f"{len(findings_now)} finding(s)" if findings_now else "no findings"
    return (
        f"{part} reused: this wheel (sha256 {str(inputs.get('wheel_sha256'))[:12]}) was validated {with_what} "
        f"at {entry.get('validated_at')} by mlc-devops {entry.get('tool_version')} in {entry.get('seconds', 0):.1f} s, "
        "with the same interpreter, options, environment and validation code; "
        f"the {len(entry.get('system', {}))} system files its load check mapped are unchanged; "
        f"{count}, {'the same as then' if same else f'then {len(then)}'} "
        f"(entry {where}; MLC_VALIDATION_CACHE=off validates afresh)"
    )


def reuse_record(entry: Mapping[str, Any], where: Path, part: str) -> dict[str, Any]:
    """What a reused validation says for machines (the report's ``validation.reused``): which part
    ("validation" or "load check"), of which entry, from when, by which version, how long it took. Pure."""
    return {
        "part": part,
        "key": entry.get("key"),
        "entry": str(where),
        "validated_at": entry.get("validated_at"),
        "tool_version": entry.get("tool_version"),
        "seconds": entry.get("seconds"),
    }


def entry_record(
    key: str,
    inputs: Inputs,
    *,
    result: Mapping[str, Any],
    load: Mapping[str, Any],
    fetched: Sequence[ProviderFile],
    system: Mapping[str, str | None],
    installed: Sequence[str],
    validated_at: str,
    seconds: float,
) -> dict[str, Any]:
    """The JSON stored for a passed validation: its result, its load check, and what that depended on. Pure."""
    return {
        "schema": SCHEMA,
        "key": key,
        "inputs": material(inputs),
        "tool_version": inputs.tool_version,
        "validated_at": validated_at,
        "seconds": round(seconds, 3),
        "result": dict(result),
        "findings": [dict(f) for f in result.get("findings", [])],
        "load": dict(load),
        "fetched": [provider_json(p) for p in fetched],
        "system": {k: v for k, v in sorted(system.items()) if v is not None},
        "installed": sorted(installed),
    }


def to_prune(entries: Iterable[tuple[str, float]], keep: int = KEEP) -> list[str]:
    """Names of the entries beyond the ``keep`` most recently used ((name, mtime) pairs). Pure."""
    ordered = sorted(entries, key=lambda item: (-item[1], item[0]))
    return [name for name, _mtime in ordered[keep:]]


def utc_now() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- the edges: files, this interpreter ---------------------------------------------------------------------


def sha256(path: Path) -> str | None:
    """The file's SHA-256, None where it cannot be read."""
    digest_ = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest_.update(chunk)
    except OSError:
        return None
    return digest_.hexdigest()


# Where the digests of the system files are kept with the status each had when hashed (:func:`hash_files`).
DIGESTS_NAME = "digests/system.json"  # beside the entries (*.json), not among them
# A file whose modification or change time is this close to (or after) the moment it was hashed may have
# changed within one timestamp tick of it, and is hashed again (git's "racily clean" entries: racy-git.txt).
RACY_NS = 2_000_000_000


def stat_key(st: os.stat_result) -> list[int]:
    """What a file's status says of its content: device, inode, size, modification and change times (ns)."""
    return [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]


def known_digest(memo: Mapping[str, Any], path: str, st: os.stat_result) -> str | None:
    """The SHA-256 that ``memo`` keeps for ``path`` when its status ``st`` is the one it had when hashed and
    it had not changed within :data:`RACY_NS` of that; else None (hash it). Pure.

    ``memo``: ``{path: {"stat": stat_key, "sha256", "hashed_ns"}}``. A file rewritten in place changes its
    change time (the kernel sets it on every write and every metadata change; a program cannot set it), a
    file replaced changes its inode: the same status means the same content, as git's index assumes.
    """
    entry = memo.get(path)
    if not isinstance(entry, Mapping) or entry.get("stat") != stat_key(st):
        return None
    hashed = entry.get("hashed_ns")
    if not isinstance(hashed, int) or max(st.st_mtime_ns, st.st_ctime_ns) >= hashed - RACY_NS:
        return None
    found = entry.get("sha256")
    return found if isinstance(found, str) else None


def hash_files(paths: Iterable[str], folder: Path | None = None) -> dict[str, str | None]:
    """Each path's SHA-256 now, None where it cannot be read.

    With ``folder`` (the validation cache), a file whose status is unchanged since it was hashed
    (:func:`known_digest`) is not read again: the load check maps the interpreter, libpython, libc and
    the like (12 files for the stand-in), and reading them all took 0.025 s of each reuse (issue 12,
    goal 4). The digests are kept in ``folder/digests/system.json``; a file that cannot be written
    costs the next build a read, nothing else.
    """
    import time  # noqa: PLC0415

    memo: dict[str, Any] = {}
    memo_path = folder / DIGESTS_NAME if folder is not None else None
    if memo_path is not None:
        with contextlib.suppress(OSError, ValueError):
            loaded = json.loads(memo_path.read_text(encoding="utf-8"))
            memo = loaded if isinstance(loaded, dict) else {}
    out: dict[str, str | None] = {}
    changed = False
    for path in paths:
        try:
            st = Path(path).stat()
        except OSError:
            out[path] = None
            continue
        known = known_digest(memo, path, st)
        if known is not None:
            out[path] = known
            continue
        hashed_ns = time.time_ns()
        out[path] = found = sha256(Path(path))
        if found is not None and memo_path is not None:
            memo[path] = {"stat": stat_key(st), "sha256": found, "hashed_ns": hashed_ns}
            changed = True
    if changed and memo_path is not None:
        from mlc_devops import fsutil  # noqa: PLC0415
        from mlc_devops.errors import MlcDevopsError  # noqa: PLC0415

        with contextlib.suppress(OSError, MlcDevopsError):
            memo_path.parent.mkdir(exist_ok=True)
            fsutil.write_text_atomic(memo_path, json.dumps(memo, sort_keys=True) + "\n")
    return out


def code_digest() -> str:
    """SHA-256 over :data:`CODE`, this installation's files."""
    root = Path(__file__).resolve().parent
    return digest({name: sha256(root / name) for name in CODE})


def pip_config_files(env: Mapping[str, str]) -> list[Path]:
    """pip's configuration files, as pip looks for them (pip's "Configuration" page), that exist."""
    candidates: list[Path] = []
    if env.get("PIP_CONFIG_FILE"):
        candidates.append(Path(env["PIP_CONFIG_FILE"]))
    for folder in (env.get("XDG_CONFIG_DIRS") or "/etc/xdg").split(os.pathsep):
        if folder:
            candidates.append(Path(folder) / "pip" / "pip.conf")
    candidates.append(Path("/etc/pip.conf"))
    home = env.get("HOME", "")
    if home:
        candidates += [Path(home) / ".pip" / "pip.conf", Path(home) / ".config" / "pip" / "pip.conf"]
    if env.get("XDG_CONFIG_HOME"):
        candidates.append(Path(env["XDG_CONFIG_HOME"]) / "pip" / "pip.conf")
    for var in ("APPDATA", "PROGRAMDATA"):
        if env.get(var):
            candidates.append(Path(env[var]) / "pip" / "pip.ini")
    candidates.append(Path(sys.prefix) / ("pip.ini" if os.name == "nt" else "pip.conf"))
    return [p for p in candidates if p.is_file()]


def policy_file_sha256() -> str | None:
    """SHA-256 of auditwheel's manylinux policy file, which validation reads (:func:`resolution.load_policies`),
    found without importing auditwheel (its import takes longer than the rest of a reuse); None without it."""
    import importlib.util  # noqa: PLC0415

    try:
        spec = importlib.util.find_spec("auditwheel")
    except (ImportError, ValueError):
        return None
    for folder in (spec.submodule_search_locations or []) if spec is not None else []:
        found = sha256(Path(folder) / "policy" / "manylinux-policy.json")
        if found is not None:
            return found
    return None


@functools.cache
def pip_version() -> str | None:
    """The installed pip's version (importlib.metadata: 0.008 s of a reuse, so asked once a process)."""
    from importlib import metadata  # noqa: PLC0415

    try:
        return metadata.version("pip")
    except metadata.PackageNotFoundError:
        return None


def find_links_wheels(find_links: Sequence[str]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Each ``--find-links`` folder and the wheel files in it (by name: project, version, tags).

    The providers taken from these folders are in the key by content; the other wheels here are
    what pip may install as the providers' own dependencies, named as an index names them.
    """
    out = []
    for link in find_links:
        folder = Path(link)
        names = tuple(sorted(p.name for p in folder.glob("*.whl"))) if folder.is_dir() else ()
        out.append((link, names))
    return tuple(out)


def inputs_for(
    *,
    wheel_sha256: str,
    providers: Iterable[tuple[str, str, Path]],
    requirements: Sequence[str],
    find_links: Sequence[str],
    offline: bool,
    index_url: str | None,
    platform: str,
    tags: Sequence[str],
    env: Mapping[str, str],
) -> Inputs:
    """:class:`Inputs` of a validation about to run with this interpreter: ``providers`` are
    (name, version, wheel file) of the wheels it may take from files."""
    from mlc_devops import __version__  # noqa: PLC0415

    return Inputs(
        wheel_sha256=wheel_sha256,
        providers=tuple(ProviderFile(name, version, sha256(path) or "") for name, version, path in providers),
        requirements=tuple(requirements),
        find_links=find_links_wheels(find_links),
        offline=offline,
        index_url=index_url,
        interpreter=sys.executable,
        python_version=sys.version,
        platform=platform,
        tags_digest=digest(list(tags)),
        policy_digest=digest(policy_file_sha256()),
        tool_version=__version__,
        code_digest=code_digest(),
        pip_version=pip_version(),
        environment_digest=digest(environment_for_key(env)),
        pip_config_digest=digest({str(p): sha256(p) for p in pip_config_files(env)}),
        loader_digest=digest({name: sha256(Path(name)) for name in LOADER_FILES}),
    )


def entry_path(folder: Path, key: str) -> Path:
    return folder / f"{key}.json"


def last_fetched(folder: Path, project: str, *, look: int = 20) -> list[str]:
    """The providers (names) that pip fetched for the most recently used entry of ``project``'s wheel in
    ``folder``, among its ``look`` most recently used entries; empty when there is none.

    What a build of ``project`` downloads while it compiles (:func:`mlc_devops.depwheels.prefetch`): the
    providers its validation will most likely fetch again. Entries are read newest first (:func:`touch`
    marks use), so this reads one entry in the usual case.
    """
    from packaging.utils import canonicalize_name  # noqa: PLC0415

    wanted = canonicalize_name(project)
    try:
        entries = sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime_ns, reverse=True)[:look]
    except OSError:
        return []
    for path in entries:
        entry = load_entry(path)
        result = entry.get("result") if entry is not None else None
        if not isinstance(result, dict) or canonicalize_name(str(result.get("name", ""))) != wanted:
            continue
        fetched = entry.get("fetched") if entry is not None else None
        if not isinstance(fetched, list):
            return []
        return [str(p["name"]) for p in fetched if isinstance(p, dict) and "name" in p]
    return []


def load_entry(path: Path) -> dict[str, Any] | None:
    """The stored entry, or None when there is none or it cannot be read (it is then written anew)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def touch(path: Path) -> None:
    """Mark an entry as used now (pruning keeps the most recently used)."""
    with contextlib.suppress(OSError):
        os.utime(path)


def store(folder: Path, key: str, record: Mapping[str, Any]) -> str | None:
    """Write the entry (atomically) and prune the folder; a sentence saying why not, when it cannot be written."""
    from mlc_devops import fsutil  # noqa: PLC0415
    from mlc_devops.errors import MlcDevopsError  # noqa: PLC0415

    try:
        fsutil.write_text_atomic(entry_path(folder, key), json.dumps(record, indent=1, sort_keys=True) + "\n")
    except MlcDevopsError as exc:
        return f"not recorded for reuse: {exc.message}"
    with contextlib.suppress(OSError):
        found = [(p.name, p.stat().st_mtime) for p in folder.glob("*.json")]
        for name in to_prune(found):
            with contextlib.suppress(OSError):
                (folder / name).unlink()
    return None
