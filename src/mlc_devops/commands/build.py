"""``mlc-devops build``: its arguments and its output; the steps live in :mod:`mlc_devops.buildsteps`."""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping

from mlc_devops import options
from mlc_devops.commands import _args
from mlc_devops.ui import Console


def add_arguments(parser: argparse.ArgumentParser) -> None:
    _args.add_source(parser)
    _args.add_config(parser)
    parser.add_argument("-j", "--jobs", help="parallel compile jobs (env MLC_JOBS; default: cores capped by memory)")
    parser.add_argument("--dist", help="where the wheel goes (env MLC_DIST_DIR; default <source>/dist)")
    parser.add_argument(
        "--cache", choices=options.CACHE_CHOICES, help="compiler cache (env MLC_COMPILER_CACHE; default auto)"
    )
    parser.add_argument(
        "--cache-remote",
        dest="cache_remote",
        metavar="URL",
        help="shared compiler cache: redis://HOST:PORT (ccache or sccache), s3://BUCKET/PREFIX, "
        "gs://BUCKET/PREFIX (sccache), http://HOST/PATH (env MLC_CACHE_REMOTE)",
    )
    parser.add_argument("--layout", choices=options.LAYOUT_CHOICES, help="source layout (default: detect)")
    parser.add_argument("--repair", action="store_const", const="1", help="repair the wheel with auditwheel (Linux)")
    parser.add_argument(
        "--no-build-isolation",
        dest="build_isolation",
        action="store_const",
        const="0",
        help="build with the current environment's scikit-build-core/setuptools (offline)",
    )
    parser.add_argument(
        "--build-isolation",
        dest="build_isolation",
        action="store_const",
        const="1",
        help="build in pip's isolated environment, as upstream's CI does (env MLC_BUILD_ISOLATION; default auto)",
    )
    parser.add_argument(
        "--build-env",
        dest="build_env",
        metavar="kept|fresh|DIR",
        help="where an isolated build gets its build requirements: kept (made once and reused, so a rebuild "
        "configures once), a folder to keep them in, or fresh (pip's temporary environment, every build) "
        "(env MLC_BUILD_ENV; default kept, in build-env/ of the user's cache directory)",
    )
    parser.add_argument("--clean-dist", action="store_true", help="remove older wheels of this project from dist/")
    parser.add_argument(
        "--with",
        dest="with_packages",
        action="append",
        default=[],
        metavar="PKG",
        help="a wheel file or requirement that validation may resolve libraries from although the wheel does not "
        "declare it (a TVM wheel for a legacy checkout): reported as an undeclared pairing",
    )
    parser.add_argument(
        "--find-links",
        dest="find_links",
        action="append",
        metavar="DIR",
        help="directory of wheels of the wheel's dependencies, for offline validation (env MLC_FIND_LINKS)",
    )
    parser.add_argument(
        "--fail-on-findings",
        dest="fail_on_findings",
        action="store_const",
        const="1",
        help="fail (exit 11) on findings: duplicated payloads, version mismatch, undeclared pairing "
        "(env MLC_FAIL_ON_FINDINGS)",
    )
    parser.add_argument(
        "--validation-cache",
        metavar="DIR|off",
        help="where passed validations are kept, to be reused for a byte-identical wheel with the same inputs; off "
        "validates afresh (env MLC_VALIDATION_CACHE; default: validation/ in the user's cache directory)",
    )
    parser.add_argument(
        "--wait", action="store_true", help="wait for another build of this workspace instead of refusing"
    )
    parser.add_argument(
        "--tvm",
        metavar="source|PATH|URL",
        help="also give the TVM wheel of the pair: source (build it from the checkout's TVM source, with LLVM and, "
        "for --backend cuda, CUDA code generation), a wheel file, a folder of wheels, or a package index URL "
        "(URL#NAME for the project); both build reports name each other (env MLC_TVM; default: none)",
    )
    parser.add_argument(
        "--llvm-config",
        dest="llvm_config",
        metavar="PATH",
        help="llvm-config of the LLVM that --tvm source builds TVM's compiler with (env MLC_LLVM_CONFIG; default: "
        "llvm-config on PATH, else the highest llvm-config-N)",
    )


def run(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    env = options.with_validation_cache(env, args.validation_cache)
    console = Console.from_env(env)
    opts = options.resolve(_args.flags(args), env)
    # The programs' versions are asked first, so that their processes run while the steps' modules load
    # (0.04 s; issue 12, goal 4). Imported here, not above: `build --help` then loads the arguments alone
    # (tests/integration/test_cache_startup.py).
    from mlc_devops import tools  # noqa: PLC0415

    probes = tools.take_early(env)  # begun by cli.main, before this module loaded
    probes.start(tools.build_probes(opts.config.backends))
    try:
        from mlc_devops.buildsteps.orchestrate import build  # noqa: PLC0415

        result = build(opts, env, console, clean_dist=args.clean_dist, wait=args.wait, probes=probes)
    finally:
        probes.close()
    if args.json:
        print(
            json.dumps(
                {"wheel": str(result.wheel), "report": str(result.report_path), **result.report.to_json()}, indent=2
            )
        )
    else:
        total = sum(v for v in console.timings.values())
        console.say(f"built {result.wheel} in {total:.1f}s (report: {result.report_path.name})")
        pair = result.report.pair
        if pair is not None:
            console.say(f"paired with {pair['filename']} ({pair['origin']}), beside it")
        print(result.wheel)
    return 0
