"""STAND-IN for apache/tvm's legacy python/setup.py (mlc-llm 34497eae's TVM pin, 2024).

Same shape: run after a CMake build, it finds the library through
libinfo.find_lib_path (``TVM_LIBRARY_PATH`` first), copies it into the package
for the wheel and removes it afterwards, and declares ``has_ext_modules`` so the
wheel is tagged for the building CPython (cpXY-cpXY-<platform>) although it holds
no extension module: the library is loaded with ctypes.

    cmake -S .. -B ../build && cmake --build ../build --target tvm_runtime
    TVM_LIBRARY_PATH=../build pip wheel --no-deps -w dist .
"""
import os
import shutil

from setuptools import find_packages, setup
from setuptools.dist import Distribution

CURRENT_DIR = os.path.dirname(os.path.abspath(os.path.expanduser(__file__)))
PACKAGE_DIR = os.path.join(CURRENT_DIR, "tvm_standin")


def get_lib_path():
    """(libraries to ship, version) from libinfo.py, run without importing the package."""
    libinfo_py = os.path.join(PACKAGE_DIR, "libinfo.py")
    libinfo = {"__file__": libinfo_py}
    with open(libinfo_py, "rb") as f:
        exec(compile(f.read(), libinfo_py, "exec"), libinfo, libinfo)  # pylint: disable=exec-used
    return [libinfo["find_lib_path"]("tvm_runtime")[0]], libinfo["__version__"]


LIB_LIST, __version__ = get_lib_path()


class BinaryDistribution(Distribution):
    """As upstream's: platform specific, and claimed to hold extension modules."""

    def has_ext_modules(self):
        return True

    def is_pure(self):
        return False


def main():
    copied = []
    for path in LIB_LIST:
        target = os.path.join(PACKAGE_DIR, os.path.basename(path))
        if os.path.abspath(path) != os.path.abspath(target):
            shutil.copy(path, target)
            copied.append(target)
    try:
        setup(
            name="mlc-standin-tvm",
            version=__version__,
            description="Stand-in of apache-tvm (runtime only, no compiler), used by mlc-devops tests",
            python_requires=">=3.9",
            packages=find_packages(include=["tvm_standin", "tvm_standin.*"]),
            package_data={"tvm_standin": [os.path.basename(p) for p in LIB_LIST]},
            include_package_data=True,
            install_requires=["mlc-standin-tvm-ffi"],
            distclass=BinaryDistribution,
            zip_safe=False,
        )
    finally:
        for path in copied:
            if os.path.exists(path):
                os.remove(path)


main()
