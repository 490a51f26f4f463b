"""The built wheels' repair and validation, and validation's result said to people."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mlc_devops import options, platforms
from mlc_devops.errors import ValidationFailed
from mlc_devops.ui import Console
from mlc_devops.wheel import repair, resolution, validate


def repair_wheel(
    wheel: Path,
    opts: options.BuildOptions,
    plat: platforms.Platform,
    env: dict[str, str],
    console: Console,
    phase: str = "repair",
) -> Path:
    if not plat.can_repair:
        console.say(f"    {phase}: not needed on {plat.name}; the wheel ships as built")
        return wheel
    with console.phase(phase):
        repaired = repair.repair(wheel, opts.config.backends, env)
        console.say(f"    repaired: {repaired.name}")
        return repaired


def validate_tvm(
    wheel: Path, plat: platforms.Platform, env: dict[str, str], opts: options.BuildOptions
) -> dict[str, Any]:
    """Validate the TVM wheel as the mlc_llm wheel is (:func:`validate.validate`); a library that nothing
    provides gets the hint to repair (TVM's libtvm.so NEEDs LLVM's shared library, which only the build
    machine has until auditwheel bundles it)."""
    try:
        return validate.validate(wheel, plat, env, find_links=opts.find_links)
    except ValidationFailed as exc:
        if not opts.repair and plat.can_repair and ": not found;" in exc.message:
            exc.hint = (
                "pass --repair: auditwheel bundles what TVM's libraries link (LLVM's shared library) into its wheel"
            )
        raise


def say_validation(console: Console, info: Mapping[str, Any]) -> None:
    """Validation's result for people: what loaded, where NEEDED entries came from beyond the wheel, findings."""
    console.say(f"    {info['filename']}: tags ok; loaded {', '.join(str(x) for x in info['loaded']) or 'nothing'}")
    counts: dict[str, int] = {}
    for item in info["resolution"]:
        counts[item["kind"]] = counts.get(item["kind"], 0) + 1
    if counts:
        console.say(
            f"    NEEDED entries resolved: {sum(counts.values())} ("
            + ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
            + ")"
        )
    entries = [resolution.Resolution(i["library"], i["needed"], i["kind"], i["where"]) for i in info["resolution"]]
    for line in resolution.summary_lines(entries):
        console.say(f"    {line}")
    for note in info["notes"]:
        console.say(f"    {note}")
    for finding in info["findings"]:
        console.warn(f"finding: {finding['message']}")
