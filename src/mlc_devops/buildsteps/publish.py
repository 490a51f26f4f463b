"""Publishing: the validated wheels and their reports moved into dist/ together, older wheels named or removed."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from mlc_devops import fsutil
from mlc_devops.buildsteps.decisions import stale_wheels
from mlc_devops.report import BuildReport, report_path_for
from mlc_devops.ui import Console


def publish(
    wheels: Sequence[tuple[Path, BuildReport | None, str]], dist: Path, console: Console, *, clean_dist: bool
) -> Path:
    """Move each ``(wheel, report or None, project)`` into ``dist`` together (one :func:`fsutil.publish`); the
    first wheel's path in dist. A wheel already there (a prebuilt TVM named from dist/) stays as it is."""
    files: list[tuple[Path, bytes | Path]] = []
    for wheel, report, project in wheels:
        target = dist / wheel.name
        stale = stale_wheels([p.name for p in dist.glob("*.whl")], project, wheel.name)
        if stale:
            if clean_dist:
                for name in stale:
                    (dist / name).unlink()
                    report_file = report_path_for(dist / name)
                    if report_file.exists():
                        report_file.unlink()
                console.say(f"    removed older wheels from {dist}: {', '.join(stale)}")
            else:
                console.warn(
                    f"{dist} also holds {', '.join(stale)} from earlier builds; pass --clean-dist to remove them"
                )
        if target.exists() and target.samefile(wheel):
            continue
        if target.exists():
            console.say(f"    replacing {target.name} in {dist}")
        files.append((target, wheel))
        if report is not None:
            report_text = json.dumps(report.to_json(), indent=2, sort_keys=True) + "\n"
            files.append((report_path_for(dist / wheel.name), report_text.encode("utf-8")))
    fsutil.publish(files)
    return dist / wheels[0][0].name
