"""The container entrypoint's decisions: which mode, which command, which user."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from mlc_devops import cli
from mlc_devops.commands import entrypoint as ep
from mlc_devops.container import entrypoint as container_user
from mlc_devops.errors import UsageError

WS = Path("/workspace")


@pytest.mark.parametrize(
    ("words", "env", "mode", "rest"),
    [
        ([], {}, "shell", []),
        ([], {"MLC_BUILD_MODE": "build"}, "build", []),
        ([], {"MLC_BUILD_MODE": " Test "}, "test", []),
        (["build"], {}, "build", []),
        (["build", "--jobs", "2"], {"MLC_BUILD_MODE": "test"}, "build", ["--jobs", "2"]),
        (["test", "-k", "tok"], {}, "test", ["-k", "tok"]),
        (["shell"], {}, "shell", []),
        (["--jobs", "2"], {"MLC_BUILD_MODE": "build"}, "build", ["--jobs", "2"]),
        (["whoami"], {}, "exec", ["whoami"]),
        (["python3", "--version"], {"MLC_BUILD_MODE": "build"}, "exec", ["python3", "--version"]),
    ],
)
def test_choose_mode(words: list[str], env: dict[str, str], mode: str, rest: list[str]) -> None:
    assert ep.choose_mode(words, env) == (mode, rest)


def test_bad_mode_from_env_and_bare_options_are_usage_errors() -> None:
    with pytest.raises(UsageError, match="MLC_BUILD_MODE"):
        ep.choose_mode([], {"MLC_BUILD_MODE": "deploy"})
    with pytest.raises(UsageError, match="options without a mode"):
        ep.choose_mode(["--jobs", "2"], {})


def test_build_uses_the_workspace_and_the_image_preset() -> None:
    assert ep.command_for("build", [], {}, WS) == [
        "mlc-devops", "build", "--source", "/workspace", "--preset", "vulkan",
    ]  # fmt: skip
    assert ep.command_for("build", ["--jobs", "2"], {}, WS)[-2:] == ["--jobs", "2"]


@pytest.mark.parametrize(
    ("extra", "env"),
    [
        (["--preset", "cpu"], {}),
        (["--preset=cpu"], {}),
        (["--backend", "cpu"], {}),
        (["-b", "cuda"], {}),
        ([], {"MLC_PRESET": "cpu"}),
        ([], {"MLC_BACKENDS": "cpu,vulkan"}),
    ],
)
def test_a_backend_choice_replaces_the_default_preset(extra: list[str], env: dict[str, str]) -> None:
    assert "vulkan" not in ep.command_for("build", extra, env, WS)[:6]


def test_test_shell_and_exec_commands() -> None:
    assert ep.command_for("test", ["-k", "x"], {}, WS) == ["mlc-devops", "test", "--source", "/workspace", "-k", "x"]
    assert ep.command_for("shell", [], {}, WS) == ["bash"]
    assert ep.command_for("shell", ["-c", "id"], {}, WS) == ["bash", "-c", "id"]
    assert ep.command_for("exec", ["cargo", "--version"], {}, WS) == ["cargo", "--version"]


def test_json_goes_to_the_build_or_test_it_becomes() -> None:
    build = ep.with_json(ep.plan(["build", "--jobs", "2"], {}, Path("/ws")))
    assert build.argv == ("mlc-devops", "build", "--json", "--source", "/ws", "--preset", "vulkan", "--jobs", "2")
    test = ep.with_json(ep.plan(["test", "--", "-x"], {}, Path("/ws")))
    assert test.argv == ("mlc-devops", "test", "--json", "--source", "/ws", "--", "-x")  # not pytest's
    for words in (["shell"], ["python3", "-V"]):
        with pytest.raises(UsageError, match="--json applies to the build and test modes"):
            ep.with_json(ep.plan(words, {}, Path("/ws")))


def test_entrypoint_json_with_a_shell_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["entrypoint", "--json", "--", "shell"]) == 2
    assert "--json applies to the build and test modes, not to shell" in capsys.readouterr().err


def test_plan_strips_the_entrypoint_separator() -> None:
    assert ep.plan(["--", "whoami"], {}, WS) == ep.Plan("exec", ("whoami",))
    assert ep.plan(["--"], {}, WS) == ep.Plan("shell", ("bash",))
    assert ep.plan(["--", "build"], {}, WS).needs_source
    assert not ep.plan(["shell"], {}, WS).needs_source


@pytest.mark.parametrize(
    ("euid", "owner", "env", "expected"),
    [
        (1000, (4321, 4321), {}, None),  # not root: run as we are (docker run --user ...)
        (0, None, {}, container_user.Identity(1000, 1000, (1000,))),  # nothing mounted: mlc
        (0, (0, 0), {}, container_user.Identity(1000, 1000, (1000,))),  # a root-owned mount: still mlc
        (0, (1000, 1000), {}, container_user.Identity(1000, 1000, (1000,))),
        (0, (4321, 4322), {}, container_user.Identity(4321, 4322, (4322, 1000))),  # the host user
        (0, (501, 20), {}, container_user.Identity(501, 20, (20, 1000))),  # a macOS user: uid 501, group staff
        (0, (4321, 4322), {"MLC_UID": "0"}, container_user.Identity(0, 0, (0, 1000))),  # root, on purpose
        (0, None, {"MLC_UID": "2000", "MLC_GID": "3000"}, container_user.Identity(2000, 3000, (3000, 1000))),
        (0, (4321, 4322), {"MLC_GID": "1000"}, container_user.Identity(4321, 1000, (1000,))),
    ],
)
def test_choose_identity(
    euid: int, owner: tuple[int, int] | None, env: dict[str, str], expected: container_user.Identity | None
) -> None:
    assert container_user.choose_identity(euid, owner, env) == expected


def test_identity_ids_must_be_numbers() -> None:
    with pytest.raises(UsageError, match="MLC_UID"):
        container_user.choose_identity(0, None, {"MLC_UID": "alice"})


# /proc/self/uid_map as the kernel writes it (user_namespaces(7)).
IDENTITY_MAP = "         0          0 4294967295\n"  # no user namespace
ROOTLESS_PODMAN = "         0       1000          1\n         1     100000      65536\n"
KEEP_ID = "         0          1       1000\n      1000       1000          1\n      1001       1001      64536\n"
USERNS_REMAP = "         0     165536      65536\n"  # dockerd --userns-remap


@pytest.mark.parametrize(
    ("text", "namespaced", "root_is"),
    [
        (IDENTITY_MAP, False, 0),
        (ROOTLESS_PODMAN, True, 1000),
        (KEEP_ID, True, 1),
        (USERNS_REMAP, True, 165536),
        ("0 0 4294967295", False, 0),
        ("         1     100000      65536\n", True, None),  # root unmapped
    ],
)
def test_uid_maps(text: str, namespaced: bool, root_is: int | None) -> None:
    assert container_user.in_user_namespace(text) is namespaced
    assert container_user.host_uid_of_root(text) == root_is


def test_uid_map_parsing_and_what_is_no_namespace() -> None:
    assert container_user.parse_uid_map(ROOTLESS_PODMAN) == (
        container_user.UidRange(0, 1000, 1),
        container_user.UidRange(1, 100000, 65536),
    )
    assert container_user.parse_uid_map(IDENTITY_MAP) == container_user.IDENTITY_MAP
    for absent in (None, "", "garbage\n"):  # no /proc, or nothing the kernel would write
        assert not container_user.in_user_namespace(absent)


@pytest.mark.parametrize(
    ("owner", "env", "expected"),
    [
        ((0, 0), {}, container_user.Identity(0, 0, (0, 1000))),  # looks root-owned: it is the host user; keep root
        ((4321, 4322), {}, container_user.Identity(4321, 4322, (4322, 1000))),  # a mapped owner: adopt it, as ever
        (None, {}, container_user.Identity(1000, 1000, (1000,))),  # nothing to protect: mlc
        ((0, 0), {"MLC_UID": "1000"}, container_user.Identity(1000, 1000, (1000,))),  # asked for: obeyed
    ],
)
def test_choose_identity_in_a_user_namespace(
    owner: tuple[int, int] | None, env: dict[str, str], expected: container_user.Identity
) -> None:
    assert container_user.choose_identity(0, owner, env, userns=True) == expected


def test_keeping_the_mapped_root_is_said_only_when_chosen_for_it() -> None:
    root = container_user.Identity(0, 0, (0, 1000))
    note = container_user.keeps_mapped_root(root, {}, ROOTLESS_PODMAN)
    assert note is not None and "host UID 1000" in note
    assert container_user.keeps_mapped_root(root, {"MLC_UID": "0"}, ROOTLESS_PODMAN) is None  # asked for
    assert container_user.keeps_mapped_root(root, {}, IDENTITY_MAP) is None
    assert container_user.keeps_mapped_root(container_user.Identity(1000, 1000, (1000,)), {}, ROOTLESS_PODMAN) is None


def test_unwritable_hints_name_fixes_that_work() -> None:
    inside = container_user.unwritable_hint(True)
    assert "--userns=keep-id" in inside and "MLC_UID=0" in inside and "chown" not in inside
    assert "chown" in container_user.unwritable_hint(False)


USER_DB = (
    "root:x:0:0:root:/root:/bin/bash\n"
    "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
    "www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\n"
    "mlc:x:1000:1000::/home/mlc:/bin/bash\n"
)


def test_rewrite_passwd_gives_mlc_the_host_ids_first_after_root() -> None:
    out = container_user.rewrite_passwd(USER_DB, 33, 33)
    lines = out.splitlines()
    assert lines[0].startswith("root:")
    assert lines[1] == "mlc:x:33:33::/home/mlc:/bin/bash"  # found before www-data by a look-up of uid 33
    assert sorted(lines) == sorted([*USER_DB.splitlines()[:3], "mlc:x:33:33::/home/mlc:/bin/bash"])
    assert container_user.rewrite_passwd(out, 33, 33) == out


def test_rewrite_passwd_adds_mlc_when_missing() -> None:
    out = container_user.rewrite_passwd("root:x:0:0:root:/root:/bin/bash\n", 4321, 4322)
    assert out.splitlines()[1] == "mlc:x:4321:4322::/home/mlc:/bin/bash"


def test_child_env() -> None:
    env = {"PATH": "/usr/bin", "MLC_BUILD_MODE": "build", "HOME": "/root"}
    adopted = container_user.child_env(env, container_user.Identity(4321, 4322, (4322, 1000)))
    assert adopted == {"PATH": "/usr/bin", "HOME": "/home/mlc", "USER": "mlc", "LOGNAME": "mlc"}
    assert container_user.child_env({"HOME": "/"}, None)["HOME"] == "/home/mlc"  # docker run --user N
    assert container_user.child_env({"HOME": "/tmp/h"}, None)["HOME"] == "/tmp/h"
    assert container_user.child_env({"HOME": "/root"}, container_user.Identity(0, 0, (0,)))["HOME"] == "/root"


# --- run(): the edges, with the system calls replaced ------------------------------------


class Exec(Exception):
    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        super().__init__(argv)
        self.argv, self.env = argv, env


@pytest.fixture
def system(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, Any]:
    """A fake system: workspace and passwd in tmp_path, identity calls recorded, exec raises."""
    calls: list[tuple[str, Any]] = []
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    passwd = tmp_path / "passwd"
    passwd.write_text(USER_DB)
    monkeypatch.setattr(ep, "WORKSPACE", workspace)
    monkeypatch.setattr(ep, "PASSWD", passwd)
    uid_map = tmp_path / "uid_map"
    uid_map.write_text(IDENTITY_MAP)
    monkeypatch.setattr(ep, "UID_MAP", uid_map)
    monkeypatch.setattr(os, "setgroups", lambda groups: calls.append(("setgroups", list(groups))))
    monkeypatch.setattr(os, "setgid", lambda gid: calls.append(("setgid", gid)))
    monkeypatch.setattr(os, "setuid", lambda uid: calls.append(("setuid", uid)))

    def fake_exec(file: str, argv: list[str], env: dict[str, str]) -> None:  # noqa: ARG001 - os.execvpe's signature
        raise Exec(argv, env)

    monkeypatch.setattr(os, "execvpe", fake_exec)
    return {"calls": calls, "workspace": workspace, "passwd": passwd}


def test_build_without_source_is_one_line_and_exit_2(
    system: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["entrypoint", "--", "build"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "no MLC-LLM source" in err[0] and "-v" in err[0]
    assert system["calls"] == []  # rejected before anything changed


def test_root_start_adopts_the_workspace_owner_then_execs(
    system: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    ws: Path = system["workspace"]
    (ws / "CMakeLists.txt").write_text("project(x)\n")
    real_stat = Path.stat

    class Owner:
        st_uid, st_gid = 4321, 4322

    monkeypatch.setattr(Path, "stat", lambda self, **kw: Owner() if self == ws else real_stat(self, **kw))
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setattr(os, "access", lambda path, mode: True)
    with pytest.raises(Exec) as info:
        cli.main(["entrypoint", "--", "build", "--jobs", "1"])
    assert info.value.argv == ["mlc-devops", "build", "--source", str(ws), "--preset", "vulkan", "--jobs", "1"]
    assert info.value.env["HOME"] == "/home/mlc"
    assert system["calls"] == [("setgroups", [4322, 1000]), ("setgid", 4322), ("setuid", 4321)]
    assert "mlc:x:4321:4322::/home/mlc:/bin/bash" in system["passwd"].read_text().splitlines()


def test_unwritable_workspace_is_refused_after_dropping_root(
    system: dict[str, Any], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (system["workspace"] / "CMakeLists.txt").write_text("project(x)\n")
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    assert cli.main(["entrypoint", "--", "test"]) == 2
    assert "not writable" in capsys.readouterr().err
    assert ("setuid", 1000) in system["calls"]


def test_not_root_runs_the_command_as_is(system: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(Exec) as info:
        cli.main(["entrypoint", "--", "cargo", "--version"])
    assert info.value.argv == ["cargo", "--version"]
    assert system["calls"] == []


@pytest.mark.usefixtures("system")
def test_a_missing_program_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)

    def missing(file: str, argv: list[str], env: dict[str, str]) -> None:  # noqa: ARG001 - os.execvpe's signature
        raise FileNotFoundError(2, "No such file or directory")

    monkeypatch.setattr(os, "execvpe", missing)
    assert cli.main(["entrypoint", "--", "no-such-tool"]) == 3
    assert "'no-such-tool' was not found" in capsys.readouterr().err


def test_help_after_the_image_name_prints_the_modes(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["entrypoint", "--", "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: docker run") and "MLC_BUILD_MODE" in out


def test_rootless_podman_keeps_root_for_a_root_looking_workspace(
    system: dict[str, Any], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ws: Path = system["workspace"]
    (ws / "CMakeLists.txt").write_text("project(x)\n")
    ep.UID_MAP.write_text(ROOTLESS_PODMAN)
    real_stat = Path.stat

    class Owner:  # the host user's checkout, seen from inside: root's
        st_uid, st_gid = 0, 0

    monkeypatch.setattr(Path, "stat", lambda self, **kw: Owner() if self == ws else real_stat(self, **kw))
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setattr(os, "access", lambda path, mode: True)
    with pytest.raises(Exec) as info:
        cli.main(["entrypoint", "--", "build"])
    assert info.value.argv[:2] == ["mlc-devops", "build"]
    assert system["calls"] == []  # no setuid: root here is the host user
    assert system["passwd"].read_text() == USER_DB
    assert "host UID 1000" in capsys.readouterr().err


def test_unwritable_workspace_in_a_user_namespace_names_the_runtime_fixes(
    system: dict[str, Any], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (system["workspace"] / "CMakeLists.txt").write_text("project(x)\n")
    ep.UID_MAP.write_text(USERNS_REMAP)
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    assert cli.main(["entrypoint", "--", "test"]) == 2
    err = capsys.readouterr().err
    assert "--userns=keep-id" in err and "chown" not in err
