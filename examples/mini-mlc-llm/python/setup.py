"""Legacy packaging of the (stand-in) MLC-LLM Python package.

Modelled on upstream's python/setup.py. Flow:

    cmake -S . -B build -G Ninja && cmake --build build
    pip wheel --no-deps -w dist python/

The native libraries are looked up with libinfo.find_lib_path (which finds
them in ../build), copied into python/mlc_llm for the wheel, and removed
again afterwards.
"""
import os
import shutil

from setuptools import find_packages, setup
from setuptools.dist import Distribution

CURRENT_DIR = os.path.dirname(os.path.abspath(os.path.expanduser(__file__)))
PACKAGE_DIR = os.path.join(CURRENT_DIR, "mlc_llm")


def get_lib_path():
    """Return (list of native libraries to ship, version) from libinfo.py."""
    # Run libinfo.py without importing mlc_llm (which would load the libraries).
    libinfo_py = os.path.join(PACKAGE_DIR, "libinfo.py")
    libinfo = {"__file__": libinfo_py}
    with open(libinfo_py, "rb") as f:
        exec(compile(f.read(), libinfo_py, "exec"), libinfo, libinfo)  # pylint: disable=exec-used
    version = libinfo["__version__"]
    libs = [
        libinfo["find_lib_path"]("mlc_llm")[0],
        libinfo["find_lib_path"]("mlc_llm_module")[0],
        libinfo["find_lib_path"]("tvm_runtime")[0],
    ]
    return libs, version


LIB_LIST, __version__ = get_lib_path()


class BinaryDistribution(Distribution):
    """The wheel holds native libraries: make it platform specific."""

    def has_ext_modules(self):
        return True

    def is_pure(self):
        return False


def main():
    copied = []
    package_data = []
    for path in LIB_LIST:
        name = os.path.basename(path)
        target = os.path.join(PACKAGE_DIR, name)
        if os.path.abspath(path) != os.path.abspath(target):
            shutil.copy(path, target)
            copied.append(target)
        package_data.append(name)

    try:
        setup(
            name="mlc_llm",
            version=__version__,
            description="Stand-in workspace with the shape of MLC-LLM, used by mlc-devops tests",
            license="Apache-2.0",
            python_requires=">=3.9",
            packages=find_packages(include=["mlc_llm", "mlc_llm.*"]),
            package_dir={"mlc_llm": "mlc_llm"},
            package_data={"mlc_llm": package_data},
            include_package_data=True,
            install_requires=["tqdm", "mlc-standin-tvm-ffi"],
            entry_points={"console_scripts": ["mlc_llm = mlc_llm.__main__:main"]},
            distclass=BinaryDistribution,
            zip_safe=False,
        )
    finally:
        # Do not leave build outputs in the source tree.
        for path in copied:
            if os.path.exists(path):
                os.remove(path)


main()
