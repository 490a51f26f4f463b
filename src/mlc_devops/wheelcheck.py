"""Validate a built wheel: it exists, its tags fit this platform, it carries the
native libraries under this platform's names, and they load.
"""

from __future__ import annotations

import json
import sys
import tempfile
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from packaging.tags import sys_tags
from packaging.utils import InvalidWheelFilename, parse_wheel_filename

from mlc_devops import run as run_mod
from mlc_devops.errors import ValidationFailed
from mlc_devops.platforms import Platform, is_native_library_name

REQUIRED_LIBRARIES = ("tvm_runtime", "mlc_llm")  # load order: the runtime first


@dataclass(frozen=True)
class WheelFacts:
    filename: str
    name: str
    version: str
    tags: frozenset[str]
    members: tuple[str, ...]


def facts_from(filename: str, members: Iterable[str]) -> WheelFacts:
    try:
        name, version, _build, tags = parse_wheel_filename(filename)
    except InvalidWheelFilename as exc:
        raise ValidationFailed(f"{filename} is not a valid wheel file name: {exc}") from None
    return WheelFacts(filename, str(name), str(version), frozenset(str(t) for t in tags), tuple(members))


def inspect(path: Path) -> WheelFacts:
    if not path.is_file():
        raise ValidationFailed(f"wheel {path} does not exist")
    try:
        with zipfile.ZipFile(path) as zf:
            members = zf.namelist()
    except zipfile.BadZipFile:
        raise ValidationFailed(f"{path.name} is not a valid zip archive") from None
    return facts_from(path.name, members)


def library_members(facts: WheelFacts, plat: Platform, names: Iterable[str] = REQUIRED_LIBRARIES) -> dict[str, str]:
    """Map each required library to its member path in the wheel (platform file names)."""
    found: dict[str, str] = {}
    for name in names:
        wanted = plat.shared_library(name)
        for member in facts.members:
            if PurePosixPath(member).name == wanted:
                found[name] = member
                break
    return found


def problems(facts: WheelFacts, plat: Platform, supported: Iterable[str]) -> list[str]:
    """Everything wrong with the wheel, as sentences; empty when it is fine. Pure."""
    out = []
    supported_set = set(supported)
    if not facts.tags & supported_set:
        out.append(
            f"{facts.filename}: none of its tags ({', '.join(sorted(facts.tags))}) is supported by this interpreter"
        )
    platforms_in_tags = {t.rsplit("-", 1)[-1] for t in facts.tags}
    if not any(plat.wheel_platform_fits(p) for p in platforms_in_tags):
        out.append(f"{facts.filename}: platform tag {', '.join(sorted(platforms_in_tags))} is not a {plat.name} tag")
    libs = library_members(facts, plat)
    for name in REQUIRED_LIBRARIES:
        if name not in libs:
            out.append(f"{facts.filename} does not contain {plat.shared_library(name)}")
    return out


def supported_tags() -> list[str]:
    return [str(t) for t in sys_tags()]


LOAD_SCRIPT = r"""
import ctypes, json, os, sys
paths = json.loads(sys.argv[1])
loaded = []
for path in paths:
    if hasattr(os, "add_dll_directory"):
        os.add_dll_directory(os.path.dirname(path))
    try:
        ctypes.CDLL(path, mode=getattr(ctypes, "RTLD_GLOBAL", 0))
    except OSError as exc:
        print(json.dumps({"failed": path, "error": str(exc)}))
        sys.exit(1)
    loaded.append(path)
print(json.dumps({"loaded": loaded}))
"""


def load_check(wheel: Path, facts: WheelFacts, plat: Platform, env: Mapping[str, str]) -> list[str]:
    """Extract the wheel's required libraries and load them in a separate interpreter."""
    libs = library_members(facts, plat)
    with tempfile.TemporaryDirectory(prefix="mlc-devops-load-") as tmp:
        with zipfile.ZipFile(wheel) as zf:
            for member in facts.members:
                if is_native_library_name(member):
                    zf.extract(member, tmp)
        paths = [str(Path(tmp, libs[name])) for name in REQUIRED_LIBRARIES if name in libs]
        result = run_mod.run([sys.executable, "-c", LOAD_SCRIPT, json.dumps(paths)], env=env, check=False)
        if result.returncode != 0:
            last = result.output.strip().splitlines()[-1:] or ["no output"]
            try:
                info = json.loads(last[0])
                message = f"{PurePosixPath(info['failed']).name} does not load: {info['error']}"
            except (ValueError, KeyError):
                message = f"loading the wheel's libraries failed: {last[0]}"
            raise ValidationFailed(
                message.replace(tmp + "/", ""), hint="check the libraries' dependencies (ldd) and RPATH"
            )
    return [libs[name] for name in REQUIRED_LIBRARIES if name in libs]


def validate(wheel: Path, plat: Platform, env: Mapping[str, str], *, load: bool = True) -> dict[str, Any]:
    facts = inspect(wheel)
    found = problems(facts, plat, supported_tags())
    if found:
        raise ValidationFailed(found[0], detail="\n".join(found[1:]))
    loaded = load_check(wheel, facts, plat, env) if load else []
    from mlc_devops.supply.wheelinfo import read_wheel  # noqa: PLC0415 - the one wheel reader

    info = read_wheel(wheel)
    return {
        "filename": facts.filename,
        "name": facts.name,
        "version": facts.version,
        "tags": sorted(facts.tags),
        "sha256": info.sha256,
        "size": info.size,
        "libraries": [{"path": lib.path, "sha256": lib.sha256} for lib in info.libraries],
        "loaded": loaded,
    }
