"""`mlc-devops image build`'s machine settings: flag, then MLC_IMAGE_* variable, then default."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mlc_devops import act_standin, cli, pipeline
from mlc_devops.container import image as docker_build
from mlc_devops.errors import UsageError

REPO = Path(__file__).resolve().parents[2]
NO_FLAGS: dict[str, object] = {}


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No MLC_IMAGE_* from the machine running the tests (the act run sets them in every job)."""
    for setting in docker_build.IMAGE_BUILD_SETTINGS.values():
        if setting.env:
            monkeypatch.delenv(setting.env, raising=False)
    return monkeypatch


def test_defaults_leave_the_dockerfile_to_choose() -> None:
    settings = docker_build.resolve_image_build_settings(NO_FLAGS, {})
    assert (settings.base_image, settings.ca_certs, settings.rust_source, settings.network, settings.builder) == (
        None,
        (),
        None,
        None,
        "auto",
    )
    assert {r.origin for r in settings.origins.values()} == {"default"}


def test_the_environment_fills_what_no_flag_gives() -> None:
    env = {
        "MLC_IMAGE_BASE": "local/base:trixie",
        "MLC_IMAGE_CA_CERTS": os.pathsep.join(["/a/corp.crt", "", "/b/proxy.pem"]),
        "MLC_IMAGE_RUST_SOURCE": "debian",
        "MLC_IMAGE_NETWORK": "host",
        "MLC_IMAGE_BUILDER": "classic",
    }
    settings = docker_build.resolve_image_build_settings(NO_FLAGS, env)
    assert settings.base_image == "local/base:trixie"
    assert settings.ca_certs == (Path("/a/corp.crt"), Path("/b/proxy.pem"))
    assert (settings.rust_source, settings.network, settings.builder) == ("debian", "host", "classic")
    assert settings.origins["base_image"].origin == "env MLC_IMAGE_BASE"
    assert docker_build.settings_from_environment(settings)[0] == "MLC_IMAGE_BASE=local/base:trixie"


def test_a_flag_beats_the_environment_and_an_empty_variable_is_unset() -> None:
    env = {"MLC_IMAGE_BASE": "local/base:trixie", "MLC_IMAGE_CA_CERTS": "/env.crt", "MLC_IMAGE_NETWORK": ""}
    flags: dict[str, object] = {"base_image": "python:3.12-slim-bookworm", "ca_certs": ["/flag.crt", "/x:y.crt"]}
    settings = docker_build.resolve_image_build_settings(flags, env)
    assert settings.base_image == "python:3.12-slim-bookworm"
    assert settings.ca_certs == (Path("/flag.crt"), Path("/x:y.crt"))
    assert settings.network is None
    assert settings.origins["network"].origin == "default"
    assert docker_build.settings_from_environment(settings) == []


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"MLC_IMAGE_RUST_SOURCE": "conda"}, "unknown Rust source MLC_IMAGE_RUST_SOURCE=conda"),
        ({"MLC_IMAGE_BUILDER": "kaniko"}, "unknown builder MLC_IMAGE_BUILDER=kaniko"),
    ],
)
def test_a_bad_value_names_the_variable_it_came_from(env: dict[str, str], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        docker_build.resolve_image_build_settings(NO_FLAGS, env)


def test_dry_run_takes_base_rust_and_network_from_the_environment(
    clean_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    clean_env.setenv("MLC_IMAGE_BASE", "local/base:trixie")
    clean_env.setenv("MLC_IMAGE_RUST_SOURCE", "debian")
    clean_env.setenv("MLC_IMAGE_NETWORK", "host")
    assert cli.main(["image", "build", "--context", str(REPO), "--dry-run", "--tag", "img:pr"]) == 0
    out = capsys.readouterr().out
    assert "--build-arg BASE_IMAGE=local/base:trixie" in out
    assert "--build-arg RUST_SOURCE=debian" in out
    assert "--network host" in out
    assert cli.main(["image", "build", "--context", str(REPO), "--dry-run", "--base-image", "mine:1"]) == 0
    assert "--build-arg BASE_IMAGE=mine:1" in capsys.readouterr().out


@pytest.mark.usefixtures("clean_env")
def test_dry_run_without_settings_leaves_the_base_to_the_dockerfile(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["image", "build", "--context", str(REPO), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "BASE_IMAGE" not in out and "RUST_SOURCE" not in out and "--network" not in out


def test_a_missing_certificate_from_the_environment_is_one_usage_error(
    clean_env: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clean_env.setenv("MLC_IMAGE_CA_CERTS", str(tmp_path / "nowhere.crt"))
    assert cli.main(["image", "build", "--context", str(REPO), "--dry-run"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"mlc-devops image: error: no CA certificate at {tmp_path / 'nowhere.crt'} (env MLC_IMAGE_CA_CERTS)"]


def test_the_local_run_gives_every_job_a_build_without_a_registry() -> None:
    """What `pipeline run` passes with act's --env resolves to the local base, Debian's Rust, host network."""
    settings = docker_build.resolve_image_build_settings(NO_FLAGS, pipeline.image_build_env())
    assert settings.base_image == pipeline.BASE_IMAGE
    assert settings.rust_source == "debian"
    assert settings.network == "host"
    assert settings.builder == "classic"
    assert settings.ca_certs == (Path(pipeline.RUNNER_CA_BUNDLE),)


def test_build_push_stand_in_leaves_the_machine_settings_to_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The docker job's build and wheel-linux's own `image build` step resolve the same settings."""
    calls: list[list[str]] = []

    class Done:
        stdout = "sha256:" + "0" * 64

    def fake_run(cmd: list[str], **_: object) -> Done:
        calls.append(list(cmd))
        return Done()

    monkeypatch.setattr(act_standin, "run", fake_run)
    monkeypatch.setenv("INPUT_TAGS", "ghcr.io/o/r:sha-1")
    monkeypatch.setenv("INPUT_BUILD_ARGS", "PYTHON_VERSION=3.13\nRUST_TOOLCHAIN=1.85.0")
    monkeypatch.setenv("INPUT_PUSH", "false")
    monkeypatch.setenv("GITHUB_OUTPUT", os.devnull)
    assert act_standin.build_push() == 0
    build = calls[0]
    assert build[:3] == ["mlc-devops", "image", "build"]
    for flag in ("--base-image", "--rust-source", "--network", "--builder", "--ca-cert"):
        assert flag not in build
    assert build[build.index("--python-version") :][:2] == ["--python-version", "3.13"]
