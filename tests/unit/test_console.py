"""The console: GitHub Actions workflow commands escaped as the runner reads them, and the verbosity."""

from __future__ import annotations

import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlc_devops import options
from mlc_devops.errors import UsageError
from mlc_devops.ui import Console, Progress, escape_data, escape_property, workflow_command


def runner_unescape_data(text: str) -> str:
    """What the Actions runner does to a command's message (actions/runner, ActionCommand.UnescapeData)."""
    return text.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")


def runner_unescape_property(text: str) -> str:
    """What the runner does to a property value (ActionCommand.UnescapeProperty)."""
    for escaped, char in (("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%2C", ","), ("%25", "%")):
        text = text.replace(escaped, char)
    return text


def test_escape_data_escapes_percent_cr_and_lf() -> None:
    assert escape_data("100% done\r\nnext line") == "100%25 done%0D%0Anext line"
    # a literal escape sequence in the message stays literal
    assert escape_data("%0A") == "%250A"


def test_escape_property_also_escapes_colon_and_comma() -> None:
    assert escape_property("mlc-devops build: a, b%") == "mlc-devops build%3A a%2C b%25"


@given(st.text())
def test_the_runner_reads_back_what_was_escaped(text: str) -> None:
    escaped = escape_data(text)
    assert "\n" not in escaped and "\r" not in escaped
    assert runner_unescape_data(escaped) == text
    prop = escape_property(text)
    assert not {":", ",", "\n", "\r"} & set(prop)
    assert runner_unescape_property(prop) == text


def test_workflow_command_with_and_without_properties() -> None:
    assert workflow_command("error", "it broke\nhere") == "::error::it broke%0Ahere"
    assert workflow_command("error", "x", title="mlc-devops build") == "::error title=mlc-devops build::x"


def _console(
    *, github_actions: bool = False, quiet: bool = False, verbose: bool = False
) -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(github_actions=github_actions, quiet=quiet, verbose=verbose, stream=out), out


def test_error_on_actions_is_one_annotation_line_then_the_plain_line() -> None:
    console, out = _console(github_actions=True)
    console.error("two\nlines 50%", prefix="mlc-devops lint")
    assert out.getvalue().splitlines() == [
        "::error title=mlc-devops lint::two%0Alines 50%25",
        "mlc-devops lint: error: two",
        "lines 50%",
    ]


def test_error_and_warning_off_actions_carry_no_workflow_command() -> None:
    console, out = _console()
    console.error("broken")
    console.warn("careful")
    assert out.getvalue().splitlines() == ["error: broken", "warning: careful"]


def test_warning_on_actions_is_escaped() -> None:
    console, out = _console(github_actions=True)
    console.warn("a\nb")
    assert out.getvalue() == "::warning::a%0Ab\n"


def test_from_env_reads_github_actions_and_the_verbosity() -> None:
    assert Console.from_env({"GITHUB_ACTIONS": "true"}).github_actions
    assert not Console.from_env({"GITHUB_ACTIONS": "false"}).github_actions
    quiet = Console.from_env({"MLC_VERBOSITY": "quiet"})
    assert (quiet.quiet, quiet.verbose) == (True, False)
    verbose = Console.from_env({"MLC_VERBOSITY": "Verbose"})
    assert (verbose.quiet, verbose.verbose) == (False, True)
    normal = Console.from_env({})
    assert (normal.quiet, normal.verbose) == (False, False)
    assert Console.from_env({"MLC_VERBOSITY": "verbose"}, quiet=True).quiet


def test_unknown_verbosity_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="unknown verbosity 'loud' \\(env MLC_VERBOSITY\\)"):
        Console.from_env({"MLC_VERBOSITY": "loud"})


def test_the_flag_beats_the_environment_and_is_passed_on() -> None:
    env = {"MLC_VERBOSITY": "verbose", "PATH": "/bin"}
    assert options.resolve_verbosity("quiet", env) == options.Resolved("quiet", "flag")
    assert options.resolve_verbosity(None, env) == options.Resolved("verbose", "env MLC_VERBOSITY")
    assert options.resolve_verbosity(None, {}) == options.Resolved("normal", "default")
    assert options.with_verbosity(env, "quiet") == {"MLC_VERBOSITY": "quiet", "PATH": "/bin"}
    assert options.with_verbosity(env, None) == env
    assert env["MLC_VERBOSITY"] == "verbose"  # not changed in place


def test_quiet_hides_progress_but_not_warnings() -> None:
    console, out = _console(quiet=True)
    console.say("==> compile")
    console.output("a program's line")
    Progress(console).feed("[1/2] Building CXX a.o")
    console.warn("careful")
    assert out.getvalue() == "warning: careful\n"


def test_normal_shows_progress_and_not_program_lines() -> None:
    console, out = _console()
    progress = Progress(console, every_percent=50)
    for line in ("[1/4] Building CXX a.o", "a compiler warning", "[4/4] Linking libx.so"):
        progress.feed(line)
    assert out.getvalue().splitlines() == ["    compile 1/4 (25%)", "    compile 4/4 (100%)"]


def test_verbose_shows_every_program_line_instead_of_the_summary() -> None:
    console, out = _console(verbose=True)
    progress = Progress(console, every_percent=50)
    lines = ["[1/4] Building CXX a.o", "a compiler warning", "[4/4] Linking libx.so"]
    for line in lines:
        progress.feed(line)
    assert out.getvalue().splitlines() == lines
    assert (progress.done, progress.total) == (4, 4)


def test_phase_groups_on_actions_even_when_quiet() -> None:
    console, out = _console(github_actions=True, quiet=True)
    with console.phase("compile"):
        pass
    assert out.getvalue().splitlines() == ["::group::compile", "::endgroup::"]
