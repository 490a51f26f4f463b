"""NEEDED resolution: the wheel along RUNPATH, dependencies, undeclared pairings, the platform."""

from __future__ import annotations

from mlc_devops.wheel import resolution
from mlc_devops.wheel.resolution import Library, Provider

POLICY = frozenset({"libc.so.6", "libstdc++.so.6", "libgcc_s.so.1", "libm.so.6"})


def upstream_shape() -> list[Library]:
    """mlc-llm 79d603f0's wheel as measured: RUNPATH $ORIGIN, libtvm_ffi.so NEEDed everywhere, a copy at the top."""
    return [
        Library("mlc_llm/lib/libtvm_runtime.so", "libtvm_runtime.so", ("libtvm_ffi.so", "libc.so.6"), ("$ORIGIN",)),
        Library(
            "mlc_llm/lib/libmlc_llm.so",
            "libmlc_llm.so",
            ("libtvm_runtime.so", "libtvm_ffi.so", "libstdc++.so.6"),
            ("$ORIGIN",),
        ),
        Library("mlc_llm/libmlc_llm.so", "libmlc_llm.so", ("libtvm_runtime.so", "libtvm_ffi.so"), ("$ORIGIN",)),
    ]


def members(libs: list[Library]) -> list[str]:
    return [lib.path for lib in libs] + ["mlc_llm/__init__.py"]


def kinds(found: list[resolution.Resolution]) -> dict[tuple[str, str], str]:
    return {(r.library, r.needed): r.kind for r in found}


def test_libtvm_ffi_from_the_declared_dependency_and_the_rest_from_the_wheel_and_policy() -> None:
    libs = upstream_shape()
    ffi = Provider("apache-tvm-ffi", "0.1.15.post2", True, {"libtvm_ffi.so": "tvm_ffi/lib/libtvm_ffi.so"}, ("tvm_ffi",))
    found = resolution.resolve(libs, members(libs), [ffi], POLICY, "manylinux_2_41")
    k = kinds(found)
    assert k[("mlc_llm/lib/libmlc_llm.so", "libtvm_runtime.so")] == "wheel"
    assert k[("mlc_llm/lib/libmlc_llm.so", "libtvm_ffi.so")] == "dependency"
    assert k[("mlc_llm/lib/libmlc_llm.so", "libstdc++.so.6")] == "platform"
    # the copy at the top finds no libtvm_runtime.so beside it: in the wheel, but outside its RUNPATH
    assert k[("mlc_llm/libmlc_llm.so", "libtvm_runtime.so")] == "wheel-elsewhere"
    assert resolution.unresolved_names(found) == []
    line = next(r for r in found if r.kind == "dependency").sentence()
    assert line == "libtvm_ffi.so (needed by mlc_llm/lib/libmlc_llm.so) from apache-tvm-ffi 0.1.15.post2"


def test_without_the_dependency_the_entry_is_unresolved_and_says_where_it_looked() -> None:
    libs = upstream_shape()
    found = resolution.resolve(libs, members(libs), [], POLICY, "manylinux_2_41")
    assert resolution.unresolved_names(found) == ["libtvm_ffi.so"]
    first = next(r for r in found if r.kind == "unresolved")
    text = first.sentence()
    assert text.startswith("libtvm_ffi.so (needed by mlc_llm/lib/libmlc_llm.so): not found; looked in the wheel")
    assert "RUNPATH $ORIGIN" in text and "manylinux_2_41 policy" in text


def test_a_package_the_wheel_does_not_declare_is_an_undeclared_pairing() -> None:
    # legacy mlc-llm 34497eae: its wheel ships libmlc_llm only; libtvm_runtime.so comes from a TVM wheel
    libs = [Library("mlc_llm/libmlc_llm.so", "libmlc_llm.so", ("libtvm_runtime.so", "libc.so.6"), ("$ORIGIN",))]
    tvm = Provider("mlc-ai-nightly", "0.15.dev0", False, {"libtvm_runtime.so": "tvm/libtvm_runtime.so"}, ("tvm",))
    found = resolution.resolve(libs, members(libs), [tvm], POLICY, "manylinux_2_41")
    (pairing,) = [r for r in found if r.kind == "undeclared"]
    assert pairing.where == "mlc-ai-nightly 0.15.dev0"
    assert "undeclared pairing" in pairing.sentence()


def test_origin_forms_and_outside_entries() -> None:
    inside, outside = resolution.expand_search_path(
        ["$ORIGIN/../lib", "${ORIGIN}", "/opt/tvm/build", "$ORIGIN"], "pkg/bin/libx.so"
    )
    assert inside == ("pkg/lib", "pkg/bin", "pkg/bin")
    assert outside == ("/opt/tvm/build",)
    top, _ = resolution.expand_search_path(["$ORIGIN"], "libx.so")
    assert top == ("",)


def test_no_runpath_means_not_found_beside_it() -> None:
    libs = [
        Library("pkg/liba.so", "liba.so", ("libb.so",), ()),
        Library("pkg/libb.so", "libb.so", (), ()),
    ]
    found = resolution.resolve(libs, members(libs), [], POLICY, "p")
    assert kinds(found)[("pkg/liba.so", "libb.so")] == "wheel-elsewhere"


def test_gpu_driver_libraries_and_the_loader_come_from_the_system() -> None:
    libs = [Library("pkg/libx.so", None, ("libcuda.so.1", "libcudart.so.12", "ld-linux-x86-64.so.2"), ())]
    found = resolution.resolve(libs, members(libs), [], POLICY, "p")
    assert [r.kind for r in found] == ["system", "system", "platform"]


def test_policy_for_a_tag_and_the_newest_for_plain_linux() -> None:
    policies = [
        {"name": "linux", "aliases": [], "lib_whitelist": []},
        {"name": "manylinux_2_17", "aliases": ["manylinux2014"], "lib_whitelist": ["libc.so.6"]},
        {"name": "manylinux_2_28", "aliases": [], "lib_whitelist": ["libc.so.6", "libz.so.1"]},
    ]
    assert resolution.policy_libraries(policies, ["manylinux2014_x86_64"]) == (
        "manylinux_2_17",
        frozenset({"libc.so.6"}),
    )
    name, allowed = resolution.policy_libraries(policies, ["linux_x86_64"])
    assert name == "manylinux_2_28" and "libz.so.1" in allowed


def test_auditwheels_policy_file_is_read() -> None:
    policies = resolution.load_policies()
    assert policies is not None
    name, allowed = resolution.policy_libraries(policies, ["linux_x86_64"])
    assert name.startswith("manylinux_2_") and {"libc.so.6", "libstdc++.so.6"} <= allowed


def test_only_requirements_whose_names_match_a_missing_library_are_worth_fetching() -> None:
    names = ["fastapi", "torch", "apache-tvm-ffi", "transformers", "tvm-extra"]
    assert resolution.rank_requirements(names, ["libtvm_ffi.so"]) == ["apache-tvm-ffi", "tvm-extra"]
    assert resolution.rank_requirements(names, []) == []
    assert resolution.library_tokens("libtvm_ffi.so.1") == frozenset({"tvm", "ffi"})


def test_summary_groups_the_libraries_that_need_one_thing_from_one_place() -> None:
    libs = upstream_shape()
    ffi = Provider("apache-tvm-ffi", "0.1.15.post2", True, {"libtvm_ffi.so": "tvm_ffi/lib/libtvm_ffi.so"}, ("tvm_ffi",))
    lines = resolution.summary_lines(resolution.resolve(libs, members(libs), [ffi], POLICY, "p"))
    assert lines == [
        "libtvm_ffi.so (needed by 3 libraries: mlc_llm/lib/libmlc_llm.so, mlc_llm/lib/libtvm_runtime.so, "
        "mlc_llm/libmlc_llm.so) from apache-tvm-ffi 0.1.15.post2",
        "libtvm_runtime.so (needed by mlc_llm/libmlc_llm.so): in the wheel at mlc_llm/lib/libtvm_runtime.so, "
        "outside the library's search path; it loads only after that file is loaded",
    ]


def test_glibc_floor_from_version_needs() -> None:
    from mlc_devops import elf

    needs = (("libc.so.6", ("GLIBC_2.2.5", "GLIBC_2.39", "GLIBC_2.38")), ("libstdc++.so.6", ("GLIBCXX_3.4.32",)))
    assert elf.glibc_floor(needs) == (2, 39)
    assert elf.glibc_floor((("libm.so.6", ("GLIBC_2.29",)),)) is None


def test_preloads_are_the_providers_files_then_the_wheels_own_from_elsewhere() -> None:
    from mlc_devops.wheel import validate

    # legacy 34497eae: libmlc_llm_module NEEDs libtvm.so, libmlc_llm NEEDs libtvm_runtime.so, both from
    # the TVM wheel; loading those files first keeps the loader off a RUNPATH into the build machine's tree
    libs = [
        Library("mlc_llm/libmlc_llm.so", "libmlc_llm.so", ("libtvm_runtime.so",), ("/ci/mlc-llm/build/tvm",)),
        Library("mlc_llm/libmlc_llm_module.so", "libmlc_llm_module.so", ("libtvm.so",), ("/ci/mlc-llm/build/tvm",)),
        Library("mlc_llm/top/libx.so", "libx.so", ("libmlc_llm.so",), ("$ORIGIN",)),
    ]
    tvm = Provider(
        "tvm",
        "0.16.dev0",
        False,
        {"libtvm.so": "tvm/libtvm.so", "libtvm_runtime.so": "tvm/libtvm_runtime.so"},
        ("tvm",),
    )
    assert validate.preloads(libs, members(libs), [tvm]) == {
        "mlc_llm/libmlc_llm.so": ["tvm/libtvm_runtime.so"],
        "mlc_llm/libmlc_llm_module.so": ["tvm/libtvm.so"],
        "mlc_llm/top/libx.so": ["mlc_llm/libmlc_llm.so"],
    }
