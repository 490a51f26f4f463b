"""The container module's pure parts: image tags, docker build lines, engine and base commands."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlc_devops import backends, cli, options
from mlc_devops import run as run_mod
from mlc_devops.container import base as debian_base
from mlc_devops.container import engine as docker_engine
from mlc_devops.container import image as docker_build
from mlc_devops.container import tags as image_tags
from mlc_devops.errors import PrerequisiteMissing, UsageError

REPO = Path(__file__).resolve().parents[2]
SHA = "0123456789abcdef0123456789abcdef01234567"


# --- tags: what docker/metadata-action gives a ref ---------------------------------------


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("refs/heads/main", ["main", "latest", "sha-0123456"]),
        ("refs/heads/feature/fast-path", ["feature-fast-path", "sha-0123456"]),
        ("refs/tags/v1.2.3", ["v1.2.3", "sha-0123456"]),
        ("refs/tags/v2.0.0-rc.1", ["v2.0.0-rc.1", "sha-0123456"]),
        ("refs/tags/nightly", ["sha-0123456"]),  # not semver: only the commit tag
        ("refs/tags/v1.2", ["sha-0123456"]),
        ("refs/pull/42/merge", ["sha-0123456"]),  # the spec's rules tag no pull request
    ],
)
def test_spec_rules(ref: str, expected: list[str]) -> None:
    assert image_tags.compute_tags(ref, SHA) == expected


def test_latest_follows_the_default_branch() -> None:
    assert image_tags.compute_tags("refs/heads/master", SHA, default_branch="master") == [
        "master",
        "latest",
        "sha-0123456",
    ]
    assert "latest" not in image_tags.compute_tags("refs/heads/main", SHA, default_branch="master")


def test_sha_tag_is_always_there_so_later_jobs_can_pull_it() -> None:
    for ref in ("refs/heads/main", "refs/heads/x", "refs/tags/v9.9.9", "refs/pull/1/merge"):
        assert "sha-0123456" in image_tags.compute_tags(ref, SHA)


def test_images_prefix_every_tag_lowercased() -> None:
    tags = image_tags.compute_tags("refs/tags/v1.0.0", SHA, images=["ghcr.io/MLC-AI/mlc-llm-dev", "x/y"])
    assert tags == [
        "ghcr.io/mlc-ai/mlc-llm-dev:v1.0.0",
        "ghcr.io/mlc-ai/mlc-llm-dev:sha-0123456",
        "x/y:v1.0.0",
        "x/y:sha-0123456",
    ]


@pytest.mark.parametrize(
    ("rules", "flavor", "ref", "expected"),
    [
        # metadata-action's documented {{version}}: the v goes; latest=auto adds latest on a release.
        (["type=semver,pattern={{version}}", "type=sha"], [], "refs/tags/v1.2.3", ["1.2.3", "sha-0123456", "latest"]),
        (["type=semver,pattern={{major}}.{{minor}}"], [], "refs/tags/v1.2.3", ["1.2", "latest"]),
        # A prerelease keeps its whole version and gets no latest.
        (["type=semver,pattern={{major}}.{{minor}}"], [], "refs/tags/v1.2.3-beta.1", ["1.2.3-beta.1"]),
        (["type=ref,event=tag"], [], "refs/tags/release-7", ["release-7", "latest"]),
        (["type=ref,event=pr"], [], "refs/pull/42/merge", ["pr-42"]),
        (["type=ref,event=branch"], ["latest=true"], "refs/heads/dev", ["dev", "latest"]),
        (["type=sha,format=long,prefix="], [], "refs/heads/dev", [SHA]),
        (["type=raw,value={{branch}}-{{sha}}"], [], "refs/heads/dev", ["dev-0123456"]),
        (["type=raw,value=edge,enable={{is_not_default_branch}}"], [], "refs/heads/dev", ["edge"]),
        (["type=ref,event=branch"], ["prefix=img-,suffix=-x"], "refs/heads/dev", ["img-dev-x"]),
        # Priority orders rules: the higher one becomes the version and comes first.
        (["type=sha", "type=raw,value=first,priority=2000"], [], "refs/heads/dev", ["first", "sha-0123456"]),
    ],
)
def test_other_rules_behave_like_metadata_action(
    rules: list[str], flavor: list[str], ref: str, expected: list[str]
) -> None:
    assert image_tags.compute_tags(ref, SHA, rules=rules, flavor=flavor) == expected


def test_short_sha_length_can_change() -> None:
    assert image_tags.compute_tags("refs/heads/x", SHA, short_sha_length=12)[-1] == "sha-0123456789ab"


@pytest.mark.parametrize(
    ("ref", "sha", "rules", "message"),
    [
        ("main", SHA, image_tags.SPEC_TAG_RULES, "full git ref"),
        ("refs/heads/main", "not-hex!", image_tags.SPEC_TAG_RULES, "hexadecimal"),
        ("refs/heads/main", SHA, ["type=schedule"], "not supported"),
        ("refs/heads/main", SHA, ["type=bogus"], "unknown tag type"),
        ("refs/heads/main", SHA, ["type=semver"], "missing pattern"),
        ("refs/heads/main", SHA, ["type=ref"], "event=branch"),
        ("refs/heads/main", SHA, ["type=raw,value={{date 'YYYY'}}"], "not supported"),
    ],
)
def test_bad_input_is_a_usage_error(ref: str, sha: str, rules: Sequence[str], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        image_tags.compute_tags(ref, sha, rules=rules)


@given(st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=40))
def test_any_branch_gives_valid_tag_characters(branch: str) -> None:
    tags = image_tags.compute_tags(f"refs/heads/{branch}", SHA)
    assert tags[-1] == "sha-0123456"
    for tag in tags:
        assert re.fullmatch(r"[A-Za-z0-9._-]+", tag), tag


def test_tags_command_prints_one_per_line_and_pins_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["image", "tags", "--ref", "refs/heads/main", "--sha", SHA]) == 0
    assert capsys.readouterr().out.splitlines() == ["main", "latest", "sha-0123456"]
    assert cli.main(["image", "tags", "--ref", "refs/tags/v1.2.3", "--sha", SHA, "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload == {
        "schema": "mlc-devops/image-tags/v1",
        "ref": "refs/tags/v1.2.3",
        "sha": SHA,
        "tags": ["v1.2.3", "sha-0123456"],
    }


def test_show_rules_prints_metadata_action_inputs(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["image", "tags", "--ref", "refs/heads/x", "--sha", SHA, "--show-rules"]) == 0
    out = capsys.readouterr().out
    assert "  type=semver,pattern={{raw}}\n" in out
    assert "flavor: |\n  latest=false\n" in out


def test_tags_command_rejects_a_short_ref_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["image", "tags", "--ref", "main", "--sha", SHA]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "full git ref" in err[0]


# --- docker build ----------------------------------------------------------------------


def test_build_args_hold_only_what_was_given() -> None:
    args = docker_build.image_build_args(rust_source="debian", base_image="base:1", extra=["X=1", "Y=a=b"])
    assert args == {"RUST_SOURCE": "debian", "BASE_IMAGE": "base:1", "X": "1", "Y": "a=b"}


@pytest.mark.parametrize(
    "kwargs",
    [{"rust_source": "brew"}, {"python_version": "3"}, {"extra": ["NOVALUE"]}, {"extra": ["1X=2"]}],
)
def test_bad_build_args(kwargs: dict[str, Any]) -> None:
    with pytest.raises(UsageError):
        docker_build.image_build_args(**kwargs)


def test_every_build_arg_the_tool_sets_is_declared_in_the_dockerfile() -> None:
    text = (REPO / "docker" / "Dockerfile").read_text()
    declared = set(re.findall(r"^ARG\s+([A-Z_]+)", text, flags=re.MULTILINE))
    given_all = docker_build.image_build_args(
        python_version="3.13",
        base_image="b",
        apt_mirror="m",
        rust_source="rustup",
        rust_toolchain="1.85.0",
        rustup_dist_server="s",
        pip_index_url="i",
        version="v",
        revision="r",
        created="c",
    )
    assert set(given_all) <= declared


def test_docker_build_command() -> None:
    spec = docker_build.ImageBuild(
        context=Path("/ctx"),
        tags=("a:1", "a:latest"),
        build_args={"Z": "1", "A": "2"},
        network="host",
        no_cache=True,
    )
    assert docker_build.docker_build_command(spec) == [
        "docker", "build", "--file", "/ctx/docker/Dockerfile",
        "--tag", "a:1", "--tag", "a:latest",
        "--build-arg", "A=2", "--build-arg", "Z=1",
        "--network", "host", "--no-cache", "/ctx",
    ]  # fmt: skip


def test_builder_is_chosen_by_docker_buildkit() -> None:
    assert docker_build.docker_build_env("classic", {"A": "1"}) == {"A": "1", "DOCKER_BUILDKIT": "0"}
    assert docker_build.docker_build_env("buildkit", {})["DOCKER_BUILDKIT"] == "1"
    assert docker_build.docker_build_env("auto", {"DOCKER_BUILDKIT": "1"}) == {"DOCKER_BUILDKIT": "1"}


def test_created_label_honours_source_date_epoch() -> None:
    assert docker_build.created_timestamp({"SOURCE_DATE_EPOCH": "0"}) == "1970-01-01T00:00:00Z"
    with pytest.raises(UsageError):
        docker_build.created_timestamp({"SOURCE_DATE_EPOCH": "yesterday"})
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", docker_build.created_timestamp({}))


def parse_dockerignore(text: str) -> tuple[str, ...]:
    """The paths a deny-all ``.dockerignore`` (``*`` then ``!path`` lines) lets through."""
    allowed: list[str] = []
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("!"):
            allowed.append(line[1:].strip())
    return tuple(allowed)


def test_dockerignore_lets_through_exactly_the_context_paths() -> None:
    text = (REPO / ".dockerignore").read_text()
    assert text.splitlines()[[line.strip() for line in text.splitlines()].index("*")] == "*"
    assert set(parse_dockerignore(text)) == set(docker_build.CONTEXT_PATHS)


def test_docker_config_cmake_is_the_vulkan_preset_byte_for_byte() -> None:
    expected = backends.render(options.resolve({"preset": "vulkan"}, {}).config)
    assert (REPO / "docker" / "config.cmake").read_bytes() == expected.encode("utf-8")


def test_dockerfile_orders_layers_so_a_tool_change_keeps_the_toolchains() -> None:
    text = (REPO / "docker" / "Dockerfile").read_text()
    lines = text.splitlines()

    def first(pattern: str) -> int:
        return next(i for i, line in enumerate(lines) if re.search(pattern, line))

    tool = first(r"^COPY src/")
    for earlier in (r"apt-get install", r"rustup-init", r"python3 -m venv", r"^COPY docker/config.cmake"):
        assert first(earlier) < tool, earlier
    assert not any(line.startswith("# syntax=") for line in lines)  # BuildKit would pull it from a registry
    assert 'ENTRYPOINT ["mlc-devops", "entrypoint", "--"]' in text
    for key in ("title", "source", "licenses", "version", "revision", "created"):
        assert f"org.opencontainers.image.{key}=" in text
    assert "ARG BASE_IMAGE=python:${PYTHON_VERSION}-slim-bookworm" in text
    pinned = re.search(r"^ARG RUST_TOOLCHAIN=(\d+)\.(\d+)", text, flags=re.MULTILINE)
    floor = re.search(r"^ARG RUST_MINIMUM=(\d+)\.(\d+)", text, flags=re.MULTILINE)
    assert pinned and floor
    assert (int(pinned[1]), int(pinned[2])) >= (int(floor[1]), int(floor[2])) >= (1, 82)


def test_stage_context_copies_the_inputs_and_adds_certificates(tmp_path: Path) -> None:
    pem = tmp_path / "corp.pem"
    pem.write_text("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    dest = docker_build.stage_context(REPO, tmp_path / "ctx", [pem])
    assert (dest / "docker" / "Dockerfile").is_file()
    assert (dest / "src" / "mlc_devops" / "container" / "image.py").is_file()
    assert not list(dest.rglob("__pycache__"))
    assert (dest / "docker" / "certs" / "extra-0-corp.crt").read_text() == pem.read_text()
    assert not (dest / "tests").exists() and not (dest / "examples").exists()


def test_stage_context_refuses_what_is_not_a_certificate(tmp_path: Path) -> None:
    junk = tmp_path / "junk.crt"
    junk.write_text("hello")
    with pytest.raises(UsageError, match="no PEM certificate"):
        docker_build.stage_context(REPO, tmp_path / "ctx", [junk])


def test_image_build_dry_run_prints_the_command(capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(
        ["image", "build", "--context", str(REPO), "--dry-run", "--rust-source", "debian", "--network", "host"]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert out.startswith("docker build --file ")
    assert "--build-arg RUST_SOURCE=debian" in out and "--network host" in out


def test_buildkit_client_prefers_buildx_then_an_old_client(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []

    def fake_run(args: Sequence[str], **_: Any) -> run_mod.Result:
        calls.append(list(args))
        if args[1] == "buildx":
            return run_mod.Result(tuple(args), 1, "", 0.0)
        version = "28.2.2" if args[0] == "/new/docker" else "20.10.24+dfsg1"
        return run_mod.Result(tuple(args), 0, version + "\n", 0.0)

    monkeypatch.setattr(run_mod, "run", fake_run)
    monkeypatch.setattr(Path, "exists", lambda self: True)
    monkeypatch.setattr(run_mod, "which", lambda program, env=None: "/new/docker")
    assert docker_build.buildkit_client({}, ("docker", "/old/docker")) == "/old/docker"
    assert docker_build.buildkit_client({}, ("docker",)) is None


# --- engine and base -------------------------------------------------------------------


def test_engine_paths_do_not_clash_with_a_system_docker() -> None:
    engine = docker_engine.Engine.from_env({})
    cmd = docker_engine.dockerd_command(engine)
    assert "--data-root" in cmd and str(engine.data_root) != "/var/lib/docker"
    assert engine.host == "unix:///run/mlc-devops/engine/docker.sock"
    assert {"--bridge=none", "--iptables=false", "--ip6tables=false"} <= set(cmd)
    assert cmd[cmd.index("--pidfile") + 1] != "/var/run/docker.pid"
    other = docker_engine.Engine.from_env({"MLC_DOCKER_DATA_ROOT": "/d", "MLC_DOCKER_RUN_DIR": "/r"})
    assert other.socket == Path("/r/docker.sock") and other.data_root == Path("/d")


def test_start_daemon_runs_dockerd_in_the_background() -> None:
    engine = docker_engine.Engine(Path("/d"), Path("/r"))
    cmd = docker_engine.start_daemon_command(engine, "/usr/sbin/dockerd")
    assert cmd[:3] == ["start-stop-daemon", "--start", "--background"]
    assert cmd[cmd.index("--exec") + 1] == "/usr/sbin/dockerd"
    assert cmd[cmd.index("--") + 1 :] == docker_engine.dockerd_command(engine)[1:]


def test_start_engine_does_nothing_when_it_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(docker_engine, "engine_answers", lambda env, docker="docker": "20.10")
    assert docker_engine.start_engine(docker_engine.Engine(), {}) == "20.10"


def test_start_engine_gives_up_with_the_log_tail(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    engine = docker_engine.Engine(tmp_path / "data", tmp_path / "run")
    engine.log.parent.mkdir(parents=True, exist_ok=True)
    engine.log.write_text("failed to start daemon: boom\n")
    started: list[list[str]] = []
    monkeypatch.setattr(docker_engine, "engine_answers", lambda env, docker="docker": None)
    monkeypatch.setattr(run_mod, "which", lambda program, env=None: f"/usr/bin/{program}")
    monkeypatch.setattr(run_mod, "require", lambda program, env=None, hint="": program)

    def fake_run(args: list[str], **_kw: object) -> run_mod.Result:
        started.append(list(args))
        return run_mod.Result(tuple(args), 0, "", 0)

    monkeypatch.setattr(run_mod, "run", fake_run)
    with pytest.raises(PrerequisiteMissing, match="did not answer") as info:
        docker_engine.start_engine(engine, {}, timeout=0.01, sleep=lambda s: None)
    assert "boom" in info.value.detail
    assert started and started[0][0] == "start-stop-daemon"


def test_stale_pid_files_of_a_killed_engine_are_removed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = docker_engine.Engine(tmp_path / "data", tmp_path / "run")
    engine.run_dir.mkdir(parents=True)
    engine.pidfile.write_text("999999999\n")  # no such process
    engine.daemon_pidfile.write_text("not a pid")
    containerd = engine.exec_root / "containerd" / "containerd.pid"
    containerd.parent.mkdir(parents=True)
    containerd.write_text("999999998")
    monkeypatch.setattr(run_mod, "which", lambda program, env=None: None)
    docker_engine.clear_stale(engine, {})
    assert not engine.pidfile.exists() and not engine.daemon_pidfile.exists() and not containerd.exists()


def test_pid_alive_checks_the_process_name(tmp_path: Path) -> None:
    (tmp_path / "proc" / "42").mkdir(parents=True)
    (tmp_path / "proc" / "42" / "comm").write_text("dockerd\n")
    (tmp_path / "proc" / "42" / "stat").write_text("42 (dockerd) S 1 42 42 0 -1\n")
    pidfile = tmp_path / "pid"
    pidfile.write_text("42")
    assert docker_engine.pid_alive(pidfile, proc=tmp_path / "proc")
    assert not docker_engine.pid_alive(pidfile, name="containerd", proc=tmp_path / "proc")
    # A killed dockerd nobody reaped is a zombie: dead, though /proc still lists it.
    (tmp_path / "proc" / "42" / "stat").write_text("42 (dockerd) Z 1 42 42 0 -1\n")
    assert not docker_engine.pid_alive(pidfile, proc=tmp_path / "proc")
    pidfile.write_text("43")
    assert not docker_engine.pid_alive(pidfile, proc=tmp_path / "proc")


def test_mmdebstrap_and_import_commands(tmp_path: Path) -> None:
    cmd = debian_base.mmdebstrap_command("trixie", tmp_path / "t.tar")
    assert cmd[0] == "mmdebstrap" and "--variant=minbase" in cmd
    assert "--include=python3,python3-venv,python3-pip,ca-certificates" in cmd
    assert cmd[-3:] == ["trixie", str(tmp_path / "t.tar"), debian_base.DEBIAN_MIRROR]
    with pytest.raises(UsageError):
        debian_base.mmdebstrap_command("trixie; rm -rf /", tmp_path / "t.tar")
    imp = debian_base.docker_import_command(tmp_path / "t.tar", "base:trixie")
    assert imp[:2] == ["docker", "import"] and imp[-2:] == [str(tmp_path / "t.tar"), "base:trixie"]
    assert "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" in imp
