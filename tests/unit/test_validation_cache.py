"""The validation cache's key, decision, note and folder: pure functions, and the setting that places it."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

import jsonshapes
import pytest

from mlc_devops import options
from mlc_devops import validation_cache as vc

INPUTS = vc.Inputs(
    wheel_sha256="a" * 64,
    providers=(vc.ProviderFile("mlc-standin-tvm-ffi", "0.1.0", "b" * 64),),
    requirements=(),
    find_links=(("/wheels", ("mlc_standin_tvm_ffi-0.1.0-py3-none-linux_x86_64.whl",)),),
    offline=False,
    index_url=None,
    interpreter="/usr/bin/python3.11",
    python_version="3.11.7 (main) [GCC 12.2.0]",
    platform="linux",
    tags_digest="c" * 64,
    policy_digest="d" * 64,
    tool_version="0.1.0",
    code_digest="e" * 64,
    pip_version="23.2.1",
    environment_digest="f" * 64,
    pip_config_digest="0" * 64,
    loader_digest="1" * 64,
)
SYSTEM = {"/lib/x86_64-linux-gnu/libc.so.6": "2" * 64, "/usr/bin/python3.11": "3" * 64}
FINDINGS = [{"kind": "version-mismatch", "message": "the wheel is version 0.1.0, but __version__ is 0.0.1"}]
RESULT = {
    "filename": "mlc_llm-0.1.0-py3-none-linux_x86_64.whl",
    "name": "mlc-llm",
    "version": "0.1.0",
    "tags": ["py3-none-linux_x86_64"],
    "sha256": "a" * 64,
    "size": 1000,
    "libraries": [{"path": "mlc_llm/libmlc_llm.so", "sha256": "9" * 64}],
    "loaded": ["mlc_llm/libmlc_llm.so"],
    "package": "mlc_llm",
    "module_version": "0.0.1",
    "glibc": "2.34",
    "resolution": [],
    "providers": [],
    "findings": FINDINGS,
    "notes": ["import mlc_llm: ok"],
}


def stored(inputs: vc.Inputs = INPUTS, **changes: Any) -> dict[str, Any]:
    record = vc.entry_record(
        vc.cache_key(inputs),
        inputs,
        result=RESULT,
        load={"providers": {}, "import": {"ok": True}, "present": [], "loaded": [], "skipped": [], "failed": []},
        fetched=[],
        system=SYSTEM,
        installed=["mlc-llm 0.1.0", "mlc-standin-tvm-ffi 0.1.0"],
        validated_at="2026-11-30T01:02:03Z",
        seconds=7.25,
    )
    record.update(changes)
    return record


def test_the_same_inputs_give_the_same_key() -> None:
    assert vc.cache_key(INPUTS) == vc.cache_key(dataclasses.replace(INPUTS))
    assert len(vc.cache_key(INPUTS)) == 64


@pytest.mark.parametrize(
    "change",
    [
        {"wheel_sha256": "9" * 64},  # the wheel changed
        {"providers": (vc.ProviderFile("mlc-standin-tvm-ffi", "0.1.0", "8" * 64),)},  # a provider changed
        {"providers": ()},
        {"requirements": ("apache-tvm-ffi",)},
        {"find_links": (("/wheels", ("typing_extensions-4.12.2-py3-none-any.whl",)),)},
        {"offline": True},
        {"index_url": "https://mirror.example/simple"},
        {"interpreter": "/opt/python/bin/python3.11"},
        {"python_version": "3.11.8"},
        {"platform": "macos"},
        {"tags_digest": "7" * 64},
        {"policy_digest": "7" * 64},
        {"tool_version": "0.2.0"},
        {"code_digest": "7" * 64},
        {"pip_version": "24.0"},
        {"environment_digest": "7" * 64},
        {"pip_config_digest": "7" * 64},
        {"loader_digest": "7" * 64},
    ],
)
def test_every_input_is_in_the_key(change: dict[str, Any]) -> None:
    changed = dataclasses.replace(INPUTS, **change)
    assert vc.cache_key(changed) != vc.cache_key(INPUTS)
    assert vc.changed_inputs(vc.material(INPUTS), vc.material(changed)) == sorted(change)


def test_volatile_variables_stay_out_of_the_key_and_the_rest_is_in() -> None:
    env = {
        "SCCACHE_SERVER_PORT": "4711",  # a fresh port every build
        "CMAKE_BUILD_PARALLEL_LEVEL": "2",
        "CCACHE_DIR": "/c",
        "SOURCE_DATE_EPOCH": "1",
        "PYTEST_CURRENT_TEST": "t",
        "MLC_JOBS": "2",
        "MLC_FIND_LINKS": "/wheels",  # in the key by its wheels, not by its text
        "PWD": "/somewhere",
        "PIP_INDEX_URL": "https://mirror.example/simple",
        "LD_BIND_NOW": "1",
        "MLC_LIBRARY_PATH": "/opt/mlc",  # read by upstream's mlc_llm at import
        "TVM_LIBRARY_PATH": "/opt/tvm",
        "HOME": "/root",
    }
    assert vc.environment_for_key(env) == {
        "PIP_INDEX_URL": "https://mirror.example/simple",
        "LD_BIND_NOW": "1",
        "MLC_LIBRARY_PATH": "/opt/mlc",
        "TVM_LIBRARY_PATH": "/opt/tvm",
        "HOME": "/root",
    }


def test_a_complete_entry_for_the_key_with_unchanged_system_files_is_reused() -> None:
    decision = vc.decide(stored(), vc.cache_key(INPUTS), SYSTEM)
    assert decision == vc.Decision(True, "the same inputs, and the same system files")
    assert vc.whole(stored())


@pytest.mark.parametrize(
    ("entry", "now", "reason"),
    [
        (None, SYSTEM, "no earlier validation"),
        (stored(key="0" * 64), SYSTEM, "another format or key"),
        (stored(schema="mlc-devops/validation-cache/v0"), SYSTEM, "another format or key"),
        (stored(load=None), SYSTEM, "incomplete"),
        (stored(validated_at=""), SYSTEM, "incomplete"),
        (stored(system={}), SYSTEM, "could not list the system libraries"),
        (stored(), {**SYSTEM, "/lib/x86_64-linux-gnu/libc.so.6": "4" * 64}, "1 system file(s) changed"),
        (stored(), {"/usr/bin/python3.11": "3" * 64}, "libc.so.6"),  # gone
    ],
)
def test_no_reuse(entry: dict[str, Any] | None, now: dict[str, str | None], reason: str) -> None:
    decision = vc.decide(entry, vc.cache_key(INPUTS), now)
    assert not decision.reuse
    assert reason in decision.reason


def test_providers_pip_fetched_must_be_fetched_again_and_byte_identical() -> None:
    entry = stored(fetched=[{"name": "apache-tvm-ffi", "version": "0.1.15", "sha256": "5" * 64}])
    assert not vc.whole(entry)
    assert vc.same_fetched(entry, [vc.ProviderFile("apache-tvm-ffi", "0.1.15", "5" * 64)]).reuse
    other = vc.same_fetched(entry, [vc.ProviderFile("apache-tvm-ffi", "0.1.16", "6" * 64)])
    assert not other.reuse and "apache-tvm-ffi 0.1.16" in other.reason
    assert not vc.same_fetched(entry, []).reuse


def test_the_note_says_from_when_for_what_and_the_same_findings() -> None:
    note = vc.reused_note(stored(), Path("/cache/k.json"), FINDINGS, "validation")
    assert note.startswith("validation reused: this wheel (sha256 aaaaaaaaaaaa) was validated with ")
    assert "mlc-standin-tvm-ffi 0.1.0 (sha256 bbbbbbbbbbbb)" in note
    assert "at 2026-11-30T01:02:03Z by mlc-devops 0.1.0 in 7.2 s" in note
    assert "the 2 system files its load check mapped are unchanged" in note
    assert "1 finding(s), the same as then" in note
    assert "/cache/k.json" in note and "MLC_VALIDATION_CACHE=off" in note
    assert "then 1" in vc.reused_note(stored(), Path("/c"), [], "load check")


def test_the_reuse_record_names_the_entry_its_time_and_version() -> None:
    entry = stored()
    assert vc.reuse_record(entry, Path("/cache/k.json"), "validation") == {
        "part": "validation",
        "key": vc.cache_key(INPUTS),
        "entry": str(Path("/cache/k.json")),
        "validated_at": "2026-11-30T01:02:03Z",
        "tool_version": "0.1.0",
        "seconds": 7.25,
    }


def test_the_entry_records_no_unreadable_system_file_and_the_key_inputs() -> None:
    record = vc.entry_record(
        "k",
        INPUTS,
        result={"findings": []},
        load={},
        fetched=[],
        system={"/a": "1" * 64, "/gone": None},
        installed=["b 1", "a 2"],
        validated_at="t",
        seconds=1.23456,
    )
    assert record["system"] == {"/a": "1" * 64}
    assert record["installed"] == ["a 2", "b 1"]
    assert record["inputs"] == vc.material(INPUTS)
    assert record["seconds"] == 1.235


def test_the_entry_fits_its_pinned_schema() -> None:
    jsonshapes.check(stored())
    jsonshapes.check(stored(fetched=[{"name": "apache-tvm-ffi", "version": "0.1.15", "sha256": "5" * 64}]))
    assert jsonshapes.problems(stored(system={"/lib/libc.so.6": "not a digest"}))


def test_pruning_keeps_the_most_recently_used() -> None:
    entries = [("a.json", 1.0), ("b.json", 3.0), ("c.json", 2.0)]
    assert vc.to_prune(entries, keep=2) == ["a.json"]
    assert vc.to_prune(entries, keep=5) == []


def test_store_and_load_round_trip(tmp_path: Path) -> None:
    record = stored()
    assert vc.store(tmp_path / "v", record["key"], record) is None
    path = vc.entry_path(tmp_path / "v", record["key"])
    assert vc.load_entry(path) == record
    path.write_text("{not json")
    assert vc.load_entry(path) is None
    assert vc.load_entry(tmp_path / "missing.json") is None


def test_an_unwritable_folder_is_a_note_not_a_failure(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    message = vc.store(blocker / "v", "k", {"schema": vc.SCHEMA})
    assert message is not None and message.startswith("not recorded for reuse")


@pytest.mark.parametrize(
    ("flag", "env", "platform", "expected", "origin"),
    [
        (None, {"HOME": "/home/u"}, "linux", "/home/u/.cache/mlc-devops/validation", "default"),
        (None, {"HOME": "/home/u", "XDG_CACHE_HOME": "/xdg"}, "linux", "/xdg/mlc-devops/validation", "default"),
        (
            None,
            {"HOME": "/home/u", "XDG_CACHE_HOME": "rel"},
            "linux",
            "/home/u/.cache/mlc-devops/validation",
            "default",
        ),
        (None, {"HOME": "/Users/u"}, "macos", "/Users/u/Library/Caches/mlc-devops/validation", "default"),
        (
            None,
            {"LOCALAPPDATA": "C:/Users/u/AppData/Local"},
            "windows",
            "C:/Users/u/AppData/Local/mlc-devops/Cache/validation",
            "default",
        ),
        (None, {}, "linux", None, "default"),
        (None, {"HOME": "/h", "MLC_VALIDATION_CACHE": "off"}, "linux", None, "env MLC_VALIDATION_CACHE"),
        (None, {"HOME": "/h", "MLC_VALIDATION_CACHE": "0"}, "linux", None, "env MLC_VALIDATION_CACHE"),
        (None, {"HOME": "/h", "MLC_VALIDATION_CACHE": "/ci/v"}, "linux", "/ci/v", "env MLC_VALIDATION_CACHE"),
        (
            None,
            {"HOME": "/h", "MLC_VALIDATION_CACHE": "on"},
            "linux",
            "/h/.cache/mlc-devops/validation",
            "env MLC_VALIDATION_CACHE",
        ),
        ("off", {"HOME": "/h", "MLC_VALIDATION_CACHE": "/ci/v"}, "linux", None, "flag"),
        ("/mine", {"HOME": "/h", "MLC_VALIDATION_CACHE": "off"}, "linux", "/mine", "flag"),
    ],
)
def test_where_the_cache_is_and_how_to_turn_it_off(
    flag: str | None, env: dict[str, str], platform: str, expected: str | None, origin: str
) -> None:
    resolved = options.resolve_validation_cache(flag, env, platform)
    assert resolved.path == (Path(expected) if expected else None)
    assert resolved.origin == origin


def test_last_fetched_is_the_most_recently_used_entry_of_the_project(tmp_path: Path) -> None:
    import json
    import os

    def entry(name: str, project: str, fetched: list[str], mtime: int) -> None:
        path = tmp_path / f"{name}.json"
        body = {"result": {"name": project}, "fetched": [{"name": f, "version": "1", "sha256": "0"} for f in fetched]}
        path.write_text(json.dumps(body), encoding="utf-8")
        os.utime(path, (mtime, mtime))

    assert vc.last_fetched(tmp_path, "mlc-llm") == []
    entry("a", "mlc-llm", ["apache-tvm-ffi"], 100)
    entry("b", "mlc_llm", [], 200)  # the newest use of mlc-llm fetched nothing
    entry("c", "other", ["x"], 300)
    assert vc.last_fetched(tmp_path, "MLC-LLM") == []
    os.utime(tmp_path / "a.json", (400, 400))  # a reused: now the most recent
    assert vc.last_fetched(tmp_path, "mlc-llm") == ["apache-tvm-ffi"]
    (tmp_path / "d.json").write_text("not json", encoding="utf-8")
    assert vc.last_fetched(tmp_path, "mlc-llm") == ["apache-tvm-ffi"]
    assert vc.last_fetched(tmp_path / "absent", "mlc-llm") == []


def test_a_system_file_is_hashed_again_only_when_its_status_changed(tmp_path: Path) -> None:
    import hashlib
    import time

    lib = tmp_path / "libc.so.6"
    lib.write_bytes(b"first")
    old = time.time_ns() - 10 * vc.RACY_NS
    os.utime(lib, ns=(old, old))  # the change time stays now: racy, so hashed every time for now
    memo_dir = tmp_path / "cache"
    memo_dir.mkdir()
    first = vc.hash_files([str(lib)], memo_dir)
    assert first == {str(lib): hashlib.sha256(b"first").hexdigest()}
    memo = json.loads((memo_dir / vc.DIGESTS_NAME).read_text())
    assert memo[str(lib)]["stat"] == vc.stat_key(lib.stat())
    # recorded as hashed long after its last change: the status alone answers, the file is not read
    memo[str(lib)]["hashed_ns"] = time.time_ns() + 10 * vc.RACY_NS
    memo[str(lib)]["sha256"] = "0" * 64  # what the memo says is what comes back: proof that nothing was read
    (memo_dir / vc.DIGESTS_NAME).write_text(json.dumps(memo))
    assert vc.hash_files([str(lib)], memo_dir) == {str(lib): "0" * 64}
    # rewritten in place, same size and modification time: the change time and so the status differ
    lib.write_bytes(b"other")
    os.utime(lib, ns=(old, old))
    assert vc.hash_files([str(lib)], memo_dir) == {str(lib): hashlib.sha256(b"other").hexdigest()}
    # gone: None; without a folder: always read
    assert vc.hash_files([str(tmp_path / "gone.so")], memo_dir) == {str(tmp_path / "gone.so"): None}
    assert vc.hash_files([str(lib)]) == {str(lib): hashlib.sha256(b"other").hexdigest()}


def test_a_file_changed_within_the_racy_window_of_its_hashing_is_not_trusted() -> None:
    st = os.stat_result(
        (0o100644, 7, 1, 1, 0, 0, 5, 0, 0, 0, 100, 200, 300, 4_000_000_000, 4_000_000_000, 4_000_000_000)
    )
    entry = {"stat": vc.stat_key(st), "sha256": "a" * 64}
    assert vc.known_digest({"/l": {**entry, "hashed_ns": 4_000_000_000 + vc.RACY_NS + 1}}, "/l", st) == "a" * 64
    assert vc.known_digest({"/l": {**entry, "hashed_ns": 4_000_000_000 + vc.RACY_NS}}, "/l", st) is None
    assert vc.known_digest({"/l": {**entry, "hashed_ns": 4_000_000_000}}, "/l", st) is None
    assert vc.known_digest({}, "/l", st) is None
    assert vc.known_digest({"/l": {**entry, "stat": [1, 2, 3, 4, 5]}}, "/l", st) is None
