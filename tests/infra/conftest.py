"""Fixtures for the infrastructure tests: the real pipeline files, and broken copies of them.

A guard is only worth something if it fails when what it guards breaks, so
every guard is exercised twice: on the file as committed (no problems), and
on a copy with one deliberate change (the guard must name the problem).
:func:`mutate` makes that change on the text, exactly once, and fails loudly
if the text it should change is gone, so a mutation can never silently test
nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from infra import contract as ct

from mlc_devops import lint_pipeline as lp

ROOT = Path(__file__).resolve().parents[2]

Mutate = Callable[..., str]


def mutate(text: str, old: str, new: str, *, count: int = 1) -> str:
    """``text`` with ``old`` replaced by ``new``; ``old`` must occur exactly ``count`` times."""
    found = text.count(old)
    if found != count:
        pytest.fail(f"mutation target occurs {found} times, expected {count}: {old!r}")
    changed = text.replace(old, new)
    assert changed != text
    return changed


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def workflow_text() -> str:
    return (ROOT / lp.WORKFLOW).read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def action_text() -> str:
    return (ROOT / lp.ACTION).read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def workflow(workflow_text: str) -> lp.Doc:
    return lp.Doc.parse(workflow_text)


@pytest.fixture(scope="session")
def action(action_text: str) -> lp.Doc:
    return lp.Doc.parse(action_text)


@pytest.fixture
def mutated() -> Mutate:
    return mutate


@pytest.fixture(scope="session")
def dockerfile_text() -> str:
    path = ROOT / ct.DOCKERFILE
    assert path.is_file(), f"{ct.DOCKERFILE} is missing: the image's guards cannot run without it"
    return path.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def config_cmake_text() -> str:
    path = ROOT / ct.CONFIG_CMAKE
    assert path.is_file(), f"{ct.CONFIG_CMAKE} is missing: the config guards cannot run without it"
    return path.read_text(encoding="utf-8")
