"""A rebuild of an unchanged checkout reuses the first build's validation; a changed provider or wheel validates afresh."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import zipfile
from pathlib import Path
from typing import Any

import jsonshapes
import pytest
from standin import Cli, make_git_workspace

pytestmark = pytest.mark.integration


def _build(cli: Cli, ws: Path, dist: Path, env: dict[str, str], *extra: str) -> dict[str, Any]:
    proc = cli("build", "--source", str(ws), "--dist", str(dist), "--json", *extra, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report: dict[str, Any] = json.loads(proc.stdout)
    report["stderr"] = proc.stderr
    return report


def _notes(report: dict[str, Any]) -> list[str]:
    return [str(n) for n in report["validation"]["notes"]]


def _reused(report: dict[str, Any]) -> bool:
    return any(n.startswith(("validation reused: ", "load check reused: ")) for n in _notes(report))


def _entries(folder: Path) -> list[dict[str, Any]]:
    """The cache's entries, each checked against its pinned schema."""
    return [jsonshapes.check_text(p.read_text()) for p in sorted(folder.glob("*.json"))]


def _change_provider(wheel: Path) -> None:
    """Rewrite the provider wheel in place, its Python module one comment longer (RECORD says so): other bytes,
    same project, version and library."""
    changed = wheel.with_suffix(".tmp")
    with zipfile.ZipFile(wheel) as src, zipfile.ZipFile(changed, "w", zipfile.ZIP_DEFLATED) as dst:
        init = next(n for n in src.namelist() if n.endswith("/__init__.py"))
        body = src.read(init) + b"# changed by the test: a new release of the provider\n"
        digest = base64.urlsafe_b64encode(hashlib.sha256(body).digest()).rstrip(b"=").decode()
        for item in src.infolist():
            data = src.read(item)
            if item.filename == init:
                data = body
            elif item.filename.endswith(".dist-info/RECORD"):
                lines = [
                    f"{init},sha256={digest},{len(body)}" if line.startswith(init + ",") else line
                    for line in data.decode().splitlines()
                ]
                data = ("\n".join(lines) + "\n").encode()
            dst.writestr(item, data)
    changed.replace(wheel)


@pytest.fixture
def setup(tmp_path: Path, ffi_wheel: Path) -> dict[str, Any]:
    """A checkout, a wheel folder of its own with the provider, an empty validation cache of its own."""
    house = tmp_path / "wheels"
    house.mkdir()
    shutil.copy2(ffi_wheel, house / ffi_wheel.name)
    cache = tmp_path / "validation"
    env = {**os.environ, "MLC_FIND_LINKS": str(house), "MLC_VALIDATION_CACHE": str(cache)}
    return {"ws": make_git_workspace(tmp_path), "dist": tmp_path / "dist", "house": house, "cache": cache, "env": env}


def test_a_rebuild_reuses_validation_until_the_provider_or_the_wheel_changes(setup: dict[str, Any], cli: Cli) -> None:
    ws, dist, cache, env = setup["ws"], setup["dist"], setup["cache"], setup["env"]
    first = _build(cli, ws, dist, env)
    assert f"validation recorded for reuse in {cache}" in _notes(first)
    assert first["validation"]["reused"] is None
    (entry,) = _entries(cache)
    assert entry["inputs"]["wheel_sha256"] == first["wheel"]["sha256"]
    assert entry["result"]["findings"] == first["validation"]["findings"]
    assert entry["system"], "the load check's system files (libc, the interpreter) are recorded"

    # after a clean, the same commit builds the same wheel: its validation is the first one's
    shutil.rmtree(ws / "build")
    second = _build(cli, ws, dist, env)
    assert second["wheel"]["sha256"] == first["wheel"]["sha256"]
    note = _notes(second)[-1]
    assert note.startswith(f"validation reused: this wheel (sha256 {first['wheel']['sha256'][:12]}) was validated ")
    assert f"at {entry['validated_at']} by mlc-devops " in note
    assert "the same as then" in note
    reused = jsonshapes.check_text(Path(second["report"]).read_text())["validation"]["reused"]
    assert reused["part"] == "validation" and reused["validated_at"] == entry["validated_at"]
    assert reused["key"] == entry["key"] and reused["entry"] == str(cache / f"{entry['key']}.json")
    assert "validation reused" in second["stderr"]
    assert second["validation"]["findings"] == first["validation"]["findings"]
    assert second["validation"]["loaded"] == first["validation"]["loaded"]
    assert second["phases"]["validate"] < first["phases"]["validate"] / 4, (first["phases"], second["phases"])
    assert len(_entries(cache)) == 1

    # a new provider wheel (same name and version, other bytes): validated afresh, and recorded apart
    (provider,) = setup["house"].glob("*.whl")
    _change_provider(provider)
    third = _build(cli, ws, dist, env)
    assert third["wheel"]["sha256"] == first["wheel"]["sha256"]
    assert not _reused(third), _notes(third)
    assert f"validation recorded for reuse in {cache}" in _notes(third)
    shas = {e["inputs"]["providers"][0]["sha256"] for e in _entries(cache)}
    assert hashlib.sha256(provider.read_bytes()).hexdigest() in shas and len(shas) == 2

    # a changed wheel (a real code change): validated afresh
    source = ws / "cpp" / "engine_info.cc"
    source.write_text(source.read_text() + '\nextern "C" int mlc_standin_changed() { return 7; }\n')
    fourth = _build(cli, ws, dist, env)
    assert fourth["wheel"]["sha256"] != first["wheel"]["sha256"]
    assert not _reused(fourth)
    assert len(_entries(cache)) == 3

    # off: neither reused nor recorded
    fifth = _build(cli, ws, dist, env, "--validation-cache", "off")
    assert not _reused(fifth)
    assert not any(n.startswith("validation recorded for reuse") for n in _notes(fifth)), _notes(fifth)
    assert len(_entries(cache)) == 3


def test_a_provider_pip_fetches_is_fetched_again_and_only_the_same_bytes_reuse_the_load_check(
    setup: dict[str, Any], cli: Cli
) -> None:
    # --with a requirement: pip downloads it on every build, from an "index" whose contents the key cannot
    # name: a folder that pip alone is told of (PIP_FIND_LINKS), which stands for a package index here
    env = {k: v for k, v in setup["env"].items() if k != "MLC_FIND_LINKS"}
    env.update({"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(setup["house"])})
    ws, dist, cache = setup["ws"], setup["dist"], setup["cache"]
    first = _build(cli, ws, dist, env, "--with", "mlc-standin-tvm-ffi")
    (entry,) = _entries(cache)
    assert [p["name"] for p in entry["fetched"]] == ["mlc-standin-tvm-ffi"]
    second = _build(cli, ws, dist, env, "--with", "mlc-standin-tvm-ffi")
    note = _notes(second)[-1]
    assert note.startswith("load check reused: "), _notes(second)
    assert second["validation"]["reused"]["part"] == "load check"
    assert f"at {entry['validated_at']}" in note
    assert second["validation"]["findings"] == first["validation"]["findings"]
    (provider,) = setup["house"].glob("*.whl")
    _change_provider(provider)
    third = _build(cli, ws, dist, env, "--with", "mlc-standin-tvm-ffi")
    assert not _reused(third)
    assert "not reused: pip fetched other providers: mlc-standin-tvm-ffi 0.1.0" in _notes(third)[-1]


def test_a_declared_provider_is_downloaded_while_building_and_its_bytes_still_decide(
    setup: dict[str, Any], cli: Cli
) -> None:
    # upstream's shape: the wheel's libraries NEED libtvm_ffi.so from a declared dependency that only the
    # index has (apache-tvm-ffi on PyPI); a folder that pip alone is told of stands for the index here
    env = {k: v for k, v in setup["env"].items() if k != "MLC_FIND_LINKS"}
    env.update({"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(setup["house"])})
    ws, dist, cache = setup["ws"], setup["dist"], setup["cache"]
    first = _build(cli, ws, dist, env)
    assert "while building" not in first["stderr"]  # no earlier report to say what validation takes
    (entry,) = _entries(cache)
    assert [p["name"] for p in entry["fetched"]] == ["mlc-standin-tvm-ffi"]
    assert "mlc-standin-tvm-ffi 0.1.0: fetched by pip download --no-deps" in _notes(first)

    second = _build(cli, ws, dist, env)
    assert "downloading mlc-standin-tvm-ffi while building: the last validation took it from pip" in second["stderr"]
    assert "mlc-standin-tvm-ffi 0.1.0: fetched by pip download --no-deps" in _notes(second)
    # downloaded again with the same bytes: nothing the validation depended on changed, so it stands whole
    # (the wheel's libraries are not read again)
    assert _notes(second)[-1].startswith("validation reused: "), _notes(second)
    assert _notes(second)[-1].endswith("downloaded again while building: byte-identical"), _notes(second)
    assert second["validation"]["reused"]["part"] == "validation"
    assert second["phases"]["validate"] < first["phases"]["validate"] / 4, (first["phases"], second["phases"])
    assert len(_entries(cache)) == 1

    # the download made while building is compared as any other: other bytes, no reuse
    (provider,) = setup["house"].glob("*.whl")
    _change_provider(provider)
    third = _build(cli, ws, dist, env)
    assert "downloading mlc-standin-tvm-ffi while building" in third["stderr"]
    assert not _reused(third)
    assert "not reused: pip fetched other providers: mlc-standin-tvm-ffi 0.1.0" in _notes(third)[-1]
    # and the validation made with a downloaded-while-building provider records it as fetched: yet other
    # bytes are not taken for the recorded ones
    third_entry = next(e for e in _entries(cache) if e["validated_at"] != entry["validated_at"])
    assert [p["name"] for p in third_entry["fetched"]] == ["mlc-standin-tvm-ffi"]
    _change_provider(provider)
    fourth = _build(cli, ws, dist, env)
    assert not _reused(fourth), _notes(fourth)
