"""Validate a built wheel: its tags fit this platform, every NEEDED entry resolves, and it loads as users load it."""

from __future__ import annotations

import fnmatch
import functools
import json
import re
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from packaging.tags import sys_tags
from packaging.utils import canonicalize_name, parse_wheel_filename

from mlc_devops import findings, options, probes
from mlc_devops import run as run_mod
from mlc_devops import validation_cache as vcache
from mlc_devops.errors import ValidationFailed
from mlc_devops.platforms import Platform
from mlc_devops.wheel import resolution, venv

if TYPE_CHECKING:
    from mlc_devops.wheel import reader


def native_members(facts: reader.WheelFacts, plat: Platform) -> list[str]:
    """The wheel's native libraries under this platform's naming (``.so``, ``.dll``, ``.dylib``)."""
    return [m for m in facts.members if plat.is_native_library(m)]


def problems(facts: reader.WheelFacts, plat: Platform, supported: Iterable[str]) -> list[str]:
    """Everything wrong with the wheel's name and contents, as sentences; empty when it is fine. Pure.

    Which libraries it must contain is not a fixed list: :mod:`mlc_devops.wheel.resolution`
    decides that from what its libraries NEED. It must hold at least one.
    """
    out = []
    supported_set = set(supported)
    if not facts.tags & supported_set:
        out.append(
            f"{facts.filename}: none of its tags ({', '.join(sorted(facts.tags))}) is supported by this interpreter"
        )
    platforms_in_tags = {t.rsplit("-", 1)[-1] for t in facts.tags}
    if not any(plat.wheel_platform_fits(p) for p in platforms_in_tags):
        out.append(f"{facts.filename}: platform tag {', '.join(sorted(platforms_in_tags))} is not a {plat.name} tag")
    if not native_members(facts, plat):
        out.append(f"{facts.filename} holds no native library ({plat.shared_library('mlc_llm')} or any other)")
    return out


@functools.cache
def supported_tags() -> tuple[str, ...]:
    """This interpreter's wheel tags, best first (packaging's ``sys_tags``); asked once a process (0.005 s)."""
    return tuple(str(t) for t in sys_tags())


# --- libraries: what they NEED, who provides it, and whether they load ------------------------------------


def _policy(platform_tags: Iterable[str]) -> tuple[str, frozenset[str]]:
    policies = resolution.load_policies()
    if policies is None:
        return "platform (no manylinux policy: auditwheel is not installed)", frozenset()
    return resolution.policy_libraries(policies, platform_tags)


_CANNOT_OPEN = re.compile(r"([^\s:/]+\.so[0-9.]*): cannot open shared object file")


def missing_driver(error: str) -> str | None:
    """The GPU driver library a loader error says is missing (``libcuda.so.1: cannot open shared object
    file``), when it is one the user's system provides (:data:`resolution.SYSTEM_PROVIDED`); else None. Pure.

    A CUDA build of TVM NEEDs libcuda.so.1 itself (it links the driver API); a build machine without
    a GPU driver cannot load it, which says nothing of the wheel.
    """
    match = _CANNOT_OPEN.search(error)
    if match is None:
        return None
    name = match.group(1)
    return name if any(fnmatch.fnmatch(name, p) for p in resolution.SYSTEM_PROVIDED) else None


def interpret_load(
    result: Mapping[str, Any], providers: Iterable[resolution.Provider], package: str
) -> tuple[list[str], list[str]]:
    """Failures and notes from the load checks (:func:`load_check`'s result). Pure.

    Fails: a provider module that does not import, a library that does not load,
    an import that fails with OSError (a library). Notes: an import that needs a
    module not installed for validation (the smoke test installs everything),
    libraries not loaded because an identical copy or one of that name was.
    """
    failures: list[str] = []
    notes: list[str] = []
    owners = {m: p for p in providers for m in p.modules}
    for module, outcome in dict(result.get("providers", {})).items():
        if outcome != "ok":
            owner = owners.get(module)
            what = f"import {module}" + (f" (from {owner.name} {owner.version})" if owner else "")
            driver = missing_driver(str(outcome))
            if driver is not None:
                notes.append(
                    f"{what}: not checked here: it needs {driver}, which this machine's GPU driver would provide"
                )
            else:
                failures.append(f"{what} failed: {outcome}")
    for item in result.get("failed", []):
        driver = missing_driver(str(item["error"]))
        if driver is not None:
            notes.append(
                f"{item['path']}: not loaded here: it needs {driver}, which the GPU driver provides and this "
                "machine does not have (`mlc-devops smoke --gpu` on a machine with the driver loads it)"
            )
            continue
        failures.append(f"{PurePosixPath(item['path']).name} does not load: {item['error']}")
    imported = dict(result.get("import") or {})
    if imported.get("ok"):
        notes.append(f"import {package}: ok")
    elif imported.get("missing_module"):
        notes.append(
            f"import {package} needs {imported['missing_module']}, which validation does not install "
            "(it installs only the wheels that provide libraries); each library was loaded alone instead, "
            "and `mlc-devops smoke` checks the import"
        )
    elif imported:
        driver = missing_driver(str(imported.get("error", "")))
        if imported.get("oserror") and driver is not None:
            notes.append(
                f"import {package}: not checked here: it loads a library that needs {driver}, which the GPU driver "
                "provides and this machine does not have"
            )
        elif imported.get("oserror"):
            failures.append(f"import {package} failed: {imported.get('error')}")
        else:
            notes.append(f"import {package} raised {imported.get('error')}; `mlc-devops smoke` checks the import")
    for item in result.get("skipped", []):
        notes.append(f"{item['path']}: not loaded again, {item['reason']}")
    return failures, notes


def preloads(
    libraries: Sequence[resolution.Library],
    members: Iterable[str],
    providers: Sequence[resolution.Provider] = (),
) -> dict[str, list[str]]:
    """For each library, the files it NEEDs that the loader would not find beside it, to load before it.

    Paths are relative to site-packages: the providers' libraries first (apache-tvm-ffi's
    ``tvm_ffi/lib/libtvm_ffi.so``), then the wheel's own from outside the library's search
    path (upstream's ``mlc_llm/libmlc_llm.so`` NEEDs ``mlc_llm/lib/libtvm_runtime.so``).
    Loading exactly these, by path, keeps the loader from searching a RUNPATH that names
    the build machine's tree (upstream 34497eae's does: there it found the build's own
    libtvm_runtime.so next to the TVM wheel's libtvm.so, and both registered the same
    functions), and keeps apart libraries that must not meet (libtvm.so and libtvm_runtime.so).
    """
    found = resolution.resolve(libraries, list(members), providers, frozenset(), "")
    by_name = {p.name: p for p in providers}
    out: dict[str, list[str]] = {}
    for item in found:
        if item.kind in (resolution.DEPENDENCY, resolution.UNDECLARED):
            provider = by_name.get(item.where.split(" ", 1)[0])
            if provider is not None and item.needed in provider.libraries:
                out.setdefault(item.library, []).append(provider.libraries[item.needed])
    for item in found:
        if item.kind == resolution.WHEEL_ELSEWHERE:
            out.setdefault(item.library, []).append(item.where)
    return out


def _probe(python: Path, args: Sequence[str], cwd: str, env: Mapping[str, str], what: str) -> dict[str, Any]:
    """Run the load probe; its JSON, or ValidationFailed with how it died and its last lines."""
    result = run_mod.run([str(python), probes.path("load"), *args], cwd=cwd, env=env, check=False)
    lines = [ln for ln in result.output.splitlines() if ln.startswith("{")]
    if not lines:
        raise ValidationFailed(
            f"the load check of {what} {run_mod.describe_exit(result.returncode)} before printing a result",
            detail="\n".join(result.output.strip().splitlines()[-20:]),
            hint="the last lines of its output are above",
        )
    data: dict[str, Any] = json.loads(lines[-1])
    return data


def load_check(
    wheel: Path,
    package: str,
    libraries: Sequence[resolution.Library],
    members: Sequence[str],
    digests: Mapping[str, str],
    provider_files: Mapping[str, Path],
    providers: Sequence[resolution.Provider],
    env: Mapping[str, str],
    *,
    find_links: Sequence[str] = (),
    offline: bool = False,
    index_url: str | None = None,
) -> dict[str, Any]:
    """Install the wheel (alone) and its library providers (with their own dependencies) into a clean venv; load.

    apache-tvm-ffi's ``import tvm_ffi`` needs typing-extensions, its own dependency
    (measured on upstream 79d603f0): providers come with theirs, from the index
    and ``find_links`` (only ``find_links`` when ``offline``).

    One process imports the providers and the package, as users do; then every
    library the import did not load is loaded in a process of its own, after exactly
    the files it needs (:func:`preloads`), so that libraries
    that are alternatives of one another never meet (upstream's libmlc_llm.so
    and libmlc_llm_module.so register the same functions and abort together).
    A byte-identical copy of a library already checked is not loaded again.
    Returns ``{"providers", "import", "present", "loaded", "skipped", "failed", "outside", "installed"}``:
    ``outside``, the files beyond the environment that the checks' processes had mapped (the
    interpreter, libc, ...), and ``installed``, what pip had installed (``name version``), are what
    :mod:`mlc_devops.validation_cache` records beside the result.
    """
    clean = venv.clean_env(env)
    modules = [m for p in providers for m in p.modules]
    before = preloads(libraries, members, providers)
    names = sorted(lib.path for lib in libraries) or sorted(digests)
    with venv.fresh(env) as python, tempfile.TemporaryDirectory(prefix="mlc-devops-load-") as cwd:
        if provider_files:
            run_mod.run(
                venv.install_command(
                    str(python),
                    [str(p.resolve()) for p in provider_files.values()],
                    offline=offline,
                    index_url=index_url,
                    find_links=find_links,
                    pip=venv.pip_for(python),
                ),
                env=clean,
                what="pip install (the packages that provide the wheel's libraries, with their dependencies)",
                error=ValidationFailed,
            )
        run_mod.run(
            venv.install_command(
                str(python),
                [str(wheel.resolve())],
                offline=True,
                index_url=None,
                no_deps=True,
                pip=venv.pip_for(python),
            ),
            env=clean,
            what="pip install (validation environment)",
            error=ValidationFailed,
        )
        first = _probe(python, ["import", json.dumps({"providers": modules, "package": package})], cwd, clean, package)
        out: dict[str, Any] = {
            "providers": first.get("providers", {}),
            "import": first.get("import"),
            "present": [p for p in first.get("loaded", []) if p in digests],
            "loaded": [],
            "skipped": [],
            "failed": [],
        }
        checked = {digests[p]: p for p in out["present"]}
        outside = set(first.get("outside", []))
        for path in names:
            if path in out["present"]:
                continue
            if digests.get(path) in checked:
                out["skipped"].append({"path": path, "reason": f"identical to {checked[digests[path]]}"})
                continue
            spec = {"providers": [], "preload": before.get(path, []), "library": path}
            result = _probe(python, ["library", json.dumps(spec)], cwd, clean, path)
            status = result.get("status")
            if status == "failed":
                out["failed"].append({"path": path, "error": result.get("error", "")})
            elif status == "skipped":
                out["skipped"].append(
                    {"path": path, "reason": f"a library of that name is loaded from {result.get('loaded_from')}"}
                )
            else:
                out["loaded"].append(path)
                checked.setdefault(digests.get(path, path), path)
            outside.update(result.get("outside", []))
        out["outside"] = sorted(outside)
        out["installed"] = installed_distributions(python)
    return out


def installed_distributions(python: Path) -> list[str]:
    """``name version`` of every distribution in the environment of ``python`` (its ``*.dist-info`` folders)."""
    from packaging.utils import canonicalize_name  # noqa: PLC0415

    root = python.parent.parent
    out = set()
    for pattern in ("lib/python*/site-packages/*.dist-info", "Lib/site-packages/*.dist-info"):
        for folder in root.glob(pattern):
            name, _, version = folder.name[: -len(".dist-info")].partition("-")
            out.add(f"{canonicalize_name(name)} {version}")
    return sorted(out)


def validate(
    wheel: Path,
    plat: Platform,
    env: Mapping[str, str],
    *,
    load: bool = True,
    with_packages: Sequence[str] = (),
    find_links: Sequence[str] = (),
    offline: bool = False,
    index_url: str | None = None,
    cache: options.ValidationCache | None = None,
    prefetched: Mapping[str, Future[Path | None]] | None = None,
) -> dict[str, Any]:
    """Validate ``wheel`` for ``plat``: tags, NEEDED resolution, loading, findings.

    Returns the report's ``wheel``/``validation`` data: filename, name, version,
    tags, sha256, size, libraries, loaded, resolution (one entry per NEEDED),
    providers, findings, notes, reused. Raises ValidationFailed (exit 5) for a wrong
    tag, an unresolved NEEDED entry or a library that does not load.

    A passed validation is recorded in ``cache`` (default: ``MLC_VALIDATION_CACHE`` in ``env``,
    else the user's cache directory) and reused when every input it depends on is the same
    (:mod:`mlc_devops.validation_cache`); where pip fetched a provider, the provider is fetched
    again and only a byte-identical one lets the load check be reused. The notes say what was
    reused, from when; ``reused`` says it for machines (:func:`validation_cache.reuse_record`), or is None.
    ``prefetched``: providers' downloads begun earlier (:func:`mlc_devops.depwheels.prefetch`).
    """
    from mlc_devops.wheel import reader  # noqa: PLC0415 - the wheel's contents, only when validating

    facts = reader.inspect(wheel)
    tags = supported_tags()
    found = problems(facts, plat, tags)
    if found:
        raise ValidationFailed(found[0], detail="\n".join(found[1:]))
    folder = (cache or options.resolve_validation_cache(None, env, plat.name)).path if load else None
    cached = (
        _look_up(
            folder,
            wheel,
            with_packages=with_packages,
            find_links=find_links,
            offline=offline,
            index_url=index_url,
            plat=plat,
            tags=tags,
            env=env,
        )
        if folder is not None
        else None
    )
    if cached is not None and cached.stored is not None and cached.decision.reuse:
        stands = vcache.whole(cached.stored)
        again = ""
        # --with requirements are fetched by their own text, which no early download is made for
        if not stands and prefetched and not cached.inputs.requirements:
            fetched_now = prefetched_providers(cached.stored, prefetched, wheel)
            stands = fetched_now is not None and vcache.same_fetched(cached.stored, fetched_now).reuse
            again = "; the providers pip fetched then were downloaded again while building: byte-identical"
        if stands:
            vcache.touch(cached.path)
            result: dict[str, Any] = json.loads(json.dumps(cached.stored["result"]))
            note = vcache.reused_note(cached.stored, cached.path, result["findings"], "validation") + again
            result["notes"] = [*result["notes"], note]
            result["reused"] = vcache.reuse_record(cached.stored, cached.path, "validation")
            return result
    result, probe, fetched, seconds = _validate(
        wheel,
        facts,
        plat,
        env,
        load=load,
        with_packages=with_packages,
        find_links=find_links,
        offline=offline,
        index_url=index_url,
        reuse=cached,
        prefetched=prefetched,
    )
    result["reused"] = None
    if cached is not None:
        note, result["reused"] = _remember(cached, result, probe, fetched, seconds)
        result["notes"] = [*result["notes"], note]
    return result


def prefetched_providers(
    entry: Mapping[str, Any], prefetched: Mapping[str, Future[Path | None]], wheel: Path
) -> list[vcache.ProviderFile] | None:
    """The providers that ``entry``'s validation had pip fetch for the wheel's declared requirements, as
    downloaded again during this build (:func:`mlc_devops.depwheels.prefetch`), each with its digest; None
    when one of them was not downloaded again for the very requirement validation fetches it by (then the
    wheel is read and the providers fetched as usual).

    ``prefetched`` is keyed by requirement (:func:`mlc_devops.depwheels.requirement_key`), looked up as
    :func:`mlc_devops.depwheels.gather` looks it up: the wheel's Requires-Dist entry of that name. With the
    entry's key the same, byte-identical providers leave nothing that the key names changed (the providers'
    own dependencies from the index are not asked again, as for a reused load check), so its whole result
    stands: on upstream's 24 MB wheel that spares reading the wheel's libraries again (0.3-0.45 s
    of each rebuild, measured 2026-12-07 on mlc-llm 79d603f0).
    """
    from mlc_devops import depwheels  # noqa: PLC0415
    from mlc_devops.wheel import reader  # noqa: PLC0415

    declared = {str(canonicalize_name(r.name)): r for r in depwheels.applicable(reader.declared_requirements(wheel))}
    out = []
    for item in entry.get("fetched") or []:
        name = str(item.get("name"))
        requirement = declared.get(name)
        began = prefetched.get(depwheels.requirement_key(str(requirement)) or "") if requirement is not None else None
        if began is None or began.cancelled():
            return None
        path = began.result()
        if path is None:
            return None
        version = str(parse_wheel_filename(path.name)[1])
        out.append(vcache.ProviderFile(name, version, vcache.sha256(path) or ""))
    return out


def _validate(
    wheel: Path,
    facts: reader.WheelFacts,
    plat: Platform,
    env: Mapping[str, str],
    *,
    load: bool,
    with_packages: Sequence[str],
    find_links: Sequence[str],
    offline: bool,
    index_url: str | None,
    reuse: Cached | None,
    prefetched: Mapping[str, Future[Path | None]] | None = None,
) -> tuple[dict[str, Any], dict[str, Any], list[vcache.ProviderFile], float]:
    """:func:`validate` without the record: the result, the load check's, the providers pip fetched, and
    the load check's seconds. ``reuse``'s load check stands in when pip fetched the same providers."""
    from mlc_devops import depwheels  # noqa: PLC0415 - pip and wheel reading, only when validating
    from mlc_devops.wheel import reader  # noqa: PLC0415

    natives = native_members(facts, plat)
    info, libraries = reader.read_wheel_and_libraries(wheel, natives)
    package = reader.package_name(facts.members, info.name)
    digests = {lib.path: lib.sha256 for lib in info.libraries}
    policy_name, allowed = _policy(info.platform_tags)
    notes: list[str] = []
    resolved = resolution.resolve(libraries, facts.members, (), allowed, policy_name)
    missing = set(resolution.unresolved_names(resolved))
    providers: list[resolution.Provider] = []
    fetched: list[vcache.ProviderFile] = []
    with tempfile.TemporaryDirectory(prefix="mlc-devops-deps-") as work:
        files: dict[str, Path] = {}
        if missing or with_packages:
            gathered = depwheels.gather(
                info.requires_dist,
                set(missing),
                Path(work),
                env,
                with_packages=with_packages,
                find_links=find_links,
                offline=offline,
                index_url=index_url,
                prefetched=prefetched,
            )
            resolved = resolution.resolve(libraries, facts.members, gathered.providers, allowed, policy_name)
            notes += gathered.notes
            used = {
                r.where.split(" ", 1)[0] for r in resolved if r.kind in (resolution.DEPENDENCY, resolution.UNDECLARED)
            }
            providers = [p for p in gathered.providers if p.name in used]
            files = {p.name: gathered.files[p.name] for p in providers}
            fetched = [
                vcache.ProviderFile(p.name, p.version, vcache.sha256(files[p.name]) or "")
                for p in providers
                if p.name in gathered.fetched
            ]
        unresolved = [r for r in resolved if r.kind == resolution.UNRESOLVED]
        if unresolved:
            raise ValidationFailed(
                unresolved[0].sentence(),
                detail="\n".join([r.sentence() for r in unresolved[1:]] + notes),
                hint="ship it in the wheel, declare the package that ships it in [project].dependencies, "
                "or pass --with/--find-links with that package's wheel",
            )
        stored = reuse.stored if reuse is not None and reuse.decision.reuse else None
        started = time.monotonic()
        if stored is not None and vcache.same_fetched(stored, fetched).reuse:
            probe: dict[str, Any] = dict(stored["load"])
        elif load:
            probe = load_check(
                wheel,
                package,
                libraries,
                facts.members,
                digests,
                files,
                providers,
                env,
                find_links=find_links,
                offline=offline,
                index_url=index_url,
            )
        else:
            probe = {}
        seconds = time.monotonic() - started
    failures, load_notes = interpret_load(probe, providers, package) if load else ([], [])
    if failures:
        raise ValidationFailed(
            failures[0],
            detail="\n".join(failures[1:] + load_notes),
            hint="check the libraries' NEEDED entries and RUNPATH (readelf -d) and the dependencies that provide them",
        )
    notes += load_notes
    imported = dict(probe.get("import") or {})
    if imported.get("ok"):
        version = (imported.get("version"), "import")
    else:
        static = findings.static_module_version(reader.python_sources(wheel, package), package)
        version = (static[0], static[1]) if static else (None, "")
    found_findings = findings.duplicates((lib.path, lib.sha256, lib.size) for lib in info.libraries)
    found_findings += findings.foreign_runpaths({lib.path: lib.search_path for lib in libraries})
    floors = {lib.path: lib.glibc for lib in libraries if lib.glibc}
    glibc_line = findings.glibc_note(floors, facts.tags)
    if glibc_line is not None:
        notes.append(glibc_line)
    mismatch = findings.version_mismatch(info.version, version[0], version[1])
    if mismatch is not None:
        found_findings.append(mismatch)
    for provider in providers:
        if not provider.declared:
            needs = sorted({r.needed for r in resolved if r.where.startswith(provider.name + " ")})
            found_findings.append(
                findings.Finding(
                    findings.UNDECLARED_PAIRING,
                    f"the wheel's libraries need {', '.join(needs)} from {provider.name} {provider.version}, "
                    "which its Requires-Dist does not declare",
                    {"package": provider.name, "version": provider.version, "libraries": needs},
                )
            )
    loaded = [*probe.get("present", []), *probe.get("loaded", [])]
    result = {
        "filename": facts.filename,
        "name": facts.name,
        "version": facts.version,
        "tags": sorted(facts.tags),
        "sha256": info.sha256,
        "size": info.size,
        "libraries": [{"path": lib.path, "sha256": lib.sha256} for lib in info.libraries],
        "loaded": sorted(loaded),
        "package": package,
        "module_version": version[0],
        "glibc": ".".join(str(v) for v in max(floors.values())) if floors else None,
        "resolution": [r.as_dict() for r in resolved],
        "providers": [
            {"name": p.name, "version": p.version, "declared": p.declared, "libraries": sorted(p.libraries)}
            for p in providers
        ],
        "findings": [f.as_dict() for f in found_findings],
        "notes": notes,
    }
    return result, probe, fetched, seconds


# --- reuse of an earlier validation of the same inputs (mlc_devops.validation_cache) ------------------------


@dataclass(frozen=True)
class Cached:
    """A validation's key, its entry on disk (if any) and whether that entry stands for it."""

    path: Path
    key: str
    inputs: vcache.Inputs
    stored: dict[str, Any] | None
    decision: vcache.Decision


def _look_up(
    folder: Path,
    wheel: Path,
    *,
    with_packages: Sequence[str],
    find_links: Sequence[str],
    offline: bool,
    index_url: str | None,
    plat: Platform,
    tags: Sequence[str],
    env: Mapping[str, str],
) -> Cached:
    """The key of the validation about to run (nothing in the wheel is decompressed but its METADATA), and the
    decision on an entry recorded for it."""
    from mlc_devops import depwheels  # noqa: PLC0415
    from mlc_devops.wheel import reader  # noqa: PLC0415

    local: list[tuple[str, str, Path]] = []
    requirements: list[str] = []
    for item in with_packages:
        if item.endswith(".whl") and Path(item).is_file():
            parsed = parse_wheel_filename(Path(item).name)
            local.append((str(parsed[0]), str(parsed[1]), Path(item)))
        else:
            requirements.append(item)
    for name, path in depwheels.find_links_candidates(reader.declared_requirements(wheel), find_links).items():
        local.append((name, str(parse_wheel_filename(path.name)[1]), path))
    inputs = vcache.inputs_for(
        wheel_sha256=vcache.sha256(wheel) or "",
        providers=local,
        requirements=requirements,
        find_links=find_links,
        offline=offline,
        index_url=index_url,
        platform=plat.name,
        tags=tags,
        env=venv.clean_env(env),
    )
    key = vcache.cache_key(inputs)
    path = vcache.entry_path(folder, key)
    stored = vcache.load_entry(path)
    system = stored.get("system") if stored is not None else None
    now = vcache.hash_files(system, folder) if isinstance(system, dict) else {}
    return Cached(path, key, inputs, stored, vcache.decide(stored, key, now))


def _remember(
    cached: Cached,
    result: Mapping[str, Any],
    probe: Mapping[str, Any],
    fetched: Sequence[vcache.ProviderFile],
    seconds: float,
) -> tuple[str, dict[str, Any] | None]:
    """The note on this validation: its load check reused (pip fetched the same providers), or recorded
    for reuse (or why not); and what was reused, if anything."""
    if cached.stored is not None and cached.decision.reuse and vcache.same_fetched(cached.stored, fetched).reuse:
        vcache.touch(cached.path)
        note = vcache.reused_note(cached.stored, cached.path, result["findings"], "load check")
        return note, vcache.reuse_record(cached.stored, cached.path, "load check")
    record = vcache.entry_record(
        cached.key,
        cached.inputs,
        result={k: v for k, v in result.items() if k != "reused"},
        load={k: v for k, v in probe.items() if k not in ("outside", "installed")},
        fetched=fetched,
        system=vcache.hash_files((str(p) for p in probe.get("outside", [])), cached.path.parent),
        installed=[str(d) for d in probe.get("installed", [])],
        validated_at=vcache.utc_now(),
        seconds=seconds,
    )
    failed = vcache.store(cached.path.parent, cached.key, record)
    if cached.stored is None:
        why = ""
    elif not cached.decision.reuse:
        why = f" (the entry there was not reused: {cached.decision.reason})"
    else:
        why = f" (the entry there was not reused: {vcache.same_fetched(cached.stored, fetched).reason})"
    return (failed or f"validation recorded for reuse in {cached.path.parent}") + why, None
