"""``smoke --gpu``: run the wheel's CUDA kernel on the device and compare it with the CPU.

The probe runs inside the clean environment. It asks the CUDA driver directly
(through ctypes, no toolkit needed) for the driver version, the device and its
compute capability, then runs the package's kernel on fresh random input.
Each way this can fail has its own stage, so the message says which it is.
"""

from __future__ import annotations

from typing import Any

from mlc_devops.errors import CheckFailed

GPU_SCRIPT = r"""
import ctypes, ctypes.util, json, os, random, sys

def done(**kw):
    print(json.dumps(kw)); sys.exit(0 if kw.get("ok") else 1)

names = ["nvcuda.dll"] if os.name == "nt" else ["libcuda.so.1", "libcuda.so", ctypes.util.find_library("cuda")]
drv = None
for name in [n for n in names if n]:
    try:
        drv = ctypes.CDLL(name); break
    except OSError:
        continue
if drv is None:
    done(ok=False, stage="driver", error="libcuda.so.1 (nvcuda.dll on Windows) cannot be loaded")
rc = drv.cuInit(0)
version = ctypes.c_int(0)
drv.cuDriverGetVersion(ctypes.byref(version))
driver = f"{version.value // 1000}.{(version.value % 1000) // 10}"
count = ctypes.c_int(0)
if rc != 0 or drv.cuDeviceGetCount(ctypes.byref(count)) != 0 or count.value == 0:
    done(ok=False, stage="device", driver=driver, error=f"cuInit returned {rc}, {count.value} devices visible")
dev = ctypes.c_int(0)
drv.cuDeviceGet(ctypes.byref(dev), 0)
raw = ctypes.create_string_buffer(256)
drv.cuDeviceGetName(raw, 256, dev)
major, minor = ctypes.c_int(0), ctypes.c_int(0)
drv.cuDeviceGetAttribute(ctypes.byref(major), 75, dev)
drv.cuDeviceGetAttribute(ctypes.byref(minor), 76, dev)
info = {"device": raw.value.decode(), "capability": f"{major.value}.{minor.value}",
        "arch": f"sm_{major.value}{minor.value}", "driver": driver, "devices": count.value}
n = int(sys.argv[1])
try:
    import mlc_llm
except Exception as exc:  # noqa
    done(ok=False, stage="import", error=f"{type(exc).__name__}: {exc}", **info)
try:
    from mlc_llm import cuda
except ImportError:
    cuda = None
if cuda is None or not hasattr(cuda, "saxpy"):
    # A wheel without the stand-in's kernel API (real MLC-LLM): round-trip random data through
    # device memory with the TVM runtime it pairs with (install it with --with).
    try:
        import numpy as np
        import tvm
        dev = tvm.cuda(0)
        if not dev.exist:
            done(ok=False, stage="device", error="the TVM runtime sees no CUDA device", **info)
        data = np.random.default_rng().standard_normal(n).astype("float32")
        make = getattr(getattr(tvm, "nd", None), "array", None) or tvm.runtime.tensor
        back = make(data, device=dev).numpy()
    except Exception as exc:  # noqa
        done(ok=False, stage="tvm", error=f"{type(exc).__name__}: {exc}", **info)
    if not np.array_equal(back, data):
        done(ok=False, stage="mismatch", error="data copied to the GPU and back changed", **info)
    done(ok=True, check="tvm device round trip", elements=n, max_ulp_ratio=0.0, **info)
if not cuda.available():
    done(ok=False, stage="no-cuda", error="the wheel was built without CUDA (USE_CUDA OFF)", **info)
n = int(sys.argv[1])
rng = random.Random(int.from_bytes(os.urandom(8), "little"))  # fresh input every run
a = [rng.uniform(-1000, 1000) for _ in range(n)]
b = [rng.uniform(-1000, 1000) for _ in range(n)]
x = rng.uniform(-4, 4)
try:
    got = cuda.saxpy(a, b, x)
except Exception as exc:  # noqa
    status = getattr(exc, "status", None)
    stage = {2: "device", 3: "kernel-image"}.get(status, "kernel")
    done(ok=False, stage=stage, error=str(exc), status=status, **info)
f32 = lambda v: ctypes.c_float(v).value
# float32 reference; the GPU may fuse the multiply-add (one rounding instead of two), so the
# allowed error is a few float32 ulps of the terms' magnitude, not of the (possibly tiny) result.
eps = 2.0 ** -23
worst = 0.0
for ai, bi, g in zip(a, b, got):
    fa, fb, fx = f32(ai), f32(bi), f32(x)
    ref = f32(f32(fa * fx) + fb)
    bound = 4 * eps * (abs(fa * fx) + abs(fb)) + 1e-30
    worst = max(worst, abs(g - ref) / bound)
if worst > 1.0:
    done(ok=False, stage="mismatch",
         error=f"GPU result differs from the CPU reference by {worst:.1f}x the float32 tolerance", **info)
done(ok=True, check="saxpy kernel against a CPU reference", elements=n, max_ulp_ratio=worst, **info)
"""

STAGE_MESSAGES = {
    "driver": "no NVIDIA driver library",
    "device": "no CUDA device",
    "kernel-image": "the wheel has no kernel image for this GPU",
    "no-cuda": "the wheel has no CUDA support",
    "mismatch": "the GPU computed a wrong result",
    "import": "mlc_llm does not import",
    "tvm": "the TVM runtime check failed (install the TVM wheel this one pairs with: --with)",
    "kernel": "the kernel failed",
}


def interpret(data: dict[str, Any], built_for: list[str] | None = None) -> dict[str, Any]:
    """Turn the probe's JSON into a result, or raise the failure with a clear one-line message. Pure."""
    if data.get("ok"):
        return data
    stage = str(data.get("stage", "kernel"))
    headline = STAGE_MESSAGES.get(stage, "GPU check failed")
    detail = str(data.get("error", ""))
    hint = None
    if stage == "kernel-image":
        arch = data.get("arch", "this GPU's architecture")
        archs = ";".join(built_for) if built_for else "unknown architectures"
        number = str(arch).replace("sm_", "")
        hint = f"the wheel was built for {archs}; rebuild with --cuda-arch including {number} (or a PTX target)"
    elif stage == "driver":
        hint = "install the NVIDIA driver, or run on a machine with a GPU"
    elif stage == "device":
        hint = "check nvidia-smi and CUDA_VISIBLE_DEVICES"
    where = f" on {data['device']} ({data['arch']}, driver {data['driver']})" if "device" in data else ""
    raise CheckFailed(f"smoke --gpu: {headline}{where}: {detail}", hint=hint)
