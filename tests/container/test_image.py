"""The image on a real Docker engine: what the spec's section 8.1 checked by hand, and more."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from standin import copy_standin, make_git_workspace

from mlc_devops.container import image as docker_build

# The session's docker client: conftest.Docker, a fixture (conftest modules are not imported).
Docker = Any
REPO = Path(__file__).resolve().parents[2]
IMAGE = "mlc-llm-dev:ci-test"
# A non-root host user that is not the image's mlc (1000), to prove ownership follows the host.
HOST_UID, HOST_GID = 4321, 4322

# --- section 8.1, phase 2 -------------------------------------------------------------


@pytest.mark.usefixtures("image")
def test_whoami_is_mlc(docker: Docker) -> None:
    assert docker.run("whoami").stdout.strip() == "mlc"
    assert docker.run("id", "-u").stdout.strip() == "1000"


@pytest.mark.usefixtures("image")
def test_python_is_the_version_the_build_asked_for(docker: Docker) -> None:
    assert re.fullmatch(r"Python 3\.13\.\d+", docker.run("python3", "--version").stdout.strip())


@pytest.mark.usefixtures("image")
def test_sudo_works_without_a_password(docker: Docker) -> None:
    assert docker.run("sudo", "-n", "whoami").stdout.strip() == "root"


@pytest.mark.usefixtures("image")
def test_rustc_and_cargo_run_and_meet_the_floor(docker: Docker) -> None:
    out = docker.run("bash", "-c", "rustc --version && cargo --version && echo $CARGO_HOME $RUSTUP_HOME").stdout
    rustc = re.search(r"rustc (\d+)\.(\d+)", out)
    assert rustc and (int(rustc[1]), int(rustc[2])) >= (1, 82), out
    assert "cargo " in out
    assert "/home/mlc/.cargo /opt/rust/rustup" in out


@pytest.mark.usefixtures("image")
def test_build_without_a_source_is_rejected_in_one_line(docker: Docker) -> None:
    proc = docker.run("build", check=False)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "no MLC-LLM source in /workspace" in lines[0]


@pytest.mark.usefixtures("image")
def test_shell_is_the_default_and_gives_bash(docker: Docker) -> None:
    proc = docker("run", "--rm", "-i", "--network", "host", IMAGE, input="echo shell=$0 $BASH_VERSION; whoami\n")
    assert re.search(r"shell=bash 5\.", proc.stdout), proc.stdout
    assert proc.stdout.strip().endswith("mlc")
    assert docker.run("shell", "-c", "echo $0").stdout.strip() == "bash"
    env_mode = docker("run", "--rm", "-e", "MLC_BUILD_MODE=build", "--network", "host", IMAGE, check=False)
    assert env_mode.returncode == 2 and "no MLC-LLM source" in env_mode.stderr
    # Options with no mode take MLC_BUILD_MODE's (the image's Python, 3.13, parses the words).
    with_options = docker("run", "--rm", "-e", "MLC_BUILD_MODE=shell", "--network", "host", IMAGE, "-c", "echo $0-ok")
    assert with_options.stdout.strip() == "bash-ok"


@pytest.mark.usefixtures("image")
def test_any_other_command_runs_and_its_exit_code_is_the_containers(docker: Docker) -> None:
    assert docker.run("bash", "-c", "exit 7", check=False).returncode == 7
    assert docker.run("cmake", "--version").stdout.startswith("cmake version")


@pytest.mark.usefixtures("image")
def test_labels_and_baked_config(docker: Docker) -> None:
    labels = json.loads(docker("image", "inspect", "--format", "{{json .Config.Labels}}", IMAGE).stdout)
    prefix = "org.opencontainers.image."
    assert labels[prefix + "title"] == "mlc-llm-dev"
    assert labels[prefix + "source"] == "https://github.com/mlc-ai/mlc-llm"
    assert labels[prefix + "licenses"] == "Apache-2.0"
    assert labels[prefix + "revision"] == "0" * 40
    assert labels[prefix + "version"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", labels[prefix + "created"])
    baked = docker.run("cat", "/opt/mlc-llm/config.cmake").stdout
    assert baked == (REPO / "docker" / "config.cmake").read_text()
    env = docker.run("env").stdout
    assert "CCACHE_DIR=/workspace/.ccache" in env.splitlines()


@pytest.mark.usefixtures("image")
def test_vulkan_compile_toolchain_is_there(docker: Docker) -> None:
    out = docker.run(
        "bash", "-c", "command -v glslangValidator spirv-val ninja ccache gosu git && ls /usr/include/vulkan/vulkan.h"
    ).stdout
    assert "/usr/include/vulkan/vulkan.h" in out


@pytest.mark.usefixtures("image")
def test_llvm_config_for_the_pair_is_there(docker: Docker) -> None:
    """Debian's llvm-dev: the llvm-config that `build --tvm source` picks (llvm-config, else llvm-config-N)."""
    script = (
        "from mlc_devops import tvmbuild; import os, shutil, subprocess; "
        "c = tvmbuild.pick_llvm_config(shutil.which('llvm-config'), tvmbuild.versioned_llvm_configs(os.environ)); "
        "print(c); print(subprocess.run([c, '--version'], capture_output=True, text=True, check=True).stdout)"
    )
    out = docker.run("python3", "-c", script).stdout.split()
    assert out and "llvm-config" in out[0], out
    assert re.fullmatch(r"\d+\.\d+\.\d+\S*", out[1]), out


# --- the host user, a full build, the tests, the smoke test ----------------------------

WHEELHOUSE = "wheelhouse"
FIND_LINKS = f"MLC_FIND_LINKS=/workspace/{WHEELHOUSE}"


def _own(path: Path, uid: int, gid: int) -> None:
    for root, dirs, files in os.walk(path):
        for name in [*dirs, *files]:
            os.lchown(str(Path(root) / name), uid, gid)
    os.lchown(path, uid, gid)


def _strangers(path: Path, uid: int, gid: int) -> list[str]:
    found = []
    for root, dirs, files in os.walk(path):
        for name in [*dirs, *files]:
            info = os.lstat(str(Path(root) / name))
            if (info.st_uid, info.st_gid) != (uid, gid):
                found.append(f"{Path(root) / name!s} {info.st_uid}:{info.st_gid}")
    return found


@pytest.fixture(scope="module")
def host_user() -> tuple[int, int]:
    """The workspace owner: a stranger to the image when we can chown (root), else ourselves."""
    return (HOST_UID, HOST_GID) if os.geteuid() == 0 else (os.getuid(), os.getgid())


@pytest.fixture(scope="module")
def built(
    docker: Docker,
    image: str,  # noqa: ARG001 - the build runs in the image, which must be built first
    host_user: tuple[int, int],
    tmp_path_factory: pytest.TempPathFactory,
    ffi_wheelhouse: Path,
) -> Path:
    """The stand-in (a git checkout with real submodules) built by `docker run -v WS:/workspace IMAGE build`."""
    ws = make_git_workspace(tmp_path_factory.mktemp("container-build"))
    # the stand-in's libraries NEED libtvm_ffi.so from its tvm-ffi wheel: a wheel directory in the workspace
    shutil.copytree(ffi_wheelhouse, ws / WHEELHOUSE)
    if os.geteuid() == 0:
        _own(ws, *host_user)
    started = time.monotonic()
    proc = docker.run("build", mounts=[f"{ws}:/workspace"], env=[FIND_LINKS], check=False, timeout=900)
    docker.timings["standin_build_seconds"] = round(time.monotonic() - started, 1)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return ws


def test_build_makes_a_wheel_owned_by_the_host_user(built: Path, host_user: tuple[int, int]) -> None:
    wheels = list((built / "dist").glob("mlc_llm-*.whl"))
    assert len(wheels) == 1
    assert wheels[0].name.endswith("-py3-none-linux_x86_64.whl") or "linux" in wheels[0].name
    for folder in ("build", "dist", ".ccache"):
        assert (built / folder).is_dir(), folder
        assert _strangers(built / folder, *host_user) == [], folder
    assert (built / "build" / "config.cmake").read_text().count("set(USE_VULKAN ON)") == 1


def test_test_mode_passes_the_standin_tests(docker: Docker, built: Path, host_user: tuple[int, int]) -> None:
    proc = docker.run("test", mounts=[f"{built}:/workspace"], env=[FIND_LINKS], check=False, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert re.search(r"\d+ passed", proc.stdout + proc.stderr)
    assert _strangers(built / "build", *host_user) == []


def test_smoke_accepts_the_wheel_on_the_host(built: Path) -> None:
    wheel = next((built / "dist").glob("mlc_llm-*.whl"))
    proc = subprocess.run(
        [sys.executable, "-m", "mlc_devops", "smoke", str(wheel)],
        capture_output=True, text=True, timeout=600, check=False, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "smoke: passed" in proc.stderr + proc.stdout


def test_build_with_repair_in_the_image_gives_a_manylinux_wheel(
    docker: Docker, image: str, built: Path, host_user: tuple[int, int]
) -> None:
    """What the pipeline's wheel-linux runs: MLC_REPAIR=1, auditwheel and patchelf from the image."""
    proc = docker(
        "run", "--rm", "--network", "host", "-e", "MLC_REPAIR=1", "-e", FIND_LINKS, "--volume", f"{built}:/workspace",
        image, "build", "--dist", "/workspace/dist-repaired", check=False, timeout=900,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    wheels = list((built / "dist-repaired").glob("mlc_llm-*.whl"))
    assert len(wheels) == 1 and "-manylinux_" in wheels[0].name
    assert _strangers(built / "dist-repaired", *host_user) == []


def test_a_dev_shell_as_the_host_user_can_use_home_cargo_and_the_venv(
    docker: Docker, built: Path, host_user: tuple[int, int]
) -> None:
    script = (
        "id -u; id -g; whoami; sudo -n whoami; touch $HOME/.probe; mkdir -p $CARGO_HOME/registry; "
        "test -w /opt/venv/lib && echo venv-writable"
    )
    out = docker.run("shell", "-c", script, mounts=[f"{built}:/workspace"]).stdout.split()
    assert out == [str(host_user[0]), str(host_user[1]), "mlc", "root", "venv-writable"]


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to make a root-owned workspace")
@pytest.mark.usefixtures("image")
def test_a_root_owned_workspace_is_refused_with_a_hint(docker: Docker, tmp_path: Path) -> None:
    ws = copy_standin(tmp_path / "rootws")  # owned by root, like a checkout made by root on the host
    proc = docker.run("build", mounts=[f"{ws}:/workspace"], check=False)
    assert proc.returncode == 2
    assert "not writable by UID 1000" in proc.stderr and "MLC_UID" in proc.stderr
    assert docker.run("id", "-u", mounts=[f"{ws}:/workspace"]).stdout.strip() == "1000"


# --- signals: docker stop ends a build promptly, with the build's exit code ----------------


@pytest.fixture
def slow_workspace(tmp_path: Path, host_user: tuple[int, int]) -> Path:
    """The stand-in whose configure step sleeps, so a build is surely running when we signal it."""
    ws = copy_standin(tmp_path / "slow")
    cmake = ws / "CMakeLists.txt"
    cmake.write_text(cmake.read_text().replace("project(", "execute_process(COMMAND sleep 300)\nproject(", 1))
    if os.geteuid() == 0:
        _own(ws, *host_user)
    return ws


def _start_and_signal(docker: Docker, ws: Path, name: str, signal_args: list[str]) -> tuple[int, float, str]:
    docker("rm", "-f", name, check=False)
    docker("run", "-d", "--name", name, "--network", "host", "--volume", f"{ws}:/workspace", IMAGE, "build")
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            top = docker("top", name, check=False).stdout
            if "sleep 300" in top:
                break
            time.sleep(0.5)
        else:
            pytest.fail(
                "the build never reached its configure step:\n" + docker("logs", name, check=False).stderr[-2000:]
            )
        started = time.monotonic()
        docker(*signal_args, name, timeout=60)
        docker("wait", name, timeout=60)
        seconds = time.monotonic() - started
        code = int(docker("inspect", "--format", "{{.State.ExitCode}}", name).stdout.strip())
        logs = docker("logs", name, check=False)
        return code, seconds, logs.stdout + logs.stderr
    finally:
        docker("rm", "-f", name, check=False)


@pytest.mark.usefixtures("image")
def test_docker_stop_ends_a_build_promptly(docker: Docker, slow_workspace: Path) -> None:
    code, seconds, logs = _start_and_signal(docker, slow_workspace, "mlc-stop-test", ["stop", "--time", "60"])
    assert code == 143, logs[-2000:]
    assert seconds < 15, f"docker stop took {seconds:.1f}s: SIGTERM did not reach the build"
    assert "interrupted by SIGTERM" in logs


@pytest.mark.usefixtures("image")
def test_sigint_reaches_the_build(docker: Docker, slow_workspace: Path) -> None:
    code, seconds, logs = _start_and_signal(docker, slow_workspace, "mlc-int-test", ["kill", "--signal", "INT"])
    assert code == 130, logs[-2000:]
    assert seconds < 15
    assert "interrupted by SIGINT" in logs


# --- layers and builders ---------------------------------------------------------------


@pytest.mark.usefixtures("image")
def test_a_tool_change_rebuilds_only_the_tool_layers(docker: Docker, tmp_path: Path) -> None:
    # A frozen copy of the context, built once as it is (from the cache), then with one change to the tool.
    context = docker_build.stage_context(REPO, tmp_path / "ctx")
    first = docker.cli(*docker.image_build_args(context, tag="mlc-llm-dev:layer-test"))
    assert first.returncode == 0, first.stderr[-3000:]
    init = context / "src" / "mlc_devops" / "__init__.py"
    init.write_text(init.read_text() + f"# changed by {__name__} at {time.time()}\n")
    proc = docker.cli(*docker.image_build_args(context, tag="mlc-llm-dev:layer-test"))
    try:
        assert proc.returncode == 0, proc.stderr[-3000:]
        steps = re.split(r"^Step \d+/\d+ : ", proc.stderr, flags=re.MULTILINE)[1:]
        rebuilt = [s.splitlines()[0] for s in steps if " ---> Using cache" not in s]
        rebuilt_work = [s for s in rebuilt if s.split()[0] in ("RUN", "COPY")]
        # Only the tool's own COPY and install run again; apt, Rust and pip tooling come from the cache.
        assert [s.split()[0] + " " + s.split()[1] for s in rebuilt_work] == ["COPY src/", "RUN umask"], rebuilt
    finally:
        docker("rmi", "mlc-llm-dev:layer-test", check=False)


@pytest.mark.usefixtures("image")
def test_buildkit_builds_the_same_dockerfile(docker: Docker) -> None:
    client = docker_build.buildkit_client(docker.env)
    if client is None:
        pytest.skip("no docker client here can build with BuildKit (no buildx, no client older than 23.0)")
    proc = docker.cli(*docker.image_build_args(tag="mlc-llm-dev:buildkit-test", builder="buildkit"), timeout=1200)
    try:
        assert proc.returncode == 0, proc.stderr[-3000:]
        out = docker("run", "--rm", "--network", "host", "mlc-llm-dev:buildkit-test", "whoami").stdout
        assert out.strip() == "mlc"
    finally:
        docker("rmi", "mlc-llm-dev:buildkit-test", check=False)


@pytest.mark.usefixtures("base_image")
def test_the_base_stands_in_for_python_slim(docker: Docker) -> None:
    out = docker(
        "run", "--rm", "--network", "host", docker.base, "python3", "-c", "import sys; print(sys.version_info[:2])"
    )
    assert out.stdout.strip() == "(3, 13)"


@pytest.mark.usefixtures("image")
def test_image_size_is_reported(docker: Docker) -> None:
    size = docker_build.image_size(IMAGE, docker.env)
    assert 200_000_000 < size < 4_000_000_000


def test_image_sbom_lists_debian_python_and_rust_and_validates(docker: Docker, image: str, tmp_path: Path) -> None:
    out = tmp_path / "image.cdx.json"
    proc = docker.cli("sbom", "--image", image, "-o", str(out), "--validate")
    assert proc.returncode == 0, proc.stderr
    bom = json.loads(out.read_text())
    components = bom["components"]
    purls = [c.get("purl", "") for c in components]
    assert sum(p.startswith("pkg:deb/") for p in purls) > 50
    assert any(p.startswith("pkg:pypi/mlc-devops") for p in purls)
    names = {c["name"] for c in components}
    assert {"rustc", "cargo"} <= names
