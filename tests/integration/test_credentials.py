"""A token in the origin URL never reaches what the tool writes (issue 15, item 1).

A real build of the stand-in whose origin carries a token, as ``actions/checkout``
or a CI job leaves it, and whose ``.gitmodules`` names a submodule on another
host with a token too; then ``sbom``, ``attest`` and ``release``. Every file they
write is searched for the secrets, the wheel member by member.
"""

from __future__ import annotations

import subprocess
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mlc_devops import workspace

pytestmark = pytest.mark.integration

TOKEN = "ghs_FAKE0123"  # noqa: S105 - a fake token: the input whose leak is tested
SUB_TOKEN = "glpat-FAKE4567"  # noqa: S105 - fake, as above
ORIGIN = f"https://x-access-token:{TOKEN}@github.com/o/mlc-llm.git"
SUB_URL = f"https://oauth2:{SUB_TOKEN}@gitlab.example.com/o/tokenizers-cpp.git"
SECRETS = (TOKEN.encode(), SUB_TOKEN.encode())
Cli = Callable[..., "subprocess.CompletedProcess[str]"]


def secrets_in(path: Path) -> list[str]:
    """Where in ``path`` a secret appears: the file itself, or members of a zip (a wheel)."""
    found = [path.name for s in SECRETS if s in path.read_bytes()]
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            found += [f"{path.name}!{n}" for n in archive.namelist() for s in SECRETS if s in archive.read(n)]
    return found


@pytest.fixture(scope="module", params=["remote", "insteadof"])
def built(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The stand-in built with the token in ``origin`` itself, or in a ``url.<base>.insteadOf`` rewrite of it."""
    from standin import build_wheel, git, make_git_workspace

    base = tmp_path_factory.mktemp("credentials")
    ws = make_git_workspace(base)
    if request.param == "remote":
        git("remote", "add", "origin", ORIGIN, cwd=ws)
    else:  # a clean origin leaks too: `git remote get-url` applies the rewrite
        git("remote", "add", "origin", "https://github.com/o/mlc-llm.git", cwd=ws)
        git("config", f"url.https://x-access-token:{TOKEN}@github.com/.insteadOf", "https://github.com/", cwd=ws)
    assert workspace.git_remote_url(ws, None) == ORIGIN
    git("config", "-f", ".gitmodules", "submodule.3rdparty/tokenizers-cpp.url", SUB_URL, cwd=ws)
    git("commit", "-q", "-am", "tokenizers-cpp from a private mirror", cwd=ws)
    dist = base / "dist"
    wheel, stderr = build_wheel(ws, dist)
    return {"base": base, "ws": ws, "dist": dist, "wheel": wheel, "stderr": stderr}


def test_no_release_file_holds_the_tokens(built: dict[str, Any], cli: Cli, tmp_path: Path) -> None:
    version = built["wheel"].name.split("-")[1]
    out = tmp_path / "rel"
    proc = cli("release", str(built["dist"]), "--version", f"v{version}", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    files = sorted(p for p in out.iterdir() if p.is_file())
    assert len(files) == 4  # the wheel, its SBOM, its provenance, SHA256SUMS
    assert [hit for f in files for hit in secrets_in(f)] == []
    sbom_text = (out / (built["wheel"].name + ".cdx.json")).read_text()
    assert "https://github.com/o/mlc-llm" in sbom_text  # the origin is still named, only without the token
    assert "gitlab.example.com/o/tokenizers-cpp" in sbom_text  # a pkg:generic vcs_url: non-GitHub host
    provenance = (out / (built["wheel"].name + ".intoto.jsonl")).read_text()
    assert "git+https://github.com/o/mlc-llm.git" in provenance
    # Until the build report itself is clean, the release says it cleaned the URLs.
    report_text = (built["dist"] / (built["wheel"].name + ".build.json")).read_text()
    assert (TOKEN in report_text) == ("recorded the origin URL without its credentials" in proc.stderr)


def test_sbom_and_attest_outputs_hold_no_token(built: dict[str, Any], cli: Cli, tmp_path: Path) -> None:
    wheel = str(built["wheel"])
    bom, stmt = tmp_path / "x.cdx.json", tmp_path / "x.intoto.jsonl"
    made = [cli("sbom", wheel, "-o", str(bom)), cli("attest", wheel, "-o", str(stmt))]
    assert [p.returncode for p in made] == [0, 0], [p.stderr for p in made]
    assert secrets_in(bom) + secrets_in(stmt) == []


def test_the_build_report_holds_no_token(built: dict[str, Any]) -> None:
    report = built["dist"] / (built["wheel"].name + ".build.json")
    assert secrets_in(report) == []
    assert built["stderr"].count("recorded origin URL without its credentials") == 1
