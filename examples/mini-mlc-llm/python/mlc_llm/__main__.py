"""``python -m mlc_llm``: print what the stand-in package was built with."""
import argparse
import sys


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="mlc_llm", description="MLC-LLM stand-in info")
    parser.add_argument("command", nargs="?", default="info", choices=["info", "version"])
    args = parser.parse_args(argv)

    import mlc_llm  # pylint: disable=import-outside-toplevel

    if args.command == "version":
        print(mlc_llm.__version__)
        return 0
    print(f"mlc_llm {mlc_llm.__version__} (native {mlc_llm.native_version()})")
    print(f"library: {mlc_llm.lib_path()}")
    print(f"tvm_runtime: {mlc_llm.tvm_lib_path()}")
    print(f"backends: {','.join(mlc_llm.backends())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
