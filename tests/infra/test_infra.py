"""Infrastructure tests: the workflow and the composite action keep the spec's section 6.

The pipeline cannot run here; these read its files and check every promise
that can be checked without GitHub. The checks live in
:mod:`mlc_devops.lint_pipeline`; test_infra_guards.py shows each one failing
on a broken copy. The Dockerfile, the entrypoint and config.cmake are in
test_dockerfile_infra.py. See docs/pipeline.md, "Tests".
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from infra import contract as ct

from mlc_devops import cli
from mlc_devops import lint_pipeline as lp

# --------------------------------------------------------------------------
# The spec's tests (section 5.1, 8.1): the workflow and the composite action
# --------------------------------------------------------------------------


def test_workflow_has_the_eight_jobs(workflow: lp.Doc) -> None:
    assert ct.check_jobs(workflow) == []
    # The spec's eight, in its order; then the two CUDA jobs, outside its graph.
    assert tuple(lp.jobs(workflow)) == ct.JOBS + ct.GPU_JOBS
    assert ct.GPU_JOBS == ("wheel-cuda", "smoke-gpu")


def test_job_dependency_graph(workflow: lp.Doc) -> None:
    assert ct.check_needs(workflow) == []
    # The graph is the spec's: lint gates everything, release waits for both smokes.
    assert ct.NEEDS["release"] == {"smoke-linux", "smoke-windows"}
    assert ct.NEEDS["wheel-linux"] == {"test", "docker"}
    assert ct.needs_of(ct.job(workflow, "release")) == {"smoke-linux", "smoke-windows"}


def test_cuda_jobs_stay_outside_the_spec_graph(workflow: lp.Doc) -> None:
    """No spec job waits for a CUDA job: a missing GPU runner never holds up a release."""
    assert {"wheel-cuda": {"test", "docker"}, "smoke-gpu": {"wheel-cuda"}} == ct.GPU_NEEDS
    for name in ct.JOBS:
        assert not ct.needs_of(ct.job(workflow, name)) & set(ct.GPU_JOBS), name


def test_triggers(workflow: lp.Doc) -> None:
    assert ct.check_triggers(workflow) == []


def test_concurrency_cancels_superseded_runs(workflow: lp.Doc) -> None:
    assert ct.check_concurrency(workflow) == []


def test_shared_env_defined_once_at_workflow_level(workflow: lp.Doc) -> None:
    assert ct.check_env(workflow) == []


def test_release_only_on_version_tags(workflow: lp.Doc) -> None:
    assert ct.check_release(workflow) == []


def test_image_pushed_on_push_events_only(workflow: lp.Doc) -> None:
    assert ct.check_push_policy(workflow) == []


def test_image_tags_follow_the_spec(workflow: lp.Doc) -> None:
    assert ct.check_tags(workflow) == []


def test_composite_action(action: lp.Doc) -> None:
    assert ct.check_composite_action(action) == []


def test_caches_keyed_as_the_spec_says(workflow: lp.Doc, action: lp.Doc) -> None:
    assert ct.check_caches(workflow, action) == []


# --------------------------------------------------------------------------
# The jobs in detail
# --------------------------------------------------------------------------


def test_docker_job_builds_signs_and_attests(workflow: lp.Doc) -> None:
    assert ct.check_docker_job(workflow) == []


def test_wheel_linux_builds_in_the_sha_tagged_image(workflow: lp.Doc) -> None:
    assert ct.check_wheel_linux(workflow) == []


def test_wheel_jobs_build_mlc_llm_at_the_release_tag(workflow: lp.Doc) -> None:
    """MLC-LLM is checked out under mlc-llm/ with submodules; on v* tags at MLC-LLM's same tag."""
    assert ct.check_source_checkout(workflow) == []


def test_wheel_windows_builds_natively(workflow: lp.Doc) -> None:
    assert ct.check_wheel_windows(workflow) == []


def test_smoke_jobs_install_in_a_clean_environment(workflow: lp.Doc) -> None:
    assert ct.check_smoke(workflow) == []


# --------------------------------------------------------------------------
# The CUDA jobs (docs/gpu.md, "In the pipeline")
# --------------------------------------------------------------------------


def test_wheel_cuda_builds_in_the_image_with_the_toolkit_mounted(workflow: lp.Doc) -> None:
    assert ct.check_wheel_cuda(workflow) == []
    body = ct.job(workflow, "wheel-cuda")
    assert ct.needs_of(body) == {"test", "docker"}
    assert body["runs-on"] == "ubuntu-24.04"


def test_wheel_cuda_path_is_the_images_with_the_toolkit_first(workflow: lp.Doc, dockerfile_text: str) -> None:
    assert ct.check_cuda_path(workflow, dockerfile_text) == []


def test_cuda_docker_run_goes_through_the_entrypoint_to_a_cuda_build(workflow: lp.Doc) -> None:
    """`docker run ... IMAGE build` in wheel-cuda resolves to the cuda preset, its architectures, repair, ccache."""
    from mlc_devops import options
    from mlc_devops.commands import _args, entrypoint

    step = next(
        s for s in lp.steps(ct.job(workflow, "wheel-cuda")) if ct.steps_running({"steps": [s]}, ("docker", "run"))
    )
    run = next(c for c in lp.run_commands(step) if c[:2] == ["docker", "run"])
    env = ct.docker_run_env(run, step.get("env") or {})
    words = run[run.index("${IMAGE}") + 1 :]
    plan = entrypoint.plan(["--", *words], env)
    assert plan.argv[:4] == ("mlc-devops", "build", "--source", "/workspace")
    args = cli.build_parser("build").parse_args(list(plan.argv[1:]))
    resolved = options.resolve(_args.flags(args), env, cores=2, memory=8 * 2**30)
    assert {"cuda", "cublas", "vulkan"} <= set(resolved.config.backends)
    # The architectures are written out in the workflow, and they are the preset's.
    assert ";".join(resolved.config.cuda_architectures) == options.PRESETS["cuda"]["cuda_arch"]
    assert resolved.repair is True
    assert resolved.cache == "ccache"
    assert env["PATH"].split(":")[0] == "/usr/local/cuda/bin"


def test_cuda_toolkit_version_targets_the_presets_architectures(workflow: lp.Doc) -> None:
    """sm_100 and sm_120 (in the cuda preset) need nvcc 12.8 or newer."""
    from mlc_devops import options

    major, minor = (int(p) for p in str(workflow.data["env"]["CUDA_VERSION"]).split("."))
    archs = options.PRESETS["cuda"]["cuda_arch"].split(";")
    if {"100", "120"} & set(archs):
        assert (major, minor) >= (12, 8)


def test_smoke_gpu_runs_on_the_gpu_runner_when_enabled(workflow: lp.Doc) -> None:
    assert ct.check_smoke_gpu(workflow) == []
    body = ct.job(workflow, "smoke-gpu")
    assert body["runs-on"] == ["self-hosted", "linux", "x64", "gpu"]
    assert body["if"] == "vars.ENABLE_GPU_SMOKE == 'true'"
    assert body["permissions"] == {"contents": "read"}


def test_the_cuda_wheel_is_not_a_release_asset(workflow: lp.Doc) -> None:
    """release downloads its wheels by name; no pattern of it matches wheel-linux-cuda."""
    assert ct.check_release(workflow) == []
    downloads = ct.steps_using(ct.job(workflow, "release"), "actions/download-artifact")
    assert {lp.with_(s).get("name") for s in downloads} == {"wheel-linux", "wheel-windows", "image-sbom"}
    assert not any("pattern" in lp.with_(s) for s in downloads)


def test_actionlint_knows_the_gpu_runner_label(root: Path, workflow: lp.Doc) -> None:
    """.github/actionlint.yaml declares the custom label smoke-gpu's runner has (self-hosted, linux, x64 are built in)."""
    config = lp.load_yaml((root / ".github/actionlint.yaml").read_text(encoding="utf-8"))
    labels = set(config["self-hosted-runner"]["labels"])
    assert labels == set(ct.job(workflow, "smoke-gpu")["runs-on"]) - {"self-hosted", "linux", "x64"} == {"gpu"}


def test_release_assets_are_uploaded_by_the_builds(workflow: lp.Doc) -> None:
    assert ct.check_release_assets(workflow) == []


def test_lint_job_runs_the_lint_command(workflow: lp.Doc) -> None:
    assert ct.check_lint_job(workflow) == []


def test_composite_action_used_by_test_and_wheel_windows(workflow: lp.Doc) -> None:
    assert ct.check_composite_used(workflow) == []


def test_whole_contract(workflow: lp.Doc, action: lp.Doc) -> None:
    assert ct.check_contract(workflow, action) == []


# --------------------------------------------------------------------------
# Security policy (mlc-devops lint runs the same checks as `pipeline`)
# --------------------------------------------------------------------------


def test_default_token_is_read_only(workflow: lp.Doc) -> None:
    assert lp.check_top_permissions(workflow) == []
    assert workflow.data["permissions"] == {"contents": "read"}


def test_writes_granted_per_job_only_where_needed(workflow: lp.Doc) -> None:
    assert lp.check_job_permissions(workflow) == []


def test_actions_pinned_to_full_commit_shas(workflow: lp.Doc, action: lp.Doc) -> None:
    assert lp.check_pins(workflow.text) == []
    assert lp.check_pins(action.text) == []


def test_pins_are_the_reviewed_releases(workflow: lp.Doc, action: lp.Doc) -> None:
    assert lp.check_reviewed_pins(workflow.text) == []
    assert lp.check_reviewed_pins(action.text) == []
    used = {a for t in (workflow.text, action.text) for _, a, _, _ in lp.uses_lines(t)}
    assert used == set(lp.REVIEWED_PINS), "REVIEWED_PINS lists an action nothing uses"


def test_checkout_does_not_persist_credentials(workflow: lp.Doc, action: lp.Doc) -> None:
    assert lp.check_checkout_credentials(workflow) == []
    assert lp.check_checkout_credentials(action) == []
    assert sum(1 for _, _, s in lp.all_steps(workflow) if lp.action_of(s) == "actions/checkout") >= 8


def test_no_expressions_in_run_steps(workflow: lp.Doc, action: lp.Doc) -> None:
    assert lp.check_template_injection(workflow) == []
    assert lp.check_template_injection(action) == []


def test_run_steps_call_mlc_devops(workflow: lp.Doc, action: lp.Doc) -> None:
    assert lp.check_run_steps(workflow) == []
    assert lp.check_run_steps(action) == []
    # Every job but test (which runs the test suite) does its work through the tool.
    idle = [j for j in ct.ALL_JOBS if j != "test" and not ct.has_command(ct.job(workflow, j), ("mlc-devops",))]
    assert idle == []


def test_secrets_only_in_the_step_that_uses_them(workflow: lp.Doc, action: lp.Doc) -> None:
    assert lp.check_secrets(workflow) == []
    assert lp.check_secrets(action) == []
    used = {s for _, v in lp._strings(workflow.data) for s in re.findall(r"secrets\.(\w+)", v)}
    assert used == {
        "SCCACHE_BUCKET",
        "SCCACHE_REGION",
        "SCCACHE_S3_KEY_PREFIX",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
    }


def test_policy_as_lint_checks_it(root: Path) -> None:
    assert lp.check_policy(root) == []


# --------------------------------------------------------------------------
# Each run: step calls something the test suite exercises
# --------------------------------------------------------------------------

# Values for the variables that run: steps read (GitHub and the workflow env).
SAMPLE_ENV = {
    "GITHUB_REF": "refs/tags/v0.20.0",
    "GITHUB_REF_NAME": "v0.20.0",
    "GITHUB_SHA": ct.SPEC_SHA,
    "IMAGE": "ghcr.io/mlc-ai/mlc-llm:sha-0123456",
    "PYTHON_VERSION": "3.13",
    "RUST_TOOLCHAIN": "1.85.0",
    "wheel": "dist/mlc_llm-0.20.0-cp313-cp313-linux_x86_64.whl",
}


def _expand(word: str) -> str:
    return re.sub(r"\$\{(\w+)\}", lambda m: SAMPLE_ENV.get(m.group(1), m.group(0)), word)


def _tool_calls(doc: lp.Doc) -> list[list[str]]:
    return [
        [_expand(w) for w in cmd]
        for _, _, step in lp.all_steps(doc)
        for cmd in lp.run_commands(step)
        if cmd[0] == "mlc-devops"
    ]


def _tool_call_ids(calls: list[list[str]]) -> list[str]:
    return [" ".join(c[1:3]) for c in calls]


_CALLS = _tool_calls(lp.Doc.read(Path(__file__).resolve().parents[2] / lp.WORKFLOW))


@pytest.mark.parametrize("argv", _CALLS, ids=_tool_call_ids(_CALLS))
def test_every_tool_call_in_the_workflow_parses(argv: list[str]) -> None:
    """Each `mlc-devops ...` of a run: step is a command and options the CLI accepts."""
    command = argv[1]
    assert command in cli.COMMANDS, f"mlc-devops has no command {command!r}"
    parser = cli.build_parser(command)
    try:
        parser.parse_args(argv[1:])
    except SystemExit as exc:  # argparse's way of saying no
        pytest.fail(f"`{' '.join(argv)}` does not parse (exit {exc.code})")


def test_the_workflow_calls_each_pipeline_command() -> None:
    called = {c[1] for c in _CALLS} | {c[1] + " " + c[2] for c in _CALLS if c[1] == "image"}
    for command in (
        "lint",
        "image tags",
        "image build",
        "sbom",
        "attest",
        "doctor",
        "build",
        "smoke",
        "release",
        "checksums",
    ):
        assert command in called, f"no run: step calls mlc-devops {command}"


def test_docker_run_goes_through_the_entrypoint_to_build(workflow: lp.Doc) -> None:
    """wheel-linux's `docker run IMAGE build` is `mlc-devops entrypoint -- build` in the image."""
    from mlc_devops import options
    from mlc_devops.commands import _args, entrypoint

    run = next(c for c in ct.commands_in(ct.job(workflow, "wheel-linux")) if c[:2] == ["docker", "run"])
    env = dict(run[i + 1].split("=", 1) for i, word in enumerate(run) if word == "-e")
    words = run[run.index("${IMAGE}") + 1 :]
    plan = entrypoint.plan(["--", *words], env)
    assert plan.mode == "build"
    assert plan.argv[:4] == ("mlc-devops", "build", "--source", "/workspace")
    args = cli.build_parser("build").parse_args(list(plan.argv[1:]))
    resolved = options.resolve(_args.flags(args), env, cores=2, memory=8 * 2**30)
    assert "vulkan" in resolved.config.backends
    assert resolved.repair is True
    assert resolved.cache == "ccache"
    assert str(resolved.dist_dir) == "/workspace/dist"


def test_tag_rules_are_the_tools(workflow: lp.Doc) -> None:
    """ci.yml's metadata-action rules are the ones `mlc-devops image tags` applies."""
    from mlc_devops.container import tags as image_tags

    meta = lp.with_(ct.step_by_id(ct.job(workflow, "docker"), "meta"))
    assert tuple(ct.lines_of(meta["tags"])) == image_tags.SPEC_TAG_RULES
    assert tuple(ct.lines_of(meta["flavor"])) == image_tags.SPEC_FLAVOR


@pytest.mark.parametrize("ref", sorted(ct.SPEC_TAGS))
def test_image_tags_command_prints_the_spec_tags(ref: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["image", "tags", "--ref", ref, "--sha", ct.SPEC_SHA, "--default-branch", "main"])
    assert code == 0
    printed = {line.strip() for line in capsys.readouterr().out.splitlines() if line.strip()}
    assert printed == ct.SPEC_TAGS[ref]


# --------------------------------------------------------------------------
# The shell reader the run: checks stand on
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("script", "commands"),
    [
        ("mlc-devops lint", [["mlc-devops", "lint"]]),
        ("A=1 mlc-devops build --source . # comment", [["mlc-devops", "build", "--source", "."]]),
        ("a && b || c; d | e", [["a"], ["b"], ["c"], ["d"], ["e"]]),
        ("docker run \\\n  -e X=1 \\\n  img build", [["docker", "run", "-e", "X=1", "img", "build"]]),
        ('for w in dist/*.whl; do\n  cosign sign-blob "${w}"\ndone', [["cosign", "sign-blob", "${w}"]]),
        ("if true; then curl x | sh; fi", [["if", "true"], ["curl", "x"], ["sh"]]),
        ("echo 'a;b' \"c && d\"", [["echo", "a;b", "c && d"]]),
    ],
)
def test_shell_commands(script: str, commands: list[list[str]]) -> None:
    assert lp.shell_commands(script) == commands


def test_logic_in_a_run_step_is_not_allowed() -> None:
    doc = lp.Doc.parse("jobs:\n  x:\n    steps:\n      - run: if [ -f a ]; then mlc-devops lint; fi\n")
    problems = lp.check_run_steps(doc)
    assert problems and "'if [ -f a'" in problems[0]


def test_yaml_reads_on_as_a_key_not_a_boolean() -> None:
    assert lp.load_yaml("on:\n  push: {}\nyes: no\nx: true\n") == {"on": {"push": {}}, "yes": "no", "x": True}


def test_rust_crates_are_cached_in_the_image_and_the_pipeline(workflow: lp.Doc, dockerfile_text: str) -> None:
    """Issue 12: sccache (pinned) in the image with its directory in the workspace; the Linux jobs' cache
    steps keep .sccache beside .ccache and the build in the image is told where; Windows' .sccache (C/C++
    and Rust through sccache) is keyed by the Cargo manifests too."""
    assert '"sccache==${SCCACHE_VERSION}"' in dockerfile_text
    assert "SCCACHE_DIR=/workspace/.sccache" in dockerfile_text
    docker = lp.with_(ct._docker_build_step(workflow))
    assert "SCCACHE_VERSION=${{ env.SCCACHE_VERSION }}" in ct.lines_of(docker.get("build-args"))
    for name in ("wheel-linux", "wheel-cuda", "wheel-windows"):
        steps = ct.steps_using(ct.job(workflow, name), "actions/cache")
        paths = " ".join(str(lp.with_(s).get("path", "")) for s in steps)
        keys = " ".join(str(lp.with_(s).get("key", "")) for s in steps)
        assert "mlc-llm/.sccache" in paths and "Cargo.toml" in keys, name
    for name in ("wheel-linux", "wheel-cuda"):
        assert "-e SCCACHE_DIR=/workspace/.sccache" in str(ct.job(workflow, name)), name
