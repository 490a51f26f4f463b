"""The table of settings (options.SETTINGS): resolution order, masking, config --show, and its drift from docs and src."""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
from pathlib import Path

import pytest

from mlc_devops import backends, cli, options
from mlc_devops.buildsteps import decisions
from mlc_devops.container import engine as docker_engine
from mlc_devops.container import image as docker_build
from mlc_devops.container import tags as image_tags
from mlc_devops.errors import UsageError

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "mlc_devops"
# An MLC_* name in a string of the package; one ending in "_" is a family (MLC_IMAGE_* in a help text).
_MLC_NAME = re.compile(r"\bMLC_[A-Z0-9_]*[A-Z0-9_]")


def _listed() -> set[str]:
    names = {v for s in options.SETTINGS.values() for v in (s.env, *s.aliases) if v}
    return names | {n for v in options.OTHER_VARIABLES for n in v.names}


# ---------------------------------------------------------------- resolution


def test_flag_then_variable_then_alias_then_default() -> None:
    env = {"MLC_TVM_SOURCE_DIR": "/a", "TVM_SOURCE_DIR": "/b"}
    assert options.resolve_one("tvm_source_dir", env, "/f") == options.Resolved("/f", "flag")
    assert options.resolve_one("tvm_source_dir", env) == options.Resolved("/a", "env MLC_TVM_SOURCE_DIR")
    assert options.resolve_one("tvm_source_dir", {"TVM_SOURCE_DIR": "/b"}) == options.Resolved(
        "/b", "env TVM_SOURCE_DIR"
    )
    assert options.resolve_one("tvm_source_dir", {}) == options.Resolved("3rdparty/tvm", "default")


def test_an_empty_variable_is_unset_and_a_repeated_flag_is_joined() -> None:
    assert options.resolve_one("uid", {"MLC_UID": ""}).origin == "default"
    joined = options.resolve_one("find_links", {}, ["a", "b"])
    assert joined == options.Resolved(os.pathsep.join(["a", "b"]), "flag")
    assert options.resolve_one("backends", {}, ["cpu", "vulkan"]).value == "cpu,vulkan"
    assert options.resolve_one("backends", {}, []).origin == "default"


def test_a_preset_chooses_build_settings_only() -> None:
    every = options.resolve_all({"preset": "cuda"}, {"MLC_UID": "7"})
    assert every["cuda_arch"] == options.Resolved("80;90;100;120", "preset cuda")
    assert every["uid"] == options.Resolved("7", "env MLC_UID")
    assert every["build_mode"] == options.Resolved("shell", "default")
    assert set(every) == set(options.SETTINGS)
    assert set(options.resolve_raw({}, {})) == set(options.BUILD_SETTINGS)
    with pytest.raises(UsageError, match="unknown preset"):
        options.resolve_all({}, {"MLC_PRESET": "tpu"})


def test_one_build_type_default() -> None:
    assert options.SETTINGS["build_type"].default() == backends.DEFAULT_BUILD_TYPE == "Release"
    assert backends.make_config(["cpu"]).build_type == backends.DEFAULT_BUILD_TYPE
    assert options.resolve({}, {}, cores=1, memory=None).config.build_type == "Release"
    resolved = options.resolve({}, {"MLC_BUILD_TYPE": "RelWithDebInfo"}, cores=1, memory=None)
    assert resolved.config.build_type == "RelWithDebInfo"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, ("shell", "default")),
        ({"MLC_BUILD_MODE": " Build "}, ("build", "env MLC_BUILD_MODE")),
        ({"MLC_BUILD_MODE": "  "}, ("shell", "default")),
    ],
)
def test_build_mode(env: dict[str, str], expected: tuple[str, str]) -> None:
    assert options.resolve_build_mode(env) == options.Resolved(*expected)


def test_bad_values_are_one_line_usage_errors() -> None:
    with pytest.raises(UsageError, match="MLC_BUILD_MODE must be one of build, test, shell, not 'deploy'"):
        options.resolve_build_mode({"MLC_BUILD_MODE": "deploy"})
    with pytest.raises(UsageError, match="MLC_GID must be a numeric id, not 'staff'"):
        options.resolve_numeric_id("gid", {"MLC_GID": "staff"})
    with pytest.raises(UsageError, match="SOURCE_DATE_EPOCH must be whole seconds since 1970, not 'yesterday'"):
        options.resolve_source_date_epoch({"SOURCE_DATE_EPOCH": "yesterday"})
    with pytest.raises(UsageError, match="SOURCE_DATE_EPOCH"):
        options.resolve_source_date_epoch({"SOURCE_DATE_EPOCH": "9" * 30})


def test_ids_time_and_password() -> None:
    assert options.resolve_numeric_id("uid", {"MLC_UID": " 0 "}) == 0
    assert options.resolve_numeric_id("uid", {}) is None
    assert options.resolve_source_date_epoch({"SOURCE_DATE_EPOCH": " 1700000000 "}) == 1700000000
    assert options.resolve_source_date_epoch({"SOURCE_DATE_EPOCH": ""}) is None
    assert options.resolve_key_password({"MLC_DEVOPS_KEY_PASSWORD": "pw"}) == b"pw"
    assert options.resolve_key_password({"MLC_DEVOPS_KEY_PASSWORD": ""}) is None


@pytest.mark.parametrize(
    ("given", "expected"), [({}, "5"), ({"SOURCE_DATE_EPOCH": ""}, "5"), ({"SOURCE_DATE_EPOCH": "9"}, "9")]
)
def test_build_stamps_the_commit_time_unless_source_date_epoch_is_set(given: dict[str, str], expected: str) -> None:
    env = decisions.build_environment(given, jobs=1, launcher_vars={}, source_date_epoch=5, cuda_threads=None)
    assert env["SOURCE_DATE_EPOCH"] == expected


def test_the_container_reads_its_settings_from_the_table() -> None:
    assert docker_engine.Engine.from_env({}) == docker_engine.Engine()
    moved = docker_engine.Engine.from_env({"MLC_DOCKER_DATA_ROOT": "/d", "MLC_DOCKER_RUN_DIR": ""})
    assert moved == docker_engine.Engine(Path("/d"), docker_engine.DEFAULT_ENGINE_RUN)
    assert options.resolve_short_sha_length({}) == image_tags.SHORT_SHA_LENGTH
    assert options.resolve_short_sha_length({"DOCKER_METADATA_SHORT_SHA_LENGTH": "12"}) == 12
    with pytest.raises(UsageError, match="DOCKER_METADATA_SHORT_SHA_LENGTH must be a number, not 'x'"):
        options.resolve_short_sha_length({"DOCKER_METADATA_SHORT_SHA_LENGTH": "x"})
    assert {s.env for s in docker_build.IMAGE_BUILD_SETTINGS.values()} == {
        s.env for s in options.SETTINGS.values() if s.group == "image" and s.env and s.env.startswith("MLC_IMAGE_")
    }


# ---------------------------------------------------------------- masking


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("redis://:pw@h:6379", "redis://:***@h:6379"),
        ("https://user:pw@idx.example/simple", "https://user:***@idx.example/simple"),
        ("https://ghp_TOKEN@idx.example/simple#tvm", "https://***@idx.example/simple#tvm"),
        ("ssh://git@host/o/r", "ssh://git@host/o/r"),
        ("https://idx.example/s?access_token=abc&ref=main", "https://idx.example/s?access_token=***&ref=main"),
        ("http://host:8080/cache", "http://host:8080/cache"),
        ("/wheels:/more@wheels", "/wheels:/more@wheels"),
    ],
)
def test_credentials_in_urls_are_masked(text: str, expected: str) -> None:
    assert options.mask_credentials(text) == expected


def test_a_secret_is_never_shown() -> None:
    assert [n for n, s in options.SETTINGS.items() if s.secret] == ["key_password"]
    assert options.shown("key_password", "hunter2") == "***"
    assert options.shown("key_password", None) is None
    assert options.shown("cache_remote", "redis://:pw@h:1") == "redis://:***@h:1"
    assert options.shown("source", "/src/mlc") == "/src/mlc"


def test_config_show_prints_every_setting_with_its_origin_and_masks_secrets(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("MLC_BACKENDS", "MLC_PRESET", "MLC_BUILD_TYPE", "TVM_SOURCE_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MLC_DEVOPS_KEY_PASSWORD", "hunter2")
    monkeypatch.setenv("MLC_CACHE_REMOTE", "redis://:pw@cache:6379")
    monkeypatch.setenv("MLC_UID", "1234")
    assert cli.main(["config", "--show", "--json", "--preset", "cuda"]) == 0
    out = capsys.readouterr().out
    assert "hunter2" not in out and ":pw@" not in out
    rows = json.loads(out)["settings"]
    assert set(rows) == set(options.SETTINGS)
    assert rows["key_password"] == {"value": "***", "from": "env MLC_DEVOPS_KEY_PASSWORD"}
    assert rows["cache_remote"] == {"value": "redis://:***@cache:6379", "from": "env MLC_CACHE_REMOTE"}
    assert rows["uid"] == {"value": "1234", "from": "env MLC_UID"}
    assert rows["preset"] == {"value": "cuda", "from": "flag"}
    assert rows["backends"]["from"] == "preset cuda"
    assert rows["build_type"] == {"value": "Release", "from": "default"}
    assert cli.main(["config", "--show"]) == 0
    text = capsys.readouterr().out
    assert "hunter2" not in text
    assert re.search(r"^key_password +\*\*\* +\(env MLC_DEVOPS_KEY_PASSWORD\)$", text, re.MULTILINE)
    assert re.search(r"^jobs +- +\(default: cores, capped at one per 2 GB of memory\)$", text, re.MULTILINE)


# ---------------------------------------------------------------- drift


def test_the_docs_table_is_the_settings_table() -> None:
    readme = (ROOT / options.DOCS_FILE).read_text(encoding="utf-8")
    assert options.with_table(readme, options.markdown()) == readme, (
        "docs/README.md's environment tables differ from options.SETTINGS: "
        "run python -m mlc_devops.options --write docs/README.md"
    )


def test_the_generator_writes_between_the_markers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = tmp_path / "README.md"
    doc.write_text(f"# x\n\n{options.DOCS_BEGIN}\nstale\n{options.DOCS_END}\n\nafter\n", encoding="utf-8")
    assert options.main(["--write", str(doc)]) == 0
    text = doc.read_text(encoding="utf-8")
    assert (
        "stale" not in text
        and "| `MLC_DEVOPS_KEY_PASSWORD` |" in text
        and text.endswith(f"{options.DOCS_END}\n\nafter\n")
    )
    assert options.main(["--markdown"]) == 0
    assert capsys.readouterr().out == options.markdown()
    doc.write_text("no markers\n", encoding="utf-8")
    with pytest.raises(UsageError, match="markers"):
        options.main(["--write", str(doc)])


def _strings(path: Path) -> list[tuple[int, str]]:
    """The string literals of a module that code reads or a user sees: docstrings, prose for developers that
    may name upstream's own variables, are left out."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        (n.lineno, n.value)
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docstrings
    ]


def _unlisted(root: Path) -> list[str]:
    """``path:line: NAME`` for each MLC_* name in a string of ``root``'s modules that the table lacks."""
    listed = _listed()
    unlisted = []
    for path in sorted(root.rglob("*.py")):
        for lineno, text in _strings(path):
            for name in _MLC_NAME.findall(text):
                family = name.endswith("_")
                if (family and not any(v.startswith(name) for v in listed)) or (not family and name not in listed):
                    unlisted.append(f"{path.relative_to(root)}:{lineno}: {name}")
    return unlisted


def test_the_scan_finds_a_variable_outside_the_table(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text(
        '"""Upstream reads MLC_UPSTREAM_ONLY."""\n'
        'import os\n\nX = os.environ.get("MLC_NOT_A_SETTING")\nY = f"{X} (env MLC_PLUGIN_*, MLC_IMAGE_*, MLC_JOBS)"\n',
        encoding="utf-8",
    )
    assert _unlisted(tmp_path) == ["m.py:4: MLC_NOT_A_SETTING", "m.py:5: MLC_PLUGIN_"]


def test_every_mlc_variable_the_package_names_is_in_the_table() -> None:
    unlisted = _unlisted(PACKAGE)
    assert not unlisted, (
        "MLC_* names outside the table: add a row to options.SETTINGS (or, for another program's variable, to "
        "options.OTHER_VARIABLES):\n" + "\n".join(unlisted)
    )


def test_the_table_rows_are_whole() -> None:
    for name, s in options.SETTINGS.items():
        assert re.fullmatch(r"[a-z][a-z_]*", name), name
        assert s.env, f"{name}: no variable"
        assert s.commands, f"{name}: no command reads it"
        assert s.help and "\n" not in s.help, name


def _option_strings(parser: argparse.ArgumentParser) -> set[str]:
    found: set[str] = set()
    for action in parser._actions:
        found.update(action.option_strings)
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                found |= _option_strings(sub)
    return found


def test_every_flag_the_table_names_is_a_flag_of_the_cli() -> None:
    flags: set[str] = set()
    for command in cli.COMMANDS:
        parser = cli.build_parser(command)
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                flags |= _option_strings(action.choices[command])
    named = {f for s in options.SETTINGS.values() if s.flag for f in s.flag.split("/") if f.startswith("-")}
    assert named - flags == set()
