"""What the local stand-ins of ci.yml's third-party actions do under act (docs/pipeline.md).

Standard library only: the runner image (docker/act-runner) carries this file
as /opt/mlc-act/act_standin.py and the composite actions under act/actions
call it with the image's python3, before or without mlc-devops installed:

    python3 /opt/mlc-act/act_standin.py <action> (inputs come as INPUT_* variables)

Every stand-in says in its output what it did instead of the real action.
``mlc-devops image build`` takes the machine's side of a build (the local base,
Debian's Rust, the host network, the classic builder, the CA bundle) from the
``MLC_IMAGE_*`` variables that the run sets for every job, as wheel-linux's own
``image build`` step does on a pull request. Settings of the local run (from
``mlc-devops pipeline run``, through act's --env):

- ``ACT_LOCAL_REPOSITORIES``: ``owner/name=/path`` pairs, ``;``-separated, that checkout clones from;
- ``ACT_REGISTRY``: the local registry (``127.0.0.1:PORT``) that stands in for every registry host;
- ``ACT_COSIGN_KEY``: where the test key pair lives (made on first use).
"""

from __future__ import annotations

import base64
import fnmatch
import glob
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.request
import zipfile
from collections.abc import Sequence
from pathlib import Path

PREFIX = "[act stand-in]"


def say(message: str) -> None:
    print(f"{PREFIX} {message}", flush=True)


def inp(name: str, default: str = "") -> str:
    """An action input, as the stand-in's action.yml passes it: INPUT_<NAME>, upper case, - as _."""
    return os.environ.get("INPUT_" + re.sub(r"[^A-Za-z0-9]", "_", name).upper(), default).strip()


def lines(value: str) -> list[str]:
    return [line.strip() for line in value.splitlines() if line.strip() and not line.strip().startswith("#")]


def truthy(value: str) -> bool:
    return value.strip().lower() == "true"


def set_output(name: str, value: str) -> None:
    path = os.environ.get("GITHUB_OUTPUT")
    if not path:
        print(f"{name}={value}")
        return
    with Path(path).open("a", encoding="utf-8") as out:
        if "\n" in value:
            out.write(f"{name}<<__ACT_STANDIN_EOF__\n{value}\n__ACT_STANDIN_EOF__\n")
        else:
            out.write(f"{name}={value}\n")


def add_path(folder: str) -> None:
    path = os.environ.get("GITHUB_PATH")
    if path:
        with Path(path).open("a", encoding="utf-8") as out:
            out.write(folder + "\n")


def run(cmd: Sequence[str], **kw: object) -> subprocess.CompletedProcess[str]:
    say("$ " + " ".join(cmd))
    return subprocess.run(list(cmd), check=True, text=True, **kw)  # type: ignore[call-overload, no-any-return]


def workspace() -> Path:
    return Path(os.environ.get("GITHUB_WORKSPACE") or Path.cwd())


# ---------------------------------------------------------------- setup-python


def setup_python() -> int:
    wanted = inp("python-version")
    have = "{}.{}.{}".format(*sys.version_info[:3])
    if wanted and not (have == wanted or have.startswith(wanted + ".")):
        say(f"setup-python: asked for Python {wanted}, the runner image has {have}: using {have}")
    tool_cache = Path(os.environ.get("RUNNER_TOOL_CACHE") or "/opt/hostedtoolcache")
    venv = tool_cache / "Python" / have / "x64"
    if not (venv / "bin" / "python").exists():
        run([sys.executable, "-m", "venv", str(venv)])
    add_path(str(venv / "bin"))
    set_output("python-version", have)
    set_output("python-path", str(venv / "bin" / "python"))
    set_output("cache-hit", "false")
    say(
        f"setup-python: the runner image's Python {have} (Debian), in a virtual environment at {venv}; "
        "nothing downloaded"
    )
    return 0


# ---------------------------------------------------------------- checkout


def local_repositories() -> dict[str, str]:
    pairs = {}
    for item in os.environ.get("ACT_LOCAL_REPOSITORIES", "").split(";"):
        if "=" in item:
            name, path = item.split("=", 1)
            pairs[name.strip().lower()] = path.strip()
    return pairs


def git(*args: str, cwd: Path | None = None) -> str:
    proc = subprocess.run(
        ["git", "-c", "protocol.file.allow=always", "-c", "safe.directory=*", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    )
    return proc.stdout.strip()


def checkout() -> int:
    repository = inp("repository") or os.environ.get("GITHUB_REPOSITORY", "")
    ref = inp("ref")
    dest = workspace() / inp("path") if inp("path") else workspace()
    if repository.lower() == os.environ.get("GITHUB_REPOSITORY", "").lower():
        say(f"checkout: {repository} is this repository, already in the workspace ({workspace()})")
        set_output("commit", os.environ.get("GITHUB_SHA", ""))
        set_output("ref", os.environ.get("GITHUB_REF", ""))
        return 0
    source = local_repositories().get(repository.lower())
    if source is None:
        say(f"checkout: no local copy of {repository} (ACT_LOCAL_REPOSITORIES); nothing is fetched from GitHub")
        return 1
    if dest.exists():
        shutil.rmtree(dest)
    git("clone", "--quiet", "--no-hardlinks", source, str(dest))
    chosen = ref
    if ref:
        try:
            git("checkout", "--quiet", ref, cwd=dest)
        except subprocess.CalledProcessError:
            chosen = "HEAD"
            say(f"checkout: ref {ref} is not in the local copy of {repository}: kept its HEAD")
    if inp("submodules") in ("true", "recursive") and (dest / ".gitmodules").exists():
        git("submodule", "update", "--init", "--recursive", cwd=dest)
    commit = git("rev-parse", "HEAD", cwd=dest)
    if os.geteuid() == 0:
        # act's job runs as root; GitHub's runner user (UID 1001) owns its checkouts, and the
        # build image's entrypoint runs as the workspace's owner (it refuses a root-owned one).
        uid = int(os.environ.get("ACT_RUNNER_UID", "1001"))
        for folder, _dirs, names in os.walk(dest):
            for item in [folder, *(os.path.join(folder, n) for n in names)]:  # noqa: PTH118
                os.lchown(item, uid, uid)
        say(f"checkout: {dest} owned by UID {uid}, as the runner user owns checkouts on GitHub")
    say(f"checkout: {repository} cloned from the local copy {source} at {chosen or 'HEAD'} ({commit}) into {dest}")
    set_output("commit", commit)
    set_output("ref", chosen)
    return 0


# ---------------------------------------------------------------- cache


def cache() -> int:
    say(
        f"cache: key {inp('key')!r}: no cache service under act, nothing restored or saved "
        f"(lookup-only={inp('lookup-only') or 'false'})"
    )
    set_output("cache-hit", "false")
    set_output("cache-primary-key", inp("key"))
    set_output("cache-matched-key", "")
    return 0


# ---------------------------------------------------------------- artifacts (act's server, protocol v4)

SERVICE = "twirp/github.actions.results.api.v1.ArtifactService/"


def backend_ids() -> tuple[str, str]:
    """The run and job ids in ACTIONS_RUNTIME_TOKEN's ``Actions.Results:RUN:JOB`` scope."""
    token = os.environ.get("ACTIONS_RUNTIME_TOKEN", "")
    parts = token.split(".")
    if len(parts) >= 2:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
        for scope in str(payload.get("scp", "")).split():
            if scope.startswith("Actions.Results:"):
                _, run_id, job_id = scope.split(":", 2)
                return run_id, job_id
    return "1", "1"


def results_url() -> str:
    url = os.environ.get("ACTIONS_RESULTS_URL") or os.environ.get("ACTIONS_RUNTIME_URL")
    if not url:
        raise SystemExit(f"{PREFIX} no artifact server: run act with --artifact-server-path")
    return url.rstrip("/") + "/"


def twirp(method: str, body: dict[str, object]) -> dict[str, object]:
    request = urllib.request.Request(  # noqa: S310 - act's local server
        results_url() + SERVICE + method,
        data=json.dumps(body).encode(),
        headers={
            "Content-Type": "application/json",
            "Authorization": "Bearer " + os.environ.get("ACTIONS_RUNTIME_TOKEN", ""),
        },
        method="POST",
    )
    with urllib.request.urlopen(request) as reply:  # noqa: S310
        return json.loads(reply.read() or b"{}")  # type: ignore[no-any-return]


def upload_root(files: Sequence[Path]) -> Path:
    """upload-artifact's root: the longest common folder of the files found."""
    return Path(os.path.commonpath([str(f.parent) for f in files]))


def find_files(patterns: Sequence[str], base: Path) -> list[Path]:
    include = [p for p in patterns if not p.startswith("!")]
    exclude = [p[1:] for p in patterns if p.startswith("!")]
    found: dict[str, Path] = {}
    for pattern in include:
        full = pattern if Path(pattern).is_absolute() else str(base / pattern)
        for match in sorted(glob.glob(full, recursive=True)):  # noqa: PTH207 - absolute patterns too
            path = Path(match)
            items = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
            for item in items:
                rel = os.path.relpath(item, base)
                if not any(fnmatch.fnmatch(rel, ex) for ex in exclude):
                    found[str(item)] = item
    return list(found.values())


def upload_artifact() -> int:
    name = inp("name", "artifact") or "artifact"
    files = find_files(lines(inp("path")), workspace())
    if not files:
        policy = inp("if-no-files-found", "warn") or "warn"
        message = f"upload-artifact: no files match {lines(inp('path'))} for artifact {name!r}"
        if policy == "error":
            print(f"::error::{message}")
            return 1
        say(message)
        return 0
    root = upload_root(files)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for item in files:
            archive.write(item, os.path.relpath(item, root))
    run_id, job_id = backend_ids()
    created = twirp(
        "CreateArtifact",
        {"workflowRunBackendId": run_id, "workflowJobRunBackendId": job_id, "name": name, "version": 4},
    )
    url = str(created["signedUploadUrl"]) + "&comp=block"
    data = buffer.getvalue()
    put = urllib.request.Request(url, data=data, method="PUT", headers={"Content-Type": "application/zip"})  # noqa: S310
    with urllib.request.urlopen(put):  # noqa: S310
        pass
    digest = hashlib.sha256(data).hexdigest()
    finalized = twirp(
        "FinalizeArtifact",
        {
            "workflowRunBackendId": run_id,
            "workflowJobRunBackendId": job_id,
            "name": name,
            "size": str(len(data)),
            "hash": "sha256:" + digest,  # a google.protobuf.StringValue: a plain string in JSON
        },
    )
    listing = ", ".join(os.path.relpath(f, root) for f in files)
    say(f"upload-artifact: {name} ({len(files)} files, {len(data)} bytes, to act's artifact server): {listing}")
    set_output("artifact-id", str(finalized.get("artifactId", "")))
    set_output("artifact-digest", digest)
    set_output("artifact-url", "")
    return 0


def download_artifact() -> int:
    name = inp("name")
    dest = workspace() / inp("path") if inp("path") else workspace()
    run_id, job_id = backend_ids()
    listed = twirp("ListArtifacts", {"workflowRunBackendId": run_id, "workflowJobRunBackendId": job_id})
    names = [str(a["name"]) for a in listed.get("artifacts", [])]  # type: ignore[attr-defined]
    wanted = [name] if name else names
    for item in wanted:
        if item not in names:
            print(
                f"::error::download-artifact: no artifact {item!r} in this run "
                f"(there are: {', '.join(names) or 'none'})"
            )
            return 1
        signed = twirp(
            "GetSignedArtifactURL",
            {"workflowRunBackendId": run_id, "workflowJobRunBackendId": job_id, "name": item},
        )
        with urllib.request.urlopen(str(signed["signedUrl"])) as reply:  # noqa: S310
            data = reply.read()
        target = dest if name else dest / item
        target.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            archive.extractall(target)
            say(f"download-artifact: {item} into {target}: {', '.join(archive.namelist())}")
    set_output("download-path", str(dest))
    return 0


# ---------------------------------------------------------------- docker actions


def local_ref(ref: str) -> str:
    """A registry reference with its registry host replaced by ACT_REGISTRY."""
    registry = os.environ.get("ACT_REGISTRY", "127.0.0.1:5000")
    first, _, rest = ref.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        return f"{registry}/{rest}"
    return f"{registry}/{ref}"


def login() -> int:
    say(
        f"login-action: no login to {inp('registry') or 'Docker Hub'}: pushes go to the local registry "
        f"{os.environ.get('ACT_REGISTRY', '127.0.0.1:5000')}, which needs none"
    )
    return 0


def setup_buildx() -> int:
    say("setup-buildx-action: no buildx builder; build-push's stand-in uses the engine's classic builder")
    set_output("name", "default")
    set_output("driver", "docker")
    set_output("platforms", "linux/amd64")
    return 0


def metadata() -> int:
    images = lines(inp("images"))
    ref = os.environ.get("GITHUB_REF", "")
    sha = os.environ.get("GITHUB_SHA", "")
    cmd = ["mlc-devops", "image", "tags", "--ref", ref, "--sha", sha, "--json"]
    for image in images:
        cmd += ["--image", image.lower()]
    for rule in lines(inp("tags")):
        cmd += ["--rule", rule]
    for flavor in lines(inp("flavor")):
        cmd += ["--flavor", flavor]
    if shutil.which("mlc-devops") is None:
        say("metadata-action: mlc-devops is not installed in this job before metadata-action")
        return 1
    report = json.loads(run(cmd, capture_output=True).stdout)
    tags = [str(t) for t in report["tags"]]
    version = tags[0].rsplit(":", 1)[-1] if tags else ""
    labels = [
        f"org.opencontainers.image.revision={sha}",
        f"org.opencontainers.image.version={version}",
    ]
    set_output("tags", "\n".join(tags))
    set_output("labels", "\n".join(labels))
    set_output("version", version)
    set_output("json", json.dumps({"tags": tags, "labels": dict(label.split("=", 1) for label in labels)}))
    say(f"metadata-action: tags from `mlc-devops image tags`: {' '.join(tags) or '(none)'}")
    return 0


BUILD_ARG_FLAGS = {
    "PYTHON_VERSION": "--python-version",
    "RUST_TOOLCHAIN": "--rust-toolchain",
    "VERSION": "--label-version",
    "REVISION": "--revision",
}


def build_push() -> int:
    context = inp("context", ".") or "."
    tags = lines(inp("tags").replace(",", "\n"))
    # The base, Rust source, network, builder and CA certificates: MLC_IMAGE_* (see the module's docstring).
    cmd = ["mlc-devops", "image", "build", "--context", context]
    if inp("file"):
        cmd += ["--file", inp("file")]
    for tag in tags:
        cmd += ["--tag", tag]
    for line in lines(inp("build-args")):
        key, _, value = line.partition("=")
        if key in BUILD_ARG_FLAGS and value:
            cmd += [BUILD_ARG_FLAGS[key], value]
        elif value:
            say(f"build-push-action: build argument {key} is not passed (the tool sets its own)")
    if truthy(inp("no-cache")):
        cmd.append("--no-cache")
    if inp("cache-from") or inp("cache-to"):
        say("build-push-action: cache-from/cache-to (type=gha) ignored: the engine's own layer cache is used")
    run(cmd)
    image_id = run(["docker", "image", "inspect", "--format", "{{.Id}}", tags[0]], capture_output=True).stdout.strip()
    digest = ""
    if truthy(inp("push")):
        for tag in tags:
            target = local_ref(tag)
            run(["docker", "tag", tag, target])
            out = run(["docker", "push", target], capture_output=True).stdout
            found = re.search(r"digest: (sha256:[0-9a-f]{64})", out)
            if found:
                digest = found.group(1)
            say(f"build-push-action: pushed {tag} as {target} (local registry, not {tag.split('/')[0]})")
    else:
        say("build-push-action: push=false: the image stays in the engine only")
    set_output("imageid", image_id)
    set_output("digest", digest or image_id)
    set_output("metadata", json.dumps({"containerimage.digest": digest, "image.name": ",".join(tags)}))
    return 0


# ---------------------------------------------------------------- cosign, attest (keyed, with a test key)


def cosign_key() -> Path:
    folder = Path(
        os.environ.get("ACT_COSIGN_KEY") or Path(os.environ.get("RUNNER_TEMP") or tempfile.gettempdir()) / "act-cosign"
    )
    key = folder / "cosign.key"
    if not key.exists():
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["/usr/bin/cosign", "generate-key-pair"],
            cwd=folder,
            env={**os.environ, "COSIGN_PASSWORD": ""},
            check=True,
            capture_output=True,
        )
    return key


KEYLESS_ONLY = {"--yes", "-y"}


def cosign(args: Sequence[str]) -> int:
    """cosign, keyless calls made keyed with the test key; image references go to the local registry."""
    if not args or args[0] not in ("sign", "sign-blob", "attest-blob", "attest"):
        return subprocess.call(["/usr/bin/cosign", *args])
    command, rest = args[0], [a for a in args[1:] if a not in KEYLESS_ONLY]
    extra = ["--key", str(cosign_key()), "--tlog-upload=false", "--yes"]
    if command in ("sign", "attest"):
        rest = [local_ref(a) if "@sha256:" in a else a for a in rest]
        extra.append("--allow-insecure-registry")
    say(
        f"cosign {command}: KEYED signature with a test key ({cosign_key().with_suffix('.pub')}), "
        "not keyless: there is no Sigstore (Fulcio, Rekor) here"
    )
    env = {**os.environ, "COSIGN_PASSWORD": ""}
    return subprocess.call(["/usr/bin/cosign", command, *extra, *rest], env=env)


def cosign_installer() -> int:
    add_path("/opt/mlc-act/cosign-bin")
    say("cosign-installer: the runner image's cosign (Debian); `cosign` signs with a test key instead of keyless")
    return 0


def attest() -> int:
    out_dir = Path(os.environ.get("RUNNER_TEMP") or tempfile.gettempdir()) / "act-attestations"
    out_dir.mkdir(parents=True, exist_ok=True)
    sbom = inp("sbom-path")
    predicate_type = "cyclonedx" if sbom else "slsaprovenance1"
    predicate = Path(sbom) if sbom else out_dir / "predicate.json"
    if not sbom:
        predicate.write_text(
            json.dumps(
                {
                    "buildDefinition": {
                        "buildType": "https://actions.github.io/buildtypes/workflow/v1",
                        "externalParameters": {
                            "workflow": {
                                "ref": os.environ.get("GITHUB_REF", ""),
                                "repository": os.environ.get("GITHUB_REPOSITORY", ""),
                            }
                        },
                    },
                    "runDetails": {"builder": {"id": "act (local run)"}},
                }
            ),
            encoding="utf-8",
        )
    bundles = []
    subjects = find_files(lines(inp("subject-path").replace(",", "\n")), workspace()) if inp("subject-path") else []
    for subject in subjects:
        bundle = out_dir / (subject.name + ".intoto.sigstore.json")
        rc = cosign(
            [
                "attest-blob",
                "--type",
                predicate_type,
                "--predicate",
                str(predicate),
                "--bundle",
                str(bundle),
                str(subject),
            ]
        )
        if rc != 0:
            return rc
        bundles.append(str(bundle))
    if inp("subject-name") and inp("subject-digest"):
        ref = f"{inp('subject-name').lower()}@{inp('subject-digest')}"
        if truthy(inp("push-to-registry")):
            rc = cosign(["attest", "--type", predicate_type, "--predicate", str(predicate), ref])
            if rc != 0:
                return rc
            bundles.append(local_ref(ref))
        else:
            say(f"attest: {ref}: push-to-registry is false, nothing stored")
    if not bundles:
        say("attest: no subject")
        return 1
    say(
        f"attest: {predicate_type} attestation(s), KEYED with the test key, not GitHub's (Sigstore keyless): "
        + " ".join(bundles)
    )
    set_output("bundle-path", bundles[0])
    set_output("attestation-id", "")
    set_output("attestation-url", "")
    return 0


# ---------------------------------------------------------------- gh, rustup (commands on GitHub's image)


def gh(args: Sequence[str]) -> int:
    if list(args[:2]) != ["release", "create"] or len(args) < 3:
        print(f"{PREFIX} gh {' '.join(args)}: only `gh release create` has a local stand-in", file=sys.stderr)
        return 1
    tag = args[2]
    files = [a for a in args[3:] if not a.startswith("-") and Path(a).is_file()]
    dest = workspace() / ".act-gh-release" / tag
    dest.mkdir(parents=True, exist_ok=True)
    for item in files:
        shutil.copy2(item, dest / Path(item).name)
    say(f"gh release create {tag}: NOT published (no GitHub here); {len(files)} assets recorded in {dest}")
    return 0


def rustup(args: Sequence[str]) -> int:
    rustc = shutil.which("rustc")
    have = (
        subprocess.run([rustc, "--version"], capture_output=True, text=True, check=False).stdout.strip()
        if rustc
        else "none"
    )
    say(
        f"rustup {' '.join(args)}: nothing installed (no network to static.rust-lang.org); the runner image's "
        f"rustc: {have}. Under act, Rust is compiled in the build image (wheel-linux)"
    )
    return 0


ACTIONS = {
    "setup-python": setup_python,
    "checkout": checkout,
    "cache": cache,
    "upload-artifact": upload_artifact,
    "download-artifact": download_artifact,
    "login": login,
    "setup-buildx": setup_buildx,
    "metadata": metadata,
    "build-push": build_push,
    "cosign-installer": cosign_installer,
    "attest": attest,
}
COMMANDS = {"cosign": cosign, "gh": gh, "rustup": rustup}


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(f"usage: act_standin.py {{{','.join([*ACTIONS, *COMMANDS])}}} [ARGS]")
        return 0
    if args[0] in ACTIONS:
        return ACTIONS[args[0]]()
    if args[0] in COMMANDS:
        return COMMANDS[args[0]](args[1:])
    print(f"{PREFIX} unknown stand-in {args[0]!r}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
