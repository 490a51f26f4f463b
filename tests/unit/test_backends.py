from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlc_devops import backends
from mlc_devops.errors import UsageError


def test_vulkan_config_is_upstream_shaped_and_deterministic() -> None:
    config = backends.make_config(["vulkan"])
    text = backends.render(config)
    assert text == backends.render(backends.make_config(["vulkan", "cpu"]))
    lines = text.splitlines()
    assert lines[1] == 'set(TVM_SOURCE_DIR "3rdparty/tvm")'
    assert "set(USE_VULKAN ON)" in lines
    assert "set(USE_CUDA OFF)" in lines
    assert "set(USE_THRUST ON)" not in lines


def test_cuda_brings_thrust_and_architectures() -> None:
    text = backends.render(backends.make_config(["cuda", "cublas"], cuda_architectures=("80", "90")))
    assert "set(USE_CUDA ON)" in text
    assert "set(USE_CUBLAS ON)" in text
    assert "set(USE_THRUST ON)" in text
    assert 'set(CMAKE_CUDA_ARCHITECTURES "80;90")' in text


@pytest.mark.parametrize(
    ("child", "parent"), [("cutlass", "cuda"), ("cublas", "cuda"), ("flashinfer", "cuda"), ("host-ptr", "opencl")]
)
def test_child_without_parent_is_an_error(child: str, parent: str) -> None:
    with pytest.raises(UsageError, match=f"needs its parent '{parent}'"):
        backends.parse_backends([child])
    assert child in backends.parse_backends([f"{child},{parent}"])


def test_unknown_backend_suggests_the_close_name() -> None:
    with pytest.raises(UsageError, match="did you mean 'vulkan'"):
        backends.parse_backends(["vulcan"])


def test_cuda_arch_without_cuda_is_an_error() -> None:
    with pytest.raises(UsageError, match="without the cuda backend"):
        backends.make_config(["vulkan"], cuda_architectures=("90",))


@pytest.mark.parametrize("bad", ["90;rm -rf /", "$(id)", "9", "sm_90", "90`x`"])
def test_cuda_arch_rejects_anything_but_architectures(bad: str) -> None:
    with pytest.raises(UsageError, match="invalid CUDA architecture"):
        backends.parse_cuda_architectures(bad)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("90", ("90",)), ("80;90", ("80", "90")), ("80,90a", ("80", "90a")), ("80-real", ("80-real",))],
)
def test_cuda_arch_accepts_lists(text: str, expected: tuple[str, ...]) -> None:
    assert backends.parse_cuda_architectures(text) == expected


def test_unknown_build_type_is_an_error() -> None:
    with pytest.raises(UsageError, match="unknown build type"):
        backends.make_config(["cpu"], build_type="Fast")


def test_parse_rejects_what_it_cannot_read() -> None:
    with pytest.raises(UsageError, match="line 2"):
        backends.parse("set(A ON)\nif(X)\n")


paths = st.text(alphabet=string.ascii_letters + string.digits + ' /\\"$;{}()#é世-_.', min_size=1, max_size=40).filter(
    lambda s: s.strip() == s and s
)


@given(
    chosen=st.sets(st.sampled_from(["cpu", "cuda", "rocm", "vulkan", "metal", "opencl"])),
    kids=st.sets(st.sampled_from(["cutlass", "cublas", "flashinfer", "host-ptr"])),
    archs=st.lists(
        st.sampled_from(["75", "80", "86", "90", "90a", "100", "80-real", "90-virtual"]), max_size=4, unique=True
    ),
    tvm=paths,
    build_type=st.sampled_from(backends.BUILD_TYPES),
)
def test_render_then_parse_round_trips(
    chosen: set[str], kids: set[str], archs: list[str], tvm: str, build_type: str
) -> None:
    wanted = set(chosen)
    for kid in kids:
        if backends.BY_NAME[kid].parent in wanted:
            wanted.add(kid)
    use_archs = tuple(archs) if "cuda" in wanted else ()
    config = backends.make_config(
        sorted(wanted), cuda_architectures=use_archs, tvm_source_dir=tvm, build_type=build_type
    )
    text = backends.render(config)
    assert backends.render(config) == text
    assert backends.config_from_values(backends.parse(text)) == config
