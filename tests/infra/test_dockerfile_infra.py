"""Infrastructure tests: the image's Dockerfile, its entrypoint, and config.cmake.

The spec's tests of section 5.1 for docker/: base image and Python version,
non-root user, OCI labels, build arguments, entrypoint and its modes, and the
baked-in config.cmake. They fail, saying why, when docker/Dockerfile or
docker/config.cmake does not exist. test_infra_guards.py breaks copies of
these files to show each check failing.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from infra import contract as ct

from mlc_devops import cli
from mlc_devops import lint_pipeline as lp


def python_version_default(dockerfile_text: str) -> str:
    return ct.dockerfile_args(ct.parse_dockerfile(dockerfile_text))["PYTHON_VERSION"]


# --------------------------------------------------------------------------
# The spec's tests: the image
# --------------------------------------------------------------------------


def test_dockerfile_base_image(dockerfile_text: str, workflow: lp.Doc) -> None:
    """python:<PYTHON_VERSION>-slim-bookworm, PYTHON_VERSION the workflow's pin."""
    assert ct.check_dockerfile_base(dockerfile_text, str(workflow.data["env"]["PYTHON_VERSION"])) == []


def test_dockerfile_non_root_user(dockerfile_text: str) -> None:
    assert ct.check_dockerfile_user(dockerfile_text) == []


def test_dockerfile_oci_labels(dockerfile_text: str) -> None:
    assert ct.check_dockerfile_labels(dockerfile_text) == []
    labels = ct.dockerfile_labels(dockerfile_text)
    assert labels["org.opencontainers.image.licenses"] == "Apache-2.0"


def test_dockerfile_build_arguments(dockerfile_text: str, workflow: lp.Doc) -> None:
    """PYTHON_VERSION and RUST_TOOLCHAIN are build arguments defaulting to the workflow's pins."""
    assert ct.check_dockerfile_args(dockerfile_text, workflow.data["env"]) == []


def test_dockerfile_has_llvm_for_the_pair(dockerfile_text: str) -> None:
    """Debian's llvm-dev (the distribution's default LLVM): `mlc-devops build --tvm source` finds llvm-config."""
    assert ct.check_dockerfile_llvm(dockerfile_text) == []


def test_entrypoint_modes(dockerfile_text: str) -> None:
    """ENTRYPOINT is `mlc-devops entrypoint`; its modes are build, test, shell and pass-through."""
    from mlc_devops.commands import entrypoint

    assert ct.check_dockerfile_entrypoint(dockerfile_text) == []
    assert ct.check_entrypoint_modes(entrypoint.plan) == []
    assert set(entrypoint.MODES) == {"build", "test", "shell"}


def test_config_cmake_matches_the_tool(config_cmake_text: str, capsys: pytest.CaptureFixture[str]) -> None:
    """docker/config.cmake is what `mlc-devops config --preset vulkan` writes, Vulkan on."""
    assert cli.main(["config", "--preset", "vulkan"]) == 0
    expected = capsys.readouterr().out
    assert ct.check_config_cmake(config_cmake_text, expected) == []
    assert "set(USE_VULKAN ON)" in config_cmake_text.splitlines()


# --------------------------------------------------------------------------
# More about the image
# --------------------------------------------------------------------------


def test_dockerfile_has_no_registry_syntax_line(dockerfile_text: str) -> None:
    """A `# syntax=` line makes BuildKit pull a frontend from Docker Hub before building."""
    assert not dockerfile_text.lstrip().lower().startswith("# syntax=")


def test_image_python_version_matches_the_workflow(dockerfile_text: str, workflow: lp.Doc) -> None:
    assert python_version_default(dockerfile_text) == str(workflow.data["env"]["PYTHON_VERSION"])


def test_dockerignore_sends_only_what_the_image_needs(root: Path) -> None:
    path = root / ".dockerignore"
    assert path.is_file(), ".dockerignore is missing: the build context would hold the whole repository"
    lines = [
        ln.strip() for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip() and not ln.startswith("#")
    ]
    assert lines[0] == "*", "everything is excluded first, then the needed paths re-included"
    assert "!docker/Dockerfile" in lines
