"""``mlc-devops pipeline run``: the CI workflow under act, on this machine, offline (docs/pipeline.md)."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

from mlc_devops import pipeline


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="pipeline_action", metavar="run")
    sub.required = True
    run = sub.add_parser("run", help="run one event through .github/workflows/ci.yml under act")
    run.add_argument(
        "--event", required=True, choices=pipeline.EVENTS, help="push to main, a pull request, or a v* tag"
    )
    run.add_argument("--repo", type=Path, help="the mlc-devops checkout (default: the one around this folder)")
    run.add_argument("--workflow", type=Path, help="run this file as ci.yml instead (e.g. a deliberately broken copy)")
    run.add_argument(
        "--work-dir", type=Path, help="where the run's copies, artifacts and log go (default: a new temp dir)"
    )
    run.add_argument("--job", "-j", action="append", default=[], help="run only this job (act -j), repeatable")
    run.add_argument(
        "--pytest-args",
        default="tests/unit/test_cli.py",
        help="PYTEST_ADDOPTS for the test job (default: a small subset; the command line's -m still applies)",
    )
    run.add_argument("--timeout", type=float, default=3600.0, help="seconds act may run (default 3600)")


def report_lines(result: pipeline.RunResult) -> list[str]:
    """The run, job by job in the order they ran: results, outputs, artifacts, what did not succeed and why."""
    out = [f"event {result.event} ({result.ref}): act exit {result.rc}, {result.seconds:.0f} s"]
    for job in result.jobs:
        why = f"  (if: {job.skipped_because})" if job.skipped_because else ""
        out.append(f"  {job.name:<14} {job.result:<8} {job.seconds:6.0f} s{why}")
        for key, value in job.outputs.items():
            out.append(f"      output {key} = {value}")
        for name in job.artifacts_up:
            out.append(f"      uploaded artifact {name}")
        for name in job.artifacts_down:
            out.append(f"      downloaded artifact {name}")
        for step in job.steps:
            if step["result"] == "skipped" and "if" in step:
                out.append(f"      skipped step {step['step']!r} (if: {step['if']})")
            elif step["result"] != "success":
                out.append(f"      step {step['step']!r}: {step['result']}")
    for name, why in result.not_runnable.items():
        out.append(f"  {name:<14} not runnable here ({why})")
    for step in result.not_runnable_steps:
        out.append(f"  {step['job']:<14} step {step['step']!r} not runnable here ({step['reason']})")
    ran = [j.name for j in result.jobs if j.result not in ("skipped", "not run")]
    skipped = [j.name for j in result.jobs if j.result == "skipped"]
    out.append(f"  ran: {', '.join(ran) or 'none'}; skipped by their if: {', '.join(skipped) or 'none'}")
    for change in result.changes:
        out.append(f"  workflow change: {change}")
    if result.release_dir is not None:
        out.append(f"  release: {result.release_dir}: {result.release_check}")
    out.append(f"  log: {result.log}")
    return out


def run(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    repo = pipeline.repo_root(args.repo)
    work = args.work_dir or Path(tempfile.mkdtemp(prefix=f"mlc-pipeline-{args.event}-"))
    result = pipeline.run_pipeline(
        args.event,
        repo,
        work.resolve(),
        env,
        workflow=args.workflow.resolve() if args.workflow else None,
        jobs=args.job,
        pytest_args=args.pytest_args,
        timeout=args.timeout,
        progress=None if args.json else (lambda m: print(f"pipeline: {m}", file=sys.stderr, flush=True)),
    )
    if args.json:
        print(json.dumps(result.as_json(), indent=2))
    else:
        print("\n".join(report_lines(result)))
    return 0 if result.rc == 0 else 1
