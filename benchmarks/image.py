"""Benchmark, not a test: the image's size, its cold build time, and its rebuild time after a change to the tool.

    python benchmarks/image.py [--rust-source debian] [--base-image mlc-devops/base:trixie] [--json]

Needs a Docker engine (`mlc-devops image engine start`) and, offline from
registries, a local base image (`mlc-devops image base --suite trixie`), which
is what the defaults use. Every build goes through `mlc-devops image build`,
as CI's does. The figures in docs/container.md come from here.

- cold: `--no-cache`, so every layer is built (the base image is local, not pulled);
- size: `docker image inspect`'s Size of the result;
- tool-only rebuild: a copy of the build context whose src/mlc_devops/__init__.py
  differs by a comment, built with the cache: what a commit to the tool costs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mlc_devops.container import engine as docker_engine
from mlc_devops.container import image as docker_build

REPO = Path(__file__).resolve().parents[1]
TAG = "mlc-llm-dev:bench"


def build(extra: list[str], env: dict[str, str]) -> dict[str, object]:
    cmd = [sys.executable, "-m", "mlc_devops", "image", "build", "--json", *extra]
    started = time.monotonic()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL)
    wall = time.monotonic() - started
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-4000:])
        raise SystemExit(f"image build failed with exit code {proc.returncode}")
    report: dict[str, object] = json.loads(proc.stdout)
    report["wall_seconds"] = round(wall, 1)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base-image", default="mlc-devops/base:trixie")
    parser.add_argument("--rust-source", default="debian", choices=docker_build.RUST_SOURCES)
    parser.add_argument("--builder", default="classic", choices=("classic", "buildkit"))
    parser.add_argument("--ca-cert", default="/etc/ssl/certs/ca-certificates.crt", help="'' for none")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    env = dict(os.environ)
    if not env.get("DOCKER_HOST"):
        ours = docker_engine.Engine.from_env(env)
        if ours.socket.exists():
            env["DOCKER_HOST"] = ours.host
    if docker_engine.engine_answers(env) is None:
        raise SystemExit("no Docker engine answers: run `mlc-devops image engine start` first")

    common = [
        "--tag", TAG, "--base-image", args.base_image, "--rust-source", args.rust_source,
        "--network", "host", "--builder", args.builder, "--revision", "0" * 40,
    ]  # fmt: skip
    if args.ca_cert:
        common += ["--ca-cert", args.ca_cert]

    results: dict[str, object] = {
        "schema": "mlc-devops/bench-image/v1",
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "base_image": args.base_image,
        "rust_source": args.rust_source,
        "builder": args.builder,
    }
    cold = build(["--context", str(REPO), "--no-cache", *common], env)
    results["cold_build_seconds"] = cold["seconds"]
    results["size_bytes"] = cold["size_bytes"]
    warm = build(["--context", str(REPO), *common], env)
    results["no_change_rebuild_seconds"] = warm["seconds"]
    with tempfile.TemporaryDirectory(prefix="mlc-bench-ctx-") as tmp:
        context = docker_build.stage_context(REPO, Path(tmp) / "ctx")
        init = context / "src" / "mlc_devops" / "__init__.py"
        init.write_text(init.read_text() + f"# benchmark change {time.time()}\n")
        tool = build(["--context", str(context), *common], env)
    results["tool_change_rebuild_seconds"] = tool["seconds"]

    subprocess.run(["docker", "rmi", TAG], env=env, capture_output=True, check=False)
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        size = int(str(results["size_bytes"]))
        print(f"machine:                       {results['machine']}")
        print(f"base / rust / builder:         {args.base_image} / {args.rust_source} / {args.builder}")
        print(f"image size:                    {size / 1e9:.2f} GB ({size / 2**30:.2f} GiB)")
        print(f"cold build (--no-cache):       {results['cold_build_seconds']} s")
        print(f"rebuild, nothing changed:      {results['no_change_rebuild_seconds']} s")
        print(f"rebuild after a tool change:   {results['tool_change_rebuild_seconds']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
