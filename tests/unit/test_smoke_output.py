"""smoke's words for people: what the import loaded from other packages."""

from __future__ import annotations

from mlc_devops.commands import smoke


def test_a_runtime_of_the_same_name_from_a_dependency_is_named() -> None:
    # upstream 79d603f0 with apache-tvm: the process runs apache-tvm's runtime, not the wheel's
    lines = smoke.dependency_lines(
        ["mlc_llm/libmlc_llm_module.so"],
        ["mlc_llm/lib/libtvm_runtime.so", "mlc_llm/libmlc_llm_module.so"],
        ["tvm/lib/libtvm_runtime.so", "tvm_ffi/lib/libtvm_ffi.so", "torch/lib/libtorch.so"],
    )
    assert lines == [
        "loaded by the import from its dependencies: 3 libraries (--json lists them)",
        "libtvm_runtime.so: the process uses tvm/lib/libtvm_runtime.so from a dependency, "
        "not the wheel's mlc_llm/lib/libtvm_runtime.so",
    ]
    assert smoke.dependency_lines([], [], []) == []
