"""smoke --model's decisions: the plan, upstream's commands, the comparisons, the CPU gate."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlc_devops import modelcheck
from mlc_devops.errors import UsageError


def test_tiny_is_float32_against_the_reference_and_1b_is_float16_across_two_runs() -> None:
    tiny = modelcheck.plan("tiny", "cuda")
    assert (tiny.quantization, tiny.reference, tiny.runs, tiny.steps) == ("q0f32", True, 1, 16)
    big = modelcheck.plan("1b", "cuda", 32)
    assert (big.quantization, big.reference, big.runs, big.steps) == ("q0f16", False, 2, 32)


@pytest.mark.parametrize(
    ("model", "device", "steps", "words"),
    [("huge", "cuda", 16, "unknown model"), ("tiny", "tpu", 16, "unknown device"), ("tiny", "cpu", 8, "too few")],
)
def test_bad_choices_are_usage_errors(model: str, device: str, steps: int, words: str) -> None:
    with pytest.raises(UsageError, match=words):
        modelcheck.plan(model, device, steps)


def test_upstream_steps_in_order_with_the_same_quantization_and_device() -> None:
    p = modelcheck.plan("tiny", "cuda")
    steps = modelcheck.upstream_commands("/venv/bin/python", Path("/w/hf"), Path("/w/mlc"), p)
    assert [phase for phase, _ in steps] == ["convert_weight", "gen_config", "compile"]
    for _, argv in steps:
        assert argv[0] == "/venv/bin/python" and argv[1].endswith("mlc_cli.py")
        assert argv[argv.index("--quantization") + 1] == "q0f32"
    convert, config, compile_ = (argv for _, argv in steps)
    assert convert[convert.index("--device") + 1] == "cuda"
    assert compile_[3] == "/w/mlc/mlc-chat-config.json"
    assert compile_[compile_.index("-o") + 1] == "/w/mlc/model-cuda.so"
    # The context window holds the prompt and every greedy step.
    window = int(config[config.index("--context-window-size") + 1])
    assert window >= len(modelcheck.PROMPT) + p.steps


def test_cpu_is_refused_without_cpu_attention_kernels_and_allowed_with_them() -> None:
    blocker = modelcheck.cpu_blocker("cpu", {"cpu_kernels": []})
    assert blocker is not None and "--device cuda" in blocker
    assert modelcheck.cpu_blocker("cpu", {"cpu_kernels": ["tvm/relax/frontend/nn/llm/kv_cache.py"]}) is None
    assert modelcheck.cpu_blocker("cuda", {"cpu_kernels": []}) is None


def test_logprobs_compare_rank_by_rank_and_ignore_tie_order() -> None:
    ok = modelcheck.compare_logprobs([-0.1, -2.0, -2.0, -3.5], [-2.0005, -0.1002, -2.0, -3.5])
    assert ok["ok"] and ok["k"] == 4 and ok["max_diff"] == pytest.approx(5e-4)
    bad = modelcheck.compare_logprobs([-0.1, -2.0], [-0.1, -2.5])
    assert not bad["ok"] and bad["max_diff"] == pytest.approx(0.5)
    assert not modelcheck.compare_logprobs([-0.1], [])["ok"]


def test_tokens_name_the_first_diverging_step_and_short_output_fails() -> None:
    assert modelcheck.compare_tokens([1, 2, 3], [1, 2, 3], 3) == {"ok": True, "first_diverging_step": None, "steps": 3}
    assert modelcheck.compare_tokens([1, 2, 3, 4], [1, 2, 9, 4], 4)["first_diverging_step"] == 2
    short = modelcheck.compare_tokens([1, 2, 3, 4], [1, 2], 4)
    assert not short["ok"] and short["first_diverging_step"] == 2


def test_engine_logprob_json_is_read_from_top_logprobs() -> None:
    # mlc-llm 34497eae cpp/serve/data.cc GetLogProbJSON: {"token", "bytes", "logprob", "top_logprobs": [...]}.
    step = {
        "token": "a",
        "bytes": [97],
        "logprob": -0.5,
        "top_logprobs": [{"token": "a", "logprob": -0.5}, {"token": "b", "logprob": -1.25}],
    }
    assert modelcheck.engine_first_logprobs([step]) == [-0.5, -1.25]
    assert modelcheck.engine_first_logprobs([]) == []


def test_bandwidth_bound_for_a_known_device_only() -> None:
    # 4.8 TB/s (H200 data sheet) over 2.2 GB of float16 weights.
    assert modelcheck.bandwidth_bound("NVIDIA H200", 2_200_000_000) == pytest.approx(2181.8, rel=1e-3)
    assert modelcheck.bandwidth_bound("Some GPU", 2_200_000_000) is None


def test_check_requirements_added_unless_given_and_refused_offline() -> None:
    assert modelcheck.extra_requirements(["dist/mlc_llm-0.1-py3-none-any.whl"], offline=False) == [
        "tokenizers",
        "numpy",
        "safetensors",
        "torch",
    ]
    given = [
        "w.whl",
        "deps/tokenizers-0.22.1-cp39-abi3-manylinux_2_17_x86_64.whl",
        "numpy==1.26.4",
        "safetensors",
        "torch-2.5.0+cpu-cp311-cp311-linux_x86_64.whl",
    ]
    assert modelcheck.extra_requirements(given, offline=True) == []
    with pytest.raises(UsageError, match="tokenizers"):
        modelcheck.extra_requirements(["w.whl", "numpy-1.26.4-cp311-cp311-linux_x86_64.whl"], offline=True)


def test_summary_names_phases_rates_and_the_comparison() -> None:
    outcome = modelcheck.Outcome(modelcheck.plan("tiny", "cuda"), phases={"compile": 12.34})
    outcome.generation = {"engine": "Engine", "prefill_tokens_per_s": 900.0, "decode_tokens_per_s": 410.5}
    outcome.comparison = {
        "against": "numpy reference",
        "tokens": {"ok": True, "first_diverging_step": None, "steps": 16},
        "first_step_logprobs": {"ok": True, "max_diff": 3e-5, "atol": 2e-3, "k": 5},
    }
    text = "\n".join(modelcheck.summary_lines(outcome.as_dict()))
    assert "compile 12.3 s" in text and "decode 410.5 tokens/s" in text
    assert "equal to numpy reference for 16 steps" in text and "top-5" in text


def test_cuda_without_cublas_compiles_with_cublas_gemm_off_and_says_so() -> None:
    # mlc-llm 34497eae's default --opt O2 raised "CUBLAS is not enabled." with a TVM built without it.
    extra, why = modelcheck.compile_options("cuda", {"USE_CUBLAS": "OFF", "USE_CUDA": "/usr/local/cuda"})
    assert extra == ["--opt", "cublas_gemm=0"] and why is not None and "USE_CUBLAS" in why
    assert modelcheck.compile_options("cuda", {"USE_CUBLAS": "ON"}) == ([], None)
    assert modelcheck.compile_options("cpu", {"USE_CUBLAS": "OFF"}) == ([], None)
    p = modelcheck.plan("tiny", "cuda")
    (_, _, (_, compile_argv)) = modelcheck.upstream_commands("py", Path("/h"), Path("/o"), p, extra)
    assert compile_argv[compile_argv.index("--opt") + 1] == "cublas_gemm=0"
    assert compile_argv.index("--opt") < compile_argv.index("-o")


def test_upstream_defects_got_past_are_named_from_the_wrappers_lines() -> None:
    output = "INFO x\nmlc-devops: fix applied: preshard-none: HuggingFaceLoader.load raised TypeError\nmore\n"
    assert modelcheck.fixes_applied(output) == [
        "upstream defect got past: preshard-none: HuggingFaceLoader.load raised TypeError"
    ]
    assert modelcheck.fixes_applied("nothing\n") == []


def test_failure_excerpt_drops_backtrace_frames_and_keeps_the_cause() -> None:
    output = "start\nValueError: the cause\n" + "".join(f"  [bt] ({i}) libtvm.so\n" for i in range(100)) + "end\n"
    excerpt = modelcheck.failure_excerpt(output)
    assert "ValueError: the cause" in excerpt and "[bt]" not in excerpt


def test_known_failures_of_an_old_tvm_under_cuda_13_are_named() -> None:
    # Seen on the H200: nvcc 13.0 on TVM 31175052's float16 kernels, and the float32 decode kernel.
    nvcc = 'tvm_kernels.cu(303): error: function "htanh" has already been defined (previous definition at line 2975'
    hint = modelcheck.known_failure("...\n" + nvcc + "\n...")
    assert hint is not None and "cuda_fp16.hpp" in hint
    launch = modelcheck.known_failure("TVMError: CUDALaunch Error: CUDA_ERROR_ILLEGAL_INSTRUCTION\n grid=(128,1,1)")
    assert launch is not None and "illegal instruction" in launch
    assert modelcheck.known_failure("ValueError: something else") is None
