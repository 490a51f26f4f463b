"""Package metadata, library discovery and compiled-in backends."""
import os

import pytest

import mlc_llm
from mlc_llm import cuda, libinfo

pytestmark = pytest.mark.unittest


def test_version():
    # Like upstream, the package's version (libinfo) is not the wheel's: mlc-devops reports that.
    assert mlc_llm.__version__ == libinfo.__version__
    assert mlc_llm.native_version()


def test_backends():
    backends = mlc_llm.backends()
    assert backends[0] == "cpu"
    assert set(backends) <= {"cpu", "cuda", "rocm", "vulkan", "opencl", "metal"}
    assert ("cuda" in backends) == cuda.available()


def test_loaded_libraries_are_the_finders_first_choice():
    assert libinfo.find_lib_path("mlc_llm")[0] == mlc_llm.lib_path()
    assert os.path.basename(mlc_llm.tvm_lib_path()) == libinfo.lib_file_name("tvm_runtime")


def test_missing_library_message():
    with pytest.raises(RuntimeError, match="Cannot find library"):
        libinfo.find_lib_path("definitely_not_a_library")
    assert libinfo.find_lib_path("definitely_not_a_library", optional=True) is None


def test_cuda_saxpy():
    if not cuda.available():
        with pytest.raises(RuntimeError, match="without CUDA"):
            cuda.saxpy([1.0], [2.0], 3.0)
        return
    try:
        out = cuda.saxpy([1.0, 2.0, 3.0], [0.5, 0.5, 0.5], 2.0)
    except cuda.CUDAError as err:
        # Built with CUDA but running on a machine without a usable GPU.
        assert err.status in (cuda.ERROR_NO_DEVICE, cuda.ERROR_NO_KERNEL_IMAGE), str(err)
        return
    assert out == [2.5, 4.5, 6.5]
