from __future__ import annotations

import pytest

from mlc_devops import gpu
from mlc_devops.errors import CheckFailed

H200 = {"device": "NVIDIA H200", "arch": "sm_90", "capability": "9.0", "driver": "13.0"}


def test_passing_probe_is_returned() -> None:
    data = {"ok": True, "elements": 10, "max_ulp_ratio": 0.25, **H200}
    assert gpu.interpret(data) == data


@pytest.mark.parametrize(
    ("stage", "headline"),
    [
        ("driver", "no NVIDIA driver library"),
        ("device", "no CUDA device"),
        ("kernel-image", "no kernel image for this GPU"),
        ("mismatch", "computed a wrong result"),
        ("no-cuda", "no CUDA support"),
    ],
)
def test_each_failure_has_its_own_message(stage: str, headline: str) -> None:
    data = {"ok": False, "stage": stage, "error": "detail"}
    if stage not in ("driver", "device"):
        data.update(H200)
    with pytest.raises(CheckFailed, match=headline):
        gpu.interpret(data)


def test_kernel_image_failure_names_the_architectures() -> None:
    with pytest.raises(CheckFailed) as info:
        gpu.interpret({"ok": False, "stage": "kernel-image", "error": "status 3", **H200}, ["80-real"])
    assert "on NVIDIA H200 (sm_90, driver 13.0)" in info.value.message
    assert info.value.hint == "the wheel was built for 80-real; rebuild with --cuda-arch including 90 (or a PTX target)"
